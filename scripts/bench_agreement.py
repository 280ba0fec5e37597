#!/usr/bin/env python3
"""Benchmark ``khabar agreement`` and ``khabar adjudicate`` on synthetic documents with three annotators.

Usage::

    .venv/bin/python scripts/bench_agreement.py --n 1000
    .venv/bin/python scripts/bench_agreement.py --n 10000
    .venv/bin/python scripts/bench_agreement.py --n 1000 --keep      # keep the project folder

What it measures. A fresh project (``schema/`` copied from this checkout) gets N synthetic Arabic
news articles from ``scripts/bench_build.py``'s generator (3-6 KB each, ~30 entities with some
nesting, 5 claims, 5 stances) in ``seeds/``, ingested into ``corpus/``, and three annotator files
per document, ``annotations/<doc_id>/a01.json`` … ``a03.json``: the same base annotation with
small independent changes per annotator (an entity dropped 3%, retyped 3%, its end moved 3%; a
claim dropped 5%, its check-worthiness flipped 10%; a stance label changed 10%). Each stage runs in
its own Python process, so the peak RSS (``ru_maxrss``) is that stage's alone; seconds exclude
start-up and imports:

* ``generate``   seeds and annotator files (streams: one article in memory at a time);
* ``ingest``     ``khabar.ingest.run.ingest`` (seeds -> corpus; needed by both stages below);
* ``baseline``   plain ``json.loads`` of the same files the stages read (each corpus document and
  its three annotator files), nothing else: the floor for any stage that must read them;
* ``agreement``  ``khabar.agreement.compare.corpus_agreement`` with the per-document figures streamed to a
  JSON-lines file, as ``khabar agreement --out`` does;
* ``adjudicate`` ``khabar.agreement.adjudicate.adjudicate`` (writes gold.json and conflicts.json).

Run it at two sizes: documents/s should stay flat (cost linear in N) and peak RSS should not grow
with N (documents are streamed; only counts are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_build as bb  # noqa: E402  (the article generator and stage helpers)

REPO = bb.REPO
STAGES = ("generate", "ingest", "baseline", "agreement", "adjudicate")
ANNOTATORS = ("a01", "a02", "a03")


def vary(rng: random.Random, text: str, ents: list[dict], claims: list[dict], stances: list[dict], name: str) -> dict:
    """One annotator's version of the base annotation: a few independent small differences."""
    referenced = {c["source"] for c in claims} | {v for c in claims for v in c["via"]} | {s["holder"] for s in stances}
    out_e = []
    for e in ents:
        x = rng.random()
        if x < 0.03 and e["id"] not in referenced:
            continue
        e = dict(e)
        if x < 0.06:
            e["type"] = rng.choice(bb.ENTITY_TYPES)
        elif x < 0.09 and e["end"] - e["start"] > 2 and e["id"] not in referenced:
            e["end"] -= 1
            e["text"] = text[e["start"]:e["end"]]
        out_e.append(e)
    kept = []
    for c in claims:
        if rng.random() < 0.05:
            continue
        c = dict(c)
        if rng.random() < 0.10:
            c["checkworthy"] = "no" if c["checkworthy"] == "yes" else "yes"
        kept.append(c)
    ids = {c["id"] for c in kept}
    out_s = [{**s, "label": rng.choice(("FAVOR", "AGAINST", "NONE")) if rng.random() < 0.10 else s["label"],
              "evidence": [c for c in s["evidence"] if c in ids]} for s in stances]
    return {"entities": out_e, "claims": kept, "stances": out_s, "annotator": name}


def generate(root: Path, n: int, seed: int) -> int:
    shutil.copytree(REPO / "schema", root / "schema")
    bb.TARGETS = tuple(json.loads((root / "schema/labels.schema.json").read_text("utf-8"))["$defs"]["StanceTarget"]["enum"])
    (root / "seeds").mkdir()
    (root / "annotations").mkdir()
    (root / "annotations" / "annotators.json").write_text(json.dumps({
        a: {"kind": "rule-based", "reviewed_by_human": False, "description": "synthetic benchmark annotator"} for a in ANNOTATORS}), "utf-8")
    vocab, rng = bb.vocabulary(seed), random.Random(seed)
    for i in range(n):
        text, ents, claims, stances = bb.make_article(rng, vocab)
        raw = text.encode("utf-8")
        sha = hashlib.sha256(raw).hexdigest()
        doc_id = "kb-" + sha[:16]
        (root / "seeds" / f"{i:07d}.txt").write_bytes(raw)
        folder = root / "annotations" / doc_id
        folder.mkdir()
        for name in ANNOTATORS:
            ann = {"schema_version": "1.0", "doc_id": doc_id, "text_sha256": sha, "guidelines_version": "1.0",
                   "origin": {"kind": "manual", "tool": None, "version": None}, **vary(rng, text, ents, claims, stances, name)}
            (folder / f"{name}.json").write_text(json.dumps(ann, ensure_ascii=False, indent=1), "utf-8")
    return n


def baseline(root: Path) -> int:
    """Plain JSON reads of what the stages read: each corpus document and its annotator files."""
    from khabar.core.store import iter_corpus_paths

    n = 0
    for path in iter_corpus_paths(root / "corpus"):
        doc = json.loads(path.read_bytes())
        for name in ANNOTATORS:
            json.loads((root / "annotations" / doc["id"] / f"{name}.json").read_bytes())
        n += 1
    return n


def child(stage: str, root: Path, n: int, seed: int) -> None:
    """Run one stage in this (fresh) process and print its figures as JSON."""
    from khabar.agreement.adjudicate import adjudicate
    from khabar.agreement.compare import corpus_agreement
    from khabar.ingest.run import ingest
    from khabar.core.jsonio import dumps_canonical
    from khabar.core.project import Project

    project, extra = Project(root), {}
    rss0 = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    t0 = time.perf_counter()
    if stage == "generate":
        docs = generate(root, n, seed)
    elif stage == "ingest":
        docs = ingest(project, progress=False).total
    elif stage == "baseline":
        docs = baseline(root)
    elif stage == "agreement":
        with open(root / "agreement-documents.jsonl", "w", encoding="utf-8") as fh:
            report = corpus_agreement(project, on_document=lambda d: fh.write(dumps_canonical(d, indent=None) + "\n"))
        docs = report["documents"]["compared"]
        extra = {"entities_strict_f1": report["entities"]["overall"]["strict"]["f1"], "stances_alpha": report["stances"]["alpha"],
                 "checkworthy_alpha": report["claims"]["checkworthy"]["alpha"]}
    else:
        r = adjudicate(project)
        docs = r.documents
        extra = {"conflicts": sum(r.conflicts.values()), "agreed": r.agreed}
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"stage": stage, "docs": docs, "secs": secs, "peak": peak, "rss0": rss0, "extra": extra}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="number of synthetic documents (default 10000)")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)} (default all)")
    ap.add_argument("--workdir", type=Path, help="project folder (default: a new folder under /tmp); generate needs it empty or absent")
    ap.add_argument("--keep", action="store_true", help="keep the project folder (default: removed unless --workdir was given)")
    ap.add_argument("--seed", type=int, default=20240229, help="random seed of the generator")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    stages = bb.parse_stages(ap, args.stages, STAGES)
    if args.child:
        child(args.child, args.workdir, args.n, args.seed)
        return 0
    results, failed = bb.drive(ap, args, stages, STAGES, __file__, "khabar-bench-agreement-")
    print(f"\nN={args.n}")
    print(f"{'stage':<11}{'documents':>10}{'seconds':>10}{'docs/s':>10}{'peak MiB':>10}{'start MiB':>10}")
    for stage, r in results.items():
        rate = r["docs"] / r["secs"] if r["secs"] else float("inf")
        print(f"{stage:<11}{r['docs']:>10}{r['secs']:>10.2f}{rate:>10.0f}{r['peak']:>10.0f}{r['rss0']:>10.0f}")
    base = results.get("baseline")
    for stage in ("agreement", "adjudicate"):
        if base and stage in results:
            s = results[stage]
            print(f"{stage} vs baseline (JSON loading only): throughput x{(s['docs'] / s['secs']) / (base['docs'] / base['secs']):.3f}, "
                  f"peak RSS x{s['peak'] / base['peak']:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

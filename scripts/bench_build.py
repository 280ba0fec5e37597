#!/usr/bin/env python3
"""Benchmark Khabar's ingest, build and validate stages on synthetic Arabic news.

Usage::

    .venv/bin/python scripts/bench_build.py                 # N=10000, all stages, temp project removed after
    .venv/bin/python scripts/bench_build.py --n 1000 --keep # keep the project folder for inspection
    .venv/bin/python scripts/bench_build.py --workdir /tmp/kb --stages build,baseline   # re-time on a kept project

What it measures. A fresh Khabar project (``schema/`` and ``DATASHEET.md`` copied from this
checkout) is filled with N unique synthetic news articles (3-6 KB of UTF-8 Arabic each: a
headline line and several paragraphs) in ``seeds/`` and, for each, an adjudicated
``annotations/<doc_id>/gold.json`` with ~30 entities (some nested), 5 claims and 5 stances.
Then each stage runs in its own Python subprocess, so the peak RSS reported (``ru_maxrss`` of
that process) belongs to that stage alone; seconds exclude interpreter start-up and imports:

* ``generate``  writing the synthetic project (streams: constant memory in N; an article that ingest's
  language check would not take for Arabic is drawn again);
* ``ingest``    ``khabar.ingest.run.ingest`` (seeds -> corpus);
* ``build``     ``khabar.release.build.build(..., validate=False)`` (corpus + gold -> releases/0.1.0);
* ``validate``  ``khabar.gate.validate.validate_release`` with the ``load_dataset`` round trip;
* ``baseline``  the minimal write path measured in the same run: plain ``json`` reads of the
  same corpus documents and gold files, ``khabar.dataset.rows.document_row`` + ``make_encoder``, and
  ``pyarrow.parquet.ParquetWriter`` (zstd, batches of 1000, one file per split) with the
  release's Arrow schema; no checks;
* ``peer``      the same documents rows written by a well-kept library, measured in the same run:
  ``datasets.Dataset.from_generator`` (with the release's features) + ``Dataset.to_parquet``.

Peak RSS is sampled every 0.1 s over the stage's whole process tree (the build's and the gate's
worker processes included), so it is the memory the machine needed, not one process's. The
table gives each stage's docs/s and peak MiB with its ratios to the baseline, and the line
``ingest+build+validate`` (documents over the three stages' summed seconds; peak the largest).
``KHABAR_WORKERS`` (default: every core) sets the build's worker processes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERSION = "0.1.0"
STAGES = ("generate", "ingest", "build", "validate", "baseline", "peer")
CUES = ("قال", "أعلن", "زعم", "أكد", "أضاف", "نقل", "كشف", "اعترف")
FUNCTION = ("في", "من", "على", "إلى", "عن", "مع", "التي", "الذي", "هذا", "هذه", "كما", "بعد", "قبل",
            "وقد", "حيث", "لم", "لا", "ما", "كان", "بين", "أيضا", "خلال", "وفي", "ضد", "منذ", "حتى")
REAL = ("الحكومة", "العراقية", "القوات", "الأمريكية", "البنتاغون", "وزارة", "الدفاع", "الجماعات", "المسلحة",
        "هجمات", "البيت", "الأبيض", "بغداد", "واشنطن", "سوريا", "إيران", "المقاومة", "الأمن", "الإجراءات",
        "بيان", "المتحدث", "الرسمي", "الرئيس", "الوزراء", "البرلمان", "الانسحاب", "المفاوضات", "القاعدة",
        "العسكرية", "التحالف", "الدولي", "العمليات", "وكالة", "الأنباء", "قناة", "الجزيرة", "الاتفاق")
ROOT_LETTERS = "بتثجحخدذرسشصضطعغفقكلمنهوي"
PATTERNS = ("{0}ا{1}{2}", "م{0}{1}و{2}", "ت{0}{1}ي{2}", "است{0}{1}ا{2}", "{0}{1}ي{2}", "ي{0}{1}{2}", "م{0}{1}{2}ة",
            "{0}{1}ا{2}ة", "ال{0}{1}ا{2}", "ال{0}ا{1}{2}", "ت{0}ا{1}{2}", "{0}{1}{2}ات", "ال{0}{1}ي{2}ة", "م{0}ا{1}{2}",
            "ا{0}{1}{2}ت", "{0}ا{1}{2}ون", "ال{0}{1}{2}")
ENTITY_TYPES = ("PERS", "ORG", "GPE", "LOC", "FAC", "EVENT", "DATE", "NORP", "OCC", "CARDINAL", "MONEY", "PRODUCT")


def vocabulary(seed: int, size: int = 4000) -> list[str]:
    """A few thousand plausible Arabic words: common news words and root-and-pattern forms."""
    rng, words = random.Random(seed), set(REAL)
    while len(words) < size:
        words.add(rng.choice(PATTERNS).format(*rng.sample(ROOT_LETTERS, 3)))
    return sorted(words)


class DocWriter:
    """Assembles one article, remembering each word's code-point span and sentence number."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.nbytes = 0
        self.words: list[tuple[int, int, int]] = []  # (start, end, sentence) of entity-eligible words
        self.sentence = 0

    def put(self, s: str) -> tuple[int, int]:
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        self.nbytes += len(s.encode("utf-8"))
        return start, self.pos

    def line(self, words: list[str], end: str, eligible: set[int]) -> list[tuple[int, int]]:
        spans = []
        for i, w in enumerate(words):
            spans.append(self.put(w))
            if i in eligible:
                self.words.append((*spans[-1], self.sentence))
            self.put(end if i == len(words) - 1 else " ")
        self.sentence += 1
        return spans


def make_article(rng: random.Random, vocab: list[str], n_claims: int = 5, n_entities: int = 30):
    w = DocWriter()
    target = rng.randint(3200, 5300)  # bytes
    pick = lambda k: [rng.choice(FUNCTION) if rng.random() < 0.3 else rng.choice(vocab) for _ in range(k)]  # noqa: E731
    head = [rng.choice(vocab) for _ in range(rng.randint(6, 10))]
    w.line(head, "\n", set(range(len(head))))
    claims = []  # (cue span, source span, content span)
    while w.nbytes < target or len(claims) < n_claims:
        for _ in range(rng.randint(2, 4)):
            end = "؟" if rng.random() < 0.1 else "."
            if len(claims) < n_claims and rng.random() < 0.35:
                content = pick(rng.randint(6, 14))
                words = [rng.choice(CUES), rng.choice(REAL), rng.choice(vocab), "أن", *content]
                spans = w.line(words, end, set())
                claims.append((spans[0], (spans[1][0], spans[2][1]), (spans[4][0], spans[-1][1])))
            else:
                words = pick(rng.randint(8, 18))
                w.line(words, end, {i for i, x in enumerate(words) if x not in FUNCTION})
            w.put(" ")
        w.parts[-1] = "\n"  # a paragraph ends at its last sentence
    text = "".join(w.parts)
    ents, sources = place_entities(rng, w, text, claims, n_entities, max_nested=6)
    ids = [e["id"] for e in ents]
    out_claims = [{"id": f"c{n + 1}", "content": span(text, content), "cue": span(text, cue), "source": sources[n],
                   "via": rng.sample(ids[len(sources):], rng.randint(0, 2)), "checkworthy": rng.choice(("yes", "no")),
                   "speech": "indirect"} for n, (cue, _, content) in enumerate(claims)]
    stances = [{"id": f"s{n + 1}", "holder": sources[n], "target": rng.choice(TARGETS), "label": rng.choice(("FAVOR", "AGAINST", "NONE")),
                "evidence": [f"c{n + 1}"]} for n in range(len(claims))]
    return text, ents, out_claims, stances


def place_entities(rng: random.Random, w: "DocWriter", text: str, claims: list, n_entities: int,
                   max_nested: int) -> tuple[list[dict], list[str]]:
    """Entities of a synthetic document: a PERS or ORG source per claim (``claims`` holds
    ``(cue, source, content)`` spans), then non-overlapping 1-3 word spans within a line, a
    multi-word one an ORG that may hold a nested GPE (at most ``max_nested``). Returns the
    entities and the source ids."""
    ents: list[dict] = []

    def entity(s: int, e: int, typ: str) -> str:
        ents.append({"id": f"e{len(ents) + 1}", "start": s, "end": e, "text": text[s:e], "type": typ})
        return ents[-1]["id"]
    sources = [entity(*src, rng.choice(("PERS", "ORG"))) for _, src, _ in claims]
    used: set[int] = set()
    n_nested = 0
    while len(ents) < n_entities:
        i = rng.randrange(len(w.words))
        k = rng.randint(1, 3)
        if i + k > len(w.words) or w.words[i][2] != w.words[i + k - 1][2] or used & set(range(i, i + k)):
            continue
        used |= set(range(i, i + k))
        entity(w.words[i][0], w.words[i + k - 1][1], "ORG" if k > 1 else rng.choice(ENTITY_TYPES))
        if k > 1 and n_nested < max_nested and len(ents) < n_entities:
            j = i + rng.randrange(k)
            entity(w.words[j][0], w.words[j][1], "GPE")
            n_nested += 1
    return ents, sources


def parse_stages(ap: argparse.ArgumentParser, text: str, known: tuple[str, ...]) -> list[str]:
    """``--stages a,b`` as a list; an unknown name is a usage error listing the known ones."""
    stages = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in stages if s not in known]
    if bad:
        ap.error(f"unknown stage(s) {', '.join(bad)}; choose from {', '.join(known)}")
    return stages


def span(text: str, se: tuple[int, int]) -> dict:
    return {"start": se[0], "end": se[1], "text": text[se[0]:se[1]]}


TARGETS: tuple[str, ...] = ()


def generate(root: Path, n: int, seed: int) -> int:
    """Write the project; nothing but the current article is held in memory."""
    global TARGETS
    shutil.copytree(REPO / "schema", root / "schema")
    if (REPO / "DATASHEET.md").exists():
        shutil.copy(REPO / "DATASHEET.md", root / "DATASHEET.md")
    from khabar.core.schema import Schemas

    TARGETS = tuple(Schemas(root / "schema").vocab("StanceTarget"))  # the stance-target registry (toolkit 0.3.0 on)
    (root / "seeds").mkdir()
    (root / "annotations").mkdir()
    (root / "annotations" / "annotators.json").write_text(json.dumps({  # the build wants gold's sources described
        a: {"kind": "rule-based", "reviewed_by_human": False, "description": "synthetic benchmark annotator"}
        for a in ("ann1", "ann2")}), encoding="utf-8")
    from khabar.ingest.langcheck import MIN_CONFIDENCE, detect_language

    vocab, rng = vocabulary(seed), random.Random(seed)
    for i in range(n):
        while True:  # ingest refuses a text its language check does not take for Arabic (2 in 1M did look Persian)
            text, ents, claims, stances = make_article(rng, vocab)
            lang = detect_language(text)
            if lang["lang"] == "ar" and lang["confidence"] >= MIN_CONFIDENCE:
                break
        raw = text.encode("utf-8")
        doc_id = "kb-" + hashlib.sha256(raw).hexdigest()[:16]
        (root / "seeds" / f"{i:07d}.txt").write_bytes(raw)
        gold = {"schema_version": "1.0", "doc_id": doc_id, "text_sha256": hashlib.sha256(raw).hexdigest(),
                "annotator": "gold", "guidelines_version": "1.0", "origin": {"kind": "adjudication", "sources": ["ann1", "ann2"]},
                "entities": ents, "claims": claims, "stances": stances}
        (root / "annotations" / doc_id).mkdir(parents=True)
        (root / "annotations" / doc_id / "gold.json").write_text(json.dumps(gold, ensure_ascii=False, indent=1), "utf-8")
    return n


def baseline(root: Path) -> int:
    """The minimal write path: read, document_row, encode, ParquetWriter; no checks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from khabar.dataset.features import arrow_schema, features_for, make_encoder
    from khabar.dataset.rows import SPLITS, document_row, split_for
    from khabar.core.schema import Schemas

    features = features_for(Schemas(root / "schema"))
    schema, encode = arrow_schema(features), make_encoder(features)
    out = root / "baseline-out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    writers, buffers, n = {}, {s: [] for s in SPLITS}, 0

    def flush(split: str) -> None:
        if buffers[split]:
            if split not in writers:
                writers[split] = pq.ParquetWriter(out / f"{split}.parquet", schema, compression="zstd")
            writers[split].write_table(pa.Table.from_pylist(buffers[split], schema=schema))
            buffers[split] = []
    for path in sorted((root / "corpus").glob("kb-*.json")):
        doc = json.loads(path.read_bytes())
        gp = root / "annotations" / doc["id"] / "gold.json"
        gold = json.loads(gp.read_bytes()) if gp.exists() else None
        split = split_for(doc["id"])
        buffers[split].append(encode(document_row(doc, gold)))
        n += 1
        if len(buffers[split]) >= 1000:
            flush(split)
    for split in SPLITS:
        flush(split)
    for wr in writers.values():
        wr.close()
    return n


def peer(root: Path) -> int:
    """The same ``documents`` rows through ``datasets.Dataset.from_generator`` + ``to_parquet``."""
    import datasets

    from khabar.core.schema import Schemas
    from khabar.dataset.features import features_for, make_encoder
    from khabar.dataset.rows import document_row

    features = features_for(Schemas(root / "schema"))
    encode = make_encoder(features)
    cache = root / ".hf-cache" / "peer"

    def rows():
        for path in sorted((root / "corpus").glob("kb-*.json")):
            doc = json.loads(path.read_bytes())
            gp = root / "annotations" / doc["id"] / "gold.json"
            yield encode(document_row(doc, json.loads(gp.read_bytes()) if gp.exists() else None))
    datasets.disable_progress_bars()
    ds = datasets.Dataset.from_generator(rows, features=features, cache_dir=str(cache))
    ds.to_parquet(str(root / "peer-out.parquet"))
    n = ds.num_rows
    shutil.rmtree(cache, ignore_errors=True)
    return n


def child(stage: str, root: Path, n: int, seed: int) -> None:
    """Run one stage in this (fresh) process and print its figures as JSON."""
    from khabar.core.project import Project

    if stage == "ingest":
        from khabar.ingest.run import ingest
    elif stage == "build":
        from khabar.release.build import build
    elif stage == "validate":
        from khabar.gate.validate import validate_release
    elif stage in ("baseline", "peer"):
        import datasets  # noqa: F401  (imports stay out of the timed part)
        import pyarrow.parquet  # noqa: F401

        import khabar.dataset.features  # noqa: F401
    project, problems, extra = Project(root), [], ""
    rss0 = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    t0 = time.perf_counter()
    if stage == "generate":
        docs = generate(root, n, seed)
    elif stage == "ingest":
        docs = ingest(project, progress=False).total
    elif stage == "build":
        shutil.rmtree(root / "releases" / VERSION, ignore_errors=True)
        made = build(project, VERSION, progress=False, validate=False)
        docs, extra = sum(made.counts.values()), "(" + ", ".join(f"{k} {v:.1f} s" for k, v in made.seconds.items()) + ")"
    elif stage == "validate":
        problems = [p.line() for p in validate_release(root / "releases" / VERSION, progress=False)]
        docs = sum(1 for _ in open(root / "releases" / VERSION / "reports" / "index.jsonl", encoding="utf-8"))
    elif stage == "peer":
        docs = peer(root)
    else:
        docs = baseline(root)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"stage": stage, "docs": docs, "secs": secs, "peak": peak, "rss0": rss0, "extra": extra, "problems": problems[:20],
                      "n_problems": len(problems)}))



def _tree_rss(root_pid: int) -> int:
    """Resident bytes of ``root_pid`` and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/statm", "rb") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def run_sampled(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str, float]:
    """Run ``cmd``, sampling the RSS of its process tree every 0.1 s. Returns ``(exit code, stdout,
    stderr, peak MiB of the tree)``."""
    import threading

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    return proc.returncode, out, err, peak[0] / 2**20


def drive(ap: argparse.ArgumentParser, args: argparse.Namespace, stages: list[str], order: tuple[str, ...], script: str,
          prefix: str, with_hf_cache: bool = False) -> tuple[dict[str, dict], bool]:
    """Run each stage of ``stages`` (in ``order``) as ``script --child STAGE`` in its own process on
    one project folder, and collect the JSON line each child prints last. Returns
    ``(results by stage, failed)``; removes the folder afterwards unless --keep or --workdir."""
    root = (args.workdir or Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))).resolve()
    if "generate" in stages and root.exists() and any(root.iterdir()):
        ap.error(f"{root} is not empty; generate needs a fresh folder")
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, KHABAR_ROOT=str(root), TQDM_DISABLE="1",
               **({"HF_DATASETS_CACHE": str(root / ".hf-cache")} if with_hf_cache else {}))
    print(f"project: {root}  N={args.n}", file=sys.stderr)
    results, failed = {}, False
    try:
        for stage in sorted(stages, key=order.index):
            code, out, err, tree_peak = run_sampled([sys.executable, script, "--child", stage, "--workdir", str(root), "--n", str(args.n),
                                                     "--seed", str(args.seed)], env)
            if code != 0:
                print(f"stage {stage} FAILED (exit {code}):\n{err[-4000:]}", file=sys.stderr)
                failed = True
                break
            r = results[stage] = json.loads(out.strip().splitlines()[-1])
            r["peak"] = max(r["peak"], tree_peak)
            print(f"  {stage}: {r['docs']} docs in {r['secs']:.1f} s {r.get('extra') or ''}", file=sys.stderr)
            if r.get("n_problems"):
                failed = True
                print(f"stage {stage}: {r['n_problems']} problem(s):\n  " + "\n  ".join(r["problems"]), file=sys.stderr)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
        elif "generate" in stages:
            print(f"kept {root}", file=sys.stderr)
    return results, failed


def table(results: dict[str, dict]) -> str:
    """The results as a table: docs/s and peak MiB of each stage, with ratios to the baseline."""
    rows = dict(results)
    if all(k in results for k in ("ingest", "build", "validate")):
        parts = [results[k] for k in ("ingest", "build", "validate")]
        rows["ingest+build+validate"] = {"docs": parts[1]["docs"], "secs": sum(p["secs"] for p in parts),
                                         "peak": max(p["peak"] for p in parts), "rss0": 0}
    base = results.get("baseline")
    rate = lambda r: r["docs"] / r["secs"] if r["secs"] else float("inf")  # noqa: E731
    head = f"\n{'stage':<24}{'documents':>10}{'seconds':>10}{'docs/s':>10}{'peak MiB':>10}"
    head += f"{'x baseline docs/s':>19}{'x baseline peak':>17}" if base else ""
    lines = [head]
    for stage, r in rows.items():
        line = f"{stage:<24}{r['docs']:>10}{r['secs']:>10.2f}{rate(r):>10.0f}{r['peak']:>10.0f}"
        if base:
            line += f"{rate(r) / rate(base):>19.3f}{r['peak'] / base['peak']:>17.2f}"
        lines.append(line)
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="number of synthetic documents (default 10000)")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)} (default all)")
    ap.add_argument("--workdir", type=Path, help="project folder to use (default: a new tempfile.mkdtemp under /tmp); "
                    "generate needs it empty or absent")
    ap.add_argument("--keep", action="store_true", help="keep the project folder (default: remove it unless --workdir was given)")
    ap.add_argument("--seed", type=int, default=20240229, help="random seed of the generator")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    stages = parse_stages(ap, args.stages, STAGES)
    if args.child:
        child(args.child, args.workdir, args.n, args.seed)
        return 0
    results, failed = drive(ap, args, stages, STAGES, __file__, "khabar-bench-", with_hf_cache=True)
    print(table(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

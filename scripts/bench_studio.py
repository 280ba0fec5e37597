#!/usr/bin/env python3
"""Benchmark Khabar's Label Studio round trip (push, pull) against the bare label-studio-sdk.

Usage::

    .venv/bin/python scripts/bench_studio.py                    # N=10000, all stages, temp folder removed after
    .venv/bin/python scripts/bench_studio.py --n 200 --keep     # keep the folder (project + server data) for inspection
    .venv/bin/python scripts/bench_studio.py --n 1000 --profile # also cProfile push and pull (slower; see profile-*.txt)
    .venv/bin/python scripts/bench_studio.py --workdir /tmp/kbs --stages push,baseline-import   # re-time on a kept corpus
    .venv/bin/python scripts/bench_studio.py --n 1000 --stages generate,push,repush             # also time a second (no-op) push

What it measures. A throw-away Khabar project (``schema/`` copied from this checkout, plus
``annotations/GUIDELINES.md`` and ``annotators.json``) gets N unique synthetic Arabic news
documents written straight into ``corpus/`` (2-4 KB of UTF-8 each: a headline line and a few
paragraphs; one in 50 holds an emoji, so UTF-16 and code-point offsets differ) and, for each,
``annotations/<doc_id>/preannotator.json`` (~20 entities, some nested, 3 claims with source and
cue, 2 stances). Every generated document and pre-annotation is checked against ``schema/`` and
``khabar.core.checks.check_row`` before anything is timed.

ONE Label Studio server (``khabar.studio.server.StudioServer``: a free loopback port, a random API
token, its data folder inside the work folder) is started by this process for the whole run and
stopped at the end, whatever happens. Each stage then runs in its own Python subprocess that
connects to it (URL and token in the environment, never on a command line), so the peak RSS
reported (``ru_maxrss``) is that of the client process of that stage alone; seconds exclude
interpreter start-up, imports and connecting. "start MiB" is the client's RSS after imports and
connect, before the timed part; "server MiB" is the server's RSS after the stage; "load" is the
1-minute load average at the end of the stage (this benchmark alone keeps it near 1-2 on two
cores: a higher figure means something else was competing for the CPU).

* ``generate``         writing the synthetic project (not timed against anything);
* ``push``             ``khabar.studio.push.push`` of the N documents, with their pre-annotations as
                       predictions, into project "bench-push" (batches of ``--batch`` tasks);
* ``baseline-import``  the bare SDK path measured in the same run: plain ``json`` reads of the same
                       documents and pre-annotations, the same task payloads (``task_payload`` +
                       ``annotation_to_results``), ``sdk.projects.create`` of "bench-bare" and
                       ``sdk.projects.import_tasks`` in the same batch size; no lookups, no checks;
* ``annotate``         setup for the pull, timed but in no ratio. ``--annotate api`` (default):
                       one ``sdk.annotations.create(id=task_id, result=...)`` per task of
                       "bench-push", with the pre-annotation's results (``--workers`` calls at a
                       time, default 4; the task ids come from one listing, inside the timed
                       part). ``--annotate import``: a
                       separate project "bench-pull" whose tasks are imported with
                       ``"annotations": [{"result": ...}]`` in the payload (much faster at large N);
                       pull and baseline-export then read "bench-pull";
* ``pull``             ``khabar.studio.pull.pull`` of the annotated project into ``annotations/``
                       (N files ``ls-<user id>.json``); afterwards (untimed) every pulled file is
                       compared with the pre-annotation it came from (entities, claims, stances);
* ``baseline-export``  the bare SDK listing of the same project: ``sdk.tasks.list(project=...,
                       page=p, page_size=100, fields="all")`` page by page until the reported
                       total is read, each task's annotation ``result`` written with ``json.dumps``
                       to ``baseline-export/<task id>.json`` (plain write, no fsync, no conversion,
                       no checks);
* ``baseline-snapshot`` Label Studio's own export snapshot of the same project, by the bare SDK:
                       ``sdk.projects.exports.create`` (JSON), polled with ``exports.get`` until
                       completed, ``exports.download`` written to ``baseline-snapshot.json``, then
                       ``json.load`` of the file (the whole export in memory) and the snapshot
                       deleted; what ``khabar studio pull`` now reads, as a stream;
* ``repush``           (only when named in ``--stages``) ``push`` again into "bench-push": every
                       task exists, so it creates nothing; measures the look-up of existing tasks.

The table gives push/baseline-import, pull/baseline-export and pull/baseline-snapshot ratios of throughput (tasks/s) and
of client peak RSS. The server is single-process Django on SQLite, so most of the time of both
sides is the server's; the ratios say how much Khabar adds on top. Baseline-import runs after push,
so its tasks go into a database that already holds N tasks (a slight handicap for the baseline).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench_build  # noqa: E402  (the synthetic vocabulary and DocWriter)

STAGES = ("generate", "push", "baseline-import", "annotate", "pull", "baseline-export", "baseline-snapshot", "repush")
DEFAULT_STAGES = STAGES[:-1]
SERVER_STAGES = STAGES[1:]
NEEDS = {"annotate": "push", "pull": "annotate", "baseline-export": "annotate", "baseline-snapshot": "annotate", "repush": "push"}
PUSH_TITLE, BARE_TITLE, PULL_TITLE = "bench-push", "bench-bare", "bench-pull"
USER, PASSWORD = "bench@khabar.test", "khabar-bench-" + secrets.token_hex(8)
EMOJI = ("🙂", "🔥", "📢", "🇮🇶", "👍")
PRE_ORIGIN = {"kind": "preannotator", "tool": "khabar-preannotate", "version": "0.1.0"}
MODEL_VERSION = "khabar-preannotate 0.1.0"


# ---------------------------------------------------------------------------- synthetic project

def make_document(rng: random.Random, vocab: list[str], targets: tuple[str, ...], emoji: bool,
                  n_entities: int = 20, n_claims: int = 3, n_stances: int = 2) -> tuple[dict, dict]:
    """One corpus document and its pre-annotation (``doc``, ``pre``)."""
    w = bench_build.DocWriter()
    target = rng.randint(1900, 3400)  # bytes of UTF-8 (the last paragraph overshoots by up to ~700)
    pick = lambda k: [rng.choice(bench_build.FUNCTION) if rng.random() < 0.3 else rng.choice(vocab) for _ in range(k)]  # noqa: E731
    sentences: list[tuple[int, int]] = []
    paragraphs: list[tuple[int, int]] = []
    head = [rng.choice(vocab) for _ in range(rng.randint(6, 10))]
    spans = w.line(head, "\n", set(range(len(head))))
    title_span = (0, spans[-1][1])
    sentences.append(title_span)
    paragraphs.append(title_span)
    claims = []  # (cue span, source span, content span)
    emoji_due = emoji
    while w.nbytes < target or len(claims) < n_claims:
        first = len(sentences)
        for _ in range(rng.randint(2, 4)):
            end = "؟" if rng.random() < 0.1 else "."
            if len(claims) < n_claims and (rng.random() < 0.35 or w.nbytes > target * 0.6):
                content = pick(rng.randint(6, 14))
                words = [rng.choice(bench_build.CUES), rng.choice(bench_build.REAL), rng.choice(vocab), "أن", *content]
                spans = w.line(words, end, set())
                claims.append((spans[0], (spans[1][0], spans[2][1]), (spans[4][0], spans[-1][1])))
            else:
                words = pick(rng.randint(8, 18))
                eligible = {i for i, x in enumerate(words) if x not in bench_build.FUNCTION}
                if emoji_due:  # an astral character early in the text, before most spans
                    mid = len(words) // 2
                    words.insert(mid, rng.choice(EMOJI))
                    eligible = {i if i < mid else i + 1 for i in eligible}
                    emoji_due = False
                spans = w.line(words, end, eligible)
            sentences.append((spans[0][0], spans[-1][1] + len(end)))
            w.put(" ")
        w.parts[-1] = "\n"  # a paragraph ends at its last sentence
        paragraphs.append((sentences[first][0], sentences[-1][1]))
    text = "".join(w.parts)
    ents, sources = bench_build.place_entities(rng, w, text, claims, n_entities, max_nested=4)
    others = [e["id"] for e in ents[len(sources):]]
    out_claims = [{"id": f"c{n + 1}", "content": bench_build.span(text, content), "cue": bench_build.span(text, cue),
                   "source": sources[n], "via": rng.sample(others, rng.randint(0, 1)),
                   "checkworthy": rng.choice(("yes", "no", None)), "speech": "indirect"}
                  for n, (cue, _, content) in enumerate(claims)]
    stances = [{"id": f"s{n + 1}", "holder": sources[n], "target": rng.choice(targets),
                "label": rng.choice(("FAVOR", "AGAINST", "NONE")), "evidence": [f"c{n + 1}"]} for n in range(n_stances)]
    raw = text.encode("utf-8")
    sha = hashlib.sha256(raw).hexdigest()
    doc = {"schema_version": "1.0", "id": "kb-" + sha[:16], "revision": 1, "text": text, "text_sha256": sha,
           "title": text[title_span[0]:title_span[1]], "title_span": {"start": title_span[0], "end": title_span[1]},
           "lang": "ar", "lang_check": {"detector": "synthetic", "confidence": 1.0, "arabic_script_ratio": 1.0},
           "paragraphs": [{"start": s, "end": e} for s, e in paragraphs],
           "sentences": [{"start": s, "end": e} for s, e in sentences],
           "flags": [], "edits": [],
           "provenance": {"seed_file": f"bench_{sha[:16]}.txt", "raw_sha256": sha, "raw_bytes": len(raw), "encoding": "utf-8",
                          "encoding_source": "utf-8-strict", "bom_bytes": 0, "publisher": None, "url": None,
                          "published_date": None, "translated_from": None, "machine_translated": None, "license": None,
                          "license_status": "unknown", "cited_sources": []}}
    pre = {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": sha, "annotator": "preannotator",
           "guidelines_version": "1.0", "origin": dict(PRE_ORIGIN), "entities": ents, "claims": out_claims, "stances": stances}
    return doc, pre


def generate(root: Path, n: int, seed: int) -> tuple[int, list[str]]:
    """Write the project (one document at a time) and check every file written."""
    from khabar.core.checks import check_row
    from khabar.core.jsonio import dumps_canonical
    from khabar.core.schema import Schemas

    shutil.copytree(REPO / "schema", root / "schema")
    (root / "corpus").mkdir()
    (root / "annotations").mkdir()
    for name in ("GUIDELINES.md", "annotators.json"):
        if (REPO / "annotations" / name).exists():
            shutil.copy(REPO / "annotations" / name, root / "annotations" / name)
    schemas = Schemas(root / "schema")
    targets = tuple(schemas.vocab("StanceTarget"))
    vocab, rng = bench_build.vocabulary(seed), random.Random(seed)
    problems: list[str] = []
    made = 0
    while made < n:
        doc, pre = make_document(rng, vocab, targets, emoji=made % 50 == 7)
        if (root / "corpus" / f"{doc['id']}.json").exists():
            continue  # (a repeated text: astronomically unlikely)
        for what, obj in (("document", doc), ("annotation", pre)):
            problems += [f"{doc['id']} {what}: {p.path}: {p.message}" for p in schemas.problems(what, obj)]
        problems += [f"{doc['id']} document: {c} {f}: {m}" for c, f, m in check_row(doc)]
        problems += [f"{doc['id']} preannotator: {c} {f}: {m}" for c, f, m in check_row(pre, text=doc["text"])]
        (root / "corpus" / f"{doc['id']}.json").write_text(dumps_canonical(doc), "utf-8")
        (root / "annotations" / doc["id"]).mkdir()
        (root / "annotations" / doc["id"] / "preannotator.json").write_text(dumps_canonical(pre), "utf-8")
        made += 1
    return made, problems


# ---------------------------------------------------------------------------- stages (children)

def bare_payloads(root: Path, batch: int, with_annotations: bool = False):
    """The task payloads of push, built the bare way: plain json reads, no checks; yields batches."""
    from khabar.core.project import Project
    from khabar.core.schema import Schemas
    from khabar.studio.config import Scheme
    from khabar.studio.to_results import annotation_to_results
    from khabar.studio.tasks import guidelines_version, task_payload

    scheme = Scheme.from_schemas(Schemas(root / "schema"))
    guidelines = guidelines_version(Project(root))
    queue: list[dict] = []
    for path in sorted((root / "corpus").glob("kb-*.json")):
        doc = json.loads(path.read_bytes())
        pre = json.loads((root / "annotations" / doc["id"] / "preannotator.json").read_bytes())
        result = annotation_to_results(pre, doc["text"], scheme)
        payload = {"data": task_payload(doc, guidelines), "predictions": [{"model_version": MODEL_VERSION, "result": result}]}
        if with_annotations:
            payload["annotations"] = [{"result": result}]
        queue.append(payload)
        if len(queue) >= batch:
            yield queue
            queue = []
    if queue:
        yield queue


def project_id(studio, title: str) -> int:
    proj = studio.find_project(title)
    if proj is None:
        raise SystemExit(f"no Label Studio project titled {title!r}: run the stage that makes it first")
    return proj.id


def count_tasks(studio, pid: int) -> int:
    return studio.sdk.tasks.list(project=pid, page=1, page_size=1).response.total


def child(stage: str, root: Path, n: int, seed: int, batch: int, annotate_mode: str, profile: bool, workers: int = 1) -> None:
    """Run one stage in this (fresh) process and print its figures as JSON (last line of stdout)."""
    from khabar.core.project import Project

    problems: list[str] = []
    extra: dict = {}
    studio = None
    if stage != "generate":
        import label_studio_sdk  # noqa: F401  (imports stay out of the timed part)

        from khabar.core.schema import Schemas
        from khabar.studio.client import connect
        from khabar.studio.config import Scheme, labeling_config
        from khabar.studio.to_results import annotation_to_results
        from khabar.studio.pull import pull
        from khabar.studio.push import push

        studio = connect(os.environ["LABEL_STUDIO_URL"], os.environ["LABEL_STUDIO_API_KEY"])
        sdk = studio.sdk
    project = Project(root)
    pull_title = PULL_TITLE if annotate_mode == "import" else PUSH_TITLE
    if stage == "pull":  # files of an earlier run on a kept folder would be "unchanged" or orphans
        for p in (root / "annotations").glob("kb-*/ls-*.json"):
            p.unlink()
    if stage == "baseline-export":
        shutil.rmtree(root / "baseline-export", ignore_errors=True)
    prof = None
    if profile and stage in ("push", "pull", "baseline-import", "baseline-export", "repush"):
        import cProfile

        prof = cProfile.Profile()
    rss0 = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    if stage == "generate":
        tasks, problems = generate(root, n, seed)
    elif stage == "push":
        rep = push(project, studio, title=PUSH_TITLE, progress=False, batch=batch)
        tasks = rep.created
        extra = {"project_id": rep.project_id, "predictions": rep.predictions}
        if rep.changed or rep.duplicates or rep.unchanged or rep.updated:
            problems.append(f"push report: unchanged={rep.unchanged} updated={rep.updated} changed={len(rep.changed)} "
                            f"duplicates={len(rep.duplicates)} (a fresh server was expected)")
    elif stage == "baseline-import":
        schemas = Schemas(root / "schema")
        proj = sdk.projects.create(title=BARE_TITLE, label_config=labeling_config(schemas))
        tasks = 0
        for queue in bare_payloads(root, batch):
            sdk.projects.import_tasks(id=proj.id, request=queue)
            tasks += len(queue)
        extra = {"project_id": proj.id}
    elif stage == "annotate":
        scheme = Scheme.from_schemas(Schemas(root / "schema"))
        tasks = 0
        if annotate_mode == "import":
            proj = sdk.projects.create(title=PULL_TITLE, label_config=labeling_config(Schemas(root / "schema")))
            for queue in bare_payloads(root, batch, with_annotations=True):
                sdk.projects.import_tasks(id=proj.id, request=queue)
                tasks += len(queue)
            extra = {"project_id": proj.id, "mode": "import"}
        else:
            pid = project_id(studio, PUSH_TITLE)
            todo = [(t["id"], t["data"]["doc_id"], t["data"]["text"]) for t in studio.iter_tasks(pid)]
            extra = {"project_id": pid, "mode": "api", "list_secs": time.perf_counter() - t0}

            def one(item: tuple[int, str, str]) -> None:
                task_id, doc_id, text = item
                pre = json.loads((root / "annotations" / doc_id / "preannotator.json").read_bytes())
                sdk.annotations.create(id=task_id, result=annotation_to_results(pre, text, scheme))
            if workers > 1:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(workers) as pool:
                    for _ in pool.map(one, todo):
                        tasks += 1
            else:
                for item in todo:
                    one(item)
                    tasks += 1
            extra["workers"] = workers
    elif stage == "pull":
        rep = pull(project, studio, title=pull_title, progress=False)
        tasks = rep.tasks
        extra = {"project_id": rep.project_id, "written": len(rep.written), "warnings": len(rep.warnings),
                 "orphans": len(rep.orphans)}
        if len(rep.written) != tasks or rep.cancelled or rep.orphans:
            problems.append(f"pull report: {len(rep.written)} written of {tasks} tasks, cancelled={rep.cancelled}, orphans={len(rep.orphans)}")
        problems += [f"pull warning: {w}" for w in rep.warnings[:5]]
    elif stage == "baseline-export":
        pid = project_id(studio, pull_title)
        out = root / "baseline-export"
        out.mkdir()
        tasks, page, total = 0, 1, None
        while total is None or tasks < total:
            pager = sdk.tasks.list(project=pid, page=page, page_size=100, fields="all")
            total = pager.response.total if total is None else total
            items = pager.items or []
            if not items:
                break
            for t in items:
                anns = t.annotations or []
                result = (anns[0].get("result") if isinstance(anns[0], dict) else anns[0].result) if anns else None
                (out / f"{t.id}.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
            tasks += len(items)
            page += 1
        extra = {"project_id": pid, "pages": page - 1}
    elif stage == "baseline-snapshot":
        pid = project_id(studio, pull_title)
        made = sdk.projects.exports.create(id=pid, title="bench")
        while str(sdk.projects.exports.get(id=pid, export_pk=made.id).status) != "completed":
            time.sleep(0.05)
        out = root / "baseline-snapshot.json"
        with open(out, "wb") as fh:
            for chunk in sdk.projects.exports.download(pid, made.id, export_type="JSON", request_options={"chunk_size": 1 << 20}):
                fh.write(chunk)
        tasks = len(json.loads(out.read_bytes()))
        sdk.projects.exports.delete(id=pid, export_pk=made.id)
        extra = {"project_id": pid, "bytes": out.stat().st_size}
    elif stage == "repush":
        rep = push(project, studio, title=PUSH_TITLE, progress=False, batch=batch)
        tasks = rep.unchanged
        extra = {"project_id": rep.project_id}
        if rep.created or rep.updated or rep.predictions or rep.annotations or rep.changed or rep.duplicates:
            problems.append(f"second push: created={rep.created} updated={rep.updated} predictions={rep.predictions} "
                            f"annotations={rep.annotations} changed={len(rep.changed)} duplicates={len(rep.duplicates)}")
    if prof:
        prof.disable()
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if prof:
        import io
        import pstats

        prof.dump_stats(root / f"profile-{stage}.prof")
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(60)
            (root / f"profile-{stage}-{key}.txt").write_text(buf.getvalue(), "utf-8")
        extra["profile"] = str(root / f"profile-{stage}*")
    # untimed checks of what the stage left behind
    if stage in ("push", "baseline-import") or (stage == "annotate" and annotate_mode == "import"):
        have = count_tasks(studio, extra["project_id"])
        if have != n:
            problems.append(f"the project holds {have} tasks, expected {n}")
    if stage == "pull":
        bad = 0
        for pre_path in sorted((root / "annotations").glob("kb-*/preannotator.json")):
            got = list(pre_path.parent.glob("ls-*.json"))
            pre = json.loads(pre_path.read_bytes())
            if len(got) != 1:
                bad += 1
                continue
            ann = json.loads(got[0].read_bytes())
            if any(ann[k] != pre[k] for k in ("entities", "claims", "stances")):
                bad += 1
                if bad <= 3:
                    k = next(k for k in ("entities", "claims", "stances") if ann[k] != pre[k])
                    problems.append(f"{got[0].relative_to(root)}: {k} differ from the pre-annotation")
        if bad:
            problems.append(f"{bad} pulled annotation(s) missing or different from their pre-annotation")
        extra["round_trip_ok"] = not bad
    print(json.dumps({"stage": stage, "tasks": tasks, "secs": secs, "peak": peak, "rss0": rss0, "problems": problems[:20],
                      "n_problems": len(problems), **extra}))


# ---------------------------------------------------------------------------- parent

def rss_mib(pid: int) -> float | None:
    """The resident memory of process ``pid`` and its children (the Label Studio server), in MiB."""
    total, seen = 0, False
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    seen = True
            for tid in os.listdir(f"/proc/{p}/task"):
                kids = open(f"/proc/{p}/task/{tid}/children").read().split()
                todo += [int(k) for k in kids]
        except OSError:
            continue
    return total / 1024 if seen else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="number of synthetic documents (default 10000)")
    ap.add_argument("--stages", default=",".join(DEFAULT_STAGES), help=f"comma-separated subset of {','.join(STAGES)} (default all but repush; "
                    "the server starts empty each run, so annotate needs push, and pull/baseline-export need annotate)")
    ap.add_argument("--workdir", type=Path, help="folder to use (default: a new tempfile.mkdtemp under /tmp); generate needs "
                    "it empty or absent")
    ap.add_argument("--keep", action="store_true", help="keep the folder (default: remove it unless --workdir was given)")
    ap.add_argument("--seed", type=int, default=20240229, help="random seed of the generator")
    ap.add_argument("--batch", type=int, help="tasks per import request, for push and the baselines (default: the default "
                    "of khabar.studio.push.push)")
    ap.add_argument("--annotate", choices=("api", "import"), default="api", help="how the pull's annotations are made: one "
                    "API call per task of bench-push (default), or a project bench-pull imported with annotations")
    ap.add_argument("--workers", type=int, default=4, help="concurrent annotations.create calls in annotate with --annotate api "
                    "(default 4: about twice as fast as 1 on a 2-core machine)")
    ap.add_argument("--profile", action="store_true", help="cProfile the push, pull and baseline stages (inflates their "
                    "seconds); top functions go to <workdir>/profile-<stage>-{cumulative,tottime}.txt, raw stats to profile-<stage>.prof")
    ap.add_argument("--port", type=int, help="server port (default: a free one)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    stages = bench_build.parse_stages(ap, args.stages, STAGES)
    needs = dict(NEEDS, **({"annotate": None} if args.annotate == "import" else {}))
    missing = [f"{s} needs {needs[s]}" for s in stages if needs.get(s) and needs[s] not in stages]
    if missing:
        ap.error("; ".join(missing) + " (the server starts empty on every run)")
    if args.child:
        child(args.child, args.workdir, args.n, args.seed, args.batch, args.annotate, args.profile, args.workers)
        return 0
    if args.batch is None:
        import inspect

        from khabar.studio.push import push

        args.batch = inspect.signature(push).parameters["batch"].default
    root = (args.workdir or Path(tempfile.mkdtemp(prefix="khabar-bench-studio-", dir="/tmp"))).resolve()
    if "generate" in stages and root.exists() and any(root.iterdir()):
        ap.error(f"{root} is not empty; generate needs a fresh folder")
    root.mkdir(parents=True, exist_ok=True)
    import khabar

    print(f"work folder: {root}  N={args.n}  batch={args.batch}  khabar from {Path(khabar.__file__).parent}", file=sys.stderr)

    server = None

    def on_signal(signum, frame):  # turn SIGTERM/SIGHUP into an exception, so `finally` stops the server
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    results: dict[str, dict] = {}
    failed = False
    env = dict(os.environ, KHABAR_ROOT=str(root), TQDM_DISABLE="1")
    try:
        for stage in sorted(stages, key=STAGES.index):
            if stage in SERVER_STAGES and server is None:
                from khabar.core.project import Project
                from khabar.studio.server import StudioServer, free_port, install

                install(Project(REPO), echo=lambda m: print(m, file=sys.stderr))
                data = root / "labelstudio"
                shutil.rmtree(data, ignore_errors=True)  # a fresh server each run (its token is new)
                token = secrets.token_hex(20)
                server = StudioServer(Project(REPO), args.port or free_port(), USER, PASSWORD, token, data_dir=data)
                t = time.perf_counter()
                server.start()
                print(f"  label studio: pid {server.process.pid} on {server.url} (data {data})", file=sys.stderr)
                server.wait_ready()
                print(f"  label studio ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
                env.update(LABEL_STUDIO_URL=server.url, LABEL_STUDIO_API_KEY=token)
            cmd = [sys.executable, __file__, "--child", stage, "--workdir", str(root), "--n", str(args.n), "--seed", str(args.seed),
                   "--batch", str(args.batch), "--annotate", args.annotate, "--workers", str(args.workers)] + (["--profile"] if args.profile else [])
            wall = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"stage {stage} FAILED (exit {proc.returncode}):\n{proc.stderr[-6000:]}", file=sys.stderr)
                failed = True
                break
            r = results[stage] = json.loads(proc.stdout.strip().splitlines()[-1])
            r["server"] = rss_mib(server.process.pid) if server else None
            r["load"] = float(open("/proc/loadavg").read().split()[0])
            print(f"  {stage}: {r['tasks']} tasks in {r['secs']:.1f} s (wall {time.perf_counter() - wall:.1f} s)"
                  + (f"; profile in {r['profile']}" if r.get("profile") else ""), file=sys.stderr)
            if r["n_problems"]:
                failed = True
                print(f"stage {stage}: {r['n_problems']} problem(s):\n  " + "\n  ".join(r["problems"]), file=sys.stderr)
                if stage == "generate":
                    break
    finally:
        if server is not None:
            server.stop()
            print(f"  label studio stopped (exit {server.process.returncode})", file=sys.stderr)
        if not args.keep and args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}", file=sys.stderr)
    print(f"\nN={args.n}, batch={args.batch}, annotate={args.annotate}" + (", PROFILED (seconds inflated)" if args.profile else ""))
    print(f"{'stage':<16}{'tasks':>8}{'seconds':>10}{'tasks/s':>10}{'peak MiB':>10}{'start MiB':>10}{'server MiB':>11}{'load':>6}")
    for stage, r in results.items():
        rate = r["tasks"] / r["secs"] if r["secs"] else float("inf")
        srv = f"{r['server']:>11.0f}" if r.get("server") else f"{'-':>11}"
        print(f"{stage:<16}{r['tasks']:>8}{r['secs']:>10.2f}{rate:>10.1f}{r['peak']:>10.0f}{r['rss0']:>10.0f}{srv}{r['load']:>6.1f}")
    for a, b in (("push", "baseline-import"), ("pull", "baseline-export"), ("pull", "baseline-snapshot")):
        if a in results and b in results:
            ra, rb = results[a], results[b]
            speed = (ra["tasks"] / ra["secs"]) / (rb["tasks"] / rb["secs"])
            print(f"{a} vs {b}: throughput x{speed:.2f} ({a} tasks/s / {b} tasks/s), peak RSS x{ra['peak'] / rb['peak']:.2f}")
    if "annotate" in results and results["annotate"].get("mode") == "api":
        print(f"(annotate: one annotations.create per task, {results['annotate']['workers']} at a time; listing the tasks first "
              f"took {results['annotate']['list_secs']:.1f} s)")
    if "pull" in results:
        print(f"(pull round trip: pulled files {'equal' if results['pull'].get('round_trip_ok') else 'DIFFER from'} the pre-annotations)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

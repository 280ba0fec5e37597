"""``khabar ingest``: ``seeds/`` -> ``corpus/<doc_id>.json`` and ``seeds/manifest.jsonl``.

All or nothing: every seed is read, decoded, cleaned, checked and validated first, with every
problem collected; only when there is none are the documents moved into ``corpus/`` (each by an
atomic rename, unchanged files left untouched) and the manifest written last (atomically). A
failed or interrupted run leaves ``corpus/`` and the manifest byte for byte as they were.

Memory does not grow with the number of seeds: the manifest, the duplicate checks and the list
of staged documents live in a temporary SQLite file, and seeds are read as the folder lists them.

A run goes in phases, one helper each: load the manifest (:func:`_load_manifest`); per seed,
read it, decide its manifest entry, make and check its document, stage it; name seeds the
manifest lists but the folder lacks; refuse with every problem, or commit; warn.

Public API: :func:`ingest` and :class:`IngestReport`; :data:`MIN_WORDS` (the shortest article
accepted) is read by :mod:`khabar.formats.conll.seeds`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from khabar.ingest.making import MIN_WORDS, Maker, batches, make_batch  # noqa: F401 (MIN_WORDS: read by khabar.formats.conll.seeds)
from khabar.ingest.duplicates import near_duplicate_warnings
from khabar.core.runlock import exclusive_run
from khabar.core.errors import InputError
from khabar.core.parallel import default_workers, ordered_map
from khabar.core.jsonio import load_json, no_interrupts
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.ingest.seeds import doc_id_for, iter_manifest, iter_seed_files, new_entry, seed_name, sha256_hex, stage_manifest

__all__ = ["ingest", "IngestReport"]

SAMPLE = 20
MAX_ERRORS_SHOWN = 200
#: an article shorter than this is kept but named in a warning (check that it is a whole article)
SHORT_WORDS = 40
_WORDS = re.compile(r"\w+")


@dataclass
class IngestReport:
    """What an ingest did: ``counts`` of created/updated/unchanged documents, with the first
    :data:`SAMPLE` ids of each kind (in the order seeds were read) in the lists."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    revised: list[str] = field(default_factory=list)              # ids whose seed edit was accepted
    stale_annotations: list[str] = field(default_factory=list)    # annotation files now stale
    warnings: list[str] = field(default_factory=list)

    def note(self, kind: str, doc_id: str) -> None:
        self.counts[kind] += 1
        ids = getattr(self, kind)
        if len(ids) < SAMPLE:
            ids.append(doc_id)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class _State:
    """The run's working set, in a temporary SQLite file."""

    def __init__(self, folder: Path):
        self.db = sqlite3.connect(folder / "ingest.sqlite")
        self.db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE manifest (name TEXT PRIMARY KEY, entry TEXT, seen INTEGER DEFAULT 0) WITHOUT ROWID;
            CREATE TABLE raw (sha TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
            CREATE TABLE ids (id TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
            CREATE TABLE txt (sha TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
            CREATE TABLE staged (id TEXT PRIMARY KEY, kind TEXT) WITHOUT ROWID;
            CREATE TABLE short (name TEXT PRIMARY KEY, words INTEGER) WITHOUT ROWID;
        """)

    def one(self, sql: str, *args: Any) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]


def ingest(project: Project, encodings: dict[str, str] | None = None, accept_edits: set[str] | frozenset[str] = frozenset(),
           progress: bool = True, schemas: Schemas | None = None, workers: int | None = None) -> IngestReport:
    """Ingest every seed of ``project.seeds`` into ``project.corpus``.

    Args:
        project: the project folders.
        encodings: ``{seed file: encoding}`` declared by the user (see
            :data:`khabar.ingest.decode.DECLARABLE`); kept in the manifest. A seed may be named by
            file name or by path inside ``seeds/``.
        accept_edits: seeds whose bytes changed since they were ingested and whose change the
            user accepts: the document keeps its id, its revision goes up by one, and
            annotations made on the old text become stale.
        progress: show a progress bar.
        workers: processes that make the documents (default
            :func:`khabar.core.parallel.default_workers`); the corpus is the same with any number.

    Returns:
        An :class:`IngestReport`.

    Raises:
        InputError: one line per problem (file and reason) for every bad seed: empty, binary,
            undecodable, not Arabic, a duplicate of another seed, edited after ingest without
            ``accept_edits``, listed in the manifest but missing; a bad manifest line. Nothing
            is written then.
    """
    schemas = schemas or Schemas(project.schema)
    encodings = {seed_name(project.seeds, k): v for k, v in (encodings or {}).items()}
    accept_edits = {seed_name(project.seeds, k) for k in accept_edits}
    total = sum(1 for _ in iter_seed_files(project.seeds))
    if not total:
        raise InputError(f"{project.seeds}: no seed files (*.txt)", hint="put raw articles into seeds/")
    for name in [*encodings, *accept_edits]:
        if not (project.seeds / name).is_file():
            raise InputError(f"{name}: no such seed file in {project.seeds}")
    if project.corpus.exists() and not project.corpus.is_dir():
        raise InputError(f"{project.corpus}: not a folder")
    project.corpus.mkdir(parents=True, exist_ok=True)
    # one ingest at a time; the staging folders a killed ingest left are removed first
    with exclusive_run(project.corpus, ".ingest.lock", ".staging-", "khabar ingest"):
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=project.corpus))
        try:
            return _run(project, schemas, encodings, accept_edits, staging, total, progress,
                        default_workers() if workers is None else workers)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _run(project: Project, schemas: Schemas, encodings: dict[str, str], accept_edits: set[str], staging: Path,
         total: int, progress: bool, workers: int) -> IngestReport:
    """The run in its phases: read the manifest; stage every seed's document; name missing seeds;
    refuse on any problem; commit; then warn about ignored files and orphan documents."""
    st = _State(staging)
    errors: list[str] = []
    report = IngestReport()
    _load_manifest(project, schemas, st, errors)
    bar = tqdm(total=total, desc="ingest", unit="doc", disable=not progress)
    seeds = batches(_entries(project, st, encodings, accept_edits, report, errors, bar))
    for made in ordered_map(Maker, (schemas,), make_batch, seeds, workers):
        for name, path, entry, doc, words, data, problems in made:
            errors += problems
            doc = _checked_document(st, name, path, doc, words, errors)
            if doc is not None:
                _stage(project, st, staging, doc, entry, name, report, data)
    bar.close()
    _missing_seeds(project, st, errors)
    _refuse_on(errors)
    _commit(project, st, staging, report)
    _warn(project, st, report)
    st.db.close()
    return report


def _load_manifest(project: Project, schemas: Schemas, st: _State, errors: list[str]) -> None:
    """Collect: every manifest entry into ``st`` (tables ``manifest``, ``raw``, ``ids``); a line
    listed twice, a doc id its first raw bytes did not give, a revision that disagrees with the
    recorded history, or a doc id used twice is appended to ``errors`` and not loaded."""
    for entry in iter_manifest(project.manifest, schemas, errors):
        name = entry["seed_file"]
        if st.one("SELECT name FROM manifest WHERE name=?", name):
            errors.append(f"{project.manifest}: {name} is listed twice")
            continue
        first_sha = (entry["previous_raw_sha256"] or [entry["raw_sha256"]])[0]
        if entry["doc_id"] != doc_id_for(first_sha):
            errors.append(f"{project.manifest}: {name}: doc_id {entry['doc_id']} is not the id its first raw bytes gave "
                          f"({doc_id_for(first_sha)}); document ids are assigned by ingest and never edited")
            continue
        if entry["revision"] != len(entry["previous_raw_sha256"]) + 1:
            errors.append(f"{project.manifest}: {name}: revision {entry['revision']} but {len(entry['previous_raw_sha256'])} "
                          "earlier version(s) are recorded")
            continue
        other = st.one("SELECT name FROM ids WHERE id=?", entry["doc_id"])
        if other is not None:
            errors.append(f"{project.manifest}: doc_id {entry['doc_id']} is used by two seeds: {other} and {name}")
            continue
        st.db.execute("INSERT INTO manifest (name, entry) VALUES (?, ?)", (name, json.dumps(entry, ensure_ascii=False)))
        st.db.execute("INSERT OR IGNORE INTO raw VALUES (?, ?)", (entry["raw_sha256"], name))
        st.db.execute("INSERT INTO ids VALUES (?, ?)", (entry["doc_id"], name))


def _known_first(project: Project, st: _State) -> Iterator[os.DirEntry[str]]:
    """The seed files, those already in the manifest first: a new copy is the duplicate, not the original."""
    for known in (True, False):
        for d in iter_seed_files(project.seeds):
            if (st.one("SELECT 1 FROM manifest WHERE name=?", d.name) is not None) is known:
                yield d


def _read_seed(dirent: os.DirEntry[str], errors: list[str]) -> bytes | None:
    """The seed's bytes, or None (the reason appended to ``errors``) for a link or folder, a file
    name with control characters, or a file that cannot be read."""
    path = Path(dirent.path)
    if dirent.is_symlink() or not dirent.is_file(follow_symlinks=False):
        errors.append(f"{path}: not a regular file (seeds are the files as received, not links or folders)")
        return None
    if any(ord(c) < 32 or c == "\x7f" for c in dirent.name):
        errors.append(f"{path!r}: control characters in the file name")
        return None
    try:
        return path.read_bytes()
    except OSError as err:
        errors.append(f"{path}: cannot read: {err.strerror}")
        return None


def _seed_entry(st: _State, name: str, path: Path, raw: bytes, encodings: dict[str, str], accept_edits: set[str],
                report: IngestReport, errors: list[str]) -> dict[str, Any] | None:
    """Decide the seed's manifest entry: a new one (id from the raw SHA-256) for a seed not in the
    manifest, the stored one otherwise (declared encoding updated; an accepted edit bumps the
    revision and is noted in ``report.revised``). None, with the reason in ``errors``, for a
    byte-identical copy of another seed, an id already taken, or an edit not accepted."""
    raw_sha = sha256_hex(raw)
    stored = st.one("SELECT entry FROM manifest WHERE name=?", name)
    if stored is None:
        twin = st.one("SELECT name FROM raw WHERE sha=?", raw_sha)
        if twin is not None:
            errors.append(f"{path}: the same article twice: byte-identical to {twin}")
            return None
        entry = new_entry(raw_sha, encodings.get(name), seed_file=name)
        taken = st.one("SELECT name FROM ids WHERE id=?", entry["doc_id"])
        if taken is not None:
            errors.append(f"{path}: document id {entry['doc_id']} is already taken by {taken}")
            return None
        st.db.execute("INSERT INTO raw VALUES (?, ?)", (raw_sha, name))
        st.db.execute("INSERT INTO ids VALUES (?, ?)", (entry["doc_id"], name))
        return entry
    entry = json.loads(stored)
    if name in encodings:
        entry["declared_encoding"] = encodings[name]
    if raw_sha != entry["raw_sha256"]:
        if name not in accept_edits:
            errors.append(f"{path}: seed edited after ingest (was sha256 {entry['raw_sha256'][:12]}…, now "
                          f"{raw_sha[:12]}…) of document {entry['doc_id']}; accept it with "
                          f"`khabar ingest --accept-edit {name}`")
            return None
        entry["previous_raw_sha256"] = entry["previous_raw_sha256"] + [entry["raw_sha256"]]
        entry["raw_sha256"] = raw_sha
        entry["revision"] += 1
        report.revised.append(entry["doc_id"])
    return entry


def _entries(project: Project, st: _State, encodings: dict[str, str], accept_edits: set[str], report: IngestReport,
             errors: list[str], bar: Any) -> Iterator[tuple[str, Path, bytes, dict[str, Any]]]:
    """``(name, path, raw bytes, manifest entry)`` of every seed that reads and gets an entry
    (:func:`_read_seed`, :func:`_seed_entry`: decided here, in order, with the run's state)."""
    for dirent in _known_first(project, st):
        bar.update(1)
        raw = _read_seed(dirent, errors)
        if raw is None:
            continue
        entry = _seed_entry(st, dirent.name, Path(dirent.path), raw, encodings, accept_edits, report, errors)
        if entry is not None:
            yield dirent.name, Path(dirent.path), raw, entry


def _checked_document(st: _State, name: str, path: Path, doc: dict[str, Any] | None, words: int,
                      errors: list[str]) -> dict[str, Any] | None:
    """The document made by :func:`khabar.ingest.making.make_batch`, or None (with the reason in ``errors``) when it was
    refused there or has the same text of record as another seed; a short one is recorded."""
    if doc is None:
        return None
    if words < SHORT_WORDS:
        st.db.execute("INSERT OR REPLACE INTO short VALUES (?, ?)", (name, words))
    twin = st.one("SELECT name FROM txt WHERE sha=?", doc["text_sha256"])
    if twin is not None:
        errors.append(f"{path}: the same article twice: its text of record equals that of {twin}")
        return None
    return doc


def _stage(project: Project, st: _State, staging: Path, doc: dict[str, Any], entry: dict[str, Any], name: str,
           report: IngestReport, data: bytes) -> None:
    """Write a checked document to ``staging`` unless ``corpus/`` has its bytes already, record
    it as created, updated or unchanged, and note the annotation files an update makes stale.
    ``data``: the document's canonical JSON bytes."""
    st.db.execute("INSERT INTO txt VALUES (?, ?)", (doc["text_sha256"], name))
    st.db.execute("INSERT OR REPLACE INTO manifest (name, entry, seen) VALUES (?, ?, 1)",
                  (name, json.dumps(entry, ensure_ascii=False)))
    target = project.corpus_file(doc["id"])
    old = target.read_bytes() if target.exists() else None
    kind = "created" if old is None else ("unchanged" if old == data else "updated")
    if kind != "unchanged":
        (staging / target.name).write_bytes(data)
    st.db.execute("INSERT INTO staged VALUES (?, ?)", (doc["id"], kind))
    if kind != "unchanged" and doc["flags"]:  # artifacts of the source text: say so, not only in the JSON
        kinds: dict[str, int] = {}
        for f in doc["flags"]:
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        report.warnings.append(f"{project.seeds / name}: {len(doc['flags'])} flag(s) in {doc['id']} ("
                               + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
                               + "): kept as they are; see its flags in corpus/")
    if kind == "updated":
        report.stale_annotations.extend(_stale(project, doc["id"], doc["text_sha256"]))


def _missing_seeds(project: Project, st: _State, errors: list[str]) -> None:
    """Append to ``errors`` every manifest entry whose seed file was not seen and does not exist."""
    for (name,) in st.db.execute("SELECT name FROM manifest WHERE seen=0 ORDER BY name"):
        if not (project.seeds / name).exists():
            entry = json.loads(st.one("SELECT entry FROM manifest WHERE name=?", name))
            errors.append(f"{project.seeds / name}: listed in the manifest as {entry['doc_id']} but the file is missing")


def _refuse_on(errors: list[str]) -> None:
    """Raise one :class:`InputError` listing ``errors`` (one line each, sorted, the first
    :data:`MAX_ERRORS_SHOWN`, then a count); nothing when there is none."""
    errors = [line for e in errors for line in e.splitlines()]
    if errors:
        shown = sorted(errors)[:MAX_ERRORS_SHOWN]
        more = f"\n  … and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise InputError(f"ingest refused ({len(errors)} problem{'s' if len(errors) != 1 else ''}); corpus/ unchanged:\n  "
                         + "\n  ".join(shown) + more)


def _commit(project: Project, st: _State, staging: Path, report: IngestReport) -> None:
    """Stage the manifest, move the staged documents into ``corpus/`` (each by an atomic rename, in
    id order), then rename the manifest into place; interrupts wait until both are done. Counts
    go to ``report``."""
    manifest = stage_manifest(project.manifest, (entry for (entry,) in st.db.execute("SELECT entry FROM manifest ORDER BY name")))
    try:
        with no_interrupts():
            for doc_id, kind in st.db.execute("SELECT id, kind FROM staged ORDER BY id"):
                report.note(kind, doc_id)
                if kind != "unchanged":
                    target = project.corpus_file(doc_id)
                    os.replace(staging / target.name, target)
            if manifest is not None:
                os.replace(manifest, project.manifest)  # atomic: the old manifest or the new one, never half of it
    finally:
        if manifest is not None and manifest.exists():
            manifest.unlink()


def _warn(project: Project, st: _State, report: IngestReport) -> None:
    """Warnings (the first :data:`SAMPLE` of each kind): files of ``seeds/`` that are not seeds,
    and corpus documents no seed of the manifest gives (orphans)."""
    with os.scandir(project.seeds) as it:
        ignored = sorted(e.name for e in it if not e.name.startswith(".") and not e.name.endswith(".txt")
                         and e.name != project.manifest.name)
    for name in ignored[:SAMPLE]:
        report.warnings.append(f"{project.seeds / name}: ignored (seeds are *.txt files)")
    strays = [p for p in os.scandir(project.corpus) if p.name.endswith(".json") and not p.name.startswith(".")
              and st.one("SELECT kind FROM staged WHERE id=?", p.name[:-5]) is None]
    for p in sorted(strays, key=lambda e: e.name)[:SAMPLE]:
        report.warnings.append(f"{p.path}: no seed in the manifest has this id (orphan document)")
    created = [row[0] for row in st.db.execute("SELECT id FROM staged WHERE kind='created' ORDER BY id")]
    report.warnings.extend(near_duplicate_warnings(project, created, SAMPLE))
    for name, words in st.db.execute("SELECT name, words FROM short ORDER BY name LIMIT ?", (SAMPLE,)):
        report.warnings.append(f"{project.seeds / name}: a short article ({words} words, under {SHORT_WORDS}): kept; "
                               "check that it is a whole article, not a fragment or a headline alone")


def _stale(project: Project, doc_id: str, sha: str) -> list[str]:
    """Annotation files of ``doc_id`` (any ``*.json`` of its folder) made on another text than ``sha``."""
    folder = project.doc_folder(doc_id)
    out = []
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            try:
                data: Any = load_json(p)
            except InputError:
                continue
            if isinstance(data, dict) and data.get("text_sha256") not in (None, sha):
                out.append(str(p))
    return out

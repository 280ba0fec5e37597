"""``khabar adjudicate``: merge each document's annotator files into ``annotations/<doc_id>/gold.json``
and write what they do not agree on to ``annotations/<doc_id>/conflicts.json``.

Majority rules and conflict reasons: :mod:`khabar.agreement.merge`. Annotator files: as in
:mod:`khabar.agreement.compare` (not gold, preannotator, conflicts or drafts).

``gold.json`` is an ordinary annotation (valid against ``schema/annotation.schema.json`` and the
span checks): annotator ``gold``, ``origin = {kind: adjudication, tool: "khabar adjudicate",
version, sources: [annotator ids]}``. ``conflicts.json`` (``schema/conflicts.schema.json``) holds
doc_id, text_sha256, the annotators, the votes needed, the SHA-256 of the gold.json written with
it, and one entry per conflict: a stable id (``<layer>:<key>``), the layer, the key (spans with
their text), the reason, and each annotator's version of the item (``null`` when they have none),
each self-contained (entities with span, text and type instead of bare ids). A document without
conflicts gets no ``conflicts.json``, and one left from an earlier run is removed.

Refused (every problem listed, nothing written for any document):

* fewer than two annotator files, for a document named explicitly (when adjudicating every
  document such documents are skipped and counted);
* annotator files made on different text versions, or all made on an old text (``text_sha256``);
* a ``gold.json`` that ``khabar adjudicate`` did not write (made by hand, imported, or a reviewed
  gold from ``khabar studio pull-review``): replacing it would lose human decisions, so it needs
  ``force=True`` (``--force``);
* a ``gold.json`` this command wrote but someone edited since: its SHA-256 is no longer the
  ``gold_sha256`` recorded in the document's ``conflicts.json`` (or that file cannot be read).
  Settle the conflicts with ``khabar studio push-review`` / ``pull-review``, set ``origin.kind``
  to ``manual`` to keep a hand-made gold, or ``--force`` to recompute it.

A document without conflicts has no ``conflicts.json`` and so no record of the gold's bytes:
there only ``origin`` protects ``gold.json`` (``kind`` ``adjudication`` and ``tool``
``khabar adjudicate`` mean "recompute me"; anything else is refused). Whoever edits such a gold
by hand sets ``origin.kind`` to ``manual``.

A ``*.json`` file of a document folder whose name is not an annotator id (``A02.json``) is not
read; it is named in :attr:`AdjudicationReport.warnings`.

All or nothing: every document is merged into a staging folder (``annotations/.adjudicate-*``)
first; only when all succeed are the files moved into place, a document's ``gold.json`` and its
``conflicts.json`` (written or removed) together with interrupts held back. Re-running is
idempotent: the bytes are the same, and an unchanged document is not touched. A run holds an
exclusive lock (``fcntl.flock`` on ``annotations/.adjudicate.lock``, removed at the end); a
second run at the same time is refused, and staging folders left by a killed run are removed
by the next one.

File names come from :class:`khabar.core.project.Project` (``gold``, ``conflicts``, ``corpus_file``);
a staged document folder holds the same :data:`khabar.core.project.GOLD` and ``CONFLICTS`` names.

Public API: :func:`adjudicate` (:class:`AdjudicationReport`), :func:`adjudicate_document`
(:class:`DocumentOutcome`), and the names it writes: :data:`TOOL` (``origin.tool``), :data:`LOCK`,
:data:`STAGING`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from tqdm import tqdm

from khabar import __version__
from khabar.agreement.compare import MISNAMED, annotator_files, misnamed_files, select_documents
from khabar.annotate.files import load_checked_annotation
from khabar.core.checks import check_row
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.jsonio import atomic_write_bytes, dumps_canonical, load_json, no_interrupts
from khabar.agreement.merge import merge_annotations
from khabar.core.project import CONFLICTS, GOLD, Project
from khabar.core.runlock import exclusive_run
from khabar.core.schema import Schemas

__all__ = ["adjudicate", "adjudicate_document", "AdjudicationReport", "DocumentOutcome", "TOOL", "LOCK", "STAGING"]

TOOL = "khabar adjudicate"
LOCK = ".adjudicate.lock"
STAGING = ".adjudicate-"  # prefix of the staging folders in annotations/
LAYERS = ("entities", "claims", "stances")


@dataclass
class DocumentOutcome:
    """One document: items that went into gold (``agreed``; ``unanimous`` of them given alike by
    every annotator) and conflicts, per layer; ``changed`` is False when the files were already so."""

    doc_id: str
    annotators: list[str]
    agreed: dict[str, int]
    unanimous: dict[str, int]
    conflicts: dict[str, int]
    changed: bool
    warnings: list[str] = field(default_factory=list)


@dataclass
class AdjudicationReport:
    """Totals of a run: documents adjudicated, ``written`` (changed) and ``unchanged``; ``skipped``
    = documents with a single annotator file (not adjudicated); ``leftovers`` = staging folders of
    killed runs removed; ``warnings`` = one line per file not read (its name is not an annotator id)."""

    documents: int = 0
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    agreed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAYERS, 0))
    conflicts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAYERS, 0))
    leftovers: int = 0
    warnings: list[str] = field(default_factory=list)


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def _text_versions_error(folder: Path, files: dict[str, Path], doc: dict[str, Any]) -> InputError:
    by_sha: dict[str, list[str]] = {}
    for name, path in files.items():
        data = load_json(path)
        by_sha.setdefault(str(data.get("text_sha256") if isinstance(data, dict) else None), []).append(name)
    now = doc["text_sha256"]
    if len(by_sha) > 1:
        parts = [f"{', '.join(names)} on {sha[:12]}…" + (" (the document's text)" if sha == now else " (an old text)")
                 for sha, names in sorted(by_sha.items(), key=lambda kv: kv[1])]
        return InputError(f"{folder}: annotator files made on different text versions: {'; '.join(parts)}",
                          hint="re-annotate (or re-map) the files made on an old text, then adjudicate again")
    return InputError(f"{folder}: every annotator file was made on text {next(iter(by_sha))[:12]}…, but the document's text "
                      f"is now {now[:12]}…", hint="re-annotate (or re-map) the annotations onto the new text, then adjudicate")


def _check_gold(path: Path) -> None:
    """Refuse to replace a gold.json that khabar adjudicate did not write."""
    try:
        data = load_json(path)
    except InputError as err:
        raise InputError(f"{err}; refusing to replace it", hint="pass --force to replace it with the adjudication") from None
    origin = data.get("origin") if isinstance(data, dict) else None
    origin = origin if isinstance(origin, dict) else {}
    if origin.get("kind") != "adjudication" or origin.get("tool") != TOOL:
        raise InputError(f"{path}: not written by khabar adjudicate (origin kind {origin.get('kind')!r}, tool {origin.get('tool')!r}); "
                         "refusing to replace it", hint="pass --force to replace it with the adjudication (keep a copy: its "
                                                          "decisions are lost)")


def _check_unedited(gold_path: Path, conflicts_path: Path) -> None:
    """Refuse to replace a gold.json whose bytes are not the ones ``conflicts.json`` recorded (edited by hand)."""
    hint = (f"settle the conflicts with `khabar studio push-review` and `pull-review`, or set origin.kind to \"manual\" in {GOLD} "
            "to keep it as a hand-made gold, or pass --force to recompute it from the annotator files (the edits are lost)")
    try:
        recorded = load_json(conflicts_path).get("gold_sha256")
    except (InputError, AttributeError) as err:
        why = str(err) if isinstance(err, InputError) else f"{conflicts_path}: not a JSON object"
        raise InputError(f"{why}; cannot tell whether {gold_path} was edited since khabar adjudicate wrote it, refusing to replace it",
                         hint=hint) from None
    if hashlib.sha256(gold_path.read_bytes()).hexdigest() != recorded:
        raise InputError(f"{gold_path}: edited since khabar adjudicate wrote it (its SHA-256 is not the gold_sha256 recorded in "
                         f"{conflicts_path.name}); refusing to replace it", hint=hint)


def adjudicate_document(doc: dict[str, Any], anns: dict[str, dict[str, Any]], schemas: Schemas) -> tuple[bytes, bytes | None, DocumentOutcome]:
    """Merge the checked annotations of ``doc`` (annotator id -> annotation, two or more).

    Returns:
        ``(gold.json bytes, conflicts.json bytes or None, outcome)``; both files canonical JSON,
        valid against their schemas.

    Raises:
        InputError: the merge produced an invalid file (a bug; names the document and the problem).
    """
    names = sorted(anns)
    m = merge_annotations(doc["text"], anns, schemas.vocab("EntityType"), schemas.vocab("StanceTarget"))
    versions = sorted({a["guidelines_version"] for a in anns.values() if a["guidelines_version"]}, key=_version_key)
    warnings = [f"{doc['id']}: annotators followed different guidelines versions ({', '.join(versions)}); gold says {versions[-1]}"] \
        if len(versions) > 1 else []
    gold = {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": "gold",
            "guidelines_version": versions[-1] if versions else None,
            "origin": {"kind": "adjudication", "tool": TOOL, "version": __version__, "sources": names},
            "entities": m.entities, "claims": m.claims, "stances": m.stances}
    bad = [f"{p.path[2:]}: {p.message}" for p in schemas.problems("annotation", gold)]
    bad += [f"{f[2:]}: {c}: {msg}" for c, f, msg in check_row(gold, text=doc["text"])]
    gold_bytes = dumps_canonical(gold).encode("utf-8")
    conflicts_bytes = None
    if m.conflicts:
        conflicts = {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotators": names,
                     "need": len(names) // 2 + 1, "tool": TOOL, "version": __version__,
                     "gold_sha256": hashlib.sha256(gold_bytes).hexdigest(), "conflicts": m.conflicts}
        bad += [f"conflicts {p.path[2:]}: {p.message}" for p in schemas.problems("conflicts", conflicts)]
        conflicts_bytes = dumps_canonical(conflicts).encode("utf-8")
    if bad:
        raise InputError(f"{doc['id']}: the adjudication produced an invalid file (a bug of khabar adjudicate): " + "; ".join(bad[:5]))
    per_layer = {k: sum(1 for c in m.conflicts if c["layer"] == k) for k in LAYERS}
    outcome = DocumentOutcome(doc["id"], names, {k: len(gold[k]) for k in LAYERS}, m.unanimous, per_layer, True, warnings)
    return gold_bytes, conflicts_bytes, outcome


def _stage(project: Project, doc_id: str, files: dict[str, Path], schemas: Schemas, staging: Path, force: bool) -> DocumentOutcome:
    """Merge one document (two or more annotator ``files``) into ``staging/<doc_id>/`` when its files would change."""
    folder = project.doc_folder(doc_id)
    doc = load_json(project.corpus_file(doc_id))
    anns = {}
    for name, path in files.items():
        try:
            anns[name] = load_checked_annotation(path, doc, schemas)
        except StaleAnnotationError:
            raise _text_versions_error(folder, files, doc) from None
        if anns[name]["annotator"] != name:
            raise InputError(f"{path}: annotator {anns[name]['annotator']!r}, but the file is named {name}.json",
                             hint="name each annotator file after its annotator id")
    gold_path, conflicts_path = project.gold(doc_id), project.conflicts(doc_id)
    if gold_path.exists() and not force:
        _check_gold(gold_path)
        if conflicts_path.exists():
            _check_unedited(gold_path, conflicts_path)
    gold, conflicts, outcome = adjudicate_document(doc, anns, schemas)
    same_gold = gold_path.is_file() and gold_path.read_bytes() == gold
    same_conflicts = (conflicts_path.read_bytes() == conflicts) if conflicts_path.is_file() else conflicts is None
    outcome.changed = not (same_gold and same_conflicts)
    if outcome.changed:
        atomic_write_bytes(staging / doc_id / GOLD, gold)
        if conflicts is not None:
            atomic_write_bytes(staging / doc_id / CONFLICTS, conflicts)
    return outcome


def _commit(project: Project, staging: Path, doc_id: str) -> None:
    """Move a staged document into place: gold.json first (conflicts.json names its SHA-256), then
    conflicts.json written or removed; interrupts are held back between the two."""
    with no_interrupts():
        os.replace(staging / doc_id / GOLD, project.gold(doc_id))
        if (staging / doc_id / CONFLICTS).exists():
            os.replace(staging / doc_id / CONFLICTS, project.conflicts(doc_id))
        else:
            project.conflicts(doc_id).unlink(missing_ok=True)
    (staging / doc_id).rmdir()  # keeps the staging folder small: its final removal need not list every document


def adjudicate(project: Project, doc_ids: Iterable[str] | None = None, *, force: bool = False, progress: bool = False,
               on_document: Callable[[DocumentOutcome], None] | None = None) -> AdjudicationReport:
    """Adjudicate ``doc_ids`` (default: every corpus document with two or more annotator files).

    Args:
        force: replace a gold.json that khabar adjudicate did not write, or one edited since.
        on_document: called with each document's :class:`DocumentOutcome` once its files are in place.

    Raises:
        InputError: every refusal found (see the module docstring), one line each; nothing written;
            another run holds the lock.
        OSError: a file or folder under ``annotations/`` cannot be read or written.
    """
    schemas = Schemas(project.schema)
    ids, total, _ = select_documents(project, doc_ids)
    report = AdjudicationReport()
    if not project.annotations.is_dir():
        if doc_ids is not None and total:
            raise InputError(f"{project.annotations}: no such folder, so no annotator files to adjudicate",
                             hint="pull annotations first (khabar studio pull)")
        return report
    problems: list[str] = []
    hints: list[str] = []
    with exclusive_run(project.annotations, LOCK, STAGING, "khabar adjudicate") as report.leftovers:
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=project.annotations))
        try:
            _run(project, ids, total, doc_ids is not None, schemas, staging, force, progress, report, problems, hints)
            if problems:
                raise InputError(f"adjudicate refused ({len(problems)} problem(s)); nothing was written:\n  " + "\n  ".join(problems),
                                 hint="; ".join(hints) or None)
            with open(staging / "outcomes.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    outcome = DocumentOutcome(**json.loads(line))
                    if outcome.changed:
                        _commit(project, staging, outcome.doc_id)
                    report.documents += 1
                    report.written += outcome.changed
                    report.unchanged += not outcome.changed
                    for k in LAYERS:
                        report.agreed[k] += outcome.agreed[k]
                        report.conflicts[k] += outcome.conflicts[k]
                    if on_document:
                        on_document(outcome)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report


def _run(project: Project, ids: Iterable[str], total: int, named: bool, schemas: Schemas, staging: Path, force: bool, progress: bool,
         report: AdjudicationReport, problems: list[str], hints: list[str]) -> None:
    """Stage every document; outcomes go to ``staging/outcomes.jsonl`` (memory stays flat), refusals to ``problems``."""
    with open(staging / "outcomes.jsonl", "w", encoding="utf-8") as fh:
        for doc_id in tqdm(ids, total=total, desc="adjudicate", unit="doc", disable=not progress):
            folder = project.doc_folder(doc_id)
            files = annotator_files(folder)
            misnamed = misnamed_files(folder)
            report.warnings += [f"{p}: {MISNAMED}" for p in misnamed]
            try:
                if len(files) < 2 and named:
                    not_read = f"; not read: {', '.join(p.name for p in misnamed)} (not an annotator id)" if misnamed else ""
                    raise InputError(f"{folder}: {len(files)} annotator file(s) ({', '.join(files) or 'none'}); "
                                     f"adjudication needs two or more{not_read}", hint="adjudicate once a second annotator has annotated it")
                if len(files) < 2:
                    report.skipped += len(files)
                    continue
                outcome = _stage(project, doc_id, files, schemas, staging, force)
            except InputError as err:
                problems.append(str(err))
                if err.hint and err.hint not in hints:
                    hints.append(err.hint)
                continue
            fh.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")

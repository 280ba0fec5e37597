"""Gold from one annotator: ``khabar accept DOC --annotator ID``.

A document annotated by one annotator cannot be adjudicated (adjudication needs two or more).
Accepting says that the annotator's file was reviewed and is the document's gold: it is copied
to ``annotations/<doc_id>/gold.json`` unchanged (same spans and ids) with ``annotator`` set to
``gold`` and ``origin`` ``{"kind": "accepted", "tool": "khabar accept", "version": …,
"sources": [ID]}``; the card counts such documents apart from adjudicated ones.

Public API: :func:`accept`, :class:`AcceptReport`, :data:`TOOL`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from khabar import __version__
from khabar.annotate.files import load_checked_annotation
from khabar.core.errors import InputError
from khabar.core.ids import is_doc_id
from khabar.core.jsonio import atomic_write_bytes, dumps_canonical, load_json
from khabar.core.project import NOT_ANNOTATORS, Project
from khabar.core.schema import Schemas
from khabar.core.targets import applicable

__all__ = ["accept", "AcceptReport", "TOOL", "gold_problems"]

TOOL = "khabar accept"
_ANNOTATOR = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # AnnotatorId of schema/common.schema.json


@dataclass(frozen=True)
class AcceptReport:
    """What :func:`accept` did: the gold file, whether its bytes changed, and the origin kind of
    the gold it replaced (None when there was none)."""

    path: Path
    changed: bool
    replaced: str | None


def _checked_ids(project: Project, doc_id: str, annotator: str) -> None:
    """Refuse a malformed or unknown document id, and an annotator id that names no annotator."""
    if not is_doc_id(doc_id):
        raise InputError(f"{doc_id!r}: not a document id (kb- and 16 hex digits)", hint="khabar accept kb-… --annotator ID")
    if not project.corpus_file(doc_id).is_file():
        raise InputError(f"{doc_id}: no such document in {project.corpus}", hint="run khabar ingest, or check the id")
    if not _ANNOTATOR.match(annotator) or annotator in NOT_ANNOTATORS or annotator.endswith(".draft"):
        raise InputError(f"--annotator {annotator!r}: not an annotator id (reserved or malformed)",
                         hint="give the id of the annotator whose file annotations/<doc_id>/<id>.json you reviewed")


def _registered(project: Project, annotator: str) -> None:
    """Refuse an annotator that ``annotations/annotators.json`` does not describe (the card must say who annotated)."""
    path = project.annotators_registry
    registry = load_json(path) if path.is_file() else {}
    if annotator not in registry:
        raise InputError(f"{path}: annotator {annotator!r} is not described",
                         hint="add the id with its kind (human, language-model, rule-based) and whether a human reviewed its work")


def _replaced_kind(gold_path: Path, annotator: str, force: bool) -> str | None:
    """The origin kind of the gold about to be replaced; refuses to replace a gold that is not an
    acceptance of the same annotator unless ``force`` (adjudicated, reviewed or hand-made gold
    holds decisions that would be lost)."""
    if not (gold_path.exists() or gold_path.is_symlink()):
        return None
    try:
        origin = load_json(gold_path).get("origin") or {}
    except (InputError, AttributeError):
        origin = {}
    kind = origin.get("kind") if isinstance(origin, dict) else None
    if not force and not (kind == "accepted" and origin.get("sources") == [annotator]):
        raise InputError(f"{gold_path}: a gold annotation already exists (origin kind {kind!r}); refusing to replace it",
                         hint="pass --force to replace it with the accepted file (keep a copy: its decisions are lost)")
    return kind


def gold_problems(ann: dict[str, Any], schemas: Schemas, path: Path) -> list[str]:
    """What keeps a valid annotator file from being gold (annotations/GUIDELINES.md §1, §4, §5):
    it is an uncorrected pre-annotation (``origin.kind`` ``preannotator``) or follows no guidelines
    version; a claim lacks ``speech`` or ``checkworthy``; a stance has no evidence, or its target is
    one the registry (``schema/stance-targets.json``, ``documents``) does not apply to this
    document. One line each, naming the file and the item."""
    out = []
    origin = ann.get("origin") or {}
    if origin.get("kind") == "preannotator" or ann.get("guidelines_version") is None:
        out.append(f"{path}: origin kind {origin.get('kind')!r}, guidelines_version {ann.get('guidelines_version')!r}: an "
                   "uncorrected pre-annotation is not gold (correct it, set origin kind 'manual' and the guidelines version you followed)")
    for c in ann["claims"]:
        missing = [k for k in ("speech", "checkworthy") if c.get(k) is None]
        if missing:
            out.append(f"{path}: claims (id {c['id']}): {' and '.join(missing)} not set (gold claims need both, guidelines §4)")
    applies = set(applicable(schemas.targets_registry or {"targets": []}, ann["doc_id"]))
    for s in ann["stances"]:
        if not s.get("evidence"):
            out.append(f"{path}: stances (id {s['id']}): no evidence (gold stances name the claims that support them, §5)")
        if s["target"] not in applies:
            out.append(f"{path}: stances (id {s['id']}): target {s['target']!r} does not apply to {ann['doc_id']} "
                       "(schema/stance-targets.json lists the documents of each target)")
    return out


def accept(project: Project, doc_id: str, annotator: str, *, force: bool = False, schemas: Schemas | None = None) -> AcceptReport:
    """Make ``annotations/<doc_id>/<annotator>.json`` the document's gold (see the module docstring).

    Raises:
        InputError: a malformed or unknown id; the annotator is not in the registry; the file is
            missing, invalid (schema, spans, ids), names another annotator or breaks a rule of gold
            (:func:`gold_problems`); open adjudication
            conflicts (``conflicts.json``) or an existing gold that is not this acceptance (unless
            ``force``).
        StaleAnnotationError: the file was made on another text of the document.
    """
    schemas = schemas or Schemas(project.schema)
    _checked_ids(project, doc_id, annotator)
    _registered(project, annotator)
    source = project.annotator_file(doc_id, annotator)
    if not source.is_file():
        raise InputError(f"{source}: no such annotator file", hint="pull it from Label Studio (khabar studio pull) or check the id")
    ann = load_checked_annotation(source, load_json(project.corpus_file(doc_id)), schemas)
    if ann["annotator"] != annotator:
        raise InputError(f"{source}: annotator is {ann['annotator']!r}, not {annotator!r}", hint="the file name and its annotator field must agree")
    problems = gold_problems(ann, schemas, source)
    if problems:
        raise InputError("\n".join(problems), hint="correct the annotator file, then accept it again")
    if project.conflicts(doc_id).exists() and not force:
        raise InputError(f"{project.conflicts(doc_id)}: the document has open adjudication conflicts; refusing to accept one annotator",
                         hint="settle them with khabar studio push-review / pull-review, or pass --force")
    replaced = _replaced_kind(project.gold(doc_id), annotator, force)
    gold = {**ann, "annotator": "gold",
            "origin": {"kind": "accepted", "tool": TOOL, "version": __version__, "sources": [annotator]}}
    data = dumps_canonical(gold).encode("utf-8")
    path = project.gold(doc_id)
    changed = not path.is_file() or path.read_bytes() != data
    if changed:
        atomic_write_bytes(path, data)
    if force:
        project.conflicts(doc_id).unlink(missing_ok=True)
    return AcceptReport(path, changed, replaced)

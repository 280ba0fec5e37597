"""Reading annotation files (``annotations/<doc_id>/<annotator>.json``) and checking them
against their document.

Problems are reported as lines naming the file, the annotation item id and JSON path, the check
id and the reason, e.g. ``annotations/kb-…/gold.json: entities[2] (id e3): span-text-mismatch: …``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from khabar.core.checks import check_row
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.jsonio import load_json
from khabar.core.project import GOLD
from khabar.core.schema import Schemas

__all__ = ["load_checked_annotation", "gold_path"]



def gold_path(annotations: Path, doc_id: str) -> Path:
    """``annotations/<doc_id>/gold.json`` under the ``annotations`` folder given."""
    return annotations / doc_id / GOLD


def _item_id(ann: dict[str, Any], path: str) -> str:
    # "$.claims[3].cue" -> " (id c4)"
    try:
        key, rest = path[2:].split("[", 1)
        idx = int(rest.split("]", 1)[0])
        return f" (id {ann[key][idx]['id']})"
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def load_checked_annotation(path: Path, doc: dict[str, Any], schemas: Schemas) -> dict[str, Any]:
    """Load an annotation file and check it against ``doc`` (a corpus document).

    Returns:
        The annotation dict, valid against ``schema/annotation.schema.json`` and consistent with
        ``doc`` (every span's text equals ``doc['text'][start:end]``, every id reference resolves).

    Raises:
        StaleAnnotationError: its ``text_sha256`` differs from the document's (made on another
            text version); names the document.
        InputError: not strict JSON; schema violations (``label-unknown`` for a label outside its
            vocabulary, ``schema-invalid`` otherwise); another document's id; span or id problems
            (check ids of :mod:`khabar.core.checks`). One line per problem.
    """
    ann = load_json(path)
    problems = []
    for p in schemas.problems("annotation", ann):
        check = "label-unknown" if p.validator == "enum" and p.path.endswith(schemas.label_fields("annotation")) else "schema-invalid"
        problems.append(f"{path}: {p.path[2:] or '$'}{_item_id(ann, p.path)}: {check}: {p.message}")
    if problems:
        raise InputError("\n".join(problems))
    if ann["doc_id"] != doc["id"]:
        raise InputError(f"{path}: doc_id {ann['doc_id']} but it lies in the folder of {doc['id']}")
    if ann["text_sha256"] != doc["text_sha256"]:
        raise StaleAnnotationError(
            f"{path}: stale annotation of document {doc['id']}: made on text {ann['text_sha256'][:12]}…, "
            f"the document's text is now {doc['text_sha256'][:12]}…",
            hint="re-annotate or re-map the annotation onto the new text before building")
    for check, field, message in check_row(ann, text=doc["text"]):
        problems.append(f"{path}: {field[2:]}{_item_id(ann, field)}: {check}: {message}")
    if problems:
        raise InputError("\n".join(problems))
    return ann

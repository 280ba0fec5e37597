"""``khabar studio import EXPORT.json --map LABEL=TYPE``: a Label Studio export made by another
project (its own labels, no Khabar task data) brought in as annotator files (issue 14: a real
NER export got 0 spans in, with thousands of error lines and no hint).

What it does, all or nothing:

* each task is matched to the corpus document with the same text (its SHA-256; a task whose text
  is no corpus document is listed: ingest the text as a seed first, or ``--skip-unmatched``);
* each region of a ``labels`` result whose label is mapped (``--map Person=PERS``, to a Wojood
  type of ``schema/``) becomes an entity; its offsets are read as :func:`khabar.studio.offsets.resolve_span`
  reads them (code points, or UTF-16 units where only that reading fits, one unit per annotation);
* what cannot be mapped is listed with counts: labels without a mapping, relations (a foreign
  relation has no PARC content or cue region to become a claim), choices, other result types.
  Any such item refuses the import unless ``--skip-unmapped`` leaves it out (and lists it);
* each submitted annotation becomes ``annotations/<doc_id>/<annotator>.json`` (``<annotator>-<n>``
  for the n-th annotation of a task, from the second), checked against the annotation schema and
  the span checks; the annotator is added to ``annotations/annotators.json``. A file that exists
  with other content is refused (``--force`` replaces it).

Public API: :func:`import_foreign`, :class:`ForeignReport`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from khabar.core.errors import InputError
from khabar.core.ids import text_sha256
from khabar.core.jsonio import dumps_canonical, load_json
from khabar.core.project import DRAFT_SUFFIX, NOT_ANNOTATORS, Project
from khabar.core.schema import Schemas
from khabar.studio.config import Scheme
from khabar.studio.parse import ConversionError
from khabar.studio.to_annotation import results_to_annotation

__all__ = ["import_foreign", "ForeignReport"]

_SHOWN = 20


@dataclass
class ForeignReport:
    """What an import of a foreign export did: ``entities`` written, ``files`` written (paths),
    ``unchanged`` files, ``unmapped`` (what was left out, with counts), ``unmatched`` tasks,
    ``warnings`` (offsets read as UTF-16, white space), ``annotator_added``."""

    tasks: int = 0
    annotations: int = 0
    entities: int = 0
    files: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    annotator_added: str | None = None


def _tasks(path: Path) -> list[dict[str, Any]]:
    """The export's tasks (a JSON list of tasks, or one task object).

    Raises:
        InputError: not JSON, not tasks, or a JSON-MIN export (no results).
    """
    try:
        data = load_json(path)
    except InputError as err:
        raise InputError(str(err), hint="give a Label Studio export in the JSON format (not CSV, TSV or JSON-MIN)") from None
    tasks = [data] if isinstance(data, dict) else data
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise InputError(f"{path}: not a Label Studio JSON export (a list of tasks)", hint="export the project as JSON (not JSON-MIN or CSV)")
    if tasks and all("annotations" not in t for t in tasks):
        raise InputError(f"{path}: the tasks carry no annotations (a JSON-MIN or CSV export, or tasks only)",
                         hint="export the project as JSON: JSON-MIN drops region ids and relations")
    return tasks


def _mapped(result: list[Any], mapping: dict[str, str], scheme: Scheme, unmapped: dict[str, int]) -> list[dict[str, Any]]:
    """The regions of ``result`` whose label is mapped, as results of Khabar's entity tag; every
    other item is counted in ``unmapped`` by a readable key."""
    out = []
    for r in result if isinstance(result, list) else []:
        kind = r.get("type") if isinstance(r, dict) else None
        value = r.get("value") if isinstance(r, dict) else None
        if kind == "relation":
            key = f"relation {','.join(map(str, r.get('labels') or [])) or '(no label)'}"
        elif kind == "labels" and isinstance(value, dict):
            labels = value.get("labels") or []
            typ = mapping.get(labels[0]) if isinstance(labels, list) and len(labels) == 1 and isinstance(labels[0], str) else None
            if typ is not None:
                out.append({"id": r.get("id"), "from_name": next(iter(sorted(scheme.entity_tags))), "to_name": scheme.text_name,
                            "type": "labels", "value": {**value, "labels": [typ]}})
                continue
            if isinstance(labels, list) and len(labels) == 1 and isinstance(labels[0], str):
                key = f"label {labels[0][:80]}"
            else:
                key = f"region with {len(labels) if isinstance(labels, list) else 0} labels (one is needed)"
        else:
            key = f"{kind or 'item'} {r.get('from_name', '') if isinstance(r, dict) else ''}".strip()
        unmapped[key] = unmapped.get(key, 0) + 1
    return out


def import_foreign(project: Project, path: Path, mapping: dict[str, str], annotator: str, *, skip_unmapped: bool = False,
                   skip_unmatched: bool = False, force: bool = False, schemas: Schemas | None = None) -> ForeignReport:
    """Import the Label Studio export ``path`` of another project as annotator files (module docstring).

    Args:
        mapping: ``{label: Wojood type}``, e.g. ``{"Person": "PERS", "Organization": "ORG"}``.
        annotator: the pseudonymous annotator id of the files (not gold, preannotator, …).

    Returns:
        A :class:`ForeignReport`.

    Raises:
        InputError: a bad mapping or annotator id; the export cannot be read; a task whose text is
            no corpus document (without ``skip_unmatched``); anything unmapped (without
            ``skip_unmapped``); a region whose offsets do not give its text; an annotation
            file that exists with other content (without ``force``). Nothing is written then.
    """
    from khabar.annotate.staging import Staged

    schemas = schemas or Schemas(project.schema)
    types = set(schemas.vocab("EntityType"))
    for label, typ in mapping.items():
        if typ not in types:
            raise InputError(f"--map {label}={typ}: {typ} is not a Wojood entity type of schema/labels.schema.json",
                             hint="types: " + ", ".join(sorted(types)))
    if not re.fullmatch(schemas["common"]["$defs"]["AnnotatorId"]["pattern"], annotator) or annotator in NOT_ANNOTATORS \
            or annotator.endswith(DRAFT_SUFFIX):
        raise InputError(f"--annotator {annotator!r}: not a pseudonymous annotator id, or a reserved name "
                         f"({', '.join(sorted(NOT_ANNOTATORS))}, *{DRAFT_SUFFIX})")
    report, problems = ForeignReport(), []
    planned = _read_tasks(project, path, mapping, annotator, Scheme.from_schemas(schemas), report, problems)
    if report.unmatched and not skip_unmatched:
        problems += [line + " (ingest it as a seed first, or pass --skip-unmatched)" for line in report.unmatched]
    if report.unmapped and not skip_unmapped:
        problems += [f"{path.name}: not mapped: {key} ({n}×)" for key, n in sorted(report.unmapped.items())]
    staged_files = []
    for target, ann, here in planned:
        problems += [f"{here}: {p.path[2:] or '$'}: {p.message}" for p in schemas.problems("annotation", ann)]
        text = dumps_canonical(ann)
        if target.exists():
            if target.read_text(encoding="utf-8") == text:
                report.unchanged.append(str(target))
                continue
            if not force:
                problems.append(f"{target}: exists with other content (pass --force to replace it)")
                continue
        staged_files.append((target, text))
    names = sorted({ann["annotator"] for _, ann, _ in planned})
    registry = _registry(project, schemas, names, path.name, problems)
    if problems:
        shown = problems[:_SHOWN] + ([f"… and {len(problems) - _SHOWN} more"] if len(problems) > _SHOWN else [])
        raise InputError(f"{path.name}: not imported ({len(problems)} problem(s); nothing written):\n  " + "\n  ".join(shown),
                         hint=_hint(report))
    staged = Staged()
    try:
        for target, text in staged_files:
            staged.add(target, text, project.annotations)
        if registry is not None:
            staged.add(project.annotators_registry, dumps_canonical(registry), project.annotations)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    report.files = [str(t) for t, _ in staged_files]
    report.annotator_added = ", ".join(names) if registry is not None else None
    return report


def _read_tasks(project: Project, path: Path, mapping: dict[str, str], annotator: str, scheme: Scheme,
                report: ForeignReport, problems: list[str]) -> list[tuple[Path, dict[str, Any], str]]:
    """Each submitted annotation of the export on a corpus document, converted: ``(target file,
    annotation, where)``; counts and what was left out go to ``report``, conversion problems to
    ``problems``."""
    docs = {load_json(p)["text_sha256"]: p for p in sorted(project.corpus.glob("kb-*.json"))}
    planned: list[tuple[Path, dict[str, Any], str]] = []
    used: dict[str, int] = {}  # doc id -> annotation files planned for it
    for n, task in enumerate(_tasks(path)):
        report.tasks += 1
        text = (task.get("data") or {}).get("text") if isinstance(task.get("data"), dict) else None
        where = f"{path.name}: task {task.get('id', n)}"
        doc_path = docs.get(text_sha256(text)) if isinstance(text, str) else None
        if doc_path is None:
            report.unmatched.append(f"{where}: " + ("no data.text" if not isinstance(text, str) else
                                                     f"no corpus document has this text ({len(text)} characters)"))
            continue
        doc = load_json(doc_path)
        submitted = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        for k, ann in enumerate(submitted):
            report.annotations += 1
            here = f"{where}, annotation {ann.get('id', k)}"
            if not isinstance(ann.get("result"), list):
                problems.append(f"{here}: result is {type(ann.get('result')).__name__}, not a list")
                continue
            # one file per annotation: the second on the same document (another task of the same text, or
            # a second annotator) is <annotator>-2, and so on
            used[doc["id"]] = used.get(doc["id"], 0) + 1
            name = annotator if used[doc["id"]] == 1 else f"{annotator}-{used[doc['id']]}"
            try:
                items, warns = results_to_annotation(_mapped(ann["result"], mapping, scheme, report.unmapped), doc["text"],
                                                     scheme, here)
            except ConversionError as err:
                problems.extend(err.problems)
                continue
            report.warnings.extend(warns + _dedupe(items, here))
            report.entities += len(items["entities"])
            planned.append((project.annotator_file(doc["id"], name), _file(doc, name, path, mapping, task, ann, items), here))
    return planned


def _dedupe(items: dict[str, list[Any]], here: str) -> list[str]:
    """Keep one of several entities with the same span and type (the gate refuses duplicates);
    returns a warning per one left out."""
    seen: dict[tuple[int, int, str], str] = {}
    kept, said = [], []
    for e in items["entities"]:
        key = (e["start"], e["end"], e["type"])
        if key in seen:
            said.append(f"{here}: entity {e['id']} repeats {seen[key]} (same span and type): kept once")
            continue
        seen[key] = e["id"]
        kept.append(e)
    items["entities"] = kept
    return said


def _hint(report: ForeignReport) -> str:
    labels = sorted(k[len("label "):] for k in report.unmapped if k.startswith("label "))
    if labels:
        return ("map each label to a Wojood type, e.g. " + " ".join(f"--map {lab}=TYPE" for lab in labels[:3])
                + "; or --skip-unmapped to leave them out")
    if report.unmatched:
        return "put each task's text in seeds/ and run khabar ingest first, or --skip-unmatched to leave those tasks out"
    return "fix the export, or --skip-unmapped / --skip-unmatched to leave those items out"


def _file(doc: dict[str, Any], name: str, path: Path, mapping: dict[str, str], task: dict[str, Any], ann: dict[str, Any],
          items: dict[str, list[Any]]) -> dict[str, Any]:
    """The annotation file (``schema/annotation.schema.json``) of one foreign annotation."""
    tool = f"khabar studio import --map {' '.join(f'{k}={v}' for k, v in sorted(mapping.items()))} {path.name}"
    return {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": name,
            "guidelines_version": None,
            "origin": {"kind": "import", "tool": tool if len(tool) <= 200 else tool[:199] + "…", "version": None,
                       "task_id": task.get("id") if isinstance(task.get("id"), int) else None,
                       "annotation_id": ann.get("id") if isinstance(ann.get("id"), int) else None, "sources": [name]},
            "entities": items["entities"], "claims": [], "stances": []}


def _registry(project: Project, schemas: Schemas, names: list[str], file: str, problems: list[str]) -> dict[str, Any] | None:
    """The registry with each of ``names`` added (None when every one is there already, or none)."""
    path = project.annotators_registry
    registry = load_json(path) if path.is_file() else {}
    missing = [n for n in names if not (isinstance(registry, dict) and n in registry)]
    if not missing:
        return None
    entry = {"kind": "human", "reviewed_by_human": False,
             "description": f"The annotators of a Label Studio export of another project ({file.replace('@', '')[:200]}), imported "
                            "with `khabar studio import --map`; who they were is not recorded; not reviewed by a Khabar annotator."}
    new = {**registry, **{n: entry for n in missing}} if isinstance(registry, dict) else registry
    problems.extend(f"{path}: {p.path[2:] or '$'}: {p.message}" for p in schemas.problems("annotators", new))
    return new

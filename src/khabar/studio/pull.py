"""Pull annotations from Label Studio into ``annotations/<doc_id>/<annotator>.json``.

Every task is read through all pages (case 10), every annotation converted by
:func:`khabar.studio.to_annotation.results_to_annotation` and checked against the schema and the
task's text (offsets are Unicode code points, half-open ``[start, end)``), and written with atomic
writes, only what changed since the last pull. Cancelled (skipped) annotations are not taken;
drafts only on request. Annotators get pseudonymous ids (:mod:`khabar.studio.annotators`); no
e-mail address is written.

A pull runs in phases: *collect* (list every task, keep one candidate per file), *decide* (pick
each file's annotation, check the file in the way), *convert* (results -> a checked annotation),
*write* (all or nothing) and *report* (files whose task or annotation is gone).

Public API: :func:`pull`, :class:`PullReport`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from khabar.core.runlock import remove_stale_temp_files
from khabar.core.checks import check_row
from khabar.core.errors import InputError, StudioError
from khabar.core.jsonio import atomic_write_text, dumps_canonical, load_json, no_interrupts
from khabar.core.project import DRAFT_SUFFIX, Project
from khabar.core.schema import Schemas
from khabar.studio.lock import locked
from khabar.studio.annotators import annotation_user, draft_user, load_annotator_map, pseudonym
from khabar.studio.snapshot import iter_project_tasks
from khabar.studio.client import Studio
from khabar.studio.config import Scheme
from khabar.studio.parse import ConversionError
from khabar.studio.tasks import DEFAULT_TITLE, project_uid, studio_timestamp, task_data_problem
from khabar.studio.to_annotation import results_to_annotation

__all__ = ["pull", "PullReport"]


@dataclass
class PullReport:
    """What a pull did: files written (paths relative to the project root), annotations unchanged
    since the last pull, cancelled (skipped) annotations not taken, drafts, warnings (e.g. UTF-16
    offsets converted) and orphans (files whose task or annotation is gone; kept)."""

    project_id: int = 0
    tasks: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    cancelled: int = 0
    drafts: int = 0
    warnings: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    """One annotation (or draft) of a task that may become a file: the task's id and slimmed data,
    the annotation's id, ``updated_at`` and result (compact JSON text), and the task's revision."""

    task: dict[str, Any]
    item: dict[str, Any]
    draft: bool
    revision: int

    @property
    def where(self) -> str:
        """``task 12 (kb-…), annotation 7``: prefixed to every message about it."""
        kind = "draft" if self.draft else "annotation"
        return f"task {self.task['id']} ({self.task['data']['doc_id']}), {kind} {self.item.get('id')}"


@dataclass
class _Pull:
    """One pull: what it works with, and what it has found so far."""

    project: Project
    studio: Studio
    schemas: Schemas
    scheme: Scheme
    proj: Any
    title: str
    tool: str
    drafts: bool
    report: PullReport
    problems: list[str] = field(default_factory=list)
    corpus_sha: dict[str, str | None] = field(default_factory=dict)
    seen_tasks: set[int] = field(default_factory=set)
    seen_items: set[tuple[bool, Any]] = field(default_factory=set)
    written_ids: dict[Any, Path] = field(default_factory=dict)

    def current_sha(self, doc_id: str) -> str | None:
        """``text_sha256`` of ``corpus/<doc_id>.json`` (read once); None when absent or unreadable."""
        if doc_id not in self.corpus_sha:
            path = self.project.corpus_file(doc_id)
            try:
                doc = load_json(path) if path.exists() else None
            except InputError:
                doc = None
            self.corpus_sha[doc_id] = doc.get("text_sha256") if isinstance(doc, dict) else None
        return self.corpus_sha[doc_id]

    def ours(self, origin: dict[str, Any] | None) -> bool:
        """Whether an annotation file's ``origin`` says it was pulled from this very project."""
        return (origin is not None and origin.get("kind") == "label-studio" and origin.get("project_id") == self.proj.id
                and origin.get("tool") == self.tool)



@locked("khabar studio pull")  # a second run on the same server and project waits (khabar.studio.lock)
def pull(project: Project, studio: Studio, *, title: str = DEFAULT_TITLE, annotator_map: Path | None = None,
         drafts: bool = False, progress: bool = True, snapshot: bool = True) -> PullReport:
    """Read every task and annotation of the project and write annotation files.

    One file per annotator per document: ``annotations/<doc_id>/<annotator>.json``. When an
    annotator has submitted on several tasks of one document (text revisions), the task whose
    text is the corpus's wins, else the highest revision, and the others are reported; several
    submitted annotations of one annotator on one task are an error (delete or skip the extra one).

    Args:
        project: the Khabar project.
        studio: a connection.
        title: the project's title.
        annotator_map: an optional map from e-mail / user id to pseudonym
            (:func:`khabar.studio.annotators.load_annotator_map`); default pseudonyms are ``ls-<user id>``.
        drafts: also write unsubmitted drafts, as ``<annotator>.draft.json`` (a draft that cannot be
            converted is reported and skipped, never blocking the pull).
        progress: show a progress bar.
        snapshot: read the tasks from one export snapshot as a stream, else page through them
            (:func:`khabar.studio.snapshot.iter_project_tasks`).

    Returns:
        A :class:`PullReport`.

    Raises:
        StudioError: no such project; the server is unreachable; the listing is short of its total;
            a file cannot be written (the files written before it are complete and listed).
        ConversionError: every problem of every annotation to be written (task, annotation, region
            named); a file of another project or not from Label Studio in the way. Nothing is written
            then, and ``annotations/`` is as it was.
        InputError: the annotator map is invalid.
    """
    remove_stale_temp_files(project.annotations)  # what a killed pull left beside its targets
    schemas = Schemas(project.schema)
    scheme = Scheme.from_schemas(schemas)
    proj = studio.find_project(title)
    if proj is None:
        raise StudioError(f"no Label Studio project titled {title!r} at {studio.url}",
                          hint="check --project (titles are case-sensitive), or run `khabar studio push` first")
    report = PullReport(project_id=proj.id)
    p = _Pull(project, studio, schemas, scheme, proj, title, f"label-studio project {project_uid(studio, proj)}", drafts, report)
    amap = load_annotator_map(annotator_map)
    emails = studio.users() if amap else {}
    cands: dict[Path, list[_Candidate]] = {}
    for task in tqdm(iter_project_tasks(studio, proj.id, snapshot=snapshot, notes=report.warnings), desc="pull", unit="task",
                     disable=not progress):
        _collect_task(p, task, amap, emails, cands)
    out: dict[Path, str] = {}  # path -> the file's text (canonical JSON), written once every check passed
    for path, group in cands.items():
        chosen = _choose(p, path, group)
        body = _convert(p, path, chosen) if chosen is not None else None
        if body is not None:
            out[path] = body
    if p.problems:
        raise ConversionError(p.problems, hint="fix these in Label Studio (or move the files named) and pull again; nothing was written")
    _write(project, out, report)
    _report_orphans(p)
    return report


# ---------------------------------------------------------------------------------- collect

def _collect_task(p: _Pull, task: dict[str, Any], amap: dict[str, str], emails: dict[int, str],
                  cands: dict[Path, list[_Candidate]]) -> None:
    """Add each annotation (and draft) of ``task`` to the candidates of its file.

    Raises:
        StudioError: the task was listed twice (the listing changed under the pull).
    """
    p.report.tasks += 1
    if task["id"] in p.seen_tasks:
        raise StudioError(f"task {task['id']} was listed twice; retry the pull")
    p.seen_tasks.add(task["id"])
    items = _task_items(p, task)
    if not items:
        return  # nothing to take from this task: its data is not our concern
    data = task.get("data") or {}
    where_t = f"task {task['id']}"
    bad = task_data_problem(data)
    if bad:
        p.problems.append(f"{where_t}: {bad}")
        return
    doc_id = data["doc_id"]
    revision = data.get("revision") if type(data.get("revision")) is int else 0
    for a, is_draft in items:
        uid = annotation_user(a) if not is_draft else draft_user(a, p.studio, emails)
        if uid is None:
            p.problems.append(f"{where_t}: {'draft' if is_draft else 'annotation'} {a.get('id')} names no user id")
            continue
        if is_draft:
            p.report.drafts += 1
        slim = {"id": task["id"], "data": {k: data.get(k) for k in ("doc_id", "text", "text_sha256", "revision", "guidelines_version")}}
        # the result is kept as compact JSON text (a quarter of the memory of the parsed objects)
        item = {"id": a.get("id"), "updated_at": a.get("updated_at"), "result": json.dumps(a.get("result") or [], ensure_ascii=False)}
        group = cands.setdefault(p.project.annotator_file(doc_id, pseudonym(uid, emails, amap), draft=is_draft), [])
        group.append(_Candidate(slim, item, is_draft, revision))
        _keep_only_the_lead(p, group, doc_id)


def _task_items(p: _Pull, task: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """``(annotation, is_draft)`` of ``task`` worth taking: submitted annotations not cancelled,
    and drafts when the pull takes drafts. Every item is remembered as seen (for the orphans
    report) and cancelled annotations are counted."""
    items = [(a, False) for a in task.get("annotations") or [] if isinstance(a, dict)]
    if p.drafts:
        items += [(d, True) for d in task.get("drafts") or [] if isinstance(d, dict)]
    for a, is_draft in items:
        p.seen_items.add((is_draft, a.get("id")))
    p.report.cancelled += sum(1 for a, d in items if not d and a.get("was_cancelled"))
    return [(a, d) for a, d in items if d or not a.get("was_cancelled")]


def _keep_only_the_lead(p: _Pull, group: list[_Candidate], doc_id: str) -> None:
    """Only the candidate leading so far (corpus text first, then revision, then ``updated_at``)
    keeps its text and result: memory stays at one per file."""
    current = p.current_sha(doc_id)
    lead = max(group, key=lambda c: (c.task["data"]["text_sha256"] == current, c.revision, str(c.item.get("updated_at") or "")))
    for c in group:
        if c is not lead:
            c.item.pop("result", None)
            c.task["data"]["text"] = None


# ----------------------------------------------------------------------------------- decide

def _choose(p: _Pull, path: Path, group: list[_Candidate]) -> _Candidate | None:
    """The candidate that becomes ``path``: on the corpus text if any is, else the highest
    revision; the latest ``updated_at`` among equals. The others are reported as warnings; None
    (and a problem) when two submitted annotations tie."""
    doc_id = path.parent.name
    current = p.current_sha(doc_id)
    best = [c for c in group if c.task["data"]["text_sha256"] == current] or group
    top = max(c.revision for c in best)
    best = [c for c in best if c.revision == top]
    chosen = max(best, key=lambda c: str(c.item.get("updated_at") or ""))
    if len(best) > 1 and not chosen.draft:
        p.problems.append(f"{doc_id}: {path.stem} has {len(best)} submitted annotations on the same text "
                          f"({', '.join(c.where for c in best)}); one file per annotator per document: "
                          "delete or skip the extra ones in Label Studio")
        return None
    for c in group:
        if c is not chosen and c not in best:
            p.report.warnings.append(f"{c.where}: not written: {path.stem}'s annotation on "
                                     f"{'the corpus text' if chosen.task['data']['text_sha256'] == current else f'revision {top}'} "
                                     f"({chosen.where}) is taken")
    return chosen


def _origin_of(path: Path) -> dict[str, Any] | None:
    """The ``origin`` object of an existing annotation file (with its ``text_sha256`` as ``_sha``),
    or None when it is not one."""
    try:
        data = load_json(path)
    except InputError:
        return None
    o = data.get("origin") if isinstance(data, dict) else None
    return {**o, "_sha": data.get("text_sha256")} if isinstance(o, dict) else None


def _file_allows(p: _Pull, path: Path, chosen: _Candidate, updated: str | None) -> bool:
    """Whether ``chosen`` is to be converted and written to ``path``: not when a file there is not
    from this project (a problem) or already holds this very annotation (counted unchanged)."""
    if not path.exists():
        return True
    o = _origin_of(path)
    if not p.ours(o):
        what = ("is not an annotation file from Label Studio" if o is None or o.get("kind") != "label-studio"
                else f"came from another project ({o.get('tool')}, id {o.get('project_id')})")
        p.problems.append(f"{path.relative_to(p.project.root)}: it {what}; pulling project {p.proj.id} ({p.title!r}) would "
                          "overwrite it")
        return False
    task, a = chosen.task, chosen.item
    if (o.get("task_id"), o.get("annotation_id"), o.get("updated_at"), o.get("_sha")) == (task["id"], a.get("id"), updated,
                                                                                          task["data"]["text_sha256"]):
        p.report.unchanged += 1
        return False
    return True


# ---------------------------------------------------------------------------------- convert

def _convert(p: _Pull, path: Path, chosen: _Candidate) -> str | None:
    """The text (canonical JSON) of the annotation file ``path`` made from ``chosen``, or None when
    it is not to be written (unchanged, in the way, or not convertible: a problem, or a warning
    for a draft)."""
    task, a = chosen.task, chosen.item
    updated = studio_timestamp(a.get("updated_at"))
    if not chosen.draft:
        p.written_ids[a.get("id")] = path
    if not _file_allows(p, path, chosen, updated):
        return None
    items = _items_of(p, path, chosen)
    if items is None:
        return None
    ann = _annotation(p, path, chosen, items, updated)
    bad = [f"{chosen.where}: {q.path[2:]}{_named(ann, q.path)}: {q.message}" for q in p.schemas.problems("annotation", ann)]
    bad += [f"{chosen.where}: {fld[2:]}{_named(ann, fld)}: {check}: {msg}" for check, fld, msg in check_row(ann, text=task["data"]["text"])]
    if bad and chosen.draft:
        p.report.warnings.append(f"{chosen.where}: draft not written: " + "; ".join(bad))
        return None
    p.problems.extend(bad)
    task["data"]["text"] = None
    return dumps_canonical(ann)


def _items_of(p: _Pull, path: Path, chosen: _Candidate) -> dict[str, list[Any]] | None:
    """``chosen``'s results as schema items (:func:`results_to_annotation`), with its warnings
    reported and a warning when its text is not the corpus's; None when it does not convert."""
    task, a = chosen.task, chosen.item
    try:
        items, warns = results_to_annotation(json.loads(a.pop("result")), task["data"]["text"], p.scheme, chosen.where)
    except ConversionError as err:
        if chosen.draft:
            p.report.warnings.append(f"{chosen.where}: draft not written: " + "; ".join(err.problems))
        else:
            p.problems.extend(err.problems)
        return None
    p.report.warnings.extend(warns)
    doc_id, current = path.parent.name, p.current_sha(path.parent.name)
    if current is None:
        p.report.warnings.append(f"{chosen.where}: {doc_id} is not in corpus/; its annotation is written all the same")
    elif current != task["data"]["text_sha256"]:
        p.report.warnings.append(f"{chosen.where}: made on an older text of {doc_id}; the file is written and is stale")
    return items


def _annotation(p: _Pull, path: Path, chosen: _Candidate, items: dict[str, list[Any]], updated: str | None) -> dict[str, Any]:
    """The annotation file's content (``schema/annotation.schema.json``): ``annotator`` is the file
    stem (``<id>.draft`` for a draft), ``origin.sources`` the annotator id."""
    task, a = chosen.task, chosen.item
    who = path.stem[:-len(DRAFT_SUFFIX)] if chosen.draft else path.stem
    return {"schema_version": "1.0", "doc_id": path.parent.name, "text_sha256": task["data"]["text_sha256"], "annotator": path.stem,
            "guidelines_version": task["data"].get("guidelines_version"),
            "origin": {"kind": "label-studio", "tool": p.tool, "version": p.studio.server_version(),
                       "project_id": p.proj.id, "task_id": task["id"], "annotation_id": a.get("id"), "updated_at": updated,
                       "sources": [who]},
            **items}


def _named(ann: dict[str, Any], path: str) -> str:
    """`` (region c4)`` for a JSON path into an annotation's items; ``""`` for any other path."""
    m = re.match(r"^\$\.(entities|claims|stances)\[(\d+)\]", path)
    if not m:
        return ""
    try:
        return f" (region {ann[m.group(1)][int(m.group(2))]['id']})"
    except (IndexError, KeyError, TypeError):
        return ""


def _write(project: Project, out: dict[Path, str], report: PullReport) -> None:
    """Write every file of ``out`` atomically (no interrupt in between), listing each in the report.

    Raises:
        StudioError: a file cannot be written; the files written before it are complete.
    """
    done = 0
    try:
        with no_interrupts():
            for path, body in out.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(path, body)
                done += 1
                report.written.append(str(path.relative_to(project.root)))
    except OSError as err:
        raise StudioError(f"writing {path.relative_to(project.root)}: {err.strerror or err}; {done} of {len(out)} files were "
                          "written (each complete)", hint="fix the folder (space, permissions) and pull again") from None


def _report_orphans(p: _Pull) -> None:
    """List the files pulled from this project whose task or annotation is gone, or now pulled into another file (kept)."""
    root = p.project.root
    for path in sorted(p.project.annotations.glob("*/*.json")):
        o = _origin_of(path)
        if not o or not p.ours(o):
            continue
        rel, is_draft = str(path.relative_to(root)), path.stem.endswith(DRAFT_SUFFIX)
        if o.get("task_id") not in p.seen_tasks:
            p.report.orphans.append(f"{rel}: its task {o.get('task_id')} is no longer in Label Studio; the file is kept")
        elif (is_draft and p.drafts or not is_draft) and (is_draft, o.get("annotation_id")) not in p.seen_items:
            p.report.orphans.append(f"{rel}: its {'draft' if is_draft else 'annotation'} {o.get('annotation_id')} is no longer in "
                                    "Label Studio (deleted or submitted); the file is kept")
        elif not is_draft and p.written_ids.get(o.get("annotation_id"), path) != path:
            p.report.orphans.append(f"{rel}: its annotation {o.get('annotation_id')} is now pulled as "
                                    f"{p.written_ids[o.get('annotation_id')].relative_to(root)}; the file is kept")

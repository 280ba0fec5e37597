"""Adjudication review in Label Studio: conflicts out as review tasks, the reviewer's annotation
back as ``gold.json``.

``khabar adjudicate`` writes the items the annotators agree on (unanimous or majority) to
``annotations/<doc_id>/gold.json`` and the rest to ``conflicts.json``. :func:`push_review` puts
each document with a ``conflicts.json`` into a review project (same labeling config as the
annotation project) as one task whose predictions are each annotator's version
(``model_version`` = ``annotator <id>``) and the agreed items (``model_version`` = ``agreed``):
the reviewer opens the version closest to right, fixes it and submits. :func:`pull_review` turns
the submitted annotation into ``gold.json`` (``origin.kind`` ``adjudication``, ``origin.sources``
= the annotators whose files were merged, the review task and annotation ids) and removes the
resolved ``conflicts.json``.

A review task is identified by ``data.doc_id``, ``data.text_sha256`` and
``data.conflicts_sha256`` (SHA-256 of the ``conflicts.json`` bytes it was made from): a second
push creates nothing, a re-adjudicated document gets its unreviewed task refreshed, and a review
made on other conflicts, or on another text, is refused at pull.

Public API: :func:`push_review`, :func:`pull_review`, :class:`ReviewPushReport`,
:class:`ReviewPullReport`, :data:`REVIEW_TITLE`, :data:`AGREED`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

from tqdm import tqdm

from khabar.annotate.files import load_checked_annotation
from khabar.core.checks import check_row
from khabar.core.errors import InputError, StaleAnnotationError, StudioError
from khabar.core.jsonio import atomic_write_text, dumps_canonical, load_json, no_interrupts
from khabar.core.project import CONFLICTS, Project
from khabar.core.schema import Schemas
from khabar.studio.lock import locked
from khabar.studio.client import Studio
from khabar.studio.config import Scheme, stance_target_options
from khabar.studio.parse import ConversionError
from khabar.studio.tasks import ensure_project, guidelines_version, project_uid, studio_timestamp, task_data_problem, task_payload
from khabar.studio.to_annotation import results_to_annotation
from khabar.studio.to_results import annotation_to_results

__all__ = ["push_review", "pull_review", "ReviewPushReport", "ReviewPullReport", "REVIEW_TITLE", "AGREED"]

REVIEW_TITLE = "Khabar review"
"""The review project's default title."""
AGREED = "agreed"
"""The model version of the prediction that holds the agreed items (``gold.json``)."""


@dataclass
class ReviewPushReport:
    """What :func:`push_review` did: review tasks created, refreshed with new conflicts, unchanged;
    ``reviewed``: tasks already reviewed on older conflicts (pull them); ``url``: the review
    project's page (no credentials)."""

    project_id: int
    created: int = 0
    refreshed: int = 0
    unchanged: int = 0
    reviewed: list[str] = field(default_factory=list)
    url: str = ""


@dataclass
class ReviewPullReport:
    """What :func:`pull_review` did: tasks read, gold files written (paths relative to the
    project root), unchanged, and ``pending`` review tasks not submitted yet."""

    project_id: int
    tasks: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    pending: int = 0


def _sha_bytes(data: bytes) -> str:
    """SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _conflicts(project: Project, doc_id: str, schemas: Schemas) -> tuple[dict[str, Any], str]:
    """``(conflicts.json as a dict, SHA-256 of its bytes)``.

    Raises:
        InputError: missing, not JSON, invalid against ``schema/conflicts.schema.json``, or of another document.
    """
    path = project.conflicts(doc_id)
    if not path.is_file():
        raise InputError(f"{path}: no conflicts file", hint="run khabar adjudicate first")
    data = load_json(path)
    bad = schemas.problems("conflicts", data)
    if bad:
        raise InputError(f"{path}: {bad[0].path[2:] or '$'}: {bad[0].message}", hint="re-run khabar adjudicate")
    if data["doc_id"] != doc_id:
        raise InputError(f"{path}: holds the conflicts of {data['doc_id']}, not of {doc_id}", hint="re-run khabar adjudicate")
    return data, _sha_bytes(path.read_bytes())


def _review_docs(project: Project, doc_ids: Iterable[str] | None) -> list[str]:
    """The documents to review: ``doc_ids`` (sorted, once each), or every one with a ``conflicts.json``."""
    if doc_ids:
        return sorted(set(doc_ids))
    return sorted(p.parent.name for p in project.annotations.glob(f"kb-*/{CONFLICTS}"))



@locked("khabar studio push-review")  # a second run on the same server and project waits (khabar.studio.lock)
def push_review(project: Project, studio: Studio, *, title: str = REVIEW_TITLE, doc_ids: Iterable[str] | None = None,
                progress: bool = True) -> ReviewPushReport:
    """Create (or refresh) one review task per document with a ``conflicts.json``.

    Args:
        project: the Khabar project.
        studio: a connection (:func:`khabar.studio.client.connect`).
        title: the review project's title (created with the schema's labeling config if missing).
        doc_ids: only these documents (default: every document with a ``conflicts.json``).
        progress: show a progress bar.

    Returns:
        A :class:`ReviewPushReport`.

    Raises:
        InputError: a document, conflicts file or annotator file is missing or invalid;
            ``conflicts.json`` was made on another text than the corpus document's (re-adjudicate).
        StudioError: the server is unreachable or refuses.
    """
    schemas = Schemas(project.schema)
    scheme = Scheme.from_schemas(schemas)
    guidelines = guidelines_version(project)
    # everything is read and checked before the server is touched
    payloads = [_review_task(project, doc_id, schemas, scheme, guidelines) for doc_id in _review_docs(project, doc_ids)]
    proj, _ = ensure_project(studio, schemas, title, update_config=False)
    report = ReviewPushReport(project_id=proj.id, url=f"{studio.url}/projects/{proj.id}")
    existing: dict[str, list[dict[str, Any]]] = {}
    for t in studio.iter_tasks(proj.id):
        d = t.get("data") or {}
        if isinstance(d.get("doc_id"), str):
            existing.setdefault(d["doc_id"], []).append(t)
    new: list[dict[str, Any]] = []
    for p in tqdm(payloads, desc="push review", unit="doc", disable=not progress):
        d = p["data"]
        tasks = [t for t in existing.get(d["doc_id"], []) if (t.get("data") or {}).get("text_sha256") == d["text_sha256"]]
        if any((t["data"].get("conflicts_sha256") == d["conflicts_sha256"]) for t in tasks):
            report.unchanged += 1
            continue
        stale = [t for t in tasks if not (t.get("annotations") or t.get("total_annotations") or t.get("drafts"))]
        if stale:  # an unreviewed task of earlier conflicts: show the new ones instead
            _refresh(studio, stale[0], p)
            report.refreshed += 1
            continue
        report.reviewed.extend(f"{d['doc_id']} (task {t['id']})" for t in tasks)
        new.append(p)
    for i in range(0, len(new), 100):
        studio.import_tasks(proj.id, new[i:i + 100])
    report.created = len(new)
    return report


def _review_task(project: Project, doc_id: str, schemas: Schemas, scheme: Scheme, guidelines: str | None) -> dict[str, Any]:
    """The review task of ``doc_id``: its data (the document, the conflicts' SHA-256, the
    annotators) and a prediction per annotator's file and for the agreed items.

    Raises:
        InputError: as for :func:`push_review`.
    """
    doc = load_json(project.corpus_file(doc_id)) if project.corpus_file(doc_id).is_file() else None
    if doc is None:
        raise InputError(f"{project.corpus_file(doc_id)}: no such corpus document")
    conflicts, csha = _conflicts(project, doc_id, schemas)
    if conflicts.get("text_sha256") != doc["text_sha256"]:
        raise InputError(f"{project.conflicts(doc_id)}: made on text {str(conflicts.get('text_sha256'))[:12]}…, "
                         f"the document's text is now {doc['text_sha256'][:12]}…", hint="re-run khabar adjudicate")
    preds = []
    for name in conflicts["annotators"]:
        try:
            ann = load_checked_annotation(project.annotator_file(doc_id, name), doc, schemas)
        except StaleAnnotationError as err:
            raise InputError(str(err), hint="re-run khabar adjudicate on annotations of the current text") from None
        preds.append({"model_version": f"annotator {name}", "result": annotation_to_results(ann, doc["text"], scheme)})
    if project.gold(doc_id).is_file():
        gold = load_checked_annotation(project.gold(doc_id), doc, schemas)
        preds.append({"model_version": AGREED, "result": annotation_to_results(gold, doc["text"], scheme)})
    n = len(conflicts.get("conflicts") or [])
    data = {**task_payload(doc, guidelines, stance_target_options(schemas, doc_id)), "review": "conflicts", "conflicts_sha256": csha,
            "annotators": list(conflicts["annotators"])}
    data["title_line"] = f"{data['title_line']} · review: {n} conflict{'s' if n != 1 else ''} between {', '.join(conflicts['annotators'])}"
    return {"data": data, "predictions": preds}


def _refresh(studio: Studio, task: dict[str, Any], payload: dict[str, Any]) -> None:
    """Give an unreviewed review task the new conflicts: its old predictions go first, then the
    new data and predictions."""
    studio.delete_predictions(task["id"], [x["id"] for x in task.get("predictions") or [] if isinstance(x, dict) and "id" in x])
    studio.update_task_data(task["id"], payload["data"])
    for pred in payload["predictions"]:
        studio.create_prediction(task["id"], pred["result"], pred["model_version"])


@dataclass
class _Review:
    """One pull of reviews: what it works with, and the problems found so far."""

    project: Project
    studio: Studio
    schemas: Schemas
    scheme: Scheme
    project_id: int
    tool: str
    problems: list[str] = field(default_factory=list)



@locked("khabar studio pull-review")  # a second run on the same server and project waits (khabar.studio.lock)
def pull_review(project: Project, studio: Studio, *, title: str = REVIEW_TITLE, progress: bool = True) -> ReviewPullReport:
    """Write ``gold.json`` from each submitted review and remove the resolved ``conflicts.json``.

    A task is taken when it has exactly one submitted (not cancelled) annotation, its document's
    text is the task's, and the document's ``conflicts.json`` is the one the task was made from.
    A gold file already written from the same task and annotation (same ``updated_at``) is left
    alone.

    Returns:
        A :class:`ReviewPullReport` (``pending`` = review tasks not submitted yet).

    Raises:
        StudioError: no such project; the server is unreachable.
        ConversionError: every problem found (several reviews on one task, a review made on other
            conflicts or another text, a region that does not match the text…); nothing is written.
    """
    schemas = Schemas(project.schema)
    proj = studio.find_project(title)
    if proj is None:
        raise StudioError(f"no Label Studio project titled {title!r} at {studio.url}", hint="run `khabar studio push-review` first")
    rv = _Review(project, studio, schemas, Scheme.from_schemas(schemas), proj.id,
                 f"label-studio review project {project_uid(studio, proj)}")
    report = ReviewPullReport(project_id=proj.id)
    out: list[tuple[str, str]] = []  # (doc_id, gold text)
    for task in tqdm(studio.iter_tasks(proj.id), desc="pull review", unit="task", disable=not progress):
        report.tasks += 1
        subs = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not subs:
            report.pending += 1
            continue
        a = _the_review(rv, task, subs)
        if a is None:
            continue
        doc_id = task["data"]["doc_id"]
        if _gold_is_current(rv, doc_id, task["id"], a):
            report.unchanged += 1
            continue
        gold = _gold(rv, task, a)
        if gold is not None:
            out.append((doc_id, dumps_canonical(gold)))
    if rv.problems:
        raise ConversionError(rv.problems, hint="fix these in Label Studio (or re-adjudicate) and pull again; nothing was written")
    with no_interrupts():
        for doc_id, body in out:
            atomic_write_text(project.gold(doc_id), body)
            project.conflicts(doc_id).unlink(missing_ok=True)
            report.written.append(project.gold(doc_id).relative_to(project.root).as_posix())
    return report


def _the_review(rv: _Review, task: dict[str, Any], subs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one submitted review of a review task; None (and a problem) when the task is not a
    review task or holds several reviews."""
    data = task.get("data") or {}
    where = f"review task {task['id']}"
    bad = task_data_problem(data)
    if bad or not isinstance(data.get("conflicts_sha256"), str):
        rv.problems.append(f"{where}: {bad or 'not a review task (no conflicts_sha256)'}")
        return None
    if len(subs) > 1:
        rv.problems.append(f"{where} ({data['doc_id']}): {len(subs)} submitted reviews; gold needs one (delete or skip the others)")
        return None
    return subs[0]


def _gold_is_current(rv: _Review, doc_id: str, task_id: int, a: dict[str, Any]) -> bool:
    """Whether ``gold.json`` was already written from this review task and annotation (same
    ``updated_at``)."""
    gold_path = rv.project.gold(doc_id)
    if not gold_path.is_file():
        return False
    o = (load_json(gold_path).get("origin") or {})
    return (o.get("tool"), o.get("task_id"), o.get("annotation_id"), o.get("updated_at")) == (
        rv.tool, task_id, a.get("id"), studio_timestamp(a.get("updated_at")))


def _gold(rv: _Review, task: dict[str, Any], a: dict[str, Any]) -> dict[str, Any] | None:
    """The gold annotation made from review ``a`` of ``task``, checked against the schema and the
    corpus text; None (and problems) when the review was made on another text or other conflicts,
    or does not convert or check."""
    data = task["data"]
    doc_id, where, project = data["doc_id"], f"review task {task['id']}", rv.project
    doc = load_json(project.corpus_file(doc_id)) if project.corpus_file(doc_id).is_file() else None
    if doc is None or doc["text_sha256"] != data["text_sha256"]:
        rv.problems.append(f"{where} ({doc_id}): reviewed on a text that is not the corpus document's; re-adjudicate and push the review again")
        return None
    cpath = project.conflicts(doc_id)
    if not cpath.is_file() or _sha_bytes(cpath.read_bytes()) != data["conflicts_sha256"]:
        rv.problems.append(f"{where} ({doc_id}): reviewed conflicts that are no longer {cpath.relative_to(project.root)} "
                           "(re-adjudicated since the push, or resolved already); push the review again")
        return None
    try:
        items, _ = results_to_annotation(a.get("result") or [], doc["text"], rv.scheme, f"{where}, annotation {a.get('id')}")
    except ConversionError as err:
        rv.problems.extend(err.problems)
        return None
    gold = {"schema_version": "1.0", "doc_id": doc_id, "text_sha256": doc["text_sha256"], "annotator": "gold",
            "guidelines_version": data.get("guidelines_version"),
            "origin": {"kind": "adjudication", "tool": rv.tool, "version": rv.studio.server_version(), "project_id": rv.project_id,
                       "task_id": task["id"], "annotation_id": a.get("id"), "updated_at": studio_timestamp(a.get("updated_at")),
                       "sources": sorted(str(x) for x in data.get("annotators") or [])},
            **items}
    bad = [f"{where}: {p.path[2:]}: {p.message}" for p in rv.schemas.problems("annotation", gold)]
    bad += [f"{where}: {f[2:]}: {c}: {m}" for c, f, m in check_row(gold, text=doc["text"])]
    if bad:
        rv.problems.extend(bad)
        return None
    return gold

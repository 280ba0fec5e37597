"""Push the corpus to Label Studio: one task per document version.

A task is identified by ``data.doc_id`` and ``data.text_sha256`` and looked up before anything
is created, so a second push creates no task (case 09). Pre-annotations
(``annotations/<doc_id>/preannotator.json``) go in as predictions (``model_version`` =
pre-annotator name and version). A document whose text changed under existing annotations is
reported, never silently replaced. Offsets are pushed as Unicode code points, half-open
``[start, end)`` (:mod:`khabar.studio.to_results`).

Public API: :func:`push`, :class:`PushReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from tqdm import tqdm

from khabar.annotate.files import load_checked_annotation
from khabar.core.errors import StudioError, StaleAnnotationError
from khabar.core.ids import text_sha256
from khabar.core.jsonio import load_json
from khabar.core.project import PREANNOTATOR, Project
from khabar.core.schema import Schemas
from khabar.studio.lock import locked, settle_tasks
from khabar.studio.client import Studio
from khabar.studio.config import Scheme, stance_target_options
from khabar.studio.tasks import DEFAULT_TITLE, ensure_project, guidelines_version, result_key, task_payload
from khabar.studio.to_results import annotation_to_results

__all__ = ["push", "PushReport"]

_PREANNOTATOR = PREANNOTATOR.removesuffix(".json")  # the model version of a pre-annotation that names no tool


@dataclass
class PushReport:
    """What a push (or an import, :func:`khabar.studio.transfer.import_export`) did: counts of
    tasks, predictions and annotations; lists of doc ids (``changed``: text changed under
    annotations, left as it was; ``duplicates``: several tasks for one text; ``edited``: text
    edited in Label Studio under annotations). ``url`` is the project's page (no credentials)."""

    project_id: int = 0
    created: int = 0
    unchanged: int = 0
    updated: int = 0
    revisions: int = 0
    predictions: int = 0
    annotations: int = 0
    changed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    config_updated: bool = False
    predictions_dropped: int = 0
    url: str = ""


@dataclass
class _TaskSummary:
    """What push needs of an existing task (not its text, predictions or results: memory stays
    small for large projects)."""

    id: int
    sha: str | None
    text_ok: bool
    model_versions: set[str]
    prediction_ids: list[int]
    annotation_keys: set[str]
    annotated: bool

    @classmethod
    def of(cls, t: dict[str, Any]) -> "_TaskSummary":
        """The summary of a listed task (a dict of :meth:`Studio.iter_tasks`)."""
        d = t.get("data") or {}
        preds = [p for p in t.get("predictions") or [] if isinstance(p, dict)]
        anns = [a for a in t.get("annotations") or [] if isinstance(a, dict)]
        return cls(id=t["id"], sha=d.get("text_sha256"),
                   text_ok=isinstance(d.get("text"), str) and text_sha256(d["text"]) == d.get("text_sha256"),
                   model_versions={str(p.get("model_version")) for p in preds},
                   prediction_ids=[p["id"] for p in preds if "id" in p],
                   annotation_keys={result_key(a.get("result") or []) for a in anns if not a.get("was_cancelled")},
                   annotated=bool(anns or t.get("total_annotations") or t.get("drafts")))


@dataclass
class _Offer:
    """What push offers for one document: its task data, its pre-annotation as results (with the
    model version) and the results of the annotation files to import."""

    data: dict[str, Any]
    prediction: list[dict[str, Any]] | None
    model_version: str | None
    annotations: list[list[dict[str, Any]]]

    def payload(self) -> dict[str, Any]:
        """The task to import: ``data``, and ``predictions``/``annotations`` when there are any."""
        payload: dict[str, Any] = {"data": self.data}
        if self.prediction is not None:
            payload["predictions"] = [{"model_version": self.model_version, "result": self.prediction}]
        if self.annotations:
            payload["annotations"] = [{"result": r} for r in self.annotations]
        return payload



@locked("khabar studio push")  # a second run on the same server and project waits (khabar.studio.lock)
def push(project: Project, studio: Studio, *, title: str = DEFAULT_TITLE, update_config: bool = False,
         predictions: bool = True, annotations: Iterable[str] = (), add_revisions: bool = False, batch: int = 500,
         progress: bool = True, docs: Iterable[dict[str, Any]] | None = None) -> PushReport:
    """Create or update the project and import every corpus document as a task.

    Args:
        project: the Khabar project.
        studio: a connection (:func:`khabar.studio.client.connect`).
        title: the project's title (it is looked up by title).
        update_config: replace a labeling config that differs from the schema's.
        predictions: add ``annotations/<doc_id>/preannotator.json`` as a prediction.
        annotations: annotator names (e.g. ``["gold"]``) whose files are imported as annotations
            (by the connecting user); an identical annotation already on the task is not added again.
        add_revisions: when a document's text changed and its task has annotations, add a task for
            the new version (the old one keeps its annotations) instead of reporting it.
        batch: tasks per import request.
        progress: show a progress bar.
        docs: documents to push instead of the whole corpus (used by tests and benchmarks).

    Offsets are pushed as Unicode code points: the 1.23.2 UI places pre-loaded regions by code
    point (UTF-16 offsets would be highlighted shifted after an emoji; tests/test_studio_browser.py).

    Returns:
        A :class:`PushReport`.

    Raises:
        StudioError: the server is unreachable or refuses; the labeling config differs.
        InputError: a pre-annotation or annotation file is invalid (named).
    """
    schemas = Schemas(project.schema)
    scheme = Scheme.from_schemas(schemas)
    proj, cfg_updated = ensure_project(studio, schemas, title, update_config)
    report = PushReport(project_id=proj.id, config_updated=cfg_updated, url=f"{studio.url}/projects/{proj.id}")
    existing = _existing_tasks(studio, proj.id, progress)
    guidelines = guidelines_version(project)
    queue: list[dict[str, Any]] = []
    made: list[int] = []
    docs, total = _documents(project, docs)
    for doc in tqdm(docs, total=total, desc="push", unit="doc", disable=not progress):
        offer = _offer(project, doc, schemas, scheme, guidelines, predictions, annotations)
        if not _needs_new_task(studio, existing.get(doc["id"], []), doc, offer, add_revisions, report):
            continue
        payload = offer.payload()
        report.predictions += len(payload.get("predictions", []))
        report.annotations += len(payload.get("annotations", []))
        queue.append(payload)
        if len(queue) >= batch:
            made += _flush(studio, proj.id, queue, report)
    made += _flush(studio, proj.id, queue, report)
    if made:  # a run on another machine may have made tasks for the same texts meanwhile: the older stay
        for attempt in range(5):
            try:
                gone = settle_tasks(studio, list(studio.iter_tasks(proj.id)), set(made))
                break
            except StudioError as err:  # another run deleted its duplicates while this one read: read again
                if "the total changed" not in str(err) or attempt == 4:
                    raise
        report.created -= len(gone)
    return report


def _existing_tasks(studio: Studio, pid: int, progress: bool) -> dict[str, list[_TaskSummary]]:
    """The tasks of project ``pid`` that name a ``doc_id``, summarised, by doc id."""
    existing: dict[str, list[_TaskSummary]] = {}
    for t in tqdm(studio.iter_tasks(pid), desc="reading tasks", unit="task", disable=not progress, leave=False):
        d = t.get("data") or {}
        if isinstance(d.get("doc_id"), str):
            existing.setdefault(d["doc_id"], []).append(_TaskSummary.of(t))
    return existing


def _documents(project: Project, docs: Iterable[dict[str, Any]] | None) -> tuple[Iterable[dict[str, Any]], int]:
    """``(documents, how many)``: ``docs`` as given, or every ``corpus/kb-*.json`` read lazily
    (one document in memory at a time)."""
    if docs is None:
        paths = sorted(project.corpus.glob("kb-*.json"))
        return (load_json(p) for p in paths), len(paths)
    docs = list(docs)
    return docs, len(docs)


def _annotation_file(path: Path, doc: dict[str, Any], schemas: Schemas) -> dict[str, Any] | None:
    """The annotation file ``path`` checked against ``doc``; None when absent or stale (made on
    another text version: never pushed onto this one).

    Raises:
        InputError: the file is invalid (named).
    """
    if not path.exists():
        return None
    try:
        return load_checked_annotation(path, doc, schemas)
    except StaleAnnotationError:
        return None


def _offer(project: Project, doc: dict[str, Any], schemas: Schemas, scheme: Scheme, guidelines: str | None,
           predictions: bool, annotations: Iterable[str]) -> _Offer:
    """Read what push offers for ``doc``: its pre-annotation (when ``predictions``) and the files
    of the annotators named in ``annotations``, as Label Studio results."""
    pre = _annotation_file(project.preannotator_file(doc["id"]), doc, schemas) if predictions else None
    model_version = f"{pre['origin'].get('tool') or _PREANNOTATOR} {pre['origin'].get('version') or ''}".strip() if pre else None
    pre_result = annotation_to_results(pre, doc["text"], scheme) if pre else None
    anns = []
    for name in annotations:
        a = _annotation_file(project.annotator_file(doc["id"], name), doc, schemas)
        if a is not None:
            anns.append(annotation_to_results(a, doc["text"], scheme))
    return _Offer(task_payload(doc, guidelines, stance_target_options(schemas, doc["id"])), pre_result, model_version, anns)


def _needs_new_task(studio: Studio, tasks: list[_TaskSummary], doc: dict[str, Any], offer: _Offer, add_revisions: bool,
                    report: PushReport) -> bool:
    """Decide what to do with ``doc`` given its existing ``tasks``, and do it unless a new task is
    needed: complete a task of the same text, refresh an unannotated task of an older text, or
    report (``edited``, ``changed``). True when ``offer`` must be imported as a new task."""
    same = [t for t in tasks if t.sha == doc["text_sha256"] and t.text_ok]
    others = [t for t in tasks if t not in same]  # another text, or a text edited in Label Studio
    if len(same) > 1:
        report.duplicates.append(doc["id"])
    if same:
        _complete_task(studio, same[0], offer, report)
        return False
    if not others:
        return True
    latest = max(others, key=lambda t: t.id)  # the text changed since the push (or was edited in Label Studio)
    if latest.annotated and latest.sha == doc["text_sha256"]:  # edited in Label Studio, not in corpus/
        report.edited.append(f"{doc['id']} (task {latest.id})")
        return False
    if latest.annotated:
        if not add_revisions:
            report.changed.append(doc["id"])
            return False
        report.revisions += 1
        return True
    _refresh_task(studio, latest, offer, report)
    return False


def _complete_task(studio: Studio, task: _TaskSummary, offer: _Offer, report: PushReport) -> None:
    """A task of the same text exists: add the prediction if its model version is not there yet,
    and each offered annotation whose content is not there yet."""
    report.unchanged += 1
    if offer.prediction is not None and offer.model_version not in task.model_versions:
        studio.create_prediction(task.id, offer.prediction, offer.model_version)
        report.predictions += 1
    for res in offer.annotations:
        if result_key(res) not in task.annotation_keys:
            studio.create_annotation(task.id, res)
            report.annotations += 1


def _refresh_task(studio: Studio, task: _TaskSummary, offer: _Offer, report: PushReport) -> None:
    """An unannotated task of an older text: give it the new text, prediction and annotations.
    Predictions of the old text go first, so an interrupted update leaves none stale."""
    studio.delete_predictions(task.id, task.prediction_ids)
    studio.update_task_data(task.id, offer.data)
    if offer.prediction is not None:
        studio.create_prediction(task.id, offer.prediction, offer.model_version)
        report.predictions += 1
    for res in offer.annotations:
        studio.create_annotation(task.id, res)
        report.annotations += 1
    report.updated += 1


def _flush(studio: Studio, pid: int, queue: list[dict[str, Any]], report: PushReport) -> list[int]:
    """Import the queued tasks into project ``pid`` in one request, count them, empty the queue;
    returns the new tasks' ids."""
    if not queue:
        return []
    ids = studio.import_tasks(pid, queue)
    report.created += len(queue)
    queue.clear()
    return ids

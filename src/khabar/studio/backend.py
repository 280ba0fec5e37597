"""A Label Studio ML backend: what the server asks, and Khabar's answers (no HTTP here; the
server is :mod:`khabar.studio.backend_app`, the connection to a project :mod:`khabar.studio.connect`).

Label Studio 1.23.2 (``label_studio/ml/api_connector.py``, ``ml/models.py``) calls a backend at:

===================  ===================================================================================
``GET /health``      before every prediction (``MLBackend.update_state``); any 200 JSON answer is "up".
``POST /setup``      right after; ``{"project", "schema" (the labeling config), "hostname",
                     "access_token", "extra_params"}``; the answer's ``model_version`` becomes the
                     backend's model version (``auto_update``).
``POST /predict``    ``{"tasks": [task, …], "project", "label_config", "params"}``; Label Studio reads
                     ``{"results": [one prediction per task, in order]}``, each ``{"result": […],
                     "score": …, "model_version": …}`` (``_get_predictions_from_ml_backend``); a list
                     of another length is dropped or retried one task at a time.
``POST /webhook``    project events, sent because connecting a backend adds a webhook to
                     ``<url>/webhook`` for all actions (``create_ml_webhook``): ``ANNOTATION_CREATED``,
                     ``ANNOTATION_UPDATED`` (``{"action", "annotation", "task", "project"}``),
                     ``ANNOTATIONS_CREATED`` (lists) …; and ``{"action": "START_TRAINING", "project"}``
                     every N submitted annotations when the project's ``min_annotations_to_start_training``
                     is N (``tasks/models.py`` ``update_ml_backend`` -> ``MLApi.train``).
``POST /train``      the same request from servers without that feature flag (``{"annotations", …}``).
``GET /versions``    ``{"versions": [...]}`` for the model-version menu.
===================  ===================================================================================

Khabar's answers: every task gets a prediction; a task without a usable text, or one the model
fails on, gets an empty one (``{"result": [], "score": 0, …}``), never an error. Annotation events
are appended to ``received.jsonl`` (one JSON line each); ``START_TRAINING`` (and ``/train``) calls
the ``retrain`` function, if any, in a background thread, whose answer becomes the model version.

Offsets in results are Unicode code points, half-open ``[start, end)`` into the task's text
(what Label Studio 1.23.2's UI uses; see :mod:`khabar.studio.to_results`).

Public API: :class:`Backend`, :class:`BadRequest`, :func:`preannotator_annotate`,
:data:`PREANNOTATOR_VERSION`, :data:`TEXT_KEY`, :data:`MODEL_CLASS`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree as ET

from khabar.annotate.preannotate import TOOL, VERSION, preannotate
from khabar.core.checks import check_row
from khabar.core.errors import InputError
from khabar.core.ids import text_sha256
from khabar.core.project import BACKEND_RECEIVED
from khabar.studio.config import Scheme
from khabar.studio.to_results import annotation_to_results

__all__ = ["Backend", "BadRequest", "preannotator_annotate", "PREANNOTATOR_VERSION", "TEXT_KEY", "MODEL_CLASS"]

log = logging.getLogger(__name__)

PREANNOTATOR_VERSION = f"{TOOL} {VERSION}"
"""The model version of the gazetteer pre-annotator when it serves as the backend's model
(``"<tool> <version>"``, as ``studio push`` names the predictions of ``preannotator.json``)."""
TEXT_KEY = "text"
"""The task data key of the document text (``$text`` in :func:`khabar.studio.config.labeling_config`)."""
MODEL_CLASS = "khabar"
"""What ``/health`` names as the model class."""
_ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")
_TRAIN_EVENT = "START_TRAINING"

Annotate = Callable[[dict[str, Any]], dict[str, Any]]
Retrain = Callable[[list[dict[str, Any]]], str]


class BadRequest(ValueError):
    """A request Khabar cannot answer: ``str(err)`` is one line, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def preannotator_annotate(doc: dict[str, Any]) -> dict[str, Any]:
    """:func:`khabar.annotate.preannotate.preannotate` for a document known only by its text.

    Args:
        doc: ``{"id": str | None, "text": str, "sentences": [{"start", "end"}] | None}``; missing
            sentences are found with the corpus's segmenter (:func:`khabar.ingest.segment.sentences`),
            so a corpus document's text gives its corpus sentences.

    Returns:
        An annotation (``schema/annotation.schema.json``; ``doc_id`` is ``doc["id"]``), spans in
        code points, half-open, into ``doc["text"]``.
    """
    text = doc["text"]
    sents = doc.get("sentences")
    if sents is None:
        sents = _sentences(text)
    return preannotate({"id": doc.get("id"), "text": text, "text_sha256": text_sha256(text), "sentences": sents})


def _sentences(text: str) -> list[dict[str, int]]:
    """``[{"start", "end"}]``: the sentences of ``text`` as the corpus cuts them
    (:func:`khabar.ingest.segment.sentences`), so a corpus document's text gives its corpus sentences."""
    from khabar.ingest.segment import sentences

    return [{"start": s, "end": e} for s, e in sentences(text)]


def _labels_tags(schema: str) -> set[str] | None:
    """The names of the tags of a labeling config (XML) that regions and choices use; None when
    ``schema`` is not XML (then nothing is checked)."""
    try:
        root = ET.fromstring(schema)
    except (ET.ParseError, ValueError):  # not XML, or a lone surrogate that cannot be encoded
        return None
    return {el.get("name") or "" for el in root.iter() if el.tag in ("Labels", "Choices")}


class Backend:
    """The answers of Khabar's ML backend (thread-safe: the HTTP server calls it from many threads).

    Args:
        annotate: ``annotate(doc) -> annotation``; ``doc`` is ``{"id": str | None, "text": str,
            "sentences": [{"start", "end"}]}`` (``id`` = the task's ``data.doc_id`` when it is a
            string; sentences as the corpus cuts them, :func:`khabar.ingest.segment.sentences`);
            the annotation is shaped like :func:`khabar.annotate.preannotate.preannotate`'s output
            (``entities``, ``claims``, ``stances``, offsets in code points). Called one task at a time.
        model_version: the version stated in every prediction and in ``/setup``.
        scheme: the project's :class:`~khabar.studio.config.Scheme` (tags, labels, relations).
        folder: where ``received.jsonl`` is written (created on the first event).
        retrain: optional ``retrain(records) -> new model_version``, given every annotation received
            so far (:meth:`received`); called on ``START_TRAINING`` and ``/train`` in a background
            thread, never twice at once. Predictions go on meanwhile with the old model, so
            ``retrain`` must swap the model ``annotate`` uses only once it is ready.
    """

    def __init__(self, annotate: Annotate, model_version: str, scheme: Scheme, folder: str | Path,
                 retrain: Retrain | None = None):
        self._annotate = annotate
        self._version = model_version
        self.scheme = scheme
        self.folder = Path(folder)
        self.retrain = retrain
        self._lock = threading.Lock()          # model version, received.jsonl
        self._model_lock = threading.Lock()    # one annotate at a time (a model need not be thread-safe)
        self._training: threading.Thread | None = None

    @property
    def model_version(self) -> str:
        """The current model version (changes when a retraining finishes)."""
        with self._lock:
            return self._version

    @property
    def received_path(self) -> Path:
        """``<folder>/received.jsonl``."""
        return self.folder / BACKEND_RECEIVED

    def health(self) -> dict[str, Any]:
        """``GET /health`` and ``GET /``: ``{"status": "UP", "model_class": "khabar", "model_version", "training"}``."""
        return {"status": "UP", "model_class": MODEL_CLASS, "model_version": self.model_version, "training": self.training}

    def setup(self, payload: Any) -> dict[str, Any]:
        """``POST /setup``: ``{"model_version": …}``.

        Raises:
            BadRequest: (422) the labeling config sent as ``schema`` lacks a tag the results use
                (not a Khabar project); a config that is not XML, or none, is not checked.
        """
        if not isinstance(payload, dict):
            raise BadRequest("the body must be a JSON object")
        schema = payload.get("schema")
        tags = _labels_tags(schema) if isinstance(schema, str) and schema.strip() else None
        if tags is not None:
            s = self.scheme
            missing = sorted((s.entity_tags | s.attribution_tags | s.stance_tags | set(s.choices)) - tags)
            if missing:
                raise BadRequest(f"the project's labeling config lacks the tag(s) {', '.join(missing)} that Khabar's "
                                 "predictions use (generate it with `khabar studio config`)", status=422)
        return {"model_version": self.model_version}

    def versions(self) -> dict[str, Any]:
        """``GET /versions``: ``{"versions": [model_version]}``."""
        return {"versions": [self.model_version]}

    def predict(self, payload: Any) -> dict[str, Any]:
        """``POST /predict``: one prediction per task, in the order of ``payload["tasks"]``.

        Returns:
            ``{"results": [{"result": [...], "score": float | None, "model_version": str}, …],
            "model_version": str}``.

        Raises:
            BadRequest: the body is not an object with a ``tasks`` list.
        """
        if not isinstance(payload, dict) or not isinstance(payload.get("tasks"), list):
            raise BadRequest('the body must be a JSON object with a "tasks" list')
        version = self.model_version
        return {"results": [self.predict_task(t, version) for t in payload["tasks"]], "model_version": version}

    def predict_task(self, task: Any, version: str | None = None) -> dict[str, Any]:
        """The prediction for one Label Studio task (``{"id", "data": {"text", …}}``).

        Returns:
            ``{"result": [...], "score": …, "model_version": …}``; the result list is empty (score 0)
            when the task has no non-empty string ``data.text`` or the model fails on it (logged in
            one line naming the task).
        """
        version = version or self.model_version
        empty = {"result": [], "score": 0, "model_version": version}
        data = task.get("data") if isinstance(task, dict) else None
        tid = task.get("id") if isinstance(task, dict) else None
        text = data.get(TEXT_KEY) if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            log.info("task %s: no text in data.%s; empty prediction", tid, TEXT_KEY)
            return empty
        doc_id = data.get("doc_id")
        try:
            doc = {"id": doc_id if isinstance(doc_id, str) else None, "text": text, "sentences": _sentences(text)}
            with self._model_lock:
                ann = self._annotate(doc)
            result = self._results(ann, text)
        except Exception as err:  # a model's failure is that task's empty prediction, never an error page
            log.warning("task %s: the model failed (%s); empty prediction", tid, _one_line(err))
            return empty
        score = ann.get("score")
        return {"result": result, "score": score if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
                "model_version": version}

    def _results(self, ann: Any, text: str) -> list[dict[str, Any]]:
        """Label Studio results of annotation ``ann`` over ``text`` (:func:`annotation_to_results`),
        after checking every span and reference against the text.

        Raises:
            InputError: not an annotation, or a span or reference problem (the first, with its check id).
        """
        if not isinstance(ann, dict) or not all(isinstance(ann.get(k), list) for k in ("entities", "claims", "stances")):
            raise InputError("the model's answer is not an annotation (entities, claims and stances lists)")
        problems = check_row(ann, text=text)
        if problems:
            check, field, message = problems[0]
            raise InputError(f"{field}: {check}: {message} ({len(problems)} problem(s))")
        return annotation_to_results(ann, text, self.scheme)

    # -- webhooks and training
    def webhook(self, payload: Any) -> dict[str, Any]:
        """``POST /webhook``: record annotation events, start a retraining on ``START_TRAINING``.

        Returns:
            ``{"status": "recorded", "records": n}``, ``{"status": "training"|"busy"|"ignored", …}``.

        Raises:
            BadRequest: the body is not an object with an ``action`` string.
            OSError: ``received.jsonl`` cannot be written.
        """
        if not isinstance(payload, dict) or not isinstance(payload.get("action"), str):
            raise BadRequest('the body must be a JSON object with an "action" string')
        action = payload["action"]
        if action in _ANNOTATION_EVENTS:
            records = _records(payload)
            self._append(records)
            for r in records:
                log.info("%s: task %s, annotation %s, %d result(s)", action, r["task"], r["annotation"], r["results"])
            return {"status": "recorded", "records": len(records)}
        if action == _TRAIN_EVENT:
            return self.start_training()
        return {"status": "ignored", "action": action}

    def train(self, payload: Any) -> dict[str, Any]:
        """``POST /train`` (servers without webhook training): like ``START_TRAINING``.

        Raises:
            BadRequest: the body is not a JSON object.
        """
        if not isinstance(payload, dict):
            raise BadRequest("the body must be a JSON object")
        return self.start_training()

    @property
    def training(self) -> bool:
        """Whether a retraining is running."""
        t = self._training
        return t is not None and t.is_alive()

    def start_training(self) -> dict[str, Any]:
        """Start ``retrain`` on :meth:`received` in a background thread (Label Studio waits about a
        second for a webhook's answer), unless one runs or there is no ``retrain``.

        Returns:
            ``{"status": "training"}``, ``{"status": "busy"}`` or ``{"status": "ignored", "reason": …}``.
        """
        if self.retrain is None:
            return {"status": "ignored", "reason": "this backend has no retrain function"}
        with self._lock:
            if self._training is not None and self._training.is_alive():
                return {"status": "busy"}
            self._training = threading.Thread(target=self._retrain, name="khabar-retrain", daemon=True)
            self._training.start()
        return {"status": "training"}

    def wait_training(self, timeout: float | None = None) -> bool:
        """Wait for a running retraining; True when none runs any more."""
        t = self._training
        if t is not None:
            t.join(timeout)
        return not self.training

    def _retrain(self) -> None:
        """Run ``retrain`` and adopt the version it returns (a failure keeps the old one, logged)."""
        assert self.retrain is not None
        try:
            records = self.received()
            version = self.retrain(records)
            if not isinstance(version, str) or not version:
                raise ValueError(f"retrain returned {version!r}, not a model version")
        except Exception as err:  # the server goes on with the old model
            log.error("retraining failed (%s); model version stays %s", _one_line(err), self.model_version)
            return
        with self._lock:
            self._version = version
        log.info("retrained on %d annotation(s): model version %s", len(records), version)

    def _append(self, records: list[dict[str, Any]]) -> None:
        """Append ``records`` to ``received.jsonl``, one line each, in one write."""
        if not records:
            return
        # ASCII escapes: a lone surrogate sent in ("\\ud800") is kept as its escape, never a failure
        lines = "".join(json.dumps(r, ensure_ascii=True, sort_keys=True) + "\n" for r in records)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.received_path, "a", encoding="utf-8") as fh:
                fh.write(lines)
                fh.flush()

    def received(self) -> list[dict[str, Any]]:
        """The annotations received so far (``received.jsonl``): the latest record of each
        annotation id, skipped (cancelled) ones left out, in the order first received. Unreadable
        lines (a write cut short) are skipped with a warning."""
        latest: dict[Any, dict[str, Any]] = {}
        try:
            with self._lock:
                lines = self.received_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for n, line in enumerate(lines, 1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: not JSON; skipped", self.received_path, n)
                continue
            if isinstance(rec, dict) and _is_id(rec.get("annotation")):
                latest[rec["annotation"]] = rec
        return [r for r in latest.values() if not r.get("was_cancelled")]


def _one_line(err: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters), for a log line."""
    msg = str(err).strip().splitlines()
    return f"{type(err).__name__}: {msg[0][:200]}" if msg else type(err).__name__


def _is_id(value: Any) -> bool:
    """A Label Studio id: an int (not a bool) or a string."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per annotation of an annotation event: ``received_at`` (UTC, ISO 8601), ``action``,
    ``project``, ``task``, ``doc_id``, ``text_sha256``, ``annotation``, ``results`` (how many),
    ``was_cancelled``, ``completed_by`` (a user id; never an e-mail), ``updated_at`` and ``result``."""
    anns, tasks = payload.get("annotation"), payload.get("task")
    anns = anns if isinstance(anns, list) else [anns]
    tasks = tasks if isinstance(tasks, list) else [tasks]
    by_id = {t["id"]: t for t in tasks if isinstance(t, dict) and _is_id(t.get("id"))}
    project = payload.get("project")
    pid = project.get("id") if isinstance(project, dict) else project
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = []
    for a in anns:
        if not isinstance(a, dict):
            continue
        if not _is_id(a.get("id")):
            raise BadRequest(f"annotation id {str(a.get('id'))[:40]!r} is not a number or a string")
        tid = a.get("task") if not isinstance(a.get("task"), dict) else a["task"].get("id")
        tid = tid if _is_id(tid) else None
        task = by_id.get(tid) or (tasks[0] if len(tasks) == 1 and isinstance(tasks[0], dict) else {})
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        result = a.get("result") if isinstance(a.get("result"), list) else []
        who = a.get("completed_by")
        out.append({"received_at": now, "action": payload["action"], "project": pid, "task": tid if tid is not None else (task.get("id") if _is_id(task.get("id")) else None),
                    "doc_id": data.get("doc_id"), "text_sha256": data.get("text_sha256"), "annotation": a.get("id"),
                    "results": len(result), "was_cancelled": bool(a.get("was_cancelled")),
                    "completed_by": who if isinstance(who, int) else None, "updated_at": a.get("updated_at"), "result": result})
    return out

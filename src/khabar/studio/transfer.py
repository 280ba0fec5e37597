"""Re-import a Label Studio JSON export (the full format) into a project, without duplicates.

An export's task is the same as a project's task when ``data.doc_id`` and ``data.text_sha256``
agree; an annotation already on the task (same id, or same annotator and result) is not added
again (case 09). JSON-MIN, CSV and other formats are refused: they drop relations and region ids.

Public API: :func:`import_export` (an export already read), :func:`import_export_file` (an
export file, as ``khabar studio import`` gives it). Both return a
:class:`khabar.studio.push.PushReport`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm import tqdm

from khabar.core.errors import InputError, KhabarError
from khabar.core.jsonio import load_json
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.studio.lock import locked
from khabar.studio.annotators import annotation_user
from khabar.studio.client import Studio, connect
from khabar.studio.parse import refuse_json_min
from khabar.studio.push import PushReport
from khabar.studio.config import stance_target_options
from khabar.studio.tasks import DEFAULT_TITLE, ensure_project, result_key, task_data_problem

__all__ = ["import_export", "import_export_file"]


def import_export_file(project: Project, path: Path, studio: Studio | None = None, *, title: str = DEFAULT_TITLE,
                       as_me: bool = False, progress: bool = True) -> PushReport:
    """Read the Label Studio export at ``path`` and re-import it (:func:`import_export`).

    The file is read before the server is contacted; ``studio`` defaults to
    :func:`khabar.studio.client.connect` (``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``).

    Raises:
        KhabarError: ``path`` is not a readable JSON file (with a hint to export the full JSON format).
        InputError, StudioError: as for :func:`import_export`; the server cannot be reached.
    """
    try:
        data = load_json(path)
    except KhabarError as err:
        raise KhabarError(f"{path}: not a Label Studio JSON export ({err})",
                          hint="export the project as JSON (the full format); CSV, TSV, JSON-MIN and CoNLL exports drop "
                               "relations and region ids") from None
    return import_export(project, studio or connect(), data, source=str(path), title=title, as_me=as_me, progress=progress)



@locked("khabar studio import")  # a second run on the same server and project waits (khabar.studio.lock)
def import_export(project: Project, studio: Studio, export: Any, *, source: str, title: str = DEFAULT_TITLE,
                  update_config: bool = False, as_me: bool = False, progress: bool = True) -> PushReport:
    """Re-import a Label Studio JSON export (the full format) into the project without duplicates.

    A task of the export is the same as a task of the project when ``data.doc_id`` and
    ``data.text_sha256`` agree. An exported annotation is added unless the task already holds it:
    the same annotation id (a re-import into its own project), or the same annotator with the
    same result (case 09: a re-import never creates a second, unannotated task and never fails on
    a duplicate annotation). Annotations keep their annotator (``completed_by``), which must be a
    user of this server unless ``as_me`` (then they are made by the connecting user). Tasks not
    in the project are created with their annotations; exports list predictions by id only, so
    predictions are not carried over (counted in ``predictions_dropped``). Cancelled annotations
    are not imported.

    Args:
        export: the parsed export (a list of tasks).
        source: names the export in messages (its file name).

    Raises:
        InputError: JSON-MIN or another format, an empty export; a task without
            ``doc_id``/``text``/``text_sha256``, or whose text does not match its ``text_sha256``;
            annotators that are not users of this server (all named; nothing is created).
        StudioError: as for :func:`khabar.studio.push.push`.
    """
    _check_export(export, source)
    _check_users(studio, export, source, as_me)
    schemas = Schemas(project.schema)
    proj, cfg_updated = ensure_project(studio, schemas, title, update_config)
    report = PushReport(project_id=proj.id, config_updated=cfg_updated, url=f"{studio.url}/projects/{proj.id}")
    existing = _existing_tasks(studio, proj.id)
    queue: dict[tuple[str, str], dict[str, Any]] = {}
    for t in tqdm(export, desc="import", unit="task", disable=not progress):
        _merge_task(studio, t, existing, queue, as_me, report)
    payloads = [{k: v for k, v in p.items() if v or k == "data"} for p in queue.values()]
    for p in payloads:  # exports made before the registry lack the targets the config's $stance_targets needs
        p["data"] = {**p["data"], "stance_targets": p["data"].get("stance_targets") or stance_target_options(schemas, p["data"]["doc_id"])}
    for i in range(0, len(payloads), 500):
        studio.import_tasks(proj.id, payloads[i:i + 500])
    report.created = len(payloads)
    return report


def _check_export(export: Any, source: str) -> None:
    """Refuse what is not a full JSON export of Khabar tasks, naming every bad task.

    Raises:
        InputError: JSON-MIN, not a list, empty; tasks with bad data, annotations or predictions.
    """
    refuse_json_min(export, source)
    if not isinstance(export, list):
        raise InputError(f"{source}: a Label Studio JSON export is a list of tasks, got {type(export).__name__}")
    if not export:
        raise InputError(f"{source}: the export holds no task")
    problems = []
    for i, t in enumerate(export):
        here = f"{source}: task [{i}] (id {t.get('id') if isinstance(t, dict) else '?'})"
        bad = task_data_problem(t.get("data") if isinstance(t, dict) else None)
        if bad:
            problems.append(f"{here}: {bad}")
            if not isinstance(t, dict):
                continue
        for key in ("annotations", "predictions"):
            v = t.get(key, [])
            if not isinstance(v, list):
                problems.append(f"{here}: {key} is {type(v).__name__}, not a list")
            elif key == "annotations" and not all(isinstance(a, dict) and isinstance(a.get("result", []), list) for a in v):
                problems.append(f"{here}: every annotation must be an object with a result list")
    if problems:
        raise InputError("\n".join(problems))


def _check_users(studio: Studio, export: list[dict[str, Any]], source: str, as_me: bool) -> None:
    """Unless ``as_me``, every annotator of a taken annotation must be a user of this server.

    Raises:
        InputError: naming the unknown user ids.
    """
    wanted = {u for t in export for a in t.get("annotations") or [] if not a.get("was_cancelled")
              for u in [annotation_user(a)] if u is not None}
    if wanted and not as_me:
        unknown = sorted(wanted - set(studio.users()))
        if unknown:
            raise InputError(f"{source}: annotations by user id(s) {unknown}, who are not users of {studio.url}",
                             hint="invite them first (ids must match), or pass --as-me to import their annotations as yours")


def _existing_tasks(studio: Studio, pid: int) -> dict[tuple[str, str], dict[str, Any]]:
    """The tasks of project ``pid`` by ``(doc_id, text_sha256)``: ``id``, the ids of their
    annotations (``ids``) and ``(annotator, result key)`` of those not cancelled (``keys``)."""
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    for t in studio.iter_tasks(pid):
        d = t.get("data") or {}
        anns = [a for a in t.get("annotations") or [] if isinstance(a, dict)]
        existing.setdefault((d.get("doc_id"), d.get("text_sha256")), {
            "id": t["id"], "ids": {a.get("id") for a in anns},
            "keys": {(annotation_user(a), result_key(a.get("result") or [])) for a in anns if not a.get("was_cancelled")}})
    return existing


def _merge_task(studio: Studio, t: dict[str, Any], existing: dict[tuple[str, str], dict[str, Any]],
                queue: dict[tuple[str, str], dict[str, Any]], as_me: bool, report: PushReport) -> None:
    """Bring one exported task in: its new annotations go onto the matching task (created on the
    server at once) or into the queued payload of a new task (an export may list one task twice:
    merged); a new task also takes the export's predictions that carry a result."""
    anns = [a for a in t.get("annotations") or [] if not a.get("was_cancelled")]
    report.predictions_dropped += sum(1 for p in t.get("predictions") or [] if not isinstance(p, dict))
    key = (t["data"]["doc_id"], t["data"]["text_sha256"])
    match = existing.get(key)
    if match is None:  # a new task
        payload = queue.setdefault(key, {"data": t["data"], "annotations": [], "predictions": []})
        match = existing[key] = {"id": None, "ids": set(), "keys": set(), "payload": payload}
    for a in anns:
        who = studio.user_id if as_me or annotation_user(a) is None else annotation_user(a)
        k = (who, result_key(a.get("result") or []))
        if k in match["keys"] or (match["id"] is not None and a.get("id") in match["ids"]):
            continue
        match["keys"].add(k)
        if match["id"] is None:
            match["payload"]["annotations"].append({"result": a.get("result") or [], "completed_by": who})
        else:
            studio.create_annotation(match["id"], a.get("result") or [], completed_by=who)
        report.annotations += 1
    if match["id"] is None:
        match["payload"]["predictions"] += [{"model_version": p.get("model_version"), "result": p["result"]}
                                            for p in t.get("predictions") or []
                                            if isinstance(p, dict) and isinstance(p.get("result"), list)]
    else:
        report.unchanged += 1

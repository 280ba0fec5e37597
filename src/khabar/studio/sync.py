"""Push the corpus to Label Studio and pull annotations back.

Data flows one way: ``corpus/`` (+ pre-annotations) -> Label Studio tasks -> ``annotations/``.

* :func:`push` — one task per document version, identified by ``data.doc_id`` and
  ``data.text_sha256`` and looked up before anything is created, so a second push creates no task
  (case 09). Pre-annotations go in as predictions (``model_version`` = pre-annotator name and
  version). A document whose text changed under existing annotations is reported, never silently
  replaced.
* :func:`pull` — every task through all pages (case 10), every annotation converted by
  :mod:`khabar.studio.results` and checked, written to ``annotations/<doc_id>/<annotator>.json``
  (atomic writes; only what changed since the last pull). Cancelled (skipped) annotations are not
  taken; drafts only on request. Annotators get pseudonymous ids (``ls-<user id>`` or an
  annotator map); no e-mail address is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from tqdm import tqdm

from khabar.annotate.files import load_checked_annotation
from khabar.core.checks import check_row
from khabar.core.ids import is_doc_id, text_sha256 as _sha
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.jsonio import atomic_write_text, dumps_canonical, load_json, no_interrupts
from khabar.core.project import Project
from khabar.core.schema import Schemas
from .client import Studio
from .config import Scheme, labeling_config, same_config
from .results import ConversionError, annotation_to_results, refuse_json_min, results_to_annotation
from khabar.core.errors import StudioError

__all__ = ["push", "pull", "import_export", "PushReport", "PullReport", "task_payload", "DEFAULT_TITLE", "load_annotator_map"]

DEFAULT_TITLE = "Khabar"
PREANNOTATOR = "preannotator"
_ANNOTATOR_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_RESERVED = {"gold", PREANNOTATOR}


@dataclass
class PushReport:
    """What a push did. Lists hold doc ids (``changed``: text changed under annotations, left as it was)."""

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


@dataclass
class PullReport:
    """What a pull did: files written, annotations unchanged since the last pull, cancelled
    (skipped) annotations not taken, drafts, warnings (e.g. UTF-16 offsets converted)."""

    project_id: int = 0
    tasks: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    cancelled: int = 0
    drafts: int = 0
    warnings: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def _task_data_problem(data: Any) -> str | None:
    """Why a task's ``data`` is not a Khabar document version (None when it is one): ``doc_id``,
    ``text`` and ``text_sha256`` present, the id a DocId, the text matching its SHA-256."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("doc_id", "text", "text_sha256")):
        return "data lacks doc_id, text or text_sha256 (not a task pushed by khabar)"
    if not is_doc_id(data["doc_id"]):
        return f"data.doc_id {data['doc_id'][:80]!r} is not a Khabar document id (kb- and 16 hex digits)"
    if _sha(data["text"]) != data["text_sha256"]:
        return f"the text of {data['doc_id']} does not match data.text_sha256 (edited in Label Studio?)"
    return None


def _guidelines_version(project: Project) -> str | None:
    path = project.annotations / "GUIDELINES.md"
    if path.exists():
        m = re.search(r"[Vv]ersion:?\**\s*([0-9]+\.[0-9]+(?:\.[0-9]+)?)", path.read_text(encoding="utf-8"))
        return m.group(1) if m else None
    return None


def task_payload(doc: dict[str, Any], guidelines: str | None) -> dict[str, Any]:
    """``task.data`` for a corpus document: the text and what identifies its version.

    Keys: ``text``, ``doc_id``, ``text_sha256``, ``revision``, ``title_line`` (shown above the
    text), ``guidelines_version``.
    """
    return {"text": doc["text"], "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "revision": doc["revision"],
            "title_line": f"{doc['id']} · {doc['title']}" if doc.get("title") else doc["id"],
            "guidelines_version": guidelines}


def ensure_project(studio: Studio, schemas: Schemas, title: str, update_config: bool) -> tuple[Any, bool]:
    """The project titled ``title`` with the schema's labeling config, created if missing.

    Raises:
        StudioError: the project's config differs from the schema's and ``update_config`` is False.
    """
    config = labeling_config(schemas)
    proj = studio.find_project(title)
    if proj is None:
        import secrets

        proj = studio.create_project(title, config, "Khabar: Arabic news annotated with entities, claims and stances "
                                                    f"(labeling config generated from schema/) [khabar:{secrets.token_hex(8)}]")
        return proj, False
    if not same_config(proj.label_config or "", config):
        if not update_config:
            raise StudioError(f"project {proj.id} ({title!r}): its labeling config differs from the one generated from schema/",
                              hint="pass --update-config to replace it; check first that no annotation uses a label the new config drops "
                                   "(Label Studio 1.23.2 does not check; `khabar studio pull` would then refuse those regions)")
        studio.set_config(proj.id, config)
        return proj, True
    return proj, False


_UID = re.compile(r"\[khabar:([0-9a-f]{16})\]")


def project_uid(studio: Studio, proj: Any) -> str:
    """The project's identity across servers: ``[khabar:<16 hex>]`` in its description, added if
    missing. Project, task and annotation ids start again at 1 on every new server data folder, so
    pull records this uid (``origin.tool`` = ``label-studio project <uid>``) and never overwrites a
    file pulled from another project, on this server or another."""
    m = _UID.search(proj.description or "")
    if m:
        return m.group(1)
    import secrets

    uid = secrets.token_hex(8)
    studio.call(f"marking project {proj.id}", studio.sdk.projects.update, id=proj.id,
                description=((proj.description or "") + f" [khabar:{uid}]").strip())
    return uid


def _annotation_file(project: Project, doc: dict[str, Any], name: str, schemas: Schemas) -> dict[str, Any] | None:
    """``annotations/<doc_id>/<name>.json`` checked against ``doc``; None when absent or stale
    (made on another text version: never pushed onto this one)."""
    path = project.annotations / doc["id"] / f"{name}.json"
    if not path.exists():
        return None
    try:
        return load_checked_annotation(path, doc, schemas)
    except StaleAnnotationError:
        return None


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

    Offsets are pushed as Unicode code points: the 1.23.2 UI places pre-loaded regions by code
    point (UTF-16 offsets would be highlighted shifted after an emoji; tests/test_studio_browser.py).
        batch: tasks per import request.
        docs: documents to push instead of the whole corpus (used by tests and benchmarks).

    Returns:
        A :class:`PushReport`.

    Raises:
        StudioError: the server is unreachable or refuses; the labeling config differs.
        InputError: a pre-annotation or annotation file is invalid (named).
    """
    schemas = Schemas(project.schema)
    scheme = Scheme.from_schemas(schemas)
    proj, cfg_updated = ensure_project(studio, schemas, title, update_config)
    report = PushReport(project_id=proj.id, config_updated=cfg_updated)
    existing: dict[str, list[_TaskSummary]] = {}
    for t in tqdm(studio.iter_tasks(proj.id), desc="reading tasks", unit="task", disable=not progress, leave=False):
        d = t.get("data") or {}
        if isinstance(d.get("doc_id"), str):
            existing.setdefault(d["doc_id"], []).append(_TaskSummary.of(t))
    guidelines = _guidelines_version(project)
    queue: list[dict[str, Any]] = []

    def flush() -> None:
        if queue:
            studio.import_tasks(proj.id, queue)
            report.created += len(queue)
            queue.clear()

    if docs is None:
        paths = sorted(project.corpus.glob("kb-*.json"))
        docs, total = (load_json(p) for p in paths), len(paths)  # one document in memory at a time
    else:
        docs = list(docs)
        total = len(docs)
    for doc in tqdm(docs, total=total, desc="push", unit="doc", disable=not progress):
        pre = _annotation_file(project, doc, PREANNOTATOR, schemas) if predictions else None
        model_version = f"{pre['origin'].get('tool') or PREANNOTATOR} {pre['origin'].get('version') or ''}".strip() if pre else None
        pre_result = annotation_to_results(pre, doc["text"], scheme) if pre else None
        anns = []
        for name in annotations:
            a = _annotation_file(project, doc, name, schemas)
            if a is not None:
                anns.append(annotation_to_results(a, doc["text"], scheme))
        tasks = existing.get(doc["id"], [])
        same = [t for t in tasks if t.sha == doc["text_sha256"] and t.text_ok]
        others = [t for t in tasks if t not in same]  # another text, or a text edited in Label Studio
        if len(same) > 1:
            report.duplicates.append(doc["id"])
        if same:
            task = same[0]
            report.unchanged += 1
            if pre_result is not None and model_version not in task.model_versions:
                studio.create_prediction(task.id, pre_result, model_version)
                report.predictions += 1
            for res in anns:
                if _norm_key(res) not in task.annotation_keys:
                    studio.create_annotation(task.id, res)
                    report.annotations += 1
            continue
        payload: dict[str, Any] = {"data": task_payload(doc, guidelines)}
        if pre_result is not None:
            payload["predictions"] = [{"model_version": model_version, "result": pre_result}]
        if anns:
            payload["annotations"] = [{"result": r} for r in anns]
        if others:  # the text changed since the push (or was edited in Label Studio)
            latest = max(others, key=lambda t: t.id)
            if latest.annotated and latest.sha == doc["text_sha256"]:  # edited in Label Studio, not in corpus/
                report.edited.append(f"{doc['id']} (task {latest.id})")
                continue
            if latest.annotated:
                if not add_revisions:
                    report.changed.append(doc["id"])
                    continue
                report.revisions += 1
            else:  # predictions of the old text go first, so an interrupted update leaves none stale
                studio.delete_predictions(latest.id, latest.prediction_ids)
                studio.update_task_data(latest.id, payload["data"])
                if pre_result is not None:
                    studio.create_prediction(latest.id, pre_result, model_version)
                    report.predictions += 1
                for res in anns:
                    studio.create_annotation(latest.id, res)
                    report.annotations += 1
                report.updated += 1
                continue
        report.predictions += len(payload.get("predictions", []))
        report.annotations += len(payload.get("annotations", []))
        queue.append(payload)
        if len(queue) >= batch:
            flush()
    flush()
    return report


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
        d = t.get("data") or {}
        preds = [p for p in t.get("predictions") or [] if isinstance(p, dict)]
        anns = [a for a in t.get("annotations") or [] if isinstance(a, dict)]
        return cls(id=t["id"], sha=d.get("text_sha256"),
                   text_ok=isinstance(d.get("text"), str) and _sha(d["text"]) == d.get("text_sha256"),
                   model_versions={str(p.get("model_version")) for p in preds},
                   prediction_ids=[p["id"] for p in preds if "id" in p],
                   annotation_keys={_norm_key(a.get("result") or []) for a in anns if not a.get("was_cancelled")},
                   annotated=bool(anns or t.get("total_annotations") or t.get("drafts")))


def _norm_key(result: list[dict[str, Any]]) -> str:
    """A short key of a result list's content: order-insensitive, and blind to the keys Label
    Studio adds (``origin``, ``score``…), so the same annotation re-imported has the same key."""
    keep = ("id", "from_name", "to_name", "type", "value", "from_id", "to_id", "labels", "direction")
    items = sorted(json.dumps({k: r.get(k) for k in keep}, sort_keys=True, ensure_ascii=False) for r in result if isinstance(r, dict))
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()


def load_annotator_map(path: Path | None) -> dict[str, str]:
    """An annotator map: JSON object from Label Studio e-mail (or user id) to pseudonymous id.

    Raises:
        InputError: not a JSON object of strings; a pseudonym that is not an AnnotatorId (so never
            an e-mail address), is reserved (``gold``, ``preannotator``), could be taken for a
            default id (``ls-<n>``) or a draft (``*.draft``), or is given to two users.
    """
    if path is None or not Path(path).exists():
        return {}
    data = load_json(path)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(f"{path}: an annotator map is a JSON object from e-mail (or user id) to pseudonymous id")
    seen: dict[str, str] = {}
    for k, v in data.items():
        if not _ANNOTATOR_ID.fullmatch(v) or v in _RESERVED or re.fullmatch(r"ls-[0-9]+", v) or v.endswith(".draft"):
            raise InputError(f"{path}: {v!r} (for one user) is not a usable annotator id: lower-case letters, digits, "
                             f"'_', '.', '-'; not {sorted(_RESERVED)}, not ls-<number> (the default ids), not ending in .draft")
        if v in seen:
            raise InputError(f"{path}: annotator id {v!r} is given to two users")
        seen[v] = k
    return dict(data)


def _pseudonym(user_id: int, emails: dict[int, str], amap: dict[str, str]) -> str:
    if amap:
        for key in (str(user_id), emails.get(user_id, "")):
            if key in amap:
                return amap[key]
    return f"ls-{user_id}"


@dataclass
class _Candidate:
    task: dict[str, Any]
    item: dict[str, Any]
    draft: bool
    revision: int

    @property
    def where(self) -> str:
        kind = "draft" if self.draft else "annotation"
        return f"task {self.task['id']} ({self.task['data']['doc_id']}), {kind} {self.item.get('id')}"


def _origin_of(path: Path) -> dict[str, Any] | None:
    """The ``origin`` object of an existing annotation file, or None when it is not one."""
    try:
        data = load_json(path)
    except InputError:
        return None
    o = data.get("origin") if isinstance(data, dict) else None
    return {**o, "_sha": data.get("text_sha256")} if isinstance(o, dict) else None


def _corpus_sha(project: Project, doc_id: str, cache: dict[str, str | None]) -> str | None:
    if doc_id not in cache:
        path = project.corpus / f"{doc_id}.json"
        try:
            doc = load_json(path) if path.exists() else None
        except InputError:
            doc = None
        cache[doc_id] = doc.get("text_sha256") if isinstance(doc, dict) else None
    return cache[doc_id]


def pull(project: Project, studio: Studio, *, title: str = DEFAULT_TITLE, annotator_map: Path | None = None,
         drafts: bool = False, progress: bool = True) -> PullReport:
    """Read every task and annotation of the project and write annotation files.

    One file per annotator per document: ``annotations/<doc_id>/<annotator>.json``. When an
    annotator has submitted on several tasks of one document (text revisions), the task whose
    text is the corpus's wins, else the highest revision, and the others are reported; several
    submitted annotations of one annotator on one task are an error (delete or skip the extra one).

    Args:
        project: the Khabar project.
        studio: a connection.
        title: the project's title.
        annotator_map: an optional map from e-mail / user id to pseudonym (:func:`load_annotator_map`);
            default pseudonyms are ``ls-<user id>``.
        drafts: also write unsubmitted drafts, as ``<annotator>.draft.json`` (a draft that cannot be
            converted is reported and skipped, never blocking the pull).

    Returns:
        A :class:`PullReport`.

    Raises:
        StudioError: no such project; the server is unreachable; the listing is short of its total;
            a file cannot be written (the files written before it are complete and listed).
        ConversionError: every problem of every annotation to be written (task, annotation, region
            named); a file of another project or not from Label Studio in the way. Nothing is written
            then, and ``annotations/`` is as it was.
    """
    schemas = Schemas(project.schema)
    scheme = Scheme.from_schemas(schemas)
    proj = studio.find_project(title)
    if proj is None:
        raise StudioError(f"no Label Studio project titled {title!r} at {studio.url}",
                          hint="check --project (titles are case-sensitive), or run `khabar studio push` first")
    report = PullReport(project_id=proj.id)
    tool = f"label-studio project {project_uid(studio, proj)}"
    amap = load_annotator_map(annotator_map)
    emails = studio.users() if amap else {}
    problems: list[str] = []
    cands: dict[Path, list[_Candidate]] = {}
    corpus_sha: dict[str, str | None] = {}
    seen_tasks: set[int] = set()
    seen_items: set[tuple[bool, Any]] = set()
    for task in tqdm(studio.iter_tasks(proj.id), desc="pull", unit="task", disable=not progress):
        report.tasks += 1
        if task["id"] in seen_tasks:
            raise StudioError(f"task {task['id']} was listed twice; retry the pull")
        seen_tasks.add(task["id"])
        items = [(a, False) for a in task.get("annotations") or [] if isinstance(a, dict)]
        if drafts:
            items += [(d, True) for d in task.get("drafts") or [] if isinstance(d, dict)]
        for a, is_draft in items:
            seen_items.add((is_draft, a.get("id")))
        report.cancelled += sum(1 for a, d in items if not d and a.get("was_cancelled"))
        items = [(a, d) for a, d in items if d or not a.get("was_cancelled")]
        if not items:
            continue  # nothing to take from this task: its data is not our concern
        data = task.get("data") or {}
        where_t = f"task {task['id']}"
        bad = _task_data_problem(data)
        if bad:
            problems.append(f"{where_t}: {bad}")
            continue
        doc_id = data["doc_id"]
        revision = data.get("revision") if type(data.get("revision")) is int else 0
        for a, is_draft in items:
            uid = _who(a) if not is_draft else _draft_user(a, studio, emails)
            if uid is None:
                problems.append(f"{where_t}: {'draft' if is_draft else 'annotation'} {a.get('id')} names no user id")
                continue
            who = _pseudonym(uid, emails, amap)
            name = f"{who}.draft" if is_draft else who
            if is_draft:
                report.drafts += 1
            slim = {"id": task["id"], "data": {k: data.get(k) for k in ("doc_id", "text", "text_sha256", "revision", "guidelines_version")}}
            # the result is kept as compact JSON text (a quarter of the memory of the parsed objects)
            item = {"id": a.get("id"), "updated_at": a.get("updated_at"), "result": json.dumps(a.get("result") or [], ensure_ascii=False)}
            group = cands.setdefault(project.annotations / doc_id / f"{name}.json", [])
            group.append(_Candidate(slim, item, is_draft, revision))
            # only the leading candidate keeps its text and result: memory stays at one per file
            current = _corpus_sha(project, doc_id, corpus_sha)
            lead = max(group, key=lambda c: (c.task["data"]["text_sha256"] == current, c.revision, str(c.item.get("updated_at") or "")))
            for c in group:
                if c is not lead:
                    c.item.pop("result", None)
                    c.task["data"]["text"] = None
    out: dict[Path, str] = {}  # path -> the file's text (canonical JSON), written once every check passed
    written_ids: dict[Any, Path] = {}
    for path, group in cands.items():
        doc_id = path.parent.name
        current = _corpus_sha(project, doc_id, corpus_sha)
        best = [c for c in group if c.task["data"]["text_sha256"] == current] or group
        top = max(c.revision for c in best)
        best = [c for c in best if c.revision == top]
        chosen = max(best, key=lambda c: str(c.item.get("updated_at") or ""))
        if len(best) > 1 and not chosen.draft:
            problems.append(f"{doc_id}: {path.stem} has {len(best)} submitted annotations on the same text "
                            f"({', '.join(c.where for c in best)}); one file per annotator per document: "
                            "delete or skip the extra ones in Label Studio")
            continue
        for c in group:
            if c is not chosen and c not in best:
                report.warnings.append(f"{c.where}: not written: {path.stem}'s annotation on "
                                       f"{'the corpus text' if chosen.task['data']['text_sha256'] == current else f'revision {top}'} "
                                       f"({chosen.where}) is taken")
        task, a = chosen.task, chosen.item
        sha, text = task["data"]["text_sha256"], task["data"]["text"]
        updated = _ts(a.get("updated_at"))
        if not chosen.draft:
            written_ids[a.get("id")] = path
        if path.exists():
            o = _origin_of(path)
            if o is None or o.get("kind") != "label-studio" or o.get("project_id") != proj.id or o.get("tool") != tool:
                what = ("is not an annotation file from Label Studio" if o is None or o.get("kind") != "label-studio"
                        else f"came from another project ({o.get('tool')}, id {o.get('project_id')})")
                problems.append(f"{path.relative_to(project.root)}: it {what}; pulling project {proj.id} ({title!r}) would "
                                "overwrite it")
                continue
            if (o.get("task_id"), o.get("annotation_id"), o.get("updated_at"), o.get("_sha")) == (task["id"], a.get("id"), updated, sha):
                report.unchanged += 1
                continue
        try:
            items_, warns = results_to_annotation(json.loads(a.pop("result")), text, scheme, chosen.where)
        except ConversionError as err:
            if chosen.draft:
                report.warnings.append(f"{chosen.where}: draft not written: " + "; ".join(err.problems))
            else:
                problems.extend(err.problems)
            continue
        report.warnings.extend(warns)
        if current is None:
            report.warnings.append(f"{chosen.where}: {doc_id} is not in corpus/; its annotation is written all the same")
        elif current != sha:
            report.warnings.append(f"{chosen.where}: made on an older text of {doc_id}; the file is written and is stale")
        who = path.stem[:-len(".draft")] if chosen.draft else path.stem
        ann = {"schema_version": "1.0", "doc_id": doc_id, "text_sha256": sha, "annotator": path.stem,
               "guidelines_version": task["data"].get("guidelines_version"),
               "origin": {"kind": "label-studio", "tool": tool, "version": studio.server_version(),
                          "project_id": proj.id, "task_id": task["id"], "annotation_id": a.get("id"), "updated_at": updated,
                          "sources": [who]},
               **items_}
        bad = [f"{chosen.where}: {p.path[2:]}{_named(ann, p.path)}: {p.message}" for p in schemas.problems("annotation", ann)]
        bad += [f"{chosen.where}: {fld[2:]}{_named(ann, fld)}: {check}: {msg}" for check, fld, msg in check_row(ann, text=text)]
        if bad and chosen.draft:
            report.warnings.append(f"{chosen.where}: draft not written: " + "; ".join(bad))
            continue
        problems.extend(bad)
        out[path] = dumps_canonical(ann)
        task["data"]["text"] = None
    if problems:
        raise ConversionError(problems, hint="fix these in Label Studio (or move the files named) and pull again; nothing was written")
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
    for path in sorted(project.annotations.glob("*/*.json")):
        o = _origin_of(path)
        if not o or o.get("kind") != "label-studio" or o.get("project_id") != proj.id or o.get("tool") != tool:
            continue
        rel = str(path.relative_to(project.root))
        is_draft = path.stem.endswith(".draft")
        if o.get("task_id") not in seen_tasks:
            report.orphans.append(f"{rel}: its task {o.get('task_id')} is no longer in Label Studio; the file is kept")
        elif (is_draft and drafts or not is_draft) and (is_draft, o.get("annotation_id")) not in seen_items:
            report.orphans.append(f"{rel}: its {'draft' if is_draft else 'annotation'} {o.get('annotation_id')} is no longer in "
                                  "Label Studio (deleted or submitted); the file is kept")
        elif not is_draft and written_ids.get(o.get("annotation_id"), path) != path:
            report.orphans.append(f"{rel}: its annotation {o.get('annotation_id')} is now pulled as "
                                  f"{written_ids[o.get('annotation_id')].relative_to(project.root)}; the file is kept")
    return report


def _named(ann: dict[str, Any], path: str) -> str:
    """`` (id c4)`` for a JSON path into an annotation's items."""
    m = re.match(r"^\$\.(entities|claims|stances)\[(\d+)\]", path)
    if not m:
        return ""
    try:
        return f" (region {ann[m.group(1)][int(m.group(2))]['id']})"
    except (IndexError, KeyError, TypeError):
        return ""


def _draft_user(d: dict[str, Any], studio: Studio, emails: dict[int, str]) -> int | None:
    """The user id of a draft: Label Studio gives ``user`` as an e-mail and ``created_username``
    as ``"<e-mail>, <id>"``; the e-mail is used only to find the id."""
    if isinstance(d.get("user"), int):
        return d["user"]
    tail = str(d.get("created_username") or "").rsplit(",", 1)[-1].strip()
    if tail.isdigit():
        return int(tail)
    if not emails:
        emails.update(studio.users())
    return next((i for i, e in emails.items() if e == d.get("user")), None)


def _who(a: dict[str, Any]) -> int | None:
    """``completed_by`` of an exported annotation: a user id, or an object with one."""
    c = a.get("completed_by")
    if isinstance(c, dict):
        c = c.get("id")
    return c if type(c) is int else None


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

    Raises:
        InputError: JSON-MIN or another format, an empty export; a task without
            ``doc_id``/``text``/``text_sha256``, or whose text does not match its ``text_sha256``;
            annotators that are not users of this server (all named; nothing is created).
        StudioError: as for :func:`push`.
    """
    refuse_json_min(export, source)
    if not isinstance(export, list):
        raise InputError(f"{source}: a Label Studio JSON export is a list of tasks, got {type(export).__name__}")
    if not export:
        raise InputError(f"{source}: the export holds no task")
    problems = []
    for i, t in enumerate(export):
        here = f"{source}: task [{i}] (id {t.get('id') if isinstance(t, dict) else '?'})"
        bad = _task_data_problem(t.get("data") if isinstance(t, dict) else None)
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
    wanted = {u for t in export for a in t.get("annotations") or [] if not a.get("was_cancelled") for u in [_who(a)] if u is not None}
    if wanted and not as_me:
        unknown = sorted(wanted - set(studio.users()))
        if unknown:
            raise InputError(f"{source}: annotations by user id(s) {unknown}, who are not users of {studio.url}",
                             hint="invite them first (ids must match), or pass --as-me to import their annotations as yours")
    schemas = Schemas(project.schema)
    proj, cfg_updated = ensure_project(studio, schemas, title, update_config)
    report = PushReport(project_id=proj.id, config_updated=cfg_updated)
    me = studio.user_id
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    for t in studio.iter_tasks(proj.id):
        d = t.get("data") or {}
        anns = [a for a in t.get("annotations") or [] if isinstance(a, dict)]
        existing.setdefault((d.get("doc_id"), d.get("text_sha256")), {
            "id": t["id"], "ids": {a.get("id") for a in anns},
            "keys": {(_who(a), _norm_key(a.get("result") or [])) for a in anns if not a.get("was_cancelled")}})
    queue: dict[tuple[str, str], dict[str, Any]] = {}
    for t in tqdm(export, desc="import", unit="task", disable=not progress):
        anns = [a for a in t.get("annotations") or [] if not a.get("was_cancelled")]
        report.predictions_dropped += sum(1 for p in t.get("predictions") or [] if not isinstance(p, dict))
        key = (t["data"]["doc_id"], t["data"]["text_sha256"])
        match = existing.get(key)
        if match is None:  # a new task (an export may list one task twice: merged)
            payload = queue.setdefault(key, {"data": t["data"], "annotations": [], "predictions": []})
            match = existing[key] = {"id": None, "ids": set(), "keys": set(), "payload": payload}
        for a in anns:
            who = me if as_me or _who(a) is None else _who(a)
            k = (who, _norm_key(a.get("result") or []))
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
    payloads = [{k: v for k, v in p.items() if v or k == "data"} for p in queue.values()]
    for i in range(0, len(payloads), 500):
        studio.import_tasks(proj.id, payloads[i:i + 500])
    report.created = len(payloads)
    return report


def _ts(value: Any) -> str | None:
    """Label Studio's ``updated_at`` as the schema's DateTime (``...Z``), or None."""
    if not isinstance(value, str) or not value:
        return None
    return value.replace("+00:00", "Z")

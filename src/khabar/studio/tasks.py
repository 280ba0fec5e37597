"""What push, pull, import and review share about Label Studio projects and tasks.

A Khabar task is one version of one corpus document: its ``data`` holds the text and what
identifies the version (``doc_id``, ``text_sha256``, ``revision``). Projects are found by title
and carry the labeling config generated from ``schema/`` (:mod:`khabar.studio.config`).

Public API:

* :data:`DEFAULT_TITLE` — the annotation project's default title;
* :func:`ensure_project` — the project with the schema's labeling config, created if missing;
* :func:`project_uid` — the project's identity across servers (``[khabar:<16 hex>]``);
* :func:`task_payload` — ``task.data`` for a corpus document;
* :func:`task_data_problem` — why a task's ``data`` is not a Khabar document version;
* :func:`guidelines_version` — the version stated in ``annotations/GUIDELINES.md``;
* :func:`studio_timestamp` — Label Studio's ``updated_at`` as the schema's DateTime;
* :func:`result_key` — a content key of a result list, to spot an annotation already there.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any

from khabar.core.errors import StudioError
from khabar.core.ids import is_doc_id, text_sha256
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.studio.client import Studio
from khabar.studio.config import labeling_config, same_but_style, same_config
from khabar.studio.lock import settle_project

__all__ = ["DEFAULT_TITLE", "ensure_project", "project_uid", "task_payload", "task_data_problem", "guidelines_version",
           "studio_timestamp", "result_key"]

DEFAULT_TITLE = "Khabar"
"""The title of the annotation project when none is given (projects are looked up by title)."""

_UID = re.compile(r"\[khabar:([0-9a-f]{16})\]")
_VERSION = re.compile(r"[Vv]ersion:?\**\s*([0-9]+\.[0-9]+(?:\.[0-9]+)?)")


def ensure_project(studio: Studio, schemas: Schemas, title: str, update_config: bool) -> tuple[Any, bool]:
    """The project titled ``title`` with the schema's labeling config, created if missing (and then
    settled: :func:`khabar.studio.lock.settle_project`, so a race never leaves two).

    Returns:
        ``(project, config_replaced)``: the SDK's project object, and whether its labeling config
        was replaced by the schema's (only with ``update_config``).

    Raises:
        StudioError: the project's config differs from the schema's and ``update_config`` is False;
            the server is unreachable or refuses.
    """
    config = labeling_config(schemas)
    proj = studio.find_project(title, oldest=True)
    if proj is None:
        proj = studio.create_project(title, config, "Khabar: Arabic news annotated with entities, claims and stances "
                                                    f"(labeling config generated from schema/) [khabar:{secrets.token_hex(8)}]")
        proj = settle_project(studio, title, proj)  # a concurrent run on another machine may have made one first
        if same_config(proj.label_config or "", config):
            return proj, False
    if not same_config(proj.label_config or "", config):
        if same_but_style(proj.label_config or "", config):  # e.g. white-space: pre-wrap, added in toolkit 0.5.0
            studio.set_config(proj.id, config)
            return proj, True
        if not update_config:
            raise StudioError(f"project {proj.id} ({title!r}): its labeling config differs from the one generated from schema/",
                              hint="pass --update-config to replace it; check first that no annotation uses a label the new config drops "
                                   "(Label Studio 1.23.2 does not check; `khabar studio pull` would then refuse those regions)")
        studio.set_config(proj.id, config)
        return proj, True
    return proj, False


def project_uid(studio: Studio, proj: Any) -> str:
    """The project's identity across servers: ``[khabar:<16 hex>]`` in its description, added if
    missing. Project, task and annotation ids start again at 1 on every new server data folder, so
    pull records this uid (``origin.tool`` = ``label-studio project <uid>``) and never overwrites a
    file pulled from another project, on this server or another.

    Returns:
        The 16 lower-case hex digits.

    Raises:
        StudioError: the description cannot be updated.
    """
    m = _UID.search(proj.description or "")
    if m:
        return m.group(1)
    uid = secrets.token_hex(8)
    studio.call(f"marking project {proj.id}", studio.sdk.projects.update, id=proj.id,
                description=((proj.description or "") + f" [khabar:{uid}]").strip())
    return uid


def task_payload(doc: dict[str, Any], guidelines: str | None, stance_targets: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """``task.data`` for a corpus document: the text and what identifies its version.

    Args:
        doc: a corpus document (``schema/document.schema.json``).
        guidelines: the guidelines version (:func:`guidelines_version`), or None.
        stance_targets: the stance labels offered on this task
            (:func:`khabar.studio.config.stance_target_options`); none when not given.

    Returns:
        A dict with keys ``text``, ``doc_id``, ``text_sha256``, ``revision``, ``title_line``
        (doc id and title, shown above the text), ``guidelines_version`` and ``stance_targets``.
    """
    return {"text": doc["text"], "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "revision": doc["revision"],
            "title_line": f"{doc['id']} · {doc['title']}" if doc.get("title") else doc["id"],
            "guidelines_version": guidelines, "stance_targets": stance_targets or []}


def task_data_problem(data: Any) -> str | None:
    """Why a task's ``data`` is not a Khabar document version, or None when it is one: ``doc_id``,
    ``text`` and ``text_sha256`` present as strings, the id a DocId, the text matching its SHA-256."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("doc_id", "text", "text_sha256")):
        return "data lacks doc_id, text or text_sha256 (not a task pushed by khabar)"
    if not is_doc_id(data["doc_id"]):
        return f"data.doc_id {data['doc_id'][:80]!r} is not a Khabar document id (kb- and 16 hex digits)"
    if text_sha256(data["text"]) != data["text_sha256"]:
        return f"the text of {data['doc_id']} does not match data.text_sha256 (edited in Label Studio?)"
    return None


def guidelines_version(project: Project) -> str | None:
    """The version the annotation guidelines (``annotations/GUIDELINES.md``) state, e.g. ``"1.2"``
    from a line ``Version: 1.2``; None when the file is missing or states none."""
    path = project.guidelines
    if path.exists():
        m = _VERSION.search(path.read_text(encoding="utf-8"))
        return m.group(1) if m else None
    return None


def studio_timestamp(value: Any) -> str | None:
    """Label Studio's ``updated_at`` (ISO 8601, ``+00:00``) as the schema's DateTime (``...Z``);
    None when missing or not a string."""
    if not isinstance(value, str) or not value:
        return None
    return value.replace("+00:00", "Z")


def result_key(result: list[dict[str, Any]]) -> str:
    """A short key (SHA-256 hex) of a result list's content: order-insensitive, and blind to the
    keys Label Studio adds (``origin``, ``score``…), so the same annotation re-imported has the
    same key."""
    keep = ("id", "from_name", "to_name", "type", "value", "from_id", "to_id", "labels", "direction")
    items = sorted(json.dumps({k: r.get(k) for k in keep}, sort_keys=True, ensure_ascii=False) for r in result if isinstance(r, dict))
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()

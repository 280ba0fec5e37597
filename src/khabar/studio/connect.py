"""Connect Khabar's ML backend (``khabar studio backend``) to a Label Studio project.

What :func:`connect` asks of Label Studio 1.23.2, and why:

1. ``GET /api/ml?project=<id>``: a backend already registered at that URL is reused
   (``PATCH /api/ml/<backend id>``), so connecting twice adds nothing.
2. ``POST /api/ml`` ``{"url", "project", "title", "is_interactive": false}``: the server checks the
   backend at once (``GET /health``, ``POST /setup``; ``ml/serializers.py``), and adds a webhook
   to ``<url>/webhook`` for all of the project's events (``ml/models.py`` ``create_ml_webhook``).
3. ``PATCH /api/projects/<id>`` ``{"evaluate_predictions_automatically": true,
   "show_collab_predictions": true, "model_version": <backend title>}`` (and, when asked,
   ``min_annotations_to_start_training``): opening a task that has no prediction then asks the
   backend (``GET /api/tasks/<id>/``, ``tasks/api.py`` ``TaskAPI.get``), and so does the labeling
   stream (``GET /api/projects/<id>/next``: ``Task.get_predictions_for_prelabeling`` asks when the
   project's ``model_version`` is the backend's title); every N-th submitted annotation sends
   ``START_TRAINING`` to the backend (``tasks/models.py`` ``update_ml_backend``).
4. ``GET /api/webhooks?project=<id>``: whether that webhook exists; if not (deleted, or refused
   when the backend was registered), ``POST /api/webhooks`` ``{"url": "<url>/webhook", "project",
   "send_payload": true, "send_for_all_actions": true}`` as Label Studio would have made it.

A backend on this machine (127.0.0.1) is refused by Label Studio's protection against requests to
local addresses, and its webhook is silently not made: serve Label Studio with
``khabar studio serve --allow-local-ml`` (:func:`khabar.studio.server.server_env`).

Public API: :func:`connect`, :func:`find_project_id`, :class:`ConnectReport`, :data:`DEFAULT_BACKEND_TITLE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from khabar.core.errors import StudioError
from khabar.studio.client import Studio, connect as connect_client

__all__ = ["connect", "find_project_id", "ConnectReport", "DEFAULT_BACKEND_TITLE"]

DEFAULT_BACKEND_TITLE = "Khabar ML backend"
"""The backend's title in Label Studio, which the project's ``model_version`` names to use it."""

_LOCAL_HINT = ("Label Studio refuses backends and webhooks on local addresses unless started with "
               "`khabar studio serve --allow-local-ml` (restart it with that option)")


@dataclass
class ConnectReport:
    """What :func:`connect` did.

    Attributes:
        project_id: the Label Studio project.
        backend_id: the ML backend's id in Label Studio.
        created: whether the backend was registered now (False: it was there, and was updated).
        model_version: the model version the backend reported (``/setup``), as Label Studio stored it.
        state: Label Studio's state of the backend (``Connected``, ``Error`` …).
        webhook: whether the project sends its events to ``<url>/webhook``.
        train_every: ``min_annotations_to_start_training`` as set (None: left as it was).
    """

    project_id: int
    backend_id: int
    created: bool
    model_version: str | None
    state: str | None
    webhook: bool
    train_every: int | None


def find_project_id(studio: Studio, ref: str) -> int:
    """The id of the project titled ``ref``, or of project ``ref`` when it is a number and no
    project has that title.

    Raises:
        StudioError: no such project, or several with that title.
    """
    proj = studio.find_project(ref)
    if proj is not None:
        return proj.id
    if ref.isdigit():
        return studio.get_project(int(ref)).id
    raise StudioError(f"no Label Studio project is titled {ref!r}", hint="push the corpus first (`khabar studio push`), or pass --project <id>")


def _check_url(backend_url: str) -> str:
    """``backend_url`` without a trailing ``/``.

    Raises:
        StudioError: not an http(s) URL with a host.
    """
    url = backend_url.strip().rstrip("/")
    try:
        u = urlparse(url)
        _ = u.port  # a bad port raises ValueError
    except ValueError:
        u = None
    if u is None or u.scheme not in ("http", "https") or not u.hostname or u.username or u.password:
        raise StudioError(f"--url {backend_url!r} is not the http(s) address of the backend", hint="e.g. http://127.0.0.1:9090")
    return url


def _register(studio: Studio, pid: int, url: str, title: str) -> tuple[Any, bool]:
    """The project's backend at ``url``, registered or updated (Label Studio checks it meanwhile).

    Raises:
        StudioError: Label Studio cannot reach the backend, finds no backend there, or refuses a
            local address (with the hint to fix each).
    """
    existing = [b for b in studio.call(f"listing the ML backends of project {pid}", lambda: list(studio.sdk.ml.list(project=pid)))
                if (b.url or "").rstrip("/") == url]
    try:
        if existing:
            b = studio.call(f"updating ML backend {existing[0].id}", studio.sdk.ml.update, id=existing[0].id, url=url,
                            project=pid, title=title, is_interactive=False)
            return b, False
        return studio.call(f"connecting the ML backend at {url} to project {pid}", studio.sdk.ml.create, url=url, project=pid,
                           title=title, is_interactive=False, idempotent=False), True
    except StudioError as err:
        msg = str(err)
        if "was not allowed" in msg or "reserved network address" in msg:
            raise StudioError(f"Label Studio at {studio.url} refused the ML backend at {url}: a local address", hint=_LOCAL_HINT) from None
        hint = "start it first (`khabar studio backend --port …`) and give its address with --url"
        if "health check failed" in msg:
            raise StudioError(f"Label Studio at {studio.url} cannot use the ML backend at {url}: its health check failed "
                              "(nothing answers GET /health there)", hint=hint) from None
        if "valid ML backend" in msg:
            reason = re.search(r"Reason: (.*?)\.\\n", msg)
            raise StudioError(f"Label Studio at {studio.url} cannot use the ML backend at {url}: POST /setup failed"
                              + (f" ({reason.group(1)[:200]})" if reason else ""), hint=hint) from None
        raise


def _ensure_webhook(studio: Studio, pid: int, hook_url: str) -> bool:
    """Whether project ``pid`` sends its events to ``hook_url``; the webhook Label Studio makes
    with a new backend is added when missing (as Label Studio makes it: every action, with payload).
    False when the server refuses it (a local address, see the module docstring)."""
    hooks = studio.call(f"listing the webhooks of project {pid}", lambda: list(studio.sdk.webhooks.list(project=str(pid))))
    if any((h.url or "").rstrip("/") == hook_url and h.is_active is not False for h in hooks):
        return True
    try:
        studio.call(f"adding the webhook {hook_url} to project {pid}", studio.sdk.webhooks.create, url=hook_url, project=pid,
                    send_payload=True, send_for_all_actions=True, idempotent=False)
    except StudioError as err:
        if "HTTP 400" in str(err) or "HTTP 403" in str(err) or "refused" in str(err):
            return False
        raise
    return True


def connect(client_or_url: Studio | str | None, project_id: int, backend_url: str, *, title: str = DEFAULT_BACKEND_TITLE,
            train_every: int | None = None, api_key: str | None = None) -> ConnectReport:
    """Register the ML backend at ``backend_url`` with project ``project_id`` and make the project
    ask it for predictions when a task is opened (steps in the module docstring). Idempotent.

    Args:
        client_or_url: a :class:`~khabar.studio.client.Studio`, or Label Studio's URL (None:
            ``$LABEL_STUDIO_URL``), with ``api_key`` or ``$LABEL_STUDIO_API_KEY``.
        project_id: the project's id.
        backend_url: the backend's address as Label Studio reaches it (``http://127.0.0.1:9090``).
        title: the backend's title; the project's ``model_version`` is set to it.
        train_every: send ``START_TRAINING`` every N submitted annotations (0: never; None: leave
            the project's setting).

    Returns:
        A :class:`ConnectReport`; ``webhook`` False means annotation events will not reach the
        backend (see the module docstring).

    Raises:
        StudioError: the server cannot be reached or refuses; the project does not exist; Label
            Studio cannot use the backend (not running, not a backend, a refused local address).
    """
    studio = client_or_url if isinstance(client_or_url, Studio) else connect_client(client_or_url, api_key)
    url = _check_url(backend_url)
    if train_every is not None and train_every < 0:
        raise StudioError(f"train every {train_every} annotations: give 0 (never) or a positive number")
    studio.get_project(project_id)
    backend, created = _register(studio, project_id, url, title)
    settings: dict[str, Any] = {"evaluate_predictions_automatically": True, "show_collab_predictions": True, "model_version": title}
    if train_every is not None:
        settings["min_annotations_to_start_training"] = train_every
    studio.call(f"setting project {project_id} to ask the ML backend for predictions", studio.sdk.projects.update, id=project_id,
                **settings)
    webhook = _ensure_webhook(studio, project_id, url + "/webhook")
    return ConnectReport(project_id=project_id, backend_id=backend.id, created=created, model_version=backend.model_version,
                         state=getattr(backend, "readable_state", None), webhook=webhook, train_every=train_every)

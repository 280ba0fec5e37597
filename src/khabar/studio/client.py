"""A thin client over ``label-studio-sdk`` (https://github.com/HumanSignal/label-studio-sdk):
connection from the environment, clear errors, and listing that reads every page.

Clients read ``LABEL_STUDIO_URL`` (default ``http://127.0.0.1:8080``) and ``LABEL_STUDIO_API_KEY``.
The key is sent in the ``Authorization`` header only: it never appears in errors, logs or files.

Public API: :func:`connect`, :class:`Studio` (the calls Khabar makes), :func:`paginate`,
:class:`PageNotFound`, :data:`DEFAULT_URL`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlparse

from khabar.core.errors import StudioError

__all__ = ["Studio", "connect", "paginate", "PageNotFound", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:8080"
T = TypeVar("T")


class PageNotFound(Exception):
    """Label Studio answered 404 ``Invalid page.`` (a page past the last one)."""


def paginate(fetch: Callable[[int], tuple[int, list[T]]], what: str) -> Iterator[T]:
    """Every item of a paginated listing, page 1 onwards, until the reported total is reached.

    Args:
        fetch: ``fetch(page) -> (total, items)``; raises :class:`PageNotFound` past the end.
        what: names the listing in errors (``"tasks of project 5"``).

    Rules (HumanSignal/label-studio-sdk#687, ``../shared/cases/10-ls-sdk-list-stops-at-100.json``): go on
    until the number of items equals the total of the first page, not until the first page ends;
    a 404 after the total was reached ends quietly.

    Raises:
        StudioError: the listing ended (404 or an empty page) with fewer items than the total, or
            the total changed while reading; the message gives both numbers.
    """
    page, seen, total = 1, 0, None
    while True:
        try:
            page_total, items = fetch(page)
        except PageNotFound:
            if total is not None and seen >= total:
                return
            raise StudioError(f"{what}: the listing ended at page {page} after {seen} of {total if total is not None else '?'} items",
                              hint="retry; if tasks are being added or deleted, wait until that is done") from None
        if total is None:
            total = page_total
        elif page_total != total:
            raise StudioError(f"{what}: the total changed from {total} to {page_total} while reading page {page}",
                              hint="retry when nobody is adding or deleting tasks")
        yield from items
        seen += len(items)
        if seen >= total:
            if seen > total:
                raise StudioError(f"{what}: read {seen} items but the server reported {total}")
            return
        if not items:
            raise StudioError(f"{what}: page {page} is empty after {seen} of {total} items")
        page += 1


def _describe(err: Exception) -> str:
    """A short account of an SDK error (``HTTP 400: detail``), never its headers or the key."""
    status = getattr(err, "status_code", None)
    body = getattr(err, "body", None)
    detail = ""
    if isinstance(body, dict):
        detail = body.get("detail") or ""
        if body.get("validation_errors"):
            detail += f" {body['validation_errors']}"
    elif body:
        detail = str(body).strip()
        detail = "an HTML page" if detail[:15].lower().startswith(("<!doctype", "<html")) else detail[:200]
    if status == 431:
        detail = "request headers too large (is LABEL_STUDIO_API_KEY a whole file?)"
    if status is not None:
        return f"HTTP {status}{': ' + detail if detail else ''}"
    return f"{type(err).__name__}: {err}"


_KINDS = {"personal": "personal access token", "access": "JWT access token", "legacy": "API key (a legacy token)"}
_MAKE_ONE = ("make a personal access token (in the web page: Account & Settings -> Personal Access Token; for the admin of "
             "`khabar studio serve`: `khabar studio token --out FILE`) and export LABEL_STUDIO_API_KEY=<it>")


def _refused_hint(kind: str, body: str) -> str:
    """What to do when the server refuses a key of ``kind`` (its answer: ``body``)."""
    if kind == "legacy" and "legacy token authentication has been disabled" in body:
        return "this server takes personal access tokens, not legacy ones: " + _MAKE_ONE
    if kind == "legacy":
        return ("check LABEL_STUDIO_API_KEY: a legacy key is the one a server was first started with (`khabar studio serve "
                "--legacy-token`); servers since Label Studio 1.17 take personal access tokens: " + _MAKE_ONE)
    if kind == "access":
        return "an access token lasts minutes: give the personal access token (the refresh token) instead"
    return "the personal access token was revoked, expired, or belongs to another server: " + _MAKE_ONE


@dataclass
class Studio:
    """A connection to one Label Studio server (use :func:`connect`).

    Attributes:
        url: the server's base URL, without credentials (shown in messages and reports).
        sdk: the ``label_studio_sdk.LabelStudio`` client.
        user_id: the id of the user the key belongs to.
    """

    url: str
    sdk: Any
    user_id: int
    retries: int = 3
    key_kind: str = "legacy"  # khabar.studio.tokens.key_kind of the key: personal, access or legacy
    timeout: float = 60.0  # seconds a request may wait for an answer once connected
    budget: float = 3600.0  # seconds the whole command may take
    deadline: float | None = None  # time.monotonic() past which no request is sent

    def call(self, action: str, fn: Callable[..., T], *args: Any, idempotent: bool = True, retry_unreachable: bool = True,
             **kwargs: Any) -> T:
        """Run an SDK call; transport errors are retried (only for ``idempotent`` calls) and every
        failure becomes a :class:`StudioError` naming ``action`` (never the key or headers).

        Args:
            retry_unreachable: also retry ``httpx.ConnectError`` (connection refused, a host name that
                does not resolve). The connect probe turns it off: nothing listens there, and waiting
                would only delay the answer.
        """
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        for attempt in range(self.retries if idempotent else 1):
            if self._out_of_time():
                raise StudioError(f"{action}: this command's time budget of {self.budget:.0f} s at {self.url} ran out; "
                                  "nothing more was sent",
                                  hint="the server is slow: see its log; raise KHABAR_STUDIO_BUDGET (seconds) for a very large "
                                       "project; rerunning is safe (what was done is kept)")
            try:
                return fn(*args, **kwargs)
            except ApiError as err:
                if err.status_code == 404 and "Invalid page" in str(getattr(err, "body", "")):
                    raise PageNotFound() from None
                if err.status_code in (401, 403):
                    raise StudioError(f"{action}: Label Studio at {self.url} refused the {_KINDS[self.key_kind]} ({_describe(err)})",
                                      hint=_refused_hint(self.key_kind, str(getattr(err, "body", "")))) from None
                if err.status_code and err.status_code >= 500 and attempt + 1 < (self.retries if idempotent else 1) \
                        and not self._out_of_time():
                    time.sleep(1.0 * (attempt + 1))
                    continue
                if err.status_code and err.status_code >= 500:
                    raise StudioError(f"{action}: server error at {self.url} ({_describe(err)})",
                                      hint="Label Studio failed on its side: see its log (.labelstudio/server.log for "
                                           "`khabar studio serve`); rerunning is safe") from None
                raise StudioError(f"{action}: {_describe(err)}") from None
            except httpx.LocalProtocolError as err:
                raise StudioError(f"{action}: the request could not be sent ({type(err).__name__})",
                                  hint="check LABEL_STUDIO_API_KEY and LABEL_STUDIO_URL for stray characters") from None
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as err:  # connected, then silence: never retried
                raise StudioError(f"{action}: Label Studio at {self.url} took the connection but gave no answer within "
                                  f"{self.timeout:.0f} s ({type(err).__name__})",
                                  hint="the server is stuck or overloaded: see its log (.labelstudio/server.log for `khabar studio "
                                       "serve`); for a very large project raise KHABAR_STUDIO_TIMEOUT (seconds); rerunning is safe") from None
            except httpx.TransportError as err:
                connect = isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout))
                unreachable = connect and not retry_unreachable
                if not unreachable and attempt + 1 < (self.retries if idempotent else 1) and not self._out_of_time():
                    time.sleep(1.0 * (attempt + 1))
                    continue
                if connect:
                    how = "nothing answered the connection within 10 s" if isinstance(err, httpx.ConnectTimeout) else "connection refused"
                    raise StudioError(f"{action}: cannot connect to Label Studio at {self.url} ({how})",
                                      hint="is it running, at this address? start it with `khabar studio serve`, or check "
                                           "LABEL_STUDIO_URL; a push or pull can be rerun safely") from None
                raise StudioError(f"{action}: the connection to Label Studio at {self.url} broke ({type(err).__name__})",
                                  hint="see the server's log; a push or pull can be rerun safely") from None
        raise AssertionError("unreachable")

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    # -- projects
    def find_project(self, title: str, oldest: bool = False) -> Any | None:
        """The project titled ``title``, or None. Raises StudioError if several have that title,
        unless ``oldest`` (push: concurrent runs settle on the oldest, :mod:`khabar.studio.lock`)."""
        found = [p for p in self.call("listing projects", lambda: list(self.sdk.projects.list(title=title, page_size=100)))
                 if p.title == title]
        if found and oldest:
            return min(found, key=lambda p: p.id)
        if len(found) > 1:
            raise StudioError(f"{len(found)} projects are titled {title!r} (ids {[p.id for p in found]})",
                              hint="rename or delete the extra ones, or pass --project with another title")
        return found[0] if found else None

    def get_project(self, pid: int) -> Any:
        """Project ``pid`` (the SDK's object)."""
        return self.call(f"reading project {pid}", self.sdk.projects.get, id=pid)

    def create_project(self, title: str, label_config: str, description: str) -> Any:
        """Create a project (sent once: never retried) and return it."""
        return self.call(f"creating project {title!r}", self.sdk.projects.create, title=title, label_config=label_config,
                         description=description, idempotent=False)

    def set_config(self, pid: int, label_config: str) -> None:
        """Replace the labeling config of project ``pid``."""
        self.call(f"updating the labeling config of project {pid}", self.sdk.projects.update, id=pid, label_config=label_config)

    # -- tasks
    def iter_tasks(self, pid: int, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every task of project ``pid`` as a plain dict (``id``, ``data``, ``annotations``,
        ``predictions``, ``drafts``), reading all pages (:func:`paginate`)."""
        def fetch(page: int) -> tuple[int, list[dict[str, Any]]]:
            pager = self.call(f"listing tasks of project {pid} (page {page})", self.sdk.tasks.list, project=pid, page=page,
                              page_size=page_size, fields="all")
            tasks = [t.model_dump(mode="json") if hasattr(t, "model_dump") else dict(t) for t in (pager.items or [])]
            return pager.response.total, tasks

        return paginate(fetch, f"tasks of project {pid}")

    def import_tasks(self, pid: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Create tasks (with their predictions and annotations); returns their ids in order."""
        r = self.call(f"importing {len(tasks)} tasks into project {pid}", self.sdk.projects.import_tasks, id=pid,
                      request=tasks, return_task_ids=True, commit_to_project=True, idempotent=False)
        return list(r.task_ids or [])

    def update_task_data(self, task_id: int, data: dict[str, Any]) -> None:
        """Replace the ``data`` of task ``task_id``."""
        self.call(f"updating task {task_id}", self.sdk.tasks.update, id=str(task_id), data=data)

    def delete_predictions(self, task_id: int, prediction_ids: list[int]) -> None:
        """Delete predictions; one already gone (404, e.g. a retried delete) counts as deleted."""
        for pid in prediction_ids:
            try:
                self.call(f"deleting prediction {pid} of task {task_id}", self.sdk.predictions.delete, id=pid)
            except StudioError as err:
                if "HTTP 404" not in str(err):
                    raise

    def create_prediction(self, task_id: int, result: list[dict[str, Any]], model_version: str) -> None:
        """Add a prediction (results, offsets in code points) to task ``task_id`` (sent once)."""
        self.call(f"adding a prediction to task {task_id}", self.sdk.predictions.create, task=task_id, result=result,
                  model_version=model_version, idempotent=False)

    def create_annotation(self, task_id: int, result: list[dict[str, Any]], **kw: Any) -> int:
        """Add an annotation to task ``task_id`` (sent once; ``kw`` e.g. ``completed_by``); returns its id."""
        a = self.call(f"adding an annotation to task {task_id}", self.sdk.annotations.create, id=task_id, result=result,
                      idempotent=False, **kw)
        return a.id

    def server_version(self) -> str | None:
        """The server's Label Studio version (``/api/version``), e.g. ``"1.23.2"``; None if unknown."""
        if not hasattr(self, "_version"):
            try:
                v = self.call("reading the server version", self.sdk.versions.get)
                self._version = getattr(v, "release", None) or (v.get("release") if isinstance(v, dict) else None)
            except StudioError:
                self._version = None
        return self._version

    def users(self) -> dict[int, str]:
        """User id -> e-mail (used only to apply an annotator map; never written)."""
        return {u.id: u.email for u in self.call("listing users", lambda: list(self.sdk.users.list()))}


def _display(url: str) -> str:
    """``url`` without credentials (``http://user:pw@host`` -> ``http://host``), for messages."""
    u = urlparse(url)
    if u.username or u.password:
        host = u.hostname or ""
        return u._replace(netloc=host + (f":{u.port}" if u.port else "")).geturl()
    return url


def checked_url(url: str, name: str = "LABEL_STUDIO_URL") -> str:
    """``url`` as shown in messages (no user name or password), after checking that it is an
    http(s) URL with a valid host and port and no credentials.

    Raises:
        StudioError: it is not (its credentials never shown).
    """
    try:
        shown = _display(url)
        u = urlparse(url)
        u.port
    except ValueError:
        shown = url if "@" not in url else "(a URL with credentials)"
        raise StudioError(f"{name} {shown!r}: its host or port is not valid", hint="e.g. http://127.0.0.1:8080") from None
    if u.username or u.password:
        raise StudioError(f"{name} {shown!r} holds a user name or password; Label Studio takes only the API key",
                          hint=f"drop user:password@ from {name}")
    if u.scheme not in ("http", "https") or not u.hostname or any(ch.isspace() for ch in url):
        raise StudioError(f"{name} {shown!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8080")
    return shown


def seconds_setting(name: str, default: float) -> float:
    """A number of seconds (0.5 to 1,000,000) from environment variable ``name`` (``default`` when unset).

    Raises:
        StudioError: the value is not a positive number.
    """
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.5 <= value <= 1e6:  # also NaN
        raise StudioError(f"{name}={raw!r} is not a number of seconds from 0.5 to 1000000", hint=f"e.g. export {name}={default:.0f}")
    return value


def connect(url: str | None = None, api_key: str | None = None, timeout_s: float | None = None) -> Studio:
    """Connect to Label Studio and check the key.

    Args:
        url: default ``$LABEL_STUDIO_URL``, else ``http://127.0.0.1:8080``.
        api_key: default ``$LABEL_STUDIO_API_KEY``.
        timeout_s: seconds a request may wait for an answer once connected (default
            ``$KHABAR_STUDIO_TIMEOUT``, else 60); connecting may take 10 s. The whole command may
            take ``$KHABAR_STUDIO_BUDGET`` seconds (default 3600): past it no request is sent.

    Failures are told apart: "cannot connect" (refused, or no answer to the connection within
    10 s), "took the connection but gave no answer within N s" (never retried), "server error
    (HTTP 5xx)" (see the server's log).

    The SDK's own retries are switched off: :meth:`Studio.call` retries reads only, so a create
    (an import, an annotation) is never sent twice after a dropped connection.

    Raises:
        StudioError: no key, or a key an HTTP header cannot carry; a malformed URL; the server cannot
            be reached, is not Label Studio, or refuses the key.
    """
    from label_studio_sdk import LabelStudio

    from_env = url is None and not os.environ.get("LABEL_STUDIO_URL")
    url = (url or os.environ.get("LABEL_STUDIO_URL") or DEFAULT_URL).rstrip("/")
    key = api_key if api_key is not None else os.environ.get("LABEL_STUDIO_API_KEY")
    if not key:
        raise StudioError("LABEL_STUDIO_API_KEY is not set", hint=_MAKE_ONE)
    if not key.isascii() or not key.isprintable() or any(ch.isspace() for ch in key):
        raise StudioError("LABEL_STUDIO_API_KEY holds whitespace or non-ASCII characters, which an HTTP header cannot carry",
                          hint="check for a trailing newline or a pasted character")
    shown = checked_url(url)
    from label_studio_sdk.core.api_error import ApiError

    from khabar.studio.tokens import key_kind

    kind = key_kind(key)
    timeout, budget = seconds_setting("KHABAR_STUDIO_TIMEOUT", 60.0), seconds_setting("KHABAR_STUDIO_BUDGET", 3600.0)
    if timeout_s is not None:
        timeout = timeout_s
    import httpx

    http = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=True)
    try:
        sdk = LabelStudio(base_url=url, api_key=key, httpx_client=http, max_retries=0)
    except ApiError as err:  # the SDK checks a JWT's expiry before any request
        raise StudioError(f"LABEL_STUDIO_API_KEY is a {_KINDS[kind]} that cannot be used ({_describe(err)})",
                          hint=_refused_hint(kind, "")) from None
    except Exception:  # noqa: BLE001 - e.g. a JWT whose "exp" is not a number (the SDK's datetime.fromtimestamp fails)
        raise StudioError("LABEL_STUDIO_API_KEY looks like a JWT, but its expiry (exp) is not a time",
                          hint=_refused_hint("personal", "")) from None
    probe = Studio(url=shown, sdk=sdk, user_id=0, key_kind=kind, timeout=timeout, budget=budget,
                   deadline=time.monotonic() + budget)
    try:
        me = probe.call("connecting", sdk.users.whoami, retry_unreachable=False)  # refused or no such host: answer at once
    except StudioError as err:
        msg = str(err)
        if "cannot connect" in msg and from_env:
            raise StudioError(msg + " (LABEL_STUDIO_URL is not set, so the default was tried)",
                              hint="start it with `khabar studio serve`, or export LABEL_STUDIO_URL=http://127.0.0.1:<port>") from None
        if "HTTP 404" in msg or "HTTP 200" in msg or "HTTP 405" in msg:
            raise StudioError(f"{shown} does not answer like Label Studio (no /api/current-user/whoami)",
                              hint="check LABEL_STUDIO_URL: the server's address without a path") from None
        raise
    except Exception as err:  # e.g. httpx.InvalidURL, a non-JSON answer
        raise StudioError(f"connecting to {shown}: {type(err).__name__}: the address or the answer is not Label Studio's",
                          hint="check LABEL_STUDIO_URL") from None
    if not isinstance(getattr(me, "id", None), int):
        raise StudioError(f"{shown} does not answer like Label Studio (whoami gave no user id)", hint="check LABEL_STUDIO_URL")
    probe.user_id = me.id
    return probe

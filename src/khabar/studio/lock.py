"""One push, pull or review at a time per Label Studio project, and no duplicate from a race.

Two ``khabar studio push`` at once used to give every document two tasks, and two first pushes
under a new title two projects of one title (issue 14). Two guards:

* :func:`project_lock`: an exclusive ``fcntl.flock`` on a lock file named by the *server's*
  identity and the project title (``sha256("<scheme>://<host>:<port>" + title)``), in a folder
  shared by every checkout of this user on this machine (``$KHABAR_LOCK_DIR``, default
  ``<tmp>/khabar-locks-<uid>``, mode 0700). A second run waits for the first (up to ``wait``
  seconds, saying so), then works on what the first left. The kernel drops the lock when its
  process dies (``kill -9`` too), so a lock is never stale.
* Settling after create, for runs on two machines (which no file lock reaches): ids grow in
  creation order, so a run that created a project or a task and then finds an older one of the
  same title (or the same document text) deletes its own and uses the older one
  (:func:`settle_project`, :func:`settle_tasks`). Whichever order the two runs interleave in,
  one project and one task per document text remain.

Public API: :func:`project_lock`, :func:`lock_dir`, :func:`settle_project`, :func:`settle_tasks`,
:func:`wait_echo`, :func:`locked`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlparse

from khabar.core.errors import StudioError

__all__ = ["project_lock", "locked", "lock_dir", "settle_project", "settle_tasks", "wait_echo"]


def lock_dir() -> Path:
    """``$KHABAR_LOCK_DIR``, or ``<tmp>/khabar-locks-<uid>`` (created 0700)."""
    env = os.environ.get("KHABAR_LOCK_DIR")
    path = Path(env) if env else Path(tempfile.gettempdir()) / f"khabar-locks-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _server_identity(url: str) -> str:
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    host = (u.hostname or "").lower()
    if host in ("localhost", "::1", "0.0.0.0"):
        host = "127.0.0.1"
    return f"{u.scheme}://{host}:{port}"


@contextlib.contextmanager
def project_lock(url: str, title: str, command: str, wait: float | None = None,
                 echo: Callable[[str], Any] | None = None) -> Iterator[Path]:
    """Hold the lock of project ``title`` on the server at ``url`` for the ``with`` block.

    Args:
        url: the server's base URL (without credentials).
        command: what runs (``khabar studio push``), written into the lock file for the message
            a waiting run prints.
        wait: seconds to wait for another run (default ``$KHABAR_STUDIO_LOCK_WAIT`` or 900).
        echo: prints one line when the run has to wait.

    Yields:
        The lock file's path.

    Raises:
        StudioError: another run still holds the lock after ``wait`` seconds; the lock folder
            cannot be written.
    """
    if wait is None:
        raw = os.environ.get("KHABAR_STUDIO_LOCK_WAIT", "900")
        try:
            wait = float(raw)
        except ValueError:
            wait = -1.0
        if not 0 <= wait <= 1e6:  # also NaN
            raise StudioError(f"KHABAR_STUDIO_LOCK_WAIT={raw!r} is not a number of seconds from 0 to 1000000",
                              hint="e.g. export KHABAR_STUDIO_LOCK_WAIT=900")
    key = hashlib.sha256(f"{_server_identity(url)}\n{title}".encode("utf-8")).hexdigest()[:24]
    try:
        path = lock_dir() / f"studio-{key}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise StudioError(f"cannot make the lock file for project {title!r}: {err.strerror} ({err.filename})",
                          hint="set KHABAR_LOCK_DIR to a folder you can write to") from None
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and echo is not None:
                    echo(f"waiting: {_holder(path)} is working on project {title!r} at {url} …")
                    told = True
                if time.monotonic() > deadline:
                    raise StudioError(f"project {title!r} at {url}: {_holder(path)} still holds the lock after {wait:.0f} s; "
                                      "nothing was done",
                                      hint="wait for it to finish (or stop it), then run this again") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"command": command, "pid": os.getpid(), "host": socket.gethostname(),
                                 "title": title, "since": int(time.time())}).encode("utf-8"))
        yield path
    finally:
        os.close(fd)  # closing drops the lock


def _holder(path: Path) -> str:
    """``khabar studio push (pid 123)`` from the lock file, or ``another run``."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"{info['command']} (pid {int(info['pid'])})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another run"


def settle_project(studio: Any, title: str, mine: Any) -> Any:
    """After creating project ``mine`` titled ``title``: the oldest project of that title. If it is
    not ``mine`` (another run created one first), ``mine`` (new, empty) is deleted.

    Raises:
        StudioError: the server is unreachable or refuses.
    """
    same = [p for p in studio.call("listing projects", lambda: list(studio.sdk.projects.list(title=title, page_size=100)))
            if p.title == title]
    oldest = min(same + [mine], key=lambda p: p.id)
    if oldest.id != mine.id:
        studio.call(f"deleting project {mine.id} (a duplicate of {oldest.id}, made by a concurrent run)",
                    studio.sdk.projects.delete, id=mine.id)
    return oldest


def settle_tasks(studio: Any, tasks: Iterable[dict[str, Any]], mine: set[int]) -> list[int]:
    """Delete each task of ``mine`` (ids this run created) for which an older task holds the same
    document text (``data.doc_id`` and ``data.text_sha256``); ``tasks``: every task of the project,
    read after the import. Returns the ids deleted.

    Raises:
        StudioError: the server is unreachable or refuses.
    """
    oldest: dict[tuple[Any, Any], int] = {}
    ours: list[tuple[tuple[Any, Any], int]] = []
    for t in tasks:
        d = t.get("data") or {}
        key = (d.get("doc_id"), d.get("text_sha256"))
        if not isinstance(key[0], str):
            continue
        oldest[key] = min(oldest.get(key, t["id"]), t["id"])
        if t["id"] in mine:
            ours.append((key, t["id"]))
    gone = []
    for key, tid in ours:
        if oldest[key] != tid:
            try:
                studio.call(f"deleting task {tid} (a duplicate of {oldest[key]}, made by a concurrent run)",
                            studio.sdk.tasks.delete, id=str(tid))
            except StudioError as err:
                if "HTTP 404" not in str(err):
                    raise
            gone.append(tid)
    return gone


def wait_echo(progress: bool) -> Callable[[str], Any] | None:
    """The ``echo`` of :func:`project_lock` for a library call: a line on stderr when ``progress``."""
    if not progress:
        return None

    def echo(line: str) -> None:
        import sys

        print(line, file=sys.stderr, flush=True)
    return echo


def locked(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator: the function (``f(project, studio, ..., title=…, progress=…)``) runs under
    :func:`project_lock` of ``studio.url`` and its ``title`` (its default when not given), so a
    second run of ``command`` on the same server and project waits for the first."""
    import functools
    import inspect

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            a = bound.arguments
            with project_lock(a["studio"].url, a["title"], command, echo=wait_echo(a.get("progress", True))):
                return fn(*args, **kwargs)
        return run
    return wrap

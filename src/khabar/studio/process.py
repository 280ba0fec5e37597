"""The Label Studio server process as :mod:`khabar.studio.server` runs it: set up before it
starts (private files, stopped when its parent dies), its output copied to its log without
e-mail addresses, and what its lock file says about who holds the data folder (issue 14).

Public API: :func:`child_setup`, :func:`copy_redacted`, :func:`make_private`, :func:`lock_info`,
:func:`alive`.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

__all__ = ["child_setup", "copy_redacted", "make_private", "lock_info", "alive"]

_EMAIL = re.compile(r"[^\s@'\"<>()]+@[^\s@'\"<>()]+\.[A-Za-z]{2,}")


def copy_redacted(source: Any, log: Any) -> None:
    """Copy the server's output to its log, line by line, with every e-mail address replaced by
    ``<e-mail>`` (Label Studio prints the admin's on each start: "User … already exists")."""
    try:
        for line in iter(source.readline, b""):
            log.write(_EMAIL.sub("<e-mail>", line.decode("utf-8", "replace")).encode("utf-8"))
            log.flush()
    except (OSError, ValueError):
        pass
    finally:
        log.close()


def child_setup() -> None:
    """In the server process, before it runs: files it makes are its user's only (umask 077), and
    it gets SIGTERM when the process that started it dies (Linux ``PR_SET_PDEATHSIG``), so a
    killed or hung-up ``khabar studio serve`` leaves no orphan holding the port and the data folder."""
    os.umask(0o077)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the server is still stopped by serve's own handlers


def make_private(folder: Path) -> None:
    """``folder`` 0700 and the files directly in it 0600 (an older data folder may be world-readable)."""
    os.chmod(folder, 0o700)
    for entry in folder.iterdir():
        if entry.is_file() and not entry.is_symlink():
            os.chmod(entry, 0o600)


def lock_info(fh: Any) -> dict[str, Any]:
    """What ``serve.lock`` (an open file) says: ``serve_pid``, ``server_pid``, ``port``; ``{}`` if unreadable."""
    try:
        fh.seek(0)
        info = json.loads(fh.read() or "{}")
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""One run at a time in a folder, and cleanup of the staging folders a killed run left there."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path
from typing import Iterator

from khabar.core.errors import InputError

__all__ = ["exclusive_run", "remove_stale_temp_files"]


@contextlib.contextmanager
def exclusive_run(folder: Path, lock: str, staging_prefix: str, command: str) -> Iterator[int]:
    """Hold ``folder/<lock>`` (``fcntl.flock``, exclusive, not waiting) for the ``with`` block.

    Once the lock is held no other run of ``command`` is alive, so every sub-folder of ``folder``
    whose name starts with ``staging_prefix`` is a leftover of a killed run: it is removed. The
    lock file is removed at the end (while still locked; a run that opened it before re-checks
    that the file it locked is still the one at the path). A run killed with ``kill -9`` leaves
    the lock file behind, but not the lock: the next run takes it.

    Yields:
        int: the number of leftover staging folders removed.

    Raises:
        InputError: another run holds the lock; a leftover staging folder cannot be removed.
        OSError: the lock file cannot be created (e.g. a read-only folder).
    """
    path = folder / lock
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(f"{path}: another {command} is running on this project (it holds this lock); nothing was done",
                             hint="wait for it to finish, then run it again") from None
        held = os.fstat(fd)
        try:
            now = os.stat(path)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)  # the run that held it removed the file meanwhile: lock the one at the path now
    try:
        leftovers = 0
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(staging_prefix) and entry.is_dir() and not entry.is_symlink():
                try:
                    shutil.rmtree(entry)
                except OSError as err:
                    raise InputError(f"{entry}: staging folder left by an interrupted {command}; cannot remove it: {err.strerror}",
                                     hint="remove it by hand, then run it again") from None
                leftovers += 1
        yield leftovers
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def remove_stale_temp_files(folder: Path, older_than: float = 900.0) -> int:
    """Remove the temporary files (``.*.tmp``, as :func:`khabar.core.jsonio.stage_bytes`
    and the annotation writers make them beside their targets) that a killed run left anywhere
    below ``folder``: those last written more than ``older_than`` seconds ago (a live writer
    renames its file within moments). Returns how many were removed; a file that cannot be
    removed is left (the next run tries again).
    """
    import time

    if not folder.is_dir():
        return 0
    now, gone = time.time(), 0
    for path in folder.rglob(".*.tmp"):
        try:
            if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > older_than:
                path.unlink()
                gone += 1
        except OSError:
            continue
    return gone

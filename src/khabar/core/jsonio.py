"""Strict JSON reading, canonical JSON writing and atomic file writes.

Python's ``json`` module is loose: it accepts duplicate keys (keeping the last),
``NaN`` and ``Infinity``. Corpus files are read with :func:`load_json`, which refuses
all three, so that a hand-edited file cannot silently lose a field.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from khabar.core.errors import InputError

__all__ = ["stage_bytes", "load_json", "loads_json", "dumps_canonical", "atomic_write_bytes", "atomic_write_text", "write_json", "sha256_file", "no_interrupts"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_json(data: str | bytes, where: str) -> Any:
    """Parse JSON strictly (no duplicate keys, no NaN/Infinity).

    Raises:
        InputError: naming ``where`` (usually the file path), the line and the reason.
    """
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise InputError(f"{where}: line {err.lineno} column {err.colno}: invalid JSON: {err.msg}") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{where}: invalid JSON: {err}") from None
    except RecursionError:
        raise InputError(f"{where}: invalid JSON: nested too deeply") from None


def load_json(path: str | os.PathLike[str]) -> Any:
    """Read a UTF-8 JSON file strictly; see :func:`loads_json`.

    Raises:
        InputError: the file is missing, unreadable, not UTF-8 or not strict JSON.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 (byte {err.start})") from None
    return loads_json(text, str(path))


def dumps_canonical(obj: Any, indent: int | None = 1) -> str:
    """Deterministic JSON: keys in insertion order, non-ASCII kept, ``\\n`` at the end."""
    if indent is None:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return json.dumps(obj, ensure_ascii=False, indent=indent, allow_nan=False) + "\n"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def stage_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a hidden temporary file beside ``path`` (same folder), flushed to disk and
    with the usual file mode, and return it: renaming it onto ``path`` (``os.replace``) is then the
    only step left, and it replaces ``path`` atomically. The caller renames or removes it.

    Raises:
        OSError: the folder is not writable, the disk is full… (nothing is left behind).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    A crash leaves either the old file or the new one, never a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = stage_bytes(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as canonical JSON, atomically."""
    atomic_write_text(path, dumps_canonical(obj))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks (constant memory)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def no_interrupts() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for a few renames, so an interrupt cannot split them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)

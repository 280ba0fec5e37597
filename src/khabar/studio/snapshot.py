"""Reading every task of a project from a Label Studio export snapshot, as a stream.

``khabar studio pull`` reads the tasks (with annotations and drafts) of a project. Paging through
``GET /api/tasks`` costs one request and one model validation per page and task; an export
snapshot (``POST /api/projects/{id}/exports``, then ``.../exports/{pk}/download?exportType=JSON``)
is one file made by the server in one pass. :func:`iter_project_tasks` makes a snapshot, waits
for it, reads the download as a stream of chunks and yields its tasks one at a time
(:func:`iter_json_array`: memory holds one chunk and one task, never the file), then deletes the
snapshot. Where snapshots are unavailable (the endpoint answers 404, 405 or 403, or the snapshot
fails), it falls back to paging (:meth:`khabar.studio.client.Studio.iter_tasks`) and says so.

Public API: :func:`iter_project_tasks`, :func:`iter_json_array`, :data:`SNAPSHOT_OPTIONS`, :data:`MAX_ELEMENT`.
"""

from __future__ import annotations

import codecs
import json
import re
import time
from typing import Any, Iterable, Iterator

from khabar.core.errors import StudioError
from khabar.studio.client import Studio

__all__ = ["iter_project_tasks", "iter_json_array", "SNAPSHOT_OPTIONS", "MAX_ELEMENT"]

#: what the snapshot holds of each task: drafts in full (a pull may take them), predictions by id
#: only (a pull never reads them), annotations with ``completed_by`` as a user id
SNAPSHOT_OPTIONS = {"drafts": {"only_id": False}, "predictions": {"only_id": True},
                    "annotations__completed_by": {"only_id": True}}
#: statuses of a snapshot that will not complete
_FAILED = ("failed",)
#: the HTTP statuses that mean "no snapshots here": fall back to paging
_UNAVAILABLE = ("HTTP 404", "HTTP 405", "HTTP 403", "HTTP 501")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


#: the longest element (characters) the stream holds before it gives up: a task is kilobytes
MAX_ELEMENT = 64 * 2**20
_DELIMITED = re.compile(r"\s*[,\]]")


def iter_json_array(chunks: Iterable[bytes], max_element: int | None = None) -> Iterator[Any]:
    """The elements of a JSON array (UTF-8 bytes, cut anywhere into ``chunks``), one at a time.

    Memory holds the unparsed rest of the text, at most one element (``max_element`` characters,
    default :data:`MAX_ELEMENT`) and one chunk; an element cut by a chunk is parsed again only
    once the text after it has doubled, so the time is linear in the text.

    Raises:
        ValueError: the text is not a JSON array (strict JSON: commas between elements, no
            ``NaN``), is cut, nests too deeply, has text after it, or has an element longer than
            ``max_element`` (the message counts the elements read).
    """
    limit = max_element or MAX_ELEMENT
    decoder, utf8 = json.JSONDecoder(parse_constant=_no_constant), codecs.getincrementaldecoder("utf-8")()
    buf, pos, state, ended, count, retry_at = "", 0, "start", False, 0, 0
    it = iter(chunks)
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n":
            pos += 1
        if pos < len(buf) and len(buf) >= retry_at:
            ch = buf[pos]
            if state == "start":
                if ch != "[":
                    raise ValueError(f"not a JSON array (it starts with {ch!r})")
                state, pos = "first", pos + 1
                continue
            if state == "done":
                raise ValueError(f"text after the end of the JSON array ({count} elements)")
            if ch == "]" and state in ("first", "sep"):
                state, pos = "done", pos + 1
                continue
            if state == "sep":
                if ch != ",":
                    raise ValueError(f"the JSON array is malformed after {count} elements (expected ',' or ']', found {ch!r})")
                state, pos = "value", pos + 1
                continue
            try:
                value, end = decoder.raw_decode(buf, pos)
            except RecursionError:
                raise ValueError(f"element {count + 1} of the JSON array nests too deeply") from None
            except json.JSONDecodeError:
                if ended:
                    raise ValueError(f"the JSON array is cut or malformed after {count} elements") from None
                if len(buf) - pos > limit:
                    raise ValueError(f"element {count + 1} of the JSON array is malformed or longer than {limit:,} characters")
                retry_at = pos + 2 * (len(buf) - pos)  # parse again once the text after it has doubled
            else:
                if ended or not isinstance(value, (int, float)) or _DELIMITED.match(buf, end):  # a number may go on
                    yield value
                    count, pos, state, retry_at = count + 1, end, "sep", 0
                    continue
                retry_at = len(buf) + 1
        if ended:
            if state != "done":
                raise ValueError(f"the JSON array ends before its closing bracket ({count} elements)")
            return
        chunk = next(it, None)
        retry_at = max(0, retry_at - pos)
        buf, pos = buf[pos:], 0  # what is parsed goes: memory holds the unparsed rest and one chunk
        if chunk is None:
            ended, retry_at = True, 0
            buf += utf8.decode(b"", final=True)
        else:
            buf += utf8.decode(chunk)


def _guarded(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    """``chunks``, with a failure of the connection while streaming as one :class:`StudioError`."""
    try:
        yield from chunks
    except StudioError:
        raise
    except Exception as err:  # noqa: BLE001 - httpx or the SDK's ApiError, raised while the download streams
        raise StudioError(f"{what}: {type(err).__name__}: {err}".splitlines()[0][:300],
                          hint="pull again (nothing was written); if it repeats, pull with --no-snapshot") from None


def _unavailable(err: StudioError) -> bool:
    return any(code in str(err) for code in _UNAVAILABLE)


def _snapshot(studio: Studio, pid: int, wait_s: float) -> int | None:
    """Make a JSON export snapshot of project ``pid`` and wait (up to ``wait_s``) until it is
    ready; its id, or None when snapshots are unavailable here or the snapshot failed.

    Raises:
        StudioError: any other failure (the server is unreachable, the budget ran out).
    """
    sdk = studio.sdk
    try:
        made = studio.call(f"making an export snapshot of project {pid}", sdk.projects.exports.create, id=pid,
                           title="khabar studio pull", serialization_options=SNAPSHOT_OPTIONS, idempotent=False)
    except StudioError as err:
        if _unavailable(err):
            return None
        raise
    pk, until, pause = made.id, time.monotonic() + wait_s, 0.05
    while True:
        status = str(getattr(studio.call(f"reading export snapshot {pk} of project {pid}", sdk.projects.exports.get,
                                         id=pid, export_pk=pk), "status", "") or "")
        if status == "completed":
            return pk
        if status in _FAILED or time.monotonic() > until:
            _drop(studio, pid, pk)
            return None
        time.sleep(pause)
        pause = min(1.0, pause * 2)


def _drop(studio: Studio, pid: int, pk: int) -> None:
    """Delete snapshot ``pk`` (a snapshot left behind is harmless: failures are ignored)."""
    try:
        studio.call(f"deleting export snapshot {pk}", studio.sdk.projects.exports.delete, id=pid, export_pk=pk)
    except StudioError:
        pass


def iter_project_tasks(studio: Studio, pid: int, *, snapshot: bool = True, wait_s: float = 600.0,
                       notes: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every task of project ``pid`` as a plain dict (``id``, ``data``, ``annotations``,
    ``drafts``, ``predictions`` as ids), from an export snapshot read as a stream, or by paging
    when ``snapshot`` is False or snapshots are unavailable (a line is added to ``notes``).

    Raises:
        StudioError: the server is unreachable or the budget ran out; the snapshot's file is not
            a JSON array of tasks (the snapshot is deleted first).
    """
    pk = _snapshot(studio, pid, wait_s) if snapshot else None
    if pk is None:
        if snapshot and notes is not None:
            notes.append(f"export snapshots are unavailable at {studio.url}; the tasks were read page by page")
        yield from studio.iter_tasks(pid)
        return
    try:
        what = f"downloading export snapshot {pk} of project {pid}"
        chunks = studio.sdk.projects.exports.download(pid, pk, export_type="JSON", request_options={"chunk_size": 1 << 20})
        for task in iter_json_array(_guarded(chunks, what)):
            if not isinstance(task, dict) or "id" not in task:
                raise StudioError(f"export snapshot {pk} of project {pid}: an element is not a task",
                                  hint="pull again; if it repeats, pull with --no-snapshot and report the Label Studio version")
            yield task
    except ValueError as err:
        raise StudioError(f"export snapshot {pk} of project {pid}: {err}",
                          hint="pull again; if it repeats, pull with --no-snapshot") from None
    finally:
        _drop(studio, pid, pk)

"""Issue 15: `khabar studio pull` reads the tasks from one export snapshot, parsed as a stream
(khabar.studio.snapshot), and falls back to paging where snapshots are unavailable."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import snapshot, studio_headers
from khabar.core.errors import StudioError
from khabar.studio.pull import pull
from khabar.studio.push import push
from khabar.studio.snapshot import iter_json_array
from test_studio_server import _annotate, doc_for, tasks_of

TASKS = [{"id": i, "data": {"text": "أعلنت الحكومة 😀 " * (i % 7), "n": 1.5e3, "ok": True}, "annotations": [{"result": [], "x": None}]}
         for i in range(200)]
RAW = json.dumps(TASKS, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100, 4096, 1 << 20])
def test_the_array_is_read_whatever_the_chunks(size) -> None:
    """Chunks cut anywhere, inside a 4-byte emoji or a number, give the same tasks."""
    assert list(iter_json_array(RAW[i:i + size] for i in range(0, len(RAW), size))) == TASKS


@pytest.mark.parametrize("raw, message", [
    (b'{"id": 1}', "not a JSON array (it starts with '{')"),
    (b'[{"id": 1}, {"id": 2', "the JSON array is cut or malformed after 1 elements"),
    (b'[{"id": 1}', "the JSON array ends before its closing bracket (1 elements)"),
    (b'[{"id": 1}] []', "text after the end of the JSON array (1 elements)"),
    # found by the adversarial review of 0.6.0: each was accepted, or a traceback
    (b'[{"id":1} {"id":2}]', "the JSON array is malformed after 1 elements (expected ',' or ']', found '{')"),
    (b'[,,{"id":1},,]', "the JSON array is cut or malformed after 0 elements"),
    (b'[{"id":1},]', "the JSON array is cut or malformed after 1 elements"),
    (b'[NaN, Infinity]', "NaN is not a JSON number"),
    (b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]", "element 1 of the JSON array nests too deeply"),
    (b'[' + b'{"a":' * 50_000 + b'1' + b'}' * 50_000 + b']', "element 1 of the JSON array nests too deeply"),
])
def test_a_bad_array_is_named(raw, message) -> None:
    with pytest.raises(ValueError) as err:
        list(iter_json_array([raw[:5], raw[5:]]))
    assert str(err.value) == message


@pytest.mark.parametrize("raw", [b"[1.5]", b"[1e5]", b"[1.5e+3]", b"[1.25, 2e3, -0.5]", b'[true, false, null, "x"]', b"[ ]"])
def test_a_number_cut_by_a_chunk_is_read_whole(raw) -> None:
    """Review of 0.6.0: chunks [b"[1.", b"5]"] gave "malformed" (1 was taken before the rest came)."""
    for size in range(1, len(raw) + 1):
        assert list(iter_json_array(raw[i:i + size] for i in range(0, len(raw), size))) == json.loads(raw)


def test_an_endless_element_stops_at_the_limit() -> None:
    """Review of 0.6.0: a malformed element early on made the parser buffer the whole rest of the
    stream; it now gives up once the element passes max_element characters."""
    raw = b'[{"id":1,,}' + b' "' + b"y" * (3 << 20) + b'"]'
    with pytest.raises(ValueError, match=r"element 1 of the JSON array is malformed or longer than 1,048,576 characters"):
        list(iter_json_array((raw[i:i + (1 << 16)] for i in range(0, len(raw), 1 << 16)), max_element=1 << 20))


def test_a_stream_holds_one_chunk_not_the_file() -> None:
    """The parser yields each task before reading the next chunk: 200 tasks in 64-byte chunks are
    handed on while chunks are still being read."""
    read = []

    def chunks():
        for i in range(0, len(RAW), 64):
            read.append(i)
            yield RAW[i:i + 64]
    it = iter_json_array(chunks())
    first = next(it)
    assert first == TASKS[0] and len(read) < len(RAW) // 64 // 10


def _setup(project, studio, studio_server, title, n: int = 120):
    docs = [doc_for(f"أعلنت الحكومة الخطة رقم {i}") for i in range(n)]
    push(project, studio, title=title, docs=docs, progress=False)
    tasks = sorted(tasks_of(studio, title), key=lambda t: t["id"])
    for t in tasks[::30]:
        _annotate(studio, t, 6, 13)
    studio.create_annotation(tasks[1]["id"], [], was_cancelled=True)
    r = httpx.post(f"{studio.url}/api/tasks/{tasks[2]['id']}/drafts", headers=studio_headers(studio_server),
                   json={"result": [{"id": "d1", "from_name": "entity", "to_name": "text", "type": "labels",
                                     "value": {"start": 6, "end": 13, "text": "الحكومة", "labels": ["GPE"]}}]})
    assert r.status_code == 201
    return studio.find_project(title)


@pytest.mark.studio
def test_a_snapshot_pull_writes_what_paging_writes(project, studio, studio_server, title) -> None:
    """120 tasks, 4 annotated, one cancelled, one draft: the files, bytes and counts of a pull
    through the export snapshot are those of a pull page by page; no snapshot is left behind."""
    proj = _setup(project, studio, studio_server, title)
    paged = pull(project, studio, title=title, drafts=True, progress=False, snapshot=False)
    by_pages = snapshot(project.annotations)
    for path in project.annotations.glob("kb-*"):
        for f in path.iterdir():
            f.unlink()
        path.rmdir()
    streamed = pull(project, studio, title=title, drafts=True, progress=False)
    assert snapshot(project.annotations) == by_pages and len(by_pages) == 6  # 4 annotations, 1 draft, annotators.json
    assert (streamed.tasks, len(streamed.written), streamed.cancelled, streamed.drafts) == (paged.tasks, 5, 1, 1) == (120, 5, 1, 1)
    assert streamed.warnings == paged.warnings and not any("snapshot" in w for w in streamed.warnings)
    assert list(studio.sdk.projects.exports.list(proj.id)) == []


@pytest.mark.studio
def test_without_snapshots_the_pull_pages(project, studio, studio_server, title, monkeypatch) -> None:
    """A server whose export endpoint answers 404 (snapshots unavailable): the pull reads page by
    page, says so in one warning, and writes the same files."""
    from label_studio_sdk.core.api_error import ApiError

    _setup(project, studio, studio_server, title, n=30)

    def absent(*a, **kw):
        raise ApiError(status_code=404, body={"detail": "Not found."})
    monkeypatch.setattr(studio.sdk.projects.exports, "create", absent)
    r = pull(project, studio, title=title, progress=False)
    assert (r.tasks, len(r.written)) == (30, 1)
    assert r.warnings[0] == f"export snapshots are unavailable at {studio.url}; the tasks were read page by page"
    assert not any("snapshot" in w for w in r.warnings[1:])


@pytest.mark.studio
def test_a_download_that_breaks_leaves_annotations_as_they_were(project, studio, studio_server, title, monkeypatch) -> None:
    """The connection drops after the first chunk of the snapshot: one StudioError naming the
    snapshot, nothing written, and the snapshot is deleted."""
    proj = _setup(project, studio, studio_server, title, n=40)
    real = studio.sdk.projects.exports.download

    def broken(*a, **kw):
        for i, chunk in enumerate(real(*a, **{**kw, "request_options": {"chunk_size": 256}})):
            if i == 1:
                raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            yield chunk
    monkeypatch.setattr(studio.sdk.projects.exports, "download", broken)
    before = snapshot(project.annotations)
    with pytest.raises(StudioError, match=r"downloading export snapshot \d+ of project \d+: RemoteProtocolError: peer closed"):
        pull(project, studio, title=title, progress=False)
    assert snapshot(project.annotations) == before
    assert list(studio.sdk.projects.exports.list(proj.id)) == []

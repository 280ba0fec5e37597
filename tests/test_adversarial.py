"""Bad input found by an adversarial review (items A1-E): each gets one clear line (``error: …`` and a
hint from the CLI, or one gate line), never a traceback, and a failed run leaves corpus/,
annotations/ and releases/ exactly as they were. Every test holds the input that broke it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import khabar.release.build
from khabar.agreement.compare import annotator_files
from khabar.agreement.report import agreement_report
from khabar.annotate.evaluate import preannotator_report
from khabar.annotate.preannotate import preannotate_corpus
from khabar.cli import app
from khabar.core.errors import InputError, StudioError, VersionError
from khabar.core.project import Project
from khabar.dataset.layout import CROISSANT, INDEX, REPORTS
from khabar.dataset.lookup import INDEX_HINT
from khabar.dataset.versioning import diff_streams
from khabar.gate.validate import validate_release
from khabar.release.build import build, write_checksums
from khabar.release.compare import compare
from khabar.release.plan import plan
from khabar.studio import client as studio_client

from conftest import ROOT, SEED_ID, make_project, snapshot

VERSION = "0.1.0"
OS_HINT = "check that the folder exists, is readable and writable and the disk has free space, then run it again"


def _second_document() -> str:
    """The id of a document of the checkout's corpus that sorts after the seed article's."""
    return next(p.stem for p in sorted((ROOT / "corpus").glob("kb-*.json")) if p.stem > SEED_ID)


def _add_document(project: Project, doc_id: str) -> None:
    shutil.copy(ROOT / "corpus" / f"{doc_id}.json", project.corpus_file(doc_id))


def _state(project: Project) -> tuple:
    """Everything a failed run must leave as it was (files, and which folders and links exist)."""
    def listing(folder: Path) -> list[str]:
        return sorted(str(p.relative_to(project.root)) for p in folder.rglob("*")) if folder.is_dir() else [str(folder.exists())]
    return tuple((snapshot(f), listing(f)) for f in (project.corpus, project.annotations, project.releases))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "khabar", *args], capture_output=True, text=True)


def _one_error(res: subprocess.CompletedProcess, error: str, hint: str | None = None) -> None:
    """Exit 1, ``error: …`` (and ``hint: …``) on stderr, no traceback."""
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert res.stderr.splitlines() == [f"error: {error}"] + ([f"hint: {hint}"] if hint else []), res.stderr


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (the seed article) with release 0.1.0 built once for the module."""
    root = tmp_path_factory.mktemp("adversarial") / "proj"
    build(make_project(root), VERSION, progress=False)
    return root


@pytest.fixture
def rproject(released: Path, tmp_path: Path) -> Project:
    """A fresh copy of the released project."""
    shutil.copytree(released, tmp_path / "proj", symlinks=True)
    return Project(tmp_path / "proj")


# --------------------------------------------------------------------------- A1: a damaged index

@pytest.mark.parametrize("content, reason", [
    (b"\xff\xfe\n", "line 1: not UTF-8 (byte 0)"),
    (b"[1, 2]\n", "line 1: not a JSON object (an array)"),
    (b"42\n", "line 1: not a JSON object (a number)"),
    (b"null\n", "line 1: not a JSON object (null)"),
    (b"{}\n", "line 1: id: missing"),
    (b'{"id": 5}\n', "line 1: id: 5 is not a document id (a non-empty string)"),
    (f'{{"id": "{SEED_ID}"}}\n'.encode(), "line 1: text_sha256: missing"),
    (f'{{"id": "{SEED_ID}", "text_sha256": "x"}}\n'.encode(), "line 1: annotation_sha256: missing"),
    (f'{{"id": "{SEED_ID}", "text_sha256": 7, "annotation_sha256": null}}\n'.encode(), "line 1: text_sha256: 7 is not a string"),
    (b'{"id": "kb-2", "text_sha256": "x", "annotation_sha256": null}\n{"id": "kb-1", "text_sha256": "x", "annotation_sha256": null}\n',
     "line 2: id: kb-1 comes after kb-2; the index must be sorted by id, each id once"),
    (b"not json\n", "line 1: invalid JSON: Expecting value"),
])
def test_diff_on_a_damaged_index_is_one_line(rproject, content, reason) -> None:
    index = rproject.release(VERSION) / REPORTS / INDEX
    index.write_bytes(content)
    with pytest.raises(InputError) as err:
        compare(rproject)
    assert (str(err.value), err.value.hint) == (f"{index}: {reason}", INDEX_HINT)


def test_diff_on_an_index_that_is_a_folder(rproject) -> None:
    index = rproject.release(VERSION) / REPORTS / INDEX
    index.unlink()
    index.mkdir()
    _one_error(_cli("diff", "--root", str(rproject.root)), f"{index}: cannot read: Is a directory", INDEX_HINT)


@pytest.mark.slow
def test_build_on_a_damaged_index_is_one_line_and_writes_nothing(rproject) -> None:
    index = rproject.release(VERSION) / REPORTS / INDEX
    index.write_text("[1, 2]\n", encoding="utf-8")
    _add_document(rproject, _second_document())
    before = _state(rproject)
    with pytest.raises(InputError, match=r"^" + str(index).replace(".", r"\.") + r": line 1: not a JSON object \(an array\)$"):
        build(rproject, "0.2.0", progress=False)
    assert _state(rproject) == before


def test_an_unsorted_index_stream_is_named() -> None:
    line = {"text_sha256": "x", "annotation_sha256": None}
    with pytest.raises(VersionError) as err:
        diff_streams([], [{"id": "kb-2", **line}, {"id": "kb-1", **line}], names=("old.jsonl", "/r/new/index.jsonl"))
    assert str(err.value) == "/r/new/index.jsonl: not sorted by id at 'kb-1' (after kb-2)"


# --------------------------------------------------------------------------- A2, B2, C5: preannotate

def _preannotate_refused(project: Project, message: str, hint: str | None) -> None:
    before = _state(project)
    with pytest.raises(InputError) as err:
        preannotate_corpus(project, progress=False)
    assert (str(err.value), err.value.hint) == (message, hint)
    assert _state(project) == before
    res = _cli("preannotate", "--root", str(project.root), "-q")
    _one_error(res, message, hint)
    assert _state(project) == before


def test_preannotate_when_annotations_is_a_file(project) -> None:
    shutil.rmtree(project.annotations)
    project.annotations.write_text("not a folder", encoding="utf-8")
    _preannotate_refused(project, f"{project.annotations}: not a folder (a file, or a link that points nowhere)",
                         "move it away, then run khabar preannotate again")


def test_preannotate_when_the_document_folder_is_a_file(project) -> None:
    project.doc_folder(SEED_ID).write_text("", encoding="utf-8")
    _preannotate_refused(project, f"{project.doc_folder(SEED_ID)}: not a folder (a file, or a link that points nowhere)",
                         "move it away, then run khabar preannotate again")


def test_preannotate_when_the_document_folder_is_a_symlink_loop(project) -> None:
    os.symlink(SEED_ID, project.doc_folder(SEED_ID))
    _preannotate_refused(project, f"{project.doc_folder(SEED_ID)}: not a folder (a file, or a link that points nowhere)",
                         "move it away, then run khabar preannotate again")


def test_preannotate_when_preannotator_json_is_a_folder(project) -> None:
    project.preannotator_file(SEED_ID).mkdir(parents=True)
    _preannotate_refused(project, f"{project.preannotator_file(SEED_ID)}: a folder, not a file",
                         "move it away, then run khabar preannotate again")


def test_preannotate_when_the_folder_is_not_writable(project, monkeypatch) -> None:
    import tempfile

    def denied(*args, dir=None, **kwargs):  # noqa: A002 - tempfile's own name
        raise PermissionError(13, "Permission denied", os.path.join(str(dir), ".preannotator.json.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    before = _state(project)
    with pytest.raises(InputError) as err:
        preannotate_corpus(project, progress=False)
    assert (str(err.value), err.value.hint) == (f"{project.preannotator_file(SEED_ID)}: Permission denied", OS_HINT)
    assert _state(project) == before


def test_preannotate_checks_every_document_before_writing_any(project) -> None:
    """B2: the seed article comes first; the second document's folder is a file: nothing is written."""
    second = _second_document()
    _add_document(project, second)
    project.doc_folder(second).write_text("", encoding="utf-8")
    before = _state(project)
    with pytest.raises(InputError, match=f"{second}: not a folder"):
        preannotate_corpus(project, progress=False)
    assert _state(project) == before
    assert not project.doc_folder(SEED_ID).exists()  # not even the folder made for the first document


def test_preannotate_a_document_named_twice_is_done_once(project) -> None:
    written = preannotate_corpus(project, [SEED_ID, SEED_ID], progress=False)
    assert written == [project.preannotator_file(SEED_ID)]
    assert sorted(p.name for p in project.doc_folder(SEED_ID).iterdir()) == [project.preannotator_file(SEED_ID).name]
    res = CliRunner().invoke(app, ["preannotate", "--root", str(project.root), "-q", "--doc", SEED_ID, "--doc", SEED_ID])
    assert res.exit_code == 0 and res.output.splitlines()[0] == "wrote 1 preannotator.json file(s)"


# --------------------------------------------------------------------------- A3, B1: build writes

def test_build_when_releases_is_a_file(project) -> None:
    project.releases.write_text("", encoding="utf-8")
    before = _state(project)
    _one_error(_cli("build", "--version", VERSION, "--root", str(project.root), "-q"),
               f"{project.releases}: not a folder (releases are built into releases/<version>/)",
               f"move the file {project.releases} away, then run it again")
    assert _state(project) == before


def test_build_when_releases_cannot_be_written(project, monkeypatch) -> None:
    def denied(*args, dir=None, **kwargs):  # noqa: A002
        raise PermissionError(13, "Permission denied", os.path.join(str(dir), ".staging-0.1.0-x"))

    monkeypatch.setattr(khabar.release.build.tempfile, "mkdtemp", denied)
    before = _state(project)
    with pytest.raises(InputError) as err:
        build(project, VERSION, progress=False)
    assert (str(err.value), err.value.hint) == (f"{project.releases}: Permission denied", OS_HINT)
    assert _state(project) == before  # not even an empty releases/ is left


@pytest.mark.slow
def test_release_and_changelog_land_together_when_the_changelog_cannot_be_replaced(project, monkeypatch) -> None:
    """B1: the rename of CHANGELOG.md fails after the release was moved into place: it is moved back."""
    real = os.replace

    def replace(src, dst, *a, **kw):
        if Path(dst) == project.changelog:
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", replace)
    project.releases.mkdir()  # (a first build that fails leaves releases/ made but empty)
    before = _state(project), sorted(p.name for p in project.root.iterdir())
    with pytest.raises(InputError) as err:
        build(project, VERSION, progress=False)
    assert (str(err.value), err.value.hint) == (f"{project.changelog}: Permission denied; release {VERSION} not shipped", OS_HINT)
    assert (_state(project), sorted(p.name for p in project.root.iterdir())) == before  # no temporary CHANGELOG left


@pytest.mark.slow
def test_changelog_that_cannot_be_written_stops_the_release_before_it_ships(rproject, monkeypatch) -> None:
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002
        if dir is not None and Path(dir) == rproject.root:
            raise PermissionError(13, "Permission denied", os.path.join(str(dir), ".CHANGELOG.md.x.tmp"))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    _add_document(rproject, _second_document())
    before = _state(rproject), rproject.changelog.read_bytes()
    with pytest.raises(InputError) as err:
        build(rproject, "0.2.0", progress=False)
    assert str(err.value) == f"{rproject.changelog}: Permission denied; release 0.2.0 not shipped"
    assert (_state(rproject), rproject.changelog.read_bytes()) == before


# --------------------------------------------------------------------------- A4, C1, C2: links and odd files

def test_annotator_files_survive_looping_links(tmp_path) -> None:
    for name in ("gold.json", "preannotator.json", "a02.json", "B1.json"):
        os.symlink(name, tmp_path / name)  # each a link to itself
    os.symlink("nowhere.json", tmp_path / "a03.json")
    (tmp_path / "a01.json").write_text("{}", encoding="utf-8")
    # gold and preannotator are never annotators; a broken annotator link is kept, so that reading it names it
    assert list(annotator_files(tmp_path)) == ["a01", "a02", "a03"]


@pytest.mark.slow
def test_build_with_a_looping_gold_link_is_refused_naming_it(project) -> None:
    gold = project.gold(SEED_ID)
    gold.parent.mkdir()
    os.symlink(gold.name, gold)
    project.releases.mkdir()
    before = _state(project)
    with pytest.raises(InputError) as err:
        build(project, VERSION, progress=False)
    assert str(err.value).splitlines() == [
        "build refused (1 problem); nothing written:",
        f"  {gold}: a symbolic link whose target cannot be read (Too many levels of symbolic links); "
        "restore the gold annotation or remove the link"]
    assert _state(project) == before


def test_a_gold_link_to_nothing_is_an_error_not_no_gold(project, tmp_path) -> None:
    """C1: a dangling gold.json would silently drop the document's gold annotation (a major bump)."""
    gold = project.gold(SEED_ID)
    gold.parent.mkdir()
    os.symlink("gone.json", gold)
    assert plan(project, tmp_path / "index.jsonl") == [
        f"{gold}: a symbolic link whose target cannot be read (No such file or directory); restore the gold annotation or remove the link"]


@pytest.mark.slow
def test_build_with_a_looping_preannotator_link_warns(project) -> None:
    pre = project.preannotator_file(SEED_ID)
    pre.parent.mkdir()
    os.symlink(pre.name, pre)
    r = build(project, VERSION, progress=False)
    assert r.warnings == [f"{pre}: not a regular file (cannot be followed: Too many levels of symbolic links); not scored "
                          "(hint: remove it and regenerate it with khabar preannotate)"]


@pytest.mark.parametrize("make, what", [
    (lambda p: p.mkdir(), "a folder"),
    (lambda p: os.symlink("gone.json", p), "a link that points nowhere"),
    (lambda p: os.symlink("/dev/zero", p), "a character device"),
    (lambda p: os.mkfifo(p), "a FIFO"),  # never opened: the report would wait for a writer
])
def test_a_preannotation_that_is_not_a_regular_file_is_named(project, schemas, make, what) -> None:
    pre = project.preannotator_file(SEED_ID)
    pre.parent.mkdir()
    make(pre)
    report, warnings = preannotator_report(project, schemas)
    assert report is None
    assert warnings == [f"{pre}: not a regular file ({what}); not scored (hint: remove it and regenerate it with khabar preannotate)"]


# --------------------------------------------------------------------------- C3: agreement --out

@pytest.mark.parametrize("where", ["releases/0.3.0", "releases", "corpus/x", "annotations", "annotations/../releases/y",
                                   "link/z"])
def test_agreement_never_writes_into_the_projects_folders(project, where) -> None:
    os.symlink("releases", project.root / "link")
    out = project.root / where
    guarded = {"releases": project.releases, "corpus": project.corpus, "annotations": project.annotations,
               "link": project.releases}[where.split("/")[0]]
    if ".." in where:
        guarded = project.releases
    before = _state(project)
    with pytest.raises(InputError) as err:
        agreement_report(project, out=out, progress=False)
    assert str(err.value) == (f"--out {out}: lies inside {guarded} (khabar agreement never writes into releases/, corpus/ "
                              "or annotations/)")
    assert err.value.hint == "write the report to a folder of its own, e.g. --out agreement-report"
    assert _state(project) == before and not project.releases.exists()


# --------------------------------------------------------------------------- C4, E: khabar diff

def test_diff_suggests_a_version_after_the_latest_release_only(rproject) -> None:
    shutil.copytree(rproject.release(VERSION), rproject.release("0.2.0"))  # same content, a newer version
    _add_document(rproject, _second_document())
    assert compare(rproject).next_version == "0.3.0"
    assert compare(rproject, "0.2.0").next_version == "0.3.0"
    old = compare(rproject, VERSION)
    assert (old.diff.bump(), old.next_version) == ("minor", None)  # 0.2.0 exists: never suggested
    res = CliRunner().invoke(app, ["diff", "--root", str(rproject.root), VERSION])
    assert res.exit_code == 0
    assert res.output.splitlines()[-1] == ("bump: minor (since 0.1.0; the latest release is 0.2.0: `khabar diff` alone gives "
                                           "the next version)")


def test_diff_of_a_folder_that_is_not_a_release(rproject, tmp_path, monkeypatch) -> None:
    hint = "name a release by version (0.1.0) or by its folder (releases/0.1.0)"
    for ref in ("schema", str(tmp_path)):
        with pytest.raises(InputError) as err:
            compare(rproject, ref, VERSION)
        assert (str(err.value), err.value.hint) == (f"{ref}: not a release folder (its name is not a version)", hint)
    monkeypatch.chdir(rproject.root)
    with pytest.raises(InputError, match=r"^\.: not a release folder \(its name is not a version\)$"):
        compare(rproject, ".", VERSION)
    with pytest.raises(InputError, match=r"^schema: not a release folder"):
        compare(rproject, "schema")  # against the corpus now
    _one_error(_cli("diff", "--root", str(rproject.root), "schema", VERSION), "schema: not a release folder (its name is not a version)", hint)


def test_diff_refuses_an_empty_argument(rproject) -> None:
    with pytest.raises(InputError, match="^an empty release name names no release$"):
        compare(rproject, "", VERSION)
    res = _cli("diff", "--root", str(rproject.root), "", VERSION)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[-1] == ("Error: Invalid value for OLD: an empty argument names no release; give a version "
                                           "(0.1.0) or a folder (releases/0.1.0)")


# --------------------------------------------------------------------------- C6, E: the gate

def _copy_release(rproject: Project, tmp_path: Path) -> Path:
    dest = tmp_path / VERSION
    shutil.copytree(rproject.release(VERSION), dest)
    return dest


def test_validate_flags_a_fifo_in_a_release(rproject, schemas, tmp_path) -> None:
    rel = _copy_release(rproject, tmp_path)
    os.mkfifo(rel / REPORTS / "pipe")
    problems = validate_release(rel, schemas=schemas, load=False)
    assert [p.line() for p in problems] == [
        "error file-symlink reports/pipe: not a regular file or folder (a FIFO) inside a release (releases hold plain files only)"]


@pytest.mark.parametrize("content, message", [
    (b"[]", "not a JSON object (Croissant metadata is one JSON-LD object)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 (byte 0)"),
])
def test_croissant_that_is_not_an_object_is_one_plain_line(rproject, schemas, tmp_path, content, message) -> None:
    rel = _copy_release(rproject, tmp_path)
    (rel / CROISSANT).write_bytes(content)
    write_checksums(rel)
    problems = validate_release(rel, schemas=schemas, load=False)
    assert [p.line() for p in problems] == [f"error croissant-invalid {CROISSANT}: {message}"]


# --------------------------------------------------------------------------- D: Label Studio unreachable

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connect_to_a_closed_port_tries_once(monkeypatch) -> None:
    attempts, sleeps = [], []
    real = httpx.HTTPTransport.handle_request

    def counted(self, request):
        attempts.append(str(request.url))
        return real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", counted)
    monkeypatch.setattr(studio_client.time, "sleep", sleeps.append)
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(StudioError) as err:
        studio_client.connect(url, "key")
    assert str(err.value) == f"connecting: cannot connect to Label Studio at {url} (connection refused)"
    assert (len(attempts), sleeps) == (1, [])


def test_other_transport_errors_are_still_retried(monkeypatch) -> None:
    """A refused connection or a dropped one is retried (it may pass); a read that timed out is
    not (issue 14: a hanging server gave 373 s of silence, three read timeouts in a row)."""
    sleeps: list[float] = []
    monkeypatch.setattr(studio_client.time, "sleep", sleeps.append)
    studio = studio_client.Studio(url="http://127.0.0.1:1", sdk=None, user_id=0)
    for error, calls_made, said in ((httpx.ConnectError("refused"), 3, "cannot connect to Label Studio at http://127.0.0.1:1 "
                                                                         "(connection refused)"),
                                    (httpx.RemoteProtocolError("gone"), 3, "the connection to Label Studio at http://127.0.0.1:1 "
                                                                            "broke (RemoteProtocolError)"),
                                    (httpx.ReadTimeout("slow"), 1, "Label Studio at http://127.0.0.1:1 took the connection but "
                                                                    "gave no answer within 60 s (ReadTimeout)")):
        calls = []

        def fail(error=error):
            calls.append(1)
            raise error

        with pytest.raises(StudioError) as err:
            studio.call("reading", fail)
        assert str(err.value) == f"reading: {said}" and len(calls) == calls_made
    assert sleeps == [1.0, 2.0, 1.0, 2.0]
    calls = []
    with pytest.raises(StudioError):
        studio.call("connecting", lambda: calls.append(1) or (_ for _ in ()).throw(httpx.ConnectError("refused")),
                    retry_unreachable=False)
    assert len(calls) == 1


def test_diff_with_a_stale_gold_computes_no_bump(project) -> None:
    """Found by the new-user review: a stale gold made diff say "documents removed … bump: major"."""
    gold = json.loads((ROOT / "annotations" / "kb-1415eb2e8d27dc16" / "gold.json").read_text(encoding="utf-8"))
    (project.annotations / "kb-1415eb2e8d27dc16").mkdir(parents=True)
    (project.annotations / "kb-1415eb2e8d27dc16" / "gold.json").write_text(json.dumps({**gold, "text_sha256": "0" * 64}), encoding="utf-8")
    res = CliRunner().invoke(app, ["diff", "--root", str(project.root)])
    assert res.exit_code == 1
    assert res.output.splitlines()[0].startswith("problem: ") and "stale" in res.output.splitlines()[0]
    assert "bump: not computed: 1 problem(s) above leave documents out of the comparison; fix them and run khabar diff again" in res.output
    assert "bump: major" not in res.output

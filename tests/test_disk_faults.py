"""A full disk, a folder we may not write (issue 14: `build` and `ingest` ended in a Python
traceback): one line naming the file and the reason, a hint, exit 1, and `corpus/` and
`releases/` as they were."""

from __future__ import annotations

import errno
import pathlib
import sys

import pyarrow.parquet as pq
import pytest

from conftest import make_project, snapshot
from khabar.cli.main import main, system_error_line


def _run(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["khabar", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr().err


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "No space left on device"), (errno.EACCES, "Permission denied"),
                                          (errno.EROFS, "Read-only file system")])
def test_ingest_on_a_full_disk_or_a_locked_folder(tmp_path, monkeypatch, capsys, code, reason) -> None:
    project = make_project(tmp_path / "p", with_corpus=False)
    before = snapshot(project.corpus)
    real = pathlib.Path.write_bytes

    def fail(self, data):
        if ".staging-" in str(self):
            raise OSError(code, reason, str(self))
        return real(self, data)
    monkeypatch.setattr(pathlib.Path, "write_bytes", fail)
    status, err = _run(monkeypatch, capsys, "ingest", "--root", str(project.root), "-q")
    assert status == 1 and "Traceback" not in err
    first, hint = err.strip().splitlines()[-2:]
    assert first.startswith(f"error: {project.corpus}/.staging-") and first.endswith(f": {reason}")
    assert hint.startswith("hint: ")
    assert snapshot(project.corpus) == before and not list(project.corpus.glob(".staging-*"))


def test_build_on_a_full_disk(tmp_path, monkeypatch, capsys) -> None:
    project = make_project(tmp_path / "p")
    before = snapshot(project.root / "releases")

    def full(self, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", "releases/.staging-x/data/documents/validation.parquet")
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    monkeypatch.setattr(pq.ParquetWriter, "write_batch", full)
    status, err = _run(monkeypatch, capsys, "build", "--version", "0.1.0", "--root", str(project.root), "-q")
    assert status == 1 and "Traceback" not in err
    assert "No space left on device" in err.strip().splitlines()[0] and err.strip().splitlines()[0].startswith("error: ")
    assert snapshot(project.root / "releases") == before
    assert not list((project.root / "releases").glob(".staging-*")) if (project.root / "releases").exists() else True


def test_the_cause_is_found_down_the_chain() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/x.parquet")
        except OSError as inner:
            raise RuntimeError("writer failed") from inner
    except RuntimeError as outer:
        line = system_error_line(outer)
    assert line == ("error: /data/x.parquet: No space left on device\nhint: free some disk space (or point TMPDIR at a bigger "
                    "disk), then run it again")
    assert system_error_line(ValueError("something else")) is None


def test_staging_left_by_a_killed_run_is_removed_by_the_next(tmp_path, monkeypatch, capsys) -> None:
    """Issue 14: after kill -9, releases/.staging-* and corpus/.staging-* stayed for ever."""
    from khabar.ingest.run import ingest
    from khabar.release.build import build

    project = make_project(tmp_path / "p", with_corpus=False)
    (project.corpus / ".staging-dead1" / "x").mkdir(parents=True)
    ingest(project, progress=False)
    assert not (project.corpus / ".staging-dead1").exists() and len(list(project.corpus.glob("kb-*.json"))) == 1
    (project.releases / ".staging-0.0.9-dead").mkdir(parents=True)
    (project.releases / ".staging-0.0.9-dead" / "README.md").write_text("half", encoding="utf-8")
    build(project, "0.1.0", progress=False)
    assert sorted(p.name for p in project.releases.iterdir()) == ["0.1.0"]  # no staging, no lock file left


def test_temp_files_left_in_annotations_are_removed_when_old(tmp_path) -> None:
    import os
    import time

    from khabar.annotate.preannotate import preannotate_corpus

    project = make_project(tmp_path / "p")
    folder = project.annotations / "kb-1415eb2e8d27dc16"
    folder.mkdir(parents=True)
    old, young = folder / ".gold.json.a1b2.tmp", folder / ".ls-1.json.c3d4.tmp"
    old.write_text("{", encoding="utf-8")
    young.write_text("{", encoding="utf-8")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    preannotate_corpus(project, progress=False)
    assert not old.exists() and young.exists()  # a live writer's file (moments old) is left alone
    assert (folder / "preannotator.json").is_file()


def test_a_manifest_that_cannot_be_written_leaves_corpus_as_it_was(tmp_path, monkeypatch, capsys) -> None:
    """Found by the adversarial review: with seeds/ read-only, ingest moved the new document into
    corpus/ and then failed on the manifest, so corpus/ and the manifest disagreed."""
    import builtins

    project = make_project(tmp_path / "p", with_corpus=False)
    before = snapshot(project.corpus), project.manifest.read_bytes()
    real = builtins.open

    def locked(file, mode="r", *a, **kw):
        if str(file).endswith(".manifest.jsonl.new") and "w" in mode:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real(file, mode, *a, **kw)
    monkeypatch.setattr(builtins, "open", locked)
    status, err = _run(monkeypatch, capsys, "ingest", "--root", str(project.root), "-q")
    assert status == 1 and "Permission denied" in err and "Traceback" not in err
    assert (snapshot(project.corpus), project.manifest.read_bytes()) == before

"""Issue 15: the build as a datatrove pipeline (``khabar build --engine datatrove``).

A release built by datatrove's LocalPipelineExecutor with N tasks (shards named by rank) passes
the same gate and has the same parquet files, byte for byte, as a local build; only
``reports/build.json`` (which records the engine and the number of tasks) and ``SHA256SUMS`` differ.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, make_project, snapshot
from khabar.dataset.lookup import latest_release
from khabar.release.pipeline import RowsStep, _parts_of, read_parts

KHABAR = [sys.executable, "-m", "khabar"]


def _full(tmp_path, name="p"):
    project = make_project(tmp_path / name, full=True)
    shutil.rmtree(project.annotations)
    shutil.copytree(ROOT / "annotations", project.annotations)
    return project


def test_the_tasks_share_the_runs_in_order() -> None:
    assert [list(_parts_of(r, 3, 9)) for r in range(3)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert [list(_parts_of(r, 4, 3)) for r in range(4)] == [[], [0], [1], [2]]  # more tasks than runs: some are empty
    assert sum(len(_parts_of(r, 7, 100)) for r in range(7)) == 100


def test_a_rows_task_writes_shards_named_by_rank(tmp_path, monkeypatch) -> None:
    """Task 1 of 3 on the 70 documents in runs of 8 (9 runs): it takes runs 3-5, i.e. documents
    24-47 in id order, and names its shards by rank; reading the parts of all 3 tasks back gives
    every document once, in id order."""
    import khabar.release.pipeline as pipeline

    monkeypatch.setattr(pipeline, "CHUNK_DOCS", 8)
    project = _full(tmp_path)
    work = tmp_path / "work"
    for rank in range(3):
        list(RowsStep(project.root, work).run(None, rank, 3))
    names = sorted(p.name for p in (work / "parts" / "documents").iterdir())
    assert names == sorted(f"{s}-{r:05d}-of-00003.parquet" for r in range(3) for s in ("train", "validation", "test"))
    done = pickle.loads((work / "parts" / "counts" / "00001-of-00003.pickle").read_bytes())
    assert done.documents == 24 and done.tally.stats["documents"] == 24 and done.errors == []
    index = (work / "parts" / "index" / "00001-of-00003.jsonl").read_text(encoding="utf-8").splitlines()
    ids = sorted(p.stem for p in project.corpus.glob("kb-*.json"))
    assert [json.loads(line)["id"] for line in index] == ids[24:48]
    back = [json.loads(line)["id"] for run in read_parts(work, 3) for line in run.index]
    assert back == ids
    docs = sum(t.num_rows for run in read_parts(work, 3) for (c, _), t in run.tables.items() if c == "documents")
    assert docs == 70 == sum(pq.ParquetFile(p).metadata.num_rows for p in (work / "parts" / "documents").iterdir())


@pytest.mark.slow
def test_a_datatrove_build_is_the_local_release(tmp_path) -> None:
    """`khabar build --engine datatrove --tasks 3 --workers 2` on the 70 documents: it passes the
    gate (the build runs it), its parquet files are those of the committed latest release, byte for
    byte, build.json records the pipeline, and nothing is left in releases/ but the release."""
    project = _full(tmp_path)
    res = subprocess.run([*KHABAR, "build", "--version", "0.1.0", "--engine", "datatrove", "--tasks", "3", "--workers", "2",
                          "--root", str(project.root), "-q"], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert "passed the gate" in res.stdout and "log" not in res.stderr.lower()
    assert sorted(p.name for p in project.releases.iterdir()) == ["0.1.0"]
    built = snapshot(project.releases / "0.1.0")
    _, latest = latest_release(ROOT / "releases")
    committed = snapshot(latest)
    data = sorted(k for k in committed if k.startswith("data/"))
    assert len(data) == 12 and all(built[k] == committed[k] for k in data)
    info = json.loads(built["reports/build.json"])
    assert info["pipeline"]["tasks"] == 3 and info["pipeline"]["executor"] == "LocalPipelineExecutor"
    assert info["pipeline"]["engine"].startswith("datatrove ")


def test_a_failed_datatrove_build_leaves_releases_as_it_was(tmp_path) -> None:
    """A document that fails its checks stops the pipeline's release step: the build's own error
    line naming it (no datatrove log kept for a refusal), and no releases/ folder left behind."""
    project = make_project(tmp_path / "p")
    doc = next(project.corpus.glob("kb-*.json"))
    data = json.loads(doc.read_text(encoding="utf-8"))
    data["sentences"][0]["end"] = 10**6
    doc.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = subprocess.run([*KHABAR, "build", "--version", "0.1.0", "--engine", "datatrove", "--tasks", "2",
                          "--root", str(project.root), "-q"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines[0].startswith("error: build refused (1 problem); nothing written:"), res.stderr
    assert doc.name in res.stderr and "span-out-of-bounds" in res.stderr
    assert "datatrove's log" not in res.stderr and "Traceback" not in res.stderr
    assert not project.releases.exists()


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark"], "--engine 'spark': choose local or datatrove"),
    (["--engine", "datatrove", "--tasks", "0"], "Invalid value for '--tasks'"),
    (["--workers", "0"], "Invalid value for '--workers'"),
    (["--tasks", "3"], "--tasks 3: tasks are those of the datatrove pipeline"),  # new-user review: it was ignored
])
def test_bad_build_options_are_one_line(tmp_path, args, message) -> None:
    project = make_project(tmp_path / "p")
    res = subprocess.run([*KHABAR, "build", "--version", "0.1.0", *args, "--root", str(project.root)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and message in res.stderr and "Traceback" not in res.stderr
    assert not project.releases.exists()


def test_a_full_disk_in_a_task_names_the_work_folder(tmp_path, monkeypatch) -> None:
    """Review of 0.6.0: a full disk in the rows step gave "the datatrove build of 1.0.0 failed:
    OSError: [Errno 28] …" naming no file; it is now the work folder, and releases/ is as it was."""
    import tempfile
    from pathlib import Path

    from khabar.core.errors import InputError
    from khabar.release.pipeline import run_local

    project = make_project(tmp_path / "p")
    logs_before = set(Path(tempfile.gettempdir()).glob("khabar-pipeline-*"))

    def full(self, data=None, rank=0, world_size=1):
        raise OSError(28, "No space left on device")
        yield  # a generator, as a datatrove step is
    monkeypatch.setattr(RowsStep, "run", full)
    with pytest.raises(InputError) as err:
        run_local(project, "0.1.0", 1, 1)
    assert str(err.value) == f"{project.releases / '.pipeline-0.1.0'}: No space left on device"
    assert not project.releases.exists()
    assert set(Path(tempfile.gettempdir()).glob("khabar-pipeline-*")) == logs_before  # nothing kept for a write failure


def test_an_interrupted_datatrove_build_says_so(tmp_path, monkeypatch, capfd) -> None:
    """Review of 0.6.0: Ctrl-C during a datatrove build exited 130 in silence (the CLI's line went
    into datatrove's log, which was then removed)."""
    from khabar.release.pipeline import run_local

    project = make_project(tmp_path / "p")

    def stop(self, data=None, rank=0, world_size=1):
        raise KeyboardInterrupt
        yield
    monkeypatch.setattr(RowsStep, "run", stop)
    with pytest.raises(KeyboardInterrupt):
        run_local(project, "0.1.0", 1, 1)
    assert capfd.readouterr().err.strip().splitlines()[-1] == "interrupted: the datatrove build stopped; nothing half-written is kept"
    assert not project.releases.exists()

"""``khabar build --engine datatrove``: the build as a ``datatrove`` pipeline, for more than one machine.

Two pipeline steps (``datatrove.pipeline.base.PipelineStep``), run by any datatrove executor
(``LocalPipelineExecutor`` here; ``SlurmPipelineExecutor`` or ``RayPipelineExecutor`` on a
cluster, the project folder on storage every node sees):

1. :class:`RowsStep`, ``tasks`` = N: task ``rank`` takes its contiguous share of the corpus (in
   id order, cut into runs of :data:`khabar.release.chunks.CHUNK_DOCS` documents), makes the rows
   with :class:`khabar.release.chunks.RowMaker` (what the local build runs on each core) and
   writes them as shards named by rank, ``<work>/parts/<config>/<split>-<rank>-of-<N>.parquet``
   (5 digits each), with its ``reports/index.jsonl`` lines, its counts and its problems;
2. :class:`ReleaseStep`, ``tasks`` = 1, after step 1: :func:`khabar.release.build.build` with
   those shards as its rows, read rank by rank (so in id order): the release, its reports, card,
   Croissant and the gate, exactly as the local build makes them. The row groups are re-cut to
   :data:`khabar.release.shards.ROW_GROUP_ROWS`, so the parquet files are the same bytes as a local
   build's; ``reports/build.json`` records ``pipeline``: the engine and the number of tasks.

``<work>`` is ``releases/.pipeline-<version>/`` (datatrove's logs are under ``logs/``); :func:`run_local`
removes it whatever happens, and names a copy of datatrove's log when a step fails unexpectedly.

Public API: :class:`RowsStep`, :class:`ReleaseStep`, :func:`run_local`, :func:`work_folder`.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pyarrow.parquet as pq
from datatrove.pipeline.base import PipelineStep

from khabar.core.errors import InputError, KhabarError, os_error
from khabar.core.runlock import exclusive_run
from khabar.core.jsonio import atomic_write_bytes
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.dataset.rows import SPLITS
from khabar.release.chunks import CHUNK_DOCS, RowMaker, RunRows, cut_runs
from khabar.release.plan import listed_ids

__all__ = ["RowsStep", "ReleaseStep", "run_local", "work_folder"]

#: the BuildReport of each (root, version) built in this process (datatrove runs a copy of the step)
_REPORTS: dict[tuple[str, str], Any] = {}

#: index lines handed on at a time when the release step reads a task's part back
_INDEX_LINES = 10_000


def work_folder(project: Project, version: str) -> Path:
    """``releases/.pipeline-<version>``: the parts of step 1 and datatrove's logs."""
    return project.releases / f".pipeline-{version}"


def _part_name(rank: int, tasks: int) -> str:
    return f"{rank:05d}-of-{tasks:05d}"


def _parts_of(rank: int, tasks: int, runs: int) -> range:
    """The runs (indexes) task ``rank`` of ``tasks`` takes: a contiguous share, so rank order is id order."""
    return range(runs * rank // tasks, runs * (rank + 1) // tasks)


class RowsStep(PipelineStep):
    """Step 1: the rows of one share of the corpus, as shards named by rank (module docstring).

    Args:
        root: the project folder.
        work: the pipeline's work folder (:func:`work_folder`).
    """

    name = "khabar rows"
    type = "Khabar build"

    def __init__(self, root: str | Path, work: str | Path):
        super().__init__()
        self.root, self.work = str(root), str(work)

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Iterator[Any]:
        """Write task ``rank``'s part; yields nothing (the documents of this pipeline are on disk)."""
        if data:
            yield from data
        project = Project(Path(self.root))
        maker = RowMaker(project, Schemas(project.schema))
        listing: list[str] = []
        ids = listed_ids(project, listing)
        runs = cut_runs(ids, CHUNK_DOCS)
        parts, name = Path(self.work) / "parts", _part_name(rank, world_size)
        done = RunRows(errors=listing if rank == 0 else [])  # the listing's problems, once
        writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        (parts / "index").mkdir(parents=True, exist_ok=True)
        try:
            with open(parts / "index" / f"{name}.jsonl", "w", encoding="utf-8") as index:
                for k in _parts_of(rank, world_size, len(runs)):
                    run = maker(runs[k])
                    for (config, split), table in run.tables.items():
                        if (config, split) not in writers:
                            (parts / config).mkdir(parents=True, exist_ok=True)
                            writers[config, split] = pq.ParquetWriter(parts / config / f"{split}-{name}.parquet", table.schema,
                                                                      compression="zstd")
                        writers[config, split].write_table(table)
                    index.write("".join(line + "\n" for line in run.index))
                    done.tally.merge(run.tally)
                    done.errors += run.errors
                    done.documents += run.documents
                    self.stat_update("documents", value=run.documents)
        finally:
            for writer in writers.values():
                writer.close()
        atomic_write_bytes(parts / "counts" / f"{name}.pickle", pickle.dumps(done))  # written last: the part is whole


def read_parts(work: Path, tasks: int) -> Iterator[RunRows]:
    """The rows of step 1, task by task (rank order is id order), as :class:`RunRows`: each task's
    shards one row group at a time, then its index lines, counts and problems.

    Raises:
        InputError: a task's part is missing (step 1 did not finish that task).
    """
    parts = work / "parts"
    for rank in range(tasks):
        name = _part_name(rank, tasks)
        counts = parts / "counts" / f"{name}.pickle"
        if not counts.is_file():
            raise InputError(f"{counts}: missing; task {rank} of the rows step did not finish",
                             hint=f"see datatrove's logs under {work / 'logs'}, then run the build again")
        for config_folder in sorted(p for p in parts.iterdir() if p.name not in ("counts", "index")):
            for split in SPLITS:
                shard = config_folder / f"{split}-{name}.parquet"
                if shard.is_file():
                    pf = pq.ParquetFile(shard)
                    for group in range(pf.num_row_groups):
                        yield RunRows(tables={(config_folder.name, split): pf.read_row_group(group)})
        with open(parts / "index" / f"{name}.jsonl", encoding="utf-8") as fh:
            lines: list[str] = []
            for line in fh:
                lines.append(line.rstrip("\n"))
                if len(lines) >= _INDEX_LINES:
                    yield RunRows(index=lines)
                    lines = []
        done: RunRows = pickle.loads(counts.read_bytes())  # noqa: S301 - written by step 1 of this build
        done.index = lines
        yield done


class ReleaseStep(PipelineStep):
    """Step 2 (one task): :func:`khabar.release.build.build` on the parts of step 1.

    Args:
        root: the project folder; version: the release to build; tasks: step 1's number of tasks;
        work: the work folder; executor: the executor's name, recorded in ``reports/build.json``.
    """

    name = "khabar release"
    type = "Khabar build"

    def __init__(self, root: str | Path, version: str, tasks: int, work: str | Path, executor: str = "LocalPipelineExecutor"):
        super().__init__()
        self.root, self.version, self.tasks, self.work, self.executor = str(root), version, tasks, str(work), executor

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Iterator[Any]:
        """Build, gate and ship the release; yields nothing."""
        from importlib.metadata import version as dist_version

        from khabar.release.build import build

        if data:
            yield from data
        _REPORTS[self.root, self.version] = build(Project(Path(self.root)), self.version, progress=False,
                            runs=read_parts(Path(self.work), self.tasks),
                            pipeline={"engine": f"datatrove {dist_version('datatrove')}", "executor": self.executor,
                                      "tasks": self.tasks})


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 (this process's and its children's stderr: datatrove's log lines,
    its tracebacks) to ``path`` for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(fd)
        os.close(saved)


def run_local(project: Project, version: str, tasks: int, workers: int, progress: bool = False) -> Any:
    """Build ``version`` with datatrove's ``LocalPipelineExecutor``: step 1 on ``tasks`` tasks,
    ``workers`` at a time, then step 2, holding ``releases/.pipeline.lock`` (one pipeline at a time;
    the work folders a killed one left are removed first). datatrove's own output goes to a log
    file, not the terminal; the work folder is removed whatever happens (``releases/`` is left as
    it was when it fails). With ``progress``, one line on stderr as each step starts.

    Returns:
        The :class:`~khabar.release.build.BuildReport`.

    Raises:
        InputError: ``tasks`` or ``workers`` out of range; another pipeline holds the lock; a
            write failed (naming the work folder); an unexpected failure in a step (datatrove's
            log, kept in a temporary file, is named in the hint); and what
            :func:`khabar.release.build.build` raises (one line, as without datatrove).
    """
    from khabar.release.build import check_target

    if not 1 <= tasks <= 10_000 or not 1 <= workers <= 256:
        raise InputError(f"--tasks {tasks} --workers {workers}: tasks must be 1 to 10000 and workers 1 to 256")
    check_target(project, version)  # before any work: a version that exists or is not newer is refused now
    made = not project.releases.exists()
    try:
        project.releases.mkdir(parents=True, exist_ok=True)
        with exclusive_run(project.releases, ".pipeline.lock", ".pipeline-", "khabar build --engine datatrove"):
            return _run_pipeline(project, version, tasks, workers, progress)
    except OSError as err:
        raise os_error(err, str(work_folder(project, version))) from None
    finally:
        if made:
            _rmdir_if_empty(project.releases)


def _run_pipeline(project: Project, version: str, tasks: int, workers: int, progress: bool) -> Any:
    """:func:`run_local`'s two executors, one after the other, with the lock held."""
    from datatrove.executor import LocalPipelineExecutor

    work = work_folder(project, version)
    (work / "logs").mkdir(parents=True)
    console = work / "logs" / "console.log"
    release = ReleaseStep(project.root, version, tasks, work)
    started = time.monotonic()

    def say(line: str) -> None:
        if progress:
            print(f"build (datatrove) {line} ({time.monotonic() - started:.1f} s)", file=sys.stderr, flush=True)
    try:
        say(f"[1/2] rows: {tasks} task(s), {min(workers, tasks)} at a time")
        with _stderr_to(console):
            LocalPipelineExecutor([RowsStep(project.root, work)], tasks=tasks, workers=min(workers, tasks),
                                  logging_dir=str(work / "logs" / "rows"), skip_completed=False).run()
        say("[2/2] release: version check, reports, card, Croissant, gate")
        with _stderr_to(console):
            LocalPipelineExecutor([release], tasks=1, workers=1, logging_dir=str(work / "logs" / "release"), skip_completed=False).run()
        say("done")
        return _REPORTS.pop((release.root, version))
    except KeyboardInterrupt:  # the CLI's own line went to the log: say it here
        print("interrupted: the datatrove build stopped; nothing half-written is kept", file=sys.stderr, flush=True)
        raise
    except KhabarError:
        raise  # the build's own refusal, one line, as without datatrove
    except OSError as err:  # a write failed (disk full, permissions), in this process or a task's
        raise os_error(OSError(err.errno, err.strerror, err.filename or str(work)), str(work)) from None
    except Exception as err:  # noqa: BLE001 - a task failed otherwise: datatrove's log says how
        kept = Path(tempfile.mkstemp(prefix=f"khabar-pipeline-{version}-", suffix=".log")[1])
        shutil.copyfile(console, kept)
        raise InputError(f"the datatrove build of {version} failed: {type(err).__name__}: {err}".splitlines()[0],
                         hint=f"datatrove's log: {kept}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass

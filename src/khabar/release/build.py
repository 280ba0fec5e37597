"""``khabar build``: ``corpus/`` + gold annotations + ``schema/`` -> ``releases/<version>/``.

One streaming pass over the corpus (sorted by id, :func:`khabar.release.plan.iter_checked`) checks
every document and gold annotation and writes the rows of each config and split with
``pyarrow.parquet.ParquetWriter`` (zstd) under one explicit Arrow schema per config that carries
the Hugging Face features (:class:`~khabar.release.shards.Shards`): the ``documents`` row of each
document and the training rows derived from it (:mod:`khabar.dataset.training`: ``entities``,
``claims``, ``stances``). Everything is written into a staging folder (reports:
:mod:`khabar.release.reports`; card, Croissant and the rest: :mod:`khabar.release.metadata`); the
full gate (:func:`khabar.gate.validate.validate_release`, ``load_dataset`` included) runs on it,
and only a release that passes is renamed into place. An existing version is never overwritten,
and the version must fit the change (:mod:`khabar.dataset.versioning`).

Public API: :func:`build`, :class:`BuildReport`; re-exported for the CLI and the main job:
:func:`~khabar.release.plan.plan`, :func:`~khabar.release.plan.diff_against_latest`,
:func:`~khabar.release.metadata.write_checksums`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from tqdm import tqdm

from khabar.annotate.evaluate import preannotator_report
from khabar.core.errors import InputError, KhabarError, ReleaseExistsError, VersionError, os_error
from khabar.core.jsonio import no_interrupts
from khabar.core.progress import Stages
from khabar.core.runlock import exclusive_run
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.dataset.features import CONFIGS, features_for
from khabar.dataset.lookup import latest_release
from khabar.dataset.training import Spec
from khabar.dataset.versioning import Diff, check_version, parse_version
from khabar.release.changelog import changelog_with, stage_text
from khabar.release.metadata import annotators_used, write_checksums, write_metadata
from khabar.release.chunks import RunRows, default_workers, iter_runs
from khabar.release.plan import diff_against_latest, listed_ids, plan
from khabar.release.reports import write_reports
from khabar.release.shards import Shards, configs_stats
from khabar.release.tally import Tally
from khabar.dataset.layout import INDEX, REPORTS

__all__ = ["build", "BuildReport", "plan", "diff_against_latest", "write_checksums"]


@dataclass
class BuildReport:
    """What a build made. ``counts``: rows of the ``documents`` config per split; ``rows``: the same
    for every config; ``stats``: ``reports/stats.json``'s counters, ``configs`` included;
    ``warnings``: one line per input left out without stopping the build (a pre-annotation that
    is malformed or stale: ``<file>: <reason>; not scored …``)."""

    version: str
    path: Path
    counts: dict[str, int]
    diff: Diff
    previous: str | None
    stats: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> rows (splits with rows)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage of BUILD_STAGES (benchmarks read it)


def check_target(project: Project, version: str) -> Path:
    """``releases/<version>``, checked to be new and newer than the latest release.

    Raises:
        VersionError, ReleaseExistsError, InputError: see :func:`build`.
    """
    parse_version(version)
    target = project.release(version)
    if target.exists():
        raise ReleaseExistsError(f"{target}: release {version} exists; releases are never overwritten",
                                 hint="choose a new version (khabar diff shows what changed)")
    newest = latest_release(project.releases)
    if newest is not None and parse_version(version) <= parse_version(newest[0]):
        raise VersionError(f"version {version} is not newer than the latest release {newest[0]}",
                           hint="releases only move forward; khabar diff shows the next version")
    if not project.datasheet.is_file():
        raise InputError(f"{project.datasheet}: missing; every release ships the project's datasheet",
                         hint="write DATASHEET.md (Gebru et al.) with the generated-section markers")
    return target


def _write_rows(project: Project, schemas: Schemas, shards: Shards, index: Path, workers: int,
                progress: bool, runs: Iterable[RunRows] | None = None) -> tuple[Tally, list[str]]:
    """Write the rows of every checked document to ``shards`` and its line to ``index``, a run of
    documents at a time on ``workers`` processes (:func:`khabar.release.chunks.iter_runs`), or
    from ``runs`` when given (the datatrove pipeline's parts: :func:`khabar.release.pipeline.read_parts`).

    Returns:
        ``(counts, problems)``: one line per document or annotation that stops the build.
    """
    tally = Tally()
    errors: list[str] = []
    total = None
    if runs is None:
        ids = listed_ids(project, errors)
        total, runs = len(ids), iter_runs(project, schemas, ids, workers)
    with open(index, "w", encoding="utf-8") as index_fh, \
            tqdm(total=total, desc="build", unit="doc", disable=None if progress else True) as bar:
        for run in runs:
            errors += run.errors
            for (config, split), table in run.tables.items():
                shards.add_table(config, split, table)
            tally.merge(run.tally)
            if run.index:
                index_fh.write("\n".join(run.index) + "\n")
            bar.update(run.documents)
    return tally, errors


def _refuse(errors: list[str]) -> None:
    """Raise the build's problems, one line each (at most 200 shown, each cut to 500 characters).

    Raises:
        InputError: when there is any.
    """
    lines = [line if len(line) <= 500 else line[:500] + "…" for e in errors for line in e.splitlines()]
    if lines:
        shown = lines[:200] + ([f"… and {len(lines) - 200} more"] if len(lines) > 200 else [])
        raise InputError(f"build refused ({len(lines)} problem{'s' if len(lines) != 1 else ''}); nothing written:\n  "
                         + "\n  ".join(shown))


def _gate(staging: Path, schemas: Schemas, progress: bool) -> None:
    """Run the full gate on the staged release.

    Raises:
        KhabarError: it failed (every problem listed, one line each).
    """
    from khabar.gate.validate import validate_release

    problems = validate_release(staging, schemas=schemas, progress=progress)
    if problems:
        raise KhabarError(f"the built release failed the gate ({len(problems)} problems); nothing shipped:\n  "
                          + "\n  ".join(p.line() for p in problems))


def _named(err: OSError, path: Path, after: str = "") -> InputError:
    """:func:`~khabar.core.errors.os_error` naming ``path`` (not a temporary file beside it)."""
    e = os_error(OSError(err.errno, err.strerror, str(path)), str(path))
    return InputError(f"{e}{after}", hint=e.hint)


def _ship(project: Project, staging: Path, target: Path, version: str, previous: str | None, diff: Diff) -> None:
    """Rename the staged release into place and add its changelog entry, together: the new
    CHANGELOG.md is written to a temporary file first, so that only two renames are left; if the
    second fails, the release is moved back to ``staging`` (nothing ships).

    Raises:
        ReleaseExistsError: the target appeared meanwhile (another build).
        InputError: CHANGELOG.md cannot be read, or written (the folder is not writable, the disk is
            full), or the release cannot be moved into place.
    """
    changelog = changelog_with(project, version, previous, diff)  # read and checked before anything ships
    try:
        tmp: Path | None = stage_text(project.changelog, changelog)
    except OSError as err:
        raise _named(err, project.changelog, f"; release {version} not shipped") from None
    try:
        with no_interrupts():  # the release and its changelog entry land together
            try:
                os.rename(staging, target)
            except OSError as err:
                if target.exists():
                    raise ReleaseExistsError(f"{target}: release {version} appeared while building (another build?); "
                                             "releases are never overwritten") from None
                raise _named(err, target, f"; release {version} not shipped") from None
            try:
                os.replace(tmp, project.changelog)
            except OSError as err:
                os.rename(target, staging)  # put the release back: it never ships without its entry
                raise _named(err, project.changelog, f"; release {version} not shipped") from None
            tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _rmdir(folder: Path) -> None:
    """Remove ``folder`` if it is an empty folder."""
    try:
        folder.rmdir()
    except OSError:
        pass


def _make_staging(project: Project, version: str, guard: contextlib.ExitStack) -> Path:
    """A new staging folder ``releases/.staging-<version>-*`` (``releases/`` made if missing),
    after taking ``releases/.build.lock`` into ``guard`` (one build at a time) and removing the
    staging folders a killed build left (:func:`khabar.core.runlock.exclusive_run`).

    Raises:
        InputError: ``releases`` is not a folder, or cannot be written (one line naming it);
            another build is running.
    """
    releases = project.releases
    if (releases.exists() or releases.is_symlink()) and not releases.is_dir():
        raise InputError(f"{releases}: not a folder (releases are built into {releases.name}/<version>/)",
                         hint=f"move the file {releases} away, then run it again")
    made = not releases.exists()
    try:
        releases.mkdir(parents=True, exist_ok=True)
        guard.enter_context(exclusive_run(releases, ".build.lock", ".staging-", "khabar build"))
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{version}-", dir=releases))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)  # mkdtemp makes it 0700: a release is readable as any folder the user makes
        return staging
    except OSError as err:
        guard.close()  # the lock, taken just now
        if made:
            _rmdir(releases)  # made just now: leave no empty releases/ behind
        raise _named(err, releases) from None


#: the stages :func:`build` shows (the gate only when it validates)
BUILD_STAGES = ("rows", "version check", "report files", "card and Croissant", "gate")


def build(project: Project, version: str, *, progress: bool = True, schemas: Schemas | None = None,
          validate: bool = True, workers: int | None = None, runs: Iterable[RunRows] | None = None,
          pipeline: dict[str, Any] | None = None) -> BuildReport:
    """Build release ``version`` into ``project.release(version)``.

    Args:
        version: ``MAJOR.MINOR.PATCH``; must be newer than the latest release and make at least
            the bump the change requires.
        validate: run the full gate on the staged release before it is moved into place
            (turned off only by the benchmark, which times validation separately).
        workers: processes that make the rows (default :func:`khabar.release.chunks.default_workers`:
            ``KHABAR_WORKERS`` or every core); the release is the same, byte for byte, with any number.
        runs: the rows already made, in id order (the datatrove pipeline, :mod:`khabar.release.pipeline`).
        pipeline: what made ``runs`` (engine, executor, tasks), recorded in ``reports/build.json``.

    Returns:
        A :class:`BuildReport` (its ``warnings`` name the pre-annotations not scored).

    Raises:
        ReleaseExistsError: ``releases/<version>`` exists.
        VersionError: the version is malformed, not newer, or too small a bump.
        StaleAnnotationError / InputError: bad corpus documents or annotations (all listed); a
            ``BioTag`` vocabulary out of step with ``EntityType``.
        KhabarError: the staged release failed the gate (all problems listed); nothing is kept.
    """
    parse_version(version)
    schemas = schemas or Schemas(project.schema)
    target = check_target(project, version)
    Spec.from_schemas(schemas)  # a BioTag vocabulary out of step is refused before anything is staged
    features = {config: features_for(schemas, config) for config in CONFIGS}
    workers = default_workers() if workers is None else workers
    guard = contextlib.ExitStack()
    staging = _make_staging(project, version, guard)
    shards = Shards(staging, features)
    try:
        with Stages("build", BUILD_STAGES if validate else BUILD_STAGES[:-1], progress) as stages:
            stages.next("rows")
            index = staging / REPORTS / INDEX
            index.parent.mkdir(parents=True)
            tally, errors = _write_rows(project, schemas, shards, index, workers, progress, runs)
            shards.close()
            _refuse(errors)
            if not tally.stats["documents"]:
                raise InputError(f"{project.corpus}: no documents", hint="run khabar ingest first")
            stages.next("version check")
            previous, diff = diff_against_latest(project, index, schemas, before=version)
            check_version(previous, version, diff)
            stages.next("report files")
            pre_report, warnings = preannotator_report(project, schemas)
            registry = annotators_used(project, schemas, set(tally.prov["annotators"]))
            tally.stats["configs"] = configs_stats(tally.configs, shards.rows())
            sections, facts = write_reports(project, schemas, staging, version, shards.rows(), tally.dist, progress)
            tally.stats["agreement"] = facts
            stages.next("card and Croissant")
            write_metadata(project, schemas, staging, version, features, shards, tally, previous, diff, pre_report, registry, sections,
                           pipeline)
            if validate:
                stages.next("gate")
                _gate(staging, schemas, progress)
        _ship(project, staging, target, version, previous, diff)
        rows = shards.rows()
        return BuildReport(version, target, rows["documents"], diff, previous, dict(tally.stats), rows, warnings, stages.seconds)
    except OSError as err:  # a write into staging, or a read of the project, failed: one line naming the file
        raise os_error(err, str(staging)) from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        guard.close()

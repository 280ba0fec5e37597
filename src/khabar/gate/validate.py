"""``khabar validate``: the gate every release passes before it ships.

The validator collects, it does not throw: each problem is a :class:`~khabar.gate.problems.Problem`
with a stable check id (the registry :data:`khabar.gate.problems.CHECKS`, id -> level -> meaning), a
location (file, record, field) and a message. Checks run in levels, and a level that fails stops
the levels that need it (UD validator style):

1. files (:mod:`khabar.gate.files`): ``file-missing``, ``file-symlink``, ``checksum-mismatch``,
   ``checksum-file-missing``, ``checksum-unlisted``, ``card-yaml-invalid``, ``card-files-mismatch``,
   ``card-features-mismatch``, ``card-count-mismatch``, ``parquet-unreadable``,
   ``parquet-schema-mismatch``;
2. records (every row of every shard, :mod:`khabar.gate.rows`): ``classlabel-out-of-range``,
   ``label-unknown``, ``schema-invalid``;
3. integrity: the span and id checks of :mod:`khabar.core.checks` (``offset-type``,
   ``span-out-of-bounds``, ``span-empty``, ``span-text-mismatch``, ``id-duplicate``,
   ``id-dangling``, ``entity-duplicate``, ``chain-invalid``, ``text-sha256-mismatch``), and across
   rows ``doc-id-duplicate``, ``split-mismatch`` (a row in another split than its id assigns),
   ``split-leak-exact`` and ``split-leak-near`` (the same or a near-duplicate text in two splits);
4. release: ``report-invalid`` (:mod:`khabar.gate.reports`), ``croissant-invalid`` (including a file
   hash in croissant.json that differs from the file), ``croissant-records`` (``mlcroissant``
   yields other records than the parquet rows: :mod:`khabar.gate.croissant`), ``load-failed``, ``load-mismatch``
   (``datasets.load_dataset`` does not give back exactly the rows the build wrote, by count and
   digest: :mod:`khabar.gate.load`).

The training configs (``entities``, ``claims``, ``stances``) get the same levels and
``tokens-misaligned`` and ``config-derivation-mismatch`` (rows that differ from those re-derived
from the ``documents`` rows): see :mod:`khabar.gate.training`. A card of version 0.3.0 or newer
must declare every training config that has rows; older releases (0.1.0, 0.2.0) have only
``documents``.

Public API: :func:`validate_release`, :class:`Problem`, :data:`REQUIRED_FILES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from khabar.core.errors import InputError, VersionError
from khabar.core.jsonio import load_json
from khabar.core.parallel import default_workers
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.core.store import DiskIndex
from khabar.dataset.features import CONFIGS
from khabar.dataset.versioning import parse_version
from khabar.gate.files import REQUIRED_FILES, check_card, check_files, check_shard_schemas, read_card
from khabar.gate.croissant import check_croissant, check_croissant_records
from khabar.gate.load import check_load
from khabar.core.progress import Stages
from khabar.gate.problems import STRUCTURAL, Problem
from khabar.gate.reports import check_reports, read_rows_report
from khabar.gate.rows import check_documents
from khabar.gate.training import ALL_CONFIGS_SINCE, check_training_configs
from khabar.dataset.layout import BUILD_INFO, REPORTS, ROWS

__all__ = ["Problem", "validate_release", "REQUIRED_FILES"]


def _card_version(meta: dict[str, Any] | None) -> tuple[int, int, int] | None:
    """The card's ``version`` as a tuple; None when it has none that parses (checked as the newest)."""
    try:
        return parse_version(str((meta or {}).get("version")))
    except VersionError:
        return None


def _level_files(rel: Path, schemas: Schemas) -> tuple[dict[str, Any] | None, dict[str, dict[str, str]],
                                                       dict[str, dict[str, str]], list[Problem]]:
    """Level 1: ``(card YAML or None, {config: {split: path}} declared, shards whose schema passed, problems)``."""
    problems = check_files(rel)
    meta, card_problems = read_card(rel)
    problems += card_problems
    declared: dict[str, dict[str, str]] = {}
    if meta is not None:
        declared, more = check_card(rel, meta, schemas)
        problems += more
    shards_ok, more = check_shard_schemas(rel, schemas, declared)
    return meta, declared, shards_ok, problems + more


def _levels_rows(rel: Path, schemas: Schemas, meta: dict[str, Any] | None, declared: dict[str, dict[str, str]],
                 shards_ok: dict[str, dict[str, str]], problems: list[Problem], progress: bool, stages: Stages,
                 workers: int) -> list[Problem]:
    """Levels 2-3 on every row, the training configs and ``reports/`` (cross-row state on disk:
    memory does not grow with rows). ``problems``: those found so far (they decide what runs)."""
    out: list[Problem] = []
    with DiskIndex() as seen:
        stages.next("documents rows")
        out += check_documents(rel, schemas, shards_ok.get("documents", {}), seen, progress, workers)
        stages.next("training configs")
        version = _card_version(meta)
        found = problems + out
        unsound = {p.file for p in found}
        sound = meta is not None and not any(p.check in STRUCTURAL for p in found)
        try:  # the training configs, re-derived from the documents rows (khabar.gate.training)
            out += check_training_configs(rel, schemas, version, declared, shards_ok, unsound, seen, sound, progress, workers)
        except (OSError, ValueError, pa.ArrowException) as err:
            out.append(Problem("parquet-unreadable", "data", f"{type(err).__name__}: {err}".splitlines()[0]))
        stages.next("report files")
        if not any(p.check in ("parquet-unreadable", "parquet-schema-mismatch", "card-files-mismatch") for p in problems + out):
            total = sum(pq.ParquetFile(rel / p).metadata.num_rows for p in shards_ok.get("documents", {}).values())
            every = version is None or version >= ALL_CONFIGS_SINCE
            configs = [c for c in CONFIGS if every or c == "documents" or c in declared]
            out += check_reports(rel, schemas, seen, total, configs, every)
    return out


def _level_load(rel: Path, shards_ok: dict[str, dict[str, str]]) -> list[Problem]:
    """Level 4's ``load_dataset`` round trip against ``reports/rows.json``."""
    if not (rel / REPORTS / ROWS).is_file():
        return []
    counts, scheme, problems = read_rows_report(rel, shards_ok)
    return problems if counts is None else check_load(rel, counts, scheme)


def _released_targets(node: Any) -> list[str] | None:
    """The names of the first ``target`` ClassLabel found in a features dict (``reports/build.json``)."""
    if isinstance(node, dict):
        t = node.get("target")
        if isinstance(t, dict) and t.get("_type") == "ClassLabel" and isinstance(t.get("names"), list):
            return t["names"]
        for v in node.values():
            found = _released_targets(v)
            if found is not None:
                return found
    return None


def as_released(rel: Path, schemas: Schemas) -> Schemas:
    """The schemas as release ``rel`` was built with them: the stance-target registry only grows
    (:mod:`khabar.core.targets`), so a release built before targets were added carries a prefix
    of today's ``StanceTarget`` names (its ``reports/build.json`` says which). Such a release is
    checked against that prefix; any other difference (a renamed or reordered target) is left to
    the feature checks, which report it."""
    try:
        names = _released_targets(load_json(rel / REPORTS / BUILD_INFO).get("features"))
    except (InputError, AttributeError):
        return schemas
    now = schemas.vocab("StanceTarget")
    if names and len(names) < len(now) and now[: len(names)] == names:
        return schemas.with_targets(len(names))
    return schemas


#: the stages :func:`validate_release` shows (the last only with ``load``)
STAGES = ("files and card", "documents rows", "training configs", "report files", "croissant", "load_dataset")


def validate_release(release: str | Path, schemas: Schemas | None = None, progress: bool = False,
                     load: bool = True, workers: int | None = None) -> list[Problem]:
    """Run every check of the gate on a release folder.

    Args:
        release: the release folder (``releases/X.Y.Z`` or a staging folder).
        schemas: the project's schemas (default: those of the enclosing project).
        progress: show a bar over the stages (:data:`STAGES`) from the start, and one per split.
        load: run level 4's ``load_dataset`` round trip (only when no level-1 problem of
            :data:`khabar.gate.problems.STRUCTURAL` was found).
        workers: processes for the row checks (default :func:`khabar.core.parallel.default_workers`);
            the problems found are the same with any number.

    Returns:
        All problems found, in level order; ``[]`` means the release passes. Every check id is one
        of :data:`khabar.gate.problems.CHECKS`.
    """
    rel = Path(release)
    if not rel.is_dir():
        return [Problem("file-missing", str(rel), "release folder does not exist")]
    schemas = as_released(rel, schemas or Schemas(Project.find().schema))
    with Stages("validate", STAGES if load else STAGES[:-1], progress) as stages:
        stages.next("files and card")
        meta, declared, shards_ok, problems = _level_files(rel, schemas)
        problems += _levels_rows(rel, schemas, meta, declared, shards_ok, problems, progress, stages,
                                 default_workers() if workers is None else workers)
        stages.next("croissant")
        croissant = check_croissant(rel)  # level 4: release
        problems += croissant
        if not croissant and not any(p.check in STRUCTURAL for p in problems):
            problems += check_croissant_records(rel, shards_ok)
        if load:
            stages.next("load_dataset")
            if not any(p.check in STRUCTURAL for p in problems):
                problems += _level_load(rel, shards_ok)
    return problems

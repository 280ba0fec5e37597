"""The gate's checks of ``reports/`` (check id ``report-invalid``, and ``file-missing`` for the
agreement and baseline reports every release from 0.3.0 carries).

* :func:`check_reports`: ``index.jsonl`` lists exactly the documents of the rows; ``build.json``
  and ``stats.json`` parse, and ``build.json`` holds the features of each config as derived from
  ``schema/``; ``agreement.json`` and ``baseline.json`` are reports of ``khabar agreement`` and
  ``khabar baseline``;
* :func:`read_rows_report`: ``rows.json`` (row count and digest per config/split, the input of the
  ``load_dataset`` round trip) is usable and covers every shard.

Public API: :func:`check_reports`, :func:`read_rows_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from khabar.core.errors import InputError
from khabar.core.jsonio import load_json, loads_json
from khabar.core.schema import Schemas
from khabar.core.store import DiskIndex
from khabar.dataset.digest import DIGEST_KEY, DIGEST_V1
from khabar.dataset.features import features_for
from khabar.gate.problems import Problem
from khabar.dataset.layout import AGREEMENT, BASELINE, BUILD_INFO, INDEX, REPORTS, ROWS, STATS

__all__ = ["check_reports", "read_rows_report"]


def _check_tool_reports(rel: Path, every: bool) -> list[Problem]:
    """``reports/agreement.json`` and ``reports/baseline.json`` (required when ``every``)."""
    out = []
    for name, key, value in ((AGREEMENT, "report", "khabar agreement"), (BASELINE, "train_split", "train")):
        path = rel / REPORTS / name
        if not path.is_file():
            if every:
                out.append(Problem("file-missing", f"reports/{name}", "required file is missing (every release from 0.3.0 carries it)"))
            continue
        try:
            data = load_json(path)
        except InputError as err:
            out.append(Problem("report-invalid", f"reports/{name}", str(err).split(": ", 1)[-1]))
            continue
        if not isinstance(data, dict) or data.get(key) != value:
            out.append(Problem("report-invalid", f"reports/{name}", f"not a report of `{value if key == 'report' else 'khabar baseline'}` "
                                                                   f"(no {key!r}: {value!r})"))
    return out


def _check_index(rel: Path, seen: DiskIndex, rows: int) -> list[Problem]:
    """``reports/index.jsonl``: one line per row of the ``documents`` config, each naming a row."""
    out = []
    path = rel / REPORTS / INDEX
    if not path.is_file():
        return out
    n = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                entry = loads_json(line, f"line {i}")
                if not isinstance(entry, dict) or seen.get("id", str(entry.get("id"))) is None:
                    out.append(Problem("report-invalid", "reports/index.jsonl", f"line {i}: {entry.get('id') if isinstance(entry, dict) else entry!r} is not a row of the release"))
                n += 1
    except (InputError, UnicodeDecodeError) as err:
        out.append(Problem("report-invalid", "reports/index.jsonl", str(err)))
    else:
        if n != rows:
            out.append(Problem("report-invalid", "reports/index.jsonl", f"{n} lines for {rows} rows"))
    return out


def check_reports(rel: Path, schemas: Schemas, seen: DiskIndex, rows: int, configs: list[str], every: bool = True) -> list[Problem]:
    """Every report check of the module docstring.

    Args:
        seen: the gate's index (``id`` -> shard) of the ``documents`` rows.
        rows: the number of ``documents`` rows.
        configs: the configs whose features ``build.json`` must hold.
        every: ``agreement.json`` and ``baseline.json`` are required (releases from 0.3.0).
    """
    out = _check_tool_reports(rel, every) + _check_index(rel, seen, rows)
    for name in (BUILD_INFO, STATS):
        if (rel / REPORTS / name).is_file():
            try:
                data = load_json(rel / REPORTS / name)
            except InputError as err:
                out.append(Problem("report-invalid", f"reports/{name}", str(err).split(": ", 1)[-1]))
                continue
            if name == BUILD_INFO:
                feats = data.get("features") if isinstance(data, dict) else None
                for config in configs:
                    if not isinstance(feats, dict) or feats.get(config) != features_for(schemas, config).to_dict():
                        out.append(Problem("report-invalid", "reports/build.json", f"features.{config} differ from those derived from schema/"))
            if name == STATS and not isinstance(data, dict):
                out.append(Problem("report-invalid", "reports/stats.json", "not a JSON object"))
    return out


def _rows_report_problem(rows: Any) -> str | None:
    """Why ``reports/rows.json`` cannot be used for the load check, or None."""
    if not isinstance(rows, dict):
        return "not a JSON object"
    if rows.get("digest") not in (DIGEST_KEY, DIGEST_V1):
        return f"unknown digest scheme {rows.get('digest')!r} (expected {DIGEST_KEY!r}, or {DIGEST_V1!r} before toolkit 0.6.0)"
    configs = rows.get("configs")
    if not isinstance(configs, dict) or not all(
            isinstance(splits, dict) and all(isinstance(v, dict) and isinstance(v.get("num_rows"), int) and isinstance(v.get("sha256"), str)
                                             for v in splits.values()) for splits in configs.values()):
        return "`configs` must map config -> split -> {num_rows, sha256}"
    return None


def read_rows_report(rel: Path, shards_ok: dict[str, dict[str, str]]) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    """``(configs, scheme, [])``: ``reports/rows.json``'s ``configs`` (``{config: {split: {num_rows,
    sha256}}}``) and digest scheme; ``(None, "", [problem])``, a ``report-invalid`` problem, when it does not
    parse, names another digest scheme than :data:`khabar.dataset.digest.DIGEST_KEY` or
    :data:`~khabar.dataset.digest.DIGEST_V1`, is malformed, or lacks a shard of ``shards_ok``."""
    try:
        rows = load_json(rel / REPORTS / ROWS)
    except InputError as err:
        return None, "", [Problem("report-invalid", "reports/rows.json", str(err))]
    why = _rows_report_problem(rows)
    if not why:
        missing = {(c, s) for c, splits in shards_ok.items() for s in splits} - {
            (c, s) for c, splits in rows["configs"].items() for s in splits}
        if missing:
            why = "no digest for " + ", ".join(f"{c}/{s}" for c, s in sorted(missing))
    if why:
        return None, "", [Problem("report-invalid", "reports/rows.json", why)]
    return rows["configs"], rows["digest"], []

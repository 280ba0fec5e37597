"""Level 4 of the gate: the ``load_dataset`` round trip (Croissant: :mod:`khabar.gate.croissant`).

* :func:`check_load`: ``load-failed`` (``datasets.load_dataset(release, config)`` raises; the
  message is its first line) and ``load-mismatch`` (a split does not load, or gives other rows
  than the build wrote: count and :func:`khabar.dataset.digest.row_digest` of every row, in order).

Public API: :func:`check_load`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from khabar.dataset.card import data_path
from khabar.dataset.digest import row_digest
from khabar.dataset.layout import CARD
from khabar.gate.problems import Problem

__all__ = ["check_load"]


def _iter_loaded_rows(ds: Any) -> Iterator[dict[str, Any]]:
    """The rows of a loaded ``datasets.Dataset`` as Python dicts.

    ``load_dataset`` prepares Arrow cache files and memory-maps them; iterating the mapped
    dataset keeps every page it touched resident, so peak memory would grow with the release.
    When the dataset is exactly its cache files (no indices mapping), the same Arrow files are
    read here as streams instead, batch by batch, in constant memory."""
    import pyarrow as pa

    files = [f["filename"] for f in ds.cache_files]
    if ds._indices is not None or not files:
        for batch in ds.iter(batch_size=1000):
            keys = list(batch)
            for i in range(len(batch[keys[0]]) if keys else 0):
                yield {k: batch[k][i] for k in keys}
        return
    names = list(ds.features)
    for name in files:
        with pa.OSFile(name, "rb") as fh:
            reader = pa.ipc.open_stream(fh)
            for batch in reader:
                yield from batch.select(names).to_pylist()


def _check_config(rel: Path, config: str, splits: dict[str, dict[str, Any]], cache: Path) -> list[Problem]:
    """Load ``config`` of ``rel`` and compare each split with ``splits`` (``{split: {num_rows, sha256}}``)."""
    import datasets
    import pyarrow.dataset as pads

    try:  # pre_buffer off: with it, parquet scans keep every buffered row group (memory grows with the file)
        dsd = datasets.load_dataset(str(rel), config, cache_dir=str(cache),
                                    fragment_scan_options=pads.ParquetFragmentScanOptions(pre_buffer=False))
    except Exception as err:  # noqa: BLE001 - the gate reports every failure to load
        return [Problem("load-failed", CARD, f"load_dataset({rel.name!r}, {config!r}): {type(err).__name__}: {err}".splitlines()[0])]
    out = []
    for split, expect in splits.items():
        if split not in dsd:
            out.append(Problem("load-mismatch", data_path(config, split), f"split {split} did not load"))
            continue
        ds = dsd[split]
        h = hashlib.sha256()
        for row in _iter_loaded_rows(ds):
            h.update(row_digest(row))
        if ds.num_rows != expect["num_rows"] or h.hexdigest() != expect["sha256"]:
            out.append(Problem("load-mismatch", data_path(config, split),
                               f"load_dataset gave {ds.num_rows} rows (digest {h.hexdigest()[:12]}…), the build wrote "
                               f"{expect['num_rows']} (digest {expect['sha256'][:12]}…)"))
    return out


def check_load(rel: Path, counts: dict[str, dict[str, dict[str, Any]]]) -> list[Problem]:
    """The ``load_dataset`` round trip of every config of ``counts`` (``reports/rows.json``'s
    ``configs``: ``{config: {split: {num_rows, sha256}}}``), in a throw-away cache folder.

    Returns:
        ``load-failed`` (on ``README.md``) or ``load-mismatch`` (on the split's shard) problems.
    """
    import datasets

    out: list[Problem] = []
    cache = Path(tempfile.mkdtemp(prefix="khabar-validate-"))
    was = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        for config, splits in counts.items():
            out += _check_config(rel, config, splits, cache)
    finally:
        if was:
            datasets.enable_progress_bars()
        shutil.rmtree(cache, ignore_errors=True)
    return out

"""Level 4 of the gate: the ``load_dataset`` round trip (Croissant: :mod:`khabar.gate.croissant`).

* :func:`check_load`: ``load-failed`` (``datasets.load_dataset(release, config)`` raises; the
  message is its first line) and ``load-mismatch`` (a split does not load, or gives other rows
  than the build wrote: count and digest, :class:`khabar.dataset.digest.TableDigest` of the
  loaded Arrow data batch by batch; releases built before toolkit 0.6.0 name
  :data:`~khabar.dataset.digest.DIGEST_V1`, :func:`~khabar.dataset.digest.row_digest` of every row).

Public API: :func:`check_load`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from khabar.dataset.card import data_path
from khabar.dataset.digest import DIGEST_KEY, DIGEST_V1, TableDigest, row_digest
from khabar.dataset.layout import CARD
from khabar.gate.problems import Problem

__all__ = ["check_load"]


def _iter_loaded_batches(ds: Any) -> Iterator[Any]:
    """The Arrow record batches of a loaded ``datasets.Dataset``, in row order.

    ``load_dataset`` prepares Arrow cache files and memory-maps them; iterating the mapped
    dataset keeps every page it touched resident, so peak memory would grow with the release.
    When the dataset is exactly its cache files (no indices mapping), the same Arrow files are
    read here as streams instead, batch by batch, in constant memory."""
    import pyarrow as pa

    files = [f["filename"] for f in ds.cache_files]
    names = list(ds.features)
    if ds._indices is not None or not files:
        for start in range(0, ds.num_rows, 1000):
            yield from ds.data.slice(start, 1000).select(names).to_batches()
        return
    for name in files:
        with pa.OSFile(name, "rb") as fh:
            for batch in pa.ipc.open_stream(fh):
                yield batch.select(names)


def _digest(ds: Any, scheme: str) -> str:
    """The digest of a loaded split in ``scheme`` (``reports/rows.json``'s ``"digest"``)."""
    if scheme == DIGEST_V1:
        h = hashlib.sha256()
        for batch in _iter_loaded_batches(ds):
            for row in batch.to_pylist():
                h.update(row_digest(row))
        return h.hexdigest()
    digest = TableDigest()
    for batch in _iter_loaded_batches(ds):
        digest.update(batch)
    return digest.hexdigest()


def _check_config(rel: Path, config: str, splits: dict[str, dict[str, Any]], cache: Path, scheme: str) -> list[Problem]:
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
        got = _digest(ds, scheme)
        if ds.num_rows != expect["num_rows"] or got != expect["sha256"]:
            out.append(Problem("load-mismatch", data_path(config, split),
                               f"load_dataset gave {ds.num_rows} rows (digest {got[:12]}…), the build wrote "
                               f"{expect['num_rows']} (digest {expect['sha256'][:12]}…)"))
    return out


def check_load(rel: Path, counts: dict[str, dict[str, dict[str, Any]]], scheme: str = DIGEST_KEY) -> list[Problem]:
    """The ``load_dataset`` round trip of every config of ``counts`` (``reports/rows.json``'s
    ``configs``: ``{config: {split: {num_rows, sha256}}}``) in digest ``scheme`` (its ``"digest"``:
    :data:`~khabar.dataset.digest.DIGEST_KEY` or :data:`~khabar.dataset.digest.DIGEST_V1`), each
    config in a throw-away cache folder removed before the next (so the disk holds one config's
    Arrow copy at a time).

    Returns:
        ``load-failed`` (on ``README.md``) or ``load-mismatch`` (on the split's shard) problems.
    """
    import datasets

    out: list[Problem] = []
    was = datasets.utils.logging.is_progress_bar_enabled()
    level = datasets.utils.logging.get_verbosity()
    datasets.disable_progress_bars()
    datasets.utils.logging.set_verbosity(datasets.utils.logging.CRITICAL)  # a failure is one load-failed line, not also the loader's log
    try:
        for config, splits in counts.items():  # one cache per config, removed after it: disk holds one config's Arrow copy
            cache = Path(tempfile.mkdtemp(prefix="khabar-validate-"))
            try:
                out += _check_config(rel, config, splits, cache, scheme)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        datasets.utils.logging.set_verbosity(level)
        if was:
            datasets.enable_progress_bars()
    return out

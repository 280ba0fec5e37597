"""Writing the parquet shards of a release being built.

One ``pyarrow.parquet.ParquetWriter`` (zstd) per config and split, under the config's explicit
Arrow schema (:func:`khabar.dataset.features.arrow_schema`, which carries the Hugging Face
features), opened at its first row; rows are buffered and written every :data:`BATCH_ROWS`, so
memory does not grow with the corpus. The row count and digest of every config/split become
``reports/rows.json`` (:func:`khabar.dataset.digest.row_digest`), which the gate checks after
``load_dataset``.

Public API: :class:`Shards`, :data:`BATCH_ROWS`, :func:`configs_stats`.
"""

from __future__ import annotations

import collections
import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from khabar.dataset.card import data_path
from khabar.dataset.digest import DIGEST_KEY, row_digest
from khabar.dataset.features import arrow_schema
from khabar.dataset.rows import SPLITS

__all__ = ["Shards", "BATCH_ROWS", "configs_stats"]

#: rows buffered per config/split before they are written as one row group
BATCH_ROWS = 1000


class Shards:
    """The parquet shards of a release being built: one ``ParquetWriter`` (zstd, the config's
    explicit Arrow schema) per config and split, opened at its first row, so a split with no rows
    gets no file (``load_dataset`` refuses empty splits); rows are buffered and written every
    :data:`BATCH_ROWS`, so memory does not grow with the corpus. Keeps the row count and the
    digest (:func:`~khabar.dataset.digest.row_digest` of each row, in order) of every config/split
    for ``reports/rows.json``.

    Args:
        staging: the staged release folder (shards go to ``data/<config>/<split>-00000-of-00001.parquet``).
        features: config -> ``datasets.Features``.
    """

    def __init__(self, staging: Path, features: dict[str, Any]):
        self.staging = staging
        self.schemas = {c: arrow_schema(f) for c, f in features.items()}
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.buffers: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
        self.counts = {c: dict.fromkeys(SPLITS, 0) for c in features}
        self.digests = {c: {s: hashlib.sha256() for s in SPLITS} for c in features}

    def add(self, config: str, split: str, encoded: dict[str, Any]) -> None:
        """Append one encoded row (ClassLabel ids) to ``config``/``split``."""
        self.digests[config][split].update(row_digest(encoded))
        self.counts[config][split] += 1
        buf = self.buffers[config, split]
        buf.append(encoded)
        if len(buf) >= BATCH_ROWS:
            self._flush(config, split)

    def _flush(self, config: str, split: str) -> None:
        buf = self.buffers.pop((config, split), None)
        if not buf:
            return
        if (config, split) not in self.writers:
            out = self.staging / data_path(config, split)
            out.parent.mkdir(parents=True, exist_ok=True)
            self.writers[config, split] = pq.ParquetWriter(out, self.schemas[config], compression="zstd")
        self.writers[config, split].write_table(pa.Table.from_pylist(buf, schema=self.schemas[config]))

    def close(self) -> None:
        """Write what is buffered and close every file."""
        for config, split in list(self.buffers):
            self._flush(config, split)
        for writer in self.writers.values():
            writer.close()

    def rows(self) -> dict[str, dict[str, int]]:
        """``{config: {split: rows}}`` of the splits with rows (a config with none maps to ``{}``)."""
        return {c: {s: n for s, n in splits.items() if n} for c, splits in self.counts.items()}

    def report(self) -> dict[str, Any]:
        """``reports/rows.json``: count and digest of every config/split with rows."""
        return {"digest": DIGEST_KEY, "configs": {c: {s: {"num_rows": n, "sha256": self.digests[c][s].hexdigest()}
                                                      for s, n in splits.items()} for c, splits in self.rows().items() if splits}}


def configs_stats(counters: dict[str, collections.Counter], rows: dict[str, dict[str, int]]) -> dict[str, Any]:
    """``stats.json``'s ``configs``: per training config its rows per split and the counts of
    :func:`khabar.dataset.training.derive` (what was merged, widened or left out, and why)."""
    return {c: {"splits": rows[c], **dict(sorted(counters[c].items()))} for c in counters}

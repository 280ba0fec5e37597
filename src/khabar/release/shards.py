"""Writing the parquet shards of a release being built.

One ``pyarrow.parquet.ParquetWriter`` (zstd) per config and split, under the config's explicit
Arrow schema (:func:`khabar.dataset.features.arrow_schema`, which carries the Hugging Face
features), opened at its first row. Rows arrive as Arrow tables (a run of documents at a time, from
the build's workers: :mod:`khabar.release.chunks`), are buffered, and are written in row groups of
exactly :data:`ROW_GROUP_ROWS` rows of the config (the last one shorter), so the files do not
depend on how the documents were cut into runs, and memory does not grow with the corpus. The row count and digest
of every config/split become ``reports/rows.json``
(:class:`khabar.dataset.digest.TableDigest`), which the gate checks after ``load_dataset``.

Public API: :class:`Shards`, :data:`ROW_GROUP_ROWS`, :func:`configs_stats`.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from khabar.dataset.card import data_path
from khabar.dataset.digest import DIGEST_KEY, TableDigest
from khabar.dataset.features import arrow_schema
from khabar.dataset.rows import SPLITS

__all__ = ["Shards", "ROW_GROUP_ROWS", "configs_stats"]

#: rows per row group, by config: about 10 MB of Arrow data each on news-length documents (a
#: ``documents`` row holds ~10 KB, a sentence row of ``entities`` or ``claims`` and a ``stances`` row
#: ~0.5 KB). Every reader parses a file's footer whole, and the footer grows with the number of row
#: groups: with 1,000-row groups (toolkit 0.6.0), the ``claims`` train file of 100,000 synthetic
#: documents had 2,707 row groups and a 6.6 MB footer that took 54 MB of memory to open
#: (``scripts/bench_build.py``); with 20,000 it has 136. Releases whose splits hold fewer rows than
#: these (every committed one) are one row group per file either way.
ROW_GROUP_ROWS = {"documents": 1000, "entities": 20000, "claims": 20000, "stances": 20000}


class Shards:
    """The parquet shards of a release being built: one ``ParquetWriter`` (zstd, the config's
    explicit Arrow schema) per config and split, opened at its first row, so a split with no rows
    gets no file (``load_dataset`` refuses empty splits); row groups of exactly
    :data:`ROW_GROUP_ROWS` rows of the config. Keeps the row count and the
    :class:`~khabar.dataset.digest.TableDigest` of every config/split for ``reports/rows.json``.

    Args:
        staging: the staged release folder (shards go to ``data/<config>/<split>-00000-of-00001.parquet``).
        features: config -> ``datasets.Features``.
    """

    def __init__(self, staging: Path, features: dict[str, Any]):
        self.staging = staging
        self.schemas = {c: arrow_schema(f) for c, f in features.items()}
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.buffers: dict[tuple[str, str], list[pa.Table]] = collections.defaultdict(list)
        self.buffered: collections.Counter[tuple[str, str]] = collections.Counter()
        self.counts = {c: dict.fromkeys(SPLITS, 0) for c in features}
        self.digests = {c: {s: TableDigest() for s in SPLITS} for c in features}

    def add_table(self, config: str, split: str, table: pa.Table) -> None:
        """Append encoded rows (ClassLabel ids; the config's Arrow schema) to ``config``/``split``.

        Raises:
            ValueError: ``table`` is not of the config's Arrow schema.
        """
        if not table.num_rows:
            return
        if not table.schema.equals(self.schemas[config]):
            raise ValueError(f"rows of {config} with another Arrow schema than the release's")
        self.digests[config][split].update(table)
        self.counts[config][split] += table.num_rows
        self.buffers[config, split].append(table)
        self.buffered[config, split] += table.num_rows
        size = ROW_GROUP_ROWS[config]
        while self.buffered[config, split] >= size:
            self._flush(config, split, size)

    def _flush(self, config: str, split: str, size: int | None = None) -> None:
        """Write the first ``size`` buffered rows (all when None) of ``config``/``split`` as one row group."""
        tables = self.buffers.pop((config, split), [])
        if not tables:
            return
        table = pa.concat_tables(tables)
        size = table.num_rows if size is None else size
        rest = table.slice(size)
        if rest.num_rows:
            self.buffers[config, split] = [rest]
        self.buffered[config, split] = rest.num_rows
        if (config, split) not in self.writers:
            out = self.staging / data_path(config, split)
            out.parent.mkdir(parents=True, exist_ok=True)
            self.writers[config, split] = pq.ParquetWriter(out, self.schemas[config], compression="zstd")
        self.writers[config, split].write_table(table.slice(0, size).combine_chunks(), row_group_size=size)

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

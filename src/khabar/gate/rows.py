"""Levels 2 and 3 of the gate on the ``documents`` rows: every row of every shard, one row group
at a time, with the cross-row state on disk (memory does not grow with the release).

* records: ``classlabel-out-of-range``, ``label-unknown``, ``schema-invalid``
  (:mod:`khabar.gate.records`);
* integrity in a row: the span and id checks of :mod:`khabar.core.checks` (``offset-type``,
  ``span-out-of-bounds``, ``span-empty``, ``span-text-mismatch``, ``id-duplicate``,
  ``id-dangling``, ``entity-duplicate``, ``chain-invalid``, ``text-sha256-mismatch``);
* across rows: ``doc-id-duplicate``, ``split-mismatch`` (a row in another split than its id
  assigns), ``split-leak-exact`` and ``split-leak-near`` (the same or a near-duplicate text in
  two splits).

Public API: :func:`check_documents`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from khabar.core.checks import check_row
from khabar.core.parallel import ordered_map
from khabar.core.schema import Schemas
from khabar.core.store import DiskIndex
from khabar.dataset.card import data_path
from khabar.dataset.features import CONFIGS, features_for, make_decoder
from khabar.dataset.rows import split_for
from khabar.gate.problems import Problem
from khabar.gate.records import OutOfRange, label_problems, raise_out_of_range, schema_problems
from khabar.text.neardup import NearDupIndex, signature

__all__ = ["check_documents"]

#: rows per batch handed to a worker
ROW_BATCH = 256


class _RowChecker:
    """A worker's state for :func:`_check_batch`: the schemas and the ``documents`` features."""

    def __init__(self, schemas: Schemas):
        self.schemas = schemas
        self.features = features_for(schemas, "documents")
        self.decode = make_decoder(self.features, on_bad=raise_out_of_range)


def _check_batch(state: _RowChecker, item: tuple[str, str, pa.RecordBatch]) -> list[tuple[Any, list[Problem], Any]]:
    """The checks of one row at a time, on a batch of rows of shard ``path`` of ``split``:
    ``[(doc id, problems, (text_sha256, MinHash signature) or None when the row failed its
    records checks)]``, in row order. Nothing here needs another row."""
    path, split, batch = item
    schema_name = CONFIGS["documents"]
    out = []
    for row in batch.to_pylist():
        doc_id = row.get("id")
        try:
            decoded = state.decode(row)
        except OutOfRange:  # find every bad id, with its path
            out.append((doc_id, label_problems(path, state.features, row, doc_id), None))
            continue
        # rows from parquet hold nulls where the schema says the key may be absent: none here
        probs = state.schemas.problems(schema_name, decoded)
        found = schema_problems(state.schemas, schema_name, path, probs, doc_id)
        if probs:
            out.append((doc_id, found, None))
            continue
        found += [Problem(check, path, msg, doc_id, field) for check, field, msg in check_row(decoded)]
        if split_for(doc_id) != split:
            found.append(Problem("split-mismatch", path, f"row is in {split} but its id assigns it to {split_for(doc_id)}", doc_id, "$.id"))
        out.append((doc_id, found, (decoded["text_sha256"], signature(decoded["text"]))))
    return out


def _check_rows(rel: Path, split: str, path: str, schemas: Schemas, seen: DiskIndex, near: NearDupIndex, progress: bool,
                workers: int) -> list[Problem]:
    """Every check of the module docstring but the near-duplicate one on the shard ``path`` of
    ``split``, the row checks on ``workers`` processes (:func:`_check_batch`); records each id
    (``seen["id"]``) and text hash (``seen["text"]``) and adds each text's signature to ``near``,
    here, in row order."""
    out: list[Problem] = []
    pf = pq.ParquetFile(rel / path)
    bar = tqdm(total=pf.metadata.num_rows, desc=f"validate {split}", unit="doc", disable=None if progress else True)
    batches = ((path, split, batch) for batch in pf.iter_batches(batch_size=ROW_BATCH))  # constant memory
    for checked in ordered_map(_RowChecker, (schemas,), _check_batch, batches, workers):
        for doc_id, problems, text in checked:
            bar.update(1)
            first = seen.setdefault("id", str(doc_id), path)
            if first is not None:
                out.append(Problem("doc-id-duplicate", path, f"document id also in {first}", doc_id, "$.id"))
            out += problems
            if text is None:
                continue
            prev = seen.setdefault("text", text[0], f"{split} {doc_id}")
            if prev is not None:
                prev_split, prev_id = prev.split(" ", 1)
                if prev_split != split:
                    out.append(Problem("split-leak-exact", path, f"same text as {prev_id} in {prev_split}", doc_id, "$.text"))
            else:
                near.add_signature(doc_id, split, text[1])
    bar.close()
    return out


def check_documents(rel: Path, schemas: Schemas, shards: dict[str, str], seen: DiskIndex, progress: bool = False,
                    workers: int = 1) -> list[Problem]:
    """Levels 2-3 on the ``documents`` shards ``{split: path}`` (those whose Arrow schema passed).

    Args:
        seen: the gate's index on disk; filled here with ``id`` -> shard path and ``text``
            (``text_sha256``) -> ``"<split> <id>"``, which the training and report checks read.
        workers: processes for the checks of one row at a time (the problems are the same with any number).

    Returns:
        The problems, shard by shard in ``shards`` order, then ``split-leak-near`` (one per pair).
        A shard that stops reading midway gives ``parquet-unreadable``.
    """
    out: list[Problem] = []
    with NearDupIndex() as near:
        for split, path in shards.items():
            try:
                out += _check_rows(rel, split, path, schemas, seen, near, progress, workers)
            except (OSError, ValueError, pa.ArrowException) as err:
                out.append(Problem("parquet-unreadable", path, f"{type(err).__name__}: {err}".splitlines()[0]))
        for a, sa, b, sb, sim in near.cross_split_pairs():
            out.append(Problem("split-leak-near", data_path("documents", sb),
                               f"near duplicate (estimated Jaccard {sim:.2f}) of {a} in {sa}", b, "$.text"))
    return out

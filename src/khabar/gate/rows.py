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

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features
from tqdm import tqdm

from khabar.core.checks import check_row
from khabar.core.schema import Schemas
from khabar.core.store import DiskIndex
from khabar.dataset.card import data_path
from khabar.dataset.features import CONFIGS, features_for, make_decoder
from khabar.dataset.rows import split_for
from khabar.gate.problems import Problem
from khabar.gate.records import OutOfRange, label_problems, raise_out_of_range, schema_problems
from khabar.text.neardup import NearDupIndex

__all__ = ["check_documents"]


def _check_rows(rel: Path, split: str, path: str, schemas: Schemas, features: Features,
                seen: DiskIndex, near: NearDupIndex, progress: bool) -> list[Problem]:
    """Every check of the module docstring but the near-duplicate one on the shard ``path`` of
    ``split``; records each id (``seen["id"]``) and text hash (``seen["text"]``) and adds each
    text to ``near``."""
    out: list[Problem] = []
    pf = pq.ParquetFile(rel / path)
    schema_name = CONFIGS["documents"]
    fast_decode = make_decoder(features, on_bad=raise_out_of_range)
    bar = tqdm(total=pf.metadata.num_rows, desc=f"validate {split}", unit="doc", disable=None if progress else True)
    for group in range(pf.metadata.num_row_groups):  # one row group at a time: constant memory
        for row in pf.read_row_group(group).to_pylist():
            bar.update(1)
            doc_id = row.get("id")
            first = seen.setdefault("id", str(doc_id), path)
            if first is not None:
                out.append(Problem("doc-id-duplicate", path, f"document id also in {first}", doc_id, "$.id"))
            try:
                decoded = fast_decode(row)
            except OutOfRange:  # find every bad id, with its path
                out += label_problems(path, features, row, doc_id)
                continue
            # rows from parquet hold nulls where the schema says the key may be absent: none here
            probs = schemas.problems(schema_name, decoded)
            out += schema_problems(schemas, schema_name, path, probs, doc_id)
            if probs:
                continue
            for check, field, msg in check_row(decoded):
                out.append(Problem(check, path, msg, doc_id, field))
            if split_for(doc_id) != split:
                out.append(Problem("split-mismatch", path, f"row is in {split} but its id assigns it to {split_for(doc_id)}", doc_id, "$.id"))
            prev = seen.setdefault("text", decoded["text_sha256"], f"{split} {doc_id}")
            if prev is not None:
                prev_split, prev_id = prev.split(" ", 1)
                if prev_split != split:
                    out.append(Problem("split-leak-exact", path, f"same text as {prev_id} in {prev_split}", doc_id, "$.text"))
            else:
                near.add(doc_id, split, decoded["text"])
    bar.close()
    return out


def check_documents(rel: Path, schemas: Schemas, shards: dict[str, str], seen: DiskIndex, progress: bool = False) -> list[Problem]:
    """Levels 2-3 on the ``documents`` shards ``{split: path}`` (those whose Arrow schema passed).

    Args:
        seen: the gate's index on disk; filled here with ``id`` -> shard path and ``text``
            (``text_sha256``) -> ``"<split> <id>"``, which the training and report checks read.

    Returns:
        The problems, shard by shard in ``shards`` order, then ``split-leak-near`` (one per pair).
        A shard that stops reading midway gives ``parquet-unreadable``.
    """
    out: list[Problem] = []
    features = features_for(schemas, "documents")
    with NearDupIndex() as near:
        for split, path in shards.items():
            try:
                out += _check_rows(rel, split, path, schemas, features, seen, near, progress)
            except (OSError, ValueError, pa.ArrowException) as err:
                out.append(Problem("parquet-unreadable", path, f"{type(err).__name__}: {err}".splitlines()[0]))
        for a, sa, b, sb, sim in near.cross_split_pairs():
            out.append(Problem("split-leak-near", data_path("documents", sb),
                               f"near duplicate (estimated Jaccard {sim:.2f}) of {a} in {sa}", b, "$.text"))
    return out

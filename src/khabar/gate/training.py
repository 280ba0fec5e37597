"""The gate's checks of the training configs (``entities``, ``claims``, ``stances``).

One streaming pass per split reads the ``documents`` rows and the rows of every training config
of that split together, one row group at a time (memory does not grow with the release):

* records (level 2): ``classlabel-out-of-range``, ``label-unknown``, ``schema-invalid`` against
  ``schema/release/<config>.schema.json``; ``id-duplicate`` (a row id twice in the config),
  ``split-mismatch`` (a row in another split than its document's);
* integrity (level 3): ``tokens-misaligned`` (``tokens``, ``offsets`` and the tag columns of an
  ``entities`` row differ in length); ``span-out-of-bounds`` and ``span-text-mismatch`` (a
  token's offsets do not give the token in the document's text; a claims row's ``text`` is not the
  document's ``text[start:end]``; a claim span relative to the row's text does not give its
  text); ``id-dangling`` (``doc_id`` names no document of the split);
* derivation (level 4): ``config-derivation-mismatch``: the rows differ from those
  :func:`khabar.dataset.training.derive` gives for the ``documents`` rows of the same split (compared
  row by row, in order, as stored: a missing, extra, reordered or changed row); the first
  differing row is named. Run only on a config/split whose rows and whose documents passed
  the levels above (those problems already say what is wrong). For a release whose card
  ``version`` is 0.3.0 or newer every training config is compared; a config absent from the card
  is accepted only when re-deriving it gives no rows (``card-files-mismatch`` otherwise).

The derivation is compared first as a whole, per split (:func:`_split_is_derived`): the derived
rows are encoded into Arrow batches and their :class:`~khabar.dataset.digest.TableDigest` and
count compared with the shard's, read column-wise. When every config of the split matches, its
rows are the derived rows of documents rows that passed levels 2-3, so they pass levels 2-3 by
construction (ids ``<doc_id>:<n>`` are unique because document ids are), and the row-by-row pass
below is skipped; otherwise it runs and names the first difference.

Public API: :func:`check_training_configs`, :func:`check_training_row`, :data:`ALL_CONFIGS_SINCE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from khabar.core.errors import InputError
from khabar.core.parallel import ordered_map
from khabar.core.schema import Schemas
from khabar.core.store import DiskIndex
from khabar.dataset.card import data_path
from khabar.dataset.digest import TableDigest
from khabar.dataset.features import TRAINING_CONFIGS, arrow_schema, features_for, make_decoder, make_encoder
from khabar.dataset.rows import SPLITS, split_for
from khabar.dataset.training import Spec, derive
from khabar.dataset.training_tables import TrainingTables
from khabar.gate.problems import Problem
from khabar.gate.records import OutOfRange, label_problems, raise_out_of_range, schema_problems
from khabar.dataset.layout import CARD

__all__ = ["check_training_configs", "check_training_row", "ALL_CONFIGS_SINCE"]

#: releases from this version on carry every training config (0.1.0 and 0.2.0 had ``documents`` only)
ALL_CONFIGS_SINCE = (0, 3, 0)
#: documents rows per batch handed to a worker by the whole-split comparison
DERIVE_BATCH = 256


def _rows(path: Path | None) -> Iterator[dict[str, Any]]:
    if path is None:
        return
    pf = pq.ParquetFile(path)
    for group in range(pf.metadata.num_row_groups):
        yield from pf.read_row_group(group).to_pylist()


def _span_problem(text: str, span: dict[str, Any], field: str, what: str) -> list[tuple[str, str, str]]:
    s, e = span.get("start"), span.get("end")
    if not (0 <= s <= e <= len(text)):
        return [("span-out-of-bounds", field, f"[{s}, {e}) is outside {what} (length {len(text)})")]
    if text[s:e] != span.get("text"):
        return [("span-text-mismatch", field, f"{what}[{s}:{e}] is {text[s:e]!r}, the span says {span.get('text')!r}")]
    return []


def check_training_row(config: str, row: dict[str, Any], doc_text: str | None) -> list[tuple[str, str, str]]:
    """Integrity problems ``(check, field, message)`` of one schema-valid, decoded training row.

    Args:
        doc_text: the ``text`` of the row's document, or None when it is not at hand (then only
            the checks inside the row run).
    """
    out: list[tuple[str, str, str]] = []
    if config == "entities":
        lengths = {k: len(row[k]) for k in ("tokens", "offsets", "ner_tags", "nested_ner_tags")}
        if len(set(lengths.values())) > 1:
            return [("tokens-misaligned", "$.tokens", "tokens, offsets and tag lists differ in length: "
                     + ", ".join(f"{k} {n}" for k, n in lengths.items()))]
        if doc_text is not None:
            for i, (tok, off) in enumerate(zip(row["tokens"], row["offsets"])):
                if not (row["start"] <= off["start"] < off["end"] <= row["end"]):
                    out.append(("span-out-of-bounds", f"$.offsets[{i}]", f"[{off['start']}, {off['end']}) is outside the "
                                f"sentence [{row['start']}, {row['end']})"))
                else:
                    out += _span_problem(doc_text, {**off, "text": tok}, f"$.offsets[{i}]", "the document's text")
    elif config == "claims":
        if doc_text is not None:
            out += _span_problem(doc_text, row, "$.text", "the document's text")
        for i, claim in enumerate(row["claims"]):
            for key in ("content", "cue"):
                if claim[key] is not None:
                    out += _span_problem(row["text"], claim[key], f"$.claims[{i}].{key}", "the row's text")
    return out


@dataclass
class _Cursor:
    """The comparison of one config/split: rows found against rows re-derived."""

    config: str
    path: str
    rows: Iterator[dict[str, Any]]
    features: Any
    decode: Callable[[dict[str, Any]], dict[str, Any]]
    n_found: int = 0
    n_derived: int = 0
    first: tuple[int, str | None, str] | None = None  # (row index, document id, what differs)
    bad: bool = False


def _difference(i: int, got: dict[str, Any] | None, want: dict[str, Any] | None) -> tuple[int, str | None, str]:
    if got is None:
        return i, want["doc_id"], f"{want['id']} is missing"
    if want is None:
        return i, got.get("doc_id"), f"{got.get('id')} is not derived from any documents row"
    if got.get("id") != want["id"]:
        return i, want["doc_id"], f"found {got.get('id')} where {want['id']} is derived"
    keys = [k for k in want if got.get(k) != want[k]]
    return i, want["doc_id"], f"{want['id']}: {', '.join(keys)} differ{'s' if len(keys) == 1 else ''}"


def check_training_configs(rel: Path, schemas: Schemas, version: tuple[int, int, int] | None,
                           declared: dict[str, dict[str, str]], shards_ok: dict[str, dict[str, str]],
                           unsound: set[str], seen: DiskIndex, derive_all: bool = True, progress: bool = False,
                           workers: int = 1) -> list[Problem]:
    """Every check of the module docstring, for every split.

    Args:
        version: the card's version (None when it has none: treated as the newest).
        declared: ``{config: {split: path}}`` as the card declares them.
        shards_ok: the shards whose Arrow schema passed, ``{config: {split: path}}``.
        unsound: paths of shards with problems already (unreadable, wrong schema, bad rows).
        seen: the gate's index (``id`` -> path of the documents shard that holds it).
        derive_all: run the derivation level (off when the files are unsound: a card or shard
            problem of level 1 leaves the rows to compare unknown).
        workers: processes that derive the rows for the whole-split comparison.
    """
    every = version is None or version >= ALL_CONFIGS_SINCE
    configs = [c for c in TRAINING_CONFIGS if every or c in declared]
    if not configs:
        return []
    try:
        spec = Spec.from_schemas(schemas)
    except InputError as err:
        return [Problem("schema-invalid", "schema/labels.schema.json", str(err).split(": ", 1)[-1])]
    features = {c: features_for(schemas, c) for c in ["documents", *configs]}
    encode = {c: make_encoder(features[c]) for c in configs}
    out: list[Problem] = []
    totals = dict.fromkeys(configs, 0)
    for split in SPLITS:
        doc_path = shards_ok.get("documents", {}).get(split)
        cursors = _cursors(rel, split, configs, shards_ok, features)
        if not cursors or (doc_path is None and all(not shards_ok.get(c.config, {}).get(split) for c in cursors)):
            continue
        derive_ok = derive_all and (doc_path is None or doc_path not in unsound)
        decode_doc = make_decoder(features["documents"])
        counts = _split_is_derived(rel, doc_path if derive_ok else None, _whole(cursors, split, declared, shards_ok, unsound),
                                   schemas, progress, split, workers)
        if counts is not None:
            totals.update({c: totals[c] + n for c, n in counts.items()})
            continue
        docs = _rows(rel / doc_path) if doc_path and derive_ok else iter(())
        n_docs = pq.ParquetFile(rel / doc_path).metadata.num_rows if doc_path and derive_ok else 0
        for raw in tqdm(docs, total=n_docs, desc=f"validate configs {split}", unit="doc", disable=None if progress else True):
            try:
                derived = derive(decode_doc(raw), spec).rows
            except (KeyError, TypeError, ValueError):  # a documents row the levels above did not pass
                derive_ok = False
                break
            for cur in cursors:
                for named in derived[cur.config]:
                    want = encode[cur.config](named)
                    got = next(cur.rows, None)
                    same = False
                    if got is not None:
                        same = _found(cur, got, (want, named), raw if got.get("doc_id") == raw["id"] else None, split,
                                      doc_path, schemas, seen, out)
                    if cur.first is None and not same:
                        cur.first = _difference(cur.n_derived, got, want)
                    cur.n_derived += 1
        for cur in cursors:
            for got in cur.rows:  # rows beyond those derived
                _found(cur, got, None, None, split, doc_path if derive_ok else None, schemas, seen, out)
                if cur.first is None:
                    cur.first = _difference(cur.n_found - 1, got, None)
            if not derive_ok:
                continue
            totals[cur.config] += cur.n_derived
            if cur.config in declared and not cur.bad and cur.first is not None:  # rows compared in place, in order
                i, doc_id, what = cur.first
                counts = (f"{cur.n_found} rows, as many as the documents rows of {split} give, but not the same" if cur.n_found == cur.n_derived
                          else f"{cur.n_found} rows where the documents rows of {split} give {cur.n_derived}")
                out.append(Problem("config-derivation-mismatch", cur.path, f"{counts}; first difference at row {i}: {what}", doc_id))
    for c in configs if derive_all else ():
        if c not in declared and totals[c]:
            out.append(Problem("card-files-mismatch", CARD, f"config {c} is not declared, but the documents rows give "
                               f"{totals[c]} {c} rows (releases from {'.'.join(map(str, ALL_CONFIGS_SINCE))} carry every "
                               "training config that has rows)", field="configs"))
    return out


class _Deriver:
    """A worker's state for :func:`_derive_batch`: the decoder of the ``documents`` rows and the
    training tables of the configs compared (:class:`~khabar.dataset.training_tables.TrainingTables`)."""

    def __init__(self, schemas: Schemas, configs: tuple[str, ...]):
        self.decode_doc = make_decoder(features_for(schemas, "documents"))
        self.tables = TrainingTables(schemas, configs)


def _derive_batch(state: _Deriver, batch: pa.RecordBatch) -> dict[str, pa.Table] | None:
    """The encoded training rows derived from a batch of ``documents`` rows, one table per config;
    None when a row cannot be derived or encoded (a row the levels above did not pass)."""
    try:
        for raw in batch.to_pylist():
            state.tables.add(state.decode_doc(raw))
        return state.tables.take()
    except (KeyError, TypeError, ValueError, pa.ArrowException):
        state.tables.clear()  # drop what the batch gathered
        return None


def _cursors(rel: Path, split: str, configs: list[str], shards_ok: dict[str, dict[str, str]], features: dict[str, Any]) -> list[_Cursor]:
    """A cursor over each config's shard of ``split`` (over no rows when it has none); none for a
    shard present but unreadable or mistyped (already reported)."""
    cursors = []
    for c in configs:
        path = shards_ok.get(c, {}).get(split)
        if path is None and (rel / data_path(c, split)).is_file():
            continue
        cursors.append(_Cursor(c, path or data_path(c, split), _rows(rel / path if path else None), features[c],
                               make_decoder(features[c], on_bad=raise_out_of_range)))
    return cursors


def _whole(cursors: list[_Cursor], split: str, declared: dict[str, dict[str, str]], shards_ok: dict[str, dict[str, str]],
           unsound: set[str]) -> dict[str, str] | None:
    """``{config: shard}`` of a split to compare as a whole: every config's shard declared, of the
    right schema and sound; None otherwise (the row-by-row pass decides)."""
    fast = {c.config: shards_ok[c.config][split] for c in cursors if shards_ok.get(c.config, {}).get(split) in declared.get(c.config, {}).values()}
    return fast if len(fast) == len(cursors) and not unsound & set(fast.values()) else None


def _split_is_derived(rel: Path, doc_path: str | None, shards: dict[str, str] | None, schemas: Schemas, progress: bool, split: str,
                      workers: int) -> dict[str, int] | None:
    """``{config: rows}`` when the shards ``{config: path}`` of a split hold exactly the rows derived
    from its documents shard (count and :class:`~khabar.dataset.digest.TableDigest`), derived on
    ``workers`` processes (:func:`khabar.core.parallel.ordered_map`); None when any differs or a
    documents row cannot be derived (the row-by-row pass then says what is wrong), and when there is
    no documents shard (``doc_path`` None) or no ``shards`` to compare."""
    if doc_path is None or shards is None:
        return None
    want = {c: TableDigest() for c in shards}
    pf = pq.ParquetFile(rel / doc_path)
    batches = pf.iter_batches(batch_size=DERIVE_BATCH)
    with tqdm(total=pf.metadata.num_rows, desc=f"validate configs {split}", unit="doc", disable=None if progress else True) as bar:
        for tables in ordered_map(_Deriver, (schemas, tuple(shards)), _derive_batch, batches, workers):
            if tables is None:
                return None
            for config, table in tables.items():
                want[config].update(table)
            bar.update(DERIVE_BATCH)
    got = {c: TableDigest() for c in shards}
    for config, path in shards.items():
        for batch in pq.ParquetFile(rel / path).iter_batches(batch_size=4096):
            got[config].update(batch)
    if any(got[c].rows != want[c].rows or got[c].hexdigest() != want[c].hexdigest() for c in shards):
        return None
    return {c: want[c].rows for c in shards}


def _found(cur: _Cursor, got: dict[str, Any], want: tuple[dict[str, Any], dict[str, Any]] | None, doc: dict[str, Any] | None,
           split: str, doc_path: str | None, schemas: Schemas, seen: DiskIndex, out: list[Problem]) -> bool:
    """Levels 2-3 of one row found in a shard. ``want``: the row derived at its place, with ids
    and with names (None past the derived rows); ``doc``: its (raw) documents row when at hand.

    Returns whether the row is the derived one. The integrity checks run only on rows that are
    not: a derived row's tokens and spans are slices of the document's text by construction.
    """
    cur.n_found += 1
    same = want is not None and got == want[0]
    before = len(out)
    row_id, doc_id = got.get("id"), got.get("doc_id")
    try:
        decoded = want[1] if same else cur.decode(got)  # the same ids as the derived row: its names
    except OutOfRange:
        out.extend(label_problems(cur.path, cur.features, got, doc_id))
        cur.bad = True
        return False
    schema_name = f"release/{cur.config}"  # parquet int columns hold no float literals: the fast validator decides
    found = [] if schemas.fast_validator(schema_name).is_valid(decoded) else schemas.problems(schema_name, decoded)
    out.extend(schema_problems(schemas, schema_name, cur.path, found, doc_id))
    if len(out) == before:
        first = seen.setdefault(f"{cur.config}:id", str(row_id), cur.path)
        if first is not None:
            out.append(Problem("id-duplicate", cur.path, f"row id {row_id} also in {first}", doc_id, "$.id"))
        if doc is None and split_for(doc_id) != split:
            out.append(Problem("split-mismatch", cur.path, f"row is in {split} but its document {doc_id} is assigned to "
                               f"{split_for(doc_id)}", doc_id, "$.doc_id"))
        if doc is None and doc_path is not None and seen.get("id", doc_id) != doc_path:
            out.append(Problem("id-dangling", cur.path, f"doc_id {doc_id} is not a row of {doc_path}", doc_id, "$.doc_id"))
        if not same:
            out.extend(Problem(c, cur.path, m, doc_id, f) for c, f, m in check_training_row(cur.config, decoded, doc and doc["text"]))
    cur.bad = cur.bad or len(out) > before
    return same

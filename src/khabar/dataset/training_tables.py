"""The training configs of many documents as Arrow tables: what the build writes and what the
gate compares the shards with.

:class:`TrainingTables` takes decoded ``documents`` rows one at a time
(:func:`khabar.dataset.training.derive`, so the same rows and counts) and gathers the encoded
rows of each training config. The ``entities`` config, by far the largest (one row per sentence,
one list item per token), is gathered as Arrow columns: each text is tokenized once
(:func:`khabar.dataset.training.sentence_tokens`), tags are written as ClassLabel ids, and tokens,
offsets and tags go into flat lists that become ``list<...>`` arrays, with no dict per row or per
token. ``claims`` and ``stances`` are encoded row by row (:func:`khabar.dataset.features.make_encoder`).
The tables are the same, row for row and byte for byte once written, as
``pyarrow.Table.from_pylist`` of the encoded :func:`~khabar.dataset.training.entity_rows`
(``tests/test_training_tables.py``).

Public API: :class:`TrainingTables`.
"""

from __future__ import annotations

import collections
from typing import Any, Mapping

import pyarrow as pa

from khabar.core.schema import Schemas
from khabar.dataset.features import TRAINING_CONFIGS, arrow_schema, features_for, make_encoder
from khabar.dataset.training import NER_DEPTH, Spec, derive, entity_sentences

__all__ = ["TrainingTables"]


class _EntityColumns:
    """The ``entities`` rows gathered as columns (see the module docstring)."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.ids: list[str] = []
        self.doc_ids: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.sizes: list[int] = [0]  # list offsets, shared by the four list columns
        self.tokens: list[str] = []
        self.tok_starts: list[int] = []
        self.tok_ends: list[int] = []
        self.tags: list[list[int]] = [[] for _ in range(NER_DEPTH)]

    def add(self, doc: Mapping[str, Any], sentences: list[tuple[list[tuple[int, int]], list[list[int]]]]) -> None:
        text, doc_id = doc["text"], doc["id"]
        for n, (sent, (toks, tags)) in enumerate(zip(doc["sentences"], sentences)):
            self.ids.append(f"{doc_id}:{n}")
            self.doc_ids.append(doc_id)
            self.starts.append(sent["start"])
            self.ends.append(sent["end"])
            self.sizes.append(self.sizes[-1] + len(toks))
            self.tokens += [text[a:b] for a, b in toks]
            self.tok_starts += [a for a, _ in toks]
            self.tok_ends += [b for _, b in toks]
            for layer, column in zip(tags, self.tags):
                column += layer

    def table(self) -> pa.Table:
        """The rows so far (the config's Arrow schema, its metadata included)."""
        f = self.schema
        offsets = pa.array(self.sizes, pa.int32())
        spans = f.field("offsets").type.value_type
        columns = {
            "id": pa.array(self.ids, f.field("id").type), "doc_id": pa.array(self.doc_ids, f.field("doc_id").type),
            "start": pa.array(self.starts, f.field("start").type), "end": pa.array(self.ends, f.field("end").type),
            "tokens": pa.ListArray.from_arrays(offsets, pa.array(self.tokens, f.field("tokens").type.value_type), type=f.field("tokens").type),
            "offsets": pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays(
                [pa.array(self.tok_starts, spans.field("start").type), pa.array(self.tok_ends, spans.field("end").type)],
                fields=list(spans)), type=f.field("offsets").type),
        }
        for name, column in zip(("ner_tags", "nested_ner_tags"), self.tags):
            columns[name] = pa.ListArray.from_arrays(offsets, pa.array(column, f.field(name).type.value_type), type=f.field(name).type)
        return pa.Table.from_arrays([columns[name] for name in f.names], schema=f)


class TrainingTables:
    """Encoded training rows of documents added one by one, taken as one Arrow table per config.

    Args:
        schemas: the project's schemas (features, ClassLabel names, stance-target glosses).
        configs: a tuple of names from :data:`~khabar.dataset.features.TRAINING_CONFIGS` to gather
            (default all three), in the order :meth:`take` gives them.

    Raises:
        InputError: from the constructor, a ``BioTag`` vocabulary out of step with ``EntityType``
            (:meth:`khabar.dataset.training.Spec.from_schemas`).
        ValueError: from the constructor, ``configs`` not a tuple or list of training config names.
    """

    def __init__(self, schemas: Schemas, configs: tuple[str, ...] = TRAINING_CONFIGS):
        if not isinstance(configs, (tuple, list)) or not configs or any(c not in TRAINING_CONFIGS for c in configs):
            raise ValueError(f"TrainingTables: configs must be a tuple of names from {TRAINING_CONFIGS}, not {configs!r}")
        self.spec = Spec.from_schemas(schemas)
        self.configs = tuple(configs)
        features = {c: features_for(schemas, c) for c in TRAINING_CONFIGS}
        self.arrow = {c: arrow_schema(f) for c, f in features.items()}
        self.encoders = {c: make_encoder(f) for c, f in features.items() if c != "entities"}
        ids = {name: i for i, name in enumerate(features["entities"]["ner_tags"].feature.names)}
        self.labels = {name[2:]: (i, ids["I-" + name[2:]]) for name, i in ids.items() if name.startswith("B-")}
        self.clear()

    def clear(self) -> None:
        """Drop the rows added since the last :meth:`take`."""
        self._entities = _EntityColumns(self.arrow["entities"])
        self._rows: dict[str, list[dict[str, Any]]] = {c: [] for c in self.encoders}

    def _entity_sentences(self, doc: Mapping[str, Any], stats: collections.Counter) -> list[Any]:
        return entity_sentences(doc, stats, self.labels, 0)

    def add(self, doc: Mapping[str, Any]) -> dict[str, collections.Counter]:
        """Derive and gather the training rows of one decoded ``documents`` row; nothing is
        gathered when it raises.

        Returns:
            ``{config: Counter}``: :class:`~khabar.dataset.training.Derived` ``stats``.

        Raises:
            KeyError: a label (entity type, stance label…) that is not in the schema's vocabulary,
                or an id naming nothing (a row that did not pass its checks); TypeError, ValueError
                on a malformed row.
        """
        derived = derive(doc, self.spec, self._entity_sentences)
        encoded = {c: [encode(r) for r in derived.rows[c]] for c, encode in self.encoders.items() if c in self.configs}
        if "entities" in self.configs:
            self._entities.add(doc, derived.rows["entities"])
        for c, rows in encoded.items():
            self._rows[c] += rows
        return derived.stats

    def take(self) -> dict[str, pa.Table]:
        """``{config: table}`` of the rows added since the last call (tables of no rows included),
        and start again (the rows are dropped even when making a table fails).

        Raises:
            pyarrow.ArrowException: a row that does not fit its config's Arrow schema (a row the
                checks above did not pass).
        """
        try:
            out = {c: pa.Table.from_pylist(rows, schema=self.arrow[c]) for c, rows in self._rows.items() if c in self.configs}
            if "entities" in self.configs:
                out["entities"] = self._entities.table()
        finally:
            self.clear()
        return {c: out[c] for c in self.configs}

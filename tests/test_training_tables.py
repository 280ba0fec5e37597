"""The training configs gathered as Arrow columns (:mod:`khabar.dataset.training_tables`) and the
tokens of each sentence cut from one tokenization of the text
(:func:`khabar.dataset.training.sentence_tokens`): the same rows as the row-by-row derivation and
as the committed release, and the same tokens as tokenizing each sentence alone."""

from __future__ import annotations

import collections
import io
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from khabar.dataset.card import data_path
from khabar.dataset.features import arrow_schema, features_for, make_decoder, make_encoder
from khabar.dataset.training import Spec, derive, entity_rows, sentence_tokens
from khabar.dataset.training_tables import TrainingTables
from khabar.text.tokens import tokenize

from conftest import ROOT

LATEST = "0.4.4"
# letters, digits (Arabic-Indic too), the number joiners, a mark, ZWJ/ZWNJ, a variation selector, punctuation, spaces
ALPHABET = list("قالبنت") + list("0123٣٤") + list(".,٫٬/:") + ["\u064e", "\u200d", "\u200c", "\ufe0f", "❤"] + list("()،؟!-\"") + [" ", " ", "\n"]


def _documents(split: str, schemas) -> list[dict]:
    """The decoded ``documents`` rows of ``split`` of the committed latest release."""
    decode = make_decoder(features_for(schemas, "documents"))
    table = pq.read_table(ROOT / "releases" / LATEST / data_path("documents", split))
    return [decode(r) for r in table.to_pylist()]


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table.combine_chunks(), buf, compression="zstd")
    return buf.getvalue()


def test_sentence_tokens_are_each_sentence_tokenized_alone_on_random_cuts():
    rng = random.Random(20261206)
    cut_inside = 0
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
        points = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(1, 6))))
        sentences = [{"start": a, "end": b} for a, b in zip(points, points[1:])]
        whole = tokenize(text)
        cut_inside += any(a < p < b for p in points for a, b in whole)
        assert sentence_tokens(text, sentences) == [tokenize(text, s["start"], s["end"]) for s in sentences], (text, sentences)
    assert cut_inside > 1000  # the fallback (a sentence edge inside a token of the whole text) was exercised


@pytest.mark.parametrize("text, cut, first, second", [
    ("قال: نعم", 3, [(0, 3)], [(3, 4), (5, 8)]),          # an edge between two tokens of one chunk: no fallback needed
    ("بلغ 3.5 مليون", 5, [(0, 3), (4, 5)], [(5, 6), (6, 7), (8, 13)]),  # an edge inside "3.5": each side tokenized alone
    ("قلب❤️ هنا", 4, [(0, 3), (3, 4)], [(4, 5), (6, 9)]),       # the variation selector cut from its emoji
])
def test_sentence_tokens_at_an_edge_inside_a_chunk(text, cut, first, second):
    sentences = [{"start": 0, "end": cut}, {"start": cut, "end": len(text)}]
    assert sentence_tokens(text, sentences) == [first, second]


@pytest.mark.parametrize("split, rows", [("train", 539), ("validation", 86), ("test", 30)])
def test_tables_are_the_committed_release(schemas, split, rows):
    """Every training config of each split of the committed release, gathered again from its
    documents rows: equal tables, byte-identical parquet, and the counts ``derive`` gives."""
    docs = _documents(split, schemas)
    tables = TrainingTables(schemas)
    stats = collections.Counter()
    for doc in docs:
        for config, counter in tables.add(doc).items():
            stats[config, "rows"] += counter["rows"]
    got = tables.take()
    assert got["entities"].num_rows == rows
    spec = Spec.from_schemas(schemas)
    assert stats["entities", "rows"] == sum(derive(d, spec).stats["entities"]["rows"] for d in docs) == rows
    for config in ("entities", "claims", "stances"):
        # parquet names list items "element"; the release's Arrow schema (its features) says "item"
        committed = pq.read_table(ROOT / "releases" / LATEST / data_path(config, split)).cast(got[config].schema)
        assert got[config].equals(committed), config
        assert _parquet(got[config]) == _parquet(committed), config
    encode = make_encoder(features_for(schemas, "entities"))
    by_rows = pa.Table.from_pylist([encode(r) for d in docs for r in entity_rows(d)], schema=arrow_schema(features_for(schemas, "entities")))
    assert _parquet(got["entities"]) == _parquet(by_rows)


def test_a_failed_document_adds_nothing_and_take_starts_again(schemas):
    docs = _documents("test", schemas)
    tables = TrainingTables(schemas)
    bad = dict(docs[1], entities=[dict(docs[1]["entities"][0], type="ALIEN")] + docs[1]["entities"][1:])
    tables.add(docs[0])
    with pytest.raises(KeyError, match="ALIEN"):
        tables.add(bad)
    first = tables.take()
    alone = TrainingTables(schemas)
    alone.add(docs[0])
    assert {c: t.num_rows for c, t in first.items()} == {c: t.num_rows for c, t in alone.take().items()}
    assert first["entities"].column("doc_id").unique().to_pylist() == [docs[0]["id"]]
    assert {c: t.num_rows for c, t in tables.take().items()} == {"entities": 0, "claims": 0, "stances": 0}
    tables.add(docs[2])
    tables.clear()
    assert tables.take()["entities"].num_rows == 0


def test_only_the_configs_asked_for(schemas):
    docs = _documents("test", schemas)
    tables = TrainingTables(schemas, ("stances",))
    for doc in docs:
        tables.add(doc)
    got = tables.take()
    assert list(got) == ["stances"]
    assert got["stances"].equals(pq.read_table(ROOT / "releases" / LATEST / data_path("stances", "test")).cast(got["stances"].schema))
    assert got["stances"].num_rows == 8


def test_row_groups_by_config(schemas, tmp_path):
    """Shards cut row groups of ROW_GROUP_ROWS rows of their config, however the rows arrive: the
    training configs in groups of 20,000 (their footers stay small), ``documents`` of 1,000."""
    from khabar.release.shards import ROW_GROUP_ROWS, Shards

    features = {c: features_for(schemas, c) for c in ("documents", "entities")}
    shards = Shards(tmp_path, features)
    ents = pq.read_table(ROOT / "releases" / LATEST / data_path("entities", "train")).cast(arrow_schema(features["entities"]))
    docs = pq.read_table(ROOT / "releases" / LATEST / data_path("documents", "train")).cast(arrow_schema(features["documents"]))
    for _ in range(84):  # 84 x 539 = 45,276 rows, in runs of 539
        shards.add_table("entities", "train", ents)
    for _ in range(45):  # 45 x 58 = 2,610 rows
        shards.add_table("documents", "train", docs)
    shards.close()
    assert ROW_GROUP_ROWS == {"documents": 1000, "entities": 20000, "claims": 20000, "stances": 20000}
    groups = {c: [m.row_group(g).num_rows for g in range(m.num_row_groups)]
              for c in ("entities", "documents") for m in [pq.ParquetFile(tmp_path / data_path(c, "train")).metadata]}
    assert groups == {"entities": [20000, 20000, 5276], "documents": [1000, 1000, 610]}
    assert shards.rows()["entities"] == {"train": 45276}


@pytest.mark.parametrize("configs", [("entity",), "entities", (), ["claims", "documents"]])
def test_configs_other_than_training_config_names_are_refused_at_once(schemas, configs):
    with pytest.raises(ValueError, match="configs must be a tuple of names from"):
        TrainingTables(schemas, configs)


def test_bio_layers_with_labels_needs_an_empty_tag_of_its_own():
    from khabar.text.bio import bio_layers

    toks, ents = [(0, 3), (4, 7)], [{"start": 0, "end": 7, "type": "ORG"}, {"start": 4, "end": 7, "type": "GPE"}]
    assert bio_layers(toks, ents, 2, {"ORG": (7, 8), "GPE": (9, 10)}, 0).tags == [[7, 8], [0, 9]]
    assert bio_layers(toks, ents, 2).tags == [["B-ORG", "I-ORG"], ["O", "B-GPE"]]
    with pytest.raises(ValueError, match="labels given without empty"):
        bio_layers(toks, ents, 2, {"ORG": (7, 8), "GPE": (9, 10)})
    with pytest.raises(ValueError, match="a label of GPE is 0, the tag of O"):
        bio_layers(toks, ents, 2, {"ORG": (7, 8), "GPE": (0, 10)}, 0)

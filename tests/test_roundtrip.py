"""Property: offsets survive seeds -> corpus -> parquet -> load_dataset, for any text, including
emoji, combining marks, bidi marks and CRLF (STYLE.md item 7)."""

from __future__ import annotations

import hashlib
import shutil

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings, strategies as st

from khabar.ingest.document import make_document
from khabar.dataset.features import arrow_schema, features_for, make_encoder
from khabar.ingest.normalize import check_edits, normalize
from khabar.dataset.rows import document_row
from khabar.ingest.seeds import new_entry
from khabar.dataset.training import Spec, derive

ARABIC_WORDS = ["أعلنت", "وزارة", "الصحة", "اليوم", "عن", "حملة", "تطعيم", "في", "العراق", "وسوريا", "قال", "البنتاغون", "إن"]
PIECES = st.sampled_from(ARABIC_WORDS + [" ", " ", "\r\n", "\n", "\r", ".", "،", "؟", "😀", "📢", "\u200f", "\u200e", "\u202b", "\u202c",
                                         "\u0627\u0654", "\u064e", "e\u0301", "Latin", "3%", "\ufeff", "\u2028"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=60).map("".join))
def test_normalize_edits_explain_the_text(decoded) -> None:
    text, edits = normalize(decoded)
    assert check_edits(decoded, text, edits)
    assert "\r" not in text and "\u200f" not in text and "\ufeff" not in text


def _doc_text(draw_pieces: list[str]) -> str:
    return "خبر عاجل\n" + " ".join(ARABIC_WORDS) + "\n" + "".join(draw_pieces) + " " + " ".join(ARABIC_WORDS) + ".\n"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pieces=st.lists(PIECES, min_size=1, max_size=40), data=st.data())
def test_spans_survive_parquet_and_load_dataset(tmp_path_factory, schemas, pieces, data) -> None:
    raw = _doc_text(pieces).encode("utf-8")
    entry = new_entry(hashlib.sha256(raw).hexdigest())
    doc = make_document(raw, "prop.txt", entry)
    text = doc["text"]
    n_ents = data.draw(st.integers(0, 5))
    entities = []
    for i in range(n_ents):
        s = data.draw(st.integers(0, len(text) - 1))
        e = data.draw(st.integers(s + 1, min(len(text), s + 20)))
        entities.append({"id": f"e{i}", "start": s, "end": e, "text": text[s:e], "type": "ORG"})
    gold = {"annotator": "gold", "guidelines_version": None, "origin": {"kind": "manual"},
            "entities": entities, "claims": [], "stances": []}
    feats = features_for(schemas, "documents")
    row = make_encoder(feats)(document_row(doc, gold))
    folder = tmp_path_factory.mktemp("rt")
    pq.write_table(pa.Table.from_pylist([row], schema=arrow_schema(feats)), folder / "rows.parquet")
    # the entities config derived from the same row: every token's offsets give it back after load_dataset
    ent_feats = features_for(schemas, "entities")
    derived = derive(document_row(doc, gold), Spec.from_schemas(schemas)).rows["entities"]
    pq.write_table(pa.Table.from_pylist([make_encoder(ent_feats)(r) for r in derived], schema=arrow_schema(ent_feats)),
                   folder / "entities.parquet")
    ds = datasets.load_dataset("parquet", data_files={"train": str(folder / "rows.parquet")}, split="train")
    got = ds[0]
    assert got["text"] == text
    for want, ent in zip(entities, got["entities"]):
        assert (ent["start"], ent["end"], ent["text"]) == (want["start"], want["end"], want["text"])
        assert got["text"][ent["start"]:ent["end"]] == ent["text"]
    rows = datasets.load_dataset("parquet", data_files={"train": str(folder / "entities.parquet")}, split="train")
    assert rows.num_rows == len(doc["sentences"])
    for row in rows:
        for tok, off in zip(row["tokens"], row["offsets"], strict=True):
            assert text[off["start"]:off["end"]] == tok and not tok.isspace()
        assert len(row["ner_tags"]) == len(row["nested_ner_tags"]) == len(row["tokens"])
    shutil.rmtree(folder)

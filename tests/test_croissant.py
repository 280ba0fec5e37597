"""Croissant that readers can read (issue 13): every record set of the newest release yields its
parquet rows through ``mlcroissant``, with each field typed as its column, and the gate compares
them (a bounded sample on long files)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import mlcroissant as mlc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, Features, List, Value

from conftest import ROOT
from khabar.dataset.croissant import CROISSANT_VERSION, make_croissant, row_from_record
from khabar.dataset.lookup import latest_release

NEWEST, RELEASE = latest_release(ROOT / "releases")
CONFIGS = ("documents", "entities", "claims", "stances")
# parquet column type -> the Croissant dataType it must carry
TYPES = {pa.string(): "sc:Text", pa.int32(): "cr:Int32", pa.int64(): "cr:Int64", pa.bool_(): "sc:Boolean"}


def _records(config: str, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(mlc.Dataset(jsonld=str(RELEASE / "croissant.json")).records(config, **kw))


def _features(config: str) -> Features:
    return Features.from_arrow_schema(pq.read_schema(next((RELEASE / "data" / config).glob("*.parquet"))))


@pytest.mark.parametrize("config", CONFIGS)
def test_every_record_set_yields_the_parquet_rows(config: str) -> None:
    """For every record set of the newest release: the parquet row count, split by split, and the
    first record equal to the first parquet row (then every other record too)."""
    records = _records(config)
    shards = sorted((RELEASE / "data" / config).glob("*.parquet"))
    rows = {p.name.split("-")[0]: pq.read_table(p).to_pylist() for p in shards}
    assert len(records) == sum(len(r) for r in rows.values()) > 0
    got: dict[str, list] = {}
    for record in records:
        split, row = row_from_record(record, config, _features(config))
        got.setdefault(split, []).append(row)
    assert {s: len(r) for s, r in got.items()} == {s: len(r) for s, r in rows.items()}
    first_split = shards[0].name.split("-")[0]  # mlcroissant reads the files in name order
    assert row_from_record(records[0], config, _features(config)) == (first_split, rows[first_split][0])
    assert got == rows


def test_a_record_as_mlcroissant_yields_it() -> None:
    """The raw record: keys are field @ids, text is bytes, lists of structs are lists of dicts,
    and `split` comes from the file name; `filters` on it reads one split."""
    test = _records("documents", filters={"documents/split": "test"})
    row = pq.read_table(RELEASE / "data" / "documents" / "test-00000-of-00001.parquet").to_pylist()
    assert len(test) == len(row) == 4
    rec = test[0]
    assert rec["documents/split"] == b"test" and rec["documents/id"] == row[0]["id"].encode()
    assert rec["documents/title"].decode() == row[0]["title"]
    assert int(rec["documents/revision"]) == row[0]["revision"] == 1
    first = rec["documents/sentences"][0]
    assert (int(first["documents/sentences/start"]), int(first["documents/sentences/end"])) == \
        (row[0]["sentences"][0]["start"], row[0]["sentences"][0]["end"])
    ent = rec["documents/entities"][0]
    assert ent["documents/entities/text"].decode() == row[0]["entities"][0]["text"]
    assert rec["documents/annotation"]["documents/annotation/annotated"] is True
    ner = _records("entities", filters={"entities/split": "validation"})
    assert len(ner) == pq.ParquetFile(RELEASE / "data" / "entities" / "validation-00000-of-00001.parquet").metadata.num_rows
    assert [int(t) for t in ner[0]["entities/ner_tags"]] == \
        pq.read_table(RELEASE / "data" / "entities" / "validation-00000-of-00001.parquet").column("ner_tags")[0].as_py()


def _is_array(field: dict) -> bool | None:
    """Croissant 1.1's isArray (mlcroissant writes it with its prefix)."""
    return field.get("cr:isArray", field.get("isArray"))


def _leaves(field: dict, out: dict) -> dict:
    if "subField" in field:
        for sub in field["subField"]:
            _leaves(sub, out)
    else:
        out[field["@id"]] = field
    return out


def _column_leaves(prefix: str, typ: pa.DataType, out: dict) -> dict:
    """@id -> (arrow leaf type, is a list) for every leaf of a parquet column."""
    if pa.types.is_list(typ):
        item = typ.value_type
        if pa.types.is_struct(item):
            for f in item:
                _column_leaves(f"{prefix}/{f.name}", f.type, out)
        else:
            out[prefix] = (item, True)
    elif pa.types.is_struct(typ):
        for f in typ:
            _column_leaves(f"{prefix}/{f.name}", f.type, out)
    else:
        out[prefix] = (typ, False)
    return out


@pytest.mark.parametrize("config", CONFIGS)
def test_every_field_is_typed_as_its_parquet_column(config: str) -> None:
    """Issue 13: 12 of 40 fields declared another type than their column (e.g. ner_tags as sc:Text
    over list<int64>)."""
    meta = json.loads((RELEASE / "croissant.json").read_text(encoding="utf-8"))
    assert meta["conformsTo"] == CROISSANT_VERSION
    rs = next(r for r in meta["recordSet"] if r["name"] == config)
    fields: dict = {}
    for f in rs["field"]:
        _leaves(f, fields)
    schema = pq.read_schema(next((RELEASE / "data" / config).glob("*.parquet")))
    columns: dict = {}
    for col in schema:
        _column_leaves(f"{config}/{col.name}", col.type, columns)
    assert set(fields) == set(columns) | {f"{config}/split"}
    for fid, (typ, is_list) in columns.items():
        assert fields[fid]["dataType"] == TYPES[typ], fid
        assert bool(_is_array(fields[fid])) == is_list, fid
    # lists of structs are isArray with subFields (documents: entities, claims, ...)
    lists_of_structs = [f["name"] for f in rs["field"] if _is_array(f) and "subField" in f]
    want = [c.name for c in schema if pa.types.is_list(c.type) and pa.types.is_struct(c.type.value_type)]
    assert lists_of_structs == want and (config != "documents" or "claims" in want)
    # Responsible-AI fields are kept
    assert meta["rai:dataCollection"] and meta["rai:dataLimitations"] and meta["rai:personalSensitiveInformation"]


def test_a_feature_mlcroissant_cannot_yield_is_refused(tmp_path: Path) -> None:
    """A list of lists has no Croissant reading that mlcroissant gives back; the build says so."""
    shutil.copytree(RELEASE / "data" / "stances", tmp_path / "data" / "stances")
    files = {"stances": sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "data" / "stances").glob("*.parquet"))}
    facts = dict.fromkeys(["collection", "biases", "limitations", "personal", "use_cases", "annotation", "preprocessing",
                           "maintenance", "social_impact", "machine_tools"], "x")
    bad = Features({"id": Value("string"), "grid": List(List(Value("int32")))})
    with pytest.raises(ValueError, match=r"^stances/grid: a list of List inside a list: mlcroissant cannot yield it$"):
        make_croissant(tmp_path, "9.9.9", {"stances": bad}, files, facts)
    ok = Features({"id": Value("string"), "label": ClassLabel(names=["FAVOR", "AGAINST", "NONE"])})
    meta = make_croissant(tmp_path, "9.9.9", {"stances": ok}, files, facts)
    label = next(f for f in meta["recordSet"][0]["field"] if f["name"] == "label")
    assert label["dataType"] == "cr:Int64" and label["description"] == "ClassLabel id; names: FAVOR, AGAINST, NONE"


def test_the_gate_reads_a_bounded_sample_of_long_files(tmp_path: Path, monkeypatch) -> None:
    """On a split file longer than SAMPLE_ROWS the gate reads its first rows only (through a
    temporary folder), so its time does not grow with the release; a wrong first row is still found."""
    import khabar.gate.croissant as gc

    rel = tmp_path / NEWEST
    shutil.copytree(RELEASE, rel)
    shards = {c: {p.name.split("-")[0]: str(p.relative_to(rel)) for p in (rel / "data" / c).glob("*.parquet")} for c in CONFIGS}
    monkeypatch.setattr(gc, "SAMPLE_ROWS", 5)
    seen: list[int] = []
    real = gc._sample_folder

    def spy(*args):
        folder = real(*args)
        seen.extend(pq.ParquetFile(folder / p).metadata.num_rows for s in shards.values() for p in s.values())
        return folder
    monkeypatch.setattr(gc, "_sample_folder", spy)
    assert gc.check_croissant_records(rel, shards) == []
    assert max(seen) == 5 and len(seen) == 12
    real_row = gc.row_from_record

    def changed(record, config, features):  # a reader that gives another first token
        split, row = real_row(record, config, features)
        if config == "entities":
            row["tokens"][0] += "!"
        return split, row
    monkeypatch.setattr(gc, "row_from_record", changed)
    problems = gc.check_croissant_records(rel, shards)
    assert [(p.check, p.file) for p in problems] == [("croissant-records", f"data/entities/{s}-00000-of-00001.parquet")
                                                     for s in ("test", "train", "validation")]
    assert problems[0].message.startswith("record 0 of entities/test differs from the parquet row: tokens[0]: parquet ")


def test_case_30_the_seed_entities_through_mlcroissant() -> None:
    """shared/cases/30: a list of structs written as one repeated sc:Text (and a FileSet
    containedIn its parquet file) gave 0 records; as a list with subFields the seed's 140 entities
    come back, the first one {start 4, end 13, type 3, text البنتاغون}."""
    from conftest import SEED_ID, load_case

    case = load_case("30-croissant-list-of-struct-as-repeated-text.json")
    want = case["expected"]["observed_2026_12_05_mlcroissant_1_1_1"]["fileset_fixed_entities_as_subField"]
    assert want.startswith("1 record; 140 entities")
    [seed] = [r for r in _records("documents", filters={"documents/split": "validation"})
              if r["documents/id"] == SEED_ID.encode()]
    split, row = row_from_record(seed, "documents", _features("documents"))
    assert split == "validation" and len(row["entities"]) == 140
    first = {k: v for k, v in row["entities"][0].items() if k != "id"}
    assert first == {"start": 4, "end": 13, "type": 3, "text": "البنتاغون"}
    meta = json.loads((RELEASE / "croissant.json").read_text(encoding="utf-8"))
    fs = next(d for d in meta["distribution"] if d["@id"] == "documents-parquet")
    assert "containedIn" not in fs and "cr:containedIn" not in fs and fs["includes"] == "data/documents/*.parquet"
    ents = next(f for f in next(r for r in meta["recordSet"] if r["name"] == "documents")["field"] if f["name"] == "entities")
    assert "dataType" not in ents and [s["name"] for s in ents["subField"]] == ["id", "start", "end", "text", "type"]

"""One schema, several projections: features agree with schema/; both validators agree;
loose inputs that Python would accept are refused."""

from __future__ import annotations

import copy
import json

import pytest
from datasets import ClassLabel, List, Value

from khabar.core.errors import InputError
from khabar.dataset.features import features_for, make_decoder, make_encoder
from khabar.core.jsonio import loads_json
from khabar.dataset.tables import BEGIN, END, generated_section

from conftest import ROOT, SEED_ID

VOCAB_OF = {("entities", "type"): "EntityType", ("stances", "label"): "StanceLabel", ("stances", "target"): "StanceTarget",
            ("claims", "checkworthy"): "Checkworthy", ("claims", "speech"): "Speech", ("flags", "kind"): "FlagKind"}


def test_features_agree_with_schema(schemas) -> None:
    feats = features_for(schemas, "documents")
    row_schema = schemas["release/documents"]
    assert list(feats) == list(row_schema["properties"]) == row_schema["required"]
    for (column, field), vocab in VOCAB_OF.items():
        cl = feats[column].feature[field]
        assert isinstance(cl, ClassLabel)
        assert cl.names == schemas.vocab(vocab) == schemas["labels"]["$defs"][vocab]["enum"]
    assert len(schemas.vocab("EntityType")) == 21
    assert schemas.vocab("StanceLabel") == ["FAVOR", "AGAINST", "NONE"]
    assert feats["entities"].feature["start"] == Value("int32")
    assert isinstance(feats["claims"].feature["via"], List) and feats["claims"].feature["via"].feature == Value("string")
    assert feats["claims"].feature["cue"] == {"start": Value("int32"), "end": Value("int32"), "text": Value("string")}


@pytest.mark.parametrize("config", ["entities", "claims", "stances"])
def test_training_config_features_agree_with_schema(schemas, config) -> None:
    feats = features_for(schemas, config)
    row_schema = schemas[f"release/{config}"]
    assert list(feats) == list(row_schema["properties"]) == row_schema["required"]
    assert feats["doc_id"] == Value("string")


def test_training_config_labels_come_from_the_vocabularies(schemas) -> None:
    from khabar.text.bio import bio_names

    ent, clm, stn = (features_for(schemas, c) for c in ("entities", "claims", "stances"))
    assert ent["ner_tags"].feature.names == ent["nested_ner_tags"].feature.names == schemas.vocab("BioTag") \
        == bio_names(schemas.vocab("EntityType"))
    assert ent["offsets"].feature == {"start": Value("int32"), "end": Value("int32")}
    assert clm["has_claim"].names == schemas.vocab("HasClaim") and clm["checkworthy"].names == schemas.vocab("Checkworthy")
    assert clm["claims"].feature["checkworthy"].names == schemas.vocab("Checkworthy")
    assert stn["target"].names == schemas.vocab("StanceTarget") and stn["label"].names == schemas.vocab("StanceLabel")
    assert set(schemas.vocab_info("HasClaim")) == set(schemas.vocab("HasClaim"))


def test_every_vocab_label_has_meaning_and_crosswalk(schemas) -> None:
    info = schemas.vocab_info("EntityType")
    assert set(info) == set(schemas.vocab("EntityType"))
    assert info["PERS"]["ontonotes5"] == "PERSON" and info["GPE"]["ace2005"] == "GPE"
    assert all("ontonotes5" in v and "ace2005" in v and v["description"] for v in info.values())
    for vocab in ("StanceLabel", "StanceTarget", "Checkworthy", "Speech", "FlagKind"):
        assert set(schemas.vocab_info(vocab)) == set(schemas.vocab(vocab))


def test_encoder_decoder_round_trip(schemas) -> None:
    feats = features_for(schemas, "documents")
    row = {"entities": [{"id": "e1", "type": "GPE"}], "claims": [{"checkworthy": None, "speech": "direct"}],
           "stances": [{"target": "attacks-on-us-forces", "label": "AGAINST"}], "flags": [{"kind": "markup-remnant"}]}
    enc = make_encoder(feats)(copy.deepcopy(row))
    assert enc["entities"][0]["type"] == 4 and enc["claims"][0]["speech"] == 0 and enc["stances"][0]["label"] == 1
    assert make_decoder(feats)(enc) == row
    with pytest.raises(KeyError):
        make_encoder(feats)({"entities": [{"type": "PERSON"}]})


def test_generated_tables_in_release_datasheet_agree(schemas) -> None:
    """The newest release's card and datasheet hold the tables the schema generates now (older
    releases keep the tables of their day: the target registry grows)."""
    from khabar.dataset.lookup import latest_release

    release = latest_release(ROOT / "releases")[1]
    stats = json.loads((release / "reports" / "stats.json").read_text(encoding="utf-8"))
    for name in ("DATASHEET.md", "README.md"):
        text = (release / name).read_text(encoding="utf-8")
        section = text[text.index(BEGIN):text.index(END) + len(END)]
        assert section == generated_section(schemas, stats), f"{name}: regenerate with khabar build"
    for name in schemas.vocab("EntityType") + schemas.vocab("StanceTarget"):
        assert f"`{name}`" in section
    first = (ROOT / "releases" / "0.1.0" / "DATASHEET.md").read_text(encoding="utf-8")
    assert "| documents | 1 |" in first and "| machine-translated | 1 (from: fa 1) |" in first


def _doc() -> dict:
    return json.loads((ROOT / "corpus" / f"{SEED_ID}.json").read_text(encoding="utf-8"))


def _ann() -> dict:
    return {"schema_version": "1.0", "doc_id": SEED_ID, "text_sha256": "0" * 64, "annotator": "a01", "guidelines_version": "1.0",
            "origin": {"kind": "label-studio", "project_id": 1, "task_id": 3, "annotation_id": 9, "updated_at": "2026-11-29T10:00:00Z"},
            "entities": [{"id": "e1", "start": 4, "end": 13, "text": "البنتاغون", "type": "ORG"}],
            "claims": [{"id": "c1", "content": {"start": 1, "end": 5, "text": "abcd"}, "cue": None, "source": "e1", "via": [],
                        "checkworthy": "yes", "speech": None}],
            "stances": [{"id": "s1", "holder": "e1", "target": "attacks-on-us-forces", "label": "AGAINST", "evidence": ["c1"]}]}


def _variants():
    """(name, schema name, record, valid?) including what Python's loose rules would let through."""
    doc = _doc()
    out = [("seed document", "document", doc, True), ("annotation", "annotation", _ann(), True)]

    def mut(name, schema, base, fn, valid=False):
        rec = copy.deepcopy(base)
        fn(rec)
        out.append((name, schema, rec, valid))
    a = _ann()
    mut("offset as string", "annotation", a, lambda r: r["entities"][0].update(start="4"))
    mut("offset as bool", "annotation", a, lambda r: r["entities"][0].update(start=True))
    mut("negative offset", "annotation", a, lambda r: r["entities"][0].update(start=-1))
    mut("unknown entity type", "annotation", a, lambda r: r["entities"][0].update(type="PERSON"))
    mut("unknown stance target", "annotation", a, lambda r: r["stances"][0].update(target="iran"))
    mut("lower-case stance label", "annotation", a, lambda r: r["stances"][0].update(label="favor"))
    mut("Arabic-Indic digits in a date-time", "annotation", a, lambda r: r["origin"].update(updated_at="٢٠٢٦-11-29T10:00:00Z"))
    mut("impossible date-time", "annotation", a, lambda r: r["origin"].update(updated_at="2026-02-30T10:00:00Z"))
    mut("e-mail as annotator", "annotation", a, lambda r: r.update(annotator="someone@example.org"))
    mut("extra field", "annotation", a, lambda r: r["entities"][0].update(label="ORG"))
    mut("missing cue key", "annotation", a, lambda r: r["claims"][0].pop("cue"))
    mut("empty span text", "annotation", a, lambda r: r["claims"][0]["content"].update(text=""))
    mut("Arabic-Indic digits in a date", "document", doc, lambda r: r["provenance"].update(published_date="٢٠٢٤-٠٤-٢٠"))
    mut("valid date", "document", doc, lambda r: r["provenance"].update(published_date="2024-04-20"), valid=True)
    mut("bad doc id", "document", doc, lambda r: r.update(id="kb-XYZ"))
    mut("upper-case sha", "document", doc, lambda r: r.update(text_sha256=r["text_sha256"].upper()))
    mut("bad url", "document", doc, lambda r: r["provenance"].update(url="not a url"))
    mut("unknown flag kind", "document", doc, lambda r: r["flags"][0].update(kind="typo"))
    return out


@pytest.mark.parametrize("name,schema,record,valid", _variants(), ids=[v[0] for v in _variants()])
def test_both_validators_agree(schemas, name, schema, record, valid) -> None:
    fast = schemas.fast_validator(schema).is_valid(record)
    reference = not schemas.reference_problems(schema, record)
    assert fast is reference is valid, name


def test_problem_names_the_path(schemas) -> None:
    a = _ann()
    a["entities"][0]["start"] = "4"
    [p] = schemas.problems("annotation", a)
    assert (p.path, p.validator) == ("$.entities[0].start", "type")


@pytest.mark.parametrize("text,reason", [
    ('{"start": 1, "start": 2}', "duplicate key 'start'"),
    ('{"start": NaN}', "NaN is not valid JSON"),
    ('{"start": Infinity}', "Infinity is not valid JSON"),
    ('{"start": 1,}', "line 1 column 13: invalid JSON"),
])
def test_strict_json(text, reason) -> None:
    with pytest.raises(InputError, match=reason):
        loads_json(text, "x.json")

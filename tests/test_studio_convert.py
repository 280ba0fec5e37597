"""Label Studio conversions without a server: the labeling config, results <-> annotations,
offset units, pagination; on the shared cases 01, 06, 07, 10 and real Label Studio exports."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings, strategies as st

from conftest import ROOT, SEED_ID, draw_entities, load_case
from khabar.core.errors import InputError
from khabar.core.schema import Schemas
from khabar.studio.client import PageNotFound, paginate
from khabar.studio.config import Scheme, labeling_config, max_via, same_config
from khabar.studio.offsets import Utf16Index, resolve_span
from khabar.studio.parse import ConversionError, parse_results, refuse_json_min
from khabar.studio.to_annotation import results_to_annotation
from khabar.studio.to_results import annotation_to_results
from khabar.core.errors import StudioError

REAL = Path(__file__).resolve().parent / "fixtures" / "realdata"


@pytest.fixture(scope="module")
def scheme(schemas: Schemas) -> Scheme:
    return Scheme.from_schemas(schemas)


def gold() -> tuple[dict, str]:
    ann = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    doc = json.loads((ROOT / "corpus" / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    return ann, doc["text"]


# ------------------------------------------------------------------ the labeling config

def _tags(xml: str) -> dict[str, ET.Element]:
    return {el.get("name"): el for el in ET.fromstring(xml).iter() if el.get("name")}


def test_config_offers_every_schema_label_and_field(schemas: Schemas) -> None:
    xml = labeling_config(schemas)
    tags = _tags(xml)
    values = lambda name: [c.get("value") for c in tags[name]]  # noqa: E731
    assert values("entity") == schemas.vocab("EntityType") and len(values("entity")) == 21
    assert values("attribution") == ["content", "cue"]
    # stance targets are dynamic labels: each task offers the registry's targets for its document
    assert values("stance") == [] and tags["stance"].get("value") == "$stance_targets"
    from khabar.studio.config import stance_target_options

    seed = stance_target_options(schemas, "kb-1415eb2e8d27dc16")
    assert [o["value"] for o in seed] == ["us-military-presence-iraq", "attacks-on-us-forces", "us-iraq-withdrawal-negotiations"]
    assert seed[0]["hint"].startswith("The US military presence in Iraq / الوجود العسكري الأمريكي في العراق: ")
    assert "FAVOR: The holder supports US troops" in seed[0]["hint"]
    assert stance_target_options(schemas, "kb-0000000000000000") == []
    every = {o["value"] for t in schemas.targets_registry["targets"] for d in t["documents"] for o in stance_target_options(schemas, d)}
    assert every == set(schemas.vocab("StanceTarget"))  # every target is offered somewhere
    assert values("checkworthy") == schemas.vocab("Checkworthy") == ["no", "yes"]
    assert values("speech") == schemas.vocab("Speech") == ["direct", "indirect", "mixed"]
    assert values("stance_label") == schemas.vocab("StanceLabel") == ["FAVOR", "AGAINST", "NONE"]
    for name in ("checkworthy", "speech", "stance_label"):
        assert tags[name].get("perRegion") == "true"
    rels = [r.get("value") for r in ET.fromstring(xml).iter("Relation")]
    assert rels == ["source", "cue", "holder", "evidence"] + [f"via-{k}" for k in range(1, max_via(schemas) + 1)]
    # every field of every annotation item has a home in the config (the table in config.py)
    homes = {"Entity": {"id": "region id", "start": "entity", "end": "entity", "text": "entity", "type": "entity"},
             "Claim": {"id": "region id", "content": "attribution", "cue": "cue", "source": "source", "via": "via-1",
                       "checkworthy": "checkworthy", "speech": "speech"},
             "Stance": {"id": "region id", "holder": "holder", "target": "stance", "label": "stance_label",
                        "evidence": "evidence"}}
    ann_schema = schemas["annotation"]["$defs"]
    for item, fields in homes.items():
        assert set(ann_schema[item]["properties"]) == set(fields), item
        for f, home in fields.items():
            assert home == "region id" or home in tags or home in rels, (item, f)


def test_config_via_relations_and_stance_choices_follow_the_schema(tmp_path, schemas: Schemas) -> None:
    """The via-k relations come from the Claim's ``via.maxItems`` and the stance choices from the
    ``StanceLabel`` vocabulary: a schema copy that changes them changes the config and the scheme."""
    def via_rels(xml: str) -> list[str]:
        return [r.get("value") for r in ET.fromstring(xml).iter("Relation") if r.get("value").startswith("via-")]

    bound = schemas["annotation"]["$defs"]["Claim"]["properties"]["via"]["maxItems"]
    xml = labeling_config(schemas)
    assert max_via(schemas) == bound and via_rels(xml) == [f"via-{k}" for k in range(1, bound + 1)]
    assert [c.get("value") for c in _tags(xml)["stance_label"]] == schemas.vocab("StanceLabel")
    assert Scheme.from_schemas(schemas).stance_labels == tuple(schemas.vocab("StanceLabel"))

    folder = tmp_path / "schema"
    shutil.copytree(ROOT / "schema", folder)
    ann = json.loads((folder / "annotation.schema.json").read_text(encoding="utf-8"))
    ann["$defs"]["Claim"]["properties"]["via"]["maxItems"] = 3
    (folder / "annotation.schema.json").write_text(json.dumps(ann, ensure_ascii=False), encoding="utf-8")
    labels = json.loads((folder / "labels.schema.json").read_text(encoding="utf-8"))
    labels["$defs"]["StanceLabel"]["enum"] = ["PRO", "CON", "NONE"]
    (folder / "labels.schema.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    other = Schemas(folder)
    xml = labeling_config(other)
    assert max_via(other) == 3 and via_rels(xml) == ["via-1", "via-2", "via-3"]
    assert [c.get("value") for c in _tags(xml)["stance_label"]] == ["PRO", "CON", "NONE"]
    scheme3 = Scheme.from_schemas(other)
    assert scheme3.max_via == 3 and scheme3.stance_labels == ("PRO", "CON", "NONE")
    ents = [{"id": f"e{i}", "start": 4, "end": 20, "text": TEXT[4:20], "type": "ORG"} for i in range(5)]
    claim = {"id": "c1", "content": {"start": 24, "end": 38, "text": TEXT[24:38]}, "cue": None, "source": "e0",
             "via": ["e1", "e2", "e3", "e4"], "checkworthy": None, "speech": None}
    with pytest.raises(InputError, match="a reporting chain of 4 entities; the labeling config offers via-1 … via-3"):
        annotation_to_results({"entities": ents, "claims": [claim], "stances": []}, TEXT, scheme3)

    del ann["$defs"]["Claim"]["properties"]["via"]["maxItems"]
    (folder / "annotation.schema.json").write_text(json.dumps(ann, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match="needs a positive integer maxItems"):
        labeling_config(Schemas(folder))


def test_config_text_is_right_to_left_and_deterministic(schemas: Schemas) -> None:
    xml = labeling_config(schemas)
    root = ET.fromstring(xml)
    parent = next(v for v in root.iter("View") if any(c.tag == "Text" for c in v))
    assert parent.get("style").startswith("direction: rtl")
    assert labeling_config(schemas) == xml
    assert same_config(xml, xml.replace("\n  ", "\n"))
    assert not same_config(xml, xml.replace('value="FAC"', 'value="FACILITY"'))
    assert not same_config(xml, "<View")


# ------------------------------------------------------------------ the gold through results

def test_gold_survives_results_round_trip(scheme: Scheme) -> None:
    ann, text = gold()
    results = annotation_to_results(ann, text, scheme)
    assert len(results) == 304
    back, warnings = results_to_annotation(results, text, scheme, "task 1, annotation 1")
    assert warnings == []
    assert back == {k: ann[k] for k in ("entities", "claims", "stances")}
    assert (len(back["entities"]), len(back["claims"]), len(back["stances"])) == (140, 19, 10)
    # c2: source البيت الأبيض via [مهر, الجزيرة] keeps its order
    c2 = next(c for c in back["claims"] if c["id"] == "c2")
    assert c2["via"] == ["e11", "e12"] and c2["speech"] == "mixed"


def test_relation_roles_do_not_depend_on_arrow_direction(scheme: Scheme) -> None:
    ann, text = gold()
    results = annotation_to_results(ann, text, scheme)
    flipped = []
    for r in results:
        r = copy.deepcopy(r)
        if r["type"] == "relation":
            r["from_id"], r["to_id"], r["direction"] = r["to_id"], r["from_id"], "left"
        flipped.append(r)
    back, _ = results_to_annotation(flipped, text, scheme, "task 1, annotation 1")
    assert back["claims"] == ann["claims"] and back["stances"] == ann["stances"]


# ------------------------------------------------------------------ case 01: UTF-16 offsets

def test_case_01_utf16_offsets_are_converted_to_code_points() -> None:
    case = load_case("01-ls-emoji-utf16-offsets.json")
    task = case["input"]["ls_export"][0]
    text = task["data"]["text"]
    assert len(text) == case["input"]["text_code_points"] == 39
    assert len(text.encode("utf-16-le")) // 2 == case["input"]["text_utf16_units"] == 40
    foreign = Scheme(entity_tags=frozenset({"label"}), entity_types={"ORG": "ORG"}, attribution_tags=frozenset(),
                     content_label="content", cue_label="cue", stance_tags=frozenset(), stance_targets=(), choices={},
                     relations={})
    ann = task["annotations"][0]
    items, warnings = results_to_annotation(ann["result"], text, foreign, f"task {task['id']}, annotation {ann['id']}")
    [ent] = items["entities"]
    assert (ent["start"], ent["end"]) == (case["expected"]["start"], case["expected"]["end"]) == (8, 19)
    assert ent["text"] == text[8:19] == case["expected"]["entity_text"]
    assert text[9:20] == case["expected"]["wrong_slice_if_not_converted"]
    assert warnings == ["task 101, annotation 1, region r1: offsets [9, 20) were UTF-16 code units; read as code points [8, 19)"]


def test_offsets_neighbours_of_case_01() -> None:
    text = "😀 أعلنت وزارة الصحة 🎉 اليوم"
    ix = Utf16Index(text)
    assert resolve_span(ix, 8, 19, "وزارة الصحة").unit == "code-point"         # what LS 1.23.2 stores
    r = resolve_span(ix, 9, 20, "وزارة الصحة")                                 # older exports
    assert (r.start, r.end, r.unit) == (8, 19, "utf-16")
    r = resolve_span(ix, 22, 27, "اليوم")                                       # after two emoji
    assert (r.start, r.end, r.unit) == (22, 27, "code-point")
    r = resolve_span(ix, 24, 29, "اليوم")
    assert (r.start, r.end, r.unit) == (22, 27, "utf-16")
    assert "neither" in resolve_span(ix, 2, 5, "وزارة").error                   # matches no reading
    assert "no text" in resolve_span(ix, 8, 19, None).error                     # can't tell units apart
    assert "integers" in resolve_span(ix, "8", 19, "وزارة الصحة").error
    assert "empty" in resolve_span(ix, 8, 8, "").error
    amb = Utf16Index("😀aaaa")                                                  # both readings match
    assert "ambiguous" in resolve_span(amb, 2, 4, "aa").error
    # a UTF-16 offset inside a surrogate pair is no code-point boundary
    assert Utf16Index("😀a").from_utf16(1) is None
    plain = Utf16Index("no emoji here")
    assert resolve_span(plain, 3, 8, "emoji").unit == "code-point"
    assert "outside" in resolve_span(plain, 3, 80, "emoji").error


# ------------------------------------------------------------------ case 06: relations

def _case06_scheme() -> Scheme:
    return Scheme(entity_tags=frozenset({"label"}), entity_types={"PER": "PERS"}, attribution_tags=frozenset({"label"}),
                  content_label="CLAIM", cue_label="CUE", stance_tags=frozenset(), stance_targets=(), choices={},
                  relations={"claimant_of": "source"})


def test_case_06_relations_in_both_directions_give_the_claimant() -> None:
    case = load_case("06-ls-relations-dropped-in-json-min.json")
    task = case["input"]["ls_export_full_json"][0]
    text = task["data"]["text"]
    # the generic layer keeps the label as drawn
    parsed = parse_results(task["annotations"][0]["result"], text, _case06_scheme(), "task 21, annotation 9")
    assert [(g.id, g.kind, g.label) for g in parsed.regions.values()] == [
        ("e_min", "entity", "PER"), ("c_gdp", "content", "CLAIM"), ("c_job", "content", "CLAIM")]
    assert [(r.from_id, r.to_id, r.direction) for r in parsed.relations] == [("e_min", "c_gdp", "right"), ("c_job", "e_min", "left")]
    items, _ = results_to_annotation(task["annotations"][0]["result"], text, _case06_scheme(), "task 21, annotation 9")
    exp = case["expected"]["from_full_json"]
    assert [(e["id"], e["start"], e["end"]) for e in items["entities"]] == [(e["id"], e["start"], e["end"]) for e in exp["entities"]]
    assert items["entities"][0]["type"] == "PERS" and items["entities"][0]["text"] == "الوزير سمير ناصر"
    assert [(c["id"], c["content"]["start"], c["content"]["end"], c["source"]) for c in items["claims"]] == [
        (c["id"], c["start"], c["end"], c["claimant"]) for c in exp["claims"]]


def test_case_06_json_min_is_refused() -> None:
    case = load_case("06-ls-relations-dropped-in-json-min.json")
    with pytest.raises(InputError, match="JSON-MIN export, which drops relations and result ids"):
        refuse_json_min(case["input"]["ls_export_json_min_same_task"], "export.json")
    refuse_json_min(case["input"]["ls_export_full_json"], "export.json")  # the full format passes


def test_case_06_relation_to_a_missing_region_is_an_error() -> None:
    case = load_case("06-ls-relations-dropped-in-json-min.json")
    task = case["input"]["ls_export_full_json"][0]
    result = [r for r in task["annotations"][0]["result"] if r.get("id") != "e_min"]
    with pytest.raises(ConversionError) as err:
        results_to_annotation(result, task["data"]["text"], _case06_scheme(), "task 21, annotation 9")
    assert err.value.problems == [
        "task 21, annotation 9, relation e_min->c_gdp: relation to a missing region 'e_min'",
        "task 21, annotation 9, relation c_job->e_min: relation to a missing region 'e_min'"]


# ------------------------------------------------------------------ case 07: per-region choices

def _case07_scheme() -> Scheme:
    return Scheme(entity_tags=frozenset(), entity_types={}, attribution_tags=frozenset({"label"}), content_label="CLAIM",
                  cue_label="CUE", stance_tags=frozenset(), stance_targets=(),
                  choices={"stance": ("stance", ("support", "oppose", "neutral"))}, relations={})


def test_case_07_per_region_choices_join_by_result_id() -> None:
    case = load_case("07-ls-perregion-stance-linkage.json")
    task = case["input"]["ls_export_full_json"][0]
    parsed = parse_results(task["annotations"][0]["result"], task["data"]["text"], _case07_scheme(), "task 22, annotation 10")
    got = [{"id": g.id, "start": g.start, "end": g.end, "stance": g.choices["stance"][0]} for g in parsed.regions.values()]
    assert got == case["expected"]["claims"]
    # the JSON-MIN list in text order would give the opposite stances: refused
    assert case["input"]["ls_export_json_min_same_task"][0]["stance"] == ["support", "oppose"]
    with pytest.raises(InputError, match="JSON-MIN"):
        refuse_json_min(case["input"]["ls_export_json_min_same_task"], "min.json")


def test_case_07_fallback_joins_by_identical_offsets() -> None:
    case = load_case("07-ls-perregion-stance-linkage.json")
    task = case["input"]["ls_export_full_json"][0]
    result = copy.deepcopy(task["annotations"][0]["result"])
    for r in result:
        if r["type"] == "choices":
            r["id"] = "lost-" + r["id"]
    parsed = parse_results(result, task["data"]["text"], _case07_scheme(), "t")
    assert {g.id: g.choices["stance"] for g in parsed.regions.values()} == {"c_gdp": ["oppose"], "c_job": ["support"]}
    result[2]["value"]["start"] = 70  # now it matches neither id nor offsets
    with pytest.raises(ConversionError, match="per-region stance choice joins no region"):
        parse_results(result, task["data"]["text"], _case07_scheme(), "t")


# ------------------------------------------------------------------ case 10: pagination

def _mock_pages(case: dict, total_override: int | None = None):
    pages = {}
    for m in case["input"]["mock_responses"]:
        page = int(m["request"].split("page=")[1].split("&")[0])
        pages[page] = m
    calls = []

    def fetch(page: int):
        calls.append(page)
        m = pages.get(page)
        if m is None or m["status"] == 404:
            raise PageNotFound()
        b = m["body"]
        return (total_override or b["total"]), [{"id": i} for i in range(b["first_id"], b["last_id"] + 1)]

    return fetch, calls


def test_case_10_pagination_reads_to_the_total() -> None:
    case = load_case("10-ls-sdk-list-stops-at-100.json")
    fetch, calls = _mock_pages(case)
    ids = [t["id"] for t in paginate(fetch, "tasks of project 5")]
    assert ids == list(range(1, 251)) and len(set(ids)) == 250
    assert calls == [1, 2, 3]


def test_case_10_short_listing_fails_with_both_numbers() -> None:
    case = load_case("10-ls-sdk-list-stops-at-100.json")
    fetch, _ = _mock_pages(case, total_override=300)
    with pytest.raises(StudioError, match=r"tasks of project 5: the listing ended at page 4 after 250 of 300 items"):
        list(paginate(fetch, "tasks of project 5"))


def test_pagination_refuses_a_total_that_changes() -> None:
    def fetch(page: int):
        return (10 if page == 1 else 11), [{"id": page}] * 5

    with pytest.raises(StudioError, match="total changed from 10 to 11"):
        list(paginate(fetch, "tasks"))


# ------------------------------------------------------------------ real Label Studio exports

def _ner_scheme() -> Scheme:
    types = {"Person": "PERS", "Organization": "ORG", "Money": "MONEY", "Date": "DATE", "Time": "TIME",
             "Ordinal": "ORDINAL", "Percent": "PERCENT", "Product": "PRODUCT", "Language": "LANGUAGE", "Location": "LOC"}
    return Scheme(entity_tags=frozenset({"ner"}), entity_types=types, attribution_tags=frozenset(), content_label="c",
                  cue_label="q", stance_tags=frozenset(), stance_targets=(), choices={}, relations={})


def test_real_ner_export_and_tasks_convert_exactly() -> None:
    ann_export = json.loads((REAL / "labelstudio_export" / "lsf_named_entity_annotation.json").read_text())
    text = ann_export["data"]["text"]
    assert len(text) == 915
    refuse_json_min(ann_export, "lsf_named_entity_annotation.json")
    items, warnings = results_to_annotation(ann_export["annotations"][0]["result"], text, _ner_scheme(), "task 1, annotation 1001")
    assert items["entities"] == [{"id": "beFiQTT1cU", "start": 343, "end": 354, "text": "February 22", "type": "DATE"}]
    assert warnings == [] and items["claims"] == [] and items["stances"] == []
    tasks = json.loads((REAL / "labelstudio_export" / "lsf_named_entity_tasks.json").read_text())
    pred = tasks[0]["predictions"][0]
    assert pred["model_version"] and results_to_annotation(pred["result"], tasks[0]["data"]["text"], _ner_scheme(), "p")[0] == items


def test_real_mixed_export_is_refused_control_by_control(scheme: Scheme) -> None:
    export = json.loads((REAL / "labelstudio_export" / "lsf_classification_mixed_annotation.json").read_text())
    with pytest.raises(ConversionError) as err:
        results_to_annotation(export["annotations"][0]["result"], "Just some random text to label", scheme, "task 1, annotation 1001")
    assert [p.split(":")[0] for p in err.value.problems] == [
        "task 1, annotation 1001, region W7wMwaYoa9", "task 1, annotation 1001, region xMvgTyP6e4",
        "task 1, annotation 1001, region 0yMHFegGSK", "task 1, annotation 1001, region dZyZ7Dx3uS",
        "task 1, annotation 1001, region 4IHbGrfa-P"]
    assert "of type 'textarea' from control 'txt'" in err.value.problems[2]


# ------------------------------------------------------------------ bad results, one reason each

TEXT = "قال الوزير سمير ناصر إن الاقتصاد سينمو."


def _ent(rid: str, s: int, e: int, label: str = "PERS", tag: str = "entity") -> dict:
    return {"id": rid, "from_name": tag, "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": TEXT[s:e], "labels": [label]}}


def _rel(a: str, b: str, label: str | None) -> dict:
    return {"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": [label] if label else []}


@pytest.mark.parametrize("result, message", [
    ([_ent("e1", 4, 20, "PER")], "region e1: label-unknown: 'PER' is not an entity type"),
    ([_ent("e1", 4, 20), _ent("c1", 24, 38, "content", "attribution"), _rel("c1", "e1", None)],
     "relation c1->e1: a relation needs exactly one label"),
    ([_ent("e1", 4, 20), _ent("c1", 24, 38, "content", "attribution"), _rel("c1", "e1", "claimant")],
     "label-unknown: relation label 'claimant'"),
    ([_ent("e1", 4, 20), _ent("e2", 24, 32, "ORG"), _rel("e1", "e2", "source")],
     "a source relation joins a content region and a entity region, not entity and entity"),
    ([_ent("q1", 0, 3, "cue", "attribution")], "region q1: a cue linked to no claim"),
    ([_ent("e1", 4, 20), _ent("s1", 4, 20, "attacks-on-us-forces", "stance")], "region s1: the stance has no stance label"),
    ([_ent("e1", 4, 20), _ent("e2", 24, 32, "ORG"), _ent("c1", 24, 38, "content", "attribution"), _rel("c1", "e2", "via-2")],
     "via-2 without via-1"),
    ([_ent("e1", 4, 20), _ent("e1", 4, 20, "content", "attribution")], "region e1: the region is labelled twice"),
    ([{**_ent("e1", 4, 20), "value": {"start": 5, "end": 21, "text": TEXT[4:20], "labels": ["PERS"]}}],
     "region e1: text 'الوزير سمير ناصر' but text[5:21]"),
    ([{"id": "x", "from_name": "checkworthy", "to_name": "text", "type": "choices",
       "value": {"start": 1, "end": 2, "choices": ["yes"]}}], "per-region checkworthy choice joins no region"),
    ([_ent("c1", 24, 38, "content", "attribution"),
      {"id": "c1", "from_name": "checkworthy", "to_name": "text", "type": "choices", "value": {"choices": ["maybe"]}}],
     "checkworthy must be one of ['no', 'yes'], got ['maybe']"),
])
def test_bad_results_are_refused_with_task_annotation_and_region(scheme: Scheme, result: list, message: str) -> None:
    with pytest.raises(ConversionError) as err:
        results_to_annotation(result, TEXT, scheme, "task 7, annotation 3")
    assert any(message in p for p in err.value.problems), err.value.problems
    assert all(p.startswith("task 7, annotation 3") for p in err.value.problems)


def test_stance_holder_falls_back_to_the_entity_over_the_same_words(scheme: Scheme) -> None:
    result = [_ent("e1", 4, 20), _ent("s1", 4, 20, "attacks-on-us-forces", "stance"),
              {"id": "s1", "from_name": "stance_label", "to_name": "text", "type": "choices",
               "value": {"start": 4, "end": 20, "text": TEXT[4:20], "choices": ["AGAINST"]}}]
    items, _ = results_to_annotation(result, TEXT, scheme, "t")
    assert items["stances"] == [{"id": "s1", "holder": "e1", "target": "attacks-on-us-forces", "label": "AGAINST", "evidence": []}]


def test_two_stances_of_one_holder_on_one_target_are_refused(scheme: Scheme) -> None:
    def stance(sid: str, label: str) -> list:
        return [_ent(sid, 4, 20, "attacks-on-us-forces", "stance"), _rel(sid, "e1", "holder"),
                {"id": sid, "from_name": "stance_label", "to_name": "text", "type": "choices",
                 "value": {"start": 4, "end": 20, "text": TEXT[4:20], "choices": [label]}}]

    with pytest.raises(ConversionError) as err:
        results_to_annotation([_ent("e1", 4, 20)] + stance("s1", "FAVOR") + stance("s2", "AGAINST"), TEXT, scheme, "t")
    assert err.value.problems == ["t, region s2: a second stance of the same holder on 'attacks-on-us-forces' (the first is "
                                  "region s1); one stance per holder and target (guidelines §5)"]


def test_ui_region_ids_become_item_ids(scheme: Scheme) -> None:
    import hashlib

    odd = ["_xY-3", "-Ab", "a b", "a$b", "منطقة", "x" * 70]
    result = [_ent(rid, 4 + i, 20, "PERS") for i, rid in enumerate(odd)] + [_ent("e1", 24, 32, "ORG")]
    items, _ = results_to_annotation(result, TEXT, scheme, "t")
    ids = [e["id"] for e in items["entities"]]
    assert ids[:-1] == ["r" + hashlib.sha256(r.encode()).hexdigest()[:12] for r in odd] and ids[-1] == "e1"
    assert len(set(ids)) == 7 and ids[0] == "re32844bec4b1"


def test_odd_label_values_are_refused_not_crashed(scheme: Scheme) -> None:
    bad = [{**_ent("e1", 4, 20), "value": {"start": 4, "end": 20, "text": TEXT[4:20], "labels": [["ORG"]]}},
           {**_ent("e2", 4, 20), "value": {"start": 4, "end": 20, "text": TEXT[4:20], "labels": [{"a": 1}]}},
           _ent("c1", 24, 38, "content", "attribution"), _ent("e3", 24, 32, "ORG"),
           {"from_id": "c1", "to_id": "e3", "type": "relation", "labels": 5},
           {"from_id": "c1", "to_id": "e3", "type": "relation", "labels": [["source"]]},
           {**_ent(7, 4, 20)}]
    with pytest.raises(ConversionError) as err:
        results_to_annotation(bad, TEXT, scheme, "task 1, annotation 2")
    assert len(err.value.problems) == 5
    assert "region e1: entity region must carry exactly one label" in err.value.problems[0]
    assert "relation c1->e3: labels must be a list of strings, got 5" in err.value.problems[2]
    assert "a region's id must be a non-empty string, got 7" in err.value.problems[4]


def test_push_refuses_a_chain_deeper_than_the_config(scheme: Scheme) -> None:
    ents = [{"id": f"e{i}", "start": 4, "end": 20, "text": TEXT[4:20], "type": t}
            for i, t in enumerate(["PERS", "ORG", "GPE", "OCC", "NORP", "FAC"])]
    claim = {"id": "c1", "content": {"start": 24, "end": 38, "text": TEXT[24:38]}, "cue": None, "source": "e0",
             "via": ["e1", "e2", "e3", "e4", "e5"], "checkworthy": None, "speech": None}
    with pytest.raises(InputError, match="a reporting chain of 5 entities; the labeling config offers via-1 … via-4"):
        annotation_to_results({"entities": ents, "claims": [claim], "stances": []}, TEXT, scheme)


# ------------------------------------------------------------------ property: any text, any spans

_chars = st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهوي ءآأإة") + ["😀", "\U0001F1EE", "\U0001F1F6", "\u0651", "\u064e", "\u200f", "\u200e",
                                                                          "\n", "A", "x", "1", "٣", "\u0301"])


@settings(max_examples=150, deadline=None)
@given(text=st.text(_chars, min_size=1, max_size=60), data=st.data())
def test_any_text_any_spans_round_trip(scheme: Scheme, text: str, data: st.DataObject) -> None:
    """Every span comes back exactly, except where the same offsets read as UTF-16 units give the
    same text at another place: that span is ambiguous and refused by design (DESIGN.md: accept a
    reading only where exactly one unit matches), naming the region."""
    from khabar.studio.offsets import Utf16Index

    ents = draw_entities(data, text)
    ann = {"entities": ents, "claims": [], "stances": []}
    idx = Utf16Index(text)
    ambiguous = []
    for e in ents:
        s, t = idx.from_utf16(e["start"]), idx.from_utf16(e["end"])
        if idx.differs and s is not None and t is not None and (s, t) != (e["start"], e["end"]) and text[s:t] == e["text"]:
            ambiguous.append(e["id"])
    results = annotation_to_results(ann, text, scheme)
    if ambiguous:  # found by hypothesis: "…😀…1…1" where [11, 12) is '1' in both units
        with pytest.raises(ConversionError) as err:
            results_to_annotation(results, text, scheme, "t")
        assert [p.split(":")[0] for p in err.value.problems] == [f"t, region {i}" for i in ambiguous]
        assert all("ambiguous" in p for p in err.value.problems)
        return
    back, warnings = results_to_annotation(results, text, scheme, "t")
    assert back["entities"] == ents and warnings == []


def test_odd_control_names_are_refused(scheme: Scheme) -> None:
    bad = [{**_ent("e1", 4, 20), "from_name": ["entity"]}, {"id": "c", "from_name": {"a": 1}, "type": "choices", "value": {}}]
    with pytest.raises(ConversionError) as err:
        results_to_annotation(bad, TEXT, scheme, "t")
    assert err.value.problems == ["t, region e1: from_name and type must be strings, got ['entity'] and 'labels'",
                                  "t, region c: from_name and type must be strings, got {'a': 1} and 'choices'"]


@pytest.mark.parametrize("url, message", [
    ("http://user:s3cret@127.0.0.1:8080", "holds a user name or password"),
    ("http://127.0.0.1:99999", "its host or port is not valid"),
    ("http://[::1", "not valid"),
    ("ftp://127.0.0.1", r"is not an http\(s\) URL"),
])
def test_bad_urls_are_refused_before_any_request(url: str, message: str) -> None:
    from khabar.studio.client import connect

    with pytest.raises(StudioError, match=message) as err:
        connect(url, "k" * 40)
    assert "s3cret" not in str(err.value)


def test_a_span_that_reads_the_same_in_both_units_is_refused_as_ambiguous(scheme: Scheme) -> None:
    # the case hypothesis found: after an emoji, [2, 3) is '1' as code points and as UTF-16 units
    text = "😀11"
    ann = {"entities": [{"id": "e0", "start": 2, "end": 3, "text": "1", "type": "PERS"}], "claims": [], "stances": []}
    with pytest.raises(ConversionError) as err:
        results_to_annotation(annotation_to_results(ann, text, scheme), text, scheme, "t")
    assert err.value.problems == ["t, region e0: ambiguous: [2, 3) matches '1' read as code points and as UTF-16 units"]

"""The training configs (:mod:`khabar.dataset.training`): exact rows on the real seed document and on
small hand-made documents, and a build whose release has no stances at all."""

from __future__ import annotations

import collections
import json
import shutil

import datasets
import pytest
import yaml

from khabar.release.build import build
from khabar.core.errors import InputError
from khabar.dataset.features import TRAINING_CONFIGS, features_for, make_decoder
from khabar.dataset.rows import document_row
from khabar.core.schema import Schemas
from khabar.dataset.training import Spec, claim_rows, derive, entity_rows, stance_rows

from conftest import ROOT, SEED_ID

DOC = "kb-00000000000000aa"


@pytest.fixture(scope="module")
def seed() -> dict:
    """The seed document's ``documents`` row with its committed gold annotation (read-only)."""
    doc = json.loads((ROOT / "corpus" / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    gold = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    return document_row(doc, gold)


@pytest.fixture(scope="module")
def seed_rows(seed, schemas) -> dict:
    return derive(seed, Spec.from_schemas(schemas))


def _doc(sentences: list[str], entities=(), claims=(), stances=(), annotated: bool = True) -> dict:
    """A decoded ``documents`` row (the keys the derivations read): sentences joined by a space."""
    text, spans, at = " ".join(sentences), [], 0
    for s in sentences:
        spans.append({"start": at, "end": at + len(s)})
        at += len(s) + 1
    return {"id": DOC, "text": text, "sentences": spans, "entities": list(entities), "claims": list(claims), "stances": list(stances),
            "annotation": {"annotated": annotated, "annotators": ["a01"] if annotated else [], "guidelines_version": None}}


def _span(text: str, s: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(s, start + 1)
    return {"start": start, "end": start + len(s), "text": s}


def _ent(text: str, eid: str, s: str, typ: str, nth: int = 0) -> dict:
    return {"id": eid, **_span(text, s, nth), "type": typ}


def _tags(row: dict) -> list[tuple[str, str, str]]:
    return list(zip(row["tokens"], row["ner_tags"], row["nested_ner_tags"]))


# --------------------------------------------------------------------------- schema

def test_bio_tags_follow_the_entity_types(schemas) -> None:
    tags = schemas.vocab("BioTag")
    assert tags[:5] == ["O", "B-PERS", "I-PERS", "B-NORP", "I-NORP"] and tags[-1] == "I-CURR" and len(tags) == 43
    assert features_for(schemas, "entities")["ner_tags"].feature.names == tags
    assert features_for(schemas, "entities")["nested_ner_tags"].feature.names == tags
    assert features_for(schemas, "claims")["has_claim"].names == schemas.vocab("HasClaim") == ["no", "yes"]


def test_bio_tags_out_of_step_with_the_types_are_refused(tmp_path) -> None:
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    path = tmp_path / "schema" / "labels.schema.json"
    labels = json.loads(path.read_text(encoding="utf-8"))
    labels["$defs"]["BioTag"]["enum"][1:3] = ["I-PERS", "B-PERS"]
    path.write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        Spec.from_schemas(Schemas(tmp_path / "schema"))
    assert str(err.value) == (f"{path}: $defs.BioTag is not O, B-/I- of each EntityType in order (1: 'I-PERS' != 'B-PERS')")
    assert err.value.hint == "write BioTag as khabar.text.bio.bio_names(EntityType) gives it"


# --------------------------------------------------------------------------- the real seed document

def test_seed_rows_per_config(seed, seed_rows) -> None:
    assert {c: len(r) for c, r in seed_rows.rows.items()} == {"entities": 25, "claims": 22, "stances": 10}
    assert len(seed["sentences"]) == 25 and len(seed["entities"]) == 140
    assert {c: dict(s) for c, s in seed_rows.stats.items()} == {
        "entities": {"rows": 25, "tokens": 618, "entities": 140, "tagged": 138, "tagged_nested": 34, "dropped_depth3": 2,
                     "dropped_clash": 0, "dropped_untokened": 0, "across_sentences": 0},
        "claims": {"rows": 22, "claims": 19, "rows_with_claim": 18, "merged_rows": 2, "merged_sentences": 5,
                   "rows_widened": 0, "dropped_outside_sentences": 0},
        "stances": {"rows": 10}}


def test_seed_first_sentence_tokens_and_tags(seed_rows) -> None:
    row = seed_rows.rows["entities"][0]
    assert (row["id"], row["doc_id"], row["start"], row["end"]) == (f"{SEED_ID}:0", SEED_ID, 0, 52)
    # للحكومة: the ORG starts after the proclitic ل; the whole token is tagged (clitics not split)
    assert _tags(row) == [("طلب", "O", "O"), ("البنتاغون", "B-ORG", "O"), ("للحكومة", "B-ORG", "O"),
                          ("العراقية", "I-ORG", "B-GPE"), ("بشأن", "O", "O"), ("القوات", "B-ORG", "O"),
                          ("الأمريكية", "I-ORG", "B-GPE")]
    assert row["offsets"][2] == {"start": 14, "end": 21}


def test_seed_nested_and_three_deep(seed, seed_rows) -> None:
    """OCC لمسؤولي وزارة الخارجية الأمريكية > ORG وزارة الخارجية الأمريكية > GPE الأمريكية: the GPE
    is three deep, so it is not in the two tag columns (it stays in documents)."""
    row = seed_rows.rows["entities"][17]
    assert (row["id"], row["start"], row["end"]) == (f"{SEED_ID}:17", 2282, 2456)
    i = row["tokens"].index("لمسؤولي")
    assert _tags(row)[i:i + 5] == [("لمسؤولي", "B-OCC", "O"), ("وزارة", "I-OCC", "B-ORG"), ("الخارجية", "I-OCC", "I-ORG"),
                                   ("الأمريكية", "I-OCC", "I-ORG"), ("،", "O", "O")]
    assert row["offsets"][i] == {"start": 2308, "end": 2315}
    assert next(e for e in seed["entities"] if e["id"] == "e98")["start"] == 2309   # after the proclitic
    assert [e["id"] for e in seed["entities"] if (e["start"], e["end"]) == (2331, 2340)] == ["e100"]


def test_seed_token_offsets_give_the_tokens(seed, seed_rows) -> None:
    n = 0
    for row in seed_rows.rows["entities"]:
        for tok, off in zip(row["tokens"], row["offsets"], strict=True):
            assert seed["text"][off["start"]:off["end"]] == tok and row["start"] <= off["start"] < off["end"] <= row["end"]
            n += 1
    assert n == 618


def test_seed_claims_merged_across_sentences(seed, seed_rows) -> None:
    rows = seed_rows.rows["claims"]
    assert [r["id"].split(":")[1] for r in rows if r["num_sentences"] > 1] == ["12-14", "17-18"]
    row = next(r for r in rows if r["id"] == f"{SEED_ID}:17-18")
    assert (row["start"], row["end"], row["num_sentences"], row["has_claim"], row["checkworthy"]) == (2282, 2527, 2, "yes", "yes")
    assert row["text"] == seed["text"][2282:2527]
    c12, c13 = row["claims"]
    # c13: the cue (أضاف in وأضاف) is in sentence 17, the content in sentence 18
    assert c13 == {"id": "c13", "content": {"start": 175, "end": 243, "text": "المهمة سيبدأ الانتشار العسكري لقوات التحالف الدولية في العراق قريبًا"},
                   "cue": {"start": 1, "end": 5, "text": "أضاف"}, "source_text": "صحيفة واشنطن تايمز", "checkworthy": "no"}
    assert (c12["id"], c12["source_text"], c12["checkworthy"]) == ("c12", "مسؤولي وزارة الخارجية الأمريكية", "yes")
    for r in rows:
        for c in r["claims"]:
            for key in ("content", "cue"):
                if c[key]:
                    assert r["text"][c[key]["start"]:c[key]["end"]] == c[key]["text"]
    assert rows[0] == {"id": f"{SEED_ID}:0", "doc_id": SEED_ID, "start": 0, "end": 52, "text": seed["text"][:52], "num_sentences": 1,
                       "has_claim": "no", "checkworthy": "no", "claims": []}


def test_seed_stance_row(seed_rows) -> None:
    assert seed_rows.rows["stances"][9] == {
        "id": f"{SEED_ID}:s10", "doc_id": SEED_ID, "holder": "e112", "holder_text": "سابرينا سينغ",
        "target": "us-military-presence-iraq", "target_text": "The US military presence in Iraq", "evidence": ["c17"],
        "evidence_text": ["مسألة انسحاب الولايات المتحدة تعتمد على مستوى جاهزية القوات العراقية وتعتمد على الدفاع عن السيادة الوطنية والإقليمية ضد التهديدات"],
        "label": "FAVOR"}


def test_derivation_of_a_decoded_parquet_row_is_the_same(seed, seed_rows, schemas) -> None:
    """The gate derives from rows read back from parquet (ids decoded to names): same rows."""
    from khabar.dataset.features import make_encoder

    feats = features_for(schemas, "documents")
    back = make_decoder(feats)(make_encoder(feats)(json.loads(json.dumps(seed))))
    assert derive(back, Spec.from_schemas(schemas)).rows == seed_rows.rows


# --------------------------------------------------------------------------- hand-made documents: entities

def test_three_levels_keep_two() -> None:
    doc = _doc(["قال رئيس جامعة بغداد إن الطلاب عادوا."])
    t = doc["text"]
    doc["entities"] = [_ent(t, "e1", "رئيس جامعة بغداد", "OCC"), _ent(t, "e2", "جامعة بغداد", "ORG"), _ent(t, "e3", "بغداد", "GPE")]
    stats = collections.Counter()
    [row] = entity_rows(doc, stats)
    assert _tags(row) == [("قال", "O", "O"), ("رئيس", "B-OCC", "O"), ("جامعة", "I-OCC", "B-ORG"), ("بغداد", "I-OCC", "I-ORG"),
                          ("إن", "O", "O"), ("الطلاب", "O", "O"), ("عادوا", "O", "O"), (".", "O", "O")]
    assert (stats["tagged"], stats["tagged_nested"], stats["dropped_depth3"]) == (2, 1, 1)


def test_entity_after_a_proclitic_tags_its_whole_token() -> None:
    doc = _doc(["سافر الوفد لبغداد أمس."])
    doc["entities"] = [_ent(doc["text"], "e1", "بغداد", "GPE")]
    [row] = entity_rows(doc)
    assert row["tokens"] == ["سافر", "الوفد", "لبغداد", "أمس", "."]
    assert row["ner_tags"] == ["O", "O", "B-GPE", "O", "O"] and row["offsets"][2] == {"start": 11, "end": 17}
    assert doc["entities"][0]["start"] == 12


def test_overlapping_entities_of_one_layer_clash() -> None:
    doc = _doc(["مجلس الأمن الدولي اجتمع."])
    t = doc["text"]
    doc["entities"] = [_ent(t, "e1", "مجلس الأمن", "ORG"), _ent(t, "e2", "الأمن الدولي", "ORG")]
    stats = collections.Counter()
    [row] = entity_rows(doc, stats)
    assert row["ner_tags"] == ["B-ORG", "I-ORG", "O", "O", "O"] and row["nested_ner_tags"] == ["O"] * 5
    assert (stats["tagged"], stats["dropped_clash"], stats["dropped_untokened"]) == (1, 1, 0)


def test_entity_across_sentences_and_entity_on_no_token() -> None:
    doc = _doc(["زار محمد.", "علي القاهرة."])
    t = doc["text"]
    doc["entities"] = [{"id": "e1", **_span(t, "محمد. علي"), "type": "PERS"}, {"id": "e2", "start": 9, "end": 10, "text": " ", "type": "LOC"}]
    stats = collections.Counter()
    first, second = entity_rows(doc, stats)
    assert _tags(first) == [("زار", "O", "O"), ("محمد", "B-PERS", "O"), (".", "I-PERS", "O")]
    assert _tags(second) == [("علي", "B-PERS", "O"), ("القاهرة", "O", "O"), (".", "O", "O")]
    assert (second["id"], second["start"], second["end"]) == (f"{DOC}:1", 10, 22)
    assert (stats["across_sentences"], stats["dropped_untokened"], stats["tagged"]) == (1, 1, 1)


# --------------------------------------------------------------------------- hand-made documents: claims and stances

def _claim(cid: str, content: dict, cue: dict | None, source: str | None = None, checkworthy: str | None = "no") -> dict:
    return {"id": cid, "content": content, "cue": cue, "source": source, "via": [], "checkworthy": checkworthy, "speech": "indirect"}


def test_claim_crossing_sentences_merges_them() -> None:
    doc = _doc(["أعلن الوزير.", "إن الحرب انتهت.", "قالت الوكالة إن القتال", "توقف. فرح الناس."])
    t = doc["text"]
    doc["entities"] = [_ent(t, "e1", "الوزير", "OCC")]
    doc["claims"] = [_claim("c1", _span(t, "الحرب انتهت"), _span(t, "أعلن"), "e1", "yes"),
                     _claim("c2", _span(t, "القتال توقف"), _span(t, "قالت"), None, None)]
    stats = collections.Counter()
    rows = claim_rows(doc, stats)
    assert [(r["id"], r["start"], r["end"], r["num_sentences"], r["has_claim"], r["checkworthy"]) for r in rows] == [
        (f"{DOC}:0-1", 0, 28, 2, "yes", "yes"), (f"{DOC}:2-3", 29, 68, 2, "yes", None)]
    assert rows[0]["text"] == "أعلن الوزير. إن الحرب انتهت."
    assert rows[0]["claims"] == [{"id": "c1", "content": {"start": 16, "end": 27, "text": "الحرب انتهت"},
                                  "cue": {"start": 0, "end": 4, "text": "أعلن"}, "source_text": "الوزير", "checkworthy": "yes"}]
    assert rows[1]["claims"][0]["content"] == {"start": 16, "end": 27, "text": "القتال توقف"} and rows[1]["claims"][0]["source_text"] is None
    assert (stats["merged_rows"], stats["merged_sentences"], stats["claims"]) == (2, 4, 2)


def test_claims_rows_keep_every_sentence_and_widen_for_spans_between_sentences() -> None:
    doc = _doc(["خبر أول.", "«قال الرئيس»", "خبر ثالث."])
    t = doc["text"]
    doc["sentences"][1]["start"] += 1   # the opening guillemet lies between sentences
    widened = {"start": t.index("«"), "end": t.index("»") + 1, "text": "«قال الرئيس»"}
    doc["claims"] = [_claim("c1", widened, None), _claim("c2", {"start": 8, "end": 9, "text": " "}, None)]
    stats = collections.Counter()
    rows = claim_rows(doc, stats)
    assert [(r["id"], r["start"], r["end"], r["has_claim"]) for r in rows] == [
        (f"{DOC}:0", 0, 8, "no"), (f"{DOC}:1", 9, 21, "yes"), (f"{DOC}:2", 22, 31, "no")]
    assert rows[1]["claims"][0]["content"] == {"start": 0, "end": 12, "text": "«قال الرئيس»"}
    assert (stats["rows_widened"], stats["dropped_outside_sentences"], stats["claims"]) == (1, 1, 1)


def test_document_without_stances(schemas) -> None:
    doc = _doc(["أعلن الوزير أن الحرب انتهت."])
    stats = collections.Counter()
    assert stance_rows(doc, Spec.from_schemas(schemas), stats) == []
    assert {c: len(r) for c, r in derive(doc, Spec.from_schemas(schemas)).rows.items()} == {"entities": 1, "claims": 1, "stances": 0}


def test_a_document_without_gold_gives_no_training_rows(schemas) -> None:
    # reported by a new user: an imported, not yet adjudicated article gave 79 all-O sentences
    doc = _doc(["قال الوزير في دمشق إن الحرب انتهت."], annotated=False)
    derived = derive(doc, Spec.from_schemas(schemas))
    assert derived.rows == {"entities": [], "claims": [], "stances": []}
    assert {c: dict(n) for c, n in derived.stats.items()} == {c: {"unannotated_documents": 1, "rows": 0} for c in ("entities", "claims", "stances")}


def test_stance_row_texts(schemas) -> None:
    doc = _doc(["أكد الوزير أن الهجمات فشلت."])
    t = doc["text"]
    doc["entities"] = [_ent(t, "e1", "الوزير", "OCC")]
    doc["claims"] = [_claim("c1", _span(t, "الهجمات فشلت"), _span(t, "أكد"), "e1")]
    doc["stances"] = [{"id": "s1", "holder": "e1", "target": "attacks-on-us-forces", "label": "AGAINST", "evidence": ["c1"]}]
    assert stance_rows(doc, Spec.from_schemas(schemas)) == [
        {"id": f"{DOC}:s1", "doc_id": DOC, "holder": "e1", "holder_text": "الوزير", "target": "attacks-on-us-forces",
         "target_text": "Attacks on US forces", "evidence": ["c1"], "evidence_text": ["الهجمات فشلت"], "label": "AGAINST"}]


# --------------------------------------------------------------------------- a release without stances

def test_release_without_stances_leaves_the_config_out(project, seed_rows) -> None:
    gold = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    gold["stances"] = []
    (project.annotations / SEED_ID).mkdir(parents=True)
    (project.annotations / SEED_ID / "gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    r = build(project, "0.3.0", progress=False)   # the build runs the gate, load_dataset of every config included
    assert r.rows == {"documents": {"validation": 1}, "entities": {"validation": 25}, "claims": {"validation": 22}, "stances": {}}
    assert r.stats["configs"]["stances"] == {"splits": {}, "rows": 0}
    assert r.stats["configs"]["entities"]["dropped_depth3"] == 2
    assert not (r.path / "data" / "stances").exists()
    card = (r.path / "README.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(card[4:card.index("\n---\n", 4)])
    assert [c["config_name"] for c in meta["configs"]] == ["claims", "documents", "entities"]
    assert "This release has no `stances` rows, so the config is not declared" in card
    assert "**2 nested three or more levels deep are not in this config**" in card
    build_info = json.loads((r.path / "reports" / "build.json").read_text(encoding="utf-8"))
    assert list(build_info["features"]) == ["documents", "entities", "claims", "stances"]
    with pytest.raises(ValueError, match="stances"):
        datasets.load_dataset(str(r.path), "stances")
    # load_dataset round trip of the other configs: the rows derived from the documents row
    for config in ("entities", "claims"):
        ds = datasets.load_dataset(str(r.path), config)["validation"]
        assert [make_decoder(ds.features)(row) for row in ds] == seed_rows.rows[config]
    assert set(TRAINING_CONFIGS) - {c["config_name"] for c in meta["configs"]} == {"stances"}


def test_card_sections_hook_places_extra_sections_after_the_training_configs(schemas) -> None:
    """``render_card(..., sections=...)``: where the agreement and baseline reports go."""
    from huggingface_hub import DatasetCardData

    from khabar.dataset.card import render_card

    stats = json.loads((ROOT / "releases" / "0.2.0" / "reports" / "stats.json").read_text(encoding="utf-8"))
    stats["configs"] = {c: {"splits": {}, "rows": 0} for c in TRAINING_CONFIGS}
    card = render_card(schemas, "0.3.0", DatasetCardData(), stats, "### [0.3.0]\n", sections=["## Agreement\n\nnone yet\n"])
    assert "### `stances`" in card and card.index("### `stances`") < card.index("## Agreement\n\nnone yet\n\n## Provenance and limitations")
    assert "This release has no `entities` rows, so the config is not declared" in card

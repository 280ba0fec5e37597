"""The pre-annotator on text that is not the seed: what it must find, exactly; and the quality
figures computed by hand for a small case."""

from __future__ import annotations

import json
from pathlib import Path
import pytest

from khabar.annotate.preannotate import find_claims, find_entities, preannotate, preannotate_corpus
from khabar.annotate.evaluate import evaluate_pairs
from khabar.ingest.segment import sentences

REAL = Path(__file__).parent / "fixtures" / "realdata"


def _found(text: str) -> set[tuple[int, int, str, str]]:
    return {(e["start"], e["end"], e["type"], e["text"]) for e in find_entities(text)}


def _at(text: str, span: str, typ: str, after: str = "") -> tuple[int, int, str, str]:
    """The expected entity ``span`` (first occurrence after ``after``), with offsets found by str.index."""
    start = text.index(span, text.index(after) if after else 0)
    return start, start + len(span), typ, span


def test_wikipedia_damascus_article() -> None:
    text = (REAL / "aqmar_Damascus.txt").read_text(encoding="utf-8")
    found = _found(text[:1500])
    for want in [(0, 4, "GPE", "دمشق"), (602, 612, "LOC", "جبل قاسيون"), (704, 712, "LOC", "نهر بردى"),
                 (472, 480, "DATE", "عام 2004"), (447, 454, "CARDINAL", "5 مليون")]:
        assert want in found, want
    assert all(t != "PERS" for _, _, t, _ in found)  # no invented people


def test_invented_news_sentence_entities_nested_and_patterns() -> None:
    text = ("وقال المتحدث باسم وزارة الخارجية الإيرانية إن طهران لن تقبل بأي تهديد، وأعلنت وكالة رويترز أن 3 جنود قتلوا "
            "في 12 مارس 2023 وارتفع السعر بنسبة 5% إلى 200 مليون دولار لمسافة 40 كيلومترا.")
    assert _found(text) == {
        _at(text, "المتحدث باسم وزارة الخارجية الإيرانية", "OCC"), _at(text, "وزارة الخارجية الإيرانية", "ORG"),
        _at(text, "الإيرانية", "GPE"), _at(text, "طهران", "GPE"), _at(text, "وكالة رويترز", "ORG"), _at(text, "3", "CARDINAL"),
        _at(text, "12 مارس 2023", "DATE"), _at(text, "5%", "PERCENT"), _at(text, "200 مليون دولار", "MONEY"),
        _at(text, "دولار", "CURR"), _at(text, "40 كيلومترا", "QUANTITY"), _at(text, "كيلومترا", "UNIT")}
    assert _at(text, "المتحدث باسم وزارة الخارجية الإيرانية", "OCC")[:2] == (5, 42)


def test_clitics_stay_outside_spans() -> None:
    text = "التقى الوفد بالحكومة العراقية وللحكومة السورية رأي آخر، وبغداد ترحب."
    found = _found(text)
    assert (13, 29, "ORG", "الحكومة العراقية") in found      # ب outside
    assert (32, 46, "ORG", "لحكومة السورية") in found        # و+ل outside; لل keeps the article's ل
    assert (57, 62, "GPE", "بغداد") in found                # و outside
    assert text[12] == "ب" and text[30:32] == "ول" and text[56] == "و"


def test_reporting_chain_and_sources() -> None:
    text = "نقلت وكالة رويترز عن قناة الجزيرة أن وزارة الدفاع الأمريكية أعلنت أن القوات الأمريكية ستبقى في العراق."
    sents = [{"start": a, "end": b} for a, b in sentences(text)]
    ents = find_entities(text)
    claims = find_claims(text, sents, ents)
    name = lambda i: ents[i]["text"]  # noqa: E731
    got = [(text[c["cue"][0]:c["cue"][1]], name(c["source"]), [name(v) for v in c["via"]], text[c["content"][0]:c["content"][1]])
           for c in claims]
    assert got == [
        ("نقلت", "قناة الجزيرة", ["وكالة رويترز"], "وزارة الدفاع الأمريكية أعلنت أن القوات الأمريكية ستبقى في العراق"),
        ("أعلنت", "وزارة الدفاع الأمريكية", ["وكالة رويترز", "قناة الجزيرة"], "القوات الأمريكية ستبقى في العراق"),
    ]
    assert [c["speech"] for c in claims] == ["indirect", "indirect"]


def test_direct_speech_after_colon() -> None:
    text = "وأضاف الرئيس الفرنسي: سنواصل دعم الحكومة اللبنانية حتى النهاية."
    sents = [{"start": a, "end": b} for a, b in sentences(text)]
    ents = find_entities(text)
    [c] = find_claims(text, sents, ents)
    assert text[c["content"][0]:c["content"][1]] == "سنواصل دعم الحكومة اللبنانية حتى النهاية"
    assert c["speech"] == "direct" and ents[c["source"]]["text"] == "الرئيس الفرنسي"


def test_output_file_is_valid_and_names_its_origin(project, schemas) -> None:
    [path] = preannotate_corpus(project, progress=False)
    ann = json.loads(path.read_text(encoding="utf-8"))
    assert path.name == "preannotator.json" and ann["origin"] == {"kind": "preannotator", "tool": "khabar-preannotate", "version": "0.2.0"}
    assert schemas.problems("annotation", ann) == []
    doc = json.loads((project.corpus / f"{ann['doc_id']}.json").read_text(encoding="utf-8"))
    assert all(doc["text"][e["start"]:e["end"]] == e["text"] for e in ann["entities"])
    assert preannotate(doc) == ann  # deterministic


def test_quality_figures_by_hand() -> None:
    gold = {"entities": [{"start": 0, "end": 5, "type": "ORG"}, {"start": 10, "end": 14, "type": "GPE"}],
            "claims": [{"content": {"start": 20, "end": 40}}]}
    pred = {"entities": [{"start": 0, "end": 5, "type": "ORG"}, {"start": 10, "end": 12, "type": "GPE"},
                         {"start": 50, "end": 55, "type": "PERS"}],
            "claims": [{"content": {"start": 22, "end": 40}}]}
    r = evaluate_pairs([(pred, gold)], ["PERS", "ORG", "GPE"])
    # exact: 1 correct of 3 predicted, of 2 gold -> P 1/3, R 1/2, F1 0.4
    ex = r["entities"]["overall"]["exact"]
    assert (ex["correct"], ex["predicted"], ex["gold"], ex["precision"], ex["recall"], ex["f1"]) == (1, 3, 2, 0.3333, 0.5, 0.4)
    # partial: the GPE overlap counts half -> P 1.5/3, R 1.5/2
    pa = r["entities"]["overall"]["partial"]
    assert (pa["precision"], pa["recall"]) == (0.5, 0.75)
    assert r["entities"]["per_type"]["PERS"]["strict"]["spurious"] == 1
    assert r["claims"]["exact"]["f1"] == 0.0 and r["claims"]["partial"]["f1"] == 0.5
    assert evaluate_pairs([], ["ORG"])["claims"]["exact"]["f1"] == 0.0  # no NaN when there is nothing


def test_tatweel_diacritics_and_presentation_forms_still_get_proposals() -> None:
    """Issue 12: text with tatweel or diacritics got no pre-annotation at all. Matching runs on a
    normalised view; the spans point into the unchanged text of record."""
    plain = "نقلت وكالة رويترز عن قناة الجزيرة أن وزارة الدفاع الأمريكية أعلنت أن القوات الأمريكية ستبقى في العراق."
    marked = plain.replace("الدفاع", "الدفـــاع").replace("الأمريكية أعلنت", "الأمريكيَّة أعلنت").replace("رويترز", "رويترز").replace(
        "العراق", "العِراق").replace("القوات", "\ufe8d\ufedf\ufed8\ufeee\ufe8d\ufe95")  # القوات in presentation forms
    assert marked != plain
    doc = {"id": "kb-0000000000000001", "text": marked, "text_sha256": "0" * 64,
           "sentences": [{"start": a, "end": b} for a, b in sentences(marked)]}
    ann = preannotate(doc)
    for e in ann["entities"]:
        assert marked[e["start"]:e["end"]] == e["text"]
    got = {(e["text"], e["type"]) for e in ann["entities"]}
    assert {("وزارة الدفـــاع الأمريكيَّة", "ORG"), ("الأمريكيَّة", "GPE"), ("العِراق", "GPE"), ("وكالة رويترز", "ORG"),
            ("قناة الجزيرة", "ORG")} <= got
    plain_ann = preannotate({**doc, "text": plain, "sentences": [{"start": a, "end": b} for a, b in sentences(plain)]})
    assert len(ann["entities"]) == len(plain_ann["entities"]) and len(ann["claims"]) == len(plain_ann["claims"]) == 2
    c = ann["claims"][1]
    assert (c["cue"]["text"], c["content"]["text"]) == ("أعلنت", "\ufe8d\ufedf\ufed8\ufeee\ufe8d\ufe95 الأمريكية ستبقى في العِراق")


def test_normal_view_maps_spans_back_with_their_marks() -> None:
    from khabar.text.normalview import NormalView

    text = "قال الرئيـــس الفرنسيُّ إنَّ ﻻ شيء"
    view = NormalView(text)
    assert view.changed and view.text == "قال الرئيس الفرنسي إن لا شيء"
    i = view.text.index("الفرنسي")
    assert view.to_original(i, i + 7) == (14, 23) and text[14:23] == "الفرنسيُّ"
    i = view.text.index("لا")
    assert text[slice(*view.to_original(i, i + 2))] == "\ufefb"  # one presentation-form ligature: two letters of the view
    assert NormalView("نص عادي").to_original(0, 2) == (0, 2)


def test_denial_accusation_and_demand_cues() -> None:
    """Issue 12: the cues the guidelines list include نفى، اتهم، طالب (a demand is a claim, D8)."""
    text = "نفت وزارة الخارجية الأمريكية أن القوات ستبقى في العراق. وطالبت الحكومة العراقية بأن تنسحب القوات الأمريكية."
    sents = [{"start": a, "end": b} for a, b in sentences(text)]
    ents = find_entities(text)
    got = [(text[c["cue"][0]:c["cue"][1]], text[c["content"][0]:c["content"][1]]) for c in find_claims(text, sents, ents)]
    assert got == [("نفت", "القوات ستبقى في العراق"), ("طالبت", "تنسحب القوات الأمريكية")]


@pytest.mark.parametrize("text, content, cue, source", [
    ("قتل ثلاثة جنود في هجوم على قاعدة عسكرية، بحسب وزارة الدفاع العراقية.",
     "قتل ثلاثة جنود في هجوم على قاعدة عسكرية", "بحسب", "وزارة الدفاع العراقية"),          # post-posed
    ("وحسب وكالة الأنباء الفرنسية، فإن المفاوضات توقفت منذ أسبوع.",
     "المفاوضات توقفت منذ أسبوع", "حسب", "وكالة الأنباء الفرنسية"),                         # pre-posed
    ("تراجعت أسعار النفط بنسبة 5% خلال الأسبوع الماضي حسب ما أفادت وكالة رويترز.",
     "تراجعت أسعار النفط بنسبة 5% خلال الأسبوع الماضي", "حسب", "وكالة رويترز"),             # حسب ما أفادت
])
def test_according_to_attributions_post_and_pre_posed(text, content, cue, source) -> None:
    doc = {"id": "kb-0000000000000000", "text": text, "text_sha256": "0" * 64, "sentences": [{"start": 0, "end": len(text)}]}
    ann = preannotate(doc)
    names = {e["id"]: e["text"] for e in ann["entities"]}
    [claim] = ann["claims"]
    assert (claim["content"]["text"], claim["cue"]["text"], names.get(claim["source"])) == (content, cue, source)
    assert text[claim["content"]["start"]:claim["content"]["end"]] == content

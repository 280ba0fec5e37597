"""The token rule (khabar.text.tokens) and nested BIO layers (khabar.text.bio), on hand-made and Wojood text."""

from __future__ import annotations

from pathlib import Path

import pytest

from khabar.text.bio import TagError, bio_layers, bio_names, entity_depths, spans_from_tags
from khabar.text.tokens import tokenize

WOJOOD = Path("/work/shared/realdata/arabic_ner_conll/wojood_sample_val.txt")
FIXTURE = Path(__file__).parent / "fixtures" / "realdata" / "arabic_ner_conll" / "wojood_sample_val.txt"


def _toks(text: str) -> list[str]:
    return [text[a:b] for a, b in tokenize(text)]


def test_punctuation_runs_split_from_words_and_numbers_kept():
    assert _toks("قال: (رويترز)، 3.5 2020/1/1 ١٬٠٠٠ 10:30، 50% ...") == [
        "قال", ":", "(", "رويترز", ")،", "3.5", "2020/1/1", "١٬٠٠٠", "10:30", "،", "50", "%", "..."]


def test_clitics_stay_in_their_token_and_offsets_are_code_points():
    text = "😀 لمنظمة الصحة"
    assert tokenize(text) == [(0, 1), (2, 8), (9, 14)]
    assert _toks(text) == ["😀", "لمنظمة", "الصحة"]


def test_range_and_trailing_separator():
    text = "أ. ب ، ج"
    assert tokenize(text, 3, 6) == [(3, 4), (5, 6)]
    assert _toks("ج.") == ["ج", "."]          # a period after a digit-less word is punctuation
    assert _toks("1.") == ["1", "."]          # no digit after it: not a decimal point
    assert tokenize("") == [] and tokenize("  \n ") == []


def test_bio_names_order():
    assert bio_names(["PERS", "ORG"]) == ["O", "B-PERS", "I-PERS", "B-ORG", "I-ORG"]


def test_depths_and_layers_nested_three_deep_and_clitic_start():
    # «لمنظمة الصحة العالمية في جنيف»: ORG starts after the proclitic ل, GPE nested in a FAC nested in ORG
    text = "لمنظمة الصحة العالمية في جنيف"
    ents = [{"start": 1, "end": 29, "type": "ORG"},       # منظمة … جنيف (after ل)
            {"start": 22, "end": 29, "type": "FAC"},      # في جنيف
            {"start": 25, "end": 29, "type": "GPE"},      # جنيف
            {"start": 7, "end": 12, "type": "ORG"}]       # الصحة (depth 2)
    assert [text[e["start"]:e["end"]] for e in ents] == ["منظمة الصحة العالمية في جنيف", "في جنيف", "جنيف", "الصحة"]
    assert entity_depths(ents) == [1, 2, 3, 2]
    toks = tokenize(text)
    two = bio_layers(toks, ents, depth=2)
    assert two.tags == [["B-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG"],
                        ["O", "B-ORG", "O", "B-FAC", "I-FAC"]]
    assert two.too_deep == [2] and two.clashes == [] and two.untokened == []
    three = bio_layers(toks, ents, depth=3)
    assert three.tags[2] == ["O", "O", "O", "O", "B-GPE"] and three.too_deep == []


def test_equal_spans_first_listed_is_outer_and_clash_is_reported():
    toks = [(0, 4)]
    assert bio_layers(toks, [{"start": 0, "end": 4, "type": "UNIT"}, {"start": 0, "end": 4, "type": "QUANTITY"}]).tags == [
        ["B-UNIT"], ["B-QUANTITY"]]
    crossing = [{"start": 0, "end": 6, "type": "ORG"}, {"start": 3, "end": 9, "type": "GPE"}]
    layers = bio_layers([(0, 2), (3, 6), (7, 9)], crossing)
    assert layers.tags == [["B-ORG", "I-ORG", "O"], ["O", "O", "O"]] and layers.clashes == [1]


@pytest.mark.parametrize("tags,message", [
    ([["OO"]], "line 1: malformed tag 'OO' (expected O, B-TYPE or I-TYPE)"),
    ([["IO"]], "line 1: malformed tag 'IO' (expected O, B-TYPE or I-TYPE)"),
    ([["I--ORG"]], "line 1: malformed tag 'I--ORG' (expected O, B-TYPE or I-TYPE)"),
    ([["B-"]], "line 1: malformed tag 'B-' (expected O, B-TYPE or I-TYPE)"),
    ([["B-PER"]], "line 1: entity class 'PER' of tag 'B-PER' is not in the schema's types"),
    ([["O", "B-ORG"]], "line 1: O among several tags O B-ORG (O stands alone)"),
    ([["O"], ["I-ORG"]], "line 2: I-ORG does not continue a ORG entity (IOB2: an entity starts with B-ORG)"),
])
def test_malformed_tags_are_refused_with_line(tags, message):
    with pytest.raises(TagError) as err:
        spans_from_tags(tags, {"ORG", "GPE"})
    assert str(err.value) == message


def test_spans_from_tags_nested_positions_and_given_line_numbers():
    rows = [["B-OCC"], ["I-OCC", "B-ORG"], ["I-OCC", "I-ORG", "B-GPE"], ["O"]]
    assert spans_from_tags(rows) == [(0, 3, "OCC"), (1, 3, "ORG"), (2, 3, "GPE")]
    with pytest.raises(TagError, match="^line 17: "):
        spans_from_tags([["O"], ["I-GPE"]], lines=[16, 17])


def test_wojood_sample_nested_tags_survive_spans_and_layers():
    path = FIXTURE if FIXTURE.is_file() else WOJOOD
    sentences, cur = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            if cur:
                sentences.append(cur)
            cur = []
        elif not line.startswith("$#$ "):
            token, *tags = line.split(" ")
            cur.append((token, tags))
    if cur:
        sentences.append(cur)
    tokens = changed = 0
    deepest = 0
    for sent in sentences:
        text = " ".join(t for t, _ in sent)
        offs = tokenize(text)
        assert [text[a:b] for a, b in offs] == [t for t, _ in sent]
        ents = [{"start": offs[a][0], "end": offs[b - 1][1], "type": typ} for a, b, typ in spans_from_tags([g for _, g in sent])]
        layers = bio_layers(offs, ents, depth=3)
        assert not (layers.too_deep or layers.clashes or layers.untokened)
        for i, (_, tags) in enumerate(sent):
            got = [layer[i] for layer in layers.tags]
            while len(got) > 1 and got[-1] == "O":
                got.pop()
            tokens += 1
            changed += got != tags
            deepest = max(deepest, len(tags))
    assert (len(sentences), tokens, changed, deepest) == (158, 2687, 0, 3)


def test_marks_selectors_and_joiners_stay_with_the_character_before():
    # reported by an adversarial review: U+FE0F and ZWJ became tokens of their own, tagged I-…
    assert _toks("أحب ❤️ أرامكو\u200d و👨\u200d👩\u200d👧!") == ["أحب", "❤️", "أرامكو\u200d", "و", "👨\u200d👩\u200d👧!"]
    assert _toks("مي\u200cخواهم وَفْقًا") == ["مي\u200cخواهم", "وَفْقًا"]
    text = "شركة أرامكو\u200d"
    ents = [{"start": 5, "end": 11, "type": "ORG"}]
    assert bio_layers(tokenize(text), ents, depth=1).tags == [["O", "B-ORG"]]

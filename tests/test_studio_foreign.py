"""Label Studio results from other set-ups (issue 14): a value.text whose white space Label
Studio collapsed is a warning (the offsets win), one annotation is read in one unit, and the
labeling config shows the text pre-wrap (a project with the old config is updated, not refused)."""

from __future__ import annotations

import pytest

from khabar.core.schema import Schemas
from khabar.studio.config import Scheme, labeling_config, same_but_style, same_config
from khabar.studio.parse import ConversionError, parse_results


@pytest.fixture(scope="module")
def scheme(schemas: Schemas) -> Scheme:
    return Scheme.from_schemas(schemas)


def _ent(rid: str, s: int, e: int, text: str, label: str = "PERS") -> dict:
    return {"id": rid, "from_name": "entity", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": text, "labels": [label]}}


def test_collapsed_white_space_in_value_text_is_a_warning(scheme) -> None:
    """Issue 14: one region whose value.text had collapsed white space stopped the whole pull."""
    text = "قال الوزير  سمير\nناصر إن الاقتصاد سينمو."
    s, e = text.index("سمير"), text.index("ناصر") + 4
    parsed = parse_results([_ent("r1", 4, 16, "الوزير سمير"), _ent("r2", s, e, "سمير ناصر")], text, scheme, "task 5, annotation 2")
    assert [(g.start, g.end, g.text) for g in parsed.regions.values()] == [(4, 16, "الوزير  سمير"), (s, e, "سمير\nناصر")]
    assert parsed.warnings == [
        "task 5, annotation 2, region r1: value.text differs from text[4:16] only in white space (Label Studio "
        "collapses it where the text is not shown pre-wrap); the offsets are kept",
        f"task 5, annotation 2, region r2: value.text differs from text[{s}:{e}] only in white space (Label Studio "
        "collapses it where the text is not shown pre-wrap); the offsets are kept"]


def test_other_words_are_still_refused(scheme) -> None:
    text = "قال الوزير  سمير ناصر."
    with pytest.raises(ConversionError) as err:
        parse_results([_ent("r1", 4, 16, "الوزير عمر")], text, scheme, "t")
    assert str(err.value).startswith("t, region r1: text 'الوزير عمر' (U+0627") and "but text[4:16] is 'الوزير  سمير'" in str(err.value)


def test_one_annotation_is_read_in_one_unit(scheme) -> None:
    """Issue 14: a region whose end lay one past the text was re-read as UTF-16 while its
    neighbours were read as code points."""
    text = "قال 😀 الوزير سمير"
    a = text.index("الوزير")
    cp = _ent("r1", a, a + 6, "الوزير")                          # code points (the emoji counts 1)
    u16 = _ent("r2", a + 8, a + 12, "سمير")                     # UTF-16 units (the emoji counts 2): ends one past the text
    assert a + 12 == len(text) + 1
    before = _ent("r0", 0, 3, "قال")                             # before the emoji: both readings agree
    assert len(parse_results([before, cp], text, scheme, "t").regions) == 2
    assert len(parse_results([before, u16], text, scheme, "t").regions) == 2  # all UTF-16: converted (case 01)
    with pytest.raises(ConversionError) as err:
        parse_results([before, cp, u16], text, scheme, "task 9, annotation 4")
    assert str(err.value).splitlines()[-1].strip() == (
        "task 9, annotation 4: offsets in two units: region(s) 'r1' read only as code points, 'r2' only as UTF-16 units; "
        "an annotation is stored in one unit, so one of them is wrong (check those regions in Label Studio)")


def test_the_config_shows_the_text_pre_wrap(schemas: Schemas) -> None:
    config = labeling_config(schemas)
    assert "white-space: pre-wrap" in config
    old = config.replace("; white-space: pre-wrap", "")
    assert old != config and not same_config(old, config) and same_but_style(old, config)
    assert not same_but_style(old.replace('value="PERS"', 'value="PERSON"'), config)

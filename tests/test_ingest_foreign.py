"""Seeds that are not plain news text (issue 14): HTML pages are refused with a hint,
presentation forms become standard letters as a recorded edit, a one-line article gets a title
that is not its whole text, and the CLI prints a document's artifact flags as warnings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import ROOT, make_project, snapshot
from khabar.cli import app
from khabar.core.errors import InputError
from khabar.ingest.run import ingest

ARTICLE = (ROOT / "seeds" / "wikinews_ar_001.txt").read_text(encoding="utf-8")
HEADLINE, BODY = ARTICLE.split("\n", 1)


def _project(tmp_path, name: str, text: str):
    project = make_project(tmp_path / "p", with_corpus=False)
    (project.seeds / name).write_text(text, encoding="utf-8")
    return project


def _doc(project, name: str) -> dict:
    entry = next(json.loads(line) for line in project.manifest.read_text(encoding="utf-8").splitlines()
                 if json.loads(line)["seed_file"] == name)
    return json.loads(project.corpus_file(entry["doc_id"]).read_text(encoding="utf-8"))


def test_an_html_seed_is_refused_with_a_hint(tmp_path) -> None:
    """Issue 14: an HTML seed went into a release as raw markup with a wrong title."""
    page = f"<!DOCTYPE html>\n<html><body>\n<h1>{HEADLINE}</h1>\n<p>{BODY}</p>\n</body></html>\n"
    project = _project(tmp_path, "page.txt", page)
    before = snapshot(project.root)
    with pytest.raises(InputError) as err:
        ingest(project, progress=False)
    assert "page.txt: looks like HTML or other markup ('<!DOCTYPE' at line 1, 9 tags or entities); a seed is the article's " \
           "plain text" in str(err.value)
    assert snapshot(project.root) == before


def test_one_tag_in_prose_is_not_a_page(tmp_path) -> None:
    project = _project(tmp_path, "one.txt", f"{HEADLINE}\n{BODY.replace('. ', '.<br> ', 1)}")
    ingest(project, progress=False)
    assert "<br>" in _doc(project, "one.txt")["text"]


def test_presentation_forms_become_letters_as_a_recorded_edit(tmp_path) -> None:
    """U+FEFB (LAM-ALEF ligature) and U+FE8D (ALEF isolated) in the seed: the text of record has
    لا and ا, and each change is an edit with its rule, mapping back to the seed's bytes."""
    word = "الأكاديمية"
    assert word in BODY
    body = BODY.rstrip("\n") + " لا يزال العمل جاريا.\n"
    seed = f"{HEADLINE}\n" + body.replace(" لا ", " \ufefb ", 1).replace(word, "\ufe8d" + word[1:], 1)
    project = _project(tmp_path, "forms.txt", seed)
    ingest(project, progress=False)
    doc = _doc(project, "forms.txt")
    assert "\ufefb" not in doc["text"] and "\ufe8d" not in doc["text"]
    assert doc["text"] == f"{HEADLINE}\n{body}"
    rules = [e for e in doc["edits"] if e["rule"] == "presentation-form"]
    assert len(rules) == 2
    raw = (project.seeds / "forms.txt").read_bytes()
    for e in rules:
        assert raw[e["raw_start"]:e["raw_end"]].decode("utf-8") in ("\ufefb", "\ufe8d")
        assert doc["text"][e["start"]:e["end"]] in ("لا", "ا")


def test_a_one_line_article_gets_its_first_sentence_as_title(tmp_path) -> None:
    one_line = BODY.split("\n", 1)[0]
    assert one_line.count(". ") >= 1
    project = _project(tmp_path, "oneline.txt", one_line + "\n")
    ingest(project, progress=False)
    doc = _doc(project, "oneline.txt")
    assert len(doc["paragraphs"]) == 1 and len(doc["sentences"]) > 1
    first = doc["sentences"][0]
    assert doc["title"] == doc["text"][first["start"]:first["end"]] != doc["text"]
    assert doc["title_span"] == first


def test_the_cli_prints_artifact_flags_as_warnings(tmp_path) -> None:
    project = _project(tmp_path, "quote.txt", f"{HEADLINE}\n{BODY.replace('. ', ' “اقتباس لم يغلق. ', 1)}")
    res = CliRunner().invoke(app, ["ingest", "--root", str(project.root), "-q"])
    assert res.exit_code == 0, res.output
    doc = _doc(project, "quote.txt")
    kinds = sorted({f["kind"] for f in doc["flags"]})
    assert "unbalanced-quote" in kinds
    [line] = [l for l in res.output.splitlines() if "quote.txt" in l and "flag(s)" in l]
    assert line.startswith(f"warning: {project.seeds / 'quote.txt'}: {len(doc['flags'])} flag(s) in {doc['id']} (")
    assert "unbalanced-quote" in line


@pytest.mark.parametrize("src, dst", [("\ufdf2", "الله"), ("\ufefb", "لا"), ("\ufe8d\ufe91", "اب"), ("\ufd3e", "\ufd3e"),
                                      ("عربي", "عربي")])
def test_presentation_form_neighbours(src, dst) -> None:
    """A ligature that stands for several letters becomes all of them; an ornate parenthesis
    (no decomposition) and plain letters stay."""
    from khabar.ingest.normalize import check_edits, normalize

    text, edits = normalize(f"قال {src} اليوم")
    assert text == f"قال {dst} اليوم" and check_edits(f"قال {src} اليوم", text, edits)
    assert [e.rule for e in edits] == ["presentation-form"] * (len(src) if src != dst else 0)

"""Ingest of the real seed (exact values) and of bad input (clear errors, nothing written)."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from khabar.core.errors import InputError
from khabar.ingest.run import ingest
from khabar.ingest import document
from khabar.ingest.document import make_document
from khabar.ingest.rawmap import RawMap, check_raw_map
from khabar.ingest.seeds import new_entry, sha256_hex

from conftest import ROOT, SEED, SEED_ID, make_project, snapshot


def _doc(project, doc_id=SEED_ID):
    return json.loads((project.corpus / f"{doc_id}.json").read_text(encoding="utf-8"))


def test_seed_document_exact_values(project) -> None:
    doc = _doc(project)
    raw = (ROOT / "seeds" / SEED).read_bytes()
    assert doc["id"] == SEED_ID
    assert doc["text"] == raw.decode("utf-8")  # clean UTF-8, NFC, LF: the text of record is the seed
    assert doc["edits"] == []
    assert len(doc["text"]) == 3585
    assert doc["title"] == "طلب البنتاغون للحكومة العراقية بشأن القوات الأمريكية"
    assert doc["title_span"] == {"start": 0, "end": 52}
    assert len(doc["paragraphs"]) == 15 and len(doc["sentences"]) == 25
    assert doc["lang"] == "ar" and doc["lang_check"]["confidence"] == 1.0
    flags = [(f["kind"], f["start"], f["end"], f["text"]) for f in doc["flags"]]
    assert flags == [
        ("stray-separator", 163, 164, "|"),
        ("unbalanced-quote", 1084, 1101, "“الشيعة السوداني“"),
        ("translation-artifact", 1085, 1100, "الشيعة السوداني"),
        ("markup-remnant", 1135, 1137, "ص>"),
        ("translation-artifact", 1153, 1176, "محمد شيعة آل – السوداني"),
        ("unbalanced-quote", 2526, 2527, "”"),
        ("translation-artifact", 2879, 2883, "بهمن"),
    ]
    for f in doc["flags"]:
        assert doc["text"][f["start"]:f["end"]] == f["text"]
    # no sentence is made of the stray separator alone
    assert all(any(c.isalnum() for c in doc["text"][s["start"]:s["end"]]) for s in doc["sentences"])


def test_every_seed_sentence_maps_back_to_raw_bytes(project) -> None:
    doc = _doc(project)
    raw = (ROOT / "seeds" / SEED).read_bytes()
    m = RawMap(doc, raw)
    for s in doc["sentences"]:
        b0, b1 = m.span_to_raw(s["start"], s["end"])
        assert raw[b0:b1].decode("utf-8") == doc["text"][s["start"]:s["end"]]


def test_raw_map_through_edits(empty_project) -> None:
    # BOM, CRLF, bidi controls and a decomposed alef-hamza: every sentence still maps back
    text = "عاجل\r\nقال \u200fالوزير إن الا\u0654مر جاهز. وأضاف أن الخطة \u202bتبدأ\u202c غدا.\r\n"
    raw = b"\xef\xbb\xbf" + text.encode("utf-8")
    (empty_project.seeds / "edits.txt").write_bytes(raw)
    report = ingest(empty_project, progress=False)
    doc = _doc(empty_project, report.created[0])
    assert doc["text"] == "عاجل\nقال الوزير إن الأمر جاهز. وأضاف أن الخطة تبدأ غدا.\n"
    assert [e["rule"] for e in doc["edits"]] == ["newline", "invisible-control", "nfc", "invisible-control",
                                                  "invisible-control", "newline"]
    m = RawMap(doc, raw)
    import unicodedata
    from khabar.ingest.normalize import REMOVED_CONTROLS
    for s in doc["sentences"]:
        b0, b1 = m.span_to_raw(s["start"], s["end"])
        back = raw[b0:b1].decode("utf-8")
        cleaned = unicodedata.normalize("NFC", "".join(c for c in back if c not in REMOVED_CONTROLS))
        assert cleaned == doc["text"][s["start"]:s["end"]]
    assert [doc["text"][s["start"]:s["end"]] for s in doc["sentences"]] == [
        "عاجل", "قال الوزير إن الأمر جاهز.", "وأضاف أن الخطة تبدأ غدا."]


# a BOM (3 bytes), CRLF line ends, an RLM (U+200F, 3 bytes) that cleaning removes, and a flagged "ص>";
# Arabic letters are 2 bytes each in UTF-8
_MAPPED = b"\xef\xbb\xbf" + "خبر عاجل\r\nقال \u200fالوزير إن الأمر جاهز ص> تماما.\r\n".encode("utf-8")


def _mapped_doc() -> dict:
    return make_document(_MAPPED, "mapped.txt", new_entry(sha256_hex(_MAPPED), None, seed_file="mapped.txt"))


def test_raw_map_exact_byte_offsets() -> None:
    doc = _mapped_doc()
    assert doc["text"] == "خبر عاجل\nقال الوزير إن الأمر جاهز ص> تماما.\n"
    assert [(e["rule"], e["raw_start"], e["raw_end"], e["start"], e["end"]) for e in doc["edits"]] == [
        ("newline", 18, 20, 8, 9), ("invisible-control", 27, 30, 13, 13), ("newline", 83, 85, 43, 44)]
    m = RawMap(doc, _MAPPED)
    assert m.span_to_raw(0, 8) == (3, 18)       # the title: after the BOM, before the CR
    assert m.span_to_raw(9, 12) == (20, 26)     # "قال": after the CRLF
    assert m.span_to_raw(13, 19) == (30, 42)    # "الوزير": starts after the removed RLM
    assert m.span_to_raw(9, 13) == (20, 30)     # "قال ": an end at a removed control takes it in
    assert m.span_to_raw(8, 9) == (18, 20)      # the "\n" is the raw CRLF
    flag = doc["flags"][0]
    assert (flag["kind"], flag["start"], flag["end"]) == ("markup-remnant", 34, 36)
    assert m.span_to_raw(34, 36) == (68, 71) and _MAPPED[68:71].decode("utf-8") == "ص>"
    assert m.problem([("title", 0, 8), ("flag", 34, 36), ("sentence", 9, 43), ("all", 0, 44)]) is None


def test_a_broken_raw_map_is_refused_naming_the_seed(empty_project, monkeypatch) -> None:
    doc = _mapped_doc()
    check_raw_map(doc, _MAPPED, "mapped.txt")  # the real mapping passes
    shifted = copy.deepcopy(doc)
    shifted["edits"][1]["raw_start"] += 1        # the RLM's bytes, one off
    no_bom = copy.deepcopy(doc)
    no_bom["provenance"]["bom_bytes"] = 0       # the BOM forgotten: every offset 3 bytes off
    for bad, where in ((shifted, "edit 1 (invisible-control"), (no_bom, "edit 0 (newline")):
        with pytest.raises(InputError, match="mapped.txt: the cleaning edits do not map") as err:
            check_raw_map(bad, _MAPPED, "mapped.txt")
        assert where in str(err.value)
    # a span the map sends to the wrong bytes (edits themselves fine) is caught too
    monkeypatch.setattr(RawMap, "to_raw", lambda self, pos, is_end=False: 3 + 2 * pos)
    with pytest.raises(InputError, match=r"title \[0, 8\)"):
        check_raw_map(doc, _MAPPED, "mapped.txt")
    monkeypatch.undo()
    # ingest makes every document through the check: a cleaning step that records wrong byte
    # offsets refuses the seed, names it, and writes nothing
    real = document._raw_edits
    monkeypatch.setattr(document, "_raw_edits", lambda *a: [{**e, "raw_end": e["raw_end"] + 1} for e in real(*a)])
    (empty_project.seeds / "mapped.txt").write_bytes(_MAPPED)
    with pytest.raises(InputError, match="mapped.txt: the cleaning edits do not map the text of record back"):
        ingest(empty_project, progress=False)
    assert not list(empty_project.corpus.glob("*.json")) and not empty_project.manifest.exists()


def test_reingest_is_byte_identical(tmp_path) -> None:
    project = make_project(tmp_path / "full", full=True)  # every committed seed and document
    before = snapshot(project.corpus), project.manifest.read_bytes()
    report = ingest(project, progress=False)
    assert SEED_ID in report.unchanged and not report.created and not report.updated
    assert report.counts == {"created": 0, "updated": 0, "unchanged": len(list((ROOT / "corpus").glob("kb-*.json")))}
    assert (snapshot(project.corpus), project.manifest.read_bytes()) == before
    # and equal to the committed corpus
    assert snapshot(project.corpus) == snapshot(ROOT / "corpus")


BAD = {
    "empty.txt": (b"", "empty.txt: empty file"),
    "blank.txt": (b" \n\t\n", "blank.txt: empty file (whitespace only)"),
    "binary.txt": (bytes(range(256)) * 4, "binary.txt: binary file"),
    "broken.txt": ("خبر عاجل".encode("utf-8")[:-1] + b"\xff\xfe\xfa", "broken.txt: not UTF-8"),
    "english.txt": (b"The ministry announced a new vaccination campaign across the country today.", "english.txt: not Arabic: detected en"),
    "persian.txt": ("وزارت بهداشت امروز از آغاز کارزار واکسیناسیون در سراسر کشور خبر داد و گفت که این برنامه ادامه دارد.".encode("utf-8"),
                    "persian.txt: not Arabic: detected fa"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_seed_refused_and_nothing_written(project, name) -> None:
    raw, message = BAD[name]
    (project.seeds / name).write_bytes(raw)
    before = snapshot(project.corpus), project.manifest.read_bytes()
    with pytest.raises(InputError) as err:
        ingest(project, progress=False)
    assert message in str(err.value)
    assert (snapshot(project.corpus), project.manifest.read_bytes()) == before
    assert not list(project.corpus.glob(".staging-*"))


def test_same_article_twice(project) -> None:
    shutil.copy(project.seeds / SEED, project.seeds / "copy.txt")
    with pytest.raises(InputError, match=f"copy.txt: the same article twice: byte-identical to {SEED}"):
        ingest(project, progress=False)
    # the same text in another encoding is the same article too
    (project.seeds / "copy.txt").write_bytes(b"\xef\xbb\xbf" + (project.seeds / SEED).read_bytes())
    with pytest.raises(InputError, match=f"its text of record equals that of {SEED}"):
        ingest(project, progress=False)


def test_edited_seed_refused_then_accepted(project) -> None:
    path = project.seeds / SEED
    path.write_bytes(path.read_bytes().replace("الأسبوع الماضي".encode(), "الأسبوع الفائت".encode(), 1))
    gold = project.annotations / SEED_ID / "gold.json"
    gold.parent.mkdir(parents=True)
    gold.write_text(json.dumps({"text_sha256": _doc(project)["text_sha256"]}), encoding="utf-8")
    before = snapshot(project.corpus), project.manifest.read_bytes()
    with pytest.raises(InputError) as err:
        ingest(project, progress=False)
    assert f"{SEED}: seed edited after ingest" in str(err.value)
    assert f"--accept-edit {SEED}" in str(err.value)
    assert (snapshot(project.corpus), project.manifest.read_bytes()) == before
    report = ingest(project, accept_edits={SEED}, progress=False)
    assert report.updated == [SEED_ID]
    assert report.stale_annotations == [str(gold)]
    doc = _doc(project)
    assert doc["id"] == SEED_ID and doc["revision"] == 2
    assert "الأسبوع الفائت" in doc["text"]
    [entry] = [json.loads(line) for line in project.manifest.read_text(encoding="utf-8").splitlines()]
    assert entry["seed_file"] == SEED and entry["revision"] == 2
    assert entry["previous_raw_sha256"] == ["1415eb2e8d27dc166ea13bd2f3d99a645494bf9fb763cedf81439e1877850776"]


def test_missing_seed_listed_in_manifest(project) -> None:
    (project.seeds / SEED).rename(project.seeds / "renamed.txt.bak")
    (project.seeds / "other.txt").write_text("أعلنت وزارة الصحة اليوم عن حملة تطعيم جديدة في البلاد.", encoding="utf-8")
    with pytest.raises(InputError, match=f"{SEED}: listed in the manifest as {SEED_ID} but the file is missing"):
        ingest(project, progress=False)


def test_several_problems_reported_together(project) -> None:
    (project.seeds / "a.txt").write_bytes(b"")
    (project.seeds / "b.txt").write_bytes(b"plain English text that is long enough to detect reliably here.")
    with pytest.raises(InputError) as err:
        ingest(project, progress=False)
    assert "2 problems" in str(err.value)
    assert "a.txt: empty file" in str(err.value) and "b.txt: not Arabic" in str(err.value)


def test_declared_utf16_without_bom_is_kept_and_reingests(empty_project) -> None:
    text = "أعلنت وزارة الصحة اليوم عن حملة تطعيم جديدة في البلاد.\n"
    (empty_project.seeds / "u16.txt").write_bytes(text.encode("utf-16-le"))
    with pytest.raises(InputError, match="u16.txt: binary file"):
        ingest(empty_project, progress=False)
    report = ingest(empty_project, encodings={"seeds/u16.txt": "utf-16-le"}, progress=False)  # a path works too
    [entry] = [json.loads(line) for line in empty_project.manifest.read_text(encoding="utf-8").splitlines()]
    assert entry["declared_encoding"] == "utf-16-le"
    doc = _doc(empty_project, report.created[0])
    assert doc["text"] == text and doc["provenance"]["encoding_source"] == "declared"
    again = ingest(empty_project, progress=False)  # the manifest stays valid
    assert again.unchanged == report.created


def test_accept_edit_takes_a_path(project) -> None:
    path = project.seeds / SEED
    path.write_bytes(path.read_bytes().replace("الأسبوع الماضي".encode(), "الأسبوع الفائت".encode(), 1))
    report = ingest(project, accept_edits={f"seeds/{SEED}"}, progress=False)
    assert report.revised == [SEED_ID]
    with pytest.raises(InputError, match="not a file of"):
        ingest(project, accept_edits={"/etc/passwd"}, progress=False)


def test_bad_manifest_line_named(project) -> None:
    line = project.manifest.read_text(encoding="utf-8").replace('"published_date": null', '"published_date": "٢٠٢٤-٠٤-٢٠"')
    project.manifest.write_text(line, encoding="utf-8")
    with pytest.raises(InputError) as err:
        ingest(project, progress=False)
    assert f"manifest.jsonl: line 1 ({SEED}): published_date:" in str(err.value)


def test_a_short_article_is_kept_and_named_in_a_warning(empty_project) -> None:
    """Found by the new-user review: a 7-word "article" went in without a word."""
    (empty_project.seeds / "short.txt").write_text("خبر قصير\nقال الوزير إن الاجتماع انتهى اليوم.\n", encoding="utf-8")
    report = ingest(empty_project, progress=False)
    assert report.counts["created"] == 1
    assert report.warnings == [f"{empty_project.seeds / 'short.txt'}: a short article (8 words, under 40): kept; "
                               "check that it is a whole article, not a fragment or a headline alone"]


def test_a_near_duplicate_article_is_kept_and_named_in_a_warning(project) -> None:
    """Found by the new-user review: a copy of an article with one letter added went in silently
    (the gate refuses near duplicates only across splits)."""
    raw = (ROOT / "seeds" / SEED).read_bytes()
    (project.seeds / "copy.txt").write_bytes(raw.replace("البنتاغون".encode(), "البنتاغونن".encode(), 1) + b"\n\n")
    report = ingest(project, progress=False)
    assert report.counts["created"] == 1
    [new] = [w for w in report.warnings if "nearly the same text" in w]
    new_id = next(p.stem for p in project.corpus.glob("kb-*.json") if p.stem != SEED_ID)
    assert new.startswith(f"{project.corpus / new_id}.json: nearly the same text as {SEED_ID} (similarity ")
    assert new.endswith("kept; check that it is not the same article twice (the gate refuses such a pair across splits)")
    again = ingest(project, progress=False)  # named when the article comes in, not on every ingest
    assert not [w for w in again.warnings if "nearly the same text" in w]


def test_the_headline_is_the_first_line_even_when_the_body_is_one_line() -> None:
    """Issue 11: one-line bodies (wikinews_ar_001: headline and one paragraph) keep their headline."""
    lines = (ROOT / "seeds" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    [entry] = [e for e in map(json.loads, lines) if e["seed_file"] == "wikinews_ar_001.txt"]
    doc = json.loads((ROOT / "corpus" / f"{entry['doc_id']}.json").read_text(encoding="utf-8"))
    assert doc["title"] == "فيلم جاذبية يتصدر ترشيحات جوائز الأكاديمية البريطانية لفنون الفيلم والتلفزيون"
    assert doc["title_span"] == {"start": 0, "end": len(doc["title"])} and len(doc["paragraphs"]) == 2
    assert doc["provenance"]["publisher"] == "Arabic Wikinews (ar.wikinews.org)" and doc["provenance"]["url"] is None
    assert doc["provenance"]["license"].startswith("CC BY 2.5") and doc["provenance"]["published_date"] is None

"""The text-ingest cases of ../shared/cases (copied into tests/fixtures/cases), exact values."""

from __future__ import annotations

import csv
import io

import pytest

from khabar.ingest.decode import decode_seed
from khabar.ingest.document import make_document
from khabar.core.errors import InputError
from khabar.ingest.run import ingest
from khabar.ingest.seeds import new_entry, sha256_hex

from conftest import load_case


def _entry(raw: bytes) -> dict:
    return new_entry(sha256_hex(raw))


def test_case05_crlf_and_whitespace_only_lines() -> None:
    case = load_case("05-crlf-and-whitespace-only-lines.json")
    raw = case["input"]["file_utf8_text"].encode("utf-8")
    doc = make_document(raw, "case05.txt", _entry(raw))
    exp = case["expected"]
    assert doc["text"] == exp["stored_text"]
    assert ("\r" in doc["text"]) is exp["stored_text_contains_cr"]
    start, end = exp["entity_offsets"]
    assert doc["text"][start:end] == case["input"]["entity"]
    assert doc["text"].find(case["input"]["entity"]) == start == 14
    # whitespace-only lines are kept (only their CR went)
    assert doc["text"].split("\n")[1:3] == [" ", " "]
    # the raw CRLF offsets of the case select the wrong text in the stored text (the bug)
    rs, re_ = case["input"]["offsets_in_raw_crlf_text"]
    wrong = exp["bug_signature"].split("select '")[1].split("'")[0]
    assert doc["text"][rs:re_] == wrong
    # every CRLF is one recorded edit with its raw byte range
    assert [e["rule"] for e in doc["edits"]] == ["newline"] * 4
    assert [(e["raw_start"], e["raw_end"], e["removed"], e["inserted"]) for e in doc["edits"][:2]] == [
        (8, 10, "\r\n", "\n"), (11, 13, "\r\n", "\n")]


def test_case05_neighbours_lone_cr_and_unicode_separators() -> None:
    text = "عاجل\r\rأعلن البنك المركزي\u2028رفع سعر الفائدة\r\n"
    raw = text.encode("utf-8")
    doc = make_document(raw, "cr.txt", _entry(raw))
    assert doc["text"] == "عاجل\n\nأعلن البنك المركزي\nرفع سعر الفائدة\n"
    assert doc["text"][doc["text"].index("البنك"):][:13] == "البنك المركزي"


def test_case19_bom_article_text() -> None:
    case = load_case("19-bom-and-legacy-encoding-at-ingest.json")
    raw = bytes.fromhex(case["input"]["article_txt_bytes_hex"])
    doc = make_document(raw, "bom.txt", _entry(raw))
    exp = case["expected"]
    assert doc["text"] == exp["article_text"]
    assert f"U+{ord(doc['text'][0]):04X}" == exp["article_text_first_char"]
    s, e = exp["entity_offsets"]
    assert doc["text"][s:e] == "وزارة الخارجية"
    assert "\ufeff" not in doc["text"]
    prov = doc["provenance"]
    assert (prov["encoding"], prov["encoding_source"], prov["bom_bytes"]) == ("utf-8-sig", "bom", 3)
    assert doc["edits"] == []  # the BOM is not text: it is accounted for by bom_bytes


def test_case19_csv_columns_after_bom() -> None:
    case = load_case("19-bom-and-legacy-encoding-at-ingest.json")
    dec = decode_seed(bytes.fromhex(case["input"]["articles_csv_bytes_hex"]), "articles.csv")
    rows = list(csv.reader(io.StringIO(dec.text)))
    assert rows[0] == case["expected"]["csv_columns"]
    assert rows[1][0] == case["expected"]["article_text"]


def test_case19_legacy_cp1256_refused_with_suggestion() -> None:
    case = load_case("19-bom-and-legacy-encoding-at-ingest.json")
    raw = bytes.fromhex(case["input"]["legacy_file_bytes_hex_cp1256"])
    with pytest.raises(InputError) as err:
        decode_seed(raw, "legacy.txt")
    msg = str(err.value)
    assert msg.startswith("legacy.txt: not UTF-8 (byte 0xe6 at offset 0)")
    assert "cp1256 gives 'وزارة الخارجية'" in msg
    assert "--encoding legacy.txt=cp1256" in err.value.hint
    # declared, it decodes to the expected text, and the source of the encoding is recorded
    dec = decode_seed(raw, "legacy.txt", declared="cp1256")
    assert (dec.text, dec.encoding, dec.encoding_source) == ("وزارة الخارجية", "cp1256", "declared")


def test_cp1256_detected_when_the_detector_is_sure() -> None:
    text = ("أعلنت وزارة الخارجية اليوم أنها تدين الهجوم الذي استهدف المدينة، وقالت في بيان إن "
            "الحكومة ستتخذ كافة الإجراءات لحماية المواطنين.\n") * 3
    dec = decode_seed(text.encode("cp1256"), "legacy-long.txt")
    assert (dec.text, dec.encoding, dec.encoding_source) == (text, "cp1256", "detected")


def test_utf16_with_bom_is_decoded(tmp_path) -> None:
    text = "أعلنت وزارة الصحة اليوم عن حملة تطعيم جديدة في البلاد."
    for enc, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        raw = bom + text.encode(enc)
        doc = make_document(raw, "u16.txt", _entry(raw))
        assert doc["text"] == text
        assert (doc["provenance"]["encoding"], doc["provenance"]["bom_bytes"]) == (enc, 2)


def test_bom_seed_ingested_end_to_end(empty_project) -> None:
    case = load_case("19-bom-and-legacy-encoding-at-ingest.json")
    (empty_project.seeds / "bom.txt").write_bytes(bytes.fromhex(case["input"]["article_txt_bytes_hex"]))
    report = ingest(empty_project, progress=False)
    assert len(report.created) == 1
    import json
    doc = json.loads((empty_project.corpus / f"{report.created[0]}.json").read_text(encoding="utf-8"))
    assert doc["text"][0] == "\u0648"
    assert doc["text"][0:14] == "وزارة الخارجية"

"""CoNLL in and out: round trips on the real Wojood and AQMAR files, every refusal with its file and
line, alignment to an ingested article, the export's layout and what it reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import khabar
from khabar.annotate.files import load_checked_annotation
from khabar.cli import app
from khabar.formats.conll.reader import export_classes, import_classes, parse_map
from khabar.formats.conll.exporter import document_lines, export_conll
from khabar.formats.conll.importer import import_conll
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.ingest.run import ingest
from khabar.core.project import inside_releases
from khabar.core.schema import Schemas

from conftest import ROOT, SEED_ID, make_project, snapshot

REAL = Path(__file__).parent / "fixtures" / "realdata"
CONLL = REAL / "arabic_ner_conll"
WOJOOD = CONLL / "wojood_sample_val.txt"
AQMAR = ["aqmar_Damascus.conll.txt", "aqmar_Ibn_Tolun_Mosque.conll.txt", "aqmar_Islamic_Golden_Age.conll.txt"]
MARKS = "\u200e\u200f"  # the LRM/RLM marks the AQMAR files carry; ingest removes them


def token_lines(text: str) -> list[str]:
    """The non-blank lines (tokens and paragraph marks) of a CoNLL text."""
    return [line for line in text.split("\n") if line.strip()]


def breaks(text: str) -> set[int]:
    """Sentence starts (blank line or paragraph mark before a token) as code-point offsets into the
    concatenation of the tokens with their LRM/RLM marks removed: comparable across files."""
    out, pos, new = set(), 0, False
    for line in text.split("\n"):
        if not line.strip() or line.startswith("$#$ "):
            new = True
            continue
        if new and pos:
            out.add(pos)
        new = False
        pos += len(line.split(" ")[0].strip(MARKS))
    return out


def after_stop(text: str, pos: int) -> bool:
    """Whether the token text before sentence start ``pos`` (an offset as :func:`breaks` gives)
    ends with a sentence-ending mark of the corpus segmenter (. ! ? ؟ ؛ …, then closing quotes)."""
    joined = "".join(line.split(" ")[0].strip(MARKS) for line in text.split("\n") if line.strip() and not line.startswith("$#$ "))
    return joined[:pos].rstrip("”\"»’)]")[-1:] in ".!?؟؛…"


def state(project) -> dict:
    return {"seeds": snapshot(project.seeds), "corpus": snapshot(project.corpus), "annotations": snapshot(project.annotations)}


def write(project, name: str, body: str | bytes) -> Path:
    path = project.root / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return path


def refused(project, body: str | bytes, fmt: str = "wojood", name: str = "bad.txt", **kw) -> InputError:
    path = write(project, name, body)
    before = state(project)
    with pytest.raises(InputError) as err:
        import_conll(project, path, fmt, progress=False, **kw)
    assert state(project) == before
    return err.value


# ------------------------------------------------------------------ round trips on the real files

@pytest.fixture(scope="module")
def wojood_file(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("wojood") / "proj")
    report = import_conll(project, WOJOOD, "wojood", progress=False)
    out = project.root / "out.txt"
    exported = export_conll(project, out, annotator="wojood", progress=False)
    return project, report, exported, out.read_text(encoding="utf-8")


def test_wojood_round_trip_one_document(wojood_file) -> None:
    project, report, exported, out = wojood_file
    src = WOJOOD.read_text(encoding="utf-8")
    [doc_id] = report.documents
    assert report.seeds_added == ["wojood_sample_val.txt"] and report.entities == 470
    assert report.empty_paragraphs == [984] and report.invisible_tokens == [] and report.annotator_added == "wojood"
    assert (exported.documents, exported.tokens, exported.entities, exported.skipped) == (1, 2687, 470, 1)
    assert not any(exported.left_out.values()) and exported.cut == 0 and exported.merged_breaks == 0
    # Every token line and its up to three tags come back identical. Two `$#$ O` lines differ, both
    # paragraph marks: line 984 closes an empty paragraph (983 and 984 are both `$#$ O`), which no
    # document can hold; and the export closes the last paragraph, which the sample leaves open.
    lines = token_lines(src)
    assert src.split("\n")[982:984] == ["$#$ O", "$#$ O"]
    expected = [l for n, l in enumerate(src.split("\n"), 1) if l.strip() and n != 984] + ["$#$ O"]
    assert token_lines(out) == expected
    assert len(lines) == 2743 and sum(1 for l in lines if l == "$#$ O") == 56
    # Sentences come from the corpus segmenter, not from the file's blank lines: 137 of the file's
    # 158 sentence breaks are kept; of the 21 others, 19 follow no . ! ? ؟ ؛ … (the segmenter does
    # not break there) and 2 put a lone `"` after a period in a sentence of its own (a run with no
    # letter is no sentence for the segmenter: the `"` stays with the sentence before); the export
    # adds 17 breaks, each after such a mark.
    a, b = breaks(src), breaks(out)
    assert (len(a), len(b), len(a & b), len(a - b), len(b - a)) == (158, 154, 137, 21, 17)
    assert sum(after_stop(src, k) for k in a - b) == 2 and all(after_stop(src, k) for k in b - a)
    assert exported.sentences == 155


def test_wojood_annotation_file(wojood_file) -> None:
    project, report, _, _ = wojood_file
    [doc_id] = report.documents
    doc = json.loads((project.corpus / f"{doc_id}.json").read_text(encoding="utf-8"))
    path = project.annotations / doc_id / "wojood.json"
    ann = load_checked_annotation(path, doc, Schemas(project.schema))
    assert ann["annotator"] == "wojood" and ann["claims"] == [] and ann["stances"] == []
    assert ann["origin"] == {"kind": "import", "tool": "khabar import conll --format wojood wojood_sample_val.txt",
                             "version": khabar.__version__}
    assert [e["id"] for e in ann["entities"]] == [f"e{i}" for i in range(1, 471)]
    # «سكرتير اللجنة القومية العربية في نابلس» (lines 40-45): OCC holds ORG and GPE, outer first
    occ = next(i for i, e in enumerate(ann["entities"]) if e["text"].startswith("سكرتير"))
    assert [(e["type"], e["text"]) for e in ann["entities"][occ:occ + 3]] == [
        ("OCC", "سكرتير اللجنة القومية العربية في نابلس"), ("ORG", "اللجنة القومية العربية"), ("GPE", "نابلس")]
    # equal spans keep the file's tag order (كيلو B-UNIT B-QUANTITY): outer first
    same = [(e["type"]) for e in ann["entities"] if e["text"] == "كيلو"]
    assert same == ["UNIT", "QUANTITY"]
    registry = json.loads((project.annotations / "annotators.json").read_text(encoding="utf-8"))
    assert registry["wojood"]["kind"] == "human" and registry["wojood"]["reviewed_by_human"] is False
    assert "Wojood" in registry["wojood"]["description"] and "a01" in registry


def test_wojood_per_paragraph(project) -> None:
    before = state(project)
    with pytest.raises(InputError) as err:
        import_conll(project, WOJOOD, "wojood", per="paragraph", progress=False)
    assert str(err.value) == (
        "wojood_sample_val.txt: not imported (1 problem; nothing written):\n"
        "  wojood_sample_val.txt: lines 2114-2137 (paragraph 46): cannot be a corpus document: not Arabic: detected en "
        "(confidence 0.9997, Arabic-script letters 0%)")
    assert err.value.hint.endswith("pass --skip-unfit to leave such paragraphs out (they are listed)")
    assert state(project) == before
    report = import_conll(project, WOJOOD, "wojood", per="paragraph", skip_unfit=True, progress=False)
    assert len(report.documents) == 55 and len(report.written) == 55 and report.entities == 470
    assert report.skipped == ["lines 2114-2137: not Arabic: detected en (confidence 0.9997, Arabic-script letters 0%)"]
    assert report.seeds_added[:2] == ["wojood_sample_val-p001.txt", "wojood_sample_val-p002.txt"]
    assert "wojood_sample_val-p020.txt" not in report.seeds_added  # the empty paragraph (line 984)
    assert report.ingest.counts == {"created": 55, "updated": 0, "unchanged": 1}
    out = project.root / "out.txt"
    exported = export_conll(project, out, annotator="wojood", progress=False)
    assert exported.documents == 55 and exported.skipped == 1
    src = WOJOOD.read_text(encoding="utf-8").split("\n")
    # back in paragraph order; left out: the empty paragraph's mark and the English paragraph
    expected = [l for n, l in enumerate(src, 1) if l.strip() and n != 984 and not 2114 <= n <= 2137] + ["$#$ O"]
    assert token_lines(out.read_text(encoding="utf-8")) == expected
    # a re-import changes nothing: no seed, no ingest, every annotation unchanged
    snap = state(project)
    again = import_conll(project, WOJOOD, "wojood", per="paragraph", skip_unfit=True, progress=False)
    assert (again.written, len(again.unchanged), again.seeds_added, again.ingest) == ([], 55, [], None)
    assert state(project) == snap


GLUED = {"بغداد؛ B-LOC": ["بغداد B-LOC", "؛ I-LOC"], "ref> O": ["ref O", "> O"]}
GLUED_TOKENS = {"بغداد؛", "ref>"}
AQMAR_FACTS = {  # file: (entities, lines of tokens that are only a mark, tokens ending in a mark, breaks file/export/common)
    "aqmar_Damascus.conll.txt": (326, [2393], 0, (80, 78, 77)),
    "aqmar_Ibn_Tolun_Mosque.conll.txt": (140, [643, 713, 749, 761, 852, 887, 905, 928, 932, 957, 973, 985, 991, 998, 1004, 1020,
                                               1024, 1034, 1059, 1079, 1096, 1124, 1129, 1138, 1142, 1147, 1151, 1154, 1162,
                                               1196, 1265, 1319], 32, (52, 49, 49)),
    "aqmar_Islamic_Golden_Age.conll.txt": (117, [], 0, (52, 47, 46)),
}


@pytest.mark.parametrize("name", AQMAR)
def test_aqmar_round_trip(project, name) -> None:
    src = (CONLL / name).read_text(encoding="utf-8")
    report = import_conll(project, CONLL / name, "aqmar", mapping={"MIS1": "EVENT"}, progress=False)
    entities, only_mark, ending_in_mark, (n_file, n_out, n_common) = AQMAR_FACTS[name]
    assert report.entities == entities and report.invisible_tokens == only_mark
    out = project.root / "out.txt"
    exported = export_conll(project, out, annotator="aqmar", fmt="aqmar", mapping={"MIS1": "EVENT"}, progress=False)
    assert exported.entities == entities and not any(exported.left_out.values())
    # What comes back: every token line with its tag, except that (1) U+200E/U+200F marks, which
    # ingest removes from the text, are gone from tokens, and tokens made only of a mark are gone;
    # (2) the two tokens where a word and punctuation are glued come back as two tokens, as the
    # corpus tokenizer splits them (the entity keeps its span: بغداد؛ is one LOC).
    expected = []
    for line in token_lines(src):
        token, tag = line.split(" ")
        token = token.strip(MARKS)
        if token:
            expected += GLUED.get(f"{token} {tag}", [f"{token} {tag}"])
    assert token_lines(out.read_text(encoding="utf-8")) == expected
    assert sum(1 for l in token_lines(src) if l.split(" ")[0][-1] in MARKS and l[0] not in MARKS) == ending_in_mark
    assert sum(1 for l in token_lines(src) if l.split(" ")[0] in GLUED_TOKENS) == (2 if "Golden" in name else 0)
    # sentence breaks: the file's that the segmenter does not make follow no sentence-ending mark;
    # the segmenter's extra ones all follow one
    a, b = breaks(src), breaks(out.read_text(encoding="utf-8"))
    assert (len(a), len(b), len(a & b)) == (n_file, n_out, n_common)
    assert not any(after_stop(src, k) for k in a - b) and all(after_stop(src, k) for k in b - a)


def test_aqmar_glued_token_entity_keeps_its_span(project) -> None:
    report = import_conll(project, CONLL / AQMAR[2], "aqmar", mapping={"MIS1": "EVENT"}, progress=False)
    ann = json.loads((project.annotations / report.documents[0] / "aqmar.json").read_text(encoding="utf-8"))
    assert [e["text"] for e in ann["entities"] if "بغداد" in e["text"]] == ["بغداد؛"]
    assert sum(1 for e in ann["entities"] if e["type"] == "EVENT") == 12  # the MIS1 entities (24 tags)


def test_aqmar_aligned_to_ingested_article(project) -> None:
    shutil.copy(REAL / "arabic_articles" / "aqmar_Damascus.txt", project.seeds / "aqmar_Damascus.txt")
    rep = ingest(project, progress=False)
    [doc_id] = rep.created
    doc = json.loads((project.corpus / f"{doc_id}.json").read_text(encoding="utf-8"))
    report = import_conll(project, CONLL / AQMAR[0], "aqmar", doc_id=doc_id, gold=True, progress=False)
    assert report.documents == [doc_id] and report.seeds_added == [] and report.ingest is None
    assert report.invisible_tokens == [2393] and report.entities == 326
    ann = json.loads((project.annotations / doc_id / "gold.json").read_text(encoding="utf-8"))
    assert ann["annotator"] == "gold" and ann["origin"]["sources"] == ["aqmar"]
    assert [(e["start"], e["end"], e["text"], e["type"]) for e in ann["entities"][:3]] == [
        (0, 4, "دمشق", "LOC"), (8, 23, "العاصمة السورية", "LOC"), (249, 263, "الدولة الأموية", "LOC")]
    assert sorted({e["type"] for e in ann["entities"]}) == ["LOC", "ORG", "PERS"]
    assert all(doc["text"][e["start"]:e["end"]] == e["text"] for e in ann["entities"])
    # a token that is not the document's text names the line and the text there
    err = refused(project, "دمشق B-LOC\nهي O\nالعاصمة B-LOC\n", "aqmar", doc_id=doc_id)
    assert str(err) == ("bad.txt: not imported (1 problem; nothing written):\n  bad.txt: the file ends (line 3) but document "
                        f"{doc_id} goes on at offset 16: 'السورية وهي أقدم مدينة مأهولة في العالم '")
    err = refused(project, "دمشق B-LOC\nكانت O\n", "aqmar", doc_id=doc_id)
    assert str(err) == ("bad.txt: not imported (1 problem; nothing written):\n  bad.txt: line 2: token 'كانت' does not match "
                        f"document {doc_id} at offset 5: the text there is 'هي العاصمة الس' (after 'دمشق ')")


# ------------------------------------------------------------------ every refusal names file and line

ONE = "bad.txt: not imported (1 problem; nothing written):\n  bad.txt: "
MALFORMED = {
    "OO": ("قال O\nالوزير OO\n", "line 2: malformed tag 'OO' (expected O, B-TYPE or I-TYPE)"),
    "IO": ("قال IO\n", "line 1: malformed tag 'IO' (expected O, B-TYPE or I-TYPE)"),
    "I--ORG": ("منظمة B-ORG\nالصحة I--ORG\n", "line 2: malformed tag 'I--ORG' (expected O, B-TYPE or I-TYPE)"),
    "B-": ("قال O\nمنظمة B-\n", "line 2: malformed tag 'B-' (expected O, B-TYPE or I-TYPE)"),
    "no tag": ("قال O\nالوزير\n", "line 2: no tag after the token 'الوزير'"),
    "not a schema class": ("منظمة B-FOO\nالصحة I-FOO\n",
                           "line 1: entity class FOO is not a Wojood type of schema/labels.schema.json; also on line 2"),
    "I continues nothing": ("قال O\nالصحة I-ORG\n", "line 2: I-ORG does not continue a ORG entity (IOB2: an entity starts with B-ORG)"),
    "I of another class": ("منظمة B-ORG\nالصحة I-GPE\n", "line 2: I-GPE does not continue a GPE entity (IOB2: an entity starts with B-GPE)"),
    "I after a blank line": ("منظمة B-ORG\n\nالصحة I-ORG\n",
                             "line 3: I-ORG does not continue a ORG entity (IOB2: an entity starts with B-ORG)"),
    "I after a paragraph mark": ("منظمة B-ORG\n$#$ O\nالصحة I-ORG\n",
                                 "line 3: I-ORG does not continue a ORG entity (IOB2: an entity starts with B-ORG)"),
    "O among tags": ("منظمة O B-ORG\n", "line 1: O among several tags O B-ORG (O stands alone)"),
    "paragraph mark with a tag": ("قال O\n$#$ B-ORG\n", "line 2: paragraph mark with tag(s) B-ORG (expected '$#$ O')"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_line_refused_with_file_and_line(project, case) -> None:
    body, message = MALFORMED[case]
    assert str(refused(project, body)) == ONE + message


@pytest.mark.parametrize("body,message,hint", [
    ("العصر B-MIS1\nالذهبي I-MIS1\nفي O\n", "line 1: entity class MIS1 has no Wojood type (AQMAR's MIS0-MIS3 are per-article "
     "miscellaneous classes); also on line 2", "pass an explicit mapping to a Wojood type, e.g. --map MIS1=EVENT"),
    ("دمشق B-GPE\n", "line 1: entity class GPE is not an AQMAR class (PER, LOC, ORG, MIS0-MIS3)",
     "map it explicitly to a Wojood type, e.g. --map GPE=GPE"),
    ("دمشق B-LOC B-LOC\n", "line 1: 2 tags; the aqmar format has 1 tag per token", None),
])
def test_aqmar_refusals(project, body, message, hint) -> None:
    err = refused(project, body, "aqmar")
    assert str(err) == ONE + message and err.hint == hint


def test_not_utf8_and_empty_files(project) -> None:
    err = refused(project, "قال O\n".encode() + b"\xe6\xd2 O\n")
    assert str(err) == "bad.txt: line 2: not UTF-8 (byte 0xe6 at offset 9)"
    for body in (b"", b"\n \n", "$#$ O\n\n$#$ O\n".encode()):
        assert str(refused(project, body)) == "bad.txt: empty file (no token lines)"


def test_cr_line_ends(project) -> None:
    # old Mac line ends: one "line" holding every token, which read as a tag 'O\rمنظمة' before
    err = refused(project, "قال O\rمنظمة B-ORG\rالصحة I-ORG\r".encode())
    assert str(err) == "bad.txt: line 1: line ends are CR only; convert to LF or CRLF"
    assert err.hint == "e.g. tr '\\r' '\\n' < bad.txt > bad.txt.lf"
    err = refused(project, "قال O\r\nمنظمة B-ORG\rالصحة I-ORG\r\n".encode())
    assert str(err) == "bad.txt: line 2: a bare CR (carriage return not followed by LF) in the line; line ends must be LF or CRLF"
    # CRLF is fine
    report = import_conll(project, write(project, "crlf.txt", "أعلنت O\r\nوزارة B-ORG\r\nالصحة I-ORG\r\nاليوم O\r\n"), "wojood",
                          progress=False)
    assert report.entities == 1


def test_every_bad_line_reported_capped(project) -> None:
    body = "منظمة OO\n" * 23 + "\nقال O\nالصحة I-ORG\n"
    err = str(refused(project, body))
    lines = err.split("\n")
    assert lines[0] == "bad.txt: not imported (24 problems; nothing written):"
    assert lines[1:3] == ["  bad.txt: line 1: malformed tag 'OO' (expected O, B-TYPE or I-TYPE)",
                          "  bad.txt: line 2: malformed tag 'OO' (expected O, B-TYPE or I-TYPE)"]
    assert len(lines) == 22 and lines[-1] == "  … and 4 more"


def test_entity_of_invisible_tokens_only(project) -> None:
    err = refused(project, "أعلنت O\nوزارة O\nالصحة O\n\u200f B-PERS\nاليوم O\n")
    assert str(err).split("\n")[1] == ("  bad.txt: line 4: the PERS entity has no visible character (its tokens are only bidi/format "
                                       "controls, removed from the text of record)")


def test_bad_arguments(project) -> None:
    path = write(project, "ok.txt", "قال O\n")
    cases = [
        (dict(fmt="conll2003"), "unknown format 'conll2003'"),
        (dict(per="sentence"), "--per 'sentence': expected file or paragraph"),
        (dict(doc_id=SEED_ID, per="paragraph"), "--doc aligns the whole file to one document; --per paragraph makes one document per paragraph"),
        (dict(annotator="Gold"), "--annotator 'Gold': not a pseudonymous annotator id (a lower-case letter or digit, then up to "
                                 "63 lower-case letters, digits, _ . -)"),
        (dict(annotator="../x"), "--annotator '../x': not a pseudonymous annotator id (a lower-case letter or digit, then up to "
                                 "63 lower-case letters, digits, _ . -)"),
        (dict(doc_id="kb-0000000000000000"), f"--doc kb-0000000000000000: no such corpus document ({project.corpus}/kb-0000000000000000.json)"),
        (dict(doc_id="../corpus/kb-1415eb2e8d27dc16"), "--doc '../corpus/kb-1415eb2e8d27dc16': not a document id (kb- and 16 "
                                                       "lower-case hex digits)"),
        (dict(doc_id="kb-1415EB2E8D27DC16"), "--doc 'kb-1415EB2E8D27DC16': not a document id (kb- and 16 lower-case hex digits)"),
        (dict(mapping={"MIS1": "EVENTS"}), "--map MIS1=EVENTS: EVENTS is not a Wojood entity type of schema/labels.schema.json"),
    ]
    for kw, message in cases:
        kw = {"fmt": "wojood", **kw}
        with pytest.raises(InputError) as err:
            import_conll(project, path, progress=False, **kw)
        assert str(err.value) == message, kw
    with pytest.raises(InputError, match=r"in/missing.txt: cannot read: No such file or directory"):
        import_conll(project, project.root / "in" / "missing.txt", "wojood", progress=False)


@pytest.mark.parametrize("name", ["gold", "preannotator", "conflicts", "annotators", "a01.draft"])
def test_reserved_annotator_names_refused(project, name) -> None:
    # each is another kind of file in annotations/<doc_id>/ (conflicts.json: adjudication's
    # conflicts; annotators.json: the registry's name; *.draft.json: Label Studio drafts)
    err = refused(project, "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n", annotator=name)
    assert str(err) == (f"--annotator {name!r}: a reserved name: annotations/<doc_id>/{name}.json is not an annotator's file "
                        "(reserved: annotators, conflicts, gold, preannotator, *.draft)")
    assert err.hint == ("use --gold to write gold.json" if name == "gold" else "name who made the file, e.g. --annotator wojood")
    if name == "conflicts":
        res = CliRunner().invoke(app, ["import", "conll", str(project.root / "in" / "bad.txt"), "--format", "wojood", "--annotator",
                                       name, "--root", str(project.root), "-q"])
        assert res.exit_code == 1 and res.stderr == f"error: {err}\nhint: {err.hint}\n"
        assert list(project.annotations.glob("*/conflicts.json")) == []


def test_parse_map() -> None:
    assert parse_map(["MIS1=EVENT", "MIS2=LAW"]) == {"MIS1": "EVENT", "MIS2": "LAW"}
    with pytest.raises(InputError, match=r"^--map 'MIS1': expected CLASS=TYPE$"):
        parse_map(["MIS1"])
    with pytest.raises(InputError, match=r"^--map: class MIS1 is mapped twice \(MIS1=EVENT, MIS1=LAW\)$"):
        parse_map(["MIS1=EVENT", "MIS1=LAW"])


def test_crosswalk_from_the_schema(schemas) -> None:
    assert import_classes("aqmar", schemas) == {"PER": "PERS", "ORG": "ORG", "LOC": "LOC"}
    assert import_classes("aqmar", schemas, {"MIS1": "EVENT", "LOC": "GPE"})["LOC"] == "GPE"
    assert export_classes("aqmar", schemas, {"MIS1": "EVENT"}) == {
        "PERS": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "EVENT": "MIS1"}
    assert export_classes("wojood", schemas)["GPE"] == "GPE"
    with pytest.raises(InputError, match="the export cannot invert two classes mapped to one type"):
        export_classes("aqmar", schemas, {"MIS1": "EVENT", "MIS2": "EVENT"})


def test_unfit_paragraphs(project) -> None:
    body = "قال O\nالوزير O\n$#$ O\nأعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n$#$ O\nأعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n"
    err = refused(project, body, per="paragraph")
    assert str(err) == ("bad.txt: not imported (2 problems; nothing written):\n"
                        "  bad.txt: lines 1-3 (paragraph 1): cannot be a corpus document: too short for a news article (2 words; at least 3)\n"
                        "  bad.txt: lines 9-12 (paragraph 3): cannot be a corpus document: the same text as lines 4-8")
    err = refused(project, "The O\nministry B-ORG\nsaid O\ntoday O\n")
    assert str(err).endswith("bad.txt: lines 1-4: cannot be a corpus document: not Arabic: detected en (confidence 0.9555, "
                             "Arabic-script letters 0%)")


def test_seed_name_taken_and_existing_annotation(project) -> None:
    body = "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n"
    (project.seeds / "news.txt").write_text("خبر آخر تماما عن الطقس اليوم\n", encoding="utf-8")
    err = refused(project, body, name="news.txt")
    assert str(err) == f"news.txt: not imported (1 problem; nothing written):\n  {project.seeds}/news.txt: exists with other content than this import would write"
    assert err.hint == f"rename the file to import it under another seed name, or move {project.seeds}/news.txt away if it is not wanted"
    (project.seeds / "news.txt").unlink()
    report = import_conll(project, write(project, "news.txt", body), "wojood", progress=False)
    [doc_id] = report.documents
    target = project.annotations / doc_id / "wojood.json"
    # the same content under another file name: nothing to do (origin.tool, which names the file, aside)
    snap = state(project)
    again = import_conll(project, write(project, "copy.txt", body), "wojood", progress=False)
    assert (again.documents, again.written, again.unchanged, again.seeds_added) == ([doc_id], [], [str(target)], [])
    assert state(project) == snap
    err = refused(project, body.replace("B-ORG\nالصحة I-ORG", "B-ORG\nالصحة O"), name="news.txt")
    assert str(err) == (f"news.txt: not imported (1 problem; nothing written):\n  {target}: exists with other content "
                        "(imported by `khabar import conll --format wojood news.txt`)")
    assert err.hint == "pass --force to replace it, or --annotator NAME to import the file next to it"
    forced = import_conll(project, project.root / "in" / "news.txt", "wojood", force=True, progress=False)
    assert forced.written == [str(target)]
    assert [e["text"] for e in json.loads(target.read_text(encoding="utf-8"))["entities"]] == ["وزارة"]


def test_replaced_file_keeps_its_claims_and_stances(project) -> None:
    body = "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n"
    [doc_id] = import_conll(project, write(project, "n.txt", body), "wojood", gold=True, progress=False).documents
    gold = project.annotations / doc_id / "gold.json"
    old = json.loads(gold.read_text(encoding="utf-8"))
    old.update(guidelines_version="1.0", origin={"kind": "manual", "sources": ["a01"]},
               entities=[{"id": "x7", "start": 6, "end": 17, "text": "وزارة الصحة", "type": "ORG"}],
               claims=[{"id": "c1", "content": {"start": 18, "end": 23, "text": "اليوم"}, "cue": {"start": 0, "end": 5, "text": "أعلنت"},
                        "source": "x7", "via": [], "checkworthy": "no", "speech": "indirect"}],
               stances=[{"id": "s1", "holder": "x7", "target": "us-military-presence-iraq", "label": "FAVOR", "evidence": ["c1"]}])
    gold.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    corrected = body.replace("اليوم O", "اليوم B-DATE")
    err = refused(project, corrected, name="n.txt", doc_id=doc_id, gold=True)
    assert str(err) == f"n.txt: not imported (1 problem; nothing written):\n  {gold}: exists with other content (another annotation)"
    assert err.hint == "pass --force to replace it"
    # with --force the entities are replaced; the claim and stance stay, their entity id x7 now e1
    report = import_conll(project, write(project, "n.txt", corrected), "wojood", doc_id=doc_id, gold=True, force=True, progress=False)
    assert report.written == [str(gold)]
    new = json.loads(gold.read_text(encoding="utf-8"))
    assert [(e["id"], e["text"], e["type"]) for e in new["entities"]] == [("e1", "وزارة الصحة", "ORG"), ("e2", "اليوم", "DATE")]
    assert new["claims"] == [{**old["claims"][0], "source": "e1"}] and new["stances"] == [{**old["stances"][0], "holder": "e1"}]
    assert new["guidelines_version"] == "1.0"
    assert new["origin"] == {"kind": "import", "tool": "khabar import conll --format wojood n.txt", "version": khabar.__version__,
                             "sources": ["wojood", "a01"]}
    # the ORG gone from the file: the claim and the stance would be lost: refused even with --force
    err = refused(project, corrected.replace("B-ORG", "O").replace("I-ORG", "O"), name="n.txt", doc_id=doc_id, gold=True, force=True)
    assert str(err) == (f"n.txt: not imported (1 problem; nothing written):\n  {gold}: not replaced, even with --force: it holds "
                        "1 claim(s) and 1 stance(s); CoNLL carries entities only (a claim or stance is kept when every entity it "
                        "refers to is imported with the same span and type): 1 of 1 claims and 1 of 1 stances would be lost: "
                        "claim c1: source e1 ORG 'وزارة الصحة' [6, 17); stance s1: evidence claim c1 is lost")
    assert err.hint == "import under another --annotator and reconcile by hand, or remove those claims and stances from the file first"
    # a stale file: its claims are on another text
    gold.write_text(gold.read_text(encoding="utf-8").replace(new["text_sha256"], "0" * 64), encoding="utf-8")
    err = refused(project, corrected, name="n.txt", doc_id=doc_id, gold=True, force=True)
    assert str(err) == (f"n.txt: not imported (1 problem; nothing written):\n  {gold}: not replaced, even with --force: it holds "
                        "1 claim(s) and 1 stance(s); CoNLL carries entities only, and these were made on another text of the "
                        "document (the file is stale): all would be lost")


def test_gold_with_claims_not_replaced_by_its_own_export(gold_project) -> None:
    # the committed gold (140 entities, 19 claims, 10 stances) through CoNLL and back: CoNLL tags
    # whole tokens, so 13 entities come back wider (a clitic joins them: «وسوريا», «للحكومة العراقية»), and
    # the claims and stances that refer to them could not be kept
    project = gold_project
    out = project.root / "gold.conll.txt"
    export_conll(project, out, corpus=True, progress=False)
    gold = project.annotations / SEED_ID / "gold.json"
    before = state(project)
    with pytest.raises(InputError) as err:
        import_conll(project, out, "wojood", doc_id=SEED_ID, gold=True, force=True, progress=False)
    assert state(project) == before
    assert str(err.value) == (
        f"gold.conll.txt: not imported (1 problem; nothing written):\n  {gold}: not replaced, even with --force: it holds 19 "
        "claim(s) and 10 stance(s); CoNLL carries entities only (a claim or stance is kept when every entity it refers to is "
        "imported with the same span and type): 5 of 19 claims and 1 of 10 stances would be lost: claim c12: source e98 OCC "
        "'مسؤولي وزارة الخارجية الأمريكية' [2309, 2340); claim c14: via e106 ORG 'صحيفة واشنطن تايمز' [2535, 2553); claim c15: "
        "via e106 ORG 'صحيفة واشنطن تايمز' [2535, 2553); … and 3 more")


def test_registry_entry_never_overwritten(project) -> None:
    registry = project.annotations / "annotators.json"
    data = json.loads(registry.read_text(encoding="utf-8"))
    data["wojood"] = {"kind": "human", "reviewed_by_human": True, "description": "Our own description."}
    registry.write_text(json.dumps(data), encoding="utf-8")
    before = registry.read_bytes()
    report = import_conll(project, write(project, "n.txt", "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n"), "wojood", progress=False)
    assert report.annotator_added is None and registry.read_bytes() == before


def test_failed_ingest_leaves_everything(project) -> None:
    (project.seeds / "empty.txt").write_bytes(b"")
    err = refused(project, "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n")
    assert "empty.txt: empty file" in str(err) and err.hint == "if the article is in the corpus already, import with --doc DOC_ID"


def test_failure_after_ingest_is_undone(project, monkeypatch) -> None:
    import khabar.formats.conll.seeds as ci

    real = ci.atomic_write_bytes

    def failing(path, data):
        if Path(path).name == "annotators.json":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(ci, "atomic_write_bytes", failing)
    before = state(project)
    with pytest.raises(OSError):
        import_conll(project, write(project, "n.txt", "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n"), "wojood", progress=False)
    assert state(project) == before
    assert not list(project.seeds.glob(".*")) and not list(project.corpus.glob(".*"))


# ------------------------------------------------------------------ export

@pytest.fixture
def gold_project(project):
    """The project with the committed seed's gold annotation (140 entities; read-only source)."""
    (project.annotations / SEED_ID).mkdir()
    shutil.copy(ROOT / "annotations" / SEED_ID / "gold.json", project.annotations / SEED_ID / "gold.json")
    return project


def test_document_lines_layout() -> None:
    # two paragraphs «أ ب. ج د» «ه و», sentences «أ ب.» «ج د» «ه و»
    text = "أ ب. ج د\nه و"
    paras, sents = [{"start": 0, "end": 8}, {"start": 9, "end": 12}], [{"start": 0, "end": 4}, {"start": 5, "end": 8}, {"start": 9, "end": 12}]
    ents = [{"start": 2, "end": 6, "type": "ORG"},    # «ب. ج»: across a sentence break, which is then not written
            {"start": 7, "end": 10, "type": "PERS"}]  # «د\nه»: across the paragraph break: one entity per paragraph
    res = document_lines(text, paras, sents, ents, 2, "$#$")
    assert res.lines == ["أ O", "ب B-ORG", ". I-ORG", "ج I-ORG", "د B-PERS", "$#$ O", "", "ه B-PERS", "و O", "$#$ O", ""]
    assert (res.sentences, res.tokens, res.merged_breaks, res.cut) == (2, 7, 1, [1])
    plain = document_lines(text, paras, sents, [], 1, None)
    assert plain.lines == ["أ O", "ب O", ". O", "", "ج O", "د O", "", "ه O", "و O", ""] and plain.sentences == 3
    # a token the segmenter left outside every sentence («. .» ends the Wojood sample) is written
    assert document_lines("قال . .", [{"start": 0, "end": 7}], [{"start": 0, "end": 5}], [], 1, "$#$").lines == [
        "قال O", ". O", ". O", "$#$ O", ""]
    clash = document_lines(text, paras, sents, [{"start": 0, "end": 3, "type": "GPE"}, {"start": 2, "end": 6, "type": "ORG"},
                                                {"start": 2, "end": 3, "type": "PERS"}, {"start": 2, "end": 3, "type": "DATE"}], 2, "$#$")
    assert clash.clashes == [1] and clash.too_deep == [3] and clash.lines[:3] == ["أ B-GPE", "ب I-GPE B-PERS", ". O"]


def test_export_release_default_and_split(project) -> None:
    out = project.root / "rel.txt"
    release = str(ROOT / "releases" / "0.2.0")  # committed, immutable: read only
    r = export_conll(project, out, release=release, split="validation", progress=False)
    assert (r.source, r.documents, r.sentences, r.tokens, r.entities, r.skipped) == (
        "release 0.2.0 (validation)", 1, 25, 619, 140, 0)
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[:9] == ["طلب O", "البنتاغون B-ORG", "للحكومة B-ORG", "العراقية I-ORG B-GPE", "بشأن O", "القوات B-ORG",
                         "الأمريكية I-ORG B-GPE", "$#$ O", ""]
    assert sum(1 for l in lines if l == "$#$ O") == 15
    with pytest.raises(InputError, match=r"^0.2.0: no split 'test' \(splits: validation\)$"):
        export_conll(project, project.root / "t.txt", release=release, split="test", progress=False)
    with pytest.raises(InputError, match=r"^no release in .*releases$") as err:
        export_conll(project, project.root / "t.txt", progress=False)
    assert err.value.hint == "build one, or export from the corpus with --corpus"
    with pytest.raises(InputError, match=r"^no release '9.9.9' \(neither a folder nor a version under"):
        export_conll(project, project.root / "t.txt", release="9.9.9", progress=False)


def test_export_corpus_gold_depth_and_aqmar(gold_project) -> None:
    project = gold_project
    counts = {}
    for depth in (1, 2, 3):
        r = export_conll(project, project.root / f"d{depth}.txt", corpus=True, depth=depth, progress=False)
        counts[depth] = (r.entities, r.left_out["too_deep"])
    assert counts == {1: (104, 36), 2: (138, 2), 3: (140, 0)}
    assert r.source == "corpus/ + gold.json" and (r.documents, r.sentences, r.tokens) == (1, 25, 619)
    r = export_conll(project, project.root / "aq.txt", corpus=True, fmt="aqmar", progress=False)
    assert (r.entities, r.left_out) == (87, {"too_deep": 25, "clash": 0, "untokened": 0, "unmapped": 28})
    assert r.warnings()[0].startswith("25 entities not written: they are deeper than --depth (e.g. kb-1415eb2e8d27dc16 e3 GPE 'العراقية';")
    assert r.warnings()[1].startswith("28 entities not written: they have a type the format has no class for (e.g. "
                                      "kb-1415eb2e8d27dc16 e19 DATE 'أمس';")
    text = (project.root / "aq.txt").read_text(encoding="utf-8")
    assert "$#$" not in text and text.split("\n")[:4] == ["طلب O", "البنتاغون B-ORG", "للحكومة B-ORG", "العراقية I-ORG"]


def test_export_refusals(gold_project) -> None:
    project = gold_project
    out = project.root / "x.txt"
    out.write_text("keep", encoding="utf-8")
    cases = [
        (dict(corpus=True), f"{out}: exists"),
        (dict(corpus=True, fmt="aqmar", depth=2), "--depth 2: the aqmar format takes 1 to 1 tags per token"),
        (dict(corpus=True, depth=4), "--depth 4: the wojood format takes 1 to 3 tags per token"),
        (dict(corpus=True, fmt="iob1"), "unknown format 'iob1'"),
        (dict(annotator="gold", release="0.2.0"), "export either a release (--release, --split) or the corpus (--corpus, --annotator, --doc)"),
        (dict(docs=["kb-0000000000000000"], force=True), "--doc kb-0000000000000000: no such corpus document"),
        (dict(docs=[SEED_ID], annotator="a01", force=True), f"--doc {SEED_ID}: no annotation file {project.annotations}/{SEED_ID}/a01.json"),
    ]
    for kw, message in cases:
        with pytest.raises(InputError) as err:
            export_conll(project, out, progress=False, **kw)
        assert str(err.value) == message, kw
    with pytest.raises(InputError, match="is a folder"):
        export_conll(project, project.root, corpus=True, progress=False)
    with pytest.raises(InputError) as err:
        export_conll(project, out, corpus=True, fmt="aqmar", strict=True, force=True, progress=False)
    assert str(err.value).startswith(f"{out}: not written: 25 entities not written: they are deeper than --depth")
    assert out.read_text(encoding="utf-8") == "keep" and [p.name for p in project.root.glob(".x.txt.*")] == []
    r = export_conll(project, out, corpus=True, force=True, progress=False)
    assert r.entities == 140 and out.read_text(encoding="utf-8").startswith("طلب O\n")
    gold = project.annotations / SEED_ID / "gold.json"
    gold.write_text(gold.read_text(encoding="utf-8").replace('"text_sha256": "1415', '"text_sha256": "0415', 1), encoding="utf-8")
    with pytest.raises(StaleAnnotationError, match="stale annotation of document kb-1415eb2e8d27dc16"):
        export_conll(project, out, corpus=True, force=True, progress=False)
    assert r.entities == 140 and out.read_text(encoding="utf-8").startswith("طلب O\n")


def tampered_release(project, change) -> tuple[Path, Path]:
    """A copy of the committed release 0.2.0 whose documents shard went through ``change(rows)``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rel = project.root / "rel"
    shutil.copytree(ROOT / "releases" / "0.2.0", rel)
    shard = rel / "data" / "documents" / "validation-00000-of-00001.parquet"
    table = pq.read_table(shard)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    return rel, shard


def test_export_release_label_id_out_of_range(project) -> None:
    def change(rows):
        rows[0]["entities"][3]["type"] = 99
    rel, shard = tampered_release(project, change)
    out = project.root / "o.txt"
    with pytest.raises(InputError) as err:
        export_conll(project, out, release=str(rel), progress=False)
    assert str(err.value) == f"{shard}: row 0 (document {SEED_ID}): entities[3].type: ClassLabel id 99 out of range 0..20"
    assert err.value.hint == f"the file was changed after the release was built; run `khabar validate {rel}`"
    assert not out.exists() and list(project.root.glob(".o.txt.*")) == []


def test_export_release_without_annotated_document(project) -> None:
    def change(rows):
        rows[0]["annotation"]["annotated"] = False
    rel, _ = tampered_release(project, change)
    out = project.root / "o.txt"
    with pytest.raises(InputError) as err:
        export_conll(project, out, release=str(rel), progress=False)
    assert str(err.value) == f"{out}: not written: no annotated document in release rel (validation)"
    assert not out.exists() and list(project.root.glob(".o.txt.*")) == []


def test_export_refuses_paths_inside_releases(gold_project) -> None:
    project = gold_project
    (project.root / "in").mkdir()
    (project.root / "rl").symlink_to(project.releases, target_is_directory=True)
    for out in (project.releases / "0.3.0" / "extra.txt", project.releases, project.root / "in" / ".." / "releases" / "x.txt",
                project.root / "rl" / "x.txt"):
        with pytest.raises(InputError) as err:
            export_conll(project, out, corpus=True, progress=False)
        assert str(err.value) == (f"{out}: inside the project's releases folder {project.releases}: releases are immutable "
                                  "(a file added to a release breaks its checksums)")
        assert err.value.hint == "write the export elsewhere, e.g. -o export.conll.txt"
    assert not project.releases.exists()
    assert not inside_releases(project, project.root / "releases-notes.txt") and not inside_releases(project, project.root)
    assert export_conll(project, project.root / "in" / "ok.txt", corpus=True, progress=False).entities == 140


def test_export_bad_annotator_and_doc(gold_project) -> None:
    project = gold_project
    out = project.root / "o.txt"
    cases = [
        (dict(annotator="../x"), "--annotator '../x': not a pseudonymous annotator id (a lower-case letter or digit, then up to 63 "
                                 "lower-case letters, digits, _ . -)", "the annotator ids are the names of annotations/<doc_id>/*.json, e.g. gold"),
        (dict(annotator="conflicts"), "--annotator 'conflicts': a reserved name: annotations/<doc_id>/conflicts.json is not an "
                                      "annotator's file (reserved: annotators, conflicts, *.draft)",
         "the annotator ids are the names of annotations/<doc_id>/*.json, e.g. gold"),
        (dict(annotator="a01"), f"--annotator a01: no corpus document has an annotation file {project.annotations}/<doc_id>/a01.json",
         "files there: gold"),
        (dict(docs=["../corpus/kb-1415eb2e8d27dc16"]), "--doc '../corpus/kb-1415eb2e8d27dc16': not a document id (kb- and 16 "
                                                       "lower-case hex digits)", "document ids are the names of corpus/*.json, e.g. kb-1415eb2e8d27dc16"),
    ]
    for kw, message, hint in cases:
        with pytest.raises(InputError) as err:
            export_conll(project, out, progress=False, **kw)
        assert (str(err.value), err.value.hint) == (message, hint), kw
    (project.annotations / SEED_ID / "gold.json").unlink()
    with pytest.raises(InputError) as err:
        export_conll(project, out, corpus=True, progress=False)
    assert (str(err.value), err.value.hint) == (
        f"--annotator gold: no corpus document has an annotation file {project.annotations}/<doc_id>/gold.json", "files there: none")
    assert not out.exists()
    res = CliRunner().invoke(app, ["export", "conll", "--annotator", "../x", "-o", str(out), "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and res.stderr.splitlines()[0].startswith("error: --annotator '../x': not a pseudonymous")
    assert not out.exists()


# ------------------------------------------------------------------ command line

def test_help_texts() -> None:
    runner = CliRunner()
    for args, words in [(["import", "--help"], ["conll"]), (["export", "--help"], ["conll"]),
                        (["import", "conll", "--help"], ["FILE", "--format", "--annotator", "--doc", "--map", "--per", "--gold",
                                                         "--skip-unfit", "--force", "MIS1=EVENT",
                                                         "claims and stances are kept when every entity they refer to is imported "
                                                         "with the same span and type; if any would be lost, the import is "
                                                         "refused even with --force"]),
                        (["export", "conll", "--help"], ["--release", "--split", "--corpus", "--annotator", "--format", "--depth",
                                                         "--map", "--force", "--strict", "-o", "refused inside releases/"])]:
        res = runner.invoke(app, args)
        assert res.exit_code == 0, args
        flat = " ".join(res.output.split())  # help text is wrapped to the terminal width
        for w in words:
            assert w in flat, (args, w)
    top = runner.invoke(app, ["--help"]).output
    assert "import" in top and "export" in top


def test_cli_import_and_export(gold_project) -> None:
    project = gold_project
    runner = CliRunner()
    src = str(CONLL / AQMAR[2])
    res = runner.invoke(app, ["import", "conll", src, "--format", "aqmar", "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.splitlines()[0] == "error: aqmar_Islamic_Golden_Age.conll.txt: not imported (1 problem; nothing written):"
    assert res.stderr.splitlines()[-1] == "hint: pass an explicit mapping to a Wojood type, e.g. --map MIS1=EVENT"
    res = runner.invoke(app, ["import", "conll", src, "--format", "aqmar", "--map", "MIS1=EVENT", "--root", str(project.root), "-q"])
    assert res.exit_code == 0, res.output
    out = res.stdout.splitlines()
    assert out[0] == "aqmar_Islamic_Golden_Age.conll.txt: 117 entities in 1 document(s): 1 annotation file(s) written, 0 unchanged"
    assert out[1] == "seeds added: 1 (aqmar_Islamic_Golden_Age.conll.txt)" and out[2].startswith("wrote ")
    assert out[3] == "added annotator 'aqmar' to annotations/annotators.json (kind human, not reviewed by a Khabar annotator)"
    target = project.root / "out.txt"
    res = runner.invoke(app, ["export", "conll", "--annotator", "aqmar", "--format", "aqmar", "--map", "MIS1=EVENT", "-o", str(target),
                              "--root", str(project.root), "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"wrote {target}: 1 document(s), 48 sentences, 1407 tokens, 117 entities (from corpus/ + aqmar.json)\n"
    assert res.stderr == "note: 1 document(s) without that annotation not exported\n"
    res = runner.invoke(app, ["export", "conll", "--corpus", "-o", str(target), "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and res.stderr == f"error: {target}: exists\nhint: pass --force to replace it\n"
    res = runner.invoke(app, ["export", "conll", "--corpus", "--format", "aqmar", "-o", str(target), "--force", "--root", str(project.root), "-q"])
    assert res.exit_code == 0 and [l.split(":")[0] for l in res.stderr.splitlines()] == ["warning", "warning", "note"]
    assert res.stderr.splitlines()[2] == "note: 1 document(s) without that annotation not exported"


def test_export_bad_release_folders(project) -> None:
    rel = project.root / "rel"
    shutil.copytree(ROOT / "releases" / "0.2.0", rel)
    card = rel / "README.md"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("config_name: documents", "config_name: other", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"README.md: declares no data files of the documents config$"):
        export_conll(project, project.root / "o.txt", release=str(rel), progress=False)
    card.write_text("no front matter", encoding="utf-8")
    with pytest.raises(InputError, match=r"README.md: cannot read the card's YAML front matter: no YAML front matter between --- lines$"):
        export_conll(project, project.root / "o.txt", release=str(rel), progress=False)
    card.write_bytes(b"---\n\xff\n---\n")
    with pytest.raises(InputError, match=r"README.md: cannot read the card's YAML front matter: not UTF-8 \(byte 4\)$"):
        export_conll(project, project.root / "o.txt", release=str(rel), progress=False)
    card.write_text(text, encoding="utf-8")
    shard = rel / "data" / "documents" / "validation-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(InputError, match=r"validation-00000-of-00001.parquet: cannot read: ArrowInvalid"):
        export_conll(project, project.root / "o.txt", release=str(rel), progress=False)
    assert not (project.root / "o.txt").exists() and list(project.root.glob(".o.txt.*")) == []


def test_more_import_refusals(project) -> None:
    body = "أعلنت O\nوزارة B-ORG\nالصحة I-ORG\nاليوم O\n"
    report = import_conll(project, write(project, "n.txt", body), "wojood", progress=False)
    # the seed was ingested; the same name now with other tokens
    message = (f"n.txt: not imported (1 problem; nothing written):\n  {project.seeds}/n.txt: this seed name was ingested "
               f"from other content (document {report.documents[0]})")
    hint = (f"to import the file as a new document, rename it; if it corrects the text of {report.documents[0]}, put the "
            f"corrected text in {project.seeds}/n.txt, run `khabar ingest --accept-edit n.txt`, then import with --doc "
            f"{report.documents[0]}")
    err = refused(project, body.replace("اليوم", "أمس"), name="n.txt")
    assert (str(err), err.hint) == (message, hint)
    (project.seeds / "n.txt").rename(project.root / "n.txt.bak")  # also when the seed file is gone
    err = refused(project, body.replace("اليوم", "أمس"), name="n.txt")
    assert (str(err), err.hint) == (message, hint)
    (project.root / "n.txt.bak").rename(project.seeds / "n.txt")
    # every paragraph unfit and skipped: nothing to import
    with pytest.raises(InputError, match=r"^bad.txt: nothing left to import \(every paragraph was unfit and skipped\)$"):
        import_conll(project, write(project, "bad.txt", "قال O\n$#$ O\nThe O\nend O\nof O\nit O\n"), "wojood",
                     per="paragraph", skip_unfit=True, progress=False)
    # an invalid annotator registry is refused before anything is written
    (project.annotations / "annotators.json").write_text('{"x": {"kind": "robot"}}', encoding="utf-8")
    err = refused(project, body, name="other.txt", annotator="someone")
    assert str(err).split("\n")[1].startswith(f"  {project.annotations}/annotators.json: x: ")


def test_cli_import_says_how_many_files_it_did_not_list(project) -> None:
    # reported by a fresh user: "55 annotation file(s) written" was followed by 5 paths and nothing more
    res = CliRunner().invoke(app, ["import", "conll", str(WOJOOD), "--format", "wojood", "--per", "paragraph", "--gold",
                                   "--skip-unfit", "--root", str(project.root), "-q"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert sum(line.startswith("wrote ") for line in lines) == 5 and "… and 50 more" in lines

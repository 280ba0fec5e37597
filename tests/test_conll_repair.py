"""`khabar import conll --repair` (issue 14: AQMAR files refused whole for a few malformed tags):
stated rules, a report of every repair, and without the option the refusals stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_project, snapshot
from khabar.cli import app
from khabar.core.errors import InputError
from khabar.formats.conll.importer import import_conll
from khabar.formats.conll.repair import repair_tags

REAL = Path(__file__).parent / "fixtures" / "realdata" / "arabic_ner_conll" / "aqmar_Damascus.conll.txt"


def _damaged(tmp_path: Path) -> tuple[Path, list[tuple[int, str, str]]]:
    """The real AQMAR Damascus file with the faults people meet: a dangling I-, OO, a double
    dash, a class-less B- (on tokens whose true tags are known)."""
    lines = REAL.read_text(encoding="utf-8").split("\n")
    edits = {1: "I-LOC", 2: "OO", 55: "B--PER", 6: "B-"}  # line -> damaged tag
    made = []
    for n, tag in edits.items():
        tok, old = lines[n - 1].rsplit(" ", 1)
        made.append((n, old, tag))
        lines[n - 1] = f"{tok} {tag}"
    path = tmp_path / "aqmar_Damascus_damaged.conll.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, made


def test_refused_without_repair_and_nothing_written(tmp_path) -> None:
    project = make_project(tmp_path / "p", with_corpus=False)
    path, _ = _damaged(tmp_path)
    before = snapshot(project.root)
    with pytest.raises(InputError) as err:
        import_conll(project, path, "aqmar", progress=False)
    lines = str(err.value).splitlines()
    assert lines[0] == "aqmar_Damascus_damaged.conll.txt: not imported (3 problems; nothing written):"
    assert lines[1:] == ["  aqmar_Damascus_damaged.conll.txt: line 2: malformed tag 'OO' (expected O, B-TYPE or I-TYPE)",
                         "  aqmar_Damascus_damaged.conll.txt: line 6: malformed tag 'B-' (expected O, B-TYPE or I-TYPE)",
                         "  aqmar_Damascus_damaged.conll.txt: line 55: malformed tag 'B--PER' (expected O, B-TYPE or I-TYPE)"]
    assert err.value.hint.startswith("--repair applies stated rules")
    assert snapshot(project.root) == before


def test_repaired_import_gives_the_clean_file_entities_and_reports_each_repair(tmp_path) -> None:
    clean = make_project(tmp_path / "clean", with_corpus=False)
    r0 = import_conll(clean, REAL, "aqmar", progress=False)
    project = make_project(tmp_path / "p", with_corpus=False)
    path, made = _damaged(tmp_path)
    res = CliRunner().invoke(app, ["import", "conll", str(path), "--format", "aqmar", "--repair", "--root", str(project.root), "-q"])
    assert res.exit_code == 0, res.output
    report_file = project.seeds / "aqmar_Damascus_damaged.conll.repairs.json"
    assert f"repaired 4 tag(s) by the stated rules; report: {report_file}" in res.output
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert set(report["rules"]) == {"o-run", "dash", "no-class", "dangling-I"}
    assert [(r["line"], r["before"], r["after"], r["rule"]) for r in report["repairs"]] == [
        (1, "I-LOC", "B-LOC", "dangling-I"), (2, "OO", "O", "o-run"), (6, "B-", "O", "no-class"), (55, "B--PER", "B-PER", "dash")]
    # line 6 was O in the clean file, and every other repair gives back the clean tag: the same 326 entities
    assert [(n, old) for n, old, _ in made] == [(1, "B-LOC"), (2, "O"), (55, "B-PER"), (6, "O")]
    [ann_path] = list(project.annotations.glob("*/aqmar.json"))
    [clean_path] = list(clean.annotations.glob("*/aqmar.json"))
    ann, ref = json.loads(ann_path.read_text(encoding="utf-8")), json.loads(clean_path.read_text(encoding="utf-8"))
    assert len(ann["entities"]) == r0.entities == 326
    assert [(e["start"], e["end"], e["type"], e["text"]) for e in ann["entities"]] == \
        [(e["start"], e["end"], e["type"], e["text"]) for e in ref["entities"]]
    assert "--repair" in ann["origin"]["tool"]


@pytest.mark.parametrize("text, want, rules", [
    ("أ I-PER\nب I-PER\n\nج I-PER\n", "أ B-PER\nب I-PER\n\nج B-PER\n", ["dangling-I", "dangling-I"]),  # a blank line ends the sentence
    ("أ B-LOC\nب I-PER\n", "أ B-LOC\nب B-PER\n", ["dangling-I"]),  # after another class
    ("أ I--ORG\n", "أ B-ORG\n", ["dash+dangling-I"]),
    ("أ B_PER\nب 0\n", "أ B-PER\nب O\n", ["dash", "o-run"]),
    ("أ B-ORG I-GPE\nب I-ORG I-GPE\n", "أ B-ORG B-GPE\nب I-ORG I-GPE\n", ["dangling-I"]),  # Wojood: per class across layers
    ("أ B-PER\n$#$ O\nب I-PER\n", "أ B-PER\n$#$ O\nب B-PER\n", ["dangling-I"]),  # a paragraph mark ends it too
    ("أ IO\n", "أ IO\n", []),  # not a stated rule: still refused by the reader
])
def test_the_rules_and_their_neighbours(text, want, rules) -> None:
    got, repairs = repair_tags(text, "$#$")
    assert got == want and [r.rule for r in repairs] == rules

"""`khabar studio import EXPORT.json --map LABEL=TYPE` (issue 14: a real NER export from another
project got 0 spans in, with thousands of error lines and no hint): mapped labels become an
annotator file, what cannot be mapped is listed with counts, and a refusal writes nothing."""

from __future__ import annotations

import json
import re

import pytest
from pathlib import Path

from typer.testing import CliRunner

from conftest import SEED_ID, make_project, snapshot
from khabar.cli import app

REAL = Path(__file__).parent / "fixtures" / "realdata" / "labelstudio_export"


def _region(rid: str, text: str, s: int, e: int, label: str) -> dict:
    return {"id": rid, "from_name": "ner", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}}


def _export(project, tmp_path: Path) -> Path:
    """A JSON export of another project's NER labeling config (lsf_named_entity_config.xml:
    Person, Organization, Location …), on the seed's text, with a relation and a document choice."""
    text = json.loads(project.corpus_file(SEED_ID).read_text(encoding="utf-8"))["text"]
    result = [_region("a", text, 4, 13, "Organization"), _region("b", text, 22, 30, "Location"),
              _region("c", text, 43, 52, "Location"), _region("d", text, 71, 87, "Organization"),
              {"from_id": "a", "to_id": "b", "type": "relation", "direction": "right", "labels": ["located_in"]},
              {"id": "x", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Neutral"]}}]
    task = {"id": 7, "data": {"text": text}, "annotations": [{"id": 1001, "result": result, "was_cancelled": False},
                                                               {"id": 1002, "result": [], "was_cancelled": True}]}
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    return path


def _run(project, *args: str):
    return CliRunner().invoke(app, ["studio", "import", *args, "--root", str(project.root)])


def test_unmapped_items_refuse_with_counts_and_a_hint(tmp_path) -> None:
    project = make_project(tmp_path / "p")
    path = _export(project, tmp_path)
    before = snapshot(project.root)
    res = _run(project, str(path), "--map", "Organization=ORG")
    assert res.exit_code == 1
    assert res.output.splitlines() == [
        "error: foreign.json: not imported (3 problem(s); nothing written):",
        "  foreign.json: not mapped: choices sentiment (1×)",
        "  foreign.json: not mapped: label Location (2×)",
        "  foreign.json: not mapped: relation located_in (1×)",
        "hint: map each label to a Wojood type, e.g. --map Location=TYPE; or --skip-unmapped to leave them out"]
    assert snapshot(project.root) == before


def test_mapped_labels_become_an_annotator_file(tmp_path) -> None:
    project = make_project(tmp_path / "p")
    path = _export(project, tmp_path)
    res = _run(project, str(path), "--map", "Organization=ORG", "--map", "Location=GPE", "--annotator", "ext1", "--skip-unmapped")
    assert res.exit_code == 0, res.output
    assert "foreign.json: 1 task(s), 1 annotation(s): 4 entities in 1 file(s) written, 0 unchanged" in res.output
    assert "left out (not mapped): relation located_in (1×)" in res.output
    ann = json.loads((project.annotations / SEED_ID / "ext1.json").read_text(encoding="utf-8"))
    assert [(e["start"], e["end"], e["type"], e["text"]) for e in ann["entities"]] == [
        (4, 13, "ORG", "البنتاغون"), (22, 30, "GPE", "العراقية"), (43, 52, "GPE", "الأمريكية"), (71, 87, "ORG", "الحكومة العراقية")]
    assert ann["origin"]["kind"] == "import" and ann["origin"]["sources"] == ["ext1"] and ann["claims"] == []
    registry = json.loads(project.annotators_registry.read_text(encoding="utf-8"))
    assert registry["ext1"]["kind"] == "human" and registry["ext1"]["reviewed_by_human"] is False
    again = _run(project, str(path), "--map", "Organization=ORG", "--map", "Location=GPE", "--annotator", "ext1", "--skip-unmapped")
    assert "0 file(s) written, 1 unchanged" in again.output


def test_the_real_label_studio_export_of_another_project(tmp_path) -> None:
    """HumanSignal's named-entity example export (English: no corpus document has its text)."""
    project = make_project(tmp_path / "p")
    path = REAL / "lsf_named_entity_annotation.json"
    res = _run(project, str(path), "--map", "Date=DATE")
    assert res.exit_code == 1 and "task 1: no corpus document has this text (915 characters) (ingest it as a seed first, " \
                                  "or pass --skip-unmatched)" in res.output
    res = _run(project, str(path), "--map", "Date=DATE", "--skip-unmatched")
    assert res.exit_code == 0 and "1 task(s), 0 annotation(s): 0 entities in 0 file(s) written" in res.output
    assert "left out (no corpus document): lsf_named_entity_annotation.json: task 1: no corpus document" in res.output


def test_a_bad_mapping_is_one_line(tmp_path) -> None:
    project = make_project(tmp_path / "p")
    res = _run(project, str(_export(project, tmp_path)), "--map", "Organization=COMPANY")
    assert res.exit_code == 1 and res.output.splitlines()[0] == (
        "error: --map Organization=COMPANY: COMPANY is not a Wojood entity type of schema/labels.schema.json")


def test_a_reserved_annotator_name_is_refused(tmp_path) -> None:
    project = make_project(tmp_path / "p")
    res = _run(project, str(_export(project, tmp_path)), "--map", "Organization=ORG", "--annotator", "gold", "--skip-unmapped")
    assert res.exit_code == 1 and res.output.startswith("error: --annotator 'gold': not a pseudonymous annotator id, or a reserved name")
    assert not (project.annotations / SEED_ID / "gold.json").exists()


def test_two_tasks_of_one_text_and_repeated_regions(tmp_path) -> None:
    """Found by the adversarial review: two tasks of the same corpus text wrote one file (the
    first task's entities lost), a second annotator's file was not registered, and two regions
    with the same span and type made a file that accept refused (entity-duplicate)."""
    project = make_project(tmp_path / "p")
    text = json.loads(project.corpus_file(SEED_ID).read_text(encoding="utf-8"))["text"]
    first = {"id": 1, "data": {"text": text}, "annotations": [{"id": 11, "result": [_region("a", text, 4, 13, "Organization"),
                                                                                    _region("b", text, 4, 13, "Organization")]}]}
    second = {"id": 2, "data": {"text": text}, "annotations": [{"id": 12, "result": [_region("c", text, 71, 87, "Organization")]}]}
    path = tmp_path / "two.json"
    path.write_text(json.dumps([first, second], ensure_ascii=False), encoding="utf-8")
    res = _run(project, str(path), "--map", "Organization=ORG", "--annotator", "x01")
    assert res.exit_code == 0, res.output
    assert "2 task(s), 2 annotation(s): 2 entities in 2 file(s) written" in res.output
    assert re.search(r"warning: two.json: task 1, annotation 11: entity \S+ repeats \S+ \(same span and type\): kept once", res.output)
    a = json.loads((project.annotations / SEED_ID / "x01.json").read_text(encoding="utf-8"))
    b = json.loads((project.annotations / SEED_ID / "x01-2.json").read_text(encoding="utf-8"))
    assert [e["text"] for e in a["entities"]] == ["البنتاغون"] and [e["text"] for e in b["entities"]] == ["الحكومة العراقية"]
    registry = json.loads(project.annotators_registry.read_text(encoding="utf-8"))
    assert {"x01", "x01-2"} <= set(registry)
    from khabar.annotate.accept import accept
    from khabar.core.errors import InputError

    with pytest.raises(InputError) as err:  # registered and valid; accept wants it reviewed first, as for any import
        accept(project, SEED_ID, "x01-2")
    assert "not described" not in str(err.value) and "origin kind 'import', guidelines_version None" in str(err.value)


def test_a_result_that_is_not_a_list_and_an_empty_export(tmp_path) -> None:
    project = make_project(tmp_path / "p")
    text = json.loads(project.corpus_file(SEED_ID).read_text(encoding="utf-8"))["text"]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps([{"id": 3, "data": {"text": text}, "annotations": [{"id": 5, "result": {"a": 1}}]}]), encoding="utf-8")
    res = _run(project, str(path), "--map", "Organization=ORG")
    assert res.exit_code == 1 and "odd.json: task 3, annotation 5: result is dict, not a list" in res.output
    path.write_text("[]", encoding="utf-8")
    registry = project.annotators_registry.read_text(encoding="utf-8")
    res = _run(project, str(path), "--map", "Organization=ORG")
    assert res.exit_code == 0 and project.annotators_registry.read_text(encoding="utf-8") == registry

"""Adjudication review through a real Label Studio server: `khabar adjudicate` -> conflicts as a
review task (each annotator's version as a prediction) -> the reviewer's annotation -> gold.json."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, SEED_ID, snapshot
from khabar.agreement.adjudicate import adjudicate
from khabar.core.errors import InputError
from khabar.annotate.files import load_checked_annotation
from khabar.core.jsonio import load_json, write_json
from khabar.core.schema import Schemas
from khabar.studio.parse import ConversionError
from khabar.studio.review import pull_review, push_review

pytestmark = pytest.mark.studio

def _three_annotators(project) -> tuple[dict, dict]:
    """ann1 = a01's gold plus an entity nobody else marked; ann2 = the gold; ann3 = the gold with
    the first entity's type changed. Returns (ann1, the changed entity of ann3)."""
    gold = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    doc = load_json(project.corpus / f"{SEED_ID}.json")
    folder = project.annotations / SEED_ID
    folder.mkdir(parents=True, exist_ok=True)
    base = {**gold, "origin": {"kind": "manual", "sources": []}}
    word = doc["text"].index("الصدد")  # «الصدد», not an entity in the gold
    extra = {"id": "x1", "start": word, "end": word + 5, "text": "الصدد", "type": "EVENT"}
    ann1 = {**base, "annotator": "ann1", "entities": gold["entities"] + [extra], "origin": {"kind": "manual", "sources": ["ann1"]}}
    ann2 = {**base, "annotator": "ann2", "origin": {"kind": "manual", "sources": ["ann2"]}}
    first = dict(gold["entities"][0])
    first["type"] = "LOC" if first["type"] != "LOC" else "GPE"
    ann3 = {**base, "annotator": "ann3", "entities": [first] + gold["entities"][1:], "origin": {"kind": "manual", "sources": ["ann3"]}}
    for a in (ann1, ann2, ann3):
        write_json(folder / f"{a['annotator']}.json", a)
    return ann1, first


def test_conflicts_go_out_as_a_review_task_and_the_review_comes_back_as_gold(project, studio, title) -> None:
    ann1, changed = _three_annotators(project)
    rep = adjudicate(project)
    conflicts = load_json(project.annotations / SEED_ID / "conflicts.json")
    assert rep.written == 1
    assert sorted((c["layer"], c["reason"]) for c in conflicts["conflicts"]) == [("entities", "span-minority"), ("entities", "type-minority")]

    pushed = push_review(project, studio, title=title, progress=False)
    assert (pushed.created, pushed.refreshed, pushed.unchanged) == (1, 0, 0)
    proj = studio.find_project(title)
    [task] = list(studio.iter_tasks(proj.id))
    assert task["data"]["review"] == "conflicts" and task["data"]["annotators"] == ["ann1", "ann2", "ann3"]
    assert task["data"]["title_line"].endswith("review: 2 conflicts between ann1, ann2, ann3")
    by_version = {p["model_version"]: p for p in task["predictions"]}
    assert sorted(by_version) == ["agreed", "annotator ann1", "annotator ann2", "annotator ann3"]
    labels = [r for r in by_version["annotator ann1"]["result"] if r.get("from_name") == "entity"]
    assert len(labels) == 141 and any(r["value"]["text"] == "الصدد" for r in labels)
    assert len([r for r in by_version["agreed"]["result"] if r.get("from_name") == "entity"]) == 140

    again = push_review(project, studio, title=title, progress=False)
    assert (again.created, again.unchanged) == (0, 1)
    before = snapshot(project.annotations)
    waiting = pull_review(project, studio, title=title, progress=False)
    assert (waiting.pending, waiting.written) == (1, []) and snapshot(project.annotations) == before

    # the reviewer takes ann1's version as it is and submits it
    studio.create_annotation(task["id"], by_version["annotator ann1"]["result"])
    got = pull_review(project, studio, title=title, progress=False)
    assert got.written == [f"annotations/{SEED_ID}/gold.json"]
    gold_path = project.annotations / SEED_ID / "gold.json"
    doc = load_json(project.corpus / f"{SEED_ID}.json")
    gold = load_checked_annotation(gold_path, doc, Schemas(project.schema))
    assert not (project.annotations / SEED_ID / "conflicts.json").exists()
    assert gold["annotator"] == "gold"
    assert {k: gold["origin"][k] for k in ("kind", "sources", "task_id", "project_id")} == {
        "kind": "adjudication", "sources": ["ann1", "ann2", "ann3"], "task_id": task["id"], "project_id": proj.id}
    assert gold["origin"]["tool"].startswith("label-studio review project ")
    spans = sorted((e["start"], e["end"], e["type"], e["text"]) for e in gold["entities"])
    assert spans == sorted((e["start"], e["end"], e["type"], e["text"]) for e in ann1["entities"])
    assert (changed["start"], changed["end"], changed["type"]) not in {s[:3] for s in spans}
    assert (len(gold["claims"]), len(gold["stances"])) == (19, 10)

    assert pull_review(project, studio, title=title, progress=False).unchanged == 1
    assert push_review(project, studio, title=title, progress=False).created == 0  # resolved: nothing to review


def test_a_review_of_conflicts_that_changed_since_the_push_is_refused(project, studio, title) -> None:
    _three_annotators(project)
    adjudicate(project)
    push_review(project, studio, title=title, progress=False)
    proj = studio.find_project(title)
    [task] = list(studio.iter_tasks(proj.id))
    # ann2 now agrees with ann3: re-adjudication changes the conflicts after the push
    ann3 = load_json(project.annotations / SEED_ID / "ann3.json")
    write_json(project.annotations / SEED_ID / "ann2.json", {**ann3, "annotator": "ann2", "origin": {"kind": "manual", "sources": ["ann2"]}})
    adjudicate(project)
    studio.create_annotation(task["id"], task["predictions"][0]["result"])
    before = snapshot(project.annotations)
    with pytest.raises(ConversionError) as err:
        pull_review(project, studio, title=title, progress=False)
    assert f"review task {task['id']} ({SEED_ID}): reviewed conflicts that are no longer annotations/{SEED_ID}/conflicts.json" in str(err.value)
    assert snapshot(project.annotations) == before
    # the reviewed task stays; the new conflicts get a task of their own
    rep = push_review(project, studio, title=title, progress=False)
    assert rep.created == 1 and rep.reviewed == [f"{SEED_ID} (task {task['id']})"]


def test_push_review_refuses_conflicts_of_an_old_text(project, studio, title) -> None:
    _three_annotators(project)
    adjudicate(project)
    path = project.annotations / SEED_ID / "conflicts.json"
    data = load_json(path)
    write_json(path, {**data, "text_sha256": "0" * 64})
    with pytest.raises(InputError) as err:
        push_review(project, studio, title=title, progress=False)
    assert "made on text 000000000000…" in str(err.value) and studio.find_project(title) is None

"""Adjudication into gold.json and conflicts.json: majority outcomes on the three-annotator test
corpus of test_agreement.py (asserted exactly), conflict reasons, idempotence, and refusals that
leave every file as it was."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
import sys

from khabar import __version__

import pytest
from typer.testing import CliRunner

from khabar.agreement.adjudicate import adjudicate
from khabar.annotate.files import load_checked_annotation
from khabar.cli import app
from khabar.core.errors import InputError
from khabar.agreement.merge import merge_annotations

from conftest import ROOT, SEED_ID, snapshot
from test_agreement import ATTACKS, PRESENCE, add_tiny_document, annotation, seed_doc, tiny_annotation, write_annotators


def _load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_majority_of_three(project, schemas) -> None:
    folder = write_annotators(project)
    seen = []
    report = adjudicate(project, on_document=seen.append)
    doc = seed_doc(project)
    gold = load_checked_annotation(folder / "gold.json", doc, schemas)  # a normal, valid annotation
    assert gold["annotator"] == "gold" and gold["guidelines_version"] == "1.0"
    assert gold["origin"] == {"kind": "adjudication", "tool": "khabar adjudicate", "version": __version__, "sources": ["a01", "a02", "a03"]}
    # need = 3 // 2 + 1 = 2 votes. Entities: 4-13 ORG (a01, a03; a02 said GPE), 15-30 ORG (3),
    # 22-30 GPE (a01, a02), 58-67, 176-193, 197-209, 214-226 ORG (3 each), 301-323 ORG (a01, a03).
    # Ids in text order (start, then the longer span first).
    assert [(e["id"], e["start"], e["end"], e["type"], e["text"]) for e in gold["entities"]] == [
        ("e1", 4, 13, "ORG", "البنتاغون"), ("e2", 15, 30, "ORG", "لحكومة العراقية"), ("e3", 22, 30, "GPE", "العراقية"),
        ("e4", 58, 67, "ORG", "البنتاغون"), ("e5", 176, 193, "ORG", "وكالة مهر للأنباء"), ("e6", 197, 209, "ORG", "قناة الجزيرة"),
        ("e7", 214, 226, "ORG", "البيت الأبيض"), ("e8", 301, 323, "ORG", "وزارة الدفاع الأمريكية")]
    # Claims: 88-161 (3; checkworthy no, no, yes -> no), 234-289 and 353-459 (a01, a03, alike).
    assert [(c["id"], c["content"]["start"], c["content"]["end"], c["cue"]["text"], c["source"], c["via"], c["checkworthy"], c["speech"])
            for c in gold["claims"]] == [("c1", 88, 161, "طلب", "e4", [], "no", "indirect"),
                                         ("c2", 234, 289, "أعلن", "e7", ["e5", "e6"], "no", "mixed"),
                                         ("c3", 353, 459, "أعلنت", "e8", [], "yes", "mixed")]
    # Stances: (58-67, presence) FAVOR x3, evidence 88-161 cited by 3; (58-67, attacks) AGAINST 2 of 3,
    # 88-161 cited by a01 and a02; (214-226, attacks) AGAINST by a01, a02 who cite different spans
    # (234-289, 237-289: one vote each) -> evidence-no-majority, not in gold.
    assert gold["stances"] == [
        {"id": "s1", "holder": "e4", "target": PRESENCE, "label": "FAVOR", "evidence": ["c1"]},
        {"id": "s2", "holder": "e4", "target": ATTACKS, "label": "AGAINST", "evidence": ["c1"]}]
    conflicts = _load(folder / "conflicts.json")
    assert schemas.problems("conflicts", conflicts) == []
    assert {k: conflicts[k] for k in ("doc_id", "text_sha256", "annotators", "need", "tool")} == {
        "doc_id": SEED_ID, "text_sha256": doc["text_sha256"], "annotators": ["a01", "a02", "a03"], "need": 2, "tool": "khabar adjudicate"}
    import hashlib
    assert conflicts["gold_sha256"] == hashlib.sha256((folder / "gold.json").read_bytes()).hexdigest()
    assert [(c["id"], c["reason"]) for c in conflicts["conflicts"]] == [
        ("entities:4-13", "type-minority"), ("entities:276-282", "span-minority"), ("entities:301-313", "span-minority"),
        ("entities:314-323", "span-minority"), ("claims:237-289", "claim-minority"), ("stances:214-226:attacks-on-us-forces", "evidence-no-majority"),
        ("stances:301-323:attacks-on-us-forces", "stance-minority")]
    first = conflicts["conflicts"][0]
    assert first["message"] == "ORG went into gold; GPE did not reach 2 of 3 (ORG by a01, a03; GPE by a02)"
    assert first["key"] == {"span": {"start": 4, "end": 13, "text": "البنتاغون"}}
    assert first["gold"] == [{"id": "e1", "start": 4, "end": 13, "text": "البنتاغون", "type": "ORG"}]
    assert first["versions"]["a02"] == [{"id": "m1", "start": 4, "end": 13, "text": "البنتاغون", "type": "GPE"}]
    claim = conflicts["conflicts"][4]  # self-contained: the source and chain as entities, not ids
    assert claim["versions"]["a01"] is None and claim["versions"]["a03"] is None
    assert claim["versions"]["a02"] == [{"id": "k2", "content": {"start": 237, "end": 289, "text": doc["text"][237:289]},
                                         "cue": {"start": 227, "end": 231, "text": "أعلن"},
                                         "source": {"id": "m7", "start": 214, "end": 226, "text": "البيت الأبيض", "type": "ORG"},
                                         "via": [{"id": "m6", "start": 197, "end": 209, "text": "قناة الجزيرة", "type": "ORG"}],
                                         "checkworthy": "no", "speech": "mixed"}]
    weak = conflicts["conflicts"][5]
    assert weak["message"] == "no majority (2 of 3) for evidence: claim 234-289 cited by a01; claim 237-289 cited by a02"
    assert weak["gold"] is None and weak["versions"]["a03"] is None
    assert [(v["label"], v["evidence"]) for v in weak["versions"]["a01"] + weak["versions"]["a02"]] == [
        ("AGAINST", [{"id": "c2", "start": 234, "end": 289, "text": doc["text"][234:289]}]),
        ("AGAINST", [{"id": "k2", "start": 237, "end": 289, "text": doc["text"][237:289]}])]
    stance = conflicts["conflicts"][6]
    assert stance["key"] == {"holder": {"start": 301, "end": 323, "text": "وزارة الدفاع الأمريكية"}, "target": ATTACKS}
    assert stance["versions"]["a03"][0]["evidence"] == [{"id": "c3", "start": 353, "end": 459, "text": doc["text"][353:459]}]
    # unanimous: entities 15-30, 58-67, 176-193, 197-209, 214-226 (5); claims none; stances s1
    [o] = seen
    assert (o.agreed, o.unanimous, o.conflicts, o.changed) == (
        {"entities": 8, "claims": 3, "stances": 2}, {"entities": 5, "claims": 0, "stances": 1},
        {"entities": 4, "claims": 1, "stances": 2}, True)
    assert (report.documents, report.written, report.unchanged, report.skipped) == (1, 1, 0, 0)


def test_two_annotators_need_both(project) -> None:
    # n = 2 -> need = 2: every disagreement of a01 and a02 is a conflict
    folder = write_annotators(project, ("a01", "a02"))
    adjudicate(project)
    conflicts = {c["id"]: c for c in _load(folder / "conflicts.json")["conflicts"]}
    assert conflicts["entities:4-13"]["reason"] == "type-no-majority"  # both marked it, ORG 1, GPE 1
    assert conflicts["entities:4-13"]["gold"] is None
    assert conflicts["entities:301-323"]["reason"] == conflicts["entities:301-313"]["reason"] == "span-minority"
    c1 = conflicts["claims:88-161"]  # checkworthy no vs yes
    assert (c1["reason"], c1["fields"], c1["message"]) == ("attribute-no-majority", ["checkworthy"], "no majority (2 of 2) for checkworthy")
    assert conflicts[f"stances:58-67:{ATTACKS}"]["reason"] == "label-no-majority"
    assert conflicts[f"stances:58-67:{ATTACKS}"]["message"] == "no label reached 2 of 2 (AGAINST: 1, FAVOR: 1)"
    # 58-67 presence FAVOR x2 citing 88-161, which is a claim conflict: the evidence would be lost;
    # 214-226 attacks AGAINST x2 citing 234-289 and 237-289 (one vote each)
    assert conflicts[f"stances:58-67:{PRESENCE}"]["reason"] == "evidence-not-in-gold"
    assert conflicts[f"stances:58-67:{PRESENCE}"]["message"] == "agreed evidence is not a gold claim (content 88-161)"
    assert conflicts[f"stances:214-226:{ATTACKS}"]["reason"] == "evidence-no-majority"
    gold = _load(folder / "gold.json")
    assert gold["claims"] == [] and gold["stances"] == []


def _tiny_ann(name: str, entities, claims=(), stances=()) -> dict:
    return {"annotator": name, "entities": [{"id": i, "start": s, "end": e, "text": TINY[s:e], "type": t} for i, s, e, t in entities],
            "claims": list(claims), "stances": list(stances)}


TINY = "قال الوزير إن الأمر جاهز."
TYPES = ["PERS", "NORP", "OCC", "ORG", "GPE"]


def _claim(i, source, via=(), cw="yes") -> dict:
    return {"id": i, "content": {"start": 14, "end": 24, "text": TINY[14:24]}, "cue": {"start": 0, "end": 3, "text": "قال"},
            "source": source, "via": list(via), "checkworthy": cw, "speech": "indirect"}


def test_dependent_conflicts() -> None:
    # "الوزير" [4, 10): a01 and a02 agree on the claim and its source span, but typed it OCC and PERS
    # (with a03 not marking it: 2 of 3 marked, no type reached 2): the claim's source is not in gold.
    anns = {"a01": _tiny_ann("a01", [("x", 4, 10, "OCC")], [_claim("c", "x")],
                             [{"id": "s", "holder": "x", "target": ATTACKS, "label": "NONE", "evidence": ["c"]}]),
            "a02": _tiny_ann("a02", [("y", 4, 10, "PERS")], [_claim("c", "y")],
                             [{"id": "s", "holder": "y", "target": ATTACKS, "label": "NONE", "evidence": ["c"]}]),
            "a03": _tiny_ann("a03", [])}
    m = merge_annotations(TINY, anns, TYPES, [PRESENCE, ATTACKS])
    assert (m.entities, m.claims, m.stances) == ([], [], [])
    assert [(c["id"], c["reason"]) for c in m.conflicts] == [("entities:4-10", "type-no-majority"), ("claims:14-24", "source-not-in-gold"),
                                                             (f"stances:4-10:{ATTACKS}", "holder-not-in-gold")]
    # an annotator with two claims on one content span: which one votes is unclear
    anns = {"a01": _tiny_ann("a01", [("x", 4, 10, "PERS")], [_claim("c", "x"), _claim("d", None)]),
            "a02": _tiny_ann("a02", [("x", 4, 10, "PERS")], [_claim("c", "x")])}
    m = merge_annotations(TINY, anns, TYPES, [PRESENCE, ATTACKS])
    assert [(c["id"], c["reason"]) for c in m.conflicts] == [("claims:14-24", "duplicate-in-annotation")]
    assert len(m.conflicts[0]["versions"]["a01"]) == 2
    # the agreed chain names an entity that is not in gold
    anns = {a: _tiny_ann(a, [("x", 4, 10, "PERS"), ("v", 0, 3, "ORG" if a == "a01" else "GPE")], [_claim("c", "x", ["v"])])
            for a in ("a01", "a02")}
    assert [c["reason"] for c in merge_annotations(TINY, anns, TYPES, [PRESENCE, ATTACKS]).conflicts] == ["type-no-majority", "via-not-in-gold"]
    with pytest.raises(ValueError, match="need two or more annotations, got 1"):
        merge_annotations(TINY, {"a01": anns["a01"]}, TYPES, [PRESENCE, ATTACKS])


def test_rerun_is_byte_identical_and_stale_conflicts_go(project) -> None:
    folder = write_annotators(project)
    adjudicate(project)
    before = snapshot(folder)
    mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    seen = []
    r = adjudicate(project, on_document=seen.append)
    assert snapshot(folder) == before and (r.written, r.unchanged) == (0, 1) and seen[0].changed is False
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == mtimes  # not even rewritten
    # the annotators now agree (a02 and a03 become copies of a01): no conflicts, the old file is removed
    doc = seed_doc(project)
    for name in ("a02", "a03"):
        (folder / f"{name}.json").write_text(json.dumps({**annotation(doc, "a01"), "annotator": name}), encoding="utf-8")
    seen.clear()
    adjudicate(project, on_document=seen.append)
    assert not (folder / "conflicts.json").exists()
    assert seen[0].conflicts == {"entities": 0, "claims": 0, "stances": 0}
    assert seen[0].unanimous == {"entities": 8, "claims": 3, "stances": 3}
    assert not [p for p in project.annotations.iterdir() if p.name.startswith(".adjudicate-")]  # staging removed


def test_refuses_files_made_on_different_text_versions(project) -> None:
    write_annotators(project, ("a01", "a02"))
    folder = write_annotators(project, ("a03",), sha="ab" * 32)
    before = snapshot(project.annotations)
    with pytest.raises(InputError) as err:
        adjudicate(project)
    assert str(err.value) == (f"adjudicate refused (1 problem(s)); nothing was written:\n  {folder}: annotator files made on different "
                              f"text versions: a01, a02 on 1415eb2e8d27… (the document's text); a03 on abababababab… (an old text)")
    assert err.value.hint == "re-annotate (or re-map) the files made on an old text, then adjudicate again"
    assert snapshot(project.annotations) == before


def test_refuses_files_all_made_on_an_old_text(project) -> None:
    folder = write_annotators(project, sha="cd" * 32)
    before = snapshot(project.annotations)
    with pytest.raises(InputError, match=r"every annotator file was made on text cdcdcdcdcdcd…, but the document's text is now 1415eb2e8d27…"):
        adjudicate(project, [SEED_ID])
    assert snapshot(project.annotations) == before and not (folder / "gold.json").exists()


def test_single_annotator(project) -> None:
    folder = write_annotators(project, ("a01",))
    with pytest.raises(InputError, match=r"1 annotator file\(s\) \(a01\); adjudication needs two or more"):
        adjudicate(project, [SEED_ID])
    r = adjudicate(project)  # every document: skipped and counted
    assert (r.documents, r.skipped) == (0, 1) and not (folder / "gold.json").exists()


def test_gold_not_written_by_adjudicate_needs_force(project) -> None:
    folder = write_annotators(project)
    for origin in ({"kind": "manual", "tool": None}, {"kind": "adjudication", "tool": "label-studio review project 1-abc"}):
        gold = {**annotation(seed_doc(project), "a01"), "annotator": "gold", "origin": {**origin, "sources": ["a01"]}}
        (folder / "gold.json").write_text(json.dumps(gold), encoding="utf-8")
        before = snapshot(project.annotations)
        with pytest.raises(InputError, match=rf"gold.json: not written by khabar adjudicate \(origin kind '{origin['kind']}', tool "):
            adjudicate(project)
        assert snapshot(project.annotations) == before
    adjudicate(project, force=True)
    assert _load(folder / "gold.json")["origin"]["tool"] == "khabar adjudicate"


def test_all_or_nothing_over_documents(project) -> None:
    write_annotators(project)  # fine
    tiny = add_tiny_document(project)
    tf = project.annotations / tiny["id"]
    tf.mkdir()
    for name in ("a01", "a02"):
        (tf / f"{name}.json").write_text(json.dumps(tiny_annotation(tiny, name)), encoding="utf-8")
    (tf / "gold.json").write_text(json.dumps({**tiny_annotation(tiny, "gold"), "origin": {"kind": "manual", "sources": ["a01"]}}))
    before = snapshot(project.annotations)
    with pytest.raises(InputError, match=r"\(1 problem\(s\)\); nothing was written"):
        adjudicate(project)
    assert snapshot(project.annotations) == before  # the seed document was fine, and is not written either


@pytest.mark.slow
def test_cli(project) -> None:
    write_annotators(project)
    assert CliRunner().invoke(app, ["adjudicate", "--help"]).exit_code == 0
    run = lambda *a: subprocess.run([sys.executable, "-m", "khabar.cli", "adjudicate", "--root", str(project.root), "-q", *a],  # noqa: E731
                                    capture_output=True, text=True)
    res = run()
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"{SEED_ID}: 3 annotators (a01, a02, a03): agreed 8 entities, 3 claims, 2 stances; 7 conflict(s) (4 entity, 1 claim, "
        f"2 stance) -> annotations/{SEED_ID}/conflicts.json",
        "adjudicated 1 document(s): 1 written, 0 unchanged; 7 conflict(s) in total"]
    assert run(SEED_ID).stdout.splitlines()[0].endswith("(unchanged)")
    (project.annotations / SEED_ID / "a03.json").unlink()
    (project.annotations / SEED_ID / "a02.json").unlink()
    res = run(SEED_ID)
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1] == "hint: adjudicate once a second annotator has annotated it"


def test_more_refusals(project, monkeypatch) -> None:
    folder = write_annotators(project)
    with pytest.raises(InputError, match="kb-0000000000000000: no such document in"):
        adjudicate(project, ["kb-0000000000000000"])
    # a gold.json that is not even JSON is not replaced either
    (folder / "gold.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"gold.json: line 1 column 2: invalid JSON: .*; refusing to replace it") as err:
        adjudicate(project)
    assert "pass --force" in err.value.hint
    (folder / "gold.json").unlink()
    # an annotator file whose annotator is not its name
    (folder / "a03.json").rename(folder / "a04.json")
    with pytest.raises(InputError, match=r"a04\.json: annotator 'a03', but the file is named a04\.json"):
        adjudicate(project)
    (folder / "a04.json").rename(folder / "a03.json")
    # a bug of the merge is caught before anything is written
    import khabar.agreement.adjudicate as mod
    from khabar.agreement.merge import Merged
    monkeypatch.setattr(mod, "merge_annotations", lambda *a: Merged(entities=[{"id": "e1", "start": 4, "end": 13, "text": "x", "type": "ORG"}]))
    before = snapshot(project.annotations)
    with pytest.raises(InputError, match=r"produced an invalid file \(a bug of khabar adjudicate\): entities\[0\]: span-text-mismatch"):
        adjudicate(project)
    assert snapshot(project.annotations) == before


def test_no_annotations_folder(project) -> None:
    import shutil
    shutil.rmtree(project.annotations)
    assert adjudicate(project).documents == 0
    with pytest.raises(InputError, match="no such folder, so no annotator files to adjudicate"):
        adjudicate(project, [SEED_ID])


def test_guidelines_versions_differ(project) -> None:
    write_annotators(project, ("a01", "a02"))
    folder = write_annotators(project, ("a03",), guidelines="1.10")
    seen = []
    adjudicate(project, on_document=seen.append)
    assert _load(folder / "gold.json")["guidelines_version"] == "1.10"  # the newest, compared as numbers (1.10 > 1.0)
    assert seen[0].warnings == [f"{SEED_ID}: annotators followed different guidelines versions (1.0, 1.10); gold says 1.10"]


# ------------------------------------------------------------------ found by an adversarial review
EDITED_HINT = ("settle the conflicts with `khabar studio push-review` and `pull-review`, or set origin.kind to \"manual\" in gold.json "
               "to keep it as a hand-made gold, or pass --force to recompute it from the annotator files (the edits are lost)")


def test_hand_edit_of_an_adjudicated_gold_is_not_reverted(project) -> None:
    folder = write_annotators(project)
    adjudicate(project)
    written = (folder / "gold.json").read_bytes()
    # a reviewer's decision added by hand (the conflicting stance of 214-226), origin left as it was
    gold = _load(folder / "gold.json")
    gold["stances"].append({"id": "s3", "holder": "e7", "target": ATTACKS, "label": "AGAINST", "evidence": ["c2"]})
    (folder / "gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    before = snapshot(project.annotations)
    with pytest.raises(InputError) as err:
        adjudicate(project)
    assert str(err.value) == (f"adjudicate refused (1 problem(s)); nothing was written:\n  {folder / 'gold.json'}: edited since khabar "
                              "adjudicate wrote it (its SHA-256 is not the gold_sha256 recorded in conflicts.json); refusing to replace it")
    assert err.value.hint == EDITED_HINT
    assert snapshot(project.annotations) == before
    # the CLI says the same, and writes nothing
    res = CliRunner().invoke(app, ["adjudicate", "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and res.output.splitlines()[-1] == f"hint: {EDITED_HINT}"
    assert snapshot(project.annotations) == before
    # a conflicts.json that cannot be read cannot vouch for the gold either
    (folder / "conflicts.json").write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match=r"conflicts\.json: not a JSON object; cannot tell whether .*gold\.json was edited since khabar "
                                         r"adjudicate wrote it, refusing to replace it"):
        adjudicate(project)
    (folder / "conflicts.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"conflicts\.json: line 1 column 2: invalid JSON: .*; cannot tell whether"):
        adjudicate(project)
    # kept as a hand-made gold: refused as before (origin), and the edit is still there
    (folder / "gold.json").write_text(json.dumps({**gold, "origin": {**gold["origin"], "kind": "manual"}}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match=r"not written by khabar adjudicate \(origin kind 'manual', tool 'khabar adjudicate'\)"):
        adjudicate(project)
    # --force recomputes it from the annotator files
    r = adjudicate(project, force=True)
    assert r.written == 1 and (folder / "gold.json").read_bytes() == written


def _seed_pair(project, a01_evidence, a02_evidence, a03_evidence=None):
    """a01, a02 (and a03) as copies of a01's annotation, differing only in the evidence of s1 (58-67, presence)."""
    doc = seed_doc(project)
    folder = project.annotations / SEED_ID
    folder.mkdir(parents=True, exist_ok=True)
    for name, ev in (("a01", a01_evidence), ("a02", a02_evidence), ("a03", a03_evidence)):
        if ev is not None:
            ann = {**annotation(doc, "a01"), "annotator": name}
            ann["stances"][0]["evidence"] = ev
            (folder / f"{name}.json").write_text(json.dumps(ann, ensure_ascii=False), encoding="utf-8")
    return folder, doc


def test_evidence_without_majority_is_a_conflict(project) -> None:
    # a01's s1 cites c1 and c3 (88-161, 353-459), a02's cites c2 (234-289): no claim reaches 2 of 2
    folder, doc = _seed_pair(project, ["c1", "c3"], ["c2"])
    seen = []
    adjudicate(project, force=True, on_document=seen.append)
    [c] = _load(folder / "conflicts.json")["conflicts"]
    assert (c["id"], c["reason"], c["gold"]) == (f"stances:58-67:{PRESENCE}", "evidence-no-majority", None)
    assert c["message"] == ("no majority (2 of 2) for evidence: claim 88-161 cited by a01; claim 234-289 cited by a02; "
                            "claim 353-459 cited by a01")
    assert [e["id"] for e in c["versions"]["a01"][0]["evidence"]] == ["c1", "c3"]
    assert c["versions"]["a02"][0]["evidence"] == [{"id": "c2", "start": 234, "end": 289, "text": doc["text"][234:289]}]
    # the stance stays out of gold, like a claim with attribute-no-majority; the other two go in
    assert _load(folder / "gold.json")["stances"] == [
        {"id": "s1", "holder": "e4", "target": ATTACKS, "label": "AGAINST", "evidence": ["c1"]},
        {"id": "s2", "holder": "e7", "target": ATTACKS, "label": "AGAINST", "evidence": ["c2"]}]
    assert (seen[0].agreed["stances"], seen[0].conflicts["stances"], seen[0].unanimous["stances"]) == (2, 1, 2)


def test_evidence_with_a_majority_goes_into_gold(project) -> None:
    folder, _ = _seed_pair(project, ["c1", "c3"], ["c3", "c1"], ["c1", "c3"])
    seen = []
    adjudicate(project, on_document=seen.append)
    assert not (folder / "conflicts.json").exists()
    assert _load(folder / "gold.json")["stances"][0] == {"id": "s1", "holder": "e4", "target": PRESENCE, "label": "FAVOR",
                                                          "evidence": ["c1", "c3"]}
    assert seen[0].unanimous["stances"] == 3
    # a03 cites c1 only: c3 still has 2 of 3, so it goes in, but the stance is no longer unanimous
    folder, _ = _seed_pair(project, ["c1", "c3"], ["c1", "c3"], ["c1"])
    seen.clear()
    adjudicate(project, on_document=seen.append)
    assert _load(folder / "gold.json")["stances"][0]["evidence"] == ["c1", "c3"] and seen[0].unanimous["stances"] == 2
    # a03's extra citation is one vote of three: a conflict, not dropped
    folder, _ = _seed_pair(project, ["c1"], ["c1"], ["c1", "c2"])
    adjudicate(project)
    [c] = _load(folder / "conflicts.json")["conflicts"]
    assert (c["reason"], c["message"]) == ("evidence-no-majority", "no majority (2 of 3) for evidence: claim 234-289 cited by a03")


@pytest.mark.slow
def test_agreement_out_is_an_existing_file(project, tmp_path) -> None:
    write_annotators(project)
    readme = project.root / "README.md"
    readme.write_text("# notes\n", encoding="utf-8")
    run = lambda out: subprocess.run([sys.executable, "-m", "khabar.cli", "agreement", "--root", str(project.root), "-q",  # noqa: E731
                                      "--out", out], capture_output=True, text=True, cwd=project.root)
    res = run("README.md")
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.splitlines() == ["error: --out README.md: exists and is not a folder",
                                       "hint: --out names a folder to write the report files into"]
    assert readme.read_text(encoding="utf-8") == "# notes\n"
    res = run("README.md/report")  # a folder below a file: the OSError is one line too, no traceback
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.splitlines() == ["error: README.md/report: Not a directory", "hint: check that the folder exists, is readable and "
                                       "writable and the disk has free space, then run it again"]


def test_adjudicate_os_error_is_one_line(project, monkeypatch) -> None:
    write_annotators(project)
    import khabar.agreement.adjudicate as mod

    def refuse(**kw):
        raise PermissionError(13, "Permission denied", kw["dir"])
    monkeypatch.setattr(mod.tempfile, "mkdtemp", refuse)
    before = snapshot(project.annotations)
    res = CliRunner().invoke(app, ["adjudicate", "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and res.exception.__class__ is SystemExit
    assert res.output.splitlines()[0] == f"error: {project.annotations}: Permission denied"
    assert snapshot(project.annotations) == before and not (project.annotations / ".adjudicate.lock").exists()


KILLED = """
import os, signal, sys
import khabar.agreement.adjudicate as mod
from khabar.core.project import Project
mod._commit = lambda *a: os.kill(os.getpid(), signal.SIGKILL)  # killed between staging and moving into place
mod.adjudicate(Project(sys.argv[1]))
"""


@pytest.mark.slow
def test_kill_9_leftovers_are_removed_by_the_next_run(project) -> None:
    folder = write_annotators(project)
    res = subprocess.run([sys.executable, "-c", KILLED, str(project.root)], capture_output=True, text=True)
    assert res.returncode == -9, res.stderr
    [left] = [p for p in project.annotations.iterdir() if p.name.startswith(".adjudicate-")]
    assert sorted(p.name for p in left.rglob("*")) == ["conflicts.json", "gold.json", SEED_ID, "outcomes.jsonl"]
    assert (project.annotations / ".adjudicate.lock").exists() and not (folder / "gold.json").exists()
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "adjudicate", "--root", str(project.root), "-q"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines() == ["removed 1 staging folder(s) left by an interrupted khabar adjudicate"]
    assert sorted(p.name for p in project.annotations.iterdir()) == ["annotators.json", SEED_ID]  # no staging, no lock
    assert (folder / "gold.json").exists()
    # git ignores both names, should a run be killed in the repository
    for name in ("annotations/.adjudicate.lock", "annotations/.adjudicate-k2j4x_9q/outcomes.jsonl"):
        assert subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=ROOT).returncode == 0, name


def test_a_second_concurrent_run_is_refused(project, monkeypatch) -> None:
    import fcntl
    import os
    folder = write_annotators(project)
    left = project.annotations / ".adjudicate-abc123"
    left.mkdir()
    (left / "outcomes.jsonl").write_text("", encoding="utf-8")
    lock = project.annotations / ".adjudicate.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another run holds it
    try:
        before = snapshot(project.annotations)
        with pytest.raises(InputError) as err:
            adjudicate(project)
        assert str(err.value) == f"{lock}: another khabar adjudicate is running on this project (it holds this lock); nothing was done"
        assert err.value.hint == "wait for it to finish, then run it again"
        assert snapshot(project.annotations) == before and left.is_dir()  # its staging folder is not touched
    finally:
        os.close(fd)
    # the other run is gone: its leftover goes, unless it cannot be removed
    import shutil
    real = shutil.rmtree

    def stuck(path, *a, **kw):
        if Path(path).name == left.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **kw)
    monkeypatch.setattr(shutil, "rmtree", stuck)
    with pytest.raises(InputError) as err:
        adjudicate(project)
    assert str(err.value) == (f"{left}: staging folder left by an interrupted khabar adjudicate; cannot remove it: Permission denied")
    assert err.value.hint == "remove it by hand, then run it again" and not (folder / "gold.json").exists()
    monkeypatch.undo()
    r = adjudicate(project)
    assert (r.leftovers, r.written) == (1, 1) and not left.exists() and not lock.exists()


MISNAMED = ("not read: the file name is not an annotator id (lower-case letters, digits, '_', '.', '-', starting with a letter or digit, "
            "at most 64 characters: AnnotatorId of schema/common.schema.json); rename it to <annotator id>.json")


def test_file_not_named_after_an_annotator_id_is_reported(project) -> None:
    from khabar.agreement.compare import agreement_markdown, corpus_agreement
    folder = write_annotators(project, ("a01", "a02", "a03"))
    (folder / "a02.json").rename(folder / "A02.json")
    (folder / ".gold.json.x1.tmp").write_text("", encoding="utf-8")  # a temp file: not listed
    r = corpus_agreement(project)
    assert r["documents"]["misnamed_files"] == [{"doc_id": SEED_ID, "file": f"annotations/{SEED_ID}/A02.json", "reason": MISNAMED}]
    assert r["annotators"] == ["a01", "a03"]
    assert ", 1 file(s) whose name is not an annotator id." in agreement_markdown(r)
    res = CliRunner().invoke(app, ["agreement", "--root", str(project.root), "-q"])
    assert res.exit_code == 0 and res.output.splitlines()[0] == f"warning: annotations/{SEED_ID}/A02.json: {MISNAMED}"
    # adjudicate: named in the report and the output
    r = adjudicate(project)
    assert r.warnings == [f"{folder / 'A02.json'}: {MISNAMED}"] and _load(folder / "gold.json")["origin"]["sources"] == ["a01", "a03"]
    res = CliRunner().invoke(app, ["adjudicate", "--root", str(project.root), "-q"])
    assert res.exit_code == 0 and f"warning: {folder / 'A02.json'}: {MISNAMED}" in res.output.splitlines()
    # with one annotator left, the refusal says why the second was not read
    (folder / "a03.json").unlink()
    with pytest.raises(InputError) as err:
        adjudicate(project, [SEED_ID])
    assert str(err.value).endswith(f"{folder}: 1 annotator file(s) (a01); adjudication needs two or more; not read: A02.json "
                                   "(not an annotator id)")

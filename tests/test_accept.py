"""Gold from one annotator (`khabar accept`), and the stance-target registry (issue 11)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SEED_ID
from khabar import __version__
from khabar.annotate.accept import accept
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.schema import Schemas


def _annotator_file(project, name: str = "a01") -> dict:
    """The seed's committed gold, written as annotator ``name``'s file."""
    ann = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    ann = {**ann, "annotator": name, "origin": {"kind": "manual", "tool": None, "version": None}}
    folder = project.annotations / SEED_ID
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(ann, ensure_ascii=False), encoding="utf-8")
    return ann


def test_accept_makes_the_file_gold_with_its_origin(project) -> None:
    ann = _annotator_file(project)
    r = accept(project, SEED_ID, "a01")
    gold = json.loads(r.path.read_text(encoding="utf-8"))
    assert (r.path, r.changed, r.replaced) == (project.gold(SEED_ID), True, None)
    assert gold["annotator"] == "gold" and gold["origin"] == {"kind": "accepted", "tool": "khabar accept", "version": __version__, "sources": ["a01"]}
    assert (gold["entities"], gold["claims"], gold["stances"]) == (ann["entities"], ann["claims"], ann["stances"])
    assert (len(gold["entities"]), len(gold["claims"]), len(gold["stances"])) == (140, 19, 10)
    again = accept(project, SEED_ID, "a01")
    assert (again.changed, again.replaced) == (False, "accepted")


def test_accept_refuses_a_stale_or_invalid_file(project) -> None:
    ann = _annotator_file(project)
    path = project.annotations / SEED_ID / "a01.json"
    path.write_text(json.dumps({**ann, "text_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(StaleAnnotationError, match="a01.json: stale annotation of document kb-1415eb2e8d27dc16"):
        accept(project, SEED_ID, "a01")
    bad = json.loads(json.dumps(ann))
    bad["entities"][0]["end"] += 1
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputError, match=r"a01.json: entities\[0\].*span-text-mismatch"):
        accept(project, SEED_ID, "a01")
    assert not project.gold(SEED_ID).exists()


def test_accept_refuses_to_replace_other_gold_unless_forced(project) -> None:
    _annotator_file(project)
    shutil.copy(ROOT / "annotations" / SEED_ID / "gold.json", project.gold(SEED_ID))  # hand-made gold (origin manual)
    before = project.gold(SEED_ID).read_bytes()
    with pytest.raises(InputError, match=r"gold.json: a gold annotation already exists \(origin kind 'manual'\); refusing to replace it"):
        accept(project, SEED_ID, "a01")
    assert project.gold(SEED_ID).read_bytes() == before
    r = accept(project, SEED_ID, "a01", force=True)
    assert (r.changed, r.replaced) == (True, "manual")


def test_accept_refuses_unknown_ids(project) -> None:
    _annotator_file(project, "zz9")
    with pytest.raises(InputError, match="annotator 'zz9' is not described"):
        accept(project, SEED_ID, "zz9")
    with pytest.raises(InputError, match="not a document id"):
        accept(project, "kb-1", "a01")
    with pytest.raises(InputError, match="not an annotator id"):
        accept(project, SEED_ID, "gold")
    with pytest.raises(InputError, match="a02.json: no such annotator file"):
        accept(project, SEED_ID, "a02")


def test_accept_cli_is_one_line(project) -> None:
    res = subprocess.run([sys.executable, "-m", "khabar", "accept", SEED_ID, "--annotator", "a02", "--root", str(project.root)],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[0].endswith(f"annotations/{SEED_ID}/a02.json: no such annotator file")


def test_a_stance_on_a_target_the_registry_lacks_is_refused_naming_file_stance_and_target(project) -> None:
    ann = _annotator_file(project)
    ann["stances"][0]["target"] = "not-in-the-registry"
    path = project.annotations / SEED_ID / "a01.json"
    path.write_text(json.dumps(ann, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        accept(project, SEED_ID, "a01")
    assert str(err.value).startswith(f"{path}: stances[0].target (id s1): label-unknown: 'not-in-the-registry' is not one of")


def test_the_registry_is_the_stance_target_vocabulary() -> None:
    schemas = Schemas(ROOT / "schema")
    registry = json.loads((ROOT / "schema" / "stance-targets.json").read_text(encoding="utf-8"))
    ids = [t["id"] for t in registry["targets"]]
    assert schemas.vocab("StanceTarget") == ids
    assert ids[:3] == ["us-military-presence-iraq", "attacks-on-us-forces", "us-iraq-withdrawal-negotiations"]  # never renumbered
    info = schemas.vocab_info("StanceTarget")
    assert all(set(info[i]) == {"en", "ar", "description", "favor", "against", "added_in"} for i in ids)
    from khabar.dataset.features import features_for

    assert features_for(schemas, "stances")["target"].names == ids


def test_a_broken_registry_is_one_line(tmp_path) -> None:
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    path = tmp_path / "schema" / "stance-targets.json"
    registry = json.loads(path.read_text(encoding="utf-8"))
    registry["targets"].append(dict(registry["targets"][0]))
    path.write_text(json.dumps(registry), encoding="utf-8")
    with pytest.raises(InputError, match="stance-targets.json: targets: id 'us-military-presence-iraq' is used twice"):
        Schemas(tmp_path / "schema")
    registry["targets"][-1] = {k: v for k, v in registry["targets"][-1].items() if k != "favor"} | {"id": "new-target"}
    path.write_text(json.dumps(registry), encoding="utf-8")
    last = len(registry["targets"]) - 1
    with pytest.raises(InputError, match=rf"stance-targets.json: targets/{last}: \"favor\" is a required property"):
        Schemas(tmp_path / "schema")


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "0.3.0"])
def test_releases_made_before_targets_were_added_stay_valid(version: str) -> None:
    from khabar.gate.validate import as_released, validate_release

    schemas = Schemas(ROOT / "schema")
    old = as_released(ROOT / "releases" / version, schemas)
    assert old.vocab("StanceTarget") == schemas.vocab("StanceTarget")[:3]
    problems = validate_release(ROOT / "releases" / version, schemas=schemas, load=False)
    # the only finding: their croissant.json yields no record through mlcroissant (issue 13, fixed in 0.4.3)
    assert [(p.check, p.file) for p in problems] == [("croissant-records", "croissant.json")]
    assert problems[0].message.startswith("conforms to Croissant 1.0, not Croissant 1.1, so its records are not read; its "
                                          "FileSets are containedIn their parquet files")


def test_a_renamed_target_is_not_taken_for_a_prefix(tmp_path) -> None:
    from khabar.gate.validate import validate_release

    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    path = tmp_path / "schema" / "stance-targets.json"
    registry = json.loads(path.read_text(encoding="utf-8"))
    registry["targets"][1]["id"] = "attacks-on-american-forces"
    path.write_text(json.dumps(registry), encoding="utf-8")
    problems = validate_release(ROOT / "releases" / "0.3.0", schemas=Schemas(tmp_path / "schema"), load=False)
    assert {p.check for p in problems} >= {"card-features-mismatch", "parquet-schema-mismatch"}


def test_accept_refuses_what_gold_may_not_hold(project) -> None:
    """Found by the new-user review: an uncorrected pre-annotation, claims without speech or
    check-worthiness, a stance without evidence or on a target that does not apply to the document."""
    ann = _annotator_file(project)
    path = project.annotations / SEED_ID / "a01.json"
    bad = json.loads(json.dumps(ann))
    bad["origin"] = {"kind": "preannotator", "tool": "khabar-preannotate", "version": "0.1.0"}
    bad["claims"][0]["speech"] = None
    bad["stances"][0]["evidence"] = []
    bad["stances"][1]["target"] = "ronaldo-ballon-dor-2013-deserved"  # in the registry, for another document
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        accept(project, SEED_ID, "a01")
    assert str(err.value).splitlines() == [
        f"{path}: origin kind 'preannotator', guidelines_version '1.0': an uncorrected pre-annotation is not gold (correct it, "
        "set origin kind 'manual' and the guidelines version you followed)",
        f"{path}: claims (id c1): speech not set (gold claims need both, guidelines §4)",
        f"{path}: stances (id s1): no evidence (gold stances name the claims that support them, §5)",
        f"{path}: stances (id s2): target 'ronaldo-ballon-dor-2013-deserved' does not apply to {SEED_ID} "
        "(schema/stance-targets.json lists the documents of each target)"]
    assert not project.gold(SEED_ID).exists()


def test_every_committed_gold_keeps_the_rules_of_gold() -> None:
    from khabar.annotate.accept import gold_problems

    schemas = Schemas(ROOT / "schema")
    golds = sorted((ROOT / "annotations").glob("kb-*/gold.json"))
    assert len(golds) == len(list((ROOT / "corpus").glob("kb-*.json")))  # every document has gold
    for path in golds:
        assert gold_problems(json.loads(path.read_text(encoding="utf-8")), schemas, path) == []

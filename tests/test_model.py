"""The trained pre-annotator (``khabar train``, ``khabar preannotate --model``): trained once on the
committed release's train split; figures, reproducibility, normalised-view matching, refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, SEED_ID, make_project
from khabar.annotate.evaluate import source_accuracy
from khabar.baseline.trainer import figures, train_release
from khabar.cli import app
from khabar.core.errors import InputError
from khabar.core.project import MODEL_CARD, MODEL_META
from khabar.core.schema import Schemas
from khabar.model.artifact import load_model, save_model, type_fingerprint
from khabar.model.entities import Clitics, _propagate
from khabar.baseline.modelcard import model_card
from khabar.baseline.run import load_release_rows

RELEASE = ROOT / "releases" / "0.4.0"
SCHEMAS = Schemas(ROOT / "schema")
FP = type_fingerprint(SCHEMAS.vocab("EntityType"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model, report = train_release(RELEASE, schemas=SCHEMAS)
    folder = tmp_path_factory.mktemp("model") / "crf"
    save_model(model, folder, model_card(model, report))
    return model, report, folder


@pytest.mark.slow
def test_train_scores_on_the_test_split_only(trained):
    model, report, folder = trained
    assert report["split"] == "test" and report["documents"] == 4
    assert model.meta["training"]["documents"] == 58 and model.meta["training"]["split"] == "train"
    assert report["model"]["entities"]["overall"]["strict"]["gold"] == 101
    assert report["model"]["sources"]["gold"] == 17
    # the trained model beats the gazetteers on the same documents (entities strict F1)
    assert report["model"]["entities"]["overall"]["strict"]["f1"] > report["gazetteer"]["entities"]["overall"]["strict"]["f1"]
    meta = json.loads((folder / MODEL_META).read_text(encoding="utf-8"))
    assert meta["model_version"] == model.version and meta["schema_version"] == FP
    card = (folder / MODEL_CARD).read_text(encoding="utf-8")
    assert model.version in card and "split `train` only: 58 gold documents" in card


@pytest.mark.slow
def test_a_loaded_model_reproduces_the_figures_and_predictions(trained):
    model, report, folder = trained
    loaded = load_model(folder, FP)
    assert loaded.version == model.version
    rows, _ = load_release_rows(RELEASE, "documents")
    test = rows["test"]
    assert [loaded.annotate(d) for d in test] == [model.annotate(d) for d in test]
    again = figures(loaded.annotate, test, SCHEMAS.vocab("EntityType"))
    assert again["entities"] == report["model"]["entities"] and again["sources"] == report["model"]["sources"]


@pytest.mark.slow
def test_tatweel_and_diacritics_give_the_same_spans_on_the_text_of_record(trained):
    model, _, _ = trained
    plain = "وقال الرئيس الأمريكي باراك أوباما إن الحكومة ستدعم الاقتصاد."
    marked = plain.replace("الرئيس", "الرَّئِيس").replace("أوباما", "أوبـــاما")
    a = model.annotate({"text": plain})
    b = model.annotate({"text": marked})
    assert a["entities"], "the model finds entities in a plain sentence"

    def bare(s: str) -> str:
        return "".join(c for c in s if c != "\u0640" and not unicodedata.category(c).startswith("M"))
    assert [(bare(e["text"]), e["type"]) for e in b["entities"]] == [(e["text"], e["type"]) for e in a["entities"]]
    for e in b["entities"]:
        assert marked[e["start"]:e["end"]] == e["text"]  # offsets into the text of record, unchanged


@pytest.mark.slow
def test_preannotate_with_a_model_writes_its_version(trained, tmp_path):
    model, _, folder = trained
    project = make_project(tmp_path / "p")
    res = CliRunner().invoke(app, ["preannotate", "--model", str(folder), "--root", str(project.root), "-q"])
    assert res.exit_code == 0, res.output
    ann = json.loads(project.preannotator_file(SEED_ID).read_text(encoding="utf-8"))
    assert ann["origin"] == {"kind": "preannotator", "tool": "khabar-model", "version": model.version}
    assert not SCHEMAS.problems("annotation", ann)


@pytest.mark.slow
def test_a_model_of_another_label_schema_is_refused(trained, tmp_path):
    _, _, folder = trained
    with pytest.raises(InputError, match="trained on another label schema"):
        load_model(folder, type_fingerprint(["PERS", "ORG"]))
    project = make_project(tmp_path / "p")
    schema = json.loads((project.schema / "labels.schema.json").read_text(encoding="utf-8"))
    schema["$defs"]["EntityType"]["enum"].append("DISEASE")
    (project.schema / "labels.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    res = CliRunner().invoke(app, ["preannotate", "--model", str(folder), "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and "trained on another label schema" in res.output and "Traceback" not in res.output
    assert not project.preannotator_file(SEED_ID).exists()


def test_training_on_a_release_without_gold_in_train_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"release 0.2.0: no gold in the train split \(0 documents"):
        train_release(ROOT / "releases" / "0.2.0", schemas=SCHEMAS)
    res = CliRunner().invoke(app, ["train", str(ROOT / "releases" / "0.2.0"), "--out", str(tmp_path / "m"), "--root", str(ROOT), "-q"])
    assert res.exit_code == 1 and "no gold in the train split" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("damage, reason", [
    ("none", "not a model folder"),
    ("bad-json", "cannot read the model"),
    ("other-format", "not a khabar model of format 1"),
    ("damaged-crf", "does not match the SHA-256 in model.json"),
    ("files-a-list", "not a khabar model of format 1 (field files is not a dict)"),
    ("format-true", "not a khabar model of format 1 (field format is not a int)"),
    ("deep-json", "cannot read the model (nested too deeply)"),
    ("swapped-crf", "entities-outer.crfsuite: labels B-CONTENT, B-CUE, B-SRC, I-CONTENT, I-SRC are not those of this file's place"),
])
def test_a_broken_model_folder_is_one_line(tmp_path, damage, reason, small):
    folder = tmp_path / "m"
    folder.mkdir()
    if damage in ("damaged-crf", "files-a-list", "format-true", "swapped-crf"):
        shutil.rmtree(folder)
        shutil.copytree(small[2], folder)
        meta = json.loads((folder / MODEL_META).read_text(encoding="utf-8"))
    if damage == "damaged-crf":
        (folder / "claims.crfsuite").write_bytes((folder / "claims.crfsuite").read_bytes()[:-3] + b"xyz")
    elif damage == "files-a-list":
        (folder / MODEL_META).write_text(json.dumps(meta | {"files": [1]}), encoding="utf-8")
    elif damage == "format-true":
        (folder / MODEL_META).write_text(json.dumps(meta | {"format": True}), encoding="utf-8")
    elif damage == "deep-json":
        (folder / MODEL_META).write_text("[" * 200_000, encoding="utf-8")
    elif damage == "swapped-crf":  # the claim CRF copied over the entity CRF, its SHA-256 updated
        data = (folder / "claims.crfsuite").read_bytes()
        (folder / "entities-outer.crfsuite").write_bytes(data)
        meta["files"]["entities-outer.crfsuite"] = hashlib.sha256(data).hexdigest()
        (folder / MODEL_META).write_text(json.dumps(meta), encoding="utf-8")
    if damage == "bad-json":
        (folder / MODEL_META).write_text("{", encoding="utf-8")
    elif damage == "other-format":
        (folder / MODEL_META).write_text('{"format": 99}', encoding="utf-8")
        for name in ("entities-outer.crfsuite", "entities-inner.crfsuite", "claims.crfsuite"):
            (folder / name).write_bytes(b"")
    project = make_project(tmp_path / "p")
    for extra in ([], ["--score", "test"]):
        res = CliRunner().invoke(app, ["preannotate", "--model", str(folder), "--root", str(project.root), "-q", *extra])
        assert res.exit_code == 1 and reason in res.output and "Traceback" not in res.output, res.output


def test_clitics_cut_proclitics_but_not_letters_of_the_name():
    c = Clitics(seen={}, words={"بغداد", "الحكومه"})
    assert c.cut("وبغداد") == 1          # و + a word of the training texts
    assert c.cut("لبنان") == 0           # "بنان" is not a word: ل is the name's
    assert c.cut("للحكومة") == 1         # ل + the article whose alef dropped: span "لحكومة"
    assert c.cut("وللحكومة") == 2
    assert c.cut("والحكومة") == 1
    assert c.cut("وزارة") == 0
    assert Clitics(seen={"وزاره": 0, "بوزاره": 1}).cut("بوزارة") == 1  # as seen in training


def test_a_name_found_once_is_tagged_again_in_the_document():
    text = "صرح سيب بلاتر رئيس الفيفا. وقال بلاتر إن القرار نهائي."
    found = {(4, 13): "PERS"}
    _propagate(text, found, df={})
    assert found == {(4, 13): "PERS", (32, 37): "PERS"} and text[32:37] == "بلاتر"


def test_source_accuracy_counts_every_gold_claim():
    gold = {"entities": [{"id": "e1", "start": 0, "end": 5}, {"id": "e2", "start": 10, "end": 15}],
            "claims": [{"content": {"start": 20, "end": 40}, "source": "e1"},
                       {"content": {"start": 50, "end": 60}, "source": None},
                       {"content": {"start": 70, "end": 80}, "source": "e2"}]}
    pred = {"entities": [{"id": "e7", "start": 0, "end": 5}, {"id": "e8", "start": 9, "end": 15}],
            "claims": [{"content": {"start": 25, "end": 41}, "source": "e7"},   # right (same span, other id)
                       {"content": {"start": 50, "end": 60}, "source": None},   # right (both unnamed)
                       {"content": {"start": 70, "end": 80}, "source": "e8"}]}  # wrong span
    assert source_accuracy([(pred, gold)]) == {"accuracy": 0.6667, "correct": 2, "gold": 3, "with_source": 2, "correct_with_source": 1}
    assert source_accuracy([]) == {"accuracy": 0.0, "correct": 0, "gold": 0, "with_source": 0, "correct_with_source": 0}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A model trained on six train documents of the committed release (fast): (entity model dict,
    claim model dict, saved folder)."""
    from khabar.baseline.trainer import _view_examples  # noqa: PLC2701 - the trainer's own conversion
    from khabar.model.artifact import model_from_training
    from khabar.model.claims import train_claims
    from khabar.model.entities import train_entities

    rows, _ = load_release_rows(RELEASE, "documents")
    pairs = [_view_examples(d) for d in [d for d in rows["train"] if d["claims"]][:6]]
    ents, claims = train_entities([p[0] for p in pairs]), train_claims([p[1] for p in pairs])
    folder = tmp_path_factory.mktemp("small") / "m"
    save_model(model_from_training(ents, claims, {"schema_version": FP, "entity_types": SCHEMAS.vocab("EntityType"), "training": {}}), folder, "card")
    return ents, claims, folder, rows


def test_a_saved_model_tags_as_the_trained_one(small):
    """Regression: the lexicon of training names was not saved, so a loaded model tagged with other
    features than it was trained on (validation strict F1 0.425 instead of 0.642)."""
    from khabar.model.entities import Example, tag_entities
    from khabar.text.normalview import NormalView

    ents, _, folder, rows = small
    loaded = load_model(folder, FP)
    doc = rows["validation"][0]
    view = NormalView(doc["text"])
    raw = tag_entities(ents, Example(view.text, [(view.to_view(s["start"]), view.to_view(s["end"])) for s in doc["sentences"]]))
    got = loaded.annotate(doc)["entities"]
    assert [(e["start"], e["end"], e["type"]) for e in got] == [(*view.to_original(e["start"], e["end"]), e["type"]) for e in raw]
    assert len(got) > 10


@pytest.mark.slow
def test_retraining_on_submitted_annotations_uses_train_documents_only(trained):
    """The ML backend's retraining: a submitted annotation of a train document replaces its gold;
    one of a test document is never learned from (the figures stay on unseen documents)."""
    from khabar.baseline.retrain import LiveModel
    from khabar.core.project import Project
    from khabar.dataset.rows import split_for
    from khabar.studio.config import Scheme
    from khabar.studio.to_results import annotation_to_results

    model, report, _ = trained
    scheme = Scheme.from_schemas(SCHEMAS)
    rows, _ = load_release_rows(RELEASE, "documents")
    doc = next(d for d in rows["train"] if d["claims"])
    gold = json.loads((ROOT / "annotations" / doc["id"] / "gold.json").read_text(encoding="utf-8"))
    test_doc = rows["test"][0]
    assert split_for(doc["id"]) == "train" and split_for(test_doc["id"]) == "test"
    records = [{"annotation": 1, "doc_id": doc["id"], "text_sha256": doc["text_sha256"],
                "result": annotation_to_results(gold, doc["text"], scheme)},
               {"annotation": 2, "doc_id": test_doc["id"], "text_sha256": test_doc["text_sha256"], "result": []}]
    live = LiveModel(model, Project(ROOT), scheme)
    submitted, skipped = live._submitted(records)  # noqa: SLF001 - what retrain learns from
    assert [d["id"] for d in submitted] == [doc["id"]] and len(submitted[0]["entities"]) == len(gold["entities"])
    assert skipped == [f"annotation 2: document {test_doc['id']} is not in the train split"]
    version = live.retrain(records)
    assert version == live.version != model.version
    assert live.model.meta["training"]["documents"] == 58 and live.model.meta["training"]["release"] == "0.4.0"
    assert live.model.meta["training"]["submitted"] == [doc["id"]]
    # again (Label Studio asks every N submissions): still from the release, not from "0.4.0+1 submitted"
    assert live.retrain(records) == version
    assert live.retrain([records[1]]) == version  # nothing usable submitted: nothing trained
    assert live.annotate(test_doc)["origin"]["version"] == version


@pytest.mark.slow
def test_preannotate_score_reproduces_the_card_figures_and_writes_nothing(trained, tmp_path):
    model, report, folder = trained
    before = sorted(p.stat().st_mtime_ns for p in (ROOT / "annotations").rglob("preannotator.json"))
    res = CliRunner().invoke(app, ["preannotate", "--model", str(folder), "--score", "test", "--root", str(ROOT), "-q"])
    assert res.exit_code == 0, res.output
    e, c, s = report["model"]["entities"]["overall"]["strict"], report["model"]["claims"]["strict"], report["model"]["sources"]
    assert f"test split, 4 gold document(s), nothing written:" in res.output
    assert f"strict P={e['precision']:.3f} R={e['recall']:.3f} F1={e['f1']:.3f}" in res.output
    assert f"strict P={c['precision']:.3f} R={c['recall']:.3f} F1={c['f1']:.3f}" in res.output
    assert f"source accuracy {s['accuracy']:.3f} ({s['correct']}/{s['gold']})" in res.output
    assert sorted(p.stat().st_mtime_ns for p in (ROOT / "annotations").rglob("preannotator.json")) == before


@pytest.mark.slow
def test_the_model_version_names_the_toolkit_of_the_source_not_the_installed_metadata(trained):
    """Regression: the trainer read the toolkit version from the installed package's metadata, so
    a virtualenv installed before a version bump gave another model version than a fresh clone."""
    import khabar

    model, _, _ = trained
    assert model.meta["toolkit"] == f"khabar {khabar.__version__}"


def test_train_refusals_come_before_training(tmp_path):
    """Found by an adversarial review: these were caught after 25 s of training, or not at all."""
    runner = CliRunner()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["train", str(RELEASE), "--out", str(tmp_path / "afile" / "sub"), "--root", str(ROOT), "-q"])
    assert res.exit_code == 1 and f"{tmp_path / 'afile'} is a file, not a folder" in res.output
    # a release of another schema than the project's: its model would be refused by the project
    project = make_project(tmp_path / "p")
    schema = json.loads((project.schema / "labels.schema.json").read_text(encoding="utf-8"))
    schema["$defs"]["EntityType"]["enum"].append("DISEASE")
    (project.schema / "labels.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    res = runner.invoke(app, ["train", str(RELEASE), "--out", str(tmp_path / "m"), "--root", str(project.root), "-q"])
    assert res.exit_code == 1 and "its entity types are not this project's" in res.output and "khabar build" in res.output
    # a CoNLL file with bad tags: train's own hint, not import conll's --map
    bad = tmp_path / "wojood_bad.txt"
    bad.write_text("كلمة B-FOO\n", encoding="utf-8")
    res = runner.invoke(app, ["train", str(RELEASE), "--out", str(tmp_path / "m2"), "--with", str(bad), "--root", str(ROOT), "-q"])
    assert res.exit_code == 1 and "not joined" in res.output and "--map" not in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m").exists() and not (tmp_path / "m2").exists()


def test_preannotate_score_refuses_doc_and_a_split_without_gold(tmp_path):
    project = make_project(tmp_path / "p")
    runner = CliRunner()
    res = runner.invoke(app, ["preannotate", "--score", "test", "--doc", SEED_ID, "--root", str(project.root)])
    assert res.exit_code == 1 and "--doc cannot narrow it" in res.output
    res = runner.invoke(app, ["preannotate", "--score", "test", "--root", str(project.root)])
    assert res.exit_code == 1 and "no document of the test split has a gold annotation" in res.output
    assert not project.preannotator_file(SEED_ID).exists()


def test_the_card_says_when_the_scored_preannotations_come_from_a_model():
    """Found by a new-user review: after `preannotate --model`, the next card called the model's
    (in-sample) figures those of the rule-based pre-annotator."""
    from khabar.dataset.card import _preannotator_text  # noqa: PLC2701

    pre = json.loads((ROOT / "releases" / "0.4.1" / "reports" / "preannotator.json").read_text(encoding="utf-8"))
    assert "The rule-based pre-annotator (`khabar preannotate`" in _preannotator_text(pre)
    text = _preannotator_text(pre | {"tool": "khabar-model", "version": "khabar-crf-110e18b67287"})
    assert "made by the trained model `khabar-model khabar-crf-110e18b67287`" in text and "rule-based" not in text
    assert "include the ones the model was trained on" in text


def test_a_cue_leaves_out_the_conjunction_before_it(small):
    from khabar.model.claims import _cue_span  # noqa: PLC2701

    text = "وقال الرئيس إن الحكومة ستدعم الاقتصاد. فأضاف أن القرار نهائي. وزعم المتحدث أن"
    assert text[slice(*_cue_span(text, (0, 4)))] == "قال"
    at = text.index("فأضاف")
    assert _cue_span(text, (at, at + 5)) == (at + 1, at + 5) and text[at + 1:at + 5] == "أضاف"
    at = text.index("وزعم")
    assert text[slice(*_cue_span(text, (at, at + 4)))] == "زعم"
    at = text.index("الرئيس")
    assert _cue_span(text, (at, at + 6)) == (at, at + 6)  # not a cue word: nothing cut

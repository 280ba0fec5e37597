"""What a build adds besides data: inter-annotator agreement and baseline reports in reports/
and in the card; and the baseline trained on the Wojood sample imported through `khabar import
conll` and built into a release."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SEED_ID
from khabar.agreement.adjudicate import adjudicate
from khabar.agreement.compare import corpus_agreement
from khabar.baseline.run import run_baseline
from khabar.release.build import build
from khabar.formats.conll.importer import import_conll
from khabar.core.jsonio import dumps_canonical, load_json, write_json
from khabar.core.project import Project

WOJOOD = Path(__file__).parent / "fixtures" / "realdata" / "arabic_ner_conll" / "wojood_sample_val.txt"


def test_release_reports_no_agreement_plainly_and_the_reference_baseline(project) -> None:
    shutil.copytree(ROOT / "annotations" / SEED_ID, project.annotations / SEED_ID)
    rel = build(project, "0.1.0", progress=False).path
    agreement = load_json(rel / "reports" / "agreement.json")
    assert agreement["documents"]["compared"] == 0 and agreement["documents"]["gold_only"] == [SEED_ID]
    assert not (rel / "reports" / "agreement-entity-f1.png").exists()
    base = load_json(rel / "reports" / "baseline.json")
    assert base["entities"]["status"] == "not enough data"
    assert base["entities"]["reason"] == "train has no sentences; test has no sentences (sentences per split: train 0, validation 25, test 0)"
    assert base["claims"]["reason"] == ("train needs rows of both labels (no: 0, yes: 0); test has no `yes` row (no: 0, yes: 0) "
                                        "(rows per split: train 0, validation 22, test 0)")
    ref = base["reference"]
    assert (ref["paragraphs"], ref["sentences"]) == ({"train": 45, "test": 11}, {"train": 123, "test": 36})
    strict = ref["crf"]["overall"]["strict"]
    assert (strict["correct"], strict["gold"], strict["predicted"], strict["f1"]) == (32, 89, 50, 0.4604)
    assert ref["majority"]["overall"]["strict"]["f1"] == 0.0 and ref["majority"]["tag"] == "O"
    card = (rel / "README.md").read_text(encoding="utf-8")
    assert "No agreement figures: no document has two or more usable annotator files" in card
    assert "### Reference run (not this release's data)" in card
    assert "| CRF | 0.6400 | 0.3596 | 0.4604 | 0.4604 | 0.5683 | 0.7906 |" in card
    assert "Not trained: train has no sentences; test has no sentences (sentences per split: train 0, validation 25, test 0)." in card
    stats = load_json(rel / "reports" / "stats.json")
    assert stats["agreement"]["agreement_compared"] == 0
    assert "no agreement figures yet (no document has two or more annotators)" in (rel / "croissant.json").read_text(encoding="utf-8")


def _annotators(project: Project) -> None:
    gold = load_json(ROOT / "annotations" / SEED_ID / "gold.json")
    folder = project.annotations / SEED_ID
    folder.mkdir(parents=True, exist_ok=True)
    doc = load_json(project.corpus / f"{SEED_ID}.json")
    word = doc["text"].index("الصدد")
    versions = {"ann1": gold["entities"] + [{"id": "x1", "start": word, "end": word + 5, "text": "الصدد", "type": "EVENT"}],
                "ann2": gold["entities"], "ann3": gold["entities"][1:]}
    for name, ents in versions.items():
        write_json(folder / f"{name}.json", {**gold, "annotator": name, "entities": ents,
                                             "origin": {"kind": "manual", "sources": [name]}})
    registry = load_json(project.annotations / "annotators.json")
    for name in versions:
        registry[name] = {"kind": "human", "reviewed_by_human": False, "description": f"test annotator {name}"}
    write_json(project.annotations / "annotators.json", registry)


@pytest.mark.slow
def test_release_with_three_annotators_carries_agreement_figures_and_plots(project) -> None:
    _annotators(project)
    assert adjudicate(project).written == 1   # gold = the majority; the extra entity and e1 of ann3's absence
    rel = build(project, "0.1.0", progress=False).path
    report = load_json(rel / "reports" / "agreement.json")
    assert dumps_canonical(report) == dumps_canonical(corpus_agreement(project))
    assert report["documents"]["compared"] == 1 and report["annotators"] == ["ann1", "ann2", "ann3"]
    # pairs: ann1-ann2 140 shared + 1 extra, ann1-ann3 139 + 2, ann2-ann3 139 + 1 -> 418 correct of 418 + 4 one-sided
    strict = report["entities"]["overall"]["strict"]
    assert (strict["correct"], strict["missed"] + strict["spurious"]) == (418, 4)
    assert strict["f1"] == round(2 * 418 / (2 * 418 + 4), 4) == 0.9952
    sums = (rel / "SHA256SUMS").read_text(encoding="utf-8")
    for png in ("agreement-entity-f1.png", "agreement-entity-confusion.png"):
        assert (rel / "reports" / png).read_bytes().startswith(b"\x89PNG") and f"  reports/{png}\n" in sums
    card = (rel / "README.md").read_text(encoding="utf-8")
    assert "Computed by `khabar agreement` over 1 document(s) with two or more annotators (ann1, ann2, ann3;" in card
    assert "![Entity F1 per type](reports/agreement-entity-f1.png)" in card
    assert "| Entities | F1, same span and type (nervaluate strict) | 0.995 |" in card
    # reported by a fresh user: open conflicts and human annotators were not stated well in the card
    assert (f"**Adjudication not finished** for 1 document(s) ({SEED_ID}): their gold holds only the items the annotators "
            "agree on") in card
    assert "- `ann1`: human, **not reviewed** by another person. test annotator ann1" in card
    gold = load_json(project.annotations / SEED_ID / "gold.json")
    assert gold["origin"]["sources"] == ["ann1", "ann2", "ann3"] and len(gold["entities"]) == 140


@pytest.mark.slow
def test_baseline_on_the_wojood_sample_imported_as_conll_and_built(empty_project) -> None:
    project = empty_project
    (project.root / "annotations").mkdir()
    report = import_conll(project, WOJOOD, "wojood", per="paragraph", skip_unfit=True, gold=True, progress=False)
    assert len(report.documents) == 55
    rel = build(project, "0.1.0", progress=False).path
    base = run_baseline(rel)
    ent = base["entities"]
    assert ent["status"] == "trained" and ent["sentences"] == {"train": 121, "validation": 13, "test": 19}
    crf, maj = ent["crf"]["overall"], ent["majority"]["overall"]
    assert maj["strict"]["f1"] == 0.0 and ent["majority"]["tag"] == "O"
    # 56 test entities: 17 found with span and type, 29 missed -> strict F1 0.40, far above the majority's 0.0
    assert (crf["strict"]["correct"], crf["strict"]["gold"], crf["strict"]["predicted"], crf["strict"]["f1"]) == (17, 56, 29, 0.4)
    assert crf["partial"]["f1"] > crf["strict"]["f1"]
    assert base["claims"]["status"] == "not enough data"   # Wojood has no claims
    assert load_json(rel / "reports" / "baseline.json")["entities"] == ent   # the build's own report: the same figures


def test_gate_requires_the_agreement_and_baseline_reports(project) -> None:
    from khabar.release.build import write_checksums
    from khabar.gate.validate import validate_release

    shutil.copytree(ROOT / "annotations" / SEED_ID, project.annotations / SEED_ID)
    rel = build(project, "0.3.0", progress=False).path
    (rel / "reports" / "baseline.json").unlink()
    (rel / "reports" / "agreement.json").write_text('{"report": "something else"}', encoding="utf-8")
    write_checksums(rel)
    lines = [p.line() for p in validate_release(rel, load=False) if p.file.startswith("reports/")]
    assert lines == ["error report-invalid reports/agreement.json: not a report of `khabar agreement` (no 'report': 'khabar agreement')",
                     "error file-missing reports/baseline.json: required file is missing (every release from 0.3.0 carries it)"]


def test_the_label_pictures_count_each_layer_and_split() -> None:
    """The counts behind reports/label-distribution.png (issue 13: pictures where people would
    rather look), on a document with a nested entity and a stance; issue 15: they are counted as
    the rows are written, and two parts of a corpus merge into the counts of one pass."""
    from khabar.release.distribution import Distribution

    doc = {"entities": [{"start": 0, "end": 20, "type": "ORG"}, {"start": 10, "end": 20, "type": "GPE"},
                        {"start": 30, "end": 35, "type": "PERS"}], "stances": [{"label": "AGAINST"}], "text": "x" * 40}
    whole, first, second = Distribution(), Distribution(), Distribution()
    for split, part in (("train", first), ("train", first), ("test", second)):
        whole.add(split, doc)
        part.add(split, doc)
    first.merge(second)
    for dist in (whole, first):
        counts = dist.counts
        assert counts["entities, outer layer"]["train"] == {"ORG": 2, "PERS": 2}
        assert counts["entities, nested (depth 2 and more)"]["test"] == {"GPE": 1}
        assert counts["stance labels"]["validation"] == {} and counts["stance labels"]["train"] == {"AGAINST": 2}
        assert list(dist.lengths["train"]) == [40, 40] and list(dist.lengths["test"]) == [40]


def test_the_build_trains_its_pre_annotator_report_on_bounded_documents(monkeypatch) -> None:
    """Issue 15: at 8,000 train documents the build's pretrained.json report took more than 20 min
    and 10 GiB (the CRFs learn from every document); it now learns from the first
    MODEL_TRAIN_DOCS train documents and is scored on the first MODEL_TEST_DOCS test documents,
    in id order, read from the staged shards (never every row). Releases under the limits (all of
    ours) are unchanged."""
    import khabar.release.reports as rr

    monkeypatch.setattr(rr, "MODEL_TRAIN_DOCS", 2)
    monkeypatch.setattr(rr, "MODEL_TEST_DOCS", 1)
    out, left = rr._bounded(ROOT / "releases" / "0.4.3", True)
    assert [r["id"] for r in out["train"]] == ["kb-0106f6ae13faba6b", "kb-03932f1959c615c6"]
    assert [r["id"] for r in out["test"]] == ["kb-1e40c5b4380fb3da"] and "validation" not in out
    assert left == {"train": 56, "test": 3}
    assert rr._bounded(ROOT / "releases" / "0.4.3", False) == ({}, {"train": 0, "test": 0})


def test_the_pre_annotator_report_takes_documents_within_a_sentence_budget(monkeypatch) -> None:
    """Issue 15: long documents (the benchmark's have about 40 sentences) made 200 documents cost
    more than 80 s of CRF training in every build; documents are taken while their sentences stay
    within MODEL_TRAIN_SENTENCES (the first always is). Release 0.4.3's first train documents have
    6, 3, 9 and 15 sentences (539 in its 58 train documents, within the budget: it is unchanged)."""
    import khabar.release.reports as rr

    monkeypatch.setattr(rr, "MODEL_TRAIN_SENTENCES", 30)
    monkeypatch.setattr(rr, "MODEL_TEST_SENTENCES", 1)
    out, left = rr._bounded(ROOT / "releases" / "0.4.3", True)
    assert [len(d["sentences"]) for d in out["train"]] == [6, 3, 9] and len(out["test"]) == 1
    assert left == {"train": 55, "test": 3}

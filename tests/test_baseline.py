"""Baselines (khabar.baseline): CRF entity tagger on the Wojood sample, claim-sentence classifier on
hand-made Arabic rows, the release report (run_baseline) and `khabar baseline`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from datasets import Dataset
from typer.testing import CliRunner

from khabar.baseline.run import (baseline_markdown, decode_bio, evaluate_claim_classifier, evaluate_tagger,
                             load_release_rows, majority_label, majority_tag, predict_tags, run_baseline,
                             score_claims, score_tags, token_features, train_claim_classifier, train_tagger)
from khabar.text.bio import spans_from_tags
from khabar.release.build import build
from khabar.cli import app
from khabar.core.errors import InputError
from khabar.dataset.features import features_for, make_encoder

from conftest import ROOT, SEED_ID

#: SinaLab/ArabicNER data/val.txt (MIT), see fixtures/realdata/README.md
FIXTURE = Path(__file__).parent / "fixtures" / "realdata" / "arabic_ner_conll" / "wojood_sample_val.txt"


def wojood_paragraphs() -> list[list[tuple[list[str], list[str]]]]:
    """Paragraphs of sentences ``(tokens, first tags)`` of the Wojood sample: a blank line ends a
    sentence, a ``$#$`` line is dropped and ends the paragraph after its sentence."""
    paras, para, sent, ends_para = [], [], [], False
    for line in FIXTURE.read_text(encoding="utf-8").split("\n") + [""]:
        if line.startswith("$#$ "):
            ends_para = True
        elif line.strip():
            token, tag, *_ = line.split(" ")
            sent.append((token, tag))
        elif sent or ends_para:
            if sent:
                para.append(([t for t, _ in sent], [g for _, g in sent]))
            if ends_para and para:
                paras.append(para)
                para = []
            sent, ends_para = [], False
    return paras + ([para] if para else [])


def rows_of(paras: list[tuple[int, list]]) -> list[dict]:
    return [{"id": f"w{i}-{j}", "doc_id": f"w{i}", "tokens": toks, "ner_tags": tags}
            for i, para in paras for j, (toks, tags) in enumerate(para)]


@pytest.fixture(scope="module")
def wojood() -> dict[str, list[dict]]:
    """Every 5th paragraph (index 4, 9, ...) is test, the rest train."""
    paras = list(enumerate(wojood_paragraphs()))
    return {"train": rows_of([p for p in paras if p[0] % 5 != 4]), "test": rows_of([p for p in paras if p[0] % 5 == 4])}


@pytest.fixture(scope="module")
def tagger(wojood):
    return train_tagger(wojood["train"])


def test_wojood_split_sizes(wojood):
    assert (len(wojood_paragraphs()), sum(map(len, wojood_paragraphs()))) == (55, 158)
    tr, te = wojood["train"], wojood["test"]
    assert (len(tr), len(te)) == (111, 47)
    assert sum(len(r["tokens"]) for r in tr + te) == 2687


def test_crf_beats_majority_on_wojood_and_is_deterministic(wojood, tagger):
    types = sorted({t[2:] for r in wojood["train"] + wojood["test"] for t in r["ner_tags"] if t != "O"})
    crf = evaluate_tagger(tagger, wojood["test"], types)
    assert majority_tag(wojood["train"]) == "O"
    maj = score_tags(wojood["test"], [["O"] * len(r["tokens"]) for r in wojood["test"]], types)
    assert (crf["rows"], crf["entities"]) == (maj["rows"], maj["entities"]) == (47, 110)
    assert maj["overall"]["strict"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "correct": 0, "incorrect": 0,
                                        "partial": 0, "missed": 110, "spurious": 0, "gold": 110, "predicted": 0}
    assert crf["overall"]["strict"]["f1"] > 0.3   # measured 0.4026 (P 0.7045, R 0.2818); exact 0.4156, partial 0.4935
    assert crf["overall"]["partial"]["f1"] > crf["overall"]["strict"]["f1"]
    assert crf["token_accuracy"] > maj["token_accuracy"]
    again = train_tagger(wojood["train"])
    assert predict_tags(again, wojood["test"]) == predict_tags(tagger, wojood["test"])
    assert evaluate_tagger(again, wojood["test"], types) == crf


def test_lenient_decoding_of_malformed_predictions():
    tags = ["I-PERS", "I-PERS", "O", "B-ORG", "I-GPE", "I-GPE", "B-ORG", "B-ORG", "I-ORG"]
    assert decode_bio(tags) == [(0, 2, "PERS"), (3, 4, "ORG"), (4, 6, "GPE"), (6, 7, "ORG"), (7, 9, "ORG")]
    assert decode_bio([]) == [] and decode_bio(["O"]) == []


def test_lenient_decoding_agrees_with_strict_on_valid_gold(wojood):
    for r in wojood["train"] + wojood["test"]:
        assert decode_bio(r["ner_tags"]) == spans_from_tags([[t] for t in r["ner_tags"]])


def test_score_tags_exact_figures():
    gold = [{"id": "a", "tokens": ["قال", "محمد", "علي", "في", "غزة"], "ner_tags": ["O", "B-PERS", "I-PERS", "O", "B-GPE"]}]
    res = score_tags(gold, [["O", "B-PERS", "O", "O", "I-GPE"]], ["PERS", "GPE"])
    assert (res["rows"], res["tokens"], res["entities"], res["token_accuracy"]) == (1, 5, 2, 0.6)
    assert {s: (f["correct"], f["incorrect"], f["partial"], f["f1"]) for s, f in res["overall"].items()} == {
        "strict": (1, 1, 0, 0.5), "exact": (1, 1, 0, 0.5), "partial": (1, 0, 1, 0.75)}
    assert list(res["per_type"]) == ["PERS", "GPE"]
    assert res["per_type"]["PERS"]["strict"]["f1"] == 0.0 and res["per_type"]["GPE"]["strict"]["f1"] == 1.0


def test_token_features_for_arabic():
    toks = ["قال", "الرئيس", "(", "2020"]
    f = token_features(toks, 1)
    assert (f["w"], f["p2"], f["p3"], f["s3"], f["script"], f["len"]) == ("الرئيس", "ال", "الر", "ئيس", "arabic", "6")
    assert (f["-1:w"], f["+1:w"], f["+2:w"], f["+2:p2"]) == ("قال", "(", "2020", "20")
    assert "-2:w" not in f and "BOS" not in f and "EOS" not in f
    assert token_features(toks, 0)["BOS"] is True
    last = token_features(toks, 3)
    assert (last["digit"], last["script"], last["EOS"], last["-2:w"]) == (True, "digit", True, "الرئيس")
    assert (token_features(toks, 2)["punct"], token_features(toks, 2)["script"]) == (True, "other")
    assert token_features(["رويترز", "Reuters"], 1)["script"] == "latin"


@pytest.mark.parametrize("rows, predicted, types, message", [
    ([], [], None, "no rows to evaluate the tagger on"),
    ([{"id": "s1", "tokens": ["a"]}], [["O"]], None, r"row 0 \(id s1\): no field 'ner_tags'"),
    ([{"id": "s1", "tokens": "a b", "ner_tags": ["O"]}], [["O"]], None, r"field 'tokens' is str, expected list"),
    ([{"id": "s1", "tokens": ["a", "b"], "ner_tags": ["O"]}], [["O"]], None, r"2 tokens but 1 ner_tags"),
    ([{"id": "s1", "tokens": ["a"], "ner_tags": ["O"]}], [["O"], ["O"]], None, "2 predicted sequences for 1 rows"),
    ([{"id": "s1", "tokens": ["a"], "ner_tags": ["O"]}], [["O", "O"]], None, r"2 predicted tags for 1 tokens"),
    ([{"id": "s1", "tokens": ["a", "b"], "ner_tags": ["O", "I-ORG"]}], [["O", "O"]], None,
     r"row 0 \(id s1\): ner_tags: line 2: I-ORG does not continue"),
    ([{"id": "s1", "tokens": ["a"], "ner_tags": ["B-FOO"]}], [["O"]], ["PERS"], r"'FOO' of tag 'B-FOO' is not in the schema"),
])
def test_score_tags_errors(rows, predicted, types, message):
    with pytest.raises(InputError, match=message):
        score_tags(rows, predicted, types)


def test_train_tagger_without_rows():
    with pytest.raises(InputError, match="no rows to train the tagger on"):
        train_tagger([])


CLAIM_TRAIN = [(t, "yes") for t in (
    "قال وزير الخارجية إن المفاوضات ستستأنف الأسبوع المقبل.",
    "أعلن الجيش أنه سيطر على المدينة بعد معارك عنيفة.",
    "أكد المتحدث باسم الحكومة أن الانتخابات ستجرى في موعدها.",
    "قالت الأمم المتحدة إن آلاف المدنيين نزحوا من منازلهم.",
    "أعلنت وزارة الصحة تسجيل مئة إصابة جديدة بالفيروس.",
    "أكد الرئيس أن بلاده لن تتراجع عن قرارها.",
    "وقال مسؤول أمني إن الهجوم أسفر عن مقتل خمسة أشخاص.",
    "وأضاف الوزير أن الحكومة ستدعم المزارعين المتضررين.",
    "أعلن البنك المركزي أنه سيرفع سعر الفائدة.",
    "وأكدت الشرطة أنها اعتقلت ثلاثة مشتبه بهم.",
)] + [(t, "no") for t in (
    "يقع المسجد في وسط المدينة القديمة.",
    "تبلغ مساحة البحيرة نحو عشرين كيلومترا مربعا.",
    "افتتح المعرض أبوابه أمام الزوار صباح اليوم.",
    "شهدت الأسواق ازدحاما كبيرا قبل العيد.",
    "ارتفعت درجات الحرارة في معظم المناطق.",
    "يعيش في القرية نحو ألفي نسمة.",
    "وصل الوفد إلى العاصمة مساء الخميس.",
    "هطلت أمطار غزيرة على المناطق الساحلية.",
    "بدأت المدارس العام الدراسي الجديد.",
    "انطلقت المباراة في الساعة الثامنة مساء.",
    "تشتهر المنطقة بزراعة الزيتون والحمضيات.",
    "امتدت الحرائق إلى الغابات المجاورة.",
)]
CLAIM_TEST = [(t, "yes") for t in (
    "قال رئيس الوزراء إن الاقتصاد سيتعافى قريبا.",
    "أعلنت الشركة أنها ستفتح مصنعا جديدا.",
    "وأكد السفير أن العلاقات بين البلدين قوية.",
    "قال شهود عيان إن الانفجار وقع قرب السوق.",
)] + [(t, "no") for t in (
    "يقع الفندق على شاطئ البحر.",
    "ازدحمت الطرق بالسيارات صباح اليوم.",
    "افتتحت البلدية حديقة عامة جديدة.",
    "وصلت الطائرة إلى المطار متأخرة.",
    "تمتد السلسلة الجبلية على طول الساحل.",
)]


def claim_rows(pairs: list[tuple[str, str]], prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "doc_id": "d", "text": t, "has_claim": y} for i, (t, y) in enumerate(pairs)]


def test_claim_classifier_beats_majority_and_is_deterministic():
    train, test = claim_rows(CLAIM_TRAIN, "tr"), claim_rows(CLAIM_TEST, "te")
    model = train_claim_classifier(train)
    res = evaluate_claim_classifier(model, test)
    assert majority_label(train) == "no"
    maj = score_claims(test, ["no"] * len(test))
    assert maj == {"rows": 9, "yes": 4, "accuracy": 0.5556, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert res["accuracy"] > maj["accuracy"] and res["f1"] > 0.5   # measured: accuracy 1.0, F1 1.0
    again = train_claim_classifier(train)
    texts = [r["text"] for r in test]
    assert (again.predict_proba(texts) == model.predict_proba(texts)).all()


def test_score_claims_exact_figures():
    rows = claim_rows([("a", "yes"), ("b", "yes"), ("c", "no"), ("d", "no")], "r")
    assert score_claims(rows, ["yes", "no", "yes", "no"]) == {
        "rows": 4, "yes": 2, "accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5}


@pytest.mark.parametrize("call, message", [
    (lambda: train_claim_classifier(claim_rows([("a", "no"), ("b", "no")], "r")),
     r"needs rows of both labels; got \{'no': 2\}"),
    (lambda: score_claims([], []), "no rows to evaluate the claim classifier on"),
    (lambda: score_claims(claim_rows([("a", "no")], "r"), ["no", "yes"]), "2 predictions for 1 rows"),
    (lambda: majority_label([{"id": "r0", "text": "a", "has_claim": 1}]), r"row 0 \(id r0\): field 'has_claim' is int"),
    (lambda: majority_label([{"id": "r0", "text": "a", "has_claim": "maybe"}]), r"has_claim is 'maybe', expected 'no' or 'yes'"),
    (lambda: majority_label([{"id": "r0", "has_claim": "no"}]), r"row 0 \(id r0\): no field 'text'"),
])
def test_claim_errors(call, message):
    with pytest.raises(InputError, match=message):
        call()


# ---------------------------------------------------------------- release folders
# The build does not write the entities/claims configs yet: these releases are made here with the
# configs' Features from khabar.dataset.features (label names -> ClassLabel ids) and read back with load_dataset.

def fake_release(folder: Path, schemas, entities: dict[str, list[dict]] | None,
                 claims: dict[str, list[dict]] | None) -> Path:
    """A release folder holding only the given configs/splits, with the configs' real Features
    (khabar.dataset.features) and the card's YAML ``configs``; missing columns get filler values."""
    lines = ["---", "configs:"]
    for config, splits in (("entities", entities), ("claims", claims)):
        if splits is None:
            continue
        feats = features_for(schemas, config)
        encode = make_encoder(feats)
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, rows in splits.items():
            path = f"data/{config}/{split}-00000-of-00001.parquet"
            if config == "entities":
                full = [{"start": 0, "end": 1, "offsets": [{"start": 0, "end": 1}] * len(r["tokens"]),
                         "nested_ner_tags": ["O"] * len(r["tokens"])} | r for r in rows]
            else:
                full = [{"start": 0, "end": len(r["text"]), "num_sentences": 1, "checkworthy": "no", "claims": []} | r
                        for r in rows]
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            Dataset.from_list([encode({k: r[k] for k in feats}) for r in full], features=feats).to_parquet(str(folder / path))
            lines += [f"  - split: {split}", f"    path: {path}"]
    (folder / "README.md").write_text("\n".join(lines + ["---", "", "# fake release", ""]), encoding="utf-8")
    return folder


def test_load_release_rows_decodes_label_names(tmp_path, schemas):
    rel = fake_release(tmp_path / "0.9.0", schemas, {"train": [{"id": "s1", "doc_id": "d", "tokens": ["قال", "محمد"],
                                                                "ner_tags": ["O", "B-PERS"]}]},
                       {"test": claim_rows([("قال محمد", "yes")], "c")})
    rows, feats = load_release_rows(rel, "entities")
    assert rows == {"train": [{"id": "s1", "doc_id": "d", "tokens": ["قال", "محمد"], "ner_tags": ["O", "B-PERS"]}]}
    assert feats["ner_tags"].feature.names[:3] == ["O", "B-PERS", "I-PERS"]
    assert load_release_rows(rel, "claims")[0] == {"test": [{"id": "c0", "doc_id": "d", "text": "قال محمد", "has_claim": "yes"}]}


def test_run_baseline_on_a_release_matches_the_row_functions(tmp_path, schemas, wojood, tagger):
    rel = fake_release(tmp_path / "1.0.0", schemas, wojood, {"train": claim_rows(CLAIM_TRAIN, "tr"),
                                                             "test": claim_rows(CLAIM_TEST, "te")})
    report = run_baseline(rel)
    types = schemas.vocab("EntityType")
    ent, cl = report["entities"], report["claims"]
    assert (report["release"], ent["status"], ent["reason"], cl["status"]) == ("1.0.0", "trained", None, "trained")
    assert ent["sentences"] == {"train": 111, "validation": 0, "test": 47}
    assert ent["crf"] == evaluate_tagger(tagger, wojood["test"], types)
    assert list(ent["crf"]["per_type"]) == [t for t in types if t in ent["crf"]["per_type"]]  # schema order
    assert ent["majority"]["tag"] == "O" and ent["majority"]["overall"]["strict"]["f1"] == 0.0
    assert cl["majority"] == {"label": "no", "rows": 9, "yes": 4, "accuracy": 0.5556, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert cl["classifier"] == evaluate_claim_classifier(train_claim_classifier(claim_rows(CLAIM_TRAIN, "tr")),
                                                         claim_rows(CLAIM_TEST, "te"))
    s = report["settings"]
    assert (s["tagger"]["c1"], s["tagger"]["c2"], s["tagger"]["max_iterations"]) == (0.1, 0.1, 100)
    assert s["libraries"]["nervaluate"] == "1.2.1" and s["libraries"]["python-crfsuite"] == "0.9.12"
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    md = baseline_markdown(report)
    crf = ent["crf"]["overall"]
    assert md.startswith("## Baselines\n")
    assert f"| CRF | {crf['strict']['precision']:.4f} | {crf['strict']['recall']:.4f} | {crf['strict']['f1']:.4f} |" in md
    assert "| majority class (every token `O`) | 0.0000 | 0.0000 | 0.0000 | 0.0000 | 0.0000 |" in md
    assert "| majority class (every row `no`) | 0.5556 | 0.0000 | 0.0000 | 0.0000 |" in md
    assert "Test: 47 sentences, 740 tokens, 110 entities." in md and "Not trained" not in md


def test_run_baseline_without_train_and_test_says_not_enough_data(tmp_path, schemas):
    row = {"id": "s1", "doc_id": "d", "tokens": ["قال", "محمد"], "ner_tags": ["O", "B-PERS"]}
    rel = fake_release(tmp_path / "0.2.0", schemas, {"validation": [row] * 3}, {"validation": claim_rows([("قال", "yes")], "c")})
    report = run_baseline(rel)
    ent, cl = report["entities"], report["claims"]
    assert ent == {"layer": "ner_tags", "sentences": {"train": 0, "validation": 3, "test": 0}, "status": "not enough data",
                   "reason": "train has no sentences; test has no sentences (sentences per split: train 0, validation 3, test 0)",
                   "crf": None, "majority": None}
    assert cl == {"rows": {"train": 0, "validation": 1, "test": 0}, "status": "not enough data",
                  "reason": "train needs rows of both labels (no: 0, yes: 0); test has no `yes` row (no: 0, yes: 0) "
                            "(rows per split: train 0, validation 1, test 0)", "classifier": None, "majority": None}
    md = baseline_markdown(report)
    assert "Not trained: train has no sentences; test has no sentences (sentences per split: train 0, validation 3, test 0)." in md
    assert "| CRF |" not in md


def test_run_baseline_entities_without_entity(tmp_path, schemas):
    row = {"id": "s1", "doc_id": "d", "tokens": ["قال"], "ner_tags": ["O"]}
    rel = fake_release(tmp_path / "0.3.0", schemas, {"train": [row], "test": [row | {"ner_tags": ["B-PERS"]}]},
                       {"train": claim_rows([("a", "yes"), ("b", "no")], "c"), "test": claim_rows([("c", "no")], "t")})
    report = run_baseline(rel)
    assert report["entities"]["reason"] == "train has no entity (sentences per split: train 1, validation 0, test 1)"
    assert report["claims"]["reason"] == "test has no `yes` row (no: 1, yes: 0) (rows per split: train 2, validation 0, test 1)"


def test_release_errors(tmp_path, schemas):
    with pytest.raises(InputError, match="not a folder"):
        run_baseline(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match=r"not a release folder \(no README.md dataset card"):
        run_baseline(tmp_path / "plain")
    rel = fake_release(tmp_path / "0.1.0", schemas, None, {"test": claim_rows([("a", "yes")], "c")})
    with pytest.raises(InputError, match=r"no 'entities' config \(the card lists claims\)") as err:
        run_baseline(rel)
    assert "rebuild" in err.value.hint


def test_cli_baseline(tmp_path, schemas, wojood):
    paras = list(enumerate(wojood_paragraphs()[:10]))
    rel = fake_release(tmp_path / "1.0.0", schemas, {"train": rows_of(paras[:8]), "test": rows_of(paras[8:])},
                       {"train": claim_rows(CLAIM_TRAIN, "tr"), "test": claim_rows(CLAIM_TEST, "te")})
    out = tmp_path / "report.json"
    res = CliRunner().invoke(app, ["baseline", str(rel), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert res.output.splitlines()[0] == "release 1.0.0: baselines (trained on train, scored on test)"
    maj = report["claims"]["majority"]
    assert "  majority (no)  accuracy 0.5556  yes: P 0.0000 R 0.0000 F1 0.0000" in res.output
    assert f"  CRF            F1 strict {report['entities']['crf']['overall']['strict']['f1']:.4f}" in res.output
    assert maj["accuracy"] == 0.5556 and res.output.rstrip().endswith(f"wrote {out}")


def test_cli_baseline_errors(tmp_path, schemas):
    res = CliRunner().invoke(app, ["baseline", str(tmp_path / "nope")])
    assert res.exit_code == 1
    assert f"error: {tmp_path / 'nope'}: not a folder" in res.output and "hint: name a release folder" in res.output
    rel = fake_release(tmp_path / "0.1.0", schemas, {"test": [{"id": "s", "doc_id": "d", "tokens": ["a"], "ner_tags": ["O"]}]}, None)
    res = CliRunner().invoke(app, ["baseline", str(rel)])
    assert res.exit_code == 1 and "no 'claims' config (the card lists entities)" in res.output


def test_run_baseline_on_a_built_release_of_the_committed_corpus(project):
    """The committed corpus's one document is in `validation`: a real build has no train/test rows."""
    shutil.copytree(ROOT / "annotations" / SEED_ID, project.annotations / SEED_ID)
    built = build(project, "0.1.0", progress=False)
    report = run_baseline(built.path)
    assert report["entities"]["status"] == report["claims"]["status"] == "not enough data"
    assert report["entities"]["reason"] == ("train has no sentences; test has no sentences "
                                            "(sentences per split: train 0, validation 25, test 0)")
    assert report["claims"]["reason"] == ("train needs rows of both labels (no: 0, yes: 0); test has no `yes` row "
                                          "(no: 0, yes: 0) (rows per split: train 0, validation 22, test 0)")
    assert (report["entities"]["crf"], report["claims"]["classifier"]) == (None, None)
    assert "Not trained: train has no sentences" in baseline_markdown(report)


def test_a_release_is_never_read_from_a_shared_cache(tmp_path, schemas, wojood):
    # reported by an adversarial review: load_dataset's default cache served the rows of an
    # earlier release of the same name, so a changed release got the old figures
    first = fake_release(tmp_path / "a" / "0.4.0", schemas, wojood, None)
    assert load_release_rows(first, "entities")[0]["test"][0]["ner_tags"] == wojood["test"][0]["ner_tags"]
    all_o = {"train": wojood["train"], "test": [r | {"ner_tags": ["O"] * len(r["tokens"])} for r in wojood["test"]]}
    second = fake_release(tmp_path / "b" / "0.4.0", schemas, all_o, None)
    rows, _ = load_release_rows(second, "entities")
    assert {t for r in rows["test"] for t in r["ner_tags"]} == {"O"}


def test_a_tampered_release_is_named_not_a_traceback(tmp_path, schemas, wojood):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rel = fake_release(tmp_path / "0.4.0", schemas, wojood, None)
    path = rel / "data" / "entities" / "test-00000-of-00001.parquet"
    table = pq.read_table(path)
    tags = table.column("ner_tags").to_pylist()
    tags[2][0] = 999
    table = table.set_column(table.schema.get_field_index("ner_tags"), table.schema.field("ner_tags"), pa.array(tags, table.schema.field("ner_tags").type))
    pq.write_table(table, path)
    with pytest.raises(InputError) as err:
        load_release_rows(rel, "entities")
    assert str(err.value) == f"{rel}: entities/test row 2 (id {wojood['test'][2]['id']}): ClassLabel id 999 out of range 0..42"
    assert err.value.hint == f"check the release with `khabar validate {rel}`"
    path.write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"config 'entities' does not load: "):
        load_release_rows(rel, "entities")


def test_cli_baseline_refuses_to_write_into_a_release(project):
    # reported by an adversarial review: --out releases/X/reports/baseline.json overwrote the shipped report
    rel = project.releases / "0.9.0"
    rel.mkdir(parents=True)
    res = CliRunner().invoke(app, ["baseline", str(rel), "--out", str(rel / "reports" / "baseline.json")])
    assert res.exit_code == 1 and not (rel / "reports").exists()
    assert f"error: --out {rel / 'reports' / 'baseline.json'}: inside {project.releases}; releases are immutable" in res.output

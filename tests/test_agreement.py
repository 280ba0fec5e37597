"""Inter-annotator agreement: three annotators on the real seed document, figures computed by hand
(the arithmetic is in the comments), stale and single-annotator documents, nothing to compare,
nervaluate and krippendorff cross-checks, the plots and the CLI."""

from __future__ import annotations

import json
import shutil
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from nervaluate import Evaluator
from typer.testing import CliRunner

from khabar.agreement.compare import agreement_markdown, annotator_files, corpus_agreement
from khabar.agreement.measures import SCHEMES, _entities, match_spans, nervaluate_counts
from khabar.agreement.nominal import alpha_from_rows, package_alpha
from khabar.agreement.plots import write_plots
from khabar.cli import app
from khabar.core.errors import InputError
from khabar.ingest.run import ingest
from khabar.core.jsonio import dumps_canonical

from conftest import ROOT, SEED_ID

PRESENCE, ATTACKS = "us-military-presence-iraq", "attacks-on-us-forces"

# The test corpus: three annotators on the seed document (spans taken from its gold annotation).
#   span        text                    a01        a02          a03
#   4-13        البنتاغون               ORG        GPE          ORG
#   15-30       لحكومة العراقية         ORG        ORG          ORG
#   22-30       العراقية                GPE        GPE          -
#   58-67       البنتاغون               ORG        ORG          ORG
#   176-193     وكالة مهر للأنباء       ORG        ORG          ORG
#   197-209     قناة الجزيرة            ORG        ORG          ORG
#   214-226     البيت الأبيض            ORG        ORG          ORG
#   276-282     العراق                  -          GPE          -
#   301-313     وزارة الدفاع            -          ORG          -
#   301-323     وزارة الدفاع الأمريكية  ORG        -            ORG
#   314-323     الأمريكية               -          -            GPE
# Claims (content span; cue; source; via; checkworthy; speech):
#   a01, a03: 88-161 (54-57, src 58-67, via [], no, indirect); 234-289 (227-231, src 214-226,
#             via [176-193, 197-209], no, mixed); 353-459 (295-300, src 301-323, via [], yes, mixed)
#   a02:      88-161 (same but checkworthy yes); 237-289 (227-231, src 214-226, via [197-209], no, mixed)
# Stances (holder span, target: label [evidence]):
#   a01: 58-67 presence FAVOR [88-161]; 58-67 attacks AGAINST [88-161]; 214-226 attacks AGAINST [234-289]
#   a02: 58-67 presence FAVOR [88-161]; 58-67 attacks FAVOR [88-161];   214-226 attacks AGAINST [237-289]
#   a03: 58-67 presence FAVOR [88-161]; 58-67 attacks AGAINST [];       301-323 attacks FAVOR [353-459]
ENTITIES = {
    "a01": [("e1", 4, 13, "ORG"), ("e2", 15, 30, "ORG"), ("e3", 22, 30, "GPE"), ("e4", 58, 67, "ORG"), ("e5", 176, 193, "ORG"),
            ("e6", 197, 209, "ORG"), ("e7", 214, 226, "ORG"), ("e8", 301, 323, "ORG")],
    # other ids, another order: ids never matter, spans do
    "a02": [("m9", 301, 313, "ORG"), ("m1", 4, 13, "GPE"), ("m2", 15, 30, "ORG"), ("m3", 22, 30, "GPE"), ("m4", 58, 67, "ORG"),
            ("m5", 176, 193, "ORG"), ("m6", 197, 209, "ORG"), ("m7", 214, 226, "ORG"), ("m8", 276, 282, "GPE")],
    "a03": [("A", 4, 13, "ORG"), ("B", 15, 30, "ORG"), ("D", 58, 67, "ORG"), ("E", 176, 193, "ORG"), ("F", 197, 209, "ORG"),
            ("G", 214, 226, "ORG"), ("H", 301, 323, "ORG"), ("I", 314, 323, "GPE")],
}
CLAIMS = {  # (id, content, cue, source, via, checkworthy, speech)
    "a01": [("c1", (88, 161), (54, 57), "e4", [], "no", "indirect"), ("c2", (234, 289), (227, 231), "e7", ["e5", "e6"], "no", "mixed"),
            ("c3", (353, 459), (295, 300), "e8", [], "yes", "mixed")],
    "a02": [("k1", (88, 161), (54, 57), "m4", [], "yes", "indirect"), ("k2", (237, 289), (227, 231), "m7", ["m6"], "no", "mixed")],
    "a03": [("c1", (88, 161), (54, 57), "D", [], "no", "indirect"), ("c2", (234, 289), (227, 231), "G", ["E", "F"], "no", "mixed"),
            ("c3", (353, 459), (295, 300), "H", [], "yes", "mixed")],
}
STANCES = {  # (id, holder, target, label, evidence)
    "a01": [("s1", "e4", PRESENCE, "FAVOR", ["c1"]), ("s2", "e4", ATTACKS, "AGAINST", ["c1"]), ("s3", "e7", ATTACKS, "AGAINST", ["c2"])],
    "a02": [("t1", "m4", PRESENCE, "FAVOR", ["k1"]), ("t2", "m4", ATTACKS, "FAVOR", ["k1"]), ("t3", "m7", ATTACKS, "AGAINST", ["k2"])],
    "a03": [("s1", "D", PRESENCE, "FAVOR", ["c1"]), ("s2", "D", ATTACKS, "AGAINST", []), ("s3", "H", ATTACKS, "FAVOR", ["c3"])],
}


def seed_doc(project) -> dict:
    return json.loads((project.corpus / f"{SEED_ID}.json").read_text(encoding="utf-8"))


def annotation(doc: dict, name: str, *, sha: str | None = None, guidelines: str | None = "1.0") -> dict:
    """Annotator ``name``'s file for ``doc`` (the seed document) from the tables above."""
    text = doc["text"]
    span = lambda s, e: {"start": s, "end": e, "text": text[s:e]}  # noqa: E731
    return {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": sha or doc["text_sha256"], "annotator": name,
            "guidelines_version": guidelines, "origin": {"kind": "manual", "tool": None, "version": None},
            "entities": [{"id": i, **span(s, e), "type": t} for i, s, e, t in ENTITIES[name]],
            "claims": [{"id": i, "content": span(*c), "cue": span(*u), "source": src, "via": via, "checkworthy": cw, "speech": sp}
                       for i, c, u, src, via, cw, sp in CLAIMS[name]],
            "stances": [{"id": i, "holder": h, "target": t, "label": lab, "evidence": ev} for i, h, t, lab, ev in STANCES[name]]}


def write_annotators(project, names=("a01", "a02", "a03"), **kw) -> Path:
    doc = seed_doc(project)
    folder = project.annotations / SEED_ID
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.json").write_text(dumps_canonical(annotation(doc, name, **kw)), encoding="utf-8")
    return folder


def add_tiny_document(project, text: str = "عاجل\nقال الوزير إن الأمر جاهز في بغداد. وأضاف أن الخطة تبدأ غدا.\n") -> dict:
    """Ingest a second, tiny document and return it."""
    (project.seeds / "tiny.txt").write_text(text, encoding="utf-8")
    report = ingest(project, progress=False)
    return json.loads((project.corpus / f"{report.created[0]}.json").read_text(encoding="utf-8"))


def tiny_annotation(doc: dict, name: str) -> dict:
    s = doc["text"].index("بغداد")
    return {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": name,
            "guidelines_version": "1.0", "origin": {"kind": "manual"},
            "entities": [{"id": "e1", "start": s, "end": s + 5, "text": "بغداد", "type": "GPE"}], "claims": [], "stances": []}


# ------------------------------------------------------------------------------------------ figures
def test_three_annotators_figures_by_hand(project) -> None:
    write_annotators(project)
    docs: list[dict] = []
    r = corpus_agreement(project, on_document=docs.append)
    assert r["documents"] == {"corpus": 1, "selected": 1, "annotated": 1, "compared": 1, "single_annotator": [], "gold_only": [], "all_stale": [],
                              "stale_files": [], "misnamed_files": []}
    assert r["annotators"] == ["a01", "a02", "a03"] and r["comparisons"] == 3 and "note" not in r
    # Entities; nervaluate ends are inclusive: a01 A(4,12) B(15,29) C(22,29) D E F G H(301,322).
    # a01 vs a02 (a01 = reference): A/GPE: same span, other type -> strict incorrect, exact correct;
    #   B C D E F G correct (6); H(301,322) vs 301-312: overlap -> strict/exact incorrect, partial;
    #   276-281 spurious. strict C6 I2 M0 S1; exact C7 I1 S1; partial C7 P1 S1.
    # a01 vs a03: A B D E F G H correct (7); C missed; 314-322 spurious (H already matched).
    # a02 vs a03: A strict incorrect / exact correct; B D E F G correct; C and 276-281 missed;
    #   301-312 vs H(301,322): strict/exact incorrect, partial; I spurious.
    #   strict C5 I2 M2 S1; exact C6 I1 M2 S1; partial C6 P1 M2 S1.
    # Pooled: strict C18 I4 M3 S3: F1 = 2*18 / (2*18 + 2*4 + 3 + 3) = 36/50 = 0.72
    #         exact  C20 I2 M3 S3: F1 = 40/50 = 0.8
    #         partial C20 P2 M3 S3: F1 = 2*(20 + 0.5*2) / (actual 25 + possible 25) = 42/50 = 0.84
    ov = r["entities"]["overall"]
    assert ov["strict"] == {"f1": 0.72, "correct": 18, "incorrect": 4, "partial": 0, "missed": 3, "spurious": 3}
    assert ov["exact"] == {"f1": 0.8, "correct": 20, "incorrect": 2, "partial": 0, "missed": 3, "spurious": 3}
    assert ov["partial"] == {"f1": 0.84, "correct": 20, "incorrect": 0, "partial": 2, "missed": 3, "spurious": 3}
    # Per type. ORG: 01-02 A missed, 5 correct, H exact-incorrect/partial; 01-03 7 correct; 02-03 A
    # spurious, 5 correct, H incorrect/partial. exact C17 I2 M1 S1: 34/40 = 0.85;
    # partial C17 P2 M1 S1: 2*(17+1)/40 = 0.9.
    # GPE: 01-02 C correct, A and 276 spurious; 01-03 C missed, I spurious; 02-03 A C 276 missed, I
    # spurious. C1 M4 S4: 2/10 = 0.2 (no two GPE spans overlap, so partial is the same).
    pt = r["entities"]["per_type"]
    assert list(pt) == ["ORG", "GPE"]  # schema order, types that occur
    assert pt["ORG"]["exact"] == {"f1": 0.85, "correct": 17, "incorrect": 2, "partial": 0, "missed": 1, "spurious": 1}
    assert pt["ORG"]["partial"] == {"f1": 0.9, "correct": 17, "incorrect": 0, "partial": 2, "missed": 1, "spurious": 1}
    assert pt["GPE"]["exact"]["f1"] == pt["GPE"]["partial"]["f1"] == 0.2
    # Confusion, same span, rows = first of the pair: ORG/ORG 5 + 7 + 5 = 17; A: ORG->GPE (01-02), GPE->ORG (02-03); C: GPE/GPE
    assert r["entities"]["confusion"]["labels"] == ["ORG", "GPE"]
    assert r["entities"]["confusion"]["matrix"] == [[17, 1], [1, 1]]
    # Claims: 01-02 88-161 identical, 234-289 ~ 237-289 overlap: exact 1, matched 2 of 3 + 2 claims;
    # 01-03 3 identical of 3 + 3; 02-03 as 01-02. Pooled: claims 5 + 6 + 5 = 16,
    # exact 1 + 3 + 1 = 5 -> 10/16 = 0.625; matched 2 + 3 + 2 = 7 -> 14/16 = 0.875.
    c = r["claims"]
    assert (c["claims"], c["exact_matches"], c["matches"]) == (16, 5, 7)
    assert c["exact"] == {"f1": 0.625} and c["partial"] == {"f1": 0.875}
    # 7 matched pairs: the same source span in all 7; via differs for 234-289 vs 237-289 (twice): 5/7.
    assert c["source"] == {"units": 7, "agreement": 1.0} and c["cue"] == {"units": 7, "agreement": 1.0}
    assert c["via"] == {"units": 7, "agreement": 0.7143}
    # checkworthy units: (no,yes) x2 [88-161 of a02], (no,no) x4, (yes,yes) x1 -> agreement 5/7.
    # Coincidences o[no][no] = 8, o[no][yes] = o[yes][no] = 2, o[yes][yes] = 2; n_no = 10, n_yes = 4,
    # n = 14; alpha = 1 - (n-1) * D_o / sum_{c!=k} n_c n_k = 1 - 13*4 / (2*10*4) = 1 - 52/80 = 0.35
    assert c["checkworthy"] == {"units": 7, "agreement": 0.7143, "alpha": 0.35}
    # speech: indirect/indirect x3, mixed/mixed x4: every pair agrees; n_ind = 6, n_mixed = 8:
    # alpha = 1 - 13*0 / (2*6*8) = 1.0
    assert c["speech"] == {"units": 7, "agreement": 1.0, "alpha": 1.0}
    # Stances: units (58-67, presence) FAVOR x3; (58-67, attacks) AGAINST, FAVOR, AGAINST;
    # (214-226, attacks) AGAINST x2; (301-323, attacks) a03 only -> 4 units, 3 paired, 1 unpaired.
    # o[F][F] = 3*2/2 = 3; second unit: o[F][A] = o[A][F] = 1*2/2 = 1, o[A][A] = 2*1/2 = 1; third:
    # o[A][A] += 2*1/1 = 2. n_F = 4, n_A = 4, n = 8; alpha = 1 - 7*2 / (2*4*4) = 1 - 14/32 = 0.5625.
    # Agreement: agreeing ordered pairs / pairs = (6 + 2 + 2) / (6 + 6 + 2) = 10/14 = 0.7143.
    assert r["stances"] == {"units": 4, "paired": 3, "unpaired": 1, "ambiguous": 0, "agreement": 0.7143, "alpha": 0.5625}
    # the package gives the same alpha on the same units (rows = units, columns FAVOR, AGAINST, NONE)
    assert round(krippendorff.alpha(value_counts=[[3, 0, 0], [1, 2, 0], [0, 2, 0]], level_of_measurement="nominal"), 4) == 0.5625
    # Per pair (pooled over its documents; here one): strict 01-02 = 12/(12+4+1) = 12/17 = 0.7059,
    # 01-03 = 14/16 = 0.875, 02-03 = 10/(10+4+2+1) = 10/17 = 0.5882.
    assert {k: v["entities"]["strict"] for k, v in r["pairs"].items()} == {"a01|a02": 0.7059, "a01|a03": 0.875, "a02|a03": 0.5882}
    assert r["pairs"]["a01|a02"]["claims"] == {"exact": 0.4, "partial": 0.8} and r["pairs"]["a01|a02"]["documents"] == 1
    # The document: mean over its 3 pairs. strict (12/17 + 14/16 + 10/17)/3 = 0.7230;
    # exact (14/17 + 14/16 + 12/17)/3 = 0.8015; partial (15/17 + 14/16 + 13/17)/3 = 0.8407;
    # claims exact (0.4 + 1 + 0.4)/3 = 0.6, partial (0.8 + 1 + 0.8)/3 = 0.8667.
    [d] = docs
    assert d["doc_id"] == SEED_ID and d["annotators"] == ["a01", "a02", "a03"] and d["pairs"] == 3
    assert {s: d["entities"][s]["f1"] for s in SCHEMES} == {"strict": 0.723, "exact": 0.8015, "partial": 0.8407}
    assert (d["claims"]["exact"]["f1"], d["claims"]["partial"]["f1"]) == (0.6, 0.8667)
    assert d["claims"]["checkworthy"]["alpha"] == 0.35 and d["stances"]["alpha"] == 0.5625  # by the krippendorff package
    dumps_canonical(r), dumps_canonical(d)  # strict JSON: would raise on NaN
    assert "| Stances | label, Krippendorff's alpha (nominal) | 0.562 |" in agreement_markdown(r)


def test_stale_file_and_single_annotator_are_named(project) -> None:
    write_annotators(project, ("a01", "a02"))
    write_annotators(project, ("a03",), sha="0" * 64)  # made on another text
    tiny = add_tiny_document(project)
    (project.annotations / tiny["id"]).mkdir()
    (project.annotations / tiny["id"] / "a01.json").write_text(json.dumps(tiny_annotation(tiny, "a01")), encoding="utf-8")
    r = corpus_agreement(project)
    d = r["documents"]
    assert (d["corpus"], d["annotated"], d["compared"]) == (2, 2, 1)
    assert d["single_annotator"] == [{"doc_id": tiny["id"], "annotator": "a01"}]
    [stale] = d["stale_files"]
    assert stale["file"] == f"annotations/{SEED_ID}/a03.json" and stale["doc_id"] == SEED_ID
    assert stale["reason"].startswith(f"annotations/{SEED_ID}/a03.json: stale annotation of document {SEED_ID}: made on text 000000000000")
    assert r["annotators"] == ["a01", "a02"] and r["comparisons"] == 1
    # a01 vs a02 alone: strict 12/17 (see above)
    assert r["entities"]["overall"]["strict"]["f1"] == 0.7059


def test_nothing_to_compare_is_said_plainly(project, tmp_path) -> None:
    tiny = add_tiny_document(project)
    (project.annotations / tiny["id"]).mkdir()
    (project.annotations / tiny["id"] / "a01.json").write_text(json.dumps(tiny_annotation(tiny, "a01")), encoding="utf-8")
    r = corpus_agreement(project)
    assert r["note"] == ("no document has two or more usable annotator files, so there is nothing to compare "
                         "(1 document(s) with annotator files, 1 with one annotator, 0 stale file(s))")
    assert r["entities"]["overall"]["strict"] == {"f1": None, "correct": 0, "incorrect": 0, "partial": 0, "missed": 0, "spurious": 0,
                                                  "reason": "no entities in either annotation"}
    assert r["claims"]["exact"] == {"f1": None, "reason": "no claims in either annotation"}
    assert r["claims"]["checkworthy"] == {"units": 0, "agreement": None, "alpha": None,
                                          "alpha_reason": "no unit has values from two or more annotators"}
    assert r["stances"]["alpha"] is None and r["pairs"] == {} and r["entities"]["per_type"] == {}
    text = dumps_canonical(r)  # allow_nan=False
    assert "NaN" not in text and "Infinity" not in text
    assert agreement_markdown(r).startswith("## Inter-annotator agreement\n\nNo agreement figures: no document has two or more")
    # the seed document has a gold.json and no annotator files: named as such
    from conftest import ROOT, SEED_ID
    (project.annotations / SEED_ID).mkdir()
    shutil.copy(ROOT / "annotations" / SEED_ID / "gold.json", project.annotations / SEED_ID / "gold.json")
    r = corpus_agreement(project)
    assert r["documents"]["gold_only"] == [SEED_ID]
    assert r["note"].endswith("; 1 document(s) with a gold annotation and no annotator files to compare: kb-1415eb2e8d27dc16)")
    assert [p.name for p in write_plots(r, tmp_path / "plots")] == ["agreement-entity-f1.png", "agreement-entity-confusion.png"]


def test_alpha_without_variation_is_null_with_reason() -> None:
    rows = Counter({(2, 0): 3})  # every pairable value is "no"
    assert alpha_from_rows(rows, ("no", "yes")) == (None, "every pairable value is no: no variation, so alpha is undefined (0/0)")
    assert package_alpha(rows, ("no", "yes"))[0] is None


def test_pooled_alpha_equals_the_krippendorff_package() -> None:
    rng = random.Random(7)
    for _ in range(30):
        rows = Counter(tuple(rng.randint(0, 3) for _ in range(3)) for _ in range(rng.randint(2, 40)))
        ours, why = alpha_from_rows(rows, ("FAVOR", "AGAINST", "NONE"))
        units = np.array([r for r, n in rows.items() for _ in range(n)])
        if why is None:
            assert ours == pytest.approx(krippendorff.alpha(value_counts=units, level_of_measurement="nominal"), abs=1e-12)


def test_grouped_counts_equal_one_nervaluate_call(schemas) -> None:
    # real gold entities against a perturbed copy: the per-overlap-group counts are nervaluate's own
    gold = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    rng = random.Random(3)
    other = []
    for e in gold["entities"]:
        x = rng.random()
        if x < 0.1:
            continue
        e = dict(e)
        if x < 0.25:
            e["end"] = max(e["start"] + 1, e["end"] - rng.randint(1, 4))
        elif x < 0.35:
            e["type"] = rng.choice(["ORG", "GPE", "PERS"])
        other.append(e)
    a, b = _entities(gold), _entities({"entities": other})
    whole = Evaluator([[{"label": e.label, "start": e.start, "end": e.end} for e in a]],
                      [[{"label": e.label, "start": e.start, "end": e.end} for e in b]],
                      tags=schemas.vocab("EntityType"), loader="dict").evaluate()
    ours = nervaluate_counts(a, b)
    for scheme in SCHEMES:
        r = whole["overall"][scheme]
        assert ours[scheme] == [r.correct, r.incorrect, r.partial, r.missed, r.spurious], scheme
        assert r.correct > 80 and r.missed + r.spurious + r.incorrect + r.partial > 10  # both kinds of group occur
    for t in ("ORG", "GPE"):  # per type: nervaluate filters both sides to the type, as we do
        ta, tb = [e for e in a if e.label == t], [e for e in b if e.label == t]
        mine = nervaluate_counts(ta, tb, ("exact", "partial"))
        for scheme in ("exact", "partial"):
            r = whole["entities"][t][scheme]
            assert mine[scheme] == [r.correct, r.incorrect, r.partial, r.missed, r.spurious], (t, scheme)


def test_touching_spans_never_overlap() -> None:
    # [0, 5) and [5, 9) share no code point: nervaluate sees (0, 4) and (5, 8)
    a = _entities({"entities": [{"start": 0, "end": 5, "type": "ORG"}]})
    b = _entities({"entities": [{"start": 5, "end": 9, "type": "ORG"}]})
    assert nervaluate_counts(a, b)["partial"] == [0, 0, 0, 1, 1]
    assert match_spans([(0, 5)], [(5, 9)]) == []
    # one-to-one, identical first, then the largest overlap: (10, 20) takes (12, 20) (8) over (5, 11) (1)
    assert match_spans([(0, 4), (10, 20)], [(0, 4), (5, 11), (12, 20)]) == [(0, 0, True), (1, 2, False)]


def test_annotator_files_leave_out_what_is_not_an_annotator(tmp_path) -> None:
    for name in ("a01.json", "gold.json", "preannotator.json", "conflicts.json", "a01.draft.json", ".x.json", "notes.txt", "B1.json"):
        (tmp_path / name).write_text("{}")
    assert list(annotator_files(tmp_path)) == ["a01"]


def test_annotator_named_otherwise_than_its_file_is_refused(project) -> None:
    folder = write_annotators(project, ("a01", "a02"))
    (folder / "a02.json").rename(folder / "a09.json")
    with pytest.raises(InputError, match=r"a09\.json: annotator 'a02', but the file is named a09\.json"):
        corpus_agreement(project)


def test_unknown_document_is_refused(project) -> None:
    with pytest.raises(InputError, match="kb-0000000000000000: no such document in"):
        corpus_agreement(project, ["kb-0000000000000000"])


# ------------------------------------------------------------------------------------------ CLI
def test_help() -> None:
    runner = CliRunner()
    assert "agreement" in runner.invoke(app, ["--help"]).output
    res = runner.invoke(app, ["agreement", "--help"])
    assert res.exit_code == 0 and "--out DIR" in res.output and "Krippendorff" in res.output


@pytest.mark.slow
def test_cli_writes_report_and_identical_plots(project, tmp_path) -> None:
    write_annotators(project)
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        res = subprocess.run([sys.executable, "-m", "khabar.cli", "agreement", "--root", str(project.root), "--out", str(out), "-q"],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        outs.append(out)
    lines = res.stdout.splitlines()
    assert lines[0] == ("agreement over 1 document(s) with two or more annotators (a01, a02, a03; 3 document x pair comparisons); "
                        "figures pool the counts of every document and pair")
    assert any(line.split() == ["Entities", "F1,", "same", "span", "and", "type", "(nervaluate", "strict)", "0.720"] for line in lines)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == ["agreement-documents.jsonl", "agreement-entity-confusion.png", "agreement-entity-f1.png", "agreement.json", "agreement.md"]
    for name in names:  # byte-identical: no timestamp, no version in the PNGs
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    png = (outs[0] / "agreement-entity-f1.png").read_bytes()
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png
    assert json.loads((outs[0] / "agreement.json").read_text())["stances"]["alpha"] == 0.5625
    [line] = (outs[0] / "agreement-documents.jsonl").read_text().splitlines()
    assert json.loads(line)["entities"]["strict"] == {"f1": 0.723, "pairs": 3}


def test_every_file_stale_and_invalid_file(project) -> None:
    folder = write_annotators(project, sha="0" * 64)
    r = corpus_agreement(project)
    assert r["documents"]["all_stale"] == [SEED_ID] and len(r["documents"]["stale_files"]) == 3 and r["documents"]["compared"] == 0
    doc = seed_doc(project)
    bad = annotation(doc, "a01")
    bad["entities"][0]["type"] = "PERSON"
    (folder / "a01.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputError, match=r"a01\.json: entities\[0\]\.type \(id e1\): label-unknown: 'PERSON' is not one of"):
        corpus_agreement(project)


def test_cli_error_is_one_line_with_hint(project) -> None:
    res = CliRunner().invoke(app, ["agreement", "--root", str(project.root), "-q", "kb-0000000000000000"])
    assert res.exit_code == 1
    assert res.output.splitlines()[0].startswith("error: kb-0000000000000000: no such document in")
    assert res.output.splitlines()[1] == "hint: document ids are the file names in corpus/ (kb-<16 hex digits>)"

"""The reports a build adds to a staged release beyond its data: inter-annotator agreement
(:mod:`khabar.agreement.compare`) and the baselines (:mod:`khabar.baseline.run`), each as JSON under
``reports/`` and as a section of the dataset card.

* ``reports/agreement.json`` — :func:`khabar.agreement.compare.corpus_agreement` over the project's
  annotator files; with at least one document compared, also the PNG plots
  ``reports/agreement-entity-f1.png`` and ``reports/agreement-entity-confusion.png``.
* ``reports/pretrained.json`` — the trained pre-annotator (:mod:`khabar.baseline.trainer`, what
  ``khabar train`` makes) trained on the ``train`` gold and scored on the ``test`` gold next to the
  gazetteer pre-annotator; when it cannot be trained (no gold in ``train``), the reason.
* ``reports/baseline.json`` — the CRF tagger and claim-sentence classifier trained on the
  release's ``train`` rows and scored on its ``test`` rows, plus the reference run on the Wojood
  sample (:mod:`khabar.baseline.reference`). At most :data:`TRAIN_ROWS` train and
  :data:`TEST_ROWS` test rows are used (the first in document-id order), so the cost of a build
  does not grow without bound with the corpus; the report says when rows were left out.

Everything here is deterministic (same inputs, same bytes), so a release rebuilds byte for byte.

Public API: :func:`write_reports`, :data:`TRAIN_ROWS`, :data:`TEST_ROWS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from khabar.agreement.compare import agreement_markdown, corpus_agreement
from khabar.agreement.plots import CONFUSION_PLOT, F1_PLOT, write_plots
from khabar.baseline.run import baseline_markdown, baseline_report, rows_from_files
from khabar.baseline.reference import reference_baseline
from khabar.core.jsonio import dumps_canonical
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.baseline.modelcard import figures_markdown
from khabar.baseline.trainer import train_rows
from khabar.release.distribution import Distribution, distribution_markdown, write_distribution_plots
from khabar.core.errors import InputError
from khabar.dataset.layout import AGREEMENT, BASELINE, MODEL_REPORT, REPORTS

__all__ = ["write_reports", "TRAIN_ROWS", "TEST_ROWS"]

TRAIN_ROWS = 2_000
TEST_ROWS = 1_000


def _rows(staging: Path, config: str, has_rows: bool) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """``({split: rows}, {split: rows left out})`` of ``config``, train and test capped."""
    if not has_rows:
        return {}, {}
    rows, left = rows_from_files(staging, config, limits={"train": TRAIN_ROWS, "test": TEST_ROWS, "validation": 0})
    rows.pop("validation", None)  # not used: counted from the release instead
    return rows, {s: n for s, n in left.items() if s != "validation"}


def write_reports(project: Project, schemas: Schemas, staging: Path, version: str, rows: dict[str, dict[str, int]],
                  dist: Distribution, progress: bool = False) -> tuple[list[str], dict[str, Any]]:
    """Write the agreement and baseline reports and the pictures into ``staging/reports``.

    Args:
        rows: ``{config: {split: number of rows}}`` of the staged release.
        dist: what the pictures show, counted by the build as it wrote the rows (nothing here
            reads every ``documents`` row back: memory does not grow with the release).

    Returns:
        ``(card sections, facts)``: the Markdown sections for the card, in order, and a few
        figures for the card's other texts (``agreement_compared``, ``agreement_note``).
    """
    reports = staging / REPORTS
    agreement = corpus_agreement(project, progress=progress)
    (reports / AGREEMENT).write_text(dumps_canonical(agreement), encoding="utf-8")
    section = agreement_markdown(agreement)
    compared = agreement["documents"]["compared"]
    if compared:
        write_plots(agreement, reports)
        section = section.rstrip("\n") + (f"\n\n![Entity F1 per type](reports/{F1_PLOT})\n\n"
                                          f"![Entity-type confusion](reports/{CONFUSION_PLOT})\n")
    ent_rows, ent_left = _rows(staging, "entities", bool(rows.get("entities")))
    claim_rows, claim_left = _rows(staging, "claims", bool(rows.get("claims")))
    report = baseline_report(ent_rows, claim_rows, schemas.vocab("EntityType"), version, progress,
                             reference_baseline(schemas, progress), counts={c: rows.get(c, {}) for c in ("entities", "claims")})
    report["rows_left_out"] = {"entities": ent_left, "claims": claim_left, "limits": {"train": TRAIN_ROWS, "test": TEST_ROWS}}
    (reports / BASELINE).write_text(dumps_canonical(report), encoding="utf-8")
    base = baseline_markdown(report)
    left = {c: n for c, n in (("entities", ent_left), ("claims", claim_left)) if any(n.values())}
    if left:
        base = base.rstrip("\n") + "\n\n" + " ".join(
            f"`{c}`: trained on the first {TRAIN_ROWS:,} train rows and scored on the first {TEST_ROWS:,} test rows in "
            f"document-id order ({', '.join(f'{n:,} {s} rows left out' for s, n in sorted(v.items()) if n)})." for c, v in left.items()) + "\n"
    write_distribution_plots(dist, staging, schemas.vocab("EntityType"), schemas.vocab("StanceLabel"))
    return ([section, base, _model_section(staging, schemas, version, bool(rows.get("documents"))), distribution_markdown()],
            {"agreement_compared": compared, "agreement_note": agreement.get("note")})


def _model_section(staging: Path, schemas: Schemas, version: str, has_rows: bool) -> str:
    """Train the pre-annotator on the staged release (the first :data:`MODEL_TRAIN_DOCS` ``train``
    and :data:`MODEL_TEST_DOCS` ``test`` documents, read from the shards, which are in id order),
    write ``reports/pretrained.json``, return its card section."""
    head = ("## Trained pre-annotator\n\n`khabar train releases/" + version + " --out models/<name>` trains a CRF entity tagger and claim "
            "tagger on this release's `train` gold and scores them on `test`, next to the gazetteer pre-annotator "
            "(`khabar preannotate`); `khabar preannotate --model models/<name>` reproduces the model's predictions.\n\n")
    docs, left = _bounded(staging, has_rows)
    try:
        _, report = train_rows(docs, schemas.vocab("EntityType"), version)
    except InputError as err:
        report = {"status": "not trained", "reason": str(err).splitlines()[0]}
        (staging / REPORTS / MODEL_REPORT).write_text(dumps_canonical(report), encoding="utf-8")
        return head + f"Not trained: {report['reason']}.\n"
    if any(left.values()):  # only on a release larger than the limits: smaller ones keep their bytes
        report["documents_left_out"] = {**left, "limits": {"train": MODEL_TRAIN_DOCS, "test": MODEL_TEST_DOCS,
                                                           "train_sentences": MODEL_TRAIN_SENTENCES, "test_sentences": MODEL_TEST_SENTENCES}}
    (staging / REPORTS / MODEL_REPORT).write_text(dumps_canonical({"status": "trained", **report}), encoding="utf-8")
    note = (f"\nTrained on the first {len(docs.get('train', [])):,} `train` documents and scored on the first "
            f"{len(docs.get('test', [])):,} `test` documents in id order (at most {MODEL_TRAIN_DOCS:,} and {MODEL_TEST_DOCS:,} documents, "
            f"{MODEL_TRAIN_SENTENCES:,} and {MODEL_TEST_SENTENCES:,} sentences; {', '.join(f'{n:,} {s} documents left out' for s, n in sorted(left.items()) if n)}); "
            "`khabar train` uses them all.\n") if any(left.values()) else ""
    return head + figures_markdown(report) + note


#: documents the build's trained pre-annotator report learns from and is scored on (``khabar
#: train`` has no limit): the CRFs' memory and time grow with the documents (issue 15: 10 GiB and
#: more than 20 min at 8,000 train documents; still over 7 min at 1,000 on 2 cores). A document
#: is taken while the sentences taken stay within :data:`MODEL_TRAIN_SENTENCES` /
#: :data:`MODEL_TEST_SENTENCES` (the first document always is), so long documents cost no more.
MODEL_TRAIN_DOCS = 200
MODEL_TEST_DOCS = 100
MODEL_TRAIN_SENTENCES = 2_000
MODEL_TEST_SENTENCES = 1_000


def _bounded(staging: Path, has_rows: bool) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """The first ``train`` and ``test`` rows of the staged ``documents`` shards (in document-id
    order), at most :data:`MODEL_TRAIN_DOCS` / :data:`MODEL_TEST_DOCS` documents and
    :data:`MODEL_TRAIN_SENTENCES` / :data:`MODEL_TEST_SENTENCES` sentences, and how many rows of
    each were left out."""
    if not has_rows:
        return {}, {"train": 0, "test": 0}
    docs, left = rows_from_files(staging, "documents", limits={"train": MODEL_TRAIN_DOCS, "test": MODEL_TEST_DOCS, "validation": 0})
    out: dict[str, list[dict[str, Any]]] = {}
    for split, cap in (("train", MODEL_TRAIN_SENTENCES), ("test", MODEL_TEST_SENTENCES)):
        if split not in docs:
            continue
        taken, sentences = [], 0
        for doc in docs[split]:
            sentences += len(doc["sentences"])
            if taken and sentences > cap:
                break
            taken.append(doc)
        out[split] = taken
        left[split] = left.get(split, 0) + len(docs[split]) - len(taken)
    return out, {s: left.get(s, 0) for s in ("train", "test")}

"""The reference run of the entity baseline: the same CRF trained and scored on the Wojood sample
shipped with the toolkit (``khabar/baseline/reference/wojood_sample_val.txt``: SinaLab/ArabicNER
``data/val.txt``, MIT; see ``khabar/baseline/reference/README.md``).

It gives every dataset card baseline figures on real Arabic NER data even while a release's
own ``train``/``test`` splits are too small to train on, and shows what the CRF reaches on
Wojood's own annotation. It is labelled as such in the card: not this release's data.

Split: the sample's 56 paragraphs with sentences (``$#$`` ends one) in file order; paragraph
``i`` (0-based) is test when ``i % 5 == 4``, train otherwise (45 train paragraphs, 123
sentences; 11 test paragraphs, 36 sentences). Rows are
sentences; ``ner_tags`` is each token's first (outermost) Wojood tag, as in ``ner_tags`` of the
``entities`` config.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from khabar.baseline.models import evaluate_tagger, majority_tag, score_tags, train_tagger
from khabar.formats.conll.reader import import_classes, read_conll
from khabar.core.schema import Schemas

__all__ = ["reference_rows", "reference_baseline", "REFERENCE_NAME", "REFERENCE_SOURCE"]

REFERENCE_NAME = "wojood_sample_val.txt"
REFERENCE_SOURCE = ("the Wojood sample shipped with the toolkit (SinaLab/ArabicNER `data/val.txt` at ef3a7f4e, MIT; "
                    "Jarrar et al., LREC 2022)")


def reference_rows(schemas: Schemas) -> dict[str, list[dict[str, Any]]]:
    """``{"train": rows, "test": rows}`` of the Wojood sample: one row per sentence with ``id``
    (``w<paragraph>-<sentence>``), ``doc_id`` (``w<paragraph>``), ``tokens`` and ``ner_tags``
    (outermost tag per token)."""
    data = (files("khabar.baseline") / "reference" / REFERENCE_NAME).read_bytes()
    parsed = read_conll(data, REFERENCE_NAME, "wojood", import_classes("wojood", schemas))
    paras = [p for p in parsed.paragraphs if p.sentences]
    out: dict[str, list[dict[str, Any]]] = {"train": [], "test": []}
    for i, para in enumerate(paras):
        split = "test" if i % 5 == 4 else "train"
        for j, sent in enumerate(para.sentences):
            out[split].append({"id": f"w{i}-{j}", "doc_id": f"w{i}", "tokens": [t.text for t in sent],
                               "ner_tags": [t.tags[0] for t in sent]})
    return out


def reference_baseline(schemas: Schemas, progress: bool = False) -> dict[str, Any]:
    """Train the CRF (:func:`khabar.baseline.models.train_tagger`) on the sample's train
    paragraphs and score it, and the majority class, on its test paragraphs (nervaluate).

    Returns:
        ``{"data", "split", "paragraphs", "sentences", "crf", "majority"}``; figures as
        :func:`khabar.baseline.models.score_tags`, over the schema's EntityType list.
    """
    rows = reference_rows(schemas)
    types = schemas.vocab("EntityType")
    model = train_tagger(rows["train"], progress)
    tag = majority_tag(rows["train"])
    test = rows["test"]
    return {"data": REFERENCE_SOURCE, "split": "paragraph i is test when i % 5 == 4 (0-based, file order), train otherwise",
            "paragraphs": {s: len({r["doc_id"] for r in rs}) for s, rs in rows.items()},
            "sentences": {s: len(rs) for s, rs in rows.items()},
            "crf": evaluate_tagger(model, test, types, progress),
            "majority": {"tag": tag, **score_tags(test, [[tag] * len(r["tokens"]) for r in test], types)}}

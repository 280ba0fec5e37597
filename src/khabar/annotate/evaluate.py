"""Quality of the pre-annotator against gold: precision, recall and F1 with ``nervaluate``
(Segura-Bedmar et al.'s SemEval-2013 9.1 schema: strict, exact, partial, ent_type), for
entities per Wojood type and for claims (content spans, label ``CLAIM``).

Spans are character offsets; nervaluate compares inclusive ends, so ``[start, end)`` becomes
``(start, end - 1)`` and two spans that only touch never count as overlapping.
"""

from __future__ import annotations

from typing import Any, Iterable

from nervaluate import Evaluator

__all__ = ["evaluate_pairs", "SCHEMES"]

SCHEMES = ("strict", "exact", "partial", "ent_type")


def _spans(items: Iterable[dict[str, Any]], label: str | None = None) -> list[dict[str, Any]]:
    out = []
    for it in items:
        span = it.get("content", it)
        out.append({"label": label or it["type"], "start": span["start"], "end": span["end"] - 1})
    return out


def _result(r: Any) -> dict[str, Any]:
    return {"precision": round(r.precision, 4), "recall": round(r.recall, 4), "f1": round(float(r.f1), 4),
            "correct": r.correct, "incorrect": r.incorrect, "partial": r.partial, "missed": r.missed,
            "spurious": r.spurious, "gold": r.possible, "predicted": r.actual}


def evaluate_pairs(pairs: list[tuple[dict[str, Any], dict[str, Any]]], entity_types: list[str]) -> dict[str, Any]:
    """Figures for ``[(prediction, gold)]`` annotation pairs of the same documents.

    Returns:
        ``{"documents": n, "entities": {"overall": {scheme: figures}, "per_type": {type: {scheme:
        figures}}}, "claims": {scheme: figures}}`` where figures are precision, recall, f1 and the
        counts behind them. With no pairs, every count is 0 and every score 0.0 (never NaN).
    """
    true_e = [_spans(g["entities"]) for _, g in pairs]
    pred_e = [_spans(p["entities"]) for p, _ in pairs]
    true_c = [_spans(g["claims"], "CLAIM") for _, g in pairs]
    pred_c = [_spans(p["claims"], "CLAIM") for p, _ in pairs]
    out: dict[str, Any] = {"documents": len(pairs)}
    if not pairs:
        empty = {s: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "correct": 0, "incorrect": 0, "partial": 0,
                     "missed": 0, "spurious": 0, "gold": 0, "predicted": 0} for s in SCHEMES}
        return {**out, "entities": {"overall": empty, "per_type": {}}, "claims": empty}
    ent = Evaluator(true_e, pred_e, tags=entity_types, loader="dict").evaluate()
    present = sorted({s["label"] for doc in true_e + pred_e for s in doc}, key=entity_types.index)
    out["entities"] = {"overall": {s: _result(ent["overall"][s]) for s in SCHEMES},
                       "per_type": {t: {s: _result(ent["entities"][t][s]) for s in SCHEMES} for t in present}}
    cl = Evaluator(true_c, pred_c, tags=["CLAIM"], loader="dict").evaluate()
    out["claims"] = {s: _result(cl["overall"][s]) for s in SCHEMES}
    return out

"""Quality of the pre-annotator against gold: precision, recall and F1 with ``nervaluate``
(Segura-Bedmar et al.'s SemEval-2013 9.1 schema: strict, exact, partial, ent_type), for
entities per Wojood type and for claims (content spans, label ``CLAIM``).

Spans are character offsets; nervaluate compares inclusive ends, so ``[start, end)`` becomes
``(start, end - 1)`` and two spans that only touch never count as overlapping.

:func:`preannotator_report` scores the project's ``annotations/<doc_id>/preannotator.json`` files
against the documents' gold (what a build puts in ``reports/preannotator.json``); a pre-annotation
that is malformed or stale is not scored and is named in a warning, never an error: the
pre-annotator's proposals are optional and never part of a release's data.

Public API: :func:`evaluate_pairs`, :func:`preannotator_report`, :data:`SCHEMES`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Iterable

from nervaluate import Evaluator

from khabar.annotate.files import load_checked_annotation
from khabar.annotate.preannotate import TOOL, VERSION
from khabar.core.checks import check_row
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.ids import is_doc_id
from khabar.core.jsonio import load_json
from khabar.core.project import Project
from khabar.core.schema import Schemas

__all__ = ["evaluate_pairs", "preannotator_report", "source_accuracy", "score_annotator", "score_against_gold", "SCHEMES"]

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


def source_accuracy(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Claim source accuracy of ``[(prediction, gold)]`` annotation pairs.

    A gold claim's source is right when a predicted claim's content overlaps the gold content (the
    first such claim in text order) and the predicted source entity has the gold source's span
    ``[start, end)`` (types are not compared: that is the entity score's job), or both have none
    (an unnamed source). The denominator is every gold claim, so a missed claim counts as wrong.

    Returns:
        ``{"accuracy": float (0.0 with no gold claim), "correct": int, "gold": int,
        "with_source": int (gold claims naming a source), "correct_with_source": int}``.
    """
    ok = named = ok_named = total = 0
    for pred, gold in pairs:
        p_ents = {e["id"]: (e["start"], e["end"]) for e in pred.get("entities", [])}
        g_ents = {e["id"]: (e["start"], e["end"]) for e in gold.get("entities", [])}
        for c in gold.get("claims", []):
            total += 1
            named += c.get("source") is not None
            gs, ge = c["content"]["start"], c["content"]["end"]
            match = next((q for q in pred.get("claims", []) if q["content"]["start"] < ge and gs < q["content"]["end"]), None)
            if match is None:
                continue
            right = g_ents.get(c.get("source")) == p_ents.get(match.get("source"))
            ok += right
            ok_named += right and c.get("source") is not None
    return {"accuracy": round(ok / total, 4) if total else 0.0, "correct": ok, "gold": total,
            "with_source": named, "correct_with_source": ok_named}


def _spans_only(ann: dict[str, Any]) -> dict[str, Any]:
    """What :func:`evaluate_pairs` reads of an annotation: entity spans and types, claim content spans."""
    return {"entities": [{k: e[k] for k in ("start", "end", "type")} for e in ann.get("entities", [])],
            "claims": [{"content": {k: c["content"][k] for k in ("start", "end")}} for c in ann.get("claims", [])]}


def _why_not_scored(pred: Any, doc: dict[str, Any], schemas: Schemas) -> str | None:
    """Why the pre-annotation ``pred`` of ``doc`` cannot be scored (one line), or None."""
    if isinstance(pred, dict) and pred.get("text_sha256") != doc["text_sha256"]:
        return "stale (made on another text of the document)"
    bad = [f"{p.path[2:] or '$'}: {p.message[:200]}" for p in schemas.problems("annotation", pred)]
    if not bad:
        bad = [f"{f[2:]}: {c}: {m}" for c, f, m in check_row(pred, text=doc["text"])]
    if bad:
        return f"not a valid pre-annotation ({bad[0]}{'; …' if len(bad) > 1 else ''})"
    return None


def _not_a_regular_file(path: Path) -> str | None:
    """What ``path`` is when it is there but is not a regular file (``a folder``, ``a link that
    points nowhere``, ``a FIFO``…), or None (a regular file, or a link to one, or nothing there).
    Decided with ``os.stat`` alone: a FIFO is never opened (opening one would wait for a writer)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "a link that points nowhere" if path.is_symlink() else None
    except OSError as err:  # ELOOP, EACCES
        return f"cannot be followed: {err.strerror}"
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def _pair(project: Project, doc_id: str, schemas: Schemas) -> tuple[tuple[dict[str, Any], dict[str, Any]] | None, str]:
    """``((prediction, gold) spans, "")`` of one document, or ``(None, warning)``."""
    path = project.preannotator_file(doc_id)
    try:
        doc = load_json(project.corpus_file(doc_id))
        gold = load_checked_annotation(project.gold(doc_id), doc, schemas)
    except (InputError, StaleAnnotationError) as err:
        return None, f"{path}: its document or gold annotation cannot be read ({str(err).splitlines()[0]}); not scored"
    try:
        pred = load_json(path)
    except InputError as err:
        return None, f"{str(err).splitlines()[0]}; not scored (hint: regenerate it with khabar preannotate)"
    why = _why_not_scored(pred, doc, schemas)
    if why:
        return None, f"{path}: {why}; not scored (hint: regenerate it with khabar preannotate)".replace("\n", " ")
    origin = pred.get("origin") or {}
    return (_spans_only(pred) | {"origin": (origin.get("tool"), origin.get("version"))}, _spans_only(gold)), ""


def preannotator_report(project: Project, schemas: Schemas, doc_ids: Iterable[str] | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """Score every document's pre-annotation against its gold annotation.

    Reads ``project.preannotator_file(doc)``, ``project.gold(doc)`` and ``project.corpus_file(doc)``
    of every document folder under ``annotations/`` that holds both a pre-annotation and a gold
    annotation, in document-id order (only ``doc_ids`` when given).

    Returns:
        ``(report, warnings)``: ``report`` is ``{"tool", "version", **figures}`` (tool and version
        of the pre-annotations' ``origin``: the gazetteers' or a trained model's) (figures of
        :func:`evaluate_pairs` over the scored documents; what a build writes to
        ``reports/preannotator.json``), or None when no document could be scored; ``warnings`` has
        one line per pre-annotation not scored, ``<file>: <reason>; not scored …`` (not strict JSON,
        stale: made on another text, not valid against ``schema/annotation.schema.json`` or its
        document's text, or its document or gold annotation unreadable). Never raises on bad files.
    """
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    warnings: list[str] = []
    folders = sorted(p.name for p in project.annotations.iterdir() if is_doc_id(p.name)) if project.annotations.is_dir() else []
    if doc_ids is not None:
        wanted = set(doc_ids)
        folders = [d for d in folders if d in wanted]
    for doc_id in folders:
        path = project.preannotator_file(doc_id)
        odd = _not_a_regular_file(path)
        if odd:
            warnings.append(f"{path}: not a regular file ({odd}); not scored (hint: remove it and regenerate it with khabar preannotate)")
            continue
        if not (path.is_file() and project.gold(doc_id).exists()):
            continue
        pair, warning = _pair(project, doc_id, schemas)
        if pair is None:
            warnings.append(warning)
        else:
            pairs.append(pair)
    if not pairs:
        return None, warnings
    origins = sorted({p["origin"] for p, _ in pairs}, key=str)
    tool, ver = origins[0] if len(origins) == 1 and origins[0][0] else (TOOL, VERSION)
    if len(origins) > 1:
        warnings.append("pre-annotations of " + ", ".join(f"{t} {v}" for t, v in origins) + " are scored together")
    return {"tool": tool, "version": ver, **evaluate_pairs(pairs, schemas.vocab("EntityType"))}, warnings


def score_annotator(annotate: Any, golds: Iterable[tuple[dict[str, Any], dict[str, Any]]], types: list[str]) -> dict[str, Any]:
    """Scores of ``annotate`` (a document -> an annotation) on ``[(document, gold annotation)]``:
    :func:`evaluate_pairs` figures with ``"sources"`` (:func:`source_accuracy`). What a release
    card's "Trained pre-annotator" section and ``preannotate --score`` print."""
    pairs = [(annotate(doc), gold) for doc, gold in golds]
    return {**evaluate_pairs(pairs, types), "sources": source_accuracy(pairs)}


def score_against_gold(project: Project, schemas: Schemas, annotate: Any, keep: Any = None) -> dict[str, Any]:
    """Score ``annotate`` (a corpus document -> an annotation) against the gold of every corpus
    document that has one (only those whose id ``keep(id)`` accepts, e.g. a split's), writing
    nothing.

    Returns:
        :func:`evaluate_pairs` figures with ``"sources"`` (:func:`source_accuracy`) and
        ``"doc_ids"`` (the documents scored, in id order).

    Raises:
        InputError: a document or gold file that cannot be read or is stale (named).
    """
    from khabar.core.store import iter_corpus_paths

    golds = []
    for path in iter_corpus_paths(project.corpus):
        if (keep is None or keep(path.stem)) and project.gold(path.stem).exists():
            doc = load_json(path)
            golds.append((doc, load_checked_annotation(project.gold(path.stem), doc, schemas)))
    return {**score_annotator(annotate, golds, schemas.vocab("EntityType")), "doc_ids": sorted(d["id"] for d, _ in golds)}

"""Inter-annotator agreement over ``annotations/<doc_id>/<annotator>.json`` (``khabar agreement``).

Annotator files are every ``<annotator id>.json`` of a document folder except ``gold.json``
(the adjudicated layer), ``preannotator.json`` (the rule-based pre-annotation),
``conflicts.json`` (adjudication conflicts) and ``*.draft.json`` (Label Studio drafts).
The measures are defined in :mod:`khabar.agreement.measures`. Here they are gathered per
document (figures of each annotator pair, then the mean over pairs) and pooled over the corpus
(counts summed over every document and pair, then one figure).

Documents with one usable annotator are counted and named, never averaged in; a stale file
(its ``text_sha256`` is not the document's) is left out and named with the reason. A figure that
cannot be computed is ``null`` with a ``reason`` (``alpha_reason`` for alpha), never NaN. Memory
does not grow with the number of documents: per-document figures go to ``on_document`` as they
are made, and only counts are kept.

Public API: :func:`corpus_agreement` (with :data:`METHOD`), :func:`document_figures`,
:func:`summary_rows`, :func:`agreement_markdown`; the file selection shared with adjudication:
:func:`select_documents`, :func:`annotator_files`, :func:`misnamed_files` (:data:`MISNAMED`),
:func:`load_annotations`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable

from tqdm import tqdm

from khabar.agreement.measures import ATTRIBUTES, COUNTS, NOMINAL, SCHEMES, DocumentComparison, Tally, Vocab, compare_document, f1_from_counts
from khabar.agreement.nominal import agreement_from_rows, alpha_from_rows, package_alpha
from khabar.annotate.files import load_checked_annotation
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.jsonio import load_json
from khabar.core.project import DRAFT_SUFFIX, NOT_ANNOTATORS, Project
from khabar.core.schema import Schemas
from khabar.core.ids import doc_id_str, is_doc_id
from khabar.core.store import corpus_ids

__all__ = ["corpus_agreement", "agreement_markdown", "annotator_files", "misnamed_files", "MISNAMED", "select_documents", "summary_rows", "load_annotations", "document_figures",
           "METHOD"]

_FILE = re.compile(r"^([a-z0-9][a-z0-9_.-]{0,63})\.json$")  # AnnotatorId of schema/common.schema.json
MISNAMED = ("not read: the file name is not an annotator id (lower-case letters, digits, '_', '.', '-', starting with a letter or digit, "
            "at most 64 characters: AnnotatorId of schema/common.schema.json); rename it to <annotator id>.json")

METHOD = {
    "pairs": "annotator pairs (a, b) with a < b by id; a is nervaluate's reference, so 'missed' = only a, 'spurious' = only b",
    "documents": "a document's figure is the mean over its annotator pairs (pairs where the figure is defined)",
    "corpus": "corpus figures pool the counts of every document and annotator pair, then compute one figure",
    "entities": "nervaluate 1.2.1 (SemEval-2013 9.1): strict = same span and type, exact = same span, partial = overlapping "
                "span with half credit; per Wojood type over the entities of that type (so a span given another type by the "
                "other annotator counts as missed and spurious there, even in the exact and partial columns); spans half-open, passed to "
                "nervaluate as (start, end - 1) so touching spans do not overlap; compared per group of overlapping "
                "spans, which gives the counts of one nervaluate call in linear time",
    "confusion": "same-span mentions of each pair; rows = type given by a, columns = type given by b",
    "claims": "content spans matched one-to-one: identical spans first, then greedily by largest overlap (code points); "
              "F1 = 2 * matched / (claims of a + claims of b); attributes compared over matched claims, source and via "
              "by entity span, null checkworthy/speech not coded; check-worthiness alpha takes each matched pair of "
              "claims as one unit coded by two annotators (claims are matched pairwise, so a claim of three annotators "
              "is up to three units), unlike stances",
    "stances": "unit = (holder span, target) across all annotators of a document; Krippendorff's alpha (nominal) over "
               "units labelled by two or more annotators; units of one annotator do not pair",
}


def _is_file(entry: os.DirEntry) -> bool:
    """``entry`` is a file, or a link that cannot be followed (it points nowhere or loops): such a
    link is kept so that reading it reports it, naming the file, instead of dropping it silently."""
    try:
        if entry.is_file():
            return True
    except OSError:  # ELOOP: a link that loops
        return True
    return entry.is_symlink() and not os.path.exists(entry.path)


def annotator_files(folder: Path) -> dict[str, Path]:
    """Annotator id -> file of a document folder (sorted by id); see the module docstring for what is
    not an annotator. A file named like an annotator's that is a broken or looping link is listed
    (reading it fails, naming it); ``gold.json``, ``preannotator.json`` and the others are never
    looked at here, whatever they are."""
    out: dict[str, Path] = {}
    if folder.is_dir():
        with os.scandir(folder) as it:
            for entry in it:
                m = _FILE.match(entry.name)
                if m and m.group(1) not in NOT_ANNOTATORS and not m.group(1).endswith(DRAFT_SUFFIX) and _is_file(entry):
                    out[m.group(1)] = Path(entry.path)
    return dict(sorted(out.items()))


def misnamed_files(folder: Path) -> list[Path]:
    """The ``*.json`` files of a document folder that are not read because their name is not
    ``<annotator id>.json`` (e.g. ``A02.json``), sorted; hidden files (temp files) are not listed."""
    if not folder.is_dir():
        return []
    with os.scandir(folder) as it:
        return sorted(Path(e.path) for e in it
                      if e.name.endswith(".json") and not e.name.startswith(".") and not _FILE.match(e.name) and _is_file(e))


def load_annotations(files: dict[str, Path], doc: dict[str, Any], schemas: Schemas,
                     root: Path | None = None) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    """Load and check each annotator file against ``doc``.

    Returns:
        ``(usable, stale)``: annotator id -> annotation for files made on the document's text, and
        ``{"doc_id", "file", "reason"}`` for each stale one (paths relative to ``root`` when given).

    Raises:
        InputError: a file is not valid (schema, spans, ids) or its ``annotator`` is not its file name.
    """
    usable: dict[str, dict[str, Any]] = {}
    stale = []
    for name, path in files.items():
        rel = path.relative_to(root).as_posix() if root else str(path)
        try:
            ann = load_checked_annotation(path, doc, schemas)
        except StaleAnnotationError as err:
            stale.append({"doc_id": doc["id"], "file": rel, "reason": str(err).replace(str(path), rel)})
            continue
        if ann["annotator"] != name:
            raise InputError(f"{path}: annotator {ann['annotator']!r}, but the file is named {name}.json",
                             hint="name each annotator file after its annotator id")
        usable[name] = ann
    return usable, stale


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _f1(counts: list[int], scheme: str) -> dict[str, Any]:
    f1 = f1_from_counts(counts, scheme)
    out: dict[str, Any] = {"f1": _r(f1), **dict(zip(COUNTS, counts))}
    if f1 is None:
        out["reason"] = "no entities in either annotation"
    return out


def _ratio(num: int, den: int, reason: str) -> dict[str, Any]:
    return {"f1": round(2 * num / den, 4)} if den else {"f1": None, "reason": reason}


def _nominal(rows: Any, labels: tuple[str, ...], alpha: Callable = alpha_from_rows) -> dict[str, Any]:
    agree = agreement_from_rows(rows)
    value, why = alpha(rows, labels)
    out: dict[str, Any] = {"units": sum(n for row, n in rows.items() if sum(row) >= 2), "agreement": _r(agree), "alpha": _r(value)}
    if why:
        out["alpha_reason"] = why
    return out


def _claim_figures(t: Tally, vocab: Vocab, alpha: Callable = alpha_from_rows) -> dict[str, Any]:
    n_a, n_b, exact, matched = t.claims
    out: dict[str, Any] = {"claims": n_a + n_b, "exact_matches": exact, "matches": matched,
                           "exact": _ratio(exact, n_a + n_b, "no claims in either annotation"),
                           "partial": _ratio(matched, n_a + n_b, "no claims in either annotation")}
    for k in ATTRIBUTES:
        agree, units = t.attributes[k]
        out[k] = {"units": units, "agreement": round(agree / units, 4)} if units else {"units": 0, "agreement": None, "reason": "no matched claims"}
    for k in NOMINAL:
        out[k] = _nominal(t.rows[k], vocab.nominal[k], alpha)
    return out


def _stance_figures(t: Tally, vocab: Vocab, alpha: Callable = alpha_from_rows) -> dict[str, Any]:
    units, paired, unpaired, ambiguous = t.stance_units
    nominal = _nominal(t.rows["stance"], vocab.stance_labels, alpha)
    del nominal["units"]  # the paired units
    return {"units": units, "paired": paired, "unpaired": unpaired, "ambiguous": ambiguous, **nominal}


def _pooled(t: Tally, vocab: Vocab) -> dict[str, Any]:
    """Corpus (or pair) figures of pooled counts."""
    per_type = {ty: {s: _f1(t.entities[(ty, s)], s) for s in ("exact", "partial")}
                for ty in vocab.entity_types if (ty, "exact") in t.entities}
    labels = [ty for ty in vocab.entity_types if any(ty in cell for cell in t.confusion)]
    return {"entities": {"overall": {s: _f1(t.entities.get(("*", s), [0] * len(COUNTS)), s) for s in SCHEMES},
                         "per_type": per_type,
                         "confusion": {"labels": labels, "rows": "type given by the first annotator of the pair", "columns":
                                       "type given by the second", "matrix": [[t.confusion.get((x, y), 0) for y in labels] for x in labels]}},
            "claims": _claim_figures(t, vocab), "stances": _stance_figures(t, vocab)}


def _mean(values: Iterable[float | None], reason: str) -> dict[str, Any]:
    vals = [v for v in values if v is not None]
    return {"f1": round(sum(vals) / len(vals), 4), "pairs": len(vals)} if vals else {"f1": None, "pairs": 0, "reason": reason}


def _claim_f1(p: Tally, scheme: str) -> float | None:
    n_a, n_b, exact, matched = p.claims
    return 2 * (matched if scheme == "partial" else exact) / (n_a + n_b) if n_a + n_b else None


def document_figures(doc_id: str, comp: DocumentComparison, vocab: Vocab) -> dict[str, Any]:
    """One document's figures: entity and claim-span F1 as the mean over annotator pairs; claim
    attributes over the matched claims of all pairs; stances over the document's units (alpha by
    the ``krippendorff`` package)."""
    pairs = comp.pairs.values()
    ent = {s: _mean((f1_from_counts(p.entities[("*", s)], s) for p in pairs), "no pair has entities") for s in SCHEMES}
    claims = {s: _mean((_claim_f1(p, s) for p in pairs), "no pair has claims") for s in ("exact", "partial")}
    attrs = _claim_figures(comp.total, vocab, package_alpha)
    claims.update({k: attrs[k] for k in (*ATTRIBUTES, *NOMINAL)})
    return {"doc_id": doc_id, "annotators": comp.annotators, "pairs": len(comp.pairs), "entities": ent, "claims": claims,
            "stances": _stance_figures(comp.total, vocab, package_alpha)}


def select_documents(project: Project, doc_ids: Iterable[str] | None) -> tuple[Iterable[str], int, int]:
    """``(ids to visit in id order, how many, documents in corpus/)``: every corpus document, or ``doc_ids``.

    Raises:
        InputError: a named document is not a corpus document.
    """
    ids = corpus_ids(project.corpus)
    if doc_ids is None:
        return (doc_id_str(v) for v in ids), len(ids), len(ids)
    chosen = sorted(set(doc_ids))
    for d in chosen:
        if not is_doc_id(d) or not project.corpus_file(d).is_file():
            raise InputError(f"{d}: no such document in {project.corpus}", hint="document ids are the file names in corpus/ (kb-<16 hex digits>)")
    return chosen, len(chosen), len(ids)


def corpus_agreement(project: Project, doc_ids: Iterable[str] | None = None, *, progress: bool = False,
                     on_document: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Agreement of the annotator files of ``project`` (every document, or ``doc_ids``).

    Args:
        on_document: called with :func:`document_figures` of each compared document, in id order.

    Returns:
        A JSON-able dict (keys in a fixed order, floats rounded to 4 places, no NaN): ``method``,
        ``documents`` (counts; ``single_annotator``, ``gold_only`` (a gold.json and no annotator
        files), ``all_stale`` and ``stale_files`` named; ``misnamed_files``: ``{doc_id, file,
        reason}`` of each file not read because its name is not an annotator id),
        ``annotators``, ``comparisons`` (document x pair), ``note`` (when nothing was compared),
        pooled ``entities`` / ``claims`` / ``stances``, and ``pairs`` (the same per annotator pair).

    Raises:
        InputError: a named document is not in ``corpus/``; an annotator file is invalid.
    """
    schemas = Schemas(project.schema)
    vocab = Vocab.from_schemas(schemas)
    ids, total, in_corpus = select_documents(project, doc_ids)
    pool = Tally()
    by_pair: dict[tuple[str, str], list[Any]] = {}
    docs: dict[str, Any] = {"corpus": in_corpus, "selected": total, "annotated": 0, "compared": 0,
                            "single_annotator": [], "gold_only": [], "all_stale": [], "stale_files": [],
                            "misnamed_files": []}
    names: set[str] = set()
    for doc_id in tqdm(ids, total=total, desc="agreement", unit="doc", disable=not progress):
        files = annotator_files(project.doc_folder(doc_id))
        docs["misnamed_files"] += [{"doc_id": doc_id, "file": p.relative_to(project.root).as_posix(), "reason": MISNAMED}
                                   for p in misnamed_files(project.doc_folder(doc_id))]
        if not files:
            if project.gold(doc_id).is_file():  # gold made without annotator files
                docs["gold_only"].append(doc_id)
            continue
        docs["annotated"] += 1
        doc = load_json(project.corpus_file(doc_id))
        anns, stale = load_annotations(files, doc, schemas, project.root)
        docs["stale_files"].extend(stale)
        if len(anns) < 2:
            if anns:
                docs["single_annotator"].append({"doc_id": doc_id, "annotator": next(iter(anns))})
            else:
                docs["all_stale"].append(doc_id)
            continue
        comp = compare_document(anns, vocab)
        docs["compared"] += 1
        names.update(anns)
        pool += comp.total
        for pair, t in comp.pairs.items():
            entry = by_pair.setdefault(pair, [0, Tally()])
            entry[0] += 1
            entry[1] += t
        if on_document:
            on_document(document_figures(doc_id, comp, vocab))
    report: dict[str, Any] = {"report": "khabar agreement", "method": METHOD, "documents": docs, "annotators": sorted(names),
                              "comparisons": sum(n for n, _ in by_pair.values())}
    if not docs["compared"]:
        report["note"] = ("no document has two or more usable annotator files, so there is nothing to compare "
                          f"({docs['annotated']} document(s) with annotator files, {len(docs['single_annotator'])} with one annotator, "
                          f"{len(docs['stale_files'])} stale file(s)"
                          + (f"; {len(docs['gold_only'])} document(s) with a gold annotation and no annotator files to compare: "
                             + ", ".join(docs["gold_only"][:10]) + (" …" if len(docs["gold_only"]) > 10 else "") if docs["gold_only"] else "")
                          + ")")
    report.update(_pooled(pool, vocab))
    report["pairs"] = {f"{a}|{b}": {"documents": n, **_pair_summary(_pooled(t, vocab))} for (a, b), (n, t) in sorted(by_pair.items())}
    return report


def _pair_summary(p: dict[str, Any]) -> dict[str, Any]:
    return {"entities": {s: p["entities"]["overall"][s]["f1"] for s in SCHEMES},
            "claims": {s: p["claims"][s]["f1"] for s in ("exact", "partial")},
            "checkworthy_alpha": p["claims"]["checkworthy"]["alpha"], "stances_alpha": p["stances"]["alpha"]}


def _show(x: float | None, why: str | None = None, pct: bool = False) -> str:
    if x is None:
        return f"n/a ({why})" if why else "n/a"
    return f"{x:.1%}" if pct else f"{x:.3f}"


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(layer, measure, value)`` rows of the pooled figures (values formatted; ``n/a (reason)`` when null)."""
    e, c, s = report["entities"]["overall"], report["claims"], report["stances"]
    return [("Entities", "F1, same span and type (nervaluate strict)", _show(e["strict"]["f1"], e["strict"].get("reason"))),
            ("Entities", "F1, same span (exact)", _show(e["exact"]["f1"], e["exact"].get("reason"))),
            ("Entities", "F1, overlapping span (partial, half credit)", _show(e["partial"]["f1"], e["partial"].get("reason"))),
            ("Claims", "content-span F1, identical spans", _show(c["exact"]["f1"], c["exact"].get("reason"))),
            ("Claims", "content-span F1, overlapping spans (one-to-one)", _show(c["partial"]["f1"], c["partial"].get("reason"))),
            ("Claims", f"same source ({c['source']['units']} matched claims)", _show(c["source"]["agreement"], c["source"].get("reason"), True)),
            ("Claims", "same reporting chain (via)", _show(c["via"]["agreement"], c["via"].get("reason"), True)),
            ("Claims", "check-worthiness, agreement", _show(c["checkworthy"]["agreement"], None, True)),
            ("Claims", "check-worthiness, Krippendorff's alpha (nominal)", _show(c["checkworthy"]["alpha"], c["checkworthy"].get("alpha_reason"))),
            ("Stances", f"label agreement ({s['paired']} units; {s['unpaired']} labelled by one annotator only)", _show(s["agreement"], None, True)),
            ("Stances", "label, Krippendorff's alpha (nominal)", _show(s["alpha"], s.get("alpha_reason")))]


def agreement_markdown(report: dict[str, Any]) -> str:
    """A short Markdown section for the dataset card: what was compared and the pooled figures."""
    d = report["documents"]
    lines = ["## Inter-annotator agreement", ""]
    if not d["compared"]:
        return "\n".join(lines + [f"No agreement figures: {report['note']}.", ""])
    lines.append(f"Computed by `khabar agreement` over {d['compared']} document(s) with two or more annotators "
                 f"({', '.join(report['annotators'])}; {report['comparisons']} document x annotator-pair comparisons). "
                 "Figures pool the counts of every document and pair. "
                 f"Not compared: {len(d['single_annotator'])} document(s) with a single annotator, "
                 f"{len(d['stale_files'])} stale annotation file(s)"
                 + (f", {len(d['misnamed_files'])} file(s) whose name is not an annotator id" if d.get("misnamed_files") else "") + ".")
    lines += ["", "| Layer | Measure | Value |", "|---|---|---|"] + [f"| {a} | {b} | {v} |" for a, b, v in summary_rows(report)]
    if report["entities"]["per_type"]:
        lines += ["", "Per type, each annotator's mentions of that type are compared, so a span that the other annotator gave "
                  "another type counts as a miss here even in the span columns.",
                  "", "| Entity type | F1 exact span | F1 partial |", "|---|---|---|"]
        lines += [f"| {t} | {_show(f['exact']['f1'])} | {_show(f['partial']['f1'])} |" for t, f in report["entities"]["per_type"].items()]
    return "\n".join(lines + [""])

"""Agreement measures of one document's annotator files (pure functions, no I/O).

Definitions (:mod:`khabar.agreement.compare` pools them over the corpus):

* **Entities**, per annotator pair ``(a, b)`` with ``a < b`` (sorted ids; ``a`` plays nervaluate's
  "true", ``b`` its "predicted"): nervaluate 1.2.1's SemEval-2013 9.1 counts (Segura-Bedmar et
  al. 2013) for ``strict`` (same span and type), ``exact`` (same span, any type) and ``partial``
  (overlapping span, any type; a partial match counts half), overall and per Wojood type (entities
  of that type only, so per-type ``exact`` means same span and type). Our spans are half-open;
  nervaluate's ends are inclusive, so ``[start, end)`` is passed as ``(start, end - 1)`` and spans
  that only touch never overlap. Entities are sorted by ``(start, end, type)`` and compared inside
  groups of mutually overlapping spans (nervaluate never matches spans that do not overlap, so the
  counts are exactly those of one nervaluate call on the whole document, in linear time).
* **Type confusion**: same-span mentions of a pair; row = type given by ``a``, column = by ``b``.
* **Claims**, per pair: content spans matched one-to-one, first identical spans, then the rest
  greedily by largest overlap in code points (ties: earlier start of ``a``'s span, then of
  ``b``'s). F1 = 2·matched / (claims of a + claims of b); ``exact`` counts identical spans only,
  ``partial`` every match. Each matched pair is one unit for the attributes: ``source`` (the
  source entities compared by span, or both unnamed), ``via`` (the chain as a sequence of spans),
  ``cue`` (span or both null), ``checkworthy`` and ``speech`` (null = not coded).
* **Stances**: a unit is ``(holder span, target)`` across all annotators of the document; each
  annotator's label is one value. Units labelled by a single annotator do not pair (counted);
  an annotator giving one unit two labels (two holders on one span) makes it ``ambiguous``.
* Nominal attributes (``checkworthy``, ``speech``, stance labels) are tallied as value-count rows
  (Krippendorff's ``value_counts``: one row per unit, one column per label); percent agreement and
  Krippendorff's alpha (nominal) are computed from those rows (:mod:`khabar.agreement.nominal`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Iterator

from nervaluate.entities import Entity, EvaluationResult
from nervaluate.strategies import EvaluationStrategy, ExactEvaluation, PartialEvaluation, StrictEvaluation

__all__ = ["Vocab", "Tally", "DocumentComparison", "compare_document", "match_spans", "nervaluate_counts", "f1_from_counts",
           "SCHEMES", "COUNTS", "ATTRIBUTES", "NOMINAL"]

SCHEMES = ("strict", "exact", "partial")
TYPE_SCHEMES = ("exact", "partial")
COUNTS = ("correct", "incorrect", "partial", "missed", "spurious")
ATTRIBUTES = ("source", "via", "cue")
NOMINAL = ("checkworthy", "speech")
_STRATEGY: dict[str, EvaluationStrategy] = {"strict": StrictEvaluation(), "exact": ExactEvaluation(), "partial": PartialEvaluation()}

Span = tuple[int, int]


@dataclass(frozen=True)
class Vocab:
    """The label sets (from ``schema/labels.schema.json``) the measures need, in schema order."""

    entity_types: tuple[str, ...]
    stance_labels: tuple[str, ...]
    nominal: dict[str, tuple[str, ...]]  # claim attribute -> labels (Checkworthy, Speech)

    @classmethod
    def from_schemas(cls, schemas: Any) -> "Vocab":
        return cls(tuple(schemas.vocab("EntityType")), tuple(schemas.vocab("StanceLabel")),
                   {"checkworthy": tuple(schemas.vocab("Checkworthy")), "speech": tuple(schemas.vocab("Speech"))})


@dataclass
class Tally:
    """Counts of one comparison scope (a pair of annotators, a document, the corpus); add with ``+=``."""

    entities: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (type or "*", scheme) -> COUNTS
    confusion: Counter = field(default_factory=Counter)                       # (type of a, type of b) -> n
    claims: list[int] = field(default_factory=lambda: [0, 0, 0, 0])          # claims of a, of b, exact, matched
    attributes: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in ATTRIBUTES})  # agree, units
    rows: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in (*NOMINAL, "stance")})
    stance_units: list[int] = field(default_factory=lambda: [0, 0, 0, 0])    # units, paired, unpaired, ambiguous

    def __iadd__(self, other: "Tally") -> "Tally":
        for key, counts in other.entities.items():
            mine = self.entities.setdefault(key, [0] * len(COUNTS))
            for i, v in enumerate(counts):
                mine[i] += v
        self.confusion.update(other.confusion)
        self.claims = [x + y for x, y in zip(self.claims, other.claims)]
        for k, (agree, units) in other.attributes.items():
            self.attributes[k][0] += agree
            self.attributes[k][1] += units
        for k, rows in other.rows.items():
            self.rows[k].update(rows)
        self.stance_units = [x + y for x, y in zip(self.stance_units, other.stance_units)]
        return self


@dataclass
class DocumentComparison:
    """One document: ``pairs`` maps ``(a, b)`` to that pair's :class:`Tally`; ``total`` is their sum plus
    the document's stance units."""

    annotators: list[str]
    pairs: dict[tuple[str, str], Tally]
    total: Tally


# ----------------------------------------------------------------------------- entities (nervaluate)
def _groups(a: list[Entity], b: list[Entity]) -> Iterator[tuple[list[Entity], list[Entity]]]:
    """Maximal groups of entities of ``a`` and ``b`` linked by overlap (inclusive ends), in text order."""
    tagged = sorted([(e.start, e.end, 0, i) for i, e in enumerate(a)] + [(e.start, e.end, 1, i) for i, e in enumerate(b)])
    ga: list[Entity] = []
    gb: list[Entity] = []
    reach = -1
    for start, end, side, i in tagged:
        if start > reach and (ga or gb):
            yield ga, gb
            ga, gb = [], []
        (ga.append(a[i]) if side == 0 else gb.append(b[i]))
        reach = max(reach, end)
    if ga or gb:
        yield ga, gb


def nervaluate_counts(a: list[Entity], b: list[Entity], schemes: tuple[str, ...] = SCHEMES) -> dict[str, list[int]]:
    """nervaluate's ``COUNTS`` of ``b`` against ``a`` (lists sorted by start, end, label) per scheme.

    Each overlap group goes to nervaluate's strategy; the groups it would decide trivially are
    counted directly with its rules: one side empty (missed or spurious), or one entity on each side
    with the same span (correct; ``strict`` incorrect when the labels differ).
    """
    out = {s: [0] * len(COUNTS) for s in schemes}
    for ga, gb in _groups(a, b):
        if not gb or not ga:
            for s in schemes:
                out[s][3 if ga else 4] += len(ga or gb)
        elif len(ga) == 1 == len(gb) and ga[0].start == gb[0].start and ga[0].end == gb[0].end:
            same = ga[0].label == gb[0].label
            for s in schemes:
                out[s][0 if same or s != "strict" else 1] += 1
        else:
            for s in schemes:
                r, _ = _STRATEGY[s].evaluate(ga, gb, [])
                counts = out[s]
                for i, name in enumerate(COUNTS):
                    counts[i] += getattr(r, name)
    return out


def f1_from_counts(counts: list[int], scheme: str) -> float | None:
    """nervaluate's F1 of ``COUNTS`` (``partial`` gives half credit to partial matches); None when
    both sides are empty (F1 is undefined)."""
    r = EvaluationResult(*counts)
    r.compute_metrics(partial_or_type=scheme == "partial")
    return None if r.actual + r.possible == 0 else float(r.f1)


def _entities(ann: dict[str, Any]) -> list[Entity]:
    ents = [Entity(e["type"], e["start"], e["end"] - 1) for e in ann["entities"]]  # inclusive end for nervaluate
    return sorted(ents, key=lambda e: (e.start, e.end, e.label))


def _compare_entities(a: list[Entity], b: list[Entity], tally: Tally) -> None:
    for scheme, counts in nervaluate_counts(a, b).items():
        tally.entities[("*", scheme)] = counts
    by_a: dict[str, list[Entity]] = {}
    by_b: dict[str, list[Entity]] = {}
    for e in a:
        by_a.setdefault(e.label, []).append(e)
    for e in b:
        by_b.setdefault(e.label, []).append(e)
    for t in sorted(set(by_a) | set(by_b)):
        for scheme, counts in nervaluate_counts(by_a.get(t, []), by_b.get(t, []), TYPE_SCHEMES).items():
            tally.entities[(t, scheme)] = counts
    span_a: dict[Span, list[str]] = {}
    span_b: dict[Span, list[str]] = {}
    for e in a:
        span_a.setdefault((e.start, e.end), []).append(e.label)
    for e in b:
        span_b.setdefault((e.start, e.end), []).append(e.label)
    for span in span_a.keys() & span_b.keys():
        ta, tb = span_a[span], span_b[span]
        if len(ta) == 1 == len(tb):
            tally.confusion[(ta[0], tb[0])] += 1
            continue
        ta, tb = sorted(ta), sorted(tb)
        same = sorted((Counter(ta) & Counter(tb)).elements())
        for t in same:
            tally.confusion[(t, t)] += 1
            ta.remove(t)
            tb.remove(t)
        for x, y in zip(ta, tb):  # the rest paired in label order
            tally.confusion[(x, y)] += 1


# ----------------------------------------------------------------------------- claims
def match_spans(a: list[Span], b: list[Span]) -> list[tuple[int, int, bool]]:
    """One-to-one matching of half-open spans: identical spans first, then the rest greedily by
    largest overlap (ties: earlier start in ``a``, then in ``b``). Returns ``(i, j, identical)``
    index pairs sorted by ``i``. Linear in the spans plus the overlapping candidate pairs."""
    out: list[tuple[int, int, bool]] = []
    free_b: dict[Span, list[int]] = {}
    for j, s in enumerate(b):
        free_b.setdefault(s, []).append(j)
    rest_a = []
    for i, s in enumerate(a):
        if free_b.get(s):
            out.append((i, free_b[s].pop(0), True))
        else:
            rest_a.append(i)
    rest_b = [j for js in free_b.values() for j in js]
    events = sorted([(a[i][0], a[i][1], 0, i) for i in rest_a] + [(b[j][0], b[j][1], 1, j) for j in rest_b])
    active: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
    candidates = []
    for start, end, side, k in events:
        for s in (0, 1):
            active[s][:] = [(e, x) for e, x in active[s] if e > start]
        for other_end, x in active[1 - side]:
            i, j = (k, x) if side == 0 else (x, k)
            overlap = min(end, other_end) - start
            candidates.append((-overlap, a[i][0], b[j][0], i, j))
        active[side].append((end, k))
    used_a, used_b = set(), set()
    for _, _, _, i, j in sorted(candidates):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j, False))
    return sorted(out)


def _claims(ann: dict[str, Any]) -> list[dict[str, Any]]:
    """Claims with source, via and cue as spans (ids differ between annotators), sorted by content span."""
    ents = {e["id"]: (e["start"], e["end"]) for e in ann["entities"]}
    out = []
    for c in ann["claims"]:
        cue = c.get("cue")
        out.append({"content": (c["content"]["start"], c["content"]["end"]),
                    "source": ents[c["source"]] if c.get("source") is not None else None,
                    "via": tuple(ents[v] for v in c.get("via") or []), "cue": (cue["start"], cue["end"]) if cue else None,
                    "checkworthy": c.get("checkworthy"), "speech": c.get("speech")})
    return sorted(out, key=lambda c: c["content"])


def _nominal_row(values: list[str | None], labels: tuple[str, ...]) -> tuple[int, ...]:
    row = [0] * len(labels)
    for v in values:
        if v is not None:
            row[labels.index(v)] += 1
    return tuple(row)


def _compare_claims(a: list[dict[str, Any]], b: list[dict[str, Any]], vocab: Vocab, tally: Tally) -> None:
    matches = match_spans([c["content"] for c in a], [c["content"] for c in b])
    tally.claims = [len(a), len(b), sum(1 for m in matches if m[2]), len(matches)]
    for i, j, _ in matches:
        for k in ATTRIBUTES:
            tally.attributes[k][0] += a[i][k] == b[j][k]
            tally.attributes[k][1] += 1
        for k in NOMINAL:
            row = _nominal_row([a[i][k], b[j][k]], vocab.nominal[k])
            if sum(row) == 2:
                tally.rows[k][row] += 1


# ----------------------------------------------------------------------------- stances
def _stance_units(anns: dict[str, dict[str, Any]], labels: tuple[str, ...], tally: Tally) -> None:
    units: dict[tuple[int, int, str], dict[str, set[str]]] = {}
    for name, ann in anns.items():
        spans = {e["id"]: (e["start"], e["end"]) for e in ann["entities"]}
        for st in ann["stances"]:
            units.setdefault((*spans[st["holder"]], st["target"]), {}).setdefault(name, set()).add(st["label"])
    for by in units.values():
        tally.stance_units[0] += 1
        if any(len(v) > 1 for v in by.values()):
            tally.stance_units[3] += 1
            continue
        row = _nominal_row([next(iter(v)) for v in by.values()], labels)
        if sum(row) < 2:
            tally.stance_units[2] += 1
            continue
        tally.stance_units[1] += 1
        tally.rows["stance"][row] += 1


# ----------------------------------------------------------------------------- one document
def compare_document(anns: dict[str, dict[str, Any]], vocab: Vocab) -> DocumentComparison:
    """Compare the annotations of one document (annotator id -> annotation dict, two or more,
    checked with :func:`khabar.annotate.files.load_checked_annotation`) pair by pair.

    Raises:
        ValueError: fewer than two annotations.
    """
    names = sorted(anns)
    if len(names) < 2:
        raise ValueError(f"need two or more annotations, got {len(names)}")
    ents = {n: _entities(anns[n]) for n in names}
    claims = {n: _claims(anns[n]) for n in names}
    total = Tally()
    pairs = {}
    for a, b in combinations(names, 2):
        t = Tally()
        _compare_entities(ents[a], ents[b], t)
        _compare_claims(claims[a], claims[b], vocab, t)
        pairs[(a, b)] = t
        total += t
    _stance_units(anns, vocab.stance_labels, total)
    return DocumentComparison(names, pairs, total)

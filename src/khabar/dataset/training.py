"""The training configs of a release (``entities``, ``claims``, ``stances``), derived from a
decoded ``documents`` row (labels as names, offsets as code points into ``text``).

Every function here is pure: the same ``documents`` row gives the same rows, so the gate
(:mod:`khabar.gate.validate`) re-derives each config from the ``documents`` rows and compares.

Only documents with a gold annotation (``annotation.annotated``) give training rows: a document
not annotated yet would otherwise give sentences whose every token is ``O`` and that hold no
claim, which is not true of the text but of its missing annotation. They are counted as
``unannotated_documents`` (in each config's stats) and stay in ``documents``.

``entities`` (token classification; one row per sentence of ``sentences``). Tokens are
:func:`khabar.text.tokens.tokenize` of the sentence; tags come from :func:`khabar.text.bio.bio_layers`
with two layers (IOB2, Wojood's nesting convention: ``ner_tags`` = depth 1, ``nested_ner_tags``
= depth 2). Decisions, each counted in :class:`Derived` ``stats`` (and in ``reports/stats.json``):

* ``dropped_depth3``: an entity of depth >= 3 cannot be shown in two columns; it stays in
  ``documents`` only;
* ``dropped_clash``: an entity overlapping (not nesting in) another of its layer on a shared
  token is not tagged in that sentence;
* ``dropped_untokened``: an entity that covers no token of any sentence (white space, or text
  between sentences) is tagged nowhere;
* ``across_sentences``: an entity whose span crosses a sentence boundary is tagged in every
  sentence it overlaps, as one mention per sentence (``B-`` on its first token in each).

``claims`` (one row per sentence). A claim belongs to the row that holds its content and cue.
When they cross a sentence boundary (or lie in different sentences), the sentences from the
first to the last one touched are merged into one row (connected runs), so a span is never cut:
``merged_rows`` rows spanning ``merged_sentences`` sentences. A claim whose spans overlap no
sentence is ``dropped_outside_sentences``; a row is widened to cover a span that starts or ends
between sentences (``rows_widened``). Offsets inside a row are relative to the row's ``text``.

``stances`` (one row per stance): holder, target and evidence with their texts.
"""

from __future__ import annotations

import bisect
import collections
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from khabar.text.bio import bio_layers, bio_names, entity_depths
from khabar.core.errors import InputError
from khabar.text.tokens import tokenize

__all__ = ["Spec", "Derived", "derive", "entity_rows", "entity_sentences", "sentence_tokens", "claim_rows", "stance_rows", "NER_DEPTH"]

NER_DEPTH = 2  # tag columns of the entities config: ner_tags, nested_ner_tags


@dataclass(frozen=True)
class Spec:
    """What the derivations take from ``schema/``: the StanceTarget glosses.

    Build it with :meth:`from_schemas`, which also checks that the ``BioTag`` vocabulary is
    ``bio_names(EntityType)``.
    """

    target_text: Mapping[str, str]

    @classmethod
    def from_schemas(cls, schemas: Any) -> "Spec":
        """Raises:
            InputError: ``BioTag`` in labels.schema.json differs from ``O``, ``B-``/``I-`` of
                each EntityType in schema order.
        """
        want = bio_names(schemas.vocab("EntityType"))
        got = schemas.vocab("BioTag")
        if got != want:
            first = next((f"{i}: {a!r} != {b!r}" for i, (a, b) in enumerate(zip(got, want)) if a != b),
                         f"{len(got)} names, expected {len(want)}")
            raise InputError(f"{schemas.folder / 'labels.schema.json'}: $defs.BioTag is not O, B-/I- of each EntityType in order ({first})",
                             hint="write BioTag as khabar.text.bio.bio_names(EntityType) gives it")
        info = schemas.vocab_info("StanceTarget")
        return cls({t: info.get(t, {}).get("en") or t for t in schemas.vocab("StanceTarget")})


@dataclass
class Derived:
    """Rows of each training config for one document (labels as names), and what was counted.

    Attributes:
        rows: ``{"entities": [...], "claims": [...], "stances": [...]}``.
        stats: ``{config: Counter}``; keys are listed in the module docstring plus ``rows``.
    """

    rows: dict[str, list[dict[str, Any]]]
    stats: dict[str, collections.Counter] = field(default_factory=dict)


def derive(doc: Mapping[str, Any], spec: Spec, entities: Callable[..., list[Any]] | None = None) -> Derived:
    """All training rows of one decoded ``documents`` row (see the module docstring); none for a
    document without gold annotation (``annotation.annotated`` false).

    ``entities(doc, stats)`` replaces :func:`entity_rows` for the ``entities`` config (its list,
    one item per row, is then ``rows["entities"]``):
    :class:`khabar.dataset.training_tables.TrainingTables` passes :func:`entity_sentences` with
    ClassLabel ids, to gather columns instead of row dicts."""
    stats = {c: collections.Counter() for c in ("entities", "claims", "stances")}
    if not (doc.get("annotation") or {}).get("annotated"):
        for config in stats:
            stats[config]["unannotated_documents"] += 1
            stats[config]["rows"] += 0
        return Derived({c: [] for c in stats}, stats)
    rows = {"entities": (entities or entity_rows)(doc, stats["entities"]), "claims": claim_rows(doc, stats["claims"]),
            "stances": stance_rows(doc, spec, stats["stances"])}
    for config, r in rows.items():
        stats[config]["rows"] += len(r)
    return Derived(rows, stats)


class _Overlaps:
    """Indexes (in input order) of the spans overlapping a range, found by bisection."""

    def __init__(self, spans: list[dict[str, Any]]):
        self.spans = spans
        self.order = sorted(range(len(spans)), key=lambda i: spans[i]["start"])
        self.starts = [spans[i]["start"] for i in self.order]
        self.longest = max((x["end"] - x["start"] for x in spans), default=0)

    def __call__(self, start: int, end: int) -> list[int]:
        lo = bisect.bisect_left(self.starts, start - self.longest)
        hi = bisect.bisect_left(self.starts, end)
        return sorted(i for i in self.order[lo:hi] if self.spans[i]["end"] > start)


def sentence_tokens(text: str, sentences: Sequence[Mapping[str, Any]]) -> list[list[tuple[int, int]]]:
    """The tokens of each sentence, ``tokenize(text, start, end)``, cut from one tokenization of
    the whole text.

    The tokenization rule is local (:mod:`khabar.text.tokens`: a token never holds white space,
    and where one token ends depends only on the characters around that point), so the tokens of
    the whole text that lie inside a sentence are the sentence's own tokens, unless a token of the
    whole text crosses the sentence's start or end (a sentence cut inside ``قال:`` or ``3.5``); such
    a sentence is tokenized on its own. Tested against per-sentence tokenization on the corpus and
    on random texts cut at random points (``tests/test_training_tables.py``).

    Args:
        text: the document's text.
        sentences: ``{start, end}`` dicts (code points, half-open), in any order.

    Returns:
        One list of token offsets ``(start, end)`` (code points into ``text``, half-open) per
        sentence, in the order given.

    Raises:
        KeyError: a sentence without ``start`` or ``end``.
    """
    toks = tokenize(text)
    starts, ends = [a for a, _ in toks], [b for _, b in toks]
    out = []
    for sent in sentences:
        s, e = sent["start"], sent["end"]
        i, j = bisect.bisect_left(starts, s), bisect.bisect_right(ends, e)
        cut = (i > 0 and ends[i - 1] > s) or (j < len(toks) and starts[j] < e)
        out.append(tokenize(text, s, e) if cut else toks[i:j])
    return out


def entity_sentences(doc: Mapping[str, Any], stats: collections.Counter | None = None,
                     labels: Mapping[str, tuple[Any, Any]] | None = None, empty: Any = None) -> list[tuple[list[tuple[int, int]], list[list[Any]]]]:
    """``(token offsets, [ner_tags, nested_ner_tags])`` of each sentence of a document, in
    sentence order: what :func:`entity_rows` makes rows of (token strings are ``text[start:end]``),
    and :class:`khabar.dataset.training_tables.TrainingTables` columns of.

    Args:
        doc: a decoded ``documents`` row (``text``, ``sentences``, ``entities``).
        stats: as for :func:`entity_rows`.
        labels: ``{type: (B tag, I tag)}`` to write (:func:`khabar.text.bio.bio_layers`); default the names.
        empty: the tag of ``O``; required with ``labels`` (``0`` for ClassLabel ids), else ``"O"``.

    Raises:
        KeyError: an entity type missing from ``labels``; ValueError: see :func:`khabar.text.bio.bio_layers`.
    """
    text, ents = doc["text"], doc["entities"]
    tagged: set[int] = set()
    deep: set[int] = set()
    clash: set[int] = set()
    touched: collections.Counter[int] = collections.Counter()
    out = []
    overlapping = _Overlaps(ents)
    for sent, toks in zip(doc["sentences"], sentence_tokens(text, doc["sentences"])):
        idx = overlapping(sent["start"], sent["end"])  # an entity's containers overlap wherever it does: depths are kept
        layers = bio_layers(toks, [ents[i] for i in idx], NER_DEPTH, labels, empty)
        missed = {idx[k] for k in layers.too_deep + layers.clashes + layers.untokened}
        deep.update(idx[k] for k in layers.too_deep)
        clash.update(idx[k] for k in layers.clashes)
        tagged.update(i for i in idx if i not in missed)
        touched.update(idx)
        out.append((toks, layers.tags))
    if stats is not None:
        stats["tokens"] += sum(len(toks) for toks, _ in out)
        stats["entities"] += len(ents)
        depth = entity_depths(ents)
        stats["tagged"] += len(tagged)
        stats["tagged_nested"] += sum(1 for i in tagged if depth[i] == 2)
        stats["dropped_depth3"] += len(deep)
        stats["dropped_clash"] += len(clash - deep)
        stats["dropped_untokened"] += len(ents) - len(tagged | deep | clash)
        stats["across_sentences"] += sum(1 for n in touched.values() if n > 1)
    return out


def entity_rows(doc: Mapping[str, Any], stats: collections.Counter | None = None) -> list[dict[str, Any]]:
    """The ``entities`` rows of a document: one per sentence, in sentence order.

    Args:
        doc: a decoded ``documents`` row (``id``, ``text``, ``sentences``, ``entities``).
        stats: a Counter to add ``tokens``, ``entities``, ``tagged``, ``dropped_depth3``,
            ``tagged_nested``, ``dropped_clash``, ``dropped_untokened`` and ``across_sentences`` to (entities
            counted once each, however many sentences they touch).

    Returns:
        Rows ``{id, doc_id, start, end, tokens, offsets, ner_tags, nested_ner_tags}``; tags are
        names (``O``, ``B-ORG``…), offsets code points into the document's ``text``.
    """
    text, doc_id = doc["text"], doc["id"]
    return [{"id": f"{doc_id}:{n}", "doc_id": doc_id, "start": sent["start"], "end": sent["end"],
             "tokens": [text[a:b] for a, b in toks], "offsets": [{"start": a, "end": b} for a, b in toks],
             "ner_tags": tags[0], "nested_ner_tags": tags[1]}
            for n, (sent, (toks, tags)) in enumerate(zip(doc["sentences"], entity_sentences(doc, stats)))]


def _touched(span: Mapping[str, Any], starts: list[int], ends: list[int]) -> tuple[int, int] | None:
    """First and last index of the sentences overlapping ``span`` (None when it overlaps none)."""
    first = bisect.bisect_right(ends, span["start"])
    last = bisect.bisect_left(starts, span["end"]) - 1
    return (first, last) if first <= last else None


def _relative(span: Mapping[str, Any] | None, base: int) -> dict[str, Any] | None:
    return None if span is None else {"start": span["start"] - base, "end": span["end"] - base, "text": span["text"]}


def claim_rows(doc: Mapping[str, Any], stats: collections.Counter | None = None) -> list[dict[str, Any]]:
    """The ``claims`` rows of a document: one per sentence, merged where a claim crosses.

    Args:
        doc: a decoded ``documents`` row (``id``, ``text``, ``sentences``, ``entities``, ``claims``).
        stats: a Counter to add ``claims``, ``rows_with_claim``, ``merged_rows``,
            ``merged_sentences``, ``rows_widened`` and ``dropped_outside_sentences`` to.

    Returns:
        Rows ``{id, doc_id, start, end, text, num_sentences, has_claim, checkworthy, claims}``
        in text order; claim spans relative to the row's ``text``.
    """
    text, sents, doc_id = doc["text"], doc["sentences"], doc["id"]
    starts, ends = [s["start"] for s in sents], [s["end"] for s in sents]
    names = {e["id"]: e["text"] for e in doc["entities"]}
    joined = [False] * len(sents)  # joined[i]: sentence i and i + 1 are one row
    home: list[tuple[int, dict[str, Any]]] = []  # (first sentence touched, claim)
    dropped = 0
    for claim in doc["claims"]:
        hits = [t for t in (_touched(sp, starts, ends) for sp in (claim["content"], claim["cue"]) if sp is not None) if t]
        if not hits:
            dropped += 1
            continue
        lo, hi = min(h[0] for h in hits), max(h[1] for h in hits)
        for i in range(lo, hi):
            joined[i] = True
        home.append((lo, claim))
    rows: list[dict[str, Any]] = []
    widened = 0
    first = 0
    for i in range(len(sents)):
        if i + 1 < len(sents) and joined[i]:
            continue
        mine = [c for lo, c in home if first <= lo <= i]
        spans = [sp for c in mine for sp in (c["content"], c["cue"]) if sp is not None]
        s = min([starts[first]] + [sp["start"] for sp in spans])
        e = max([ends[i]] + [sp["end"] for sp in spans])
        widened += (s, e) != (starts[first], ends[i])
        marks = [c["checkworthy"] for c in mine]
        rows.append({"id": f"{doc_id}:{first}" + (f"-{i}" if i > first else ""), "doc_id": doc_id, "start": s, "end": e,
                     "text": text[s:e], "num_sentences": i - first + 1, "has_claim": "yes" if mine else "no",
                     "checkworthy": "yes" if "yes" in marks else (None if None in marks else "no"),
                     "claims": [{"id": c["id"], "content": _relative(c["content"], s), "cue": _relative(c["cue"], s),
                                 "source_text": names.get(c["source"]) if c["source"] is not None else None,
                                 "checkworthy": c["checkworthy"]} for c in mine]})
        first = i + 1
    if stats is not None:
        stats["claims"] += len(home)
        stats["rows_with_claim"] += sum(1 for r in rows if r["claims"])
        stats["merged_rows"] += sum(1 for r in rows if r["num_sentences"] > 1)
        stats["merged_sentences"] += sum(r["num_sentences"] for r in rows if r["num_sentences"] > 1)
        stats["rows_widened"] += widened
        stats["dropped_outside_sentences"] += dropped
    return rows


def stance_rows(doc: Mapping[str, Any], spec: Spec, stats: collections.Counter | None = None) -> list[dict[str, Any]]:
    """The ``stances`` rows of a document, one per stance in annotation order.

    Args:
        doc: a decoded ``documents`` row whose ids are consistent (the gate and the build check
            that first: a holder names an entity, evidence names claims).
        spec: the target glosses.
        stats: unused; kept for the shape shared by the three derivations.

    Returns:
        Rows ``{id, doc_id, holder, holder_text, target, target_text, evidence, evidence_text, label}``.

    Raises:
        KeyError: a holder or evidence id that names nothing (a document that failed its checks).
    """
    names = {e["id"]: e["text"] for e in doc["entities"]}
    contents = {c["id"]: c["content"]["text"] for c in doc["claims"]}
    return [{"id": f"{doc['id']}:{st['id']}", "doc_id": doc["id"], "holder": st["holder"], "holder_text": names[st["holder"]],
             "target": st["target"], "target_text": spec.target_text[st["target"]], "evidence": list(st["evidence"]),
             "evidence_text": [contents[c] for c in st["evidence"]], "label": st["label"]} for st in doc["stances"]]

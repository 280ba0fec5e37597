"""The trained claim model: a linear-chain CRF that tags, in each sentence, the PARC cue
(``CUE``), the source (``SRC``) and the content (``CONTENT``) of attributed claims (Pareti 2016;
the guidelines §4), and the rules that turn its tags into claims.

Features of a token: its folded form and stem, whether it is a reporting cue of the guidelines
(§4.2) or of the training claims (a verb seen as a cue, proclitic و/ف cut), a complementizer
(أن، إن، بأن …), a quote or colon, the entity tag the entity model gives it, and where it stands
from the nearest cue word (before/after, distance). Training reads the gold entities; tagging
reads the predicted ones.

Claims from tags, per sentence: each ``CONTENT`` run is one claim; its cue is the nearest ``CUE``
run (one before the content first); its source the entity that best covers the ``SRC`` run
nearest the cue (the outer one of a nest: a source is a person or body, never a title or place
inside it). With no ``SRC`` run and a cue that opens the sentence (``وأضاف:``), the source is the
previous claim's source (an anaphoric source, §4.4). Where the tagger finds no claim, the gazetteer
pre-annotator's cue rules may (:func:`khabar.annotate.preannotate.find_claims`); their claims are
added when their content overlaps none of the tagger's. A claim's content is trimmed of edge
punctuation and quotes; speech is ``direct`` when a colon or quote opens the content.

Public API: :class:`ClaimExample`, :func:`train_claims`, :func:`tag_claims`, :data:`GUIDELINE_CUES`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from khabar.model.entities import decode
from khabar.model.features import COMPLEMENTIZERS, GUIDELINE_CUES, fold, stem, with_window
from khabar.text.bio import bio_layers
from khabar.text.tokens import tokenize

__all__ = ["ClaimExample", "train_claims", "tag_claims", "GUIDELINE_CUES", "COMPLEMENTIZERS"]

_QUOTES = frozenset('"“”«»:')
_ANAPHORIC_OPENERS = 2  # a cue within the first two tokens of its sentence may take the previous source
#: CRFsuite settings of the claim tagger
CRF_SETTINGS = {"algorithm": "lbfgs", "c1": 0.05, "c2": 0.05, "max_iterations": 150, "all_possible_transitions": True}


@dataclass
class ClaimExample:
    """A document for training or tagging: ``text`` (normalised view), ``sentences`` ``[(start,
    end)]``, ``entities`` ``[{start, end, type}]`` and (training) ``claims`` ``[{content: (s, e),
    cue: (s, e) | None, source: entity index | None}]``; code points, half-open."""

    text: str
    sentences: list[tuple[int, int]]
    entities: list[dict[str, Any]]
    claims: list[dict[str, Any]] = field(default_factory=list)


def _cue_word(token: str) -> str:
    f = fold(token)
    return f[1:] if f[:1] in ("و", "ف") and len(f) > 3 else f


def _token_features(strs: list[str], ents: list[str], cues: frozenset[str]) -> list[dict[str, Any]]:
    is_cue = [_cue_word(t) in GUIDELINE_CUES or _cue_word(t) in cues for t in strs]
    cue_at = [i for i, c in enumerate(is_cue) if c]
    own = []
    phase = "none"  # none -> cue (a cue seen) -> clause (its complementizer, colon or quote seen)
    for i, t in enumerate(strs):
        f = fold(t)
        if is_cue[i]:
            phase = "cue"
        elif phase == "cue" and (f in COMPLEMENTIZERS or any(c in _QUOTES for c in t)):
            phase = "clause"
        near = min(cue_at, key=lambda j: abs(j - i)) if cue_at else None
        where = "none" if near is None else "at" if near == i else ("after" if i > near else "before")
        dist = "none" if near is None else str(min(abs(i - near), 6)) if abs(i - near) < 6 else "far"
        own.append({"w": f, "stem": stem(t), "s2": f[-2:], "p2": f[:2], "cue": is_cue[i], "comp": f in COMPLEMENTIZERS,
                    "quote": any(c in _QUOTES for c in t), "punct": not any(ch.isalnum() for ch in t),
                    "ent": ents[i], "where": where, "dist": dist, "phase": phase})
    return [with_window({"bias": 1.0, **f, "where|dist": f["where"] + f["dist"], "phase|punct": f["phase"] + str(f["punct"])},
                        own, i, (-3, -2, -1, 1, 2), ("w", "ent", "cue", "comp", "quote", "phase")) for i, f in enumerate(own)]


def _sentence_units(ex: ClaimExample, cues: frozenset[str]) -> list[tuple[list[tuple[int, int]], list[str], list[dict[str, Any]]]]:
    out = []
    for s, e in ex.sentences:
        toks = tokenize(ex.text, s, e)
        if not toks:
            continue
        ents = bio_layers(toks, [x for x in ex.entities if s <= x["start"] and x["end"] <= e], depth=1).tags[0]
        strs = [ex.text[a:b] for a, b in toks]
        out.append((toks, strs, _token_features(strs, [t.split("-")[-1] if t != "O" else "O" for t in ents], cues)))
    return out


def _gold_tags(toks: list[tuple[int, int]], ex: ClaimExample) -> list[str]:
    spans = []
    lo, hi = toks[0][0], toks[-1][1]
    for c in ex.claims:
        spans.append({"start": c["content"][0], "end": c["content"][1], "type": "CONTENT"})
        if c.get("cue"):
            spans.append({"start": c["cue"][0], "end": c["cue"][1], "type": "CUE"})
        if c.get("source") is not None:
            src = ex.entities[c["source"]]
            if c.get("cue") and lo <= c["cue"][0] < hi:
                spans.append({"start": src["start"], "end": src["end"], "type": "SRC"})
    tags = ["O"] * len(toks)
    for rank in ("CONTENT", "SRC", "CUE"):  # a cue or source inside a content span wins
        for sp in spans:
            if sp["type"] != rank:
                continue
            first = True
            for i, (a, b) in enumerate(toks):
                if a < sp["end"] and sp["start"] < b:
                    tags[i] = ("B-" if first else "I-") + rank
                    first = False
    return tags


def learn_cues(examples: Sequence[ClaimExample]) -> frozenset[str]:
    """Cue words of the training claims (folded, proclitic و/ف cut) seen at least once."""
    seen: Counter = Counter()
    for ex in examples:
        for c in ex.claims:
            if c.get("cue"):
                words = ex.text[c["cue"][0]:c["cue"][1]].split()
                if words:
                    seen[_cue_word(words[0])] += 1
    return frozenset(w for w, n in seen.items() if n >= 1)


def train_claims(examples: Sequence[ClaimExample], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the claim tagger on documents with gold entities and claims.

    Returns:
        ``{"crf": CRF, "cues": frozenset of cue words, "settings": dict}``.

    Raises:
        ValueError: no document holds a claim.
    """
    import sklearn_crfsuite

    if not any(ex.claims for ex in examples):
        raise ValueError("no claims to train the claim model on")
    cues = learn_cues(examples)
    X, Y = [], []
    for ex in examples:
        for toks, strs, feats in _sentence_units(ex, cues):
            X.append(feats)
            Y.append(_gold_tags(toks, ex))
    settings = dict(settings or CRF_SETTINGS)
    crf = sklearn_crfsuite.CRF(**settings)
    crf.fit(X, Y)
    return {"crf": crf, "cues": cues, "settings": settings}


#: words the content never starts with (GUIDELINES §4.3: the complementizer is outside the content)
_LEADERS = COMPLEMENTIZERS | frozenset(fold(w) for w in ("إلى", "عن", "على", "ب"))


def _quote_end(text: str, s: int, e: int) -> int:
    """A quotation's content ends at its closing quote: when an opening quote stands just before
    ``s`` (spaces and a colon aside) and a closing one falls inside ``[s, e)``, the end moves there."""
    k = s - 1
    while k >= 0 and text[k] in " :":
        k -= 1
    if k < 0 or text[k] not in '"“«':
        return e
    close = {"“": "”", "«": "»"}.get(text[k], '"')
    j = text.find(close, s, e)
    if j < 0 and close != '"':
        j = text.find('"', s, e)
    return j if j > s else e


def _cue_span(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """The cue without the conjunction و/ف before it (GUIDELINES §4.2): tokens keep clitics, so
    the tagger's ``وقال`` becomes ``قال``."""
    s, e = span
    word = text[s:e].split(" ")[0]
    if word[:1] in ("و", "ف") and _cue_word(word) != fold(word) and e - s > 1:
        return s + 1, e
    return s, e


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while e > s and text[e - 1] in " .،,؛:”\"»":
        e -= 1
    while s < e and text[s] in " “\"«:":
        s += 1
    return s, e


def _source(ex: ClaimExample, span: tuple[int, int] | None) -> int | None:
    """The entity that best matches the ``SRC`` run (highest overlap over union), or None."""
    if span is None:
        return None
    best, score = None, 0.0
    for i, e in enumerate(ex.entities):
        ov = min(e["end"], span[1]) - max(e["start"], span[0])
        if ov > 0:
            jac = ov / (max(e["end"], span[1]) - min(e["start"], span[0]))
            if jac > score:
                best, score = i, jac
    return best


_SPEAKERS = ("PERS", "ORG", "OCC", "NORP", "GPE")
#: definite nouns that take up a body named before (``وأشار التقرير``: the report's author)
_ANAPHORS = frozenset(fold(w) for w in "التقرير البيان المنظمة الوزارة الحكومة الشركة الاتحاد المجلس الوكالة الصحيفة الدراسة".split())


def _entity_at(ex: ClaimExample, lo: int, hi: int) -> int | None:
    """The outermost speaker entity starting first in ``[lo, hi]`` (code points), not right after
    ``ل`` or ``في`` (a recipient, ``لقناة``, or a place)."""
    cands = [i for i, e in enumerate(ex.entities) if lo <= e["start"] <= hi and e["type"] in _SPEAKERS
             and not ex.text[max(0, e["start"] - 3):e["start"]].endswith(("في ", "ل"))]
    if not cands:
        return None
    first = min(ex.entities[i]["start"] for i in cands)
    return max((i for i in cands if ex.entities[i]["start"] == first), key=lambda i: ex.entities[i]["end"])


def _person_of_title(ex: ClaimExample, i: int | None) -> int | None:
    """A source is a person, not the title beside the name (GUIDELINES §4.4): for an OCC source, the
    person named right after it (``زعيم الحركة خليل إبراهيم``) or right before it (``سيب بلاتر رئيس
    الفيفا``, a comma between allowed); else ``i``."""
    if i is None or ex.entities[i]["type"] != "OCC":
        return i
    occ = ex.entities[i]
    for j, e in enumerate(ex.entities):
        if e["type"] != "PERS":
            continue
        gap = ex.text[occ["end"]:e["start"]] if e["start"] >= occ["end"] else ex.text[e["end"]:occ["start"]] if e["end"] <= occ["start"] else None
        if gap is not None and gap.strip(" ،,") == "" and len(gap) <= 3:
            return j
    return i


def _choose_source(ex: ClaimExample, toks: list[tuple[int, int]], strs: list[str], cue: tuple[int, int] | None,
                   tagged: int | None, last: int | None) -> int | None:
    """The claim's source: (1) VSO, the speaker entity starting within two tokens after the cue
    (``قال <source>``; after ``نقل X عن Y`` it is Y, X only reports); (2) the tagger's ``SRC``; (3)
    for a cue that opens its sentence, a coordinated cue (``وأضاف``, ``ونفى``) or a cue followed by
    an anaphoric noun (``التقرير``), the previous claim's source; (4) the nearest speaker entity
    before the cue in the sentence. A title gives way to the person it names."""
    if cue is None:
        return _person_of_title(ex, tagged)
    end = toks[cue[1] - 1][1]
    vso = _entity_at(ex, end, toks[min(cue[1] + 1, len(toks) - 1)][0] + 1)
    if vso is not None:
        after = ex.text[ex.entities[vso]["end"]:ex.entities[vso]["end"] + 4]
        if after.startswith(" عن "):
            vso = _entity_at(ex, ex.entities[vso]["end"] + 4, ex.entities[vso]["end"] + 5) or vso
        return _person_of_title(ex, vso)
    if tagged is not None:
        return _person_of_title(ex, tagged)
    word = fold(strs[cue[0]])
    nxt = fold(strs[cue[1]]) if cue[1] < len(strs) else ""
    if cue[0] < _ANAPHORIC_OPENERS or (word[:1] in ("و", "ف") and _cue_word(strs[cue[0]]) != word) or nxt in _ANAPHORS:
        return last
    lo = toks[0][0]
    before = [i for i, e in enumerate(ex.entities) if lo <= e["start"] and e["end"] <= toks[cue[0]][0] and e["type"] in _SPEAKERS]
    if before:
        last_start = max(ex.entities[i]["start"] for i in before)
        return _person_of_title(ex, max((i for i in before if ex.entities[i]["start"] == last_start), key=lambda i: ex.entities[i]["end"]))
    return None


def tag_claims(model: dict[str, Any], ex: ClaimExample) -> list[dict[str, Any]]:
    """Claims of ``ex`` (entities given, e.g. predicted): ``[{content: (s, e), cue: (s, e) | None,
    source: entity index | None, via: [], speech}]`` in text order (code points, half-open)."""
    claims: list[dict[str, Any]] = []
    last_source: int | None = None
    for toks, strs, feats in _sentence_units(ex, model["cues"]):
        tags = list(model["crf"].predict_single(feats))
        runs = decode(tags)
        span = lambda a, b: (toks[a][0], toks[b - 1][1])  # noqa: E731
        cue_runs = [(a, b) for a, b, t in runs if t == "CUE"]
        src_runs = [(a, b) for a, b, t in runs if t == "SRC"]
        for a, b, t in runs:
            if t != "CONTENT":
                continue
            while b - a > 1 and fold(strs[a]) in _LEADERS:  # the complementizer opens the content, outside it
                a += 1
            cs, ce = _trim(ex.text, *span(a, b))
            ce = _quote_end(ex.text, cs, ce)
            if ce - cs < 3:
                continue
            before = [r for r in cue_runs if r[1] <= a]
            cue = max(before) if before else min(cue_runs, key=lambda r: abs(r[0] - b)) if cue_runs else None
            src = min(src_runs, key=lambda r: abs(r[0] - cue[0])) if src_runs and cue else (src_runs[0] if src_runs else None)
            source = _choose_source(ex, toks, strs, cue, _source(ex, span(*src) if src else None), last_source)
            opener = ex.text[toks[a - 1][0]:toks[a - 1][1]] if a > 0 else ""
            claims.append({"content": (cs, ce), "cue": _cue_span(ex.text, span(*cue)) if cue else None, "source": source, "via": [],
                           "speech": "direct" if any(c in opener for c in ':"“«') or ex.text[cs - 1:cs] in '"“«' else "indirect"})
            if source is not None:
                last_source = source
    return _with_rule_claims(ex, claims)


def _with_rule_claims(ex: ClaimExample, claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``claims`` and the gazetteer pre-annotator's cue-rule claims whose content overlaps none of
    them (the rules' recall where the tagger found nothing), in text order."""
    from khabar.annotate.preannotate import find_claims

    sentences = [{"start": s, "end": e} for s, e in ex.sentences]
    for r in find_claims(ex.text, sentences, ex.entities):
        if not any(c["content"][0] < r["content"][1] and r["content"][0] < c["content"][1] for c in claims):
            claims.append({"content": r["content"], "cue": r["cue"], "source": r["source"], "via": r["via"], "speech": r["speech"]})
    return sorted(claims, key=lambda c: c["content"])

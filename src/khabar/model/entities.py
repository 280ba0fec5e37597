"""The trained entity tagger: two linear-chain CRFs (outer layer, then the layer nested in it)
over tokens of the normalised view, and the proclitic rule that turns token spans into the
guidelines' character spans.

Training examples are :class:`Example` s: a text, its sentence ranges and its entities (Wojood
types, code-point offsets, half-open), whether they come from the corpus's gold or from a CoNLL
file (tokens joined by spaces). Tokens follow :func:`khabar.text.tokens.tokenize`; tags are IOB2
per layer (:func:`khabar.text.bio.bio_layers`, depth 2: a third level of nesting is not learned).
The second CRF sees the first layer's tag of each token and its neighbours (gold in training,
predicted when tagging), the cascade of nested NER with CRFs (Alex et al. 2007).

Character spans: clitics are not split into tokens, but the guidelines (§3.1) start a span after
the proclitics و ف ب ك ل and keep the article (``للحكومة`` -> ``لحكومة``). :class:`Clitics` learns
this from the training examples' spans that start inside a token; a token not seen there loses its
proclitic letters only if what remains is a word of the training texts.

Public API: :class:`Example`, :class:`Clitics`, :func:`train_entities`, :func:`tag_entities`,
:data:`CRF_SETTINGS`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from khabar.annotate.preannotate import find_entities
from khabar.model.features import COMPLEMENTIZERS, GUIDELINE_CUES, fold, sentence_features, stem
from khabar.text.bio import bio_layers
from khabar.text.tokens import tokenize

__all__ = ["Example", "Clitics", "train_entities", "tag_entities", "CRF_SETTINGS", "decode"]

#: CRFsuite settings (L-BFGS, elastic net); chosen by 5-fold cross-validation on the train split
CRF_SETTINGS = {"algorithm": "lbfgs", "c1": 0.1, "c2": 0.5, "max_iterations": 150, "all_possible_transitions": True}
_PROCLITICS = re.compile(r"^(?:[وف][بكل]|[وفبكل])")


@dataclass
class Example:
    """One training or tagging unit: ``text`` (the normalised view), ``sentences`` as
    ``[(start, end)]`` and ``entities`` as ``[{start, end, type}]`` (code points, half-open)."""

    text: str
    sentences: list[tuple[int, int]]
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Clitics:
    """How many leading characters of an entity's first token are proclitics, not the entity.

    Attributes:
        seen: ``{folded token: characters cut}`` as most often in training (0 included).
        words: folded words of the training texts (a remainder that is one of them is a word).
    """

    seen: dict[str, int] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)

    def cut(self, token: str) -> int:
        """Characters to cut from the start of ``token`` (0, 1 or 2)."""
        f = fold(token)
        if f in self.seen:
            return self.seen[f]
        if f.startswith(("لل", "ولل", "فلل")) and len(f) > 3:
            return len(f) - len(f.lstrip("وف")) + 1  # ل + the article whose alef dropped
        m = _PROCLITICS.match(f)
        for k in ([m.end(), 1] if m else []):
            rest = f[k:]
            if len(rest) >= 2 and (rest in self.words or rest.startswith("ال")):
                return k
        return 0

    @classmethod
    def learn(cls, examples: Sequence[Example]) -> "Clitics":
        votes: dict[str, Counter] = defaultdict(Counter)
        words: set[str] = set()
        for ex in examples:
            toks = tokenize(ex.text)
            words.update(fold(ex.text[s:e]) for s, e in toks)
            by_start = {s: (s, e) for s, e in toks}
            starts = sorted(by_start)
            import bisect
            for ent in ex.entities:
                i = bisect.bisect_right(starts, ent["start"]) - 1
                if i < 0:
                    continue
                s, e = by_start[starts[i]]
                if s <= ent["start"] < e and ent["start"] - s <= 3:
                    votes[fold(ex.text[s:e])][ent["start"] - s] += 1
        seen = {tok: c.most_common(1)[0][0] for tok, c in votes.items()}
        return cls(seen, words)


def _stems(ex: Example) -> set[str]:
    return {stem(ex.text[s:e]) for s, e in tokenize(ex.text)}


def doc_frequencies(examples: Sequence[Example]) -> dict[str, int]:
    """``{stem: number of examples holding it}`` (see :func:`khabar.model.features.stem`)."""
    df: Counter = Counter()
    for ex in examples:
        df.update(_stems(ex))
    return dict(df)


#: longest name (in tokens) the lexicon of training names matches
LEXICON_MAX = 6


def _names(ex: Example) -> set[tuple[tuple[str, ...], str]]:
    """The entity mentions of ``ex`` as ``(stems of their tokens, type)``, each once."""
    out = set()
    for ent in ex.entities:
        toks = tokenize(ex.text, ent["start"], ent["end"])
        if 0 < len(toks) <= LEXICON_MAX:
            out.add((tuple(stem(ex.text[a:b]) for a, b in toks), ent["type"]))
    return out


def lexicon(examples: Sequence[Example]) -> dict[tuple[str, ...], dict[str, int]]:
    """``{stems of a name: {type: number of training documents naming it so}}``."""
    lex: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    for ex in examples:
        for key, typ in _names(ex):
            lex[key][typ] += 1
    return {k: dict(v) for k, v in lex.items()}


def _lexicon_tags(stems: list[str], lex: dict[tuple[str, ...], dict[str, int]]) -> list[str]:
    """IOB2 tags of the longest names of ``lex`` in a sentence (greedy, left to right)."""
    tags = ["O"] * len(stems)
    i = 0
    while i < len(stems):
        for n in range(min(LEXICON_MAX, len(stems) - i), 0, -1):
            hit = lex.get(tuple(stems[i:i + n]))
            if hit:
                typ = max(sorted(hit), key=lambda t: hit[t])
                tags[i:i + n] = [f"B-{typ}"] + [f"I-{typ}"] * (n - 1)
                i += n
                break
        else:
            i += 1
    return tags


def _units(ex: Example, df: dict[str, int] | None = None, own: bool = False,
           lex: dict[tuple[str, ...], dict[str, int]] | None = None) -> list[tuple[list[tuple[int, int]], list[str], list[dict[str, Any]]]]:
    """Per sentence: token offsets, token strings, features. With ``own``, ``ex`` is one of the
    documents counted in ``df`` and ``lex`` and is left out of their counts (so a training
    document's names look as rare, and as unknown, as an unseen document's)."""
    rules = find_entities(ex.text)
    if df is not None and own:
        mine = _stems(ex)
        df = {k: v - (k in mine) for k, v in df.items()}
    if lex is not None and own:
        named = _names(ex)
        lex = {k: {t: n - ((k, t) in named) for t, n in v.items()} for k, v in lex.items()}
        lex = {k: {t: n for t, n in v.items() if n > 0} for k, v in lex.items()}
        lex = {k: v for k, v in lex.items() if v}
    out = []
    rep = Counter(stem(ex.text[a:b]) for a, b in tokenize(ex.text))
    for s, e in ex.sentences:
        toks = tokenize(ex.text, s, e)
        if not toks:
            continue
        layers = bio_layers(toks, [r for r in rules if s <= r["start"] and r["end"] <= e], depth=2).tags
        strs = [ex.text[a:b] for a, b in toks]
        feats = sentence_features(strs, list(zip(layers[0], layers[1])), df, rep)
        if lex is not None:
            ltags = _lexicon_tags([f["stem"] for f in feats], lex)
            for i, f in enumerate(feats):
                f["lex"] = ltags[i]
                f["-1:lex"] = ltags[i - 1] if i else "BOS"
                f["+1:lex"] = ltags[i + 1] if i + 1 < len(ltags) else "EOS"
        out.append((toks, strs, feats))
    return out


def _with_outer(feats: list[dict[str, Any]], outer: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for i, f in enumerate(feats):
        x = dict(f)
        x["L1"] = outer[i]
        for off in (-1, 1):
            if 0 <= i + off < len(outer):
                x[f"{off:+d}:L1"] = outer[i + off]
        out.append(x)
    return out


def train_entities(examples: Sequence[Example], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the two CRFs and the clitic rule on ``examples``.

    Returns:
        ``{"outer": CRF, "inner": CRF, "clitics": Clitics, "settings": dict}``.

    Raises:
        ValueError: no example holds a token.
    """
    import sklearn_crfsuite

    X1, Y1, X2, Y2 = [], [], [], []
    df = doc_frequencies(examples)
    lex = lexicon(examples)
    for ex in examples:
        for toks, strs, feats in _units(ex, df, own=True, lex=lex):
            s, e = toks[0][0], toks[-1][1]
            tags = bio_layers(toks, [x for x in ex.entities if s <= x["start"] and x["end"] <= e], depth=2).tags
            X1.append(feats)
            Y1.append(tags[0])
            X2.append(_with_outer(feats, tags[0]))
            Y2.append(tags[1])
    if not X1:
        raise ValueError("no tokens to train the entity tagger on")
    settings = dict(settings or CRF_SETTINGS)
    outer = sklearn_crfsuite.CRF(**settings)
    outer.fit(X1, Y1)
    inner = sklearn_crfsuite.CRF(**settings)
    inner.fit(X2, Y2)
    return {"outer": outer, "inner": inner, "clitics": Clitics.learn(examples), "settings": settings, "df": df, "lexicon": lex}


def decode(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """``[(first, stop, type)]`` token ranges of an IOB2 sequence (lenient: ``I-X`` after ``O`` or
    another type starts an ``X``, as CoNLL's ``conlleval``)."""
    out: list[tuple[int, int, str]] = []
    first, typ = -1, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, name = tag.partition("-")
        if typ is not None and (tag == "O" or prefix == "B" or name != typ):
            out.append((first, i, typ))
            typ = None
        if tag != "O" and typ is None:
            first, typ = i, name
    return out


def tag_entities(model: dict[str, Any], ex: Example) -> list[dict[str, Any]]:
    """Entities of ``ex.text`` (the normalised view): ``[{start, end, type}]`` sorted by start,
    outer before nested; character spans with proclitics cut (see :class:`Clitics`). The gazetteer
    pre-annotator's entities (not CARDINAL) are added where they overlap nothing the CRFs found, and
    names found once are tagged at their other mentions (:func:`_propagate`)."""
    found: dict[tuple[int, int], str] = {}
    clitics: Clitics = model["clitics"]
    for toks, strs, feats in _units(ex, model.get("df"), lex=model.get("lexicon")):
        outer = list(model["outer"].predict_single(feats))
        inner = list(model["inner"].predict_single(_with_outer(feats, outer)))
        for layer in (outer, inner):
            for a, b, typ in decode(layer):
                s = toks[a][0] + clitics.cut(strs[a])
                if s >= toks[b - 1][1]:
                    s = toks[a][0]
                found.setdefault((s, toks[b - 1][1]), typ)
        if model.get("names_after_triggers", True):
            _names_after_triggers(toks, strs, found, model.get("df") or {})
    for r in find_entities(ex.text):  # the gazetteers' finds where the tagger found nothing
        if r["type"] not in _NOT_FROM_RULES and not any(a < r["end"] and r["start"] < b for a, b in found):
            found[(r["start"], r["end"])] = r["type"]
    if model.get("propagate", True):
        _propagate(ex.text, found, model.get("df") or {})
    return [{"start": s, "end": e, "type": t} for (s, e), t in sorted(found.items(), key=lambda x: (x[0][0], -x[0][1]))]


def _names_after_triggers(toks: list[tuple[int, int]], strs: list[str], found: dict[tuple[int, int], str],
                          df: dict[str, int]) -> None:
    """Title + name and cue + name (GUIDELINES §3.2, §4.4): one to three words right after a title
    the tagger found (an OCC entity) or after a reporting cue (``قال``), each rare in the training
    documents (document frequency <= 1), without the article and not a cue or complementizer, are a
    person (PERS) when they overlap nothing found: ``الباحث آد ستون``, ``قال تيري``."""
    occ_ends = {e for (s, e), t in found.items() if t == "OCC"}
    for i in range(len(toks) - 1):
        f = fold(strs[i])
        word = f[1:] if f[:1] in ("و", "ف") and len(f) > 3 else f
        if toks[i][1] not in occ_ends and word not in GUIDELINE_CUES:
            continue
        j = i + 1
        while j < len(toks) and j - i <= 3:
            w = fold(strs[j])
            if (not w.isalpha() or w.startswith("ال") or df.get(stem(strs[j]), 0) > 1 or w in GUIDELINE_CUES
                    or w in COMPLEMENTIZERS or len(w) < 2):
                break
            j += 1
        if j > i + 1:
            s, e = toks[i + 1][0], toks[j - 1][1]
            if not any(a < e and s < b for a, b in found):
                found[(s, e)] = "PERS"


#: gazetteer types not added where the tagger found nothing (a bare number is CARDINAL too often)
_NOT_FROM_RULES = frozenset({"CARDINAL"})
#: types whose names recur in a document (one sense per discourse, Gale et al. 1992)
_NAMES = ("PERS", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT")


def _propagate(text: str, found: dict[tuple[int, int], str], df: dict[str, int]) -> None:
    """Tag the other mentions of a name the tagger found once in the document: the same string,
    and for a person of two or more words the last word alone (a later ``بلاتر`` after ``سيب
    بلاتر``), when that word is rare in the training documents (document frequency < 3) and the
    mention overlaps nothing already found."""
    names: dict[str, str] = {}
    for (s, e), t in found.items():
        if t in _NAMES:
            names.setdefault(text[s:e], t)
            words = text[s:e].split()
            if t == "PERS" and len(words) >= 2 and len(words[-1]) >= 3 and df.get(stem(words[-1]), 0) < 3:
                names.setdefault(words[-1], t)
    taken = sorted(found)
    for name, t in sorted(names.items(), key=lambda x: -len(x[0])):
        for m in re.finditer(rf"(?<![\w])(?:[وفبكل]|[وف][بكل])?({re.escape(name)})(?![\w])", text):
            s, e = m.span(1)
            if not any(a < e and s < b for a, b in taken):
                found[(s, e)] = t
                taken.append((s, e))

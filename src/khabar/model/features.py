"""Token features of the trained entity tagger (CRFsuite feature dicts).

A token's features read its *folded* form (:func:`fold`: the normalised view's letters with
alef forms, alef maqsura and ta marbuta folded, as is usual for Arabic matching), its stem
without proclitics and article (:func:`stem`), its prefixes and suffixes, its shape, the tags the
gazetteer pre-annotator gives it (``rule``: the outer tag, ``rule2``: the tag nested in it; the
"gazetteers as features" combination of Arabic NER work such as Benajiba & Rosso 2008), and the
same of its neighbours at -2..+2. Every feature is a string or a float: CRFsuite hashes nothing,
so the same rows always give the same model.

Public API: :func:`fold`, :func:`stem`, :func:`sentence_features`, :data:`FEATURES`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Sequence

__all__ = ["fold", "stem", "sentence_features", "with_window", "FEATURES", "GUIDELINE_CUES", "COMPLEMENTIZERS"]


def _f(word: str) -> str:
    return word.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"}))

#: the features of one token (documented for the model card)
FEATURES = ["bias", "df (document frequency bucket of the stem)", "rep, rep|df (times the stem recurs in its document)", "w (folded token)", "stem (no proclitic, no article)", "p1..p3 / s1..s3 (prefixes, suffixes)",
            "stem s2/s3", "shape (arabic, latin, digit, punct, mixed)", "len (capped at 10)", "al (has the article)",
            "clitic (proclitic letters before the stem)", "rule / rule2 (gazetteer pre-annotator's outer and nested tag)",
            "lex, -1:lex, +1:lex (the longest name of the training documents' lexicon covering the token, another document's when training)",
            "[-2..+2]: w, stem, rule, s2 of neighbours", "BOS / EOS"]

#: reporting cues of annotations/GUIDELINES.md §4.2 (folded, without proclitic)
GUIDELINE_CUES = frozenset(_f(w) for w in (
    "قال قالت يقول تقول اعلن اعلنت يعلن تعلن اكد اكدت يؤكد تؤكد اضاف اضافت زعم زعمت يزعم نقل نقلت كشف كشفت "
    "اعترف اعترفت ذكر ذكرت افاد افادت صرح صرحت اوضح اوضحت كتب كتبت اشار اشارت حذر حذرت توقع توقعت يتوقع "
    "نفى نفت ينفي تنفي اتهم اتهمت يتهم تتهم طالب طالبت يطالب تطالب دعا دعت يدعو تدعو بحسب حسب وفقا قائلا قائلة "
    "تابع تابعت شدد شددت اعتبر اعتبرت يرى ترى").split())
#: words that open a content clause
COMPLEMENTIZERS = frozenset(_f(w) for w in "أن إن بأن وأن فإن أنه أنها إنه إنها أننا إننا".split())


_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_STEM = re.compile(r"^(?:[وف]?(?:[بكل](?=ال|ل))?)(?:ال|(?<=ل)ل)?")


def fold(token: str) -> str:
    """``token`` with alef forms as ``ا``, alef maqsura as ``ي`` and ta marbuta as ``ه``
    (the token should come from the normalised view: no diacritics or tatweel)."""
    return token.translate(_FOLD)


def stem(token: str) -> str:
    """The folded token without a proclitic (و ف, then ب ك ل) before the article, and without the
    article: ``والحكومه`` -> ``حكومه``, ``للحكومه`` -> ``حكومه``; at least two letters are kept."""
    f = fold(token)
    m = _STEM.match(f)
    cut = m.end() if m else 0
    if not f.startswith(("وال", "فال", "بال", "كال", "لل", "ال", "وبال", "فبال", "ولل", "فلل", "وكال")):
        cut = 0
    return f[cut:] if len(f) - cut >= 2 else f


def _shape(token: str) -> str:
    cats = {unicodedata.category(c)[0] for c in token}
    if cats <= {"P", "S"}:
        return "punct"
    if cats <= {"N"}:
        return "digit"
    names = {unicodedata.name(c, "?").split(" ")[0] for c in token if unicodedata.category(c)[0] in "LM"}
    return "arabic" if names == {"ARABIC"} else "latin" if names == {"LATIN"} else "mixed"


def _rarity(stem_: str, df: dict[str, int] | None) -> str:
    if df is None:
        return "?"
    n = df.get(stem_, 0)
    return "0" if n == 0 else "1" if n == 1 else "2-3" if n <= 3 else "4-9" if n <= 9 else "10+"


def _own(token: str, rule: tuple[str, str], df: dict[str, int] | None = None) -> dict[str, Any]:
    f = fold(token)
    s = stem(token)
    out: dict[str, Any] = {"bias": 1.0, "df": _rarity(s, df), "w": f, "stem": s, "shape": _shape(token), "len": str(min(len(f), 10)),
                           "al": s != f, "clitic": f[:len(f) - len(s)] if s != f else "", "rule": rule[0], "rule2": rule[1],
                           "ss2": s[-2:], "ss3": s[-3:]}
    for k in (1, 2, 3):
        out[f"p{k}"], out[f"s{k}"] = f[:k], f[-k:]
    return out


def sentence_features(tokens: Sequence[str], rules: Sequence[tuple[str, str]],
                      df: dict[str, int] | None = None, rep: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """CRFsuite feature dicts of a sentence's tokens.

    Args:
        tokens: the token strings (of the normalised view).
        rules: per token, the gazetteer pre-annotator's ``(outer tag, nested tag)`` in IOB2
            (``"O"`` where it found nothing); as long as ``tokens``.
        df: ``{stem: number of training documents holding it}``; a stem's bucket (0, 1, 2-3,
            4-9, 10+) tells a rare word (often a name) from a common one.
        rep: ``{stem: times in this document}``; a rare word that recurs in its document is
            often a name (bucket 1, 2, 3+).

    Returns:
        One dict per token (see :data:`FEATURES`).
    """
    own = [_own(t, r, df) for t, r in zip(tokens, rules)]
    if rep is not None:
        for f in own:
            n = rep.get(f["stem"], 0)
            f["rep"] = "1" if n <= 1 else "2" if n == 2 else "3+"
            f["rep|df"] = f["rep"] + "|" + f["df"]
    return [with_window(dict(f), own, i, (-2, -1, 1, 2), ("w", "stem", "rule", "s2", "df")) for i, f in enumerate(own)]


def with_window(x: dict[str, Any], own: Sequence[dict[str, Any]], i: int, offsets: Sequence[int],
                keys: Sequence[str]) -> dict[str, Any]:
    """``x`` (the features of token ``i``) with ``keys`` of the tokens at ``offsets`` from it
    (``"-1:w"`` …, in that order; tokens past an edge are left out) and ``BOS``/``EOS`` at the
    sentence's edges. ``own`` holds every token's own features."""
    for off in offsets:
        if 0 <= i + off < len(own):
            n = own[i + off]
            x.update({f"{off:+d}:{k}": n[k] for k in keys})
    if i == 0:
        x["BOS"] = True
    if i == len(own) - 1:
        x["EOS"] = True
    return x

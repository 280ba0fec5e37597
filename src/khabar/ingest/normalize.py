"""The text of record, and the edits that made it from the decoded seed.

Rules, in order (each edit records its rule id):

``newline``
    ``\\r\\n``, lone ``\\r``, U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR become ``\\n``.
``invisible-control``
    Invisible bidi and format controls are removed: U+061C ALM, U+200E LRM, U+200F RLM,
    U+202A..U+202E (embeddings and overrides), U+2066..U+2069 (isolates), U+200B ZWSP,
    U+2060 WJ, U+FEFF ZWNBSP/BOM, U+00AD SOFT HYPHEN. ZWNJ (U+200C) and ZWJ (U+200D) are kept:
    they change how Arabic letters join, which is orthography.
``presentation-form``
    Arabic presentation forms (U+FB50..U+FDFF, U+FE70..U+FEFE: contextual glyph codes that some
    PDF and legacy-font text carries) become the standard letters they stand for (their NFKC
    compatibility decomposition: U+FEFB LAM-ALEF ligature -> لا, U+FE8D ALEF isolated -> ا).
    A code point there with no decomposition (U+FD3E/U+FD3F ornate parentheses) is kept.
``nfc``
    Unicode Normalization Form C (UAX #15).

Nothing else changes: no alef/ya/ta-marbuta folding, no diacritic or tatweel stripping.

An :class:`Edit` maps a range of its source text to a range of its result; ranges are code
points, half-open. :func:`compose` chains two steps' edits, so the final list maps the decoded
seed straight to the text of record, and :mod:`khabar.ingest.rawmap` maps that on to raw bytes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

__all__ = ["Edit", "normalize", "compose", "check_edits", "REMOVED_CONTROLS"]

REMOVED_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u2060\ufeff\u00ad"
_NEWLINE = re.compile("\r\n|\r|\u2028|\u2029")
_CONTROL = re.compile("[" + REMOVED_CONTROLS + "]+")
# a starter followed by its combining marks: where NFC may change something
_CLUSTER = re.compile(r"[^\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u08d3-\u08ff]?"
                      r"[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u08d3-\u08ff]+")


@dataclass(frozen=True)
class Edit:
    """``src[src_start:src_end]`` became ``dst[dst_start:dst_end]`` under ``rule``."""

    src_start: int
    src_end: int
    dst_start: int
    dst_end: int
    rule: str


def _regex_step(text: str, pattern: re.Pattern[str], repl: str | Callable[[str], str], rule: str) -> tuple[str, list[Edit]]:
    """Replace each match of ``pattern`` by ``repl`` (a string, or a function of the matched text),
    one :class:`Edit` of ``rule`` per match that changes."""
    out: list[str] = []
    edits: list[Edit] = []
    last = 0
    shift = 0
    for m in pattern.finditer(text):
        new = repl(m.group()) if callable(repl) else repl
        if m.group() == new:
            continue
        out.append(text[last:m.start()])
        out.append(new)
        dst_start = m.start() + shift
        edits.append(Edit(m.start(), m.end(), dst_start, dst_start + len(new), rule))
        shift += len(new) - (m.end() - m.start())
        last = m.end()
    if not edits:
        return text, []
    out.append(text[last:])
    return "".join(out), edits


_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")


def _presentation_step(text: str) -> tuple[str, list[Edit]]:
    """Fold Arabic presentation forms to standard letters (NFKC), one edit per folded code point."""
    return _regex_step(text, _PRESENTATION, lambda ch: unicodedata.normalize("NFKC", ch), "presentation-form")


def _nfc_step(text: str) -> tuple[str, list[Edit]]:
    if unicodedata.is_normalized("NFC", text):
        return text, []
    target = unicodedata.normalize("NFC", text)
    out: list[str] = []
    edits: list[Edit] = []
    last = shift = 0
    for m in _CLUSTER.finditer(text):
        norm = unicodedata.normalize("NFC", m.group())
        if norm == m.group():
            continue
        out.append(text[last:m.start()])
        out.append(norm)
        dst_start = m.start() + shift
        edits.append(Edit(m.start(), m.end(), dst_start, dst_start + len(norm), "nfc"))
        shift += len(norm) - (m.end() - m.start())
        last = m.end()
    out.append(text[last:])
    result = "".join(out)
    if result == target:
        return result, edits
    # a composition across starters (Hangul jamo, some Indic vowel signs): one edit over the
    # smallest range that differs, found by common prefix and suffix.
    p = 0
    while p < min(len(text), len(target)) and text[p] == target[p]:
        p += 1
    s = 0
    while s < min(len(text), len(target)) - p and text[-1 - s] == target[-1 - s]:
        s += 1
    return target, [Edit(p, len(text) - s, p, len(target) - s, "nfc")]


def _delta(e: Edit) -> int:
    return (e.dst_end - e.dst_start) - (e.src_end - e.src_start)


def compose(first: list[Edit], second: list[Edit]) -> list[Edit]:
    """Chain edits ``first`` (s0 -> s1) and ``second`` (s1 -> s2) into edits s0 -> s2.

    Edits that overlap in s1 merge into one edit whose rule joins theirs with ``+``.
    Both inputs must be sorted and non-overlapping, as :func:`normalize`'s steps make them.
    """
    if not first:
        return list(second)
    if not second:
        return list(first)
    items = sorted([(e.dst_start, e.dst_end, 0, i) for i, e in enumerate(first)]
                   + [(e.src_start, e.src_end, 1, i) for i, e in enumerate(second)])
    groups: list[list[tuple[int, int, int, int]]] = []
    end = -1
    for item in items:
        if groups and item[0] < end:
            groups[-1].append(item)
            end = max(end, item[1])
        else:
            groups.append([item])
            end = item[1]
    out: list[Edit] = []
    for group in groups:
        g0 = min(i[0] for i in group)
        g1 = max(i[1] for i in group)
        in_a = {i[3] for i in group if i[2] == 0}
        in_b = {i[3] for i in group if i[2] == 1}
        s0_start = g0 - sum(_delta(e) for i, e in enumerate(first) if i not in in_a and e.dst_end <= g0)
        s0_end = g1 - sum(_delta(e) for i, e in enumerate(first)
                          if i in in_a or (e.dst_end <= g1 and e.dst_start < g1))
        s2_start = g0 + sum(_delta(e) for i, e in enumerate(second) if i not in in_b and e.src_end <= g0)
        s2_end = g1 + sum(_delta(e) for i, e in enumerate(second)
                          if i in in_b or (e.src_end <= g1 and e.src_start < g1))
        rules: list[str] = []
        for e in [first[i] for i in sorted(in_a)] + [second[i] for i in sorted(in_b)]:
            for r in e.rule.split("+"):
                if r not in rules:
                    rules.append(r)
        out.append(Edit(s0_start, s0_end, s2_start, s2_end, "+".join(rules)))
    return out


def check_edits(src: str, dst: str, edits: list[Edit]) -> bool:
    """True when ``edits`` explain ``dst`` from ``src`` exactly: outside the edits the two
    texts are equal, and each edit's ranges are in order and in bounds."""
    i = j = 0
    for e in edits:
        if e.src_start < i or e.dst_start < j or e.src_end < e.src_start or e.dst_end < e.dst_start:
            return False
        if e.src_start - i != e.dst_start - j or src[i:e.src_start] != dst[j:e.dst_start]:
            return False
        i, j = e.src_end, e.dst_end
    return len(src) - i == len(dst) - j and src[i:] == dst[j:] and i <= len(src) and j <= len(dst)


def normalize(decoded: str) -> tuple[str, list[Edit]]:
    """Return ``(text_of_record, edits)`` for a decoded seed text.

    ``edits`` map ranges of ``decoded`` to ranges of the text of record, in order and
    non-overlapping; outside them the two texts are equal character for character.
    """
    t1, e1 = _regex_step(decoded, _NEWLINE, "\n", "newline")
    t2, e2 = _regex_step(t1, _CONTROL, "", "invisible-control")
    t3, e3 = _presentation_step(t2)
    t4, e4 = _nfc_step(t3)
    return t4, compose(compose(compose(e1, e2), e3), e4)

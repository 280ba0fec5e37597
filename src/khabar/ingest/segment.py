"""Headline, paragraphs and sentences of a text of record, as code-point offset ranges.

Why not a library: pysbd's Arabic rules (the one maintained splitter with Arabic support and
character spans) also split at the Arabic comma ``،``, a clause separator; on the seed
article it gave 56 segments such as ``وفي هذا الصدد، `` and a lone ``”``. The rules here are
the ones the corpus needs, stated once:

* news seeds put one paragraph per line, so a paragraph is one non-blank line, without its
  surrounding white space;
* a sentence ends after ``.`` ``!`` ``?`` ``؟`` ``؛`` or ``…`` (runs of them), plus any closing
  quotes or brackets (``” " » ’ ) ]``), when white space or the paragraph end follows; a period
  after a single letter (an abbreviation such as ``د.``) does not end a sentence; a
  paragraph end always ends one;
* ranges never start or end with white space, and a run with no letter or digit (a stray
  ``|``) is no sentence.
"""

from __future__ import annotations

import re

__all__ = ["paragraphs", "sentences", "headline"]

_LINE = re.compile(r"[^\n]+")
_END = re.compile(r"[.!?؟؛…]+[”\"»’)\]]*(?=\s|$)")
_ABBREV = re.compile(r"(?:^|\s)\w\.$")


def _strip(text: str, start: int, end: int, need_word: bool = False) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or (need_word and not any(ch.isalnum() for ch in text[start:end])):
        return None
    return start, end


def paragraphs(text: str) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of non-blank lines, stripped of white space."""
    out = []
    for m in _LINE.finditer(text):
        r = _strip(text, m.start(), m.end())
        if r:
            out.append(r)
    return out


def headline(text: str) -> tuple[int, int]:
    """The first paragraph, taken as the headline. Raises ValueError on a blank text."""
    paras = paragraphs(text)
    if not paras:
        raise ValueError("blank text has no headline")
    return paras[0]


def sentences(text: str, paras: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` sentence ranges inside the paragraphs, in text order."""
    out = []
    for p0, p1 in paras if paras is not None else paragraphs(text):
        chunk = text[p0:p1]
        last = 0
        for m in _END.finditer(chunk):
            if m.group()[0] == "." and len(m.group()) == 1 and _ABBREV.search(chunk, max(0, m.start() - 2), m.end()):
                continue
            r = _strip(text, p0 + last, p0 + m.end(), need_word=True)
            if r:
                out.append(r)
            last = m.end()
        r = _strip(text, p0 + last, p1, need_word=True)
        if r:
            out.append(r)
    return out

"""Suspected artifacts, flagged with their spans and never deleted.

Each rule is a kind in ``FlagKind`` of ``schema/labels.schema.json``:

``markup-remnant``
    a white-space-delimited token holding ``<`` or ``>`` that is not a numeric comparison
    (the seed's ``ص>``);
``stray-separator``
    a ``|`` or ``¦`` standing alone between white space or at a line end (the seed's `` |``);
``unbalanced-quote``
    in a paragraph, a ``“`` with no ``”`` after it, a ``”`` with no ``“`` before it, or a ``“``
    that closes a quote opened by ``“`` (the seed's ``“الشيعة السوداني“``);
``translation-artifact``
    each evidence string of the seeds manifest, at every place it occurs.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["find_flags"]

_MARKUP = re.compile(r"(?<!\S)(?=\S*[<>])(?![<>=]?\s*[0-9])\S+")
_QUOTE = re.compile("[“”]")
_SEPARATOR = re.compile(r"(?:(?<=\s)|^)[|¦](?=\s|$)", re.M)


def _quotes(text: str, paras: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    out = []
    for p0, p1 in paras:
        open_at: int | None = None
        for m in _QUOTE.finditer(text, p0, p1):
            i, ch = m.start(), m.group()
            if ch == "“":
                if open_at is None:
                    open_at = i
                else:  # “ used to close
                    out.append((open_at, i + 1, "an opening quotation mark “ closes the quote"))
                    open_at = None
            elif ch == "”":
                if open_at is None:
                    out.append((i, i + 1, "closing ” with no opening “ in its paragraph"))
                open_at = None
        if open_at is not None:
            out.append((open_at, open_at + 1, "opening “ with no closing ” in its paragraph"))
    return out


def find_flags(text: str, paras: list[tuple[int, int]], evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All flags of a text of record, sorted by (start, end, kind).

    Args:
        text: the text of record.
        paras: its paragraph ranges (:func:`khabar.ingest.segment.paragraphs`).
        evidence: the seed's ``translation_evidence`` from the manifest.

    Returns:
        ``[{kind, start, end, text, note}]`` with code-point offsets, ``text == text[start:end]``.
    """
    flags = []
    for m in _MARKUP.finditer(text):
        flags.append(("markup-remnant", m.start(), m.end(), "a stray < or > (markup left from the source page)"))
    for m in _SEPARATOR.finditer(text):
        flags.append(("stray-separator", m.start(), m.end(), "a lone separator (page template left-over)"))
    for s, e, note in _quotes(text, paras):
        flags.append(("unbalanced-quote", s, e, note))
    for ev in evidence:
        for m in re.finditer(re.escape(ev["text"]), text):
            flags.append(("translation-artifact", m.start(), m.end(), f"{ev['kind']}: {ev['note']}"))
    flags.sort(key=lambda f: (f[1], f[2], f[0]))
    return [{"kind": k, "start": s, "end": e, "text": text[s:e], "note": n} for k, s, e, n in flags]

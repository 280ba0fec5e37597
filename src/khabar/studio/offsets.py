"""Offsets as Label Studio stores them, read back as Unicode code points.

Khabar's offsets are Unicode code points, half-open ``[start, end)`` into the document's
``text`` (Python ``str`` slicing). The labeling UI of label-studio 1.23.2 stores code points
too, but older versions and some exports carried UTF-16 code units, which differ by one after
every character outside the Basic Multilingual Plane (emoji, U+10000 and up): see
HumanSignal/label-studio#1347 and ``../shared/cases/01-ls-emoji-utf16-offsets.json``.

:func:`resolve_span` accepts a span only where exactly one reading reproduces the region's text.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from khabar.core.checks import short_repr

__all__ = ["Utf16Index", "resolve_span", "SpanReading"]


class Utf16Index:
    """Maps between code-point and UTF-16 code-unit offsets of one text.

    Args:
        text: the document text (a ``str``).
    """

    def __init__(self, text: str):
        self.text = text
        # code-point positions of astral characters (each takes two UTF-16 units)
        self.astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]

    @property
    def differs(self) -> bool:
        """True when some offsets differ between the two units (the text has astral characters)."""
        return bool(self.astral)

    def to_utf16(self, cp: int) -> int:
        """UTF-16 offset of code-point offset ``cp`` (``0 <= cp <= len(text)``)."""
        return cp + bisect_right(self.astral, cp - 1)

    def from_utf16(self, unit: int) -> int | None:
        """Code-point offset of UTF-16 offset ``unit``, or None if it falls inside a surrogate pair
        or beyond the text."""
        lo, hi = 0, len(self.text)
        while lo <= hi:  # smallest cp with to_utf16(cp) >= unit
            mid = (lo + hi) // 2
            if self.to_utf16(mid) < unit:
                lo = mid + 1
            else:
                hi = mid - 1
        if lo > len(self.text) or self.to_utf16(lo) != unit:
            return None
        return lo


@dataclass(frozen=True)
class SpanReading:
    """The outcome of :func:`resolve_span`: code-point ``start``/``end`` and the ``unit`` that
    matched (``"code-point"``, ``"utf-16"``, or ``"either"`` where both give the same span), or
    ``error`` (a reason) when none or both (at different places) matched."""

    start: int | None
    end: int | None
    unit: str | None
    error: str | None = None
    whitespace: bool = False  # value.text equals the span's text only once white space is collapsed


def resolve_span(index: Utf16Index, start: object, end: object, expected: str | None) -> SpanReading:
    """Read ``start``/``end`` from a Label Studio region as code points.

    Args:
        index: the :class:`Utf16Index` of the task's text.
        start, end: the region's ``value.start``/``value.end`` (must be ints).
        expected: the region's ``value.text`` (None when the result carries none).

    Returns:
        A :class:`SpanReading`. Rules: offsets must be integers with ``0 <= start < end``. With no
        astral character in the text both units agree and the span is accepted if it lies in the
        text and equals ``expected`` (when given). Otherwise each reading is tried; exactly one must
        reproduce ``expected`` — no text, or both readings matching different places, is an error.
        When no reading equals ``expected`` but one does once runs of white space are collapsed
        (Label Studio shows text without ``white-space: pre-wrap`` collapsed, and stores that),
        the span is accepted with ``whitespace`` set: the offsets win, the caller warns.
    """
    if type(start) is not int or type(end) is not int:
        return SpanReading(None, None, None, f"offsets must be integers, got start={start!r} end={end!r}")
    exact = _resolve(index, start, end, expected)
    if exact.error is None or expected is None or not expected.strip():
        return exact
    squeezed = " ".join(expected.split())
    loose = _resolve(index, start, end, None, lambda got: " ".join(got.split()) == squeezed)
    if loose.error is None:
        return SpanReading(loose.start, loose.end, loose.unit, None, whitespace=True)
    return exact


def _resolve(index: Utf16Index, start: int, end: int, expected: str | None, same=None) -> SpanReading:
    """:func:`resolve_span` with ``same(got)`` deciding whether a reading's text matches (default:
    equal to ``expected``)."""
    text = index.text
    matches = same if same is not None else (lambda got: expected is None or got == expected)
    if same is not None:
        expected = ""  # a text is given (compared by ``same``)
    if not 0 <= start < end:
        return SpanReading(None, None, None, f"[{start}, {end}) is empty or negative")
    cp_ok = end <= len(text) and matches(text[start:end])
    if not index.differs:
        if cp_ok:
            return SpanReading(start, end, "code-point")
        if end > len(text):
            return SpanReading(None, None, None, f"[{start}, {end}) is outside the text [0, {len(text)})")
        return SpanReading(None, None, None, f"text {short_repr(expected)} but text[{start}:{end}] is {short_repr(text[start:end])}")
    s16, e16 = index.from_utf16(start), index.from_utf16(end)
    u16_ok = s16 is not None and e16 is not None and s16 < e16 and expected is not None and matches(text[s16:e16])
    if expected is None:
        return SpanReading(None, None, None, "the text has characters outside the BMP (emoji) and the region carries no text, "
                                             "so code-point and UTF-16 readings cannot be told apart")
    if cp_ok and u16_ok and (s16, e16) != (start, end):
        return SpanReading(None, None, None, f"ambiguous: [{start}, {end}) matches {expected!r} read as code points and as UTF-16 units")
    if cp_ok and u16_ok:
        return SpanReading(start, end, "either")  # before the first astral character both units agree
    if cp_ok:
        return SpanReading(start, end, "code-point")
    if u16_ok:
        return SpanReading(s16, e16, "utf-16")
    got = text[start:end] if end <= len(text) else "(outside the text)"
    return SpanReading(None, None, None, f"text {expected!r} matches neither reading: text[{start}:{end}] is {got!r} as code points"
                                         + (f", {text[s16:e16]!r} as UTF-16 units" if s16 is not None and e16 is not None else ""))

"""A normalised view of a text for matching, whose offsets map back to the text of record.

The text of record is never changed (DESIGN.md: no diacritic stripping, no tatweel removal in
``text``). Matchers such as the pre-annotator's gazetteers and cue patterns are written for
plain letters, so they run on this view instead: Arabic diacritics (harakat U+064B–U+065F,
superscript alef U+0670, Quranic marks U+06D6–U+06ED) and tatweel (U+0640) are left out, and
Arabic presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFF) become their NFKC letters. Nothing else
changes (no alef, ya or ta-marbuta folding).

Offsets are Unicode code points, half-open ``[start, end)``. A span of the view maps back to the
smallest span of the text of record that holds its characters, plus the marks and tatweel that
follow its last letter (a diacritic belongs to the letter before it).

Public API: :class:`NormalView`.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left

__all__ = ["NormalView"]

_DROPPED = re.compile("[\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


class NormalView:
    """The normalised view of ``text`` (see the module docstring).

    Attributes:
        text: the view (equal to the original when nothing needed normalising).
        changed: whether the view differs from the original.
    """

    def __init__(self, text: str):
        self.original = text
        self.changed = bool(_DROPPED.search(text) or _PRESENTATION.search(text))
        if not self.changed:
            self.text = text
            return
        out: list[str] = []
        starts: list[int] = []  # original offset of each view character
        for i, ch in enumerate(text):
            if _DROPPED.fullmatch(ch):
                continue
            norm = unicodedata.normalize("NFKC", ch) if _PRESENTATION.fullmatch(ch) else ch
            norm = _DROPPED.sub("", norm)
            out.append(norm)
            starts.extend([i] * len(norm))
        self.text = "".join(out)
        self._starts = starts

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the text of record that view span ``[start, end)`` stands for.

        Raises:
            ValueError: not ``0 <= start < end <= len(self.text)``.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"[{start}, {end}) is not a non-empty span of the view [0, {len(self.text)})")
        if not self.changed:
            return start, end
        s, last = self._starts[start], self._starts[end - 1]
        e = last + 1
        while e < len(self.original) and _DROPPED.fullmatch(self.original[e]):
            e += 1
        return s, e

    def to_view(self, offset: int) -> int:
        """The view offset of original offset ``offset`` (``0 <= offset <= len(original)``): the first
        view character at or after it (for mapping segment boundaries such as sentence spans)."""
        if not self.changed:
            return offset
        return bisect_left(self._starts, offset)

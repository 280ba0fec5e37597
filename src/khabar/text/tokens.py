"""Tokens of a text of record, as code-point offset ranges: the rule of the ``entities`` config
and of ``khabar export conll``.

The rule (stated once; the dataset card quotes :data:`RULE`):

1. white space separates tokens and is never part of one;
2. inside a run of non-space characters, a maximal run of *word* characters (Unicode letters
   ``L*``, marks ``M*`` and digits ``N*``) is one token and a maximal run of any other
   characters (punctuation, symbols) is one token: ``قال:`` -> ``قال`` ``:``, ``(رويترز)،`` ->
   ``(`` ``رويترز`` ``)،``. This is how the Wojood corpus is tokenized (its files hold ``)،``
   and ``..`` as single tokens);
3. a ``.`` ``,`` ``٫`` ``٬`` ``/`` or ``:`` between two digits stays inside the number:
   ``3.5``, ``2020/1/1``, ``10:30``, ``١٬٠٠٠``;
4. a combining mark, variation selector or joiner (Unicode ``M*``, ``Cf``: U+FE0F after ``❤``,
   a ZWJ or ZWNJ) never starts a token of its own: it stays with the character before it
   (``❤️`` is one token, ``أرامكو\u200d`` one token);
5. clitics are not split: a proclitic (و ف ب ك ل) stays in its word's token, as in Wojood
   (``لمنظمة`` B-ORG). The annotation guidelines cut entity spans after the proclitic at
   character level; token-level tags then cover the whole token (see
   :func:`khabar.text.bio.bio_layers`).

Offsets are Unicode code points, half-open ``[start, end)``, into the text, so
``text[start:end]`` is the token exactly.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["tokenize", "RULE"]

RULE = ("Tokens are split at white space; inside a run of non-space characters, a run of letters, marks and digits is one "
        "token and a run of other characters (punctuation, symbols) is another (`قال:` → `قال` `:`; `)،` stays one token, "
        "as in Wojood); a combining mark, variation selector or joiner stays with the character before it (`❤️` is one token); `.` `,` `٫` `٬` `/` `:` between two digits stay inside the number (`3.5`, `2020/1/1`); clitics are "
        "not split (`لمنظمة` is one token, as in Wojood), so an entity that starts after a proclitic tags its whole token.")

_CHUNK = re.compile(r"\S+")
_JOINERS = frozenset(".,٫٬/:")


def _is_word(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _attaches(ch: str) -> bool:
    """A mark or format character (variation selector, ZWJ, ZWNJ): part of the token before it."""
    cat = unicodedata.category(ch)
    return cat[0] == "M" or cat == "Cf"


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the tokens of ``text[start:end]``, in text order.

    Args:
        text: a text of record (any ``str``).
        start, end: the range to tokenize (code points, half-open; default the whole text).

    Returns:
        Offsets into ``text`` (not into the range), non-empty, non-overlapping, increasing,
        never containing white space.
    """
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    for m in _CHUNK.finditer(text, start, end):
        i, stop = m.start(), m.end()
        if m.group().isalnum():  # the common case, a plain word or number: one token (isalnum = letters and digits)
            out.append((i, stop))
            continue
        while i < stop:
            word = _is_word(text[i])
            j = i + 1
            while j < stop:
                ch = text[j]
                if _is_word(ch) == word or _attaches(ch):
                    j += 1
                elif (word and ch in _JOINERS and j + 1 < stop and text[j - 1].isdigit() and text[j + 1].isdigit()):
                    j += 2
                else:
                    break
            out.append((i, j))
            i = j
    return out

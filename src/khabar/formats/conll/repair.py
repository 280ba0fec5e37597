"""``khabar import conll --repair``: stated repairs of malformed tags, each one reported.

Without ``--repair`` a file with a malformed tag is refused whole (issue 14: 16 of 28 AQMAR files
were refused for a few tags). With it, these rules, and only these, are applied before the file
is read; every other problem still refuses the file:

* ``o-run``: a tag that is only the letters ``O``/``o`` or the digit ``0`` repeated (``OO``,
  ``0``, ``o``) -> ``O``;
* ``dash``: a prefix joined to its class by several dashes or an underscore (``I--ORG``,
  ``B_PER``) -> one dash (``I-ORG``);
* ``no-class``: ``B-`` or ``I-`` with no class -> ``O``;
* ``dangling-I``: an ``I-X`` that continues no ``X`` of the previous token in its sentence
  (sentence start, after ``O``, after another class) begins an entity: ``B-X``. This is how
  conlleval (CoNLL-2000's scorer) reads such a tag.

A sentence ends at a blank line or a paragraph mark (``$#$`` in the Wojood format), as in the
reader. The repairs are listed one per tag: line, token, tag before and after, rule.

Public API: :data:`RULES`, :class:`Repair`, :func:`repair_tags`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["RULES", "Repair", "repair_tags"]

#: rule name -> what it does (the report states these)
RULES = {
    "o-run": "a tag made only of O, o or 0 (OO, 0) read as O",
    "dash": "a prefix joined to its class by several dashes or an underscore (I--ORG, B_PER) read with one dash",
    "no-class": "B- or I- with no class read as O",
    "dangling-I": "an I-X that continues no X of the previous token begins an entity: B-X (conlleval)",
}

_O_RUN = re.compile(r"[Oo0]+")
_DASH = re.compile(r"([BI])(?:-{2,}|_+)(\S+)")
_EMPTY = re.compile(r"[BI]-?")
_FIELDS = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Repair:
    """One repaired tag: ``line`` (1-based), ``token``, ``before``, ``after``, ``rule`` (a key of
    :data:`RULES`, or two joined by ``+`` when both applied: ``dash+dangling-I``)."""

    line: int
    token: str
    before: str
    after: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fix_tag(tag: str) -> tuple[str, str | None]:
    """``(tag, rule or None)`` for one tag alone (the rules that need no neighbour)."""
    if tag != "O" and _O_RUN.fullmatch(tag):
        return "O", "o-run"
    if _EMPTY.fullmatch(tag):
        return "O", "no-class"
    m = _DASH.fullmatch(tag)
    if m:
        return f"{m.group(1)}-{m.group(2)}", "dash"
    return tag, None


def repair_tags(text: str, paragraph_mark: str | None) -> tuple[str, list[Repair]]:
    """Apply :data:`RULES` to the tags of a decoded CoNLL text (``token TAG [TAG ...]`` lines).

    Args:
        text: the file's text (``\\n`` line ends; ``\\r\\n`` kept as they are).
        paragraph_mark: the token that marks a paragraph (``$#$``), or None.

    Returns:
        ``(repaired text, repairs in line order)``; the text is unchanged where nothing matched,
        and every line keeps its token and its number.
    """
    out_lines: list[str] = []
    repairs: list[Repair] = []
    prev: list[str] = []  # the previous token's tags in this sentence (after repair)
    for n, raw in enumerate(text.split("\n"), 1):
        body = raw.rstrip("\r")
        end = raw[len(body):]
        stripped = body.strip(" \t")
        if not stripped:
            prev = []
            out_lines.append(raw)
            continue
        fields = _FIELDS.split(stripped)
        tok, tags = fields[0], fields[1:]
        if paragraph_mark is not None and tok == paragraph_mark or not tags:
            prev = []
            out_lines.append(raw)
            continue
        fixed = []
        for tag in tags:
            new, rule = _fix_tag(tag)
            rules = [rule] if rule else []
            if new.startswith("I-") and not any(p[2:] == new[2:] for p in prev if p[:2] in ("B-", "I-")):
                new = "B-" + new[2:]
                rules.append("dangling-I")
            if new != tag:
                repairs.append(Repair(n, tok, tag, new, "+".join(rules)))
            fixed.append(new)
        if fixed != tags:
            lead = body[: len(body) - len(body.lstrip(" \t"))]
            out_lines.append(lead + " ".join([tok, *fixed]) + end)
        else:
            out_lines.append(raw)
        prev = fixed
    return "\n".join(out_lines), repairs

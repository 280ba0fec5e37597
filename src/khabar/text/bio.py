"""Entity spans <-> nested BIO tags per token (IOB2, one tag column per nesting layer).

Used by the ``entities`` training config (two layers) and by CoNLL import/export (Wojood's
nested format, up to three tags per token, outermost first).

Layers. The *depth* of an entity is 1 + the number of other entities that contain it; of
entities with identical spans, the one listed first is the outer one (so an import keeps a
file's order, e.g. Wojood's ``كيلو B-UNIT B-QUANTITY``).
Layer ``k`` (0-based) holds the entities of depth ``k + 1``; this is Wojood's convention, whose
files list a token's tags outer -> inner (``طولكرم I-OCC I-ORG B-GPE``).

Tokens. A token carries an entity's tag when it overlaps the entity's span; the first such token
gets ``B-<type>``, the others ``I-<type>``. Token offsets come from :mod:`khabar.text.tokens`, which
does not split clitics, so an entity that starts after a proclitic (``لـ`` in ``لمنظمة``) tags its
whole token, as Wojood does.

Tag names: ``O``, ``B-<TYPE>``, ``I-<TYPE>`` (IOB2; Ramshaw & Marcus 1995, Tjong Kim Sang &
Veenstra 1999), ``TYPE`` from the schema's ``EntityType`` (Wojood).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

__all__ = ["bio_names", "entity_depths", "bio_layers", "Layers", "parse_tags", "spans_from_tags", "TagError"]


def bio_names(types: Sequence[str]) -> list[str]:
    """``["O", "B-T1", "I-T1", "B-T2", ...]`` for entity types ``types`` in their order."""
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def _order(entities: Sequence[dict[str, Any]]) -> list[int]:
    return sorted(range(len(entities)), key=lambda i: (entities[i]["start"], -entities[i]["end"], i))


def entity_depths(entities: Sequence[dict[str, Any]]) -> list[int]:
    """Depth (1 = outermost) of each entity, in the input order.

    Args:
        entities: dicts with ``start`` and ``end`` (code points, half-open); of equal spans the
            one listed first is outer.
    """
    order = _order(entities)
    depth = [0] * len(entities)
    stack: list[int] = []  # enclosing entities, outermost first
    for i in order:
        s, e = entities[i]["start"], entities[i]["end"]
        while stack and not (entities[stack[-1]]["start"] <= s and e <= entities[stack[-1]]["end"]):
            stack.pop()
        # an entity that crosses (not nests in) an open one is not inside it: it is popped above
        depth[i] = len(stack) + 1
        stack.append(i)
    return depth


@dataclass
class Layers:
    """Result of :func:`bio_layers`.

    Attributes:
        tags: ``depth`` lists of tag names, each as long as the token list.
        too_deep: indexes (into the input entities) of entities deeper than ``depth``.
        clashes: indexes of entities not placed because a token of their layer already carried
            another entity (overlapping, not nested, spans).
        untokened: indexes of entities that overlap no token (e.g. a span of white space only).
    """

    tags: list[list[str]]
    too_deep: list[int] = field(default_factory=list)
    clashes: list[int] = field(default_factory=list)
    untokened: list[int] = field(default_factory=list)


def bio_layers(tokens: Sequence[tuple[int, int]], entities: Sequence[dict[str, Any]], depth: int = 2,
               labels: Mapping[str, tuple[Any, Any]] | None = None, empty: Any = None) -> Layers:
    """BIO tags of ``tokens`` for ``entities``, one list per layer (outermost first).

    Args:
        tokens: ``[(start, end), ...]`` token offsets (code points, half-open, increasing), e.g.
            from :func:`khabar.text.tokens.tokenize` over one sentence.
        entities: dicts with ``start``, ``end``, ``type``, in document offsets; entities outside
            the tokens' range are ignored.
        depth: number of layers to produce (2 for the ``entities`` config, 3 for Wojood CoNLL).
        labels: ``{type: (B tag, I tag)}`` to write instead of the names ``B-<type>``/``I-<type>``
            (e.g. ClassLabel ids ``{"ORG": (7, 8)}``); default the names.
        empty: the tag of a token outside every entity of a layer (``O``): required with
            ``labels`` (e.g. ``0``, the id of ``O``); default ``"O"`` without.

    Returns:
        :class:`Layers`; nothing is dropped without being listed in it.

    Raises:
        KeyError: an entity type missing from ``labels`` (when given).
        ValueError: ``labels`` without ``empty``, or a label of a placed entity equal to ``empty``
            (it would be read as no entity).
    """
    import bisect

    if empty is None:
        if labels is not None:
            raise ValueError("bio_layers: labels given without empty (the tag of O in those labels)")
        empty = "O"
    tags = [[empty] * len(tokens) for _ in range(depth)]
    out = Layers(tags)
    if not tokens:
        return out
    lo, hi = tokens[0][0], tokens[-1][1]
    starts = [t[0] for t in tokens]
    ends = [t[1] for t in tokens]
    depths = entity_depths(entities)
    for i in _order(entities):
        ent = entities[i]
        if ent["end"] <= lo or ent["start"] >= hi:
            continue
        first = bisect.bisect_right(ends, ent["start"])  # first token ending after the entity starts
        last = bisect.bisect_left(starts, ent["end"])    # tokens before this one start before it ends
        if first >= last:
            out.untokened.append(i)
            continue
        if depths[i] > depth:
            out.too_deep.append(i)
            continue
        layer = tags[depths[i] - 1]
        if any(tag != empty for tag in layer[first:last]):
            out.clashes.append(i)
            continue
        begin, inside = (f"B-{ent['type']}", f"I-{ent['type']}") if labels is None else labels[ent["type"]]
        if empty in (begin, inside):
            raise ValueError(f"bio_layers: a label of {ent['type']} is {empty!r}, the tag of O")
        layer[first] = begin
        layer[first + 1:last] = [inside] * (last - first - 1)
    return out


class TagError(ValueError):
    """A malformed tag or tag sequence; ``args[0]`` is the reason (the caller adds file and line)."""


_TAG = re.compile(r"([BI])-([A-Za-z][A-Za-z0-9_]*)")


def parse_tags(tags: Sequence[str], known: set[str] | frozenset[str] | None = None) -> list[tuple[str, str] | None]:
    """Check the tags of one token: ``None`` for ``O``, else ``(prefix, type)``.

    Raises:
        TagError: a tag that is not ``O`` or ``B-TYPE``/``I-TYPE`` (``OO``, ``IO``, ``I--ORG``,
            ``B-``), a type not in ``known`` (when given), or ``O`` together with other tags.
    """
    out: list[tuple[str, str] | None] = []
    for tag in tags:
        if tag == "O":
            out.append(None)
            continue
        m = _TAG.fullmatch(tag)
        if not m:
            raise TagError(f"malformed tag {tag!r} (expected O, B-TYPE or I-TYPE)")
        if known is not None and m.group(2) not in known:
            raise TagError(f"entity class {m.group(2)!r} of tag {tag!r} is not in the schema's types")
        out.append((m.group(1), m.group(2)))
    if len(out) > 1 and any(t is None for t in out):
        raise TagError(f"O among several tags {' '.join(tags)} (O stands alone)")
    return out


def spans_from_tags(rows: Sequence[Sequence[str]], known: set[str] | frozenset[str] | None = None,
                    lines: Sequence[int] | None = None) -> list[tuple[int, int, str]]:
    """Entity token ranges ``[(first, stop, type), ...]`` (token indexes, half-open) from the tags
    of consecutive tokens of one sentence, each token's tags listed outermost first.

    Tag ``k`` of a token continues the entity open at position ``k`` when it has the same type,
    else the open entity of that type at another position; ``B-`` always starts a new entity.

    Raises:
        TagError: a malformed tag (see :func:`parse_tags`) or ``I-TYPE`` with no open entity of
            that type on the previous token (strict IOB2); the message names the token number
            (``lines[i]`` when given, else the 1-based token index).
    """
    done: list[tuple[int, int, str]] = []
    open_: dict[int, list[Any]] = {}  # position -> [first, type]
    for i, tags in enumerate(rows):
        where = lines[i] if lines is not None else i + 1
        try:
            parsed = [t for t in parse_tags(tags, known) if t is not None]
        except TagError as err:
            raise TagError(f"line {where}: {err}") from None
        nxt: dict[int, list[Any]] = {}
        taken: set[int] = set()
        for pos, (prefix, typ) in enumerate(parsed):
            if prefix == "B":
                nxt[pos] = [i, typ]
                continue
            cands = [pos] if pos in open_ and open_[pos][1] == typ and pos not in taken else []
            cands += [p for p, (_, t) in sorted(open_.items()) if t == typ and p not in taken and p != pos]
            if not cands:
                raise TagError(f"line {where}: I-{typ} does not continue a {typ} entity (IOB2: an entity starts with B-{typ})")
            taken.add(cands[0])
            nxt[pos] = open_[cands[0]]
        ongoing = {id(v) for v in nxt.values()}
        for p, (first, typ) in open_.items():
            if id(open_[p]) not in ongoing:
                done.append((first, i, typ))
        open_ = nxt
    done.extend((first, len(rows), typ) for first, typ in open_.values())
    return sorted(done, key=lambda x: (x[0], -x[1]))  # stable: equal spans stay outermost first

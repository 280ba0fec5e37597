"""Integrity checks of one document row: spans and cross-references.

Each problem is ``(check_id, field, message)`` where ``field`` is a JSON path inside the row.
Check ids (stable, kebab-case; one invalid fixture each in tests/test_validate.py):

``offset-type``         an offset that is not a plain integer (a string, float or bool)
``span-out-of-bounds``  ``start < 0``, ``end > len(text)`` or ``start > end``
``span-empty``          ``start == end``
``span-text-mismatch``  ``text[start:end] != span.text``
``id-duplicate``        an entity, claim or stance id used twice in one document
``id-dangling``         a claim's source or via, a stance's holder that names no entity; a
                        stance's evidence that names no claim
``entity-duplicate``    two entities with the same start, end and type (nesting needs
                        different spans or types)
``chain-invalid``       a claim whose ``via`` names its own source or an entity twice, or a
                        stance whose ``evidence`` names a claim twice
``text-sha256-mismatch`` ``text_sha256`` is not the SHA-256 of ``text``
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterator

__all__ = ["check_row", "iter_spans", "short_repr", "CHECK_IDS"]

CHECK_IDS = ("offset-type", "span-out-of-bounds", "span-empty", "span-text-mismatch", "id-duplicate",
             "id-dangling", "entity-duplicate", "chain-invalid", "text-sha256-mismatch")

Problem = tuple[str, str, str]


def iter_spans(row: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Yield ``(json_path, span, has_text)`` for every range of a row (or an annotation file)."""
    if "title_span" in row:
        yield "$.title_span", row["title_span"], False
    for key in ("paragraphs", "sentences"):
        for i, r in enumerate(row.get(key) or []):
            yield f"$.{key}[{i}]", r, False
    for key in ("entities", "flags"):
        for i, r in enumerate(row.get(key) or []):
            yield f"$.{key}[{i}]", r, True
    for i, c in enumerate(row.get("claims") or []):
        yield f"$.claims[{i}].content", c["content"], True
        if c.get("cue") is not None:
            yield f"$.claims[{i}].cue", c["cue"], True


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters, with the code points of short strings (NFC vs NFD look alike)."""
    r = repr(value)
    if len(r) > limit:
        return r[:limit] + f"…' ({len(value)} characters)" if isinstance(value, str) else r[:limit] + "…"
    if isinstance(value, str) and len(value) <= 12:
        r += " (" + " ".join(f"U+{ord(ch):04X}" for ch in value) + ")"
    return r


def _is_int(v: Any) -> bool:
    return type(v) is int


def check_spans(text: str, row: dict[str, Any]) -> list[Problem]:
    """Span checks of ``row`` against ``text``."""
    out: list[Problem] = []
    n = len(text)
    for path, span, has_text in iter_spans(row):
        s, e = span.get("start"), span.get("end")
        if not (_is_int(s) and _is_int(e)):
            out.append(("offset-type", path, f"offsets must be integers, got start={s!r} end={e!r}"))
            continue
        if s < 0 or e > n or s > e:
            out.append(("span-out-of-bounds", path, f"[{s}, {e}) is outside the text [0, {n})"))
            continue
        if s == e:
            out.append(("span-empty", path, f"[{s}, {e}) is empty"))
            continue
        if has_text and text[s:e] != span.get("text"):
            out.append(("span-text-mismatch", path, f"text {short_repr(span.get('text'))} but text[{s}:{e}] is {short_repr(text[s:e])}"))
    return out


def check_refs(row: dict[str, Any]) -> list[Problem]:
    """Id checks: duplicates and dangling references."""
    out: list[Problem] = []
    seen: dict[str, str] = {}
    entities: set[str] = set()
    claims: set[str] = set()
    for key, bucket in (("entities", entities), ("claims", claims), ("stances", None)):
        for i, item in enumerate(row.get(key) or []):
            iid = item.get("id")
            path = f"$.{key}[{i}].id"
            if iid in seen:
                out.append(("id-duplicate", path, f"id {iid!r} is used again (first at {seen[iid]})"))
            else:
                seen[iid] = path
            if bucket is not None:
                bucket.add(iid)
    spans: dict[tuple[Any, Any, Any], str] = {}
    for i, e in enumerate(row.get("entities") or []):
        key = (e.get("start"), e.get("end"), e.get("type"))
        if key in spans:
            out.append(("entity-duplicate", f"$.entities[{i}]", f"same span and type as {spans[key]}"))
        else:
            spans[key] = str(e.get("id"))
    for i, c in enumerate(row.get("claims") or []):
        if c.get("source") is not None and c["source"] not in entities:
            out.append(("id-dangling", f"$.claims[{i}].source", f"source {c['source']!r} is not an entity id"))
        for j, v in enumerate(c.get("via") or []):
            if v not in entities:
                out.append(("id-dangling", f"$.claims[{i}].via[{j}]", f"via {v!r} is not an entity id"))
    for i, c in enumerate(row.get("claims") or []):
        via = c.get("via") or []
        if c.get("source") is not None and c["source"] in via:
            out.append(("chain-invalid", f"$.claims[{i}].via", f"the source {c['source']!r} is also in its own reporting chain"))
        if len(set(via)) != len(via):
            out.append(("chain-invalid", f"$.claims[{i}].via", "an entity appears twice in the reporting chain"))
    for i, st in enumerate(row.get("stances") or []):
        ev = st.get("evidence") or []
        if len(set(ev)) != len(ev):
            out.append(("chain-invalid", f"$.stances[{i}].evidence", "a claim is listed twice as evidence"))
    for i, st in enumerate(row.get("stances") or []):
        if st.get("holder") not in entities:
            out.append(("id-dangling", f"$.stances[{i}].holder", f"holder {st.get('holder')!r} is not an entity id"))
        for j, ev in enumerate(st.get("evidence") or []):
            if ev not in claims:
                out.append(("id-dangling", f"$.stances[{i}].evidence[{j}]", f"evidence {ev!r} is not a claim id"))
    return out


def check_row(row: dict[str, Any], text: str | None = None) -> list[Problem]:
    """All integrity checks of a document row (or of an annotation against ``text``)."""
    text = row["text"] if text is None else text
    out = check_spans(text, row) + check_refs(row)
    if "text_sha256" in row and "text" in row:
        if hashlib.sha256(row["text"].encode("utf-8")).hexdigest() != row["text_sha256"]:
            out.append(("text-sha256-mismatch", "$.text_sha256", "is not the SHA-256 of text"))
    return out

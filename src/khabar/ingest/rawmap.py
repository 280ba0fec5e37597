"""Map spans of the text of record back to byte offsets in the raw seed file, and check that a
document's cleaning edits really do.

A document keeps its cleaning ``edits`` with both coordinate systems (code points in the text
of record, bytes in the seed). Between edits the text is the decoded seed verbatim, so a
position maps back by undoing the length changes of earlier edits and re-encoding the decoded
prefix. A position strictly inside an edit maps to the edit's edge (start -> raw_start,
end -> raw_end), so a span always maps to bytes that contain what it shows.

Ingest calls :func:`check_raw_map` on every document it makes (DESIGN: every document keeps "the
list of cleaning edits so any span can be mapped back to the raw seed bytes"): the edits must
rebuild the text of record from the raw bytes, and the title and every flag span must map back
to raw bytes that, with the edits inside them applied, give the span's text (where no edit
touches a span, the raw bytes decode to its text as they are). A failure is a bug of the
cleaning code, refused with an :class:`~khabar.core.errors.InputError` naming the seed.

Public API: :class:`RawMap` (``to_raw``, ``span_to_raw``, ``problem``) and :func:`check_raw_map`.
"""

from __future__ import annotations

import bisect
from typing import Any, Iterable

from khabar.core.errors import InputError

__all__ = ["RawMap", "check_raw_map"]


class RawMap:
    """Position map for one document.

    Args:
        doc: a corpus document (dict as in ``schema/document.schema.json``).
        raw: the seed file's bytes (its SHA-256 must be ``doc['provenance']['raw_sha256']``).

    Raises:
        UnicodeDecodeError: ``raw`` is not in the document's recorded encoding.
    """

    def __init__(self, doc: dict[str, Any], raw: bytes):
        prov = doc["provenance"]
        self.encoding = prov["encoding"].replace("-sig", "")
        self.bom = prov["bom_bytes"]
        self.decoded = raw[self.bom:].decode(self.encoding)
        self.edits = doc["edits"]
        self.raw = raw
        self.text: str = doc["text"]
        self._known: list[tuple[int, int]] = [(0, self.bom)]  # (decoded position, raw byte offset), sorted
        self._ends = [e["end"] for e in self.edits]
        self._shifts = [0]  # _shifts[i]: how much longer the text of record is than the decoded seed before edit i
        for e in self.edits:
            self._shifts.append(self._shifts[-1] + (e["end"] - e["start"]) - len(e["removed"]))

    def _decoded_pos(self, pos: int, is_end: bool) -> int | tuple[int]:
        first = bisect.bisect_left(self._ends, pos)  # edits ending before ``pos`` only shift it
        shift = self._shifts[first]
        for e in self.edits[first:]:
            if pos < e["start"] or (pos == e["start"] and not is_end and e["end"] > e["start"]):
                break
            if e["start"] < pos < e["end"] or (pos == e["end"] and is_end and e["end"] > e["start"]):
                return (e["raw_end"] if is_end else e["raw_start"],)
            if pos == e["start"] and e["end"] > e["start"]:  # end position at an edit's start
                break
            shift += (e["end"] - e["start"]) - len(e["removed"])
        return pos - shift

    def to_raw(self, pos: int, is_end: bool = False) -> int:
        """Byte offset in the raw file of code-point position ``pos`` of the text of record."""
        d = self._decoded_pos(pos, is_end)
        if isinstance(d, tuple):
            return d[0]
        # encode only from the nearest position already mapped: spans asked in order cost one pass
        k = bisect.bisect_right(self._known, (d, len(self.raw) + 1)) - 1
        d0, b0 = self._known[k]
        b = b0 + len(self.decoded[d0:d].encode(self.encoding))
        self._known.insert(k + 1, (d, b))
        return b

    def span_to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Raw byte range ``[b0, b1)`` holding text-of-record span ``[start, end)``."""
        return self.to_raw(start, False), self.to_raw(end, True)

    def problem(self, spans: Iterable[tuple[str, int, int]] = ()) -> str | None:
        """Why the edits do not map this document back to its raw bytes (None when they do).

        First the edits themselves, in one pass over the text: in order, each edit's raw bytes
        decode to its ``removed`` text, its ``[start, end)`` holds its ``inserted`` text, and
        between edits the raw bytes decode to the text of record verbatim. Then each
        ``(what, start, end)`` span (code points, half-open) through :meth:`span_to_raw`: the raw
        bytes ``[b0, b1)`` with the edits inside them applied give the text of record from
        ``start`` (or the start of the edit it falls strictly inside) to ``end`` (likewise).
        """
        return self._edits_problem() or next((p for what, s, e in spans if (p := self._span_problem(what, s, e))), None)

    def _decode(self, b0: int, b1: int) -> str | None:
        """``raw[b0:b1]`` decoded, or None when the range cuts a character."""
        try:
            return self.raw[b0:b1].decode(self.encoding)
        except UnicodeDecodeError:
            return None

    def _edits_problem(self) -> str | None:
        """The first way the edits fail to rebuild the text of record from the raw bytes, or None."""
        b, t = self.bom, 0
        for i, e in enumerate(self.edits):
            what = f"edit {i} ({e['rule']}, raw bytes [{e['raw_start']}, {e['raw_end']}), text [{e['start']}, {e['end']}))"
            if e["raw_start"] < b or e["start"] < t or e["raw_end"] < e["raw_start"] or e["end"] < e["start"]:
                return f"{what}: out of order"
            between = self._decode(b, e["raw_start"])
            if between != self.text[t:e["start"]]:
                return f"{what}: raw bytes [{b}, {e['raw_start']}) before it are not the text [{t}, {e['start']})"
            if self._decode(e["raw_start"], e["raw_end"]) != e["removed"] or self.text[e["start"]:e["end"]] != e["inserted"]:
                return f"{what}: its raw bytes or its text are not what it says it removed and inserted"
            b, t = e["raw_end"], e["end"]
        if self._decode(b, len(self.raw)) != self.text[t:]:
            return f"raw bytes [{b}, {len(self.raw)}) after the last edit are not the text [{t}, {len(self.text)})"
        return None

    def _span_problem(self, what: str, start: int, end: int) -> str | None:
        """Why span ``[start, end)`` does not map back to raw bytes that rebuild its text, or None."""
        b0, b1 = self.span_to_raw(start, end)
        pieces: list[str | None] = []
        cur, s2, e2 = b0, start, end
        for e in self.edits[bisect.bisect_left(self._ends, start):]:
            if e["start"] >= end and e["raw_start"] >= b1:
                break
            if e["start"] < start < e["end"]:
                s2 = e["start"]
            if e["start"] < end < e["end"]:
                e2 = e["end"]
            if b0 <= e["raw_start"] and e["raw_end"] <= b1:
                pieces += [self._decode(cur, e["raw_start"]), e["inserted"]]
                cur = e["raw_end"]
        pieces.append(self._decode(cur, b1))
        if None in pieces or "".join(pieces) != self.text[s2:e2]:  # type: ignore[arg-type]
            return (f"{what} [{start}, {end}) {self.text[start:end]!r} maps to raw bytes [{b0}, {b1}) "
                    f"{self.raw[b0:b1][:80]!r}, which do not give its text")
        return None


def check_raw_map(doc: dict[str, Any], raw: bytes, seed_name: str) -> None:
    """Check that ``doc``'s edits map its title and every flag span back to ``raw`` (see
    :meth:`RawMap.problem`).

    Raises:
        InputError: they do not (a bug of the cleaning code; the message names the seed and the
            first edit or span that fails).
    """
    try:
        m = RawMap(doc, raw)
    except UnicodeDecodeError as err:
        problem: str | None = f"the raw bytes are not {doc['provenance']['encoding']} ({err.reason} at byte {doc['provenance']['bom_bytes'] + err.start})"
    else:
        t = doc["title_span"]
        problem = m.problem([("title", t["start"], t["end"])]
                            + [(f"flag {f['kind']}", f["start"], f["end"]) for f in doc["flags"]])
    if problem:
        raise InputError(f"{seed_name}: the cleaning edits do not map the text of record back to the seed's bytes: {problem}",
                         hint="this is a bug of khabar ingest; please report it with the seed file")

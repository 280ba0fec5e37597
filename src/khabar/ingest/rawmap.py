"""Map spans of the text of record back to byte offsets in the raw seed file.

A document keeps its cleaning ``edits`` with both coordinate systems (code points in the text
of record, bytes in the seed). Between edits the text is the decoded seed verbatim, so a
position maps back by undoing the length changes of earlier edits and re-encoding the decoded
prefix. A position strictly inside an edit maps to the edit's edge (start -> raw_start,
end -> raw_end), so a span always maps to bytes that contain what it shows.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RawMap"]


class RawMap:
    """Position map for one document.

    Args:
        doc: a corpus document (dict as in ``schema/document.schema.json``).
        raw: the seed file's bytes (its SHA-256 must be ``doc['provenance']['raw_sha256']``).
    """

    def __init__(self, doc: dict[str, Any], raw: bytes):
        prov = doc["provenance"]
        self.encoding = prov["encoding"].replace("-sig", "")
        self.bom = prov["bom_bytes"]
        self.decoded = raw[self.bom:].decode(self.encoding)
        self.edits = doc["edits"]
        self.raw = raw

    def _decoded_pos(self, pos: int, is_end: bool) -> int | tuple[int]:
        shift = 0
        for e in self.edits:
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
        return self.bom + len(self.decoded[:d].encode(self.encoding))

    def span_to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Raw byte range ``[b0, b1)`` holding text-of-record span ``[start, end)``."""
        return self.to_raw(start, False), self.to_raw(end, True)

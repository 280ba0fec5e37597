"""Document ids and text hashes.

A document id is ``kb-`` and the first 16 hex digits of the SHA-256 of the seed's raw bytes at
first ingest (``schema/common.schema.json#/$defs/DocId``, whose ``pattern`` is
:data:`DOC_ID_PATTERN`; a test fails if the two drift apart).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["DOC_ID_PATTERN", "DOC_ID", "is_doc_id", "doc_id_str", "doc_id_int", "text_sha256"]

#: the schema's ``DocId.pattern`` (anchored)
DOC_ID_PATTERN = r"^kb-[0-9a-f]{16}$"
#: :data:`DOC_ID_PATTERN` compiled
DOC_ID = re.compile(DOC_ID_PATTERN)


def is_doc_id(value: object) -> bool:
    """Whether ``value`` is a string that matches :data:`DOC_ID_PATTERN` (no trailing newline)."""
    return isinstance(value, str) and DOC_ID.fullmatch(value) is not None


def doc_id_str(value: int) -> str:
    """The id string of a document id held as an integer (its 16 hex digits): ``kb-%016x``."""
    return f"kb-{int(value):016x}"


def doc_id_int(doc_id: str) -> int:
    """The 64-bit integer of an id string (inverse of :func:`doc_id_str`).

    Raises:
        ValueError: ``doc_id`` is not a document id.
    """
    if not is_doc_id(doc_id):
        raise ValueError(f"not a document id: {doc_id!r}")
    return int(doc_id[3:], 16)


def text_sha256(text: str) -> str:
    """SHA-256 hex digest of a text's UTF-8 bytes (``text_sha256`` of documents and annotations)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

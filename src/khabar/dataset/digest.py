"""Row digests: how the build records the rows it wrote and the gate checks what ``load_dataset``
gives back.

The build hashes every row it writes (:func:`row_digest`, in order) into ``reports/rows.json``
under the scheme :data:`DIGEST_KEY`; the gate hashes the rows ``datasets.load_dataset`` returns
the same way and compares (check id ``load-mismatch``). Both sides import this module, so the build
(:mod:`khabar.release`) and the gate (:mod:`khabar.gate`) never import each other for it.

Public API: :data:`DIGEST_KEY`, :func:`row_digest`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["DIGEST_KEY", "row_digest"]

#: the digest scheme named in ``reports/rows.json`` (``"digest"``); a new scheme needs a new name
DIGEST_KEY = "khabar rows v1"


def row_digest(row: dict[str, Any]) -> bytes:
    """SHA-256 (32 bytes) of a row's canonical JSON: sorted keys, no spaces, non-ASCII kept, UTF-8.

    ``row`` is a row as stored (labels as ClassLabel ids), as the build writes it and as
    ``load_dataset`` gives it back; the gate compares the two after ``load_dataset``.
    """
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")).digest()

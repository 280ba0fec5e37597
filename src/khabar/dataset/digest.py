"""Digests of rows: how the build records the rows it wrote and the gate checks what
``load_dataset`` gives back.

The build digests every config/split it writes into ``reports/rows.json`` under the scheme
:data:`DIGEST_KEY`; the gate digests the Arrow data ``datasets.load_dataset`` returns the same
way and compares (check id ``load-mismatch``). Both sides import this module, so the build
(:mod:`khabar.release`) and the gate (:mod:`khabar.gate`) never import each other for it.

Two schemes:

* ``khabar columns v2`` (:data:`DIGEST_KEY`, toolkit 0.6.0 on): :class:`TableDigest`, computed on
  Arrow data column by column, batch by batch, and independent of how the rows are cut into
  batches, chunks or row groups and of string vs large_string or int32 vs int64 storage;
* ``khabar rows v1`` (:data:`DIGEST_V1`, releases built before toolkit 0.6.0):
  :func:`row_digest` of each row's canonical JSON, in order. The gate still reads it.

Public API: :data:`DIGEST_KEY`, :data:`DIGEST_V1`, :class:`TableDigest`, :func:`row_digest`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DIGEST_KEY", "DIGEST_V1", "TableDigest", "row_digest"]

#: the digest scheme the build writes into ``reports/rows.json`` (``"digest"``); a new scheme needs a new name
DIGEST_KEY = "khabar columns v2"
#: the scheme of releases built before toolkit 0.6.0: :func:`row_digest` of every row, in order
DIGEST_V1 = "khabar rows v1"


def row_digest(row: dict[str, Any]) -> bytes:
    """SHA-256 (32 bytes) of a row's canonical JSON: sorted keys, no spaces, non-ASCII kept, UTF-8.

    ``row`` is a row as stored (labels as ClassLabel ids). Scheme :data:`DIGEST_V1` hashes these
    of every row in order; the build's ``reports/index.jsonl`` keeps it per ``documents`` row.
    """
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")).digest()


class TableDigest:
    """Scheme :data:`DIGEST_KEY`: a SHA-256 per leaf stream of the columns, fed batch by batch.

    Every column is walked down to its leaves; each node feeds fixed streams, so the digest of
    rows ``a + b`` fed as one batch or as two is the same:

    * ``<path>#valid``: one byte per value, 1 when it is not null;
    * a list: ``<path>#len`` (its length as int64, 0 when null), then its values as ``<path>[]``;
    * a struct: each field as ``<path>.<name>`` (nulls of the struct carried down);
    * a string or binary: ``<path>#len`` (bytes, int64) and ``<path>#bytes`` (the UTF-8 bytes);
    * a boolean as one byte, an integer as int64, a float as float64 (little-endian).

    :meth:`hexdigest` is the SHA-256 of the scheme, the row count and each stream's name and
    digest, sorted by name. Cost: a few numpy and pyarrow compute calls per column and batch, no Python
    per row.

    Raises:
        TypeError: from :meth:`update`, a column type not listed above (none in Khabar's schema).
    """

    def __init__(self) -> None:
        self.rows = 0
        self._streams: dict[str, Any] = {}

    def _put(self, name: str, data: Any) -> None:
        h = self._streams.get(name)
        if h is None:
            h = self._streams[name] = hashlib.sha256()
        h.update(data)

    def update(self, data: pa.Table | pa.RecordBatch) -> None:
        """Feed the next rows (a table or record batch of the config's columns, in order)."""
        self.rows += data.num_rows
        for name, column in zip(data.column_names, data.columns):
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
            for chunk in chunks:
                self._array(name, chunk)

    def _array(self, path: str, arr: pa.Array) -> None:
        t = arr.type
        self._put(path + "#valid", arr.is_valid().to_numpy(zero_copy_only=False).astype(np.uint8).tobytes())
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            lengths = pc.fill_null(pc.list_value_length(arr), 0)
            self._put(path + "#len", lengths.to_numpy(zero_copy_only=False).astype("<i8").tobytes())
            self._array(path + "[]", arr.flatten())
        elif pa.types.is_struct(t):
            for i, child in enumerate(arr.flatten()):
                self._array(f"{path}.{t.field(i).name}", child)
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            filled = pc.fill_null(arr, "" if pa.types.is_string(t) or pa.types.is_large_string(t) else b"")
            lengths = pc.binary_length(filled).to_numpy(zero_copy_only=False).astype("<i8")
            self._put(path + "#len", lengths.tobytes())
            if not len(filled):
                self._put(path + "#bytes", b"")
            else:
                width = np.int64 if pa.types.is_large_string(t) or pa.types.is_large_binary(t) else np.int32
                offsets = np.frombuffer(filled.buffers()[1], dtype=width, count=filled.offset + len(filled) + 1)
                first, last = int(offsets[filled.offset]), int(offsets[filled.offset + len(filled)])
                self._put(path + "#bytes", memoryview(filled.buffers()[2])[first:last])
        elif pa.types.is_boolean(t):
            self._put(path, pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(np.uint8).tobytes())
        elif pa.types.is_integer(t):
            self._put(path, pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype("<i8").tobytes())
        elif pa.types.is_floating(t):
            self._put(path, pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype("<f8").tobytes())
        elif pa.types.is_null(t):
            pass
        else:
            raise TypeError(f"column {path}: type {t} has no digest in scheme {DIGEST_KEY!r}")

    def hexdigest(self) -> str:
        """The digest of every row fed so far (64 hex digits)."""
        h = hashlib.sha256(f"{DIGEST_KEY}\0{self.rows}\0".encode())
        for name, stream in sorted(self._streams.items()):
            h.update(f"{name}\0{stream.hexdigest()}\0".encode())
        return h.hexdigest()

"""Constant-memory helpers for corpora of millions of documents.

* :func:`corpus_ids` lists ``corpus/`` as a sorted ``numpy`` array of uint64 (a document id is
  ``kb-`` + 16 hex digits, so 8 bytes a document instead of a ``Path`` object);
* :class:`DiskIndex` is a key -> value map in a temporary SQLite file, for the duplicate and
  cross-reference checks that must see every document without holding them all in memory.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from khabar.core.ids import DOC_ID_PATTERN, doc_id_str

__all__ = ["corpus_ids", "iter_corpus_paths", "doc_id_str", "DiskIndex", "TempSqlite"]

_NAME = re.compile(DOC_ID_PATTERN.replace("^kb-", "^kb-(").replace("$", r")\.json$"))


def corpus_ids(corpus: Path, strays: list[str] | None = None) -> np.ndarray:
    """Sorted uint64 ids of the ``kb-<16 hex>.json`` files of ``corpus``. Other visible files
    are appended to ``strays`` (when given); hidden files and folders are ignored."""
    chunks: list[np.ndarray] = []
    buf: list[int] = []
    if corpus.is_dir():
        with os.scandir(corpus) as it:
            for entry in it:
                m = _NAME.match(entry.name)
                if m and entry.is_file():
                    buf.append(int(m.group(1), 16))
                    if len(buf) >= 65536:
                        chunks.append(np.array(buf, dtype=np.uint64))
                        buf = []
                elif strays is not None and not entry.name.startswith("."):
                    strays.append(entry.name)
    chunks.append(np.array(buf, dtype=np.uint64))
    ids = np.concatenate(chunks)
    ids.sort()
    return ids


def iter_corpus_paths(corpus: Path, strays: list[str] | None = None) -> Iterator[Path]:
    """The corpus document files in id order."""
    for v in corpus_ids(corpus, strays):
        yield corpus / f"{doc_id_str(v)}.json"


class TempSqlite:
    """A temporary SQLite file for working sets that must not live in memory; deleted on
    :meth:`close` (or at the end of a ``with`` block). No journal, no fsync: it is scratch."""

    prefix = "khabar-"

    def __init__(self, folder: str | Path | None = None):
        fd, self.path = tempfile.mkstemp(prefix=self.prefix, suffix=".sqlite", dir=folder)
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")

    def close(self) -> None:
        self.db.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):  # noqa: ANN204 - returns the subclass
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DiskIndex(TempSqlite):
    """A string -> string map in a temporary SQLite file (deleted on :meth:`close`)."""

    prefix = "khabar-index-"

    def __init__(self, folder: str | Path | None = None):
        super().__init__(folder)
        self.db.execute("CREATE TABLE kv (space TEXT, k TEXT, v TEXT, PRIMARY KEY (space, k)) WITHOUT ROWID")

    def setdefault(self, space: str, key: str, value: str) -> str | None:
        """Store ``value`` under ``key`` unless present; return the value already there, or None."""
        row = self.db.execute("SELECT v FROM kv WHERE space=? AND k=?", (space, key)).fetchone()
        if row is not None:
            return row[0]
        self.db.execute("INSERT INTO kv VALUES (?, ?, ?)", (space, key, value))
        return None

    def get(self, space: str, key: str) -> str | None:
        row = self.db.execute("SELECT v FROM kv WHERE space=? AND k=?", (space, key)).fetchone()
        return None if row is None else row[0]

    def put(self, space: str, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (space, key, value))

    def items(self, space: str) -> Iterator[tuple[str, str]]:
        """``(key, value)`` pairs of ``space`` in key order."""
        yield from self.db.execute("SELECT k, v FROM kv WHERE space=? ORDER BY k", (space,))

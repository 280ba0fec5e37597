"""Near-duplicate detection across splits: MinHash over word 5-gram shingles with LSH banding.

Texts are fingerprinted on a folded form (Arabic diacritics and tatweel removed, alef variants,
alef maqsura and ta marbuta folded, case folded) so that two copies that differ only in
orthography are still found; the text of record itself is never folded. Two documents are near
duplicates when the MinHash estimate of the Jaccard similarity of their shingle sets is at least
:data:`THRESHOLD` (Broder 1997, "On the resemblance and containment of documents").

Signatures and band keys live in a temporary SQLite file, so memory does not grow with the
number of documents; candidate pairs come from one SQL join on equal band keys.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from khabar.core.store import TempSqlite

__all__ = ["NearDupIndex", "fold", "signature", "THRESHOLD"]

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
THRESHOLD = 0.8
SHINGLE = 5
_MASK61 = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20240229)
_A = _rng.integers(1, (1 << 31) - 1, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 31) - 1, NUM_PERM, dtype=np.uint64)
_MIX = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1][:SHINGLE], dtype=np.uint64)
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """The fingerprinting form of a text (never stored as the text of record)."""
    return _DIACRITICS.sub("", text).translate(_FOLD).casefold()


def signature(text: str) -> np.ndarray | None:
    """MinHash signature (``NUM_PERM`` uint32) of ``text``'s folded word 5-gram shingles, or None
    for a text with no word at all."""
    words = _WORD.findall(fold(text))
    if not words:
        return None
    wh = np.fromiter(map(zlib.crc32, (w.encode("utf-8") for w in words)), dtype=np.uint64, count=len(words))
    n = max(1, len(words) - SHINGLE + 1)
    k = min(SHINGLE, len(words))
    shingles = np.zeros(n, dtype=np.uint64)
    for j in range(k):  # order-sensitive mix of the k word hashes of each shingle
        shingles = (shingles * np.uint64(31) + wh[j:j + n] * _MIX[j]) & _MASK61
    mixed = (shingles[:, None] * _A[None, :] + _B[None, :]) & _MASK61
    return (mixed.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


class NearDupIndex(TempSqlite):
    """Collects signatures per split (on disk) and finds near-duplicate pairs in different splits."""

    prefix = "khabar-neardup-"

    def __init__(self, folder: str | None = None) -> None:
        super().__init__(folder)
        self.db.execute("CREATE TABLE doc (n INTEGER PRIMARY KEY, id TEXT, split TEXT, sig BLOB)")
        self.db.execute("CREATE TABLE band (b INTEGER, key BLOB, n INTEGER)")
        self.n = 0

    def add(self, doc_id: str, split: str, text: str) -> None:
        """Index a document; a text with no word at all is not indexed (it has no shingles)."""
        self.add_signature(doc_id, split, signature(text))

    def add_signature(self, doc_id: str, split: str, sig: np.ndarray | None) -> None:
        """Index a document by its :func:`signature` (computed elsewhere, e.g. in a worker
        process); None (a text with no word at all) is not indexed."""
        if sig is None:
            return
        self.n += 1
        self.db.execute("INSERT INTO doc VALUES (?, ?, ?, ?)", (self.n, doc_id, split, sig.tobytes()))
        self.db.executemany("INSERT INTO band VALUES (?, ?, ?)",
                            ((b, sig[b * ROWS:(b + 1) * ROWS].tobytes(), self.n) for b in range(BANDS)))

    def cross_split_pairs(self) -> list[tuple[str, str, str, str, float]]:
        """``[(id_a, split_a, id_b, split_b, estimated_jaccard)]`` with different splits, similarity
        at least :data:`THRESHOLD`, in insertion order."""
        return self._pairs("dx.split != dy.split")

    def pairs(self) -> list[tuple[str, str, str, str, float]]:
        """Like :meth:`cross_split_pairs`, whatever the splits (``split`` is then any label: the
        ingest passes ``new`` or ``old``)."""
        return self._pairs("1")

    def _pairs(self, where: str) -> list[tuple[str, str, str, str, float]]:
        """Candidate pairs sharing an LSH band that satisfy ``where`` (SQL over ``dx``/``dy``),
        kept when their estimated Jaccard similarity is at least :data:`THRESHOLD`."""
        self.db.execute("CREATE INDEX IF NOT EXISTS band_key ON band (b, key)")
        query = f"""SELECT DISTINCT x.n, y.n FROM band x JOIN band y ON x.b = y.b AND x.key = y.key AND x.n < y.n
                   JOIN doc dx ON dx.n = x.n JOIN doc dy ON dy.n = y.n WHERE {where} ORDER BY x.n, y.n"""
        out = []
        for a, b in self.db.execute(query).fetchall():
            (ia, sa, ga), (ib, sb, gb) = (self.db.execute("SELECT id, split, sig FROM doc WHERE n=?", (n,)).fetchone() for n in (a, b))
            sim = float(np.mean(np.frombuffer(ga, dtype=np.uint32) == np.frombuffer(gb, dtype=np.uint32)))
            if sim >= THRESHOLD:
                out.append((ia, sa, ib, sb, sim))
        return out

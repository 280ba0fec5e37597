"""Near-duplicate detection across splits: MinHash over word 5-gram shingles with LSH banding.

Texts are fingerprinted on a folded form (Arabic diacritics and tatweel removed, alef variants,
alef maqsura and ta marbuta folded, case folded) so that two copies that differ only in
orthography are still found; the text of record itself is never folded. Two documents are near
duplicates when the MinHash estimate of the Jaccard similarity of their shingle sets is at least
:data:`THRESHOLD` (Broder 1997, "On the resemblance and containment of documents").
Memory: ``NUM_PERM`` uint32 per document, plus ``BANDS`` uint64 keys.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict

import numpy as np

__all__ = ["NearDupIndex", "fold", "THRESHOLD"]

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
THRESHOLD = 0.8
SHINGLE = 5
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20240229)
_A = _rng.integers(1, (1 << 31) - 1, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 31) - 1, NUM_PERM, dtype=np.uint64)
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """The fingerprinting form of a text (never stored as the text of record)."""
    return _DIACRITICS.sub("", text).translate(_FOLD).casefold()


def signature(text: str) -> np.ndarray:
    """MinHash signature (``NUM_PERM`` uint32) of ``text``'s folded word 5-gram shingles."""
    words = _WORD.findall(fold(text))
    n = max(1, len(words) - SHINGLE + 1)
    hashes = np.fromiter((zlib.crc32(" ".join(words[i:i + SHINGLE]).encode("utf-8")) for i in range(n)), dtype=np.uint64, count=n)
    mixed = (hashes[:, None] * _A[None, :] + _B[None, :]) % _PRIME
    return (mixed.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


class NearDupIndex:
    """Collects signatures per split and finds near-duplicate pairs in different splits."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.splits: list[str] = []
        self.sigs: list[np.ndarray] = []

    def add(self, doc_id: str, split: str, text: str) -> None:
        """Index a document; a text with no word at all is not indexed (it has no shingles)."""
        if not _WORD.search(text):
            return
        self.ids.append(doc_id)
        self.splits.append(split)
        self.sigs.append(signature(text))

    def cross_split_pairs(self) -> list[tuple[str, str, str, str, float]]:
        """``[(id_a, split_a, id_b, split_b, estimated_jaccard)]`` with different splits."""
        if not self.sigs:
            return []
        sig = np.vstack(self.sigs)
        found: dict[tuple[int, int], float] = {}
        for b in range(BANDS):
            buckets: dict[bytes, list[int]] = defaultdict(list)
            band = sig[:, b * ROWS:(b + 1) * ROWS]
            for i, key in enumerate(map(bytes, band)):
                buckets[key].append(i)
            for members in buckets.values():
                if len(members) < 2:
                    continue
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        i, j = members[x], members[y]
                        if self.splits[i] != self.splits[j] and (i, j) not in found:
                            found[(i, j)] = float(np.mean(sig[i] == sig[j]))
        return [(self.ids[i], self.splits[i], self.ids[j], self.splits[j], s)
                for (i, j), s in sorted(found.items()) if s >= THRESHOLD]

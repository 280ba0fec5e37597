"""Near duplicates among the documents an ingest creates: a warning, never a silent keep.

Exact duplicates (the same text of record) are refused by :func:`khabar.ingest.run.ingest`. A
new document whose text is nearly that of another (MinHash over word 5-grams, estimated Jaccard
similarity at least :data:`khabar.text.neardup.THRESHOLD`: a copy with a letter changed, an
extra line, another encoding) is kept and named in a warning, whatever the splits; the gate
refuses such pairs only across splits (a leak).

Public API: :func:`near_duplicate_warnings`.
"""

from __future__ import annotations

from typing import Iterable

from khabar.core.jsonio import load_json
from khabar.core.project import Project
from khabar.core.store import iter_corpus_paths
from khabar.text.neardup import NearDupIndex

__all__ = ["near_duplicate_warnings"]


def near_duplicate_warnings(project: Project, new_ids: Iterable[str], limit: int = 20) -> list[str]:
    """One warning per pair of near-duplicate documents of ``corpus/`` of which at least one is
    in ``new_ids`` (the first ``limit`` pairs), e.g. ``corpus/kb-….json: nearly the same text as
    kb-… (similarity 0.93): …``. Reads every corpus document once; nothing when ``new_ids`` is empty."""
    new = set(new_ids)
    if not new:
        return []
    with NearDupIndex() as index:
        for path in iter_corpus_paths(project.corpus):
            doc = load_json(path)
            index.add(doc["id"], "new" if doc["id"] in new else "old", doc["text"])
        pairs = [(a, b, sim) for a, sa, b, sb, sim in index.pairs() if "new" in (sa, sb)]
    return [f"{project.corpus_file(b if b in new else a)}: nearly the same text as {a if b in new else b} (similarity {sim:.2f}): "
            "kept; check that it is not the same article twice (the gate refuses such a pair across splits)"
            for a, b, sim in pairs[:limit]]

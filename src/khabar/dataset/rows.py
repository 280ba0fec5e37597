"""Corpus document + gold annotation -> a row of the ``documents`` config; split assignment."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["split_for", "document_row", "SPLITS", "SPLIT_BUCKETS"]

SPLITS = ("train", "validation", "test")  #: labels.schema.json#/$defs/Split (a test holds them equal)
#: a document's split: the first 8 hex digits of SHA-256("khabar-split:" + id), mod 100,
#: < 80 train, < 90 validation, else test. Fixed for ever: a document never changes split.
SPLIT_BUCKETS = (80, 90, 100)


def split_for(doc_id: str) -> str:
    """The split of a document, a function of its id alone (deterministic, stable)."""
    bucket = int(hashlib.sha256(f"khabar-split:{doc_id}".encode()).hexdigest()[:8], 16) % 100
    for name, limit in zip(SPLITS, SPLIT_BUCKETS):
        if bucket < limit:
            return name
    raise AssertionError("unreachable")


def document_row(doc: dict[str, Any], gold: dict[str, Any] | None) -> dict[str, Any]:
    """The ``documents`` row of a corpus document and its gold annotation (or None).

    Labels stay names here; :func:`khabar.dataset.features.make_encoder` turns them into ids.
    """
    prov = doc["provenance"]
    ann = gold or {"entities": [], "claims": [], "stances": []}
    return {
        "id": doc["id"],
        "revision": doc["revision"],
        "title": doc["title"],
        "text": doc["text"],
        "text_sha256": doc["text_sha256"],
        "lang": doc["lang"],
        "paragraphs": doc["paragraphs"],
        "sentences": doc["sentences"],
        "entities": ann["entities"],
        "claims": ann["claims"],
        "stances": ann["stances"],
        "flags": [{k: f[k] for k in ("kind", "start", "end", "text")} for f in doc["flags"]],
        "annotation": {
            "annotated": gold is not None,
            "annotators": list((gold or {}).get("origin", {}).get("sources") or ([gold["annotator"]] if gold else [])),
            "guidelines_version": (gold or {}).get("guidelines_version"),
        },
        "provenance": {k: prov[k] for k in ("seed_file", "raw_sha256", "encoding", "publisher", "url", "published_date",
                                            "translated_from", "machine_translated", "license", "license_status", "cited_sources")},
    }

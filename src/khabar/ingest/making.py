"""The part of ``khabar ingest`` that needs no other seed, run on every core: each seed's
document, its schema check and its canonical bytes (:func:`make_batch`, one batch of seeds at a
time, through :func:`khabar.core.parallel.ordered_map`). Everything that compares seeds (the
manifest, duplicates) stays in :mod:`khabar.ingest.run`, in seed order, so the corpus is the
same with any number of workers.

Public API: :class:`Maker`, :func:`make_batch`, :func:`batches`, :data:`MIN_WORDS`, :data:`BATCH_SEEDS`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from khabar.core.errors import InputError
from khabar.core.jsonio import dumps_canonical
from khabar.core.schema import Schemas
from khabar.ingest.document import make_document

__all__ = ["Maker", "make_batch", "batches", "MIN_WORDS", "BATCH_SEEDS"]

#: the shortest article accepted, in words
MIN_WORDS = 3
#: seeds handed to a worker at a time (a corpus of at most this many is made in one process)
BATCH_SEEDS = 256
_WORDS = re.compile(r"\w+")


def batches(items: Iterator[Any], size: int | None = None) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (default :data:`BATCH_SEEDS`; the last one shorter)."""
    size = size or BATCH_SEEDS
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Maker:
    """A worker's state for :func:`make_batch`: the schemas."""

    def __init__(self, schemas: Schemas):
        self.schemas = schemas


def make_batch(state: Maker, batch: list[tuple[str, Path, bytes, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """Each seed's document (:func:`khabar.ingest.document.make_document`) and what needs no other
    seed: ``(name, path, entry, document or None, words, canonical JSON bytes, problems)``. A
    document is None, with the reasons, when it is undecodable, not Arabic, too short (fewer than
    :data:`MIN_WORDS` words) or invalid against the document schema."""
    out = []
    for name, path, raw, entry in batch:
        try:
            doc = make_document(raw, name, entry)
            words = len(_WORDS.findall(doc["text"]))
            if words < MIN_WORDS:
                raise InputError(f"{name}: too short for a news article ({words} word{'s' if words != 1 else ''}; at least {MIN_WORDS})")
        except InputError as err:
            out.append((name, path, entry, None, 0, b"", [str(err) + (f" (hint: {err.hint})" if err.hint else "")]))
            continue
        problems = state.schemas.problems("document", doc)
        if problems:
            out.append((name, path, entry, None, words, b"", [f"{path}: document {doc['id']}: {p.path}: {p.message}" for p in problems]))
            continue
        out.append((name, path, entry, doc, words, dumps_canonical(doc).encode("utf-8"), []))
    return out

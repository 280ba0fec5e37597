"""The counts a build keeps while it writes rows: what ``reports/stats.json``, the card, the
datasheet and Croissant's Responsible-AI texts state about the release.

Public API: :class:`Tally`.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from khabar.dataset.features import TRAINING_CONFIGS
from khabar.dataset.rows import split_for
from khabar.release.distribution import Distribution

__all__ = ["Tally", "LICENCE_ROWS"]

#: the card lists the licence of each document up to this many documents (beyond, the ``provenance`` column holds it)
LICENCE_ROWS = 500


def _counters() -> collections.defaultdict[str, collections.Counter[str]]:
    return collections.defaultdict(collections.Counter)


@dataclass
class Tally:
    """Counts over the documents written so far.

    Attributes:
        stats: ``documents``, ``annotated``, ``characters`` (code points of ``text``), ``flags``,
            ``entities``, ``claims``, ``stances``; the build adds ``configs`` and ``agreement``.
        configs: per training config, the counts of :func:`khabar.dataset.training.derive`.
        types: entities per type.
        prov: ``license_status``, ``license``, ``translated_from``, ``known`` (provenance fields
            known, machine-translated documents), ``flag_kinds``, ``annotators`` (of gold
            annotations) and ``guidelines`` (versions followed).
    """

    stats: dict[str, Any] = field(default_factory=collections.Counter)
    configs: dict[str, collections.Counter[str]] = field(default_factory=lambda: {c: collections.Counter() for c in TRAINING_CONFIGS})
    types: collections.Counter[str] = field(default_factory=collections.Counter)
    prov: collections.defaultdict[str, collections.Counter[str]] = field(default_factory=_counters)
    #: ``(doc_id, seed_file, licence, license_status)`` of the first :data:`LICENCE_ROWS` documents (the card's per-document list)
    licences: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: what the pictures of ``reports/`` show (:class:`khabar.release.distribution.Distribution`)
    dist: Distribution = field(default_factory=Distribution)

    def add(self, doc: dict[str, Any], gold: dict[str, Any] | None, row: dict[str, Any],
            derived: dict[str, dict[str, int]]) -> None:
        """Count one document written: its corpus document, gold annotation (or None), ``documents``
        row (labels as names) and the derivation counts of its training rows (config -> counts)."""
        for config, counts in derived.items():
            self.configs[config].update(counts)
        stats, prov_counts = self.stats, self.prov
        stats["documents"] += 1
        stats["annotated"] += gold is not None
        stats["characters"] += len(doc["text"])
        stats["flags"] += len(doc["flags"])
        for key in ("entities", "claims", "stances"):
            stats[key] += len(row[key])
        self.types.update(e["type"] for e in row["entities"])
        prov = row["provenance"]
        prov_counts["license_status"][prov["license_status"]] += 1
        prov_counts["license"][prov["license"] or "unknown"] += 1
        if prov["translated_from"]:
            prov_counts["translated_from"][prov["translated_from"]] += 1
        for key in ("publisher", "url", "published_date"):
            prov_counts["known"][key] += prov[key] is not None
        prov_counts["known"]["machine_translated"] += prov["machine_translated"] is True
        prov_counts["flag_kinds"].update(f["kind"] for f in row["flags"])
        if len(self.licences) < LICENCE_ROWS:
            self.licences.append((doc["id"], doc["provenance"]["seed_file"], prov["license"] or "unknown", prov["license_status"]))
        self.dist.add(split_for(doc["id"]), row)
        if gold is not None:
            prov_counts["gold_origin"][(gold.get("origin") or {}).get("kind") or "unknown"] += 1
            prov_counts["annotators"].update(row["annotation"]["annotators"])
            prov_counts["guidelines"][gold.get("guidelines_version") or "none"] += 1

    def merge(self, other: "Tally") -> None:
        """Add the counts of ``other``, the tally of the documents that come next in id order (the
        build's workers each count a run of documents; merged in order, the result is the tally of
        one pass)."""
        self.stats.update(other.stats)
        for config, counter in other.configs.items():
            self.configs[config].update(counter)
        self.types.update(other.types)
        for key, counter in other.prov.items():
            self.prov[key].update(counter)
        self.licences.extend(other.licences[: max(0, LICENCE_ROWS - len(self.licences))])
        self.dist.merge(other.dist)

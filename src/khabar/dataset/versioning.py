"""SemVer for data: what bump a change between two releases requires.

* MAJOR: a schema change that breaks readers (a field removed or retyped, a label renamed,
  removed or reordered) or a document removed;
* MINOR: documents or annotations added, or a compatible schema change (a field or a label
  appended);
* PATCH: corrections only (a text, an annotation, or a document's metadata such as its
  provenance changed), or a report the latest release lacks (``reports/pretrained.json``: the same
  data, described more).

The inputs are release *indexes*, ``reports/index.jsonl`` of a release (one JSON line per
document, sorted by id: ``{id, split, revision, text_sha256, annotation_sha256}``), compared by a
streaming merge so that memory does not grow with the corpus, and the features of the
``documents`` config as a dict (``Features.to_dict()``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from khabar.core.errors import VersionError

__all__ = ["parse_version", "Diff", "diff_indexes", "required_bump", "check_version", "next_version", "features_bump"]

_SEMVER = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
BUMPS = ("none", "patch", "minor", "major")


def parse_version(v: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``. Raises VersionError for anything but MAJOR.MINOR.PATCH in ASCII digits."""
    m = _SEMVER.fullmatch(v) if isinstance(v, str) else None
    if not m:
        raise VersionError(f"version {v!r} is not MAJOR.MINOR.PATCH (ASCII digits, no leading zeros)")
    return int(m[1]), int(m[2]), int(m[3])


KINDS = ("added", "removed", "text_changed", "annotation_added", "annotation_changed", "annotation_removed",
         "metadata_changed", "reports_added", "format_changed")
SAMPLE = 10


@dataclass
class Diff:
    """Document-level differences between two release indexes.

    Each kind (``added``, ``removed``, ``text_changed``, ``annotation_added``,
    ``annotation_changed``, ``annotation_removed``) keeps the first :data:`SAMPLE` document ids in
    id order; ``counts`` has the full numbers.
    """

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    text_changed: list[str] = field(default_factory=list)
    annotation_added: list[str] = field(default_factory=list)
    annotation_changed: list[str] = field(default_factory=list)
    annotation_removed: list[str] = field(default_factory=list)
    metadata_changed: list[str] = field(default_factory=list)
    reports_added: list[str] = field(default_factory=list)  # report files (not documents) the latest release lacks
    format_changed: list[str] = field(default_factory=list)  # release files (not documents) written in a newer format
    schema: str = "none"  # none | minor | major
    schema_detail: str = ""  # e.g. "configs added: claims, entities, stances"
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def note(self, kind: str, doc_id: str) -> None:
        self.counts[kind] += 1
        ids = getattr(self, kind)
        if len(ids) < SAMPLE:
            ids.append(doc_id)

    def bump(self) -> str:
        """The smallest bump this diff requires: one of none, patch, minor, major."""
        c = self.counts
        if c["removed"] or self.schema == "major" or c["annotation_removed"]:
            return "major"
        if c["added"] or c["annotation_added"] or self.schema == "minor":
            return "minor"
        if c["text_changed"] or c["annotation_changed"] or c["metadata_changed"] or c["reports_added"] or c["format_changed"]:
            return "patch"
        return "none"

    def lines(self) -> list[str]:
        out = []
        labels = {"added": "documents added", "removed": "documents removed", "text_changed": "texts corrected",
                  "annotation_added": "gold annotations added", "annotation_changed": "gold annotations corrected",
                  "annotation_removed": "gold annotations removed", "metadata_changed": "document metadata changed (provenance, flags or gold annotators)",
                  "reports_added": "reports added (a newer toolkit reports more on the same data)",
                  "format_changed": "release files in a newer format (same data)"}
        for name, label in labels.items():
            ids, n = getattr(self, name), self.counts[name]
            if n:
                out.append(f"{label}: {n} ({', '.join(ids[:5])}{', …' if n > 5 else ''})")
        if self.schema != "none":
            out.append(f"schema change: {self.schema}" + (f" ({self.schema_detail})" if self.schema_detail else ""))
        return out or ["no change"]


def features_bump(old: Any, new: Any) -> str:
    """``none`` if equal, ``minor`` if ``new`` only appends fields or labels, else ``major``."""
    if old == new:
        return "none"
    if isinstance(old, dict) and isinstance(new, dict):
        if old.get("_type") != new.get("_type"):
            return "major"
        if old.get("_type") == "ClassLabel":
            o, n = old.get("names", []), new.get("names", [])
            return "minor" if n[: len(o)] == o and len(n) > len(o) else "major"
        worst = "none"
        for k, v in old.items():
            if k not in new:
                return "major"
            b = features_bump(v, new[k])
            if BUMPS.index(b) > BUMPS.index(worst):
                worst = b
        if set(new) - set(old):
            worst = max(worst, "minor", key=BUMPS.index)
        return worst
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return max((features_bump(a, b) for a, b in zip(old, new)), key=BUMPS.index, default="none")
    return "major"


def _compare(d: Diff, doc_id: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> None:
    if b is None:
        d.note("removed", doc_id)
    elif a is None:
        d.note("added", doc_id)
    else:
        if a["text_sha256"] != b["text_sha256"]:
            d.note("text_changed", doc_id)
        if a["annotation_sha256"] is None and b["annotation_sha256"] is not None:
            d.note("annotation_added", doc_id)
        elif a["annotation_sha256"] is not None and b["annotation_sha256"] is None:
            d.note("annotation_removed", doc_id)
        elif a["annotation_sha256"] != b["annotation_sha256"]:
            d.note("annotation_changed", doc_id)
        if (a["text_sha256"] == b["text_sha256"] and a["annotation_sha256"] == b["annotation_sha256"]
                and a.get("row_sha256") != b.get("row_sha256")):
            d.note("metadata_changed", doc_id)


def diff_streams(old: Iterable[dict[str, Any]], new: Iterable[dict[str, Any]], schema: str = "none",
                 names: tuple[str, str] = ("the old index", "the new index")) -> Diff:
    """The :class:`Diff` between two index streams, each sorted by ``id`` (a merge join).

    Args:
        names: what messages call the two streams (their files, when they are read from files).

    Raises:
        VersionError: a stream is not sorted by id (a damaged index), naming it.
    """
    d = Diff(schema=schema)
    end = {"id": None}
    it_a, it_b = iter(old), iter(new)
    a, b = next(it_a, end), next(it_b, end)
    last_a = last_b = ""
    while a is not end or b is not end:
        for item, last, name in ((a, last_a, names[0]), (b, last_b, names[1])):
            if item is not end and item["id"] <= last:
                raise VersionError(f"{name}: not sorted by id at {item['id']!r}" + (f" (after {last})" if last else ""),
                                   hint="a damaged index: restore the release folder or rebuild it")
        if b is end or (a is not end and a["id"] < b["id"]):
            _compare(d, a["id"], a, None)
            last_a, a = a["id"], next(it_a, end)
        elif a is end or b["id"] < a["id"]:
            _compare(d, b["id"], None, b)
            last_b, b = b["id"], next(it_b, end)
        else:
            _compare(d, a["id"], a, b)
            last_a, last_b = a["id"], b["id"]
            a, b = next(it_a, end), next(it_b, end)
    return d


def diff_indexes(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], schema: str = "none") -> Diff:
    """The :class:`Diff` from index ``old`` to ``new`` given as ``{doc_id: entry}`` dicts."""
    return diff_streams(({"id": k, **old[k]} for k in sorted(old)), ({"id": k, **new[k]} for k in sorted(new)), schema)


def next_version(previous: str | None, bump: str) -> str:
    """The smallest version after ``previous`` that makes a ``bump`` (0.1.0 when there is none)."""
    if previous is None:
        return "0.1.0"
    ma, mi, pa = parse_version(previous)
    if bump == "major":
        return f"{ma + 1}.0.0"
    if bump == "minor":
        return f"{ma}.{mi + 1}.0"
    return f"{ma}.{mi}.{pa + 1}"


def required_bump(previous: str, version: str) -> str:
    """The bump that going from ``previous`` to ``version`` makes."""
    a, b = parse_version(previous), parse_version(version)
    if b <= a:
        return "none"
    if b[0] > a[0]:
        return "major"
    if b[1] > a[1]:
        return "minor"
    return "patch"


def check_version(previous: str | None, version: str, diff: Diff | None) -> None:
    """Refuse ``version`` unless it is newer than ``previous`` and its bump fits ``diff``.

    Raises:
        VersionError: not newer; nothing changed; or a bump smaller than the diff requires
            (the message names the smallest version that fits and why).
    """
    parse_version(version)
    if previous is None or diff is None:
        return
    made = required_bump(previous, version)
    if made == "none":
        raise VersionError(f"version {version} is not newer than the latest release {previous}")
    need = diff.bump()
    if need == "none":
        raise VersionError(f"nothing changed since release {previous}; no new version to build",
                           hint="khabar diff shows what a build would change")
    if BUMPS.index(made) < BUMPS.index(need):
        raise VersionError(f"version {version} is a {made} bump from {previous}, but the change needs a {need} bump "
                           f"(at least {next_version(previous, need)}): " + "; ".join(diff.lines()))

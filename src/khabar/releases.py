"""Finding releases and reading what a release records about itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from .errors import InputError
from .jsonio import load_json
from .versioning import parse_version, VersionError

__all__ = ["list_releases", "latest_release", "read_index", "iter_index", "iter_index_file", "read_build_info"]


def list_releases(folder: Path) -> list[tuple[str, Path]]:
    """``[(version, path)]`` of ``folder``'s release folders, oldest first (SemVer order)."""
    out = []
    if folder.is_dir():
        for p in folder.iterdir():
            if p.is_dir():
                try:
                    out.append((parse_version(p.name), p.name, p))
                except VersionError:
                    continue
    return [(name, path) for _, name, path in sorted(out)]


def latest_release(folder: Path, before: str | None = None) -> tuple[str, Path] | None:
    """The newest release (older than ``before`` when given), or None."""
    items = list_releases(folder)
    if before is not None:
        items = [(v, p) for v, p in items if parse_version(v) < parse_version(before)]
    return items[-1] if items else None


def iter_index(release: Path) -> Iterator[dict[str, Any]]:
    """The lines of a release's ``reports/index.jsonl`` (sorted by id), streamed."""
    yield from iter_index_file(release / "reports" / "index.jsonl")


def iter_index_file(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of an index file, streamed.

    Raises:
        InputError: the file is missing or a line is not JSON.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as err:
                    raise InputError(f"{path}: line {n}: invalid JSON: {err.msg}") from None
    except FileNotFoundError:
        raise InputError(f"{path}: missing (not a Khabar release?)") from None


def read_index(release: Path) -> dict[str, dict[str, Any]]:
    """``{doc_id: {split, revision, text_sha256, annotation_sha256}}`` of a release."""
    return {r["id"]: r for r in iter_index(release)}


def read_build_info(release: Path) -> dict[str, Any]:
    path = release / "reports" / "build.json"
    if not path.is_file():
        raise InputError(f"{path}: missing (not a Khabar release?)")
    info = load_json(path)
    if not isinstance(info, dict) or not isinstance(info.get("features"), dict) or "documents" not in info["features"]:
        raise InputError(f"{path}: not a build report (no features.documents)")
    return info

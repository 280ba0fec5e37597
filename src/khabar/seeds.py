"""The seeds manifest (``seeds/manifest.json``): one entry per raw seed file.

A document id is assigned once, at first ingest, as ``kb-`` + the first 16 hex digits of the
SHA-256 of the seed's raw bytes, and kept here: neither a cleaning change nor a corrected seed
renames a document. A corrected seed is accepted explicitly (``khabar ingest --accept-edit``),
which bumps ``revision`` and keeps the old hash in ``previous_raw_sha256``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .errors import InputError
from .jsonio import load_json, write_json
from .schema import Schemas

__all__ = ["load_manifest", "save_manifest", "new_entry", "doc_id_for", "seed_files", "sha256_hex"]

SEED_SUFFIXES = (".txt",)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_id_for(raw_sha256: str) -> str:
    """The document id for a seed first ingested with this raw SHA-256."""
    return "kb-" + raw_sha256[:16]


def seed_files(folder: Path) -> list[Path]:
    """Seed files of ``folder``, sorted by name: every ``*.txt`` not starting with a dot."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SEED_SUFFIXES and not p.name.startswith("."))


def load_manifest(path: Path, schemas: Schemas) -> dict[str, Any]:
    """Read and validate the manifest; an absent file is an empty manifest.

    Raises:
        InputError: the manifest is not strict JSON or not valid against its schema.
    """
    if not path.exists():
        return {"schema_version": "1.0", "seeds": {}}
    data = load_json(path)
    problems = schemas.problems("seeds-manifest", data)
    if problems:
        raise InputError("; ".join(f"{path}: {p.path}: {p.message}" for p in problems))
    return data


def save_manifest(path: Path, manifest: dict[str, Any]) -> None:
    manifest["seeds"] = dict(sorted(manifest["seeds"].items()))
    write_json(path, manifest)


def new_entry(raw_sha256: str, declared_encoding: str | None = None) -> dict[str, Any]:
    """A manifest entry for a newly seen seed: its id, and null for every unknown."""
    return {
        "doc_id": doc_id_for(raw_sha256),
        "raw_sha256": raw_sha256,
        "revision": 1,
        "previous_raw_sha256": [],
        "declared_encoding": declared_encoding,
        "language": None,
        "publisher": None,
        "url": None,
        "published_date": None,
        "translated_from": None,
        "machine_translated": None,
        "translation_evidence": [],
        "cited_sources": [],
        "license": None,
        "license_status": "unknown",
        "notes": None,
    }

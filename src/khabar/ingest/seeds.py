"""The seeds manifest (``seeds/manifest.jsonl``): one JSON line per raw seed file, sorted by name.

A document id is assigned once, at first ingest, as ``kb-`` + the first 16 hex digits of the
SHA-256 of the seed's raw bytes, and kept here: neither a cleaning change nor a corrected seed
renames a document. A corrected seed is accepted explicitly (``khabar ingest --accept-edit``),
which bumps ``revision`` and keeps the old hash in ``previous_raw_sha256``.

JSON lines, so that ingest streams the manifest through a temporary SQLite table and memory
does not grow with the number of seeds (``schema/seeds-manifest.schema.json`` describes a line).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from khabar.core.errors import InputError
from khabar.core.jsonio import loads_json
from khabar.core.project import MANIFEST
from khabar.core.schema import Schemas

__all__ = ["iter_manifest", "new_entry", "doc_id_for", "iter_seed_files", "sha256_hex", "seed_name", "stage_manifest", "file_sha"]

SEED_SUFFIXES = (".txt",)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_id_for(raw_sha256: str) -> str:
    """The document id for a seed first ingested with this raw SHA-256."""
    return "kb-" + raw_sha256[:16]


def iter_seed_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    """Seed files of ``folder`` (every ``*.txt`` not starting with a dot), in directory order."""
    if not folder.is_dir():
        return
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.endswith(SEED_SUFFIXES) and not entry.name.startswith(".") and entry.name != MANIFEST:
                yield entry


def seed_name(seeds: Path, given: str) -> str:
    """The bare file name of a seed given as a name or as a path (``seeds/x.txt``).

    Raises:
        InputError: a path outside ``seeds``.
    """
    p = Path(given)
    if len(p.parts) == 1:
        return given
    bases = [p] if p.is_absolute() else [seeds.parent / p, Path.cwd() / p]  # relative to the project, or to here
    if not any(b.resolve().parent == seeds.resolve() for b in bases):
        raise InputError(f"{given}: not a file of {seeds}", hint="name a seed by its file name, e.g. article.txt")
    return p.name


def iter_manifest(path: Path, schemas: Schemas, errors: list[str]) -> Iterator[dict[str, Any]]:
    """The valid lines of the manifest; a problem line is reported in ``errors`` (file, line, field)."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entry = loads_json(line, f"{path}: line {n}")
            except InputError as err:
                errors.append(str(err))
                continue
            problems = schemas.problems("seeds-manifest", entry)
            if problems:
                name = entry.get("seed_file") if isinstance(entry, dict) else None
                errors.extend(f"{path}: line {n} ({name}): {p.path[2:] or '$'}: {p.message}" for p in problems)
                continue
            yield entry


def dumps_entry(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False) + "\n"


def new_entry(raw_sha256: str, declared_encoding: str | None = None, seed_file: str = "") -> dict[str, Any]:
    """A manifest entry for a newly seen seed: its id, and null for every unknown."""
    return {
        "seed_file": seed_file,
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


def stage_manifest(path: Path, entries: Iterable[str]) -> Path | None:
    """Write the new manifest (``entries``: JSON texts, sorted by name) beside ``path`` and return that file, or None when
    its bytes would not change. Written before any corpus document moves, so that a manifest that
    cannot be written (a full disk, a read-only ``seeds/``) leaves ``corpus/`` as it was.

    Raises:
        OSError: it cannot be written (the partial file is removed).
    """
    tmp = path.with_name(f".{path.name}.new")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as fh:
            for entry in entries:
                line = dumps_entry(json.loads(entry)).encode("utf-8")
                digest.update(line)
                fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if path.exists() and file_sha(path) == digest.hexdigest():
        tmp.unlink()
        return None
    return tmp


def file_sha(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

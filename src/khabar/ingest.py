"""``khabar ingest``: ``seeds/`` -> ``corpus/<doc_id>.json`` and ``seeds/manifest.json``.

All or nothing: every seed is read, decoded, cleaned, checked and validated first, with every
problem collected; only when there is none are the documents moved into ``corpus/`` (each by an
atomic rename, unchanged files left untouched) and the manifest written last. A failed run
leaves ``corpus/`` and the manifest byte for byte as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .document import make_document
from .errors import InputError
from .jsonio import dumps_canonical, load_json
from .paths import Project
from .schema import Schemas
from .seeds import load_manifest, new_entry, save_manifest, seed_files, sha256_hex

__all__ = ["ingest", "IngestReport"]


@dataclass
class IngestReport:
    """What an ingest did. Lists hold document ids."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stale_annotations: list[str] = field(default_factory=list)  # paths of annotation files now stale
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def ingest(project: Project, encodings: dict[str, str] | None = None, accept_edits: set[str] | frozenset[str] = frozenset(),
           progress: bool = True, schemas: Schemas | None = None) -> IngestReport:
    """Ingest every seed of ``project.seeds`` into ``project.corpus``.

    Args:
        project: the project folders.
        encodings: ``{seed file name: encoding}`` declared by the user (see
            :data:`khabar.decode.DECLARABLE`); kept in the manifest.
        accept_edits: names of seeds whose bytes changed since they were ingested and whose
            change the user accepts: the document keeps its id, its revision goes up by one,
            and annotations made on the old text become stale.
        progress: show a progress bar.

    Returns:
        An :class:`IngestReport`.

    Raises:
        InputError: one line per problem (file and reason) for every bad seed: empty, binary,
            undecodable, not Arabic, a duplicate of another seed, edited after ingest without
            ``accept_edits``, listed in the manifest but missing. Nothing is written then.
    """
    schemas = schemas or Schemas(project.schema)
    encodings = dict(encodings or {})
    files = seed_files(project.seeds) if project.seeds.is_dir() else []
    if not files:
        raise InputError(f"{project.seeds}: no seed files (*.txt)", hint="put raw articles into seeds/")
    names = {p.name for p in files}
    for name in encodings:
        if name not in names:
            raise InputError(f"--encoding names {name!r}, which is not a file in {project.seeds}")
    for name in accept_edits:
        if name not in names:
            raise InputError(f"--accept-edit names {name!r}, which is not a file in {project.seeds}")
    manifest = load_manifest(project.manifest, schemas)
    old_manifest_text = dumps_canonical(manifest)
    seeds = manifest["seeds"]
    errors: list[str] = []
    report = IngestReport()
    by_raw = {e["raw_sha256"]: n for n, e in seeds.items()}
    by_text: dict[str, str] = {}
    ids = {e["doc_id"]: n for n, e in seeds.items()}
    for name, entry in seeds.items():
        if name not in names:
            errors.append(f"{project.seeds / name}: listed in the manifest as {entry['doc_id']} but the file is missing")
    project.corpus.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=project.corpus))
    staged: list[tuple[str, Path, str]] = []
    try:
        for path in tqdm(files, desc="ingest", unit="doc", disable=not progress):
            name = path.name
            try:
                raw = path.read_bytes()
            except OSError as err:
                errors.append(f"{path}: cannot read: {err.strerror}")
                continue
            raw_sha = sha256_hex(raw)
            entry = seeds.get(name)
            if entry is None:
                if raw_sha in by_raw and by_raw[raw_sha] != name:
                    errors.append(f"{path}: the same article twice: byte-identical to {by_raw[raw_sha]}")
                    continue
                entry = new_entry(raw_sha, encodings.get(name))
                if entry["doc_id"] in ids:
                    errors.append(f"{path}: document id {entry['doc_id']} is already taken by {ids[entry['doc_id']]}")
                    continue
                ids[entry["doc_id"]] = name
                by_raw[raw_sha] = name
                status = "created"
            else:
                entry = dict(entry)
                if name in encodings and encodings[name] != entry["declared_encoding"]:
                    entry["declared_encoding"] = encodings[name]
                if raw_sha != entry["raw_sha256"]:
                    if name not in accept_edits:
                        errors.append(f"{path}: seed edited after ingest (was sha256 {entry['raw_sha256'][:12]}…, now "
                                      f"{raw_sha[:12]}…) of document {entry['doc_id']}; accept it with "
                                      f"`khabar ingest --accept-edit {name}`")
                        continue
                    entry["previous_raw_sha256"] = entry["previous_raw_sha256"] + [entry["raw_sha256"]]
                    entry["raw_sha256"] = raw_sha
                    entry["revision"] += 1
                status = "known"
            try:
                doc = make_document(raw, name, entry)
            except InputError as err:
                errors.append(str(err) + (f" (hint: {err.hint})" if err.hint else ""))
                continue
            problems = schemas.problems("document", doc)
            if problems:
                errors.extend(f"{path}: document {doc['id']}: {p.path}: {p.message}" for p in problems)
                continue
            other = by_text.get(doc["text_sha256"])
            if other is not None:
                errors.append(f"{path}: the same article twice: its text of record equals that of {other}")
                continue
            by_text[doc["text_sha256"]] = name
            seeds[name] = entry
            data = dumps_canonical(doc)
            tmp = staging / f"{doc['id']}.json"
            tmp.write_text(data, encoding="utf-8")
            target = project.corpus / f"{doc['id']}.json"
            if status == "created" and not target.exists():
                kind = "created"
            elif target.exists() and target.read_bytes() == data.encode("utf-8"):
                kind = "unchanged"
            else:
                kind = "updated"
            staged.append((kind, tmp, doc["id"]))
            if kind == "updated":
                report.stale_annotations.extend(_stale(project, doc["id"], doc["text_sha256"]))
        if errors:
            raise InputError(f"ingest refused ({len(errors)} problem{'s' if len(errors) != 1 else ''}); corpus/ unchanged:\n  "
                             + "\n  ".join(errors))
        for kind, tmp, doc_id in staged:
            getattr(report, kind).append(doc_id)
            if kind != "unchanged":
                os.replace(tmp, project.corpus / f"{doc_id}.json")
        if dumps_canonical(manifest) != old_manifest_text or not project.manifest.exists():
            save_manifest(project.manifest, manifest)
        known = {e["doc_id"] for e in seeds.values()}
        for p in sorted(project.corpus.glob("kb-*.json")):
            if p.stem not in known:
                report.warnings.append(f"{p}: no seed in the manifest has this id (orphan document)")
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stale(project: Project, doc_id: str, sha: str) -> list[str]:
    folder = project.annotations / doc_id
    out = []
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            try:
                data: Any = load_json(p)
            except InputError:
                continue
            if isinstance(data, dict) and data.get("text_sha256") not in (None, sha):
                out.append(str(p))
    return out

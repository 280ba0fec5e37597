"""``khabar build``: ``corpus/`` + gold annotations + ``schema/`` -> ``releases/<version>/``.

One streaming pass over the corpus (sorted by id) checks every document and gold annotation
and writes the rows of each split with ``pyarrow.parquet.ParquetWriter`` (zstd) under one
explicit Arrow schema that carries the Hugging Face features. Everything is written into a
staging folder; the full gate (:func:`khabar.validate.validate_release`, ``load_dataset``
included) runs on it, and only a release that passes is renamed into place. An existing
version is never overwritten, and the version must fit the change (:mod:`khabar.versioning`).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from . import __version__
from .annotations import gold_path, load_checked_annotation
from .card import card_yaml, data_path, render_card
from .croissant import dumps as croissant_dumps, make_croissant
from .errors import InputError, KhabarError, ReleaseExistsError, StaleAnnotationError
from .features import arrow_schema, features_for, make_encoder
from .jsonio import atomic_write_text, dumps_canonical, load_json
from .paths import Project
from .releases import latest_release, read_build_info, read_index
from .rows import SPLITS, document_row, split_for
from .schema import Schemas
from .tables import splice_generated
from .versioning import Diff, check_version, diff_indexes, features_bump, parse_version

__all__ = ["build", "BuildReport", "plan", "row_digest", "BATCH_ROWS"]

BATCH_ROWS = 1000
DIGEST_KEY = "khabar rows v1"


@dataclass
class BuildReport:
    version: str
    path: Path
    counts: dict[str, int]
    diff: Diff
    previous: str | None
    stats: dict[str, Any] = field(default_factory=dict)


def row_digest(row: dict[str, Any]) -> bytes:
    """SHA-256 of a row's canonical JSON (sorted keys); the gate compares it after load_dataset."""
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")).digest()


def _annotation_sha(gold: dict[str, Any] | None) -> str | None:
    if gold is None:
        return None
    layers = {k: gold[k] for k in ("entities", "claims", "stances")}
    return hashlib.sha256(dumps_canonical(layers, indent=None).encode("utf-8")).hexdigest()


def _corpus_paths(project: Project) -> list[Path]:
    return sorted(project.corpus.glob("kb-*.json"))


def iter_checked(project: Project, schemas: Schemas, errors: list[str], progress: bool) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Yield ``(document, gold or None)`` for every corpus document that passes its checks;
    append one line per problem to ``errors`` for the others (and for stale gold files)."""
    paths = _corpus_paths(project)
    for path in tqdm(paths, desc="build", unit="doc", disable=not progress):
        try:
            doc = load_json(path)
        except InputError as err:
            errors.append(str(err))
            continue
        problems = schemas.problems("document", doc)
        if problems:
            errors.extend(f"{path}: {p.path[2:] or '$'}: schema-invalid: {p.message}" for p in problems)
            continue
        if path.stem != doc["id"]:
            errors.append(f"{path}: holds document {doc['id']}; the file must be named {doc['id']}.json")
            continue
        from .checks import check_row
        bad = check_row(doc)
        if bad:
            errors.extend(f"{path}: {f[2:]}: {c}: {m}" for c, f, m in bad)
            continue
        gp = gold_path(project.annotations, doc["id"])
        gold = None
        if gp.exists():
            try:
                gold = load_checked_annotation(gp, doc, schemas)
            except StaleAnnotationError as err:
                errors.append(f"{err} (hint: {err.hint})")
                continue
            except InputError as err:
                errors.append(str(err))
                continue
        yield doc, gold


def plan(project: Project, schemas: Schemas | None = None, progress: bool = False) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The index a build would make now (``{doc_id: {split, revision, text_sha256,
    annotation_sha256}}``) and the problems that would stop it, without writing anything."""
    schemas = schemas or Schemas(project.schema)
    errors: list[str] = []
    index = {}
    for doc, gold in iter_checked(project, schemas, errors, progress):
        index[doc["id"]] = {"id": doc["id"], "split": split_for(doc["id"]), "revision": doc["revision"],
                            "text_sha256": doc["text_sha256"], "annotation_sha256": _annotation_sha(gold)}
    return index, errors


def diff_against_latest(project: Project, index: dict[str, dict[str, Any]], schemas: Schemas,
                        before: str | None = None) -> tuple[str | None, Diff]:
    """``(latest version or None, Diff from it to ``index``)``."""
    latest = latest_release(project.releases, before=before)
    if latest is None:
        return None, diff_indexes({}, index)
    version, path = latest
    old_features = read_build_info(path)["features"]["documents"]
    schema_change = features_bump(old_features, features_for(schemas, "documents").to_dict())
    return version, diff_indexes(read_index(path), index, schema=schema_change)


def _facts(stats: dict[str, Any]) -> dict[str, str]:
    return {
        "collection": "Seed articles are collected as raw files (seeds/) exactly as received, with a manifest of what is known of "
                      "their provenance; so far one article, an Arabic machine translation from Persian of a news report on the "
                      "US military presence in Iraq, received without publisher, URL, date or licence.",
        "biases": "A single source with partisan wording (Iranian state-aligned framing) and machine-translation artifacts; "
                  "not representative of Arabic news.",
        "limitations": f"{stats['documents']} document(s); licence unknown; gold annotation by a single annotator where present, "
                       "no agreement figures yet.",
        "personal": "Names of public figures (heads of government, spokespeople) in their public role; no private individuals.",
        "use_cases": "Research on Arabic named-entity recognition, attribution (claim, source, cue, reporting chain) and stance detection.",
        "annotation": "Entities (Wojood types), PARC attributions with reporting chains, CheckThat! check-worthiness and SemEval-2016 "
                      "stances, annotated in Label Studio by written guidelines and adjudicated into gold.",
        "preprocessing": "Decoded strictly (UTF-8, UTF-8 BOM, UTF-16 BOM, Windows-1256), NFC, \\n line ends, invisible bidi/format "
                         "controls removed; nothing else changed; every edit recorded with raw byte offsets; artifacts flagged, not removed.",
        "maintenance": "Versioned with SemVer for data (MAJOR: breaking schema change or documents removed; MINOR: documents or "
                       "annotations added; PATCH: corrections); every release validated before it ships; releases are immutable.",
        "social_impact": "Supports the study of how claims travel through reporting chains in Arabic news; misuse risk is low.",
        "machine_tools": "lingua-language-detector (language check); charset-normalizer (encoding detection).",
    }


def build(project: Project, version: str, *, progress: bool = True, schemas: Schemas | None = None,
          validate: bool = True) -> BuildReport:
    """Build release ``version`` into ``project.releases / version``.

    Args:
        version: ``MAJOR.MINOR.PATCH``; must be newer than the latest release and make at least
            the bump the change requires.
        validate: run the full gate on the staged release before it is moved into place
            (turned off only by the benchmark, which times validation separately).

    Returns:
        A :class:`BuildReport`.

    Raises:
        ReleaseExistsError: ``releases/<version>`` exists.
        VersionError: the version is malformed, not newer, or too small a bump.
        StaleAnnotationError / InputError: bad corpus documents or annotations (all listed).
        KhabarError: the staged release failed the gate (all problems listed); nothing is kept.
    """
    parse_version(version)
    schemas = schemas or Schemas(project.schema)
    target = project.releases / version
    if target.exists():
        raise ReleaseExistsError(f"{target}: release {version} exists; releases are never overwritten",
                                 hint="choose a new version (khabar diff shows what changed)")
    features = features_for(schemas, "documents")
    schema = arrow_schema(features)
    encode = make_encoder(features)
    project.releases.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{version}-", dir=project.releases))
    try:
        errors: list[str] = []
        writers = {}
        buffers: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
        digests = {s: hashlib.sha256() for s in SPLITS}
        counts = {s: 0 for s in SPLITS}
        stats: dict[str, Any] = collections.Counter()
        type_counts: collections.Counter[str] = collections.Counter()
        index_tmp = staging / "reports" / "index.jsonl"
        index_tmp.parent.mkdir(parents=True)

        def flush(split: str) -> None:
            if not buffers[split]:
                return
            if split not in writers:  # a split with no rows gets no file: load_dataset refuses empty splits
                out = staging / data_path("documents", split)
                out.parent.mkdir(parents=True, exist_ok=True)
                writers[split] = pq.ParquetWriter(out, schema, compression="zstd")
            writers[split].write_table(pa.Table.from_pylist(buffers[split], schema=schema))
            buffers[split] = []

        index: dict[str, dict[str, Any]] = {}
        with open(index_tmp, "w", encoding="utf-8") as index_fh:
            for doc, gold in iter_checked(project, schemas, errors, progress):
                split = split_for(doc["id"])
                row = document_row(doc, gold)
                try:
                    encoded = encode(row)
                except KeyError as err:
                    errors.append(f"{doc['id']}: label-unknown: {err} is not in the schema's vocabulary")
                    continue
                digests[split].update(row_digest(encoded))
                buffers[split].append(encoded)
                counts[split] += 1
                if len(buffers[split]) >= BATCH_ROWS:
                    flush(split)
                entry = {"id": doc["id"], "split": split, "revision": doc["revision"], "text_sha256": doc["text_sha256"],
                         "annotation_sha256": _annotation_sha(gold)}
                index[doc["id"]] = {k: entry[k] for k in ("text_sha256", "annotation_sha256")}
                index_fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
                stats["documents"] += 1
                stats["annotated"] += gold is not None
                stats["characters"] += len(doc["text"])
                stats["flags"] += len(doc["flags"])
                for key in ("entities", "claims", "stances"):
                    stats[key] += len(row[key])
                type_counts.update(e["type"] for e in row["entities"])
        for split in SPLITS:
            flush(split)
        for writer in writers.values():
            writer.close()
        if errors:
            raise InputError(f"build refused ({len(errors)} problem{'s' if len(errors) != 1 else ''}); nothing written:\n  "
                             + "\n  ".join(errors))
        if not stats["documents"]:
            raise InputError(f"{project.corpus}: no documents", hint="run khabar ingest first")
        previous, diff = _diff_from_index(project, schemas, version, index)
        check_version(previous, version, diff)
        counts = {s: n for s, n in counts.items() if n}
        _write_metadata(project, schemas, staging, version, features, counts, digests, stats, type_counts, previous, diff)
        if validate:
            from .validate import validate_release

            problems = validate_release(staging, schemas=schemas, progress=progress)
            if problems:
                raise KhabarError(f"the built release failed the gate ({len(problems)} problems); nothing shipped:\n  "
                                  + "\n  ".join(p.line() for p in problems))
        os.rename(staging, target)
        _append_changelog(project, version, previous, diff)
        return BuildReport(version, target, counts, diff, previous, dict(stats))
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _diff_from_index(project: Project, schemas: Schemas, version: str, index: dict[str, dict[str, Any]]) -> tuple[str | None, Diff]:
    return diff_against_latest(project, index, schemas, before=version)


def _source_date() -> datetime | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch else None


def _changelog_entry(version: str, previous: str | None, diff: Diff) -> str:
    when = _source_date()
    head = f"## [{version}]" + (f" - {when.date().isoformat()}" if when else "")
    since = f"Changes since {previous}" if previous else "First release"
    return head + "\n\n" + f"{since} ({diff.bump()} bump):\n\n" + "\n".join(f"- {line}" for line in diff.lines()) + "\n"


def _append_changelog(project: Project, version: str, previous: str | None, diff: Diff) -> None:
    path = project.changelog
    old = path.read_text(encoding="utf-8") if path.exists() else "# Changelog\n\nData releases of Khabar (SemVer for data) and changes to the toolkit.\n"
    if f"## [{version}]" in old:
        return
    entry = _changelog_entry(version, previous, diff)
    marker = "\n## "
    cut = old.find(marker)
    new = (old[:cut] + "\n" + entry + old[cut:]) if cut >= 0 else (old.rstrip("\n") + "\n\n" + entry)
    atomic_write_text(path, new)


def _write_metadata(project: Project, schemas: Schemas, staging: Path, version: str, features: Any, counts: dict[str, int],
                    digests: dict[str, Any], stats: collections.Counter, type_counts: collections.Counter,
                    previous: str | None, diff: Diff) -> None:
    sizes = {"documents": {s: (staging / data_path("documents", s)).stat().st_size for s in counts}}
    first_split = next(iter(counts))
    annotated = stats["annotated"]
    note = ("No document has a gold annotation yet: the entity, claim and stance columns are empty lists in this release. "
            "Annotation follows written guidelines in Label Studio; agreement figures will come with a second annotator."
            if not annotated else f"{annotated} document(s) carry a gold annotation; see `annotation.annotators`.")
    full_stats = {"version": version, "documents": stats["documents"], "annotated": annotated,
                  "characters": stats["characters"], "flags": stats["flags"], "entities": stats["entities"],
                  "claims": stats["claims"], "stances": stats["stances"], "splits": counts,
                  "entity_types": dict(sorted(type_counts.items())), "first_split": first_split, "annotation_note": note}
    data = card_yaml(version, {"documents": features}, {"documents": counts}, sizes)
    entry = _changelog_entry(version, previous, diff)
    (staging / "README.md").write_text(render_card(schemas, version, data, full_stats, entry), encoding="utf-8")
    (staging / "CHANGELOG.md").write_text("# Changelog of this release\n\n" + entry, encoding="utf-8")
    if project.datasheet.exists():
        sheet = splice_generated(project.datasheet.read_text(encoding="utf-8"), schemas)
        (staging / "DATASHEET.md").write_text(sheet, encoding="utf-8")
    reports = staging / "reports"
    (reports / "stats.json").write_text(dumps_canonical(full_stats), encoding="utf-8")
    rows = {"digest": DIGEST_KEY, "configs": {"documents": {s: {"num_rows": counts[s], "sha256": digests[s].hexdigest()}
                                                            for s in counts}}}
    (reports / "rows.json").write_text(dumps_canonical(rows), encoding="utf-8")
    build_info = {"version": version, "previous": previous, "bump": diff.bump(), "toolkit": f"khabar {__version__}",
                  "features": {"documents": features.to_dict()}}
    (reports / "build.json").write_text(dumps_canonical(build_info), encoding="utf-8")
    croissant = make_croissant(staging, version, {"documents": features},
                               {"documents": [data_path("documents", s) for s in counts]}, _facts(full_stats), _source_date())
    (staging / "croissant.json").write_text(croissant_dumps(croissant), encoding="utf-8")
    write_checksums(staging)


def write_checksums(release: Path) -> None:
    """Write ``SHA256SUMS`` (``sha256sum`` format, sorted paths) for every file but itself."""
    lines = []
    for p in sorted(release.rglob("*")):
        if p.is_file() and p.name != "SHA256SUMS":
            rel = p.relative_to(release).as_posix()
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {rel}")
    (release / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")

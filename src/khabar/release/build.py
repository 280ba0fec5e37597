"""``khabar build``: ``corpus/`` + gold annotations + ``schema/`` -> ``releases/<version>/``.

One streaming pass over the corpus (sorted by id) checks every document and gold annotation
and writes the rows of each config and split with ``pyarrow.parquet.ParquetWriter`` (zstd) under
one explicit Arrow schema per config that carries the Hugging Face features (:class:`Shards`):
the ``documents`` row of each document and the training rows derived from it
(:mod:`khabar.dataset.training`: ``entities``, ``claims``, ``stances``). Everything is written into a
staging folder; the full gate (:func:`khabar.gate.validate.validate_release`, ``load_dataset``
included) runs on it, and only a release that passes is renamed into place. An existing
version is never overwritten, and the version must fit the change (:mod:`khabar.dataset.versioning`).
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
from typing import Any, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from khabar import __version__
from khabar.annotate.files import gold_path, load_checked_annotation
from khabar.core.checks import check_row
from khabar.annotate.preannotate import OUTPUT_NAME as PRE_OUTPUT, TOOL, VERSION as PRE_VERSION
from khabar.annotate.evaluate import evaluate_pairs
from khabar.dataset.card import card_yaml, data_path, render_card
from khabar.dataset.croissant import dumps as croissant_dumps, make_croissant
from khabar.core.errors import InputError, KhabarError, ReleaseExistsError, StaleAnnotationError, VersionError
from khabar.dataset.features import CONFIGS, TRAINING_CONFIGS, arrow_schema, features_for, make_encoder
from khabar.core.jsonio import atomic_write_text, dumps_canonical, load_json, no_interrupts, sha256_file
from khabar.core.project import Project
from khabar.dataset.lookup import iter_index, iter_index_file, latest_release, read_build_info
from khabar.dataset.rows import SPLITS, document_row, split_for
from khabar.core.schema import Schemas
from khabar.dataset.tables import splice_generated
from khabar.core.ids import doc_id_str, is_doc_id
from khabar.core.store import corpus_ids
from khabar.release.reports import write_reports
from khabar.dataset.training import Spec, derive
from khabar.dataset.versioning import Diff, check_version, diff_streams, features_bump, parse_version

__all__ = ["build", "BuildReport", "Shards", "plan", "row_digest", "configs_stats", "BATCH_ROWS"]

BATCH_ROWS = 1000
DIGEST_KEY = "khabar rows v1"


@dataclass
class BuildReport:
    """What a build made. ``counts``: rows of the ``documents`` config per split; ``rows``: the same
    for every config; ``stats``: ``reports/stats.json``'s counters, ``configs`` included."""

    version: str
    path: Path
    counts: dict[str, int]
    diff: Diff
    previous: str | None
    stats: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> rows (splits with rows)


def row_digest(row: dict[str, Any]) -> bytes:
    """SHA-256 of a row's canonical JSON (sorted keys); the gate compares it after load_dataset."""
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")).digest()


class Shards:
    """The parquet shards of a release being built: one ``ParquetWriter`` (zstd, the config's
    explicit Arrow schema) per config and split, opened at its first row, so a split with no rows
    gets no file (``load_dataset`` refuses empty splits); rows are buffered and written every
    :data:`BATCH_ROWS`, so memory does not grow with the corpus. Keeps the row count and the
    digest (:func:`row_digest` of each row, in order) of every config/split for ``reports/rows.json``.
    """

    def __init__(self, staging: Path, features: dict[str, Any]):
        self.staging = staging
        self.schemas = {c: arrow_schema(f) for c, f in features.items()}
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.buffers: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
        self.counts = {c: dict.fromkeys(SPLITS, 0) for c in features}
        self.digests = {c: {s: hashlib.sha256() for s in SPLITS} for c in features}

    def add(self, config: str, split: str, encoded: dict[str, Any]) -> None:
        """Append one encoded row (ClassLabel ids) to ``config``/``split``."""
        self.digests[config][split].update(row_digest(encoded))
        self.counts[config][split] += 1
        buf = self.buffers[config, split]
        buf.append(encoded)
        if len(buf) >= BATCH_ROWS:
            self._flush(config, split)

    def _flush(self, config: str, split: str) -> None:
        buf = self.buffers.pop((config, split), None)
        if not buf:
            return
        if (config, split) not in self.writers:
            out = self.staging / data_path(config, split)
            out.parent.mkdir(parents=True, exist_ok=True)
            self.writers[config, split] = pq.ParquetWriter(out, self.schemas[config], compression="zstd")
        self.writers[config, split].write_table(pa.Table.from_pylist(buf, schema=self.schemas[config]))

    def close(self) -> None:
        for config, split in list(self.buffers):
            self._flush(config, split)
        for writer in self.writers.values():
            writer.close()

    def rows(self) -> dict[str, dict[str, int]]:
        """``{config: {split: rows}}`` of the splits with rows (a config with none maps to ``{}``)."""
        return {c: {s: n for s, n in splits.items() if n} for c, splits in self.counts.items()}

    def report(self) -> dict[str, Any]:
        """``reports/rows.json``: count and digest of every config/split with rows."""
        return {"digest": DIGEST_KEY, "configs": {c: {s: {"num_rows": n, "sha256": self.digests[c][s].hexdigest()}
                                                      for s, n in splits.items()} for c, splits in self.rows().items() if splits}}


def configs_stats(counters: dict[str, collections.Counter], rows: dict[str, dict[str, int]]) -> dict[str, Any]:
    """``stats.json``'s ``configs``: per training config its rows per split and the counts of
    :func:`khabar.dataset.training.derive` (what was merged, widened or left out, and why)."""
    return {c: {"splits": rows[c], **dict(sorted(counters[c].items()))} for c in counters}


def _annotation_sha(gold: dict[str, Any] | None) -> str | None:
    if gold is None:
        return None
    layers = {k: gold[k] for k in ("entities", "claims", "stances")}
    return hashlib.sha256(dumps_canonical(layers, indent=None).encode("utf-8")).hexdigest()


def iter_checked(project: Project, schemas: Schemas, errors: list[str], progress: bool) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Yield ``(document, gold or None)`` for every corpus document that passes its checks;
    append one line per problem to ``errors`` for the others (and for stale gold files)."""
    strays: list[str] = []
    ids = corpus_ids(project.corpus, strays)
    errors.extend(f"{project.corpus / name}: not a corpus document (expected kb-<16 hex digits>.json)" for name in sorted(strays))
    if project.annotations.is_dir():
        with os.scandir(project.annotations) as it:
            for entry in it:
                if entry.is_dir() and not entry.name.startswith(".") and not is_doc_id(entry.name):
                    if any(p.suffix == ".json" for p in Path(entry.path).rglob("*")):
                        errors.append(f"{entry.path}: not a document folder (annotations/<doc_id>/ with doc_id kb-<16 lower-case hex digits>)")
                    continue
                if entry.is_dir() and entry.name.startswith("kb-"):
                    try:
                        value = np.uint64(int(entry.name[3:], 16))
                        at = int(np.searchsorted(ids, value))
                        missing = at >= len(ids) or ids[at] != value
                    except (ValueError, OverflowError):
                        missing = True
                    if missing and (Path(entry.path) / "gold.json").exists():
                        errors.append(f"{entry.path}/gold.json: annotation of a document that is not in corpus/")
    for value in tqdm(ids, desc="build", unit="doc", disable=not progress):
        path = project.corpus / f"{doc_id_str(value)}.json"
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
            if not gold["origin"].get("sources"):
                errors.append(f"{gp}: origin.sources must name the pseudonymous annotator(s) this gold annotation came from")
                continue
        yield doc, gold


def index_entry(doc: dict[str, Any], gold: dict[str, Any] | None, encoded: dict[str, Any]) -> dict[str, Any]:
    """The ``reports/index.jsonl`` line of a document: what :mod:`khabar.dataset.versioning` compares."""
    return {"id": doc["id"], "split": split_for(doc["id"]), "revision": doc["revision"], "text_sha256": doc["text_sha256"],
            "annotation_sha256": _annotation_sha(gold), "row_sha256": row_digest(encoded).hex()}


def plan(project: Project, out: Path, schemas: Schemas | None = None, progress: bool = False) -> list[str]:
    """Write the index a build would make now to ``out`` (JSON lines sorted by id) and return
    the problems that would stop the build, without writing anything else."""
    schemas = schemas or Schemas(project.schema)
    encode = make_encoder(features_for(schemas, "documents"))
    errors: list[str] = []
    with open(out, "w", encoding="utf-8") as fh:
        for doc, gold in iter_checked(project, schemas, errors, progress):
            try:
                encoded = encode(document_row(doc, gold))
            except KeyError as err:
                errors.append(f"{doc['id']}: label-unknown: {err} is not in the schema's vocabulary")
                continue
            fh.write(json.dumps(index_entry(doc, gold, encoded), ensure_ascii=False) + "\n")
    return errors


def diff_against_latest(project: Project, index: Path, schemas: Schemas, before: str | None = None) -> tuple[str | None, Diff]:
    """``(latest version or None, Diff from it to the index file ``index``)``, streamed. The schema
    part compares the features of every config (a config added is a minor change, one removed major)."""
    latest = latest_release(project.releases, before=before)
    if latest is None:
        return None, diff_streams([], iter_index_file(index))
    version, path = latest
    old_features = read_build_info(path)["features"]  # config -> features; a config added is a minor change
    new_features = {c: features_for(schemas, c).to_dict() for c in CONFIGS}
    schema_change = features_bump(old_features, new_features)
    diff = diff_streams(iter_index(path), iter_index_file(index), schema=schema_change)
    added, removed = sorted(set(new_features) - set(old_features)), sorted(set(old_features) - set(new_features))
    changed = sorted(c for c in set(old_features) & set(new_features) if old_features[c] != new_features[c])
    diff.schema_detail = "; ".join(f"{what}: {', '.join(cs)}" for what, cs in
                                   (("configs added", added), ("configs removed", removed), ("features changed", changed)) if cs)
    return version, diff


def _facts(stats: dict[str, Any]) -> dict[str, str]:
    """Croissant's Responsible-AI texts, stated from this release's counts."""
    prov = stats["provenance"]
    n = stats["documents"]
    mt = prov["machine_translated"]
    unknown_licence = prov["license_status"].get("unknown", 0)
    return {
        "collection": f"{n} news article(s), each received as a raw seed file kept byte-identical in seeds/ with a manifest of "
                      f"what is known of its provenance (publisher known for {prov['publisher_known']}, URL for "
                      f"{prov['url_known']}, publication date for {prov['date_known']}); {mt} machine-translated.",
        "biases": "Few sources and topics so far (see DATASHEET.md); machine-translated text carries translationese"
                  + (f" ({mt} of {n} documents)." if mt else "."),
        "limitations": f"{n} document(s); licence unknown for {unknown_licence}; "
                       + (f"gold annotation for {stats['annotated']}" if stats["annotated"] else "no gold annotation yet")
                       + ("; inter-annotator agreement over " + f"{stats['agreement']['agreement_compared']} document(s) (reports/agreement.json)."
                          if stats.get("agreement", {}).get("agreement_compared") else "; no agreement figures yet (no document has two or more annotators)."),
        "personal": "Names of public figures (heads of government, spokespeople) in their public role; no private individuals known.",
        "use_cases": "Research on Arabic named-entity recognition, attribution (claim, source, cue, reporting chain) and stance detection.",
        "annotation": ("Entities (Wojood types), PARC attributions with reporting chains, CheckThat! check-worthiness and SemEval-2016 "
                       "stances in annotation files per annotator, adjudicated into gold." if stats["annotated"] else
                       "No gold annotation in this release; the schema defines entities (Wojood types), PARC attributions with "
                       "reporting chains, CheckThat! check-worthiness and SemEval-2016 stances."),
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
        StaleAnnotationError / InputError: bad corpus documents or annotations (all listed); a
            ``BioTag`` vocabulary out of step with ``EntityType``.
        KhabarError: the staged release failed the gate (all problems listed); nothing is kept.
    """
    parse_version(version)
    schemas = schemas or Schemas(project.schema)
    target = project.releases / version
    if target.exists():
        raise ReleaseExistsError(f"{target}: release {version} exists; releases are never overwritten",
                                 hint="choose a new version (khabar diff shows what changed)")
    newest = latest_release(project.releases)
    if newest is not None and parse_version(version) <= parse_version(newest[0]):
        raise VersionError(f"version {version} is not newer than the latest release {newest[0]}",
                           hint="releases only move forward; khabar diff shows the next version")
    if not project.datasheet.is_file():
        raise InputError(f"{project.datasheet}: missing; every release ships the project's datasheet",
                         hint="write DATASHEET.md (Gebru et al.) with the generated-section markers")
    spec = Spec.from_schemas(schemas)
    features = {config: features_for(schemas, config) for config in CONFIGS}
    encoders = {config: make_encoder(f) for config, f in features.items()}
    project.releases.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{version}-", dir=project.releases))
    shards = Shards(staging, features)
    try:
        errors: list[str] = []
        stats: dict[str, Any] = collections.Counter()
        config_stats = {config: collections.Counter() for config in TRAINING_CONFIGS}
        type_counts: collections.Counter[str] = collections.Counter()
        prov_counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        index_tmp = staging / "reports" / "index.jsonl"
        index_tmp.parent.mkdir(parents=True)
        pre_pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        with open(index_tmp, "w", encoding="utf-8") as index_fh:
            for doc, gold in iter_checked(project, schemas, errors, progress):
                split = split_for(doc["id"])
                row = document_row(doc, gold)
                if gold is not None:
                    try:
                        pred = _fresh_preannotation(project, doc, schemas)
                    except InputError as err:
                        errors.append(str(err))
                        continue
                    if pred is not None:
                        pre_pairs.append((_spans_only(pred), _spans_only(gold)))
                derived = derive(row, spec)
                try:
                    encoded = encoders["documents"](row)
                    training = {c: [encoders[c](r) for r in rows] for c, rows in derived.rows.items()}
                except KeyError as err:
                    errors.append(f"{doc['id']}: label-unknown: {err} is not in the schema's vocabulary")
                    continue
                shards.add("documents", split, encoded)
                for config, rows in training.items():
                    for r in rows:
                        shards.add(config, split, r)
                    config_stats[config].update(derived.stats[config])
                index_fh.write(json.dumps(index_entry(doc, gold, encoded), ensure_ascii=False) + "\n")
                stats["documents"] += 1
                stats["annotated"] += gold is not None
                stats["characters"] += len(doc["text"])
                stats["flags"] += len(doc["flags"])
                for key in ("entities", "claims", "stances"):
                    stats[key] += len(row[key])
                type_counts.update(e["type"] for e in row["entities"])
                prov = row["provenance"]
                prov_counts["license_status"][prov["license_status"]] += 1
                prov_counts["license"][prov["license"] or "unknown"] += 1
                if prov["translated_from"]:
                    prov_counts["translated_from"][prov["translated_from"]] += 1
                for key in ("publisher", "url", "published_date"):
                    prov_counts["known"][key] += prov[key] is not None
                prov_counts["known"]["machine_translated"] += prov["machine_translated"] is True
                prov_counts["flag_kinds"].update(f["kind"] for f in row["flags"])
                if gold is not None:
                    prov_counts["annotators"].update(row["annotation"]["annotators"])
                    prov_counts["guidelines"][gold.get("guidelines_version") or "none"] += 1
        shards.close()
        lines = [line if len(line) <= 500 else line[:500] + "…" for e in errors for line in e.splitlines()]
        if lines:
            shown = lines[:200] + ([f"… and {len(lines) - 200} more"] if len(lines) > 200 else [])
            raise InputError(f"build refused ({len(lines)} problem{'s' if len(lines) != 1 else ''}); nothing written:\n  "
                             + "\n  ".join(shown))
        if not stats["documents"]:
            raise InputError(f"{project.corpus}: no documents", hint="run khabar ingest first")
        previous, diff = diff_against_latest(project, index_tmp, schemas, before=version)
        check_version(previous, version, diff)
        pre = evaluate_pairs(pre_pairs, schemas.vocab("EntityType")) if pre_pairs else None
        registry = _annotators(project, schemas, set(prov_counts["annotators"]))
        stats["configs"] = configs_stats(config_stats, shards.rows())
        sections, facts = write_reports(project, schemas, staging, version, shards.rows(), progress)
        stats["agreement"] = facts
        _write_metadata(project, schemas, staging, version, features, shards, stats, type_counts, prov_counts,
                        previous, diff, pre, registry, sections)
        if validate:
            from khabar.gate.validate import validate_release

            problems = validate_release(staging, schemas=schemas, progress=progress)
            if problems:
                raise KhabarError(f"the built release failed the gate ({len(problems)} problems); nothing shipped:\n  "
                                  + "\n  ".join(p.line() for p in problems))
        changelog = _changelog_with(project, version, previous, diff)  # read and checked before anything ships
        with no_interrupts():  # the release and its changelog entry land together
            try:
                os.rename(staging, target)
            except OSError:
                raise ReleaseExistsError(f"{target}: release {version} appeared while building (another build?); "
                                         "releases are never overwritten") from None
            atomic_write_text(project.changelog, changelog)
        rows = shards.rows()
        return BuildReport(version, target, rows["documents"], diff, previous, dict(stats), rows)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _source_date() -> datetime | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch else None


def _changelog_entry(version: str, previous: str | None, diff: Diff) -> str:
    when = _source_date()
    head = f"### [{version}]" + (f" - {when.date().isoformat()}" if when else "")
    since = f"Changes since {previous}" if previous else "First release"
    return head + "\n\n" + f"{since} ({diff.bump()} bump):\n\n" + "\n".join(f"- {line}" for line in diff.lines()) + "\n"


def _annotators(project: Project, schemas: Schemas, used: set[str]) -> dict[str, Any]:
    """The registry entries (``annotations/annotators.json``) of the annotators merged into gold.

    Raises:
        InputError: the registry is invalid, or a gold annotator is not described in it.
    """
    if not used:
        return {}
    path = project.annotations / "annotators.json"
    registry = load_json(path) if path.is_file() else {}
    problems = schemas.problems("annotators", registry)
    if problems:
        raise InputError("; ".join(f"{path}: {p.path[2:] or '$'}: {p.message}" for p in problems))
    missing = sorted(used - set(registry))
    if missing:
        raise InputError(f"{path}: annotator(s) {', '.join(missing)} of gold annotations are not described",
                         hint="add each pseudonymous id with its kind (human, language-model, rule-based) and whether a human reviewed its work")
    return {a: registry[a] for a in sorted(used)}


def _fresh_preannotation(project: Project, doc: dict[str, Any], schemas: Schemas) -> dict[str, Any] | None:
    """The document's ``preannotator.json`` if it exists and was made on its current text
    (None when absent or stale: it is then not scored).

    Raises:
        InputError: the file exists but is not a valid annotation of the document.
    """
    path = project.annotations / doc["id"] / PRE_OUTPUT
    if not path.is_file():
        return None
    pred = load_json(path)
    if isinstance(pred, dict) and pred.get("text_sha256") != doc["text_sha256"]:
        return None
    bad = [f"{p.path[2:] or '$'}: {p.message[:200]}" for p in schemas.problems("annotation", pred)]
    if not bad:
        bad = [f"{f[2:]}: {c}: {m}" for c, f, m in check_row(pred, text=doc["text"])]
    if bad:
        raise InputError(f"{path}: not a valid pre-annotation ({bad[0]}{'; …' if len(bad) > 1 else ''})",
                         hint="regenerate it with khabar preannotate")
    return pred


def _spans_only(ann: dict[str, Any]) -> dict[str, Any]:
    return {"entities": [{k: e[k] for k in ("start", "end", "type")} for e in ann.get("entities", [])],
            "claims": [{"content": {k: c["content"][k] for k in ("start", "end")}} for c in ann.get("claims", [])]}


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 (byte {err.start})") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None


def _changelog_with(project: Project, version: str, previous: str | None, diff: Diff) -> str:
    """CHANGELOG.md with this release's entry on top of the data releases.

    Raises:
        InputError: CHANGELOG.md exists but cannot be read as UTF-8 text.
    """
    path = project.changelog
    old = _read_text(path) if path.exists() else "# Changelog\n\nData releases of Khabar (SemVer for data) and changes to the toolkit.\n"
    if f"## [{version}]" in old:
        return old
    entry = _changelog_entry(version, previous, diff)[1:]  # "## [x.y.z]" at the top level
    cut = old.find("\n## ")
    return (old[:cut] + "\n" + entry + old[cut:]) if cut >= 0 else (old.rstrip("\n") + "\n\n" + entry)

def _write_metadata(project: Project, schemas: Schemas, staging: Path, version: str, features: dict[str, Any], shards: Shards,
                    stats: collections.Counter, type_counts: collections.Counter,
                    prov_counts: dict[str, collections.Counter], previous: str | None, diff: Diff,
                    pre: dict[str, Any] | None = None, registry: dict[str, Any] | None = None,
                    sections: Sequence[str] = ()) -> None:
    """Card, changelog, datasheet, reports, Croissant and checksums of a staged release.

    Args:
        features: config -> Features (every config; a config with no rows is left out of the
            card, Croissant and rows.json, but its features stay in build.json).
        sections: extra Markdown sections for the card (each starting with ``## ``), placed
            after the training configs: the hook for agreement and baseline reports.
    """
    rows = shards.rows()
    declared = {c: f for c, f in features.items() if rows[c]}  # load_dataset refuses a config without data files
    counts = rows["documents"]
    sizes = {c: {s: (staging / data_path(c, s)).stat().st_size for s in rows[c]} for c in declared}
    first_split = next(iter(counts))
    annotated = stats["annotated"]
    who = ", ".join(f"`{a}`" for a in sorted(prov_counts["annotators"]))
    versions = ", ".join(f"{v} ({n})" for v, n in sorted(prov_counts["guidelines"].items()))
    note = ("No document has a gold annotation yet: the entity, claim and stance columns are empty lists in this release, "
            "and there are no agreement figures."
            if not annotated else f"{annotated} of {stats['documents']} document(s) carry a gold annotation, made by "
            f"{len(prov_counts['annotators'])} pseudonymous annotator(s) ({who}) following `annotations/GUIDELINES.md` "
            f"(versions: {versions}); `annotation.annotators` names them per document. "
            + ("Every annotated document has a single annotator so far, so there is no adjudication between annotators "
               "and no agreement figure." if len(prov_counts["annotators"]) <= 1 else "")
            + "".join(f"\n\n- `{a}`: {info['kind']}, {_review_words(info)}. "
                      f"{info['description']}" for a, info in sorted((registry or {}).items())))
    conflicts = open_conflicts(project)
    if conflicts:  # gold of these documents holds only the agreed items
        note += (f"\n\n**Adjudication not finished** for {len(conflicts)} document(s) ({', '.join(conflicts[:5])}"
                 f"{', …' if len(conflicts) > 5 else ''}): their gold holds only the items the annotators agree on; the rest "
                 "waits in `annotations/<doc_id>/conflicts.json` (`khabar studio push-review`).")
    known = prov_counts["known"]
    full_stats = {"version": version, "documents": stats["documents"], "annotated": annotated,
                  "characters": stats["characters"], "flags": stats["flags"], "entities": stats["entities"],
                  "claims": stats["claims"], "stances": stats["stances"], "splits": counts,
                  "entity_types": dict(sorted(type_counts.items())), "first_split": first_split, "annotation_note": note,
                  "flag_kinds": dict(sorted(prov_counts["flag_kinds"].items())),
                  "provenance": {"license_status": dict(sorted(prov_counts["license_status"].items())),
                                 "licenses": dict(sorted(prov_counts["license"].items())),
                                 "machine_translated": known["machine_translated"],
                                 "translated_from": dict(sorted(prov_counts["translated_from"].items())),
                                 "publisher_known": known["publisher"], "url_known": known["url"],
                                 "date_known": known["published_date"]},
                  "configs": stats["configs"], "agreement": stats["agreement"],
                  **({"preannotator": pre} if pre else {})}
    data = card_yaml(version, declared, {c: rows[c] for c in declared}, sizes, full_stats)
    entry = _changelog_entry(version, previous, diff)
    (staging / "README.md").write_text(render_card(schemas, version, data, full_stats, entry, sections), encoding="utf-8")
    (staging / "CHANGELOG.md").write_text("# Changelog of this release\n\n" + entry[1:], encoding="utf-8")
    try:
        sheet = splice_generated(_read_text(project.datasheet), schemas, full_stats)
    except ValueError as err:
        raise InputError(f"{project.datasheet}: {err}", hint="keep the BEGIN/END GENERATED marker lines in DATASHEET.md") from None
    (staging / "DATASHEET.md").write_text(sheet, encoding="utf-8")
    guidelines = project.annotations / "GUIDELINES.md"
    if annotated and guidelines.is_file():  # the annotation guidelines travel with the annotations they define
        (staging / "GUIDELINES.md").write_text(_read_text(guidelines), encoding="utf-8")
    reports = staging / "reports"
    (reports / "stats.json").write_text(dumps_canonical(full_stats), encoding="utf-8")
    if pre is not None:
        (reports / "preannotator.json").write_text(dumps_canonical({"tool": TOOL, "version": PRE_VERSION, **pre}), encoding="utf-8")
    (reports / "rows.json").write_text(dumps_canonical(shards.report()), encoding="utf-8")
    build_info = {"version": version, "previous": previous, "bump": diff.bump(), "toolkit": f"khabar {__version__}",
                  "features": {c: f.to_dict() for c, f in features.items()}}
    (reports / "build.json").write_text(dumps_canonical(build_info), encoding="utf-8")
    croissant = make_croissant(staging, version, declared, {c: [data_path(c, s) for s in rows[c]] for c in declared},
                               _facts(full_stats), _source_date())
    (staging / "croissant.json").write_text(croissant_dumps(croissant), encoding="utf-8")
    write_checksums(staging)


def _review_words(info: dict[str, Any]) -> str:
    """How the card states ``reviewed_by_human`` of an annotator registry entry."""
    if info["kind"] == "human":  # a human's work: reviewed means by another person
        return "reviewed by another person" if info["reviewed_by_human"] else "**not reviewed** by another person"
    return "reviewed by a human" if info["reviewed_by_human"] else "**not reviewed** by a human"


def open_conflicts(project: Project) -> list[str]:
    """Documents with an ``annotations/<doc_id>/conflicts.json`` (adjudication not finished)."""
    return sorted(p.parent.name for p in project.annotations.glob("kb-*/conflicts.json"))


def write_checksums(release: Path) -> None:
    """Write ``SHA256SUMS`` (``sha256sum`` format, sorted paths) for every file but itself."""
    lines = []
    for p in sorted(release.rglob("*")):
        if p.is_file() and p.name != "SHA256SUMS":
            rel = p.relative_to(release).as_posix()
            lines.append(f"{sha256_file(p)}  {rel}")
    (release / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")

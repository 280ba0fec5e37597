"""``khabar validate``: the gate every release passes before it ships.

The validator collects, it does not throw: each problem is a :class:`Problem` with a stable
check id, a location (file, record, field) and a message. Checks run in levels, and a level
that fails stops the levels that need it (UD validator style):

1. files: ``file-missing``, ``checksum-mismatch``, ``checksum-file-missing``,
   ``checksum-unlisted``, ``card-yaml-invalid``, ``card-files-mismatch``,
   ``card-features-mismatch``, ``card-count-mismatch``, ``parquet-unreadable``,
   ``parquet-schema-mismatch``;
2. records (every row of every shard): ``classlabel-out-of-range``, ``label-unknown``,
   ``schema-invalid``;
3. integrity: the span and id checks of :mod:`khabar.core.checks` (``offset-type``,
   ``span-out-of-bounds``, ``span-empty``, ``span-text-mismatch``, ``id-duplicate``,
   ``id-dangling``, ``text-sha256-mismatch``), and across rows ``doc-id-duplicate``,
   ``split-mismatch`` (a row in another split than its id assigns), ``split-leak-exact`` and
   ``split-leak-near`` (the same or a near-duplicate text in two splits);
4. release: ``croissant-invalid`` (including a file hash in croissant.json that differs from the
   file), ``report-invalid`` (``reports/rows.json`` unusable), ``load-failed``, ``load-mismatch`` (``datasets.load_dataset``
   does not give back exactly the rows the build wrote, by count and digest).

The training configs (``entities``, ``claims``, ``stances``) get the same levels and
``tokens-misaligned`` and ``config-derivation-mismatch`` (rows that differ from those re-derived
from the ``documents`` rows): see :mod:`khabar.validate_training`. A card of version 0.3.0 or newer
must declare every training config that has rows; older releases (0.1.0, 0.2.0) have only
``documents``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import ClassLabel, Features
from tqdm import tqdm

from khabar.release.build import DIGEST_KEY, row_digest
from khabar.dataset.card import data_path
from khabar.core.checks import check_row
from khabar.dataset.croissant import validate_croissant
from khabar.core.errors import InputError
from khabar.dataset.features import bad_labels, CONFIGS, arrow_schema, features_for, make_decoder
from khabar.dataset.lookup import card_yaml_of
from khabar.core.jsonio import load_json, loads_json, sha256_file
from khabar.text.neardup import NearDupIndex
from khabar.dataset.rows import SPLITS, split_for
from khabar.core.schema import Schemas
from khabar.core.project import find_root
from khabar.core.store import DiskIndex

__all__ = ["Problem", "validate_release", "REQUIRED_FILES"]

REQUIRED_FILES = ("README.md", "SHA256SUMS", "croissant.json", "DATASHEET.md", "CHANGELOG.md",
                  "reports/rows.json", "reports/index.jsonl", "reports/build.json", "reports/stats.json")
_LABEL_FIELDS = (".type", ".label", ".target", ".checkworthy", ".speech", ".kind")
#: level-1 problems that stop the levels needing sound files (derivation, load_dataset)
_STRUCTURAL = frozenset({"file-missing", "checksum-file-missing", "card-yaml-invalid", "card-files-mismatch",
                         "parquet-unreadable", "parquet-schema-mismatch"})


@dataclass(frozen=True)
class Problem:
    """One problem found by the gate."""

    check: str
    file: str
    message: str
    record: str | None = None   # document id
    field: str | None = None    # JSON path inside the record
    severity: str = "error"

    def line(self) -> str:
        """``error CHECK FILE [doc=ID] [FIELD]: MESSAGE`` on one line."""
        loc = self.file + (f" doc={self.record}" if self.record else "") + (f" {self.field}" if self.field else "")
        return f"{self.severity} {self.check} {loc}: {self.message}".replace("\n", " ")


_sha = sha256_file


def _walk(rel: Path) -> list[Path]:
    """Every path below ``rel`` without following links."""
    out = []
    for folder, dirs, files in os.walk(rel, followlinks=False):
        out.extend(Path(folder) / d for d in dirs)
        out.extend(Path(folder) / f for f in files)
    return sorted(out)


def _inside(rel: Path, name: str) -> bool:
    """``name`` is a plain relative path that stays inside ``rel`` (no ``..``, not absolute)."""
    p = Path(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _check_files(rel: Path) -> list[Problem]:
    out = []
    for p in _walk(rel):
        if p.is_symlink():
            out.append(Problem("file-symlink", p.relative_to(rel).as_posix(), "a link inside a release (releases hold plain files only)"))
    out += [Problem("file-missing", f, "required file is missing") for f in REQUIRED_FILES
            if not (rel / f).is_file() or (rel / f).is_symlink()]
    sums = rel / "SHA256SUMS"
    if sums.is_file() and not sums.is_symlink():
        listed: dict[str, str] = {}
        try:
            text = sums.read_bytes().decode("utf-8")
        except UnicodeDecodeError as err:
            return out + [Problem("checksum-mismatch", "SHA256SUMS", f"not UTF-8 (byte {err.start})")]
        for n, line in enumerate(text.splitlines(), 1):
            parts = line.split("  ", 1)
            if len(parts) != 2 or not re.fullmatch("[0-9a-f]{64}", parts[0]):
                out.append(Problem("checksum-mismatch", "SHA256SUMS", f"line {n} is not '<sha256>  <path>'"))
                continue
            if not _inside(rel, parts[1]):
                out.append(Problem("checksum-mismatch", "SHA256SUMS", f"line {n}: path {parts[1]!r} points outside the release"))
                continue
            if parts[1] in listed:
                out.append(Problem("checksum-mismatch", "SHA256SUMS", f"line {n}: {parts[1]} is listed twice"))
                continue
            listed[parts[1]] = parts[0]
        for name, digest in sorted(listed.items()):
            p = rel / name
            if not p.is_file() or p.is_symlink():
                out.append(Problem("checksum-file-missing", name, "listed in SHA256SUMS but missing"))
            elif _sha(p) != digest:
                out.append(Problem("checksum-mismatch", name, f"SHA-256 is {_sha(p)[:16]}…, SHA256SUMS says {digest[:16]}…"))
        for p in _walk(rel):
            name = p.relative_to(rel).as_posix()
            if p.is_file() and not p.is_symlink() and name != "SHA256SUMS" and name not in listed:
                out.append(Problem("checksum-unlisted", name, "file is not listed in SHA256SUMS"))
    return out


def _read_card(rel: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    path = rel / "README.md"
    if not path.is_file():
        return None, []
    try:
        return card_yaml_of(path.read_bytes()), []
    except InputError as err:
        return None, [Problem("card-yaml-invalid", "README.md", str(err))]


def _check_card(rel: Path, meta: dict[str, Any], schemas: Schemas) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """Card vs files and schema. Returns ``{config: {split: path}}`` as the card declares it."""
    out: list[Problem] = []
    declared: dict[str, dict[str, str]] = {}
    configs = meta.get("configs") or []
    if not isinstance(configs, list):
        configs = []
        out.append(Problem("card-yaml-invalid", "README.md", "configs must be a list of mappings", field="configs"))
    for cfg in configs:
        if not isinstance(cfg, dict):
            out.append(Problem("card-yaml-invalid", "README.md", f"configs item {cfg!r} is not a mapping", field="configs"))
            continue
        name = cfg.get("config_name")
        files = cfg.get("data_files") or []
        if not isinstance(name, str):
            out.append(Problem("card-yaml-invalid", "README.md", f"config_name {name!r} is not a string", field="configs"))
            continue
        if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("split"), str)
                                                  and isinstance(f.get("path"), str) for f in files):
            out.append(Problem("card-yaml-invalid", "README.md", f"config {name}: data_files must list split/path pairs", field=f"configs.{name}"))
            continue
        declared[name] = {f.get("split"): f.get("path") for f in files}
    if "documents" not in declared:
        out.append(Problem("card-files-mismatch", "README.md", "config documents is not declared", field="configs"))
    for config in sorted(set(declared) - set(CONFIGS)):
        out.append(Problem("card-files-mismatch", "README.md", f"config {config} is not one of {', '.join(CONFIGS)}", field="configs"))
    for config in [c for c in CONFIGS if c in declared]:  # training configs the card lacks: khabar.gate.training
        for split, path in declared[config].items():
            if split not in SPLITS:
                out.append(Problem("card-files-mismatch", "README.md", f"split {split!r} is not one of {', '.join(SPLITS)}", field=f"configs.{config}"))
            if not isinstance(path, str) or not _inside(rel, path) or not (rel / path).is_file():
                out.append(Problem("card-files-mismatch", "README.md", f"data file {path} of split {split} does not exist", field=f"configs.{config}"))
    declared_paths = {p for d in declared.values() for p in d.values()}
    for p in sorted((rel / "data").rglob("*.parquet")) if (rel / "data").is_dir() else []:
        name = p.relative_to(rel).as_posix()
        if name not in declared_paths:
            out.append(Problem("card-files-mismatch", name, "parquet file is not declared in the card's configs"))
    infos = meta.get("dataset_info")
    infos = [infos] if isinstance(infos, dict) else (infos or [])
    by_name = {i.get("config_name", "default"): i for i in infos if isinstance(i, dict)}
    for config in [c for c in CONFIGS if c in declared or c == "documents"]:
        info = by_name.get(config)
        if info is None:
            out.append(Problem("card-features-mismatch", "README.md", f"no dataset_info for config {config}", field="dataset_info"))
            continue
        try:
            card_features = Features._from_yaml_list(info.get("features") or [])
        except Exception as err:  # noqa: BLE001 - any malformed YAML feature is reported
            out.append(Problem("card-features-mismatch", "README.md", f"features of {config} do not parse: {err}", field="dataset_info"))
            continue
        if card_features != features_for(schemas, config):
            out.append(Problem("card-features-mismatch", "README.md", f"features of {config} differ from those derived from schema/",
                               field=f"dataset_info.{config}.features"))
        splits = info.get("splits") or []
        if not isinstance(splits, list) or not all(isinstance(x, dict) for x in splits):
            out.append(Problem("card-yaml-invalid", "README.md", f"dataset_info of {config}: splits must be a list of mappings",
                               field=f"dataset_info.{config}.splits"))
            continue
        if not all(isinstance(x.get("name"), str) and isinstance(x.get("num_examples"), int) for x in splits):
            out.append(Problem("card-yaml-invalid", "README.md", f"dataset_info of {config}: each split needs a name (string) "
                               "and num_examples (integer)", field=f"dataset_info.{config}.splits"))
            continue
        for split in sorted(set(declared.get(config, {})) - {x.get("name") for x in splits}, key=str):
            out.append(Problem("card-files-mismatch", "README.md", f"split {split} has a data file but no dataset_info entry",
                               field=f"dataset_info.{config}.splits"))
        for split in splits:
            path = declared.get(config, {}).get(split.get("name"))
            if path and (rel / path).is_file():
                try:
                    n = pq.ParquetFile(rel / path).metadata.num_rows
                except Exception:  # noqa: BLE001 - reported by the parquet check
                    continue
                if n != split.get("num_examples"):
                    out.append(Problem("card-count-mismatch", "README.md", f"{config}/{split.get('name')}: card says "
                                       f"{split.get('num_examples')} rows, {path} has {n}", field="dataset_info.splits"))
    return declared, out


def label_problems(path: str, features: Features, row: dict[str, Any], doc_id: str | None) -> list[Problem]:
    """``classlabel-out-of-range`` problems of a raw parquet row (one per bad id, with its field)."""
    return [Problem("classlabel-out-of-range", path, f"ClassLabel id {value} out of range 0..{n - 1}", doc_id, field)
            for field, value, n in bad_labels(features, row)]


class _OutOfRange(Exception):
    pass


def _raise_out_of_range(cl: ClassLabel, value: Any) -> Any:
    raise _OutOfRange


def _check_rows(rel: Path, config: str, split: str, path: str, schemas: Schemas, features: Features,
                seen: DiskIndex, near: NearDupIndex, progress: bool) -> list[Problem]:
    out: list[Problem] = []
    pf = pq.ParquetFile(rel / path)
    schema_name = CONFIGS[config]
    fast_decode = make_decoder(features, on_bad=_raise_out_of_range)
    bar = tqdm(total=pf.metadata.num_rows, desc=f"validate {split}", unit="doc", disable=not progress)
    for group in range(pf.metadata.num_row_groups):  # one row group at a time: constant memory
        for row in pf.read_row_group(group).to_pylist():
            bar.update(1)
            doc_id = row.get("id")
            first = seen.setdefault("id", str(doc_id), path)
            if first is not None:
                out.append(Problem("doc-id-duplicate", path, f"document id also in {first}", doc_id, "$.id"))
            try:
                decoded = fast_decode(row)
            except _OutOfRange:  # find every bad id, with its path
                out += label_problems(path, features, row, doc_id)
                continue
            # rows from parquet hold nulls where the schema says the key may be absent: none here
            probs = schemas.problems(schema_name, decoded)
            for p in probs:
                check = "label-unknown" if p.validator == "enum" and p.path.endswith(_LABEL_FIELDS) else "schema-invalid"
                out.append(Problem(check, path, p.message, doc_id, p.path))
            if probs:
                continue
            for check, field, msg in check_row(decoded):
                out.append(Problem(check, path, msg, doc_id, field))
            if split_for(doc_id) != split:
                out.append(Problem("split-mismatch", path, f"row is in {split} but its id assigns it to {split_for(doc_id)}", doc_id, "$.id"))
            prev = seen.setdefault("text", decoded["text_sha256"], f"{split} {doc_id}")
            if prev is not None:
                prev_split, prev_id = prev.split(" ", 1)
                if prev_split != split:
                    out.append(Problem("split-leak-exact", path, f"same text as {prev_id} in {prev_split}", doc_id, "$.text"))
            else:
                near.add(doc_id, split, decoded["text"])
    bar.close()
    return out


def _iter_loaded_rows(ds: Any) -> Any:
    """The rows of a loaded ``datasets.Dataset`` as Python dicts.

    ``load_dataset`` prepares Arrow cache files and memory-maps them; iterating the mapped
    dataset keeps every page it touched resident, so peak memory would grow with the release.
    When the dataset is exactly its cache files (no indices mapping), the same Arrow files are
    read here as streams instead, batch by batch, in constant memory."""
    import pyarrow as pa

    files = [f["filename"] for f in ds.cache_files]
    if ds._indices is not None or not files:
        for batch in ds.iter(batch_size=1000):
            keys = list(batch)
            for i in range(len(batch[keys[0]]) if keys else 0):
                yield {k: batch[k][i] for k in keys}
        return
    names = list(ds.features)
    for name in files:
        with pa.OSFile(name, "rb") as fh:
            reader = pa.ipc.open_stream(fh)
            for batch in reader:
                yield from batch.select(names).to_pylist()


def _check_load(rel: Path, counts: dict[str, dict[str, dict[str, Any]]]) -> list[Problem]:
    import datasets
    import pyarrow.dataset as pads

    out: list[Problem] = []
    cache = Path(tempfile.mkdtemp(prefix="khabar-validate-"))
    was = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        for config, splits in counts.items():
            try:  # pre_buffer off: with it, parquet scans keep every buffered row group (memory grows with the file)
                dsd = datasets.load_dataset(str(rel), config, cache_dir=str(cache),
                                            fragment_scan_options=pads.ParquetFragmentScanOptions(pre_buffer=False))
            except Exception as err:  # noqa: BLE001 - the gate reports every failure to load
                out.append(Problem("load-failed", "README.md", f"load_dataset({rel.name!r}, {config!r}): {type(err).__name__}: {err}".splitlines()[0]))
                continue
            for split, expect in splits.items():
                if split not in dsd:
                    out.append(Problem("load-mismatch", data_path(config, split), f"split {split} did not load"))
                    continue
                ds = dsd[split]
                h = hashlib.sha256()
                for row in _iter_loaded_rows(ds):
                    h.update(row_digest(row))
                if ds.num_rows != expect["num_rows"] or h.hexdigest() != expect["sha256"]:
                    out.append(Problem("load-mismatch", data_path(config, split),
                                       f"load_dataset gave {ds.num_rows} rows (digest {h.hexdigest()[:12]}…), the build wrote "
                                       f"{expect['num_rows']} (digest {expect['sha256'][:12]}…)"))
    finally:
        if was:
            datasets.enable_progress_bars()
        shutil.rmtree(cache, ignore_errors=True)
    return out


def _check_croissant_hashes(rel: Path) -> list[Problem]:
    """Each FileObject's ``sha256`` in croissant.json against the file it names."""
    try:
        meta = load_json(rel / "croissant.json")
    except InputError as err:
        return [Problem("croissant-invalid", "croissant.json", str(err).split(": ", 1)[-1])]
    out = []
    dist = meta.get("distribution", []) if isinstance(meta, dict) else []
    for obj in dist if isinstance(dist, list) else []:
        if isinstance(obj, dict) and obj.get("@type") == "cr:FileObject" and obj.get("sha256"):
            url = str(obj.get("contentUrl", ""))
            path = rel / url
            if not _inside(rel, url):
                out.append(Problem("croissant-invalid", "croissant.json", f"FileObject {url} points outside the release"))
            elif not path.is_file():
                out.append(Problem("croissant-invalid", "croissant.json", f"FileObject {obj.get('contentUrl')} does not exist"))
            elif _sha(path) != obj["sha256"]:
                out.append(Problem("croissant-invalid", "croissant.json", f"sha256 of {obj.get('contentUrl')} differs from the file"))
    return out


def _check_reports(rel: Path, schemas: Schemas, seen: DiskIndex, rows: int, configs: list[str], every: bool = True) -> list[Problem]:
    """``reports/``: index.jsonl lists exactly the documents of the rows, build.json and stats.json
    parse, and build.json holds the features of each of ``configs`` as derived from schema/;
    agreement.json and baseline.json (required when ``every``: releases from 0.3.0) are JSON
    objects made by ``khabar agreement`` / ``khabar baseline``."""
    out = []
    for name, key, value in (("agreement.json", "report", "khabar agreement"), ("baseline.json", "train_split", "train")):
        path = rel / "reports" / name
        if not path.is_file():
            if every:
                out.append(Problem("file-missing", f"reports/{name}", "required file is missing (every release from 0.3.0 carries it)"))
            continue
        try:
            data = load_json(path)
        except InputError as err:
            out.append(Problem("report-invalid", f"reports/{name}", str(err).split(": ", 1)[-1]))
            continue
        if not isinstance(data, dict) or data.get(key) != value:
            out.append(Problem("report-invalid", f"reports/{name}", f"not a report of `{value if key == 'report' else 'khabar baseline'}` "
                                                                   f"(no {key!r}: {value!r})"))
    path = rel / "reports" / "index.jsonl"
    if path.is_file():
        n = 0
        try:
            with open(path, encoding="utf-8") as fh:
                for i, line in enumerate(fh, 1):
                    entry = loads_json(line, f"line {i}")
                    if not isinstance(entry, dict) or seen.get("id", str(entry.get("id"))) is None:
                        out.append(Problem("report-invalid", "reports/index.jsonl", f"line {i}: {entry.get('id') if isinstance(entry, dict) else entry!r} is not a row of the release"))
                    n += 1
        except (InputError, UnicodeDecodeError) as err:
            out.append(Problem("report-invalid", "reports/index.jsonl", str(err)))
        else:
            if n != rows:
                out.append(Problem("report-invalid", "reports/index.jsonl", f"{n} lines for {rows} rows"))
    for name in ("build.json", "stats.json"):
        if (rel / "reports" / name).is_file():
            try:
                data = load_json(rel / "reports" / name)
            except InputError as err:
                out.append(Problem("report-invalid", f"reports/{name}", str(err).split(": ", 1)[-1]))
                continue
            if name == "build.json":
                feats = data.get("features") if isinstance(data, dict) else None
                for config in configs:
                    if not isinstance(feats, dict) or feats.get(config) != features_for(schemas, config).to_dict():
                        out.append(Problem("report-invalid", "reports/build.json", f"features.{config} differ from those derived from schema/"))
            if name == "stats.json" and not isinstance(data, dict):
                out.append(Problem("report-invalid", "reports/stats.json", "not a JSON object"))
    return out


def _rows_report_problem(rows: Any) -> str | None:
    """Why ``reports/rows.json`` cannot be used for the load check, or None."""
    if not isinstance(rows, dict):
        return "not a JSON object"
    if rows.get("digest") != DIGEST_KEY:
        return f"unknown digest scheme {rows.get('digest')!r} (expected {DIGEST_KEY!r})"
    configs = rows.get("configs")
    if not isinstance(configs, dict) or not all(
            isinstance(splits, dict) and all(isinstance(v, dict) and isinstance(v.get("num_rows"), int) and isinstance(v.get("sha256"), str)
                                             for v in splits.values()) for splits in configs.values()):
        return "`configs` must map config -> split -> {num_rows, sha256}"
    return None


def _card_version(meta: dict[str, Any] | None) -> tuple[int, int, int] | None:
    """The card's ``version`` as a tuple; None when it has none that parses (checked as the newest)."""
    from khabar.dataset.versioning import parse_version
    from khabar.core.errors import VersionError

    try:
        return parse_version(str((meta or {}).get("version")))
    except VersionError:
        return None


def _as_parquet(schema: "pa.Schema") -> "pa.Schema":
    """``schema`` as a parquet file gives it back (list items are named ``element`` there)."""
    import io

    import pyarrow as pa

    buf = io.BytesIO()
    pq.ParquetWriter(buf, schema).close()
    return pq.ParquetFile(pa.BufferReader(buf.getvalue())).schema_arrow


def validate_release(release: str | Path, schemas: Schemas | None = None, progress: bool = False,
                     load: bool = True) -> list[Problem]:
    """Run every check of the gate on a release folder.

    Args:
        release: the release folder (``releases/X.Y.Z`` or a staging folder).
        schemas: the project's schemas (default: those of the enclosing project).
        load: run level 4's ``load_dataset`` round trip.

    Returns:
        All problems found, in level order; ``[]`` means the release passes.
    """
    rel = Path(release)
    if not rel.is_dir():
        return [Problem("file-missing", str(rel), "release folder does not exist")]
    schemas = schemas or Schemas(find_root() / "schema")
    problems = _check_files(rel)
    meta, card_problems = _read_card(rel)
    problems += card_problems
    declared: dict[str, dict[str, str]] = {}
    if meta is not None:
        declared, more = _check_card(rel, meta, schemas)
        problems += more
    shards_ok: dict[str, dict[str, str]] = {}
    for config in CONFIGS:
        canonical = _as_parquet(arrow_schema(features_for(schemas, config)))
        for split in SPLITS:
            path = declared.get(config, {}).get(split) or data_path(config, split)
            if not (rel / path).is_file():
                continue
            try:
                got = pq.ParquetFile(rel / path).schema_arrow
            except Exception as err:  # noqa: BLE001
                problems.append(Problem("parquet-unreadable", path, f"{type(err).__name__}: {err}"))
                continue
            if not got.equals(canonical, check_metadata=True):
                problems.append(Problem("parquet-schema-mismatch", path, "the shard's Arrow schema differs from the one derived from schema/"))
                continue
            shards_ok.setdefault(config, {})[split] = path
    # level 2-3: records and integrity (cross-row state on disk: memory does not grow with rows)
    with DiskIndex() as seen:
        near = NearDupIndex()
        try:
            features = features_for(schemas, "documents")
            for split, path in shards_ok.get("documents", {}).items():
                try:
                    problems += _check_rows(rel, "documents", split, path, schemas, features, seen, near, progress)
                except (OSError, ValueError, pa.ArrowException) as err:
                    problems.append(Problem("parquet-unreadable", path, f"{type(err).__name__}: {err}".splitlines()[0]))
            for a, sa, b, sb, sim in near.cross_split_pairs():
                problems.append(Problem("split-leak-near", data_path("documents", sb),
                                        f"near duplicate (estimated Jaccard {sim:.2f}) of {a} in {sa}", b, "$.text"))
        finally:
            near.close()
        from khabar.gate.training import ALL_CONFIGS_SINCE, check_training_configs

        version = _card_version(meta)
        unsound = {p.file for p in problems}
        sound = meta is not None and not any(p.check in _STRUCTURAL for p in problems)
        try:  # the training configs, re-derived from the documents rows (khabar.gate.training)
            problems += check_training_configs(rel, schemas, version, declared, shards_ok, unsound, seen, sound, progress)
        except (OSError, ValueError, pa.ArrowException) as err:
            problems.append(Problem("parquet-unreadable", "data", f"{type(err).__name__}: {err}".splitlines()[0]))
        if not any(p.check in ("parquet-unreadable", "parquet-schema-mismatch", "card-files-mismatch") for p in problems):
            total = sum(pq.ParquetFile(rel / p).metadata.num_rows for p in shards_ok.get("documents", {}).values())
            every = version is None or version >= ALL_CONFIGS_SINCE
            configs = [c for c in CONFIGS if every or c == "documents" or c in declared]
            problems += _check_reports(rel, schemas, seen, total, configs, every)
    # level 4: release, only when the files are sound
    if (rel / "croissant.json").is_file():
        problems += [Problem("croissant-invalid", "croissant.json", msg) for msg in validate_croissant(rel / "croissant.json")]
        problems += _check_croissant_hashes(rel)
    if load and not any(p.check in _STRUCTURAL for p in problems) and (rel / "reports" / "rows.json").is_file():
        try:
            rows = load_json(rel / "reports" / "rows.json")
        except InputError as err:
            problems.append(Problem("report-invalid", "reports/rows.json", str(err)))
        else:
            why = _rows_report_problem(rows)
            if not why:
                missing = {(c, s) for c, splits in shards_ok.items() for s in splits} - {
                    (c, s) for c, splits in rows["configs"].items() for s in splits}
                if missing:
                    why = "no digest for " + ", ".join(f"{c}/{s}" for c, s in sorted(missing))
            if why:
                problems.append(Problem("report-invalid", "reports/rows.json", why))
            else:
                problems += _check_load(rel, rows["configs"])
    return problems

"""Level 1 of the gate: the files of a release folder.

* :func:`check_files`: ``file-symlink`` (also for a FIFO, socket or device: a release holds
  regular files and folders only), ``file-missing`` (:data:`REQUIRED_FILES`),
  ``checksum-mismatch``, ``checksum-file-missing``, ``checksum-unlisted`` (``SHA256SUMS``);
* :func:`read_card`: ``card-yaml-invalid`` (the card's YAML front matter does not parse);
* :func:`check_card`: the card against the files and ``schema/``: ``card-yaml-invalid``,
  ``card-files-mismatch``, ``card-features-mismatch``, ``card-count-mismatch``;
* :func:`check_shard_schemas`: ``parquet-unreadable``, ``parquet-schema-mismatch`` (each shard's
  Arrow schema against the one derived from ``schema/``).

Paths in problems are relative to the release folder. Links are never followed.

Public API: :data:`REQUIRED_FILES`, :func:`inside`, :func:`check_files`, :func:`read_card`,
:func:`check_card`, :func:`check_shard_schemas`.
"""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

from khabar.core.errors import InputError
from khabar.core.jsonio import sha256_file
from khabar.core.schema import Schemas
from khabar.dataset.card import data_path
from khabar.dataset.features import CONFIGS, arrow_schema, features_for
from khabar.dataset.lookup import card_yaml_of
from khabar.dataset.rows import SPLITS
from khabar.gate.problems import Problem
from khabar.dataset.layout import CARD, CHANGELOG, CHECKSUMS, CROISSANT, DATASHEET

__all__ = ["REQUIRED_FILES", "inside", "check_files", "read_card", "check_card", "check_shard_schemas"]

#: files every release holds (``reports/agreement.json`` and ``baseline.json`` too from 0.3.0:
#: :func:`khabar.gate.reports.check_reports`)
REQUIRED_FILES = (CARD, CHECKSUMS, CROISSANT, DATASHEET, CHANGELOG,
                  "reports/rows.json", "reports/index.jsonl", "reports/build.json", "reports/stats.json")


def _walk(rel: Path) -> list[Path]:
    """Every path below ``rel`` without following links."""
    out = []
    for folder, dirs, files in os.walk(rel, followlinks=False):
        out.extend(Path(folder) / d for d in dirs)
        out.extend(Path(folder) / f for f in files)
    return sorted(out)


def _special(p: Path) -> str | None:
    """What ``p`` is when it is neither a regular file nor a folder (``a FIFO``, ``a socket``, ``a
    device``), from ``os.lstat`` alone (never opened: a FIFO would block), or None."""
    try:
        mode = os.lstat(p).st_mode
    except OSError as err:
        return f"cannot be read: {err.strerror}"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
        return None
    return "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"


def inside(rel: Path, name: str) -> bool:
    """``name`` is a plain relative path that stays inside ``rel`` (no ``..``, not absolute)."""
    p = Path(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _read_sums(text: str, rel: Path) -> tuple[dict[str, str], list[Problem]]:
    """``({path: sha256}, problems)`` of the lines of ``SHA256SUMS`` (``checksum-mismatch`` per bad line)."""
    listed: dict[str, str] = {}
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split("  ", 1)
        if len(parts) != 2 or not re.fullmatch("[0-9a-f]{64}", parts[0]):
            out.append(Problem("checksum-mismatch", CHECKSUMS, f"line {n} is not '<sha256>  <path>'"))
        elif not inside(rel, parts[1]):
            out.append(Problem("checksum-mismatch", CHECKSUMS, f"line {n}: path {parts[1]!r} points outside the release"))
        elif parts[1] in listed:
            out.append(Problem("checksum-mismatch", CHECKSUMS, f"line {n}: {parts[1]} is listed twice"))
        else:
            listed[parts[1]] = parts[0]
    return listed, out


def check_files(rel: Path) -> list[Problem]:
    """Links, required files and ``SHA256SUMS`` of the release folder ``rel`` (see the module docstring)."""
    out = []
    for p in _walk(rel):
        if p.is_symlink():
            out.append(Problem("file-symlink", p.relative_to(rel).as_posix(), "a link inside a release (releases hold plain files only)"))
            continue
        odd = _special(p)
        if odd:
            out.append(Problem("file-symlink", p.relative_to(rel).as_posix(),
                               f"not a regular file or folder ({odd}) inside a release (releases hold plain files only)"))
    out += [Problem("file-missing", f, "required file is missing") for f in REQUIRED_FILES
            if not (rel / f).is_file() or (rel / f).is_symlink()]
    sums = rel / CHECKSUMS
    if not sums.is_file() or sums.is_symlink():
        return out
    try:
        text = sums.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        return out + [Problem("checksum-mismatch", CHECKSUMS, f"not UTF-8 (byte {err.start})")]
    listed, bad = _read_sums(text, rel)
    out += bad
    for name, digest in sorted(listed.items()):
        p = rel / name
        if not p.is_file() or p.is_symlink():
            out.append(Problem("checksum-file-missing", name, "listed in SHA256SUMS but missing"))
        elif sha256_file(p) != digest:
            out.append(Problem("checksum-mismatch", name, f"SHA-256 is {sha256_file(p)[:16]}…, SHA256SUMS says {digest[:16]}…"))
    for p in _walk(rel):
        name = p.relative_to(rel).as_posix()
        if p.is_file() and not p.is_symlink() and name != CHECKSUMS and name not in listed:
            out.append(Problem("checksum-unlisted", name, "file is not listed in SHA256SUMS"))
    return out


def read_card(rel: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """``(the card's YAML front matter, problems)``; ``(None, [])`` when ``README.md`` is missing
    (``file-missing`` says so), ``(None, [card-yaml-invalid])`` when it does not parse."""
    path = rel / CARD
    if not path.is_file():
        return None, []
    try:
        return card_yaml_of(path.read_bytes()), []
    except InputError as err:
        return None, [Problem("card-yaml-invalid", CARD, str(err))]


def _declared(meta: dict[str, Any]) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """The card's ``configs`` as ``{config: {split: path}}``, and ``card-yaml-invalid`` problems."""
    out: list[Problem] = []
    declared: dict[str, dict[str, str]] = {}
    configs = meta.get("configs") or []
    if not isinstance(configs, list):
        configs = []
        out.append(Problem("card-yaml-invalid", CARD, "configs must be a list of mappings", field="configs"))
    for cfg in configs:
        if not isinstance(cfg, dict):
            out.append(Problem("card-yaml-invalid", CARD, f"configs item {cfg!r} is not a mapping", field="configs"))
            continue
        name = cfg.get("config_name")
        files = cfg.get("data_files") or []
        if not isinstance(name, str):
            out.append(Problem("card-yaml-invalid", CARD, f"config_name {name!r} is not a string", field="configs"))
            continue
        if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("split"), str)
                                                  and isinstance(f.get("path"), str) for f in files):
            out.append(Problem("card-yaml-invalid", CARD, f"config {name}: data_files must list split/path pairs", field=f"configs.{name}"))
            continue
        declared[name] = {f.get("split"): f.get("path") for f in files}
    return declared, out


def _check_configs(rel: Path, declared: dict[str, dict[str, str]]) -> list[Problem]:
    """``card-files-mismatch``: configs, splits and data files of the card against the folder."""
    out: list[Problem] = []
    if "documents" not in declared:
        out.append(Problem("card-files-mismatch", CARD, "config documents is not declared", field="configs"))
    for config in sorted(set(declared) - set(CONFIGS)):
        out.append(Problem("card-files-mismatch", CARD, f"config {config} is not one of {', '.join(CONFIGS)}", field="configs"))
    for config in [c for c in CONFIGS if c in declared]:  # training configs the card lacks: khabar.gate.training
        for split, path in declared[config].items():
            if split not in SPLITS:
                out.append(Problem("card-files-mismatch", CARD, f"split {split!r} is not one of {', '.join(SPLITS)}", field=f"configs.{config}"))
            if not isinstance(path, str) or not inside(rel, path) or not (rel / path).is_file():
                out.append(Problem("card-files-mismatch", CARD, f"data file {path} of split {split} does not exist", field=f"configs.{config}"))
    declared_paths = {p for d in declared.values() for p in d.values()}
    for p in sorted((rel / "data").rglob("*.parquet")) if (rel / "data").is_dir() else []:
        name = p.relative_to(rel).as_posix()
        if name not in declared_paths:
            out.append(Problem("card-files-mismatch", name, "parquet file is not declared in the card's configs"))
    return out


def _check_splits(rel: Path, config: str, splits: Any, declared: dict[str, dict[str, str]]) -> list[Problem]:
    """The ``dataset_info`` splits of ``config``: structure, a split per data file, counts."""
    if not isinstance(splits, list) or not all(isinstance(x, dict) for x in splits):
        return [Problem("card-yaml-invalid", CARD, f"dataset_info of {config}: splits must be a list of mappings",
                        field=f"dataset_info.{config}.splits")]
    if not all(isinstance(x.get("name"), str) and isinstance(x.get("num_examples"), int) for x in splits):
        return [Problem("card-yaml-invalid", CARD, f"dataset_info of {config}: each split needs a name (string) "
                        "and num_examples (integer)", field=f"dataset_info.{config}.splits")]
    out = []
    for split in sorted(set(declared.get(config, {})) - {x.get("name") for x in splits}, key=str):
        out.append(Problem("card-files-mismatch", CARD, f"split {split} has a data file but no dataset_info entry",
                           field=f"dataset_info.{config}.splits"))
    for split in splits:
        path = declared.get(config, {}).get(split.get("name"))
        if path and (rel / path).is_file():
            try:
                n = pq.ParquetFile(rel / path).metadata.num_rows
            except Exception:  # noqa: BLE001 - reported by the parquet check
                continue
            if n != split.get("num_examples"):
                out.append(Problem("card-count-mismatch", CARD, f"{config}/{split.get('name')}: card says "
                                   f"{split.get('num_examples')} rows, {path} has {n}", field="dataset_info.splits"))
    return out


def _check_infos(rel: Path, meta: dict[str, Any], declared: dict[str, dict[str, str]], schemas: Schemas) -> list[Problem]:
    """The card's ``dataset_info``: features derived from ``schema/``, and the splits of each config."""
    out: list[Problem] = []
    infos = meta.get("dataset_info")
    infos = [infos] if isinstance(infos, dict) else (infos or [])
    by_name = {i.get("config_name", "default"): i for i in infos if isinstance(i, dict)}
    for config in [c for c in CONFIGS if c in declared or c == "documents"]:
        info = by_name.get(config)
        if info is None:
            out.append(Problem("card-features-mismatch", CARD, f"no dataset_info for config {config}", field="dataset_info"))
            continue
        try:
            card_features = Features._from_yaml_list(info.get("features") or [])
        except Exception as err:  # noqa: BLE001 - any malformed YAML feature is reported
            out.append(Problem("card-features-mismatch", CARD, f"features of {config} do not parse: {err}", field="dataset_info"))
            continue
        if card_features != features_for(schemas, config):
            out.append(Problem("card-features-mismatch", CARD, f"features of {config} differ from those derived from schema/",
                               field=f"dataset_info.{config}.features"))
        out += _check_splits(rel, config, info.get("splits") or [], declared)
    return out


def check_card(rel: Path, meta: dict[str, Any], schemas: Schemas) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """The card's YAML ``meta`` against the files of ``rel`` and against ``schema/``.

    Returns:
        ``({config: {split: path}} as the card declares it, problems)``; check ids
        ``card-yaml-invalid``, ``card-files-mismatch``, ``card-features-mismatch``, ``card-count-mismatch``.
    """
    declared, out = _declared(meta)
    out += _check_configs(rel, declared)
    out += _check_infos(rel, meta, declared, schemas)
    return declared, out


def _as_parquet(schema: pa.Schema) -> pa.Schema:
    """``schema`` as a parquet file gives it back (list items are named ``element`` there)."""
    buf = io.BytesIO()
    pq.ParquetWriter(buf, schema).close()
    return pq.ParquetFile(pa.BufferReader(buf.getvalue())).schema_arrow


def check_shard_schemas(rel: Path, schemas: Schemas, declared: dict[str, dict[str, str]]) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """Each shard's Arrow schema (the card's path, or the default ``data_path``) against the one
    derived from ``schema/``, metadata (the Hugging Face features) included.

    Returns:
        ``({config: {split: path}} of the shards that passed, problems)``; check ids
        ``parquet-unreadable``, ``parquet-schema-mismatch``.
    """
    out: list[Problem] = []
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
                out.append(Problem("parquet-unreadable", path, f"{type(err).__name__}: {err}"))
                continue
            if not got.equals(canonical, check_metadata=True):
                out.append(Problem("parquet-schema-mismatch", path, "the shard's Arrow schema differs from the one derived from schema/"))
                continue
            shards_ok.setdefault(config, {})[split] = path
    return shards_ok, out

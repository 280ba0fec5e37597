"""Finding releases and reading what a release records about itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from khabar.core.errors import InputError
from khabar.core.jsonio import load_json
from khabar.dataset.versioning import parse_version, VersionError
from khabar.dataset.layout import BUILD_INFO, INDEX, REPORTS

__all__ = ["list_releases", "latest_release", "release_dir", "card_yaml_of", "declared_files", "iter_shard_rows",
           "read_index", "iter_index", "iter_index_file", "read_build_info"]


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


def release_dir(releases: Path, ref: str) -> Path:
    """A release named by version (``0.1.0`` under ``releases``, first) or by path (``releases/0.1.0``,
    from the current folder or the project's).

    Raises:
        InputError: ``ref`` is empty (it would name the current folder), or names no folder.
    """
    if not ref:
        raise InputError("an empty release name names no release",
                         hint="name a release by version (0.1.0) or folder (releases/0.1.0)")
    try:  # a version names the project's release, even if a folder of that name is in the current directory
        parse_version(ref)
        if (releases / ref).is_dir():
            return releases / ref
    except VersionError:
        pass
    path = Path(ref)
    if path.is_dir():
        return path
    if not path.is_absolute() and (releases.parent / path).is_dir():  # releases/0.1.0 from another folder
        return releases.parent / path
    raise InputError(f"no release {ref!r} (neither a folder nor a version under {releases})",
                     hint="name a release by version (0.1.0) or folder (releases/0.1.0)")


def card_yaml_of(text: bytes) -> dict[str, Any]:
    """The YAML front matter of a dataset card (``README.md`` bytes) as a mapping.

    Raises:
        InputError: the reason alone (the caller names the file): ``not UTF-8 (byte N)``, ``no YAML
            front matter between --- lines``, ``YAML does not parse: …``, ``YAML front matter is not
            a mapping``.
    """
    import yaml

    try:
        card = text.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 (byte {err.start})") from None
    if not card.startswith("---\n") or "\n---\n" not in card[4:]:
        raise InputError("no YAML front matter between --- lines")
    try:
        meta = yaml.safe_load(card[4:card.index("\n---\n", 4)])
    except (yaml.YAMLError, ValueError, TypeError) as err:  # PyYAML raises ValueError for a date like 2026-13-45
        raise InputError(f"YAML does not parse: {err}".splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise InputError("YAML front matter is not a mapping")
    return meta


def declared_files(meta: dict[str, Any], config: str) -> dict[str, str]:
    """``{split: path}`` of ``config`` as a card's YAML ``configs`` declares it (``{}`` when the
    config is not declared).

    Raises:
        InputError: the config's ``data_files`` is not a list of split/path pairs, or a path is
            absolute or climbs out of the release (``..``).
    """
    for cfg in meta.get("configs") if isinstance(meta.get("configs"), list) else []:
        if isinstance(cfg, dict) and cfg.get("config_name") == config:
            files = cfg.get("data_files")
            if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("split"), str)
                                                      and isinstance(f.get("path"), str) for f in files):
                raise InputError(f"config {config}: data_files must list split/path pairs")
            bad = [f["path"] for f in files if Path(f["path"]).is_absolute() or ".." in Path(f["path"]).parts]
            if bad:
                raise InputError(f"config {config}: data file {bad[0]} lies outside the release")
            return {f["split"]: f["path"] for f in files}
    return {}


def iter_shard_rows(path: Path, columns: list[str], hint: str, limit: int | None = None,
                    id_name: str = "id") -> Iterator[dict[str, Any]]:
    """The rows of one parquet shard of a release, ``columns`` only, ClassLabel ids decoded to
    names with the Hugging Face features stored in the shard, one row group at a time (memory
    does not grow with the shard); at most ``limit`` rows. ``id_name`` is what messages call the
    row's ``id`` (e.g. ``document``).

    Raises:
        InputError: the shard cannot be read or lacks a column; (while iterating) a ClassLabel
            id out of range, naming the file, row, id and field, with ``hint``.
    """
    import pyarrow.parquet as pq
    from datasets import Features

    from khabar.dataset.features import bad_labels, make_decoder

    try:
        pf = pq.ParquetFile(path)
        feats = Features.from_arrow_schema(pf.schema_arrow)
        feats = Features({k: feats[k] for k in columns})
    except Exception as err:  # noqa: BLE001 - any unreadable shard is one message
        raise InputError(f"{path}: cannot read: {type(err).__name__}: {err}".splitlines()[0], hint=hint) from None
    decode = make_decoder(feats)
    n = 0
    if limit == 0:
        return
    for g in range(pf.metadata.num_row_groups):
        for row in pf.read_row_group(g, columns=columns).to_pylist():
            if limit is not None and n >= limit:
                return
            try:
                decoded = decode(row)
            except ValueError:
                where, value, names = (bad_labels(feats, row) or [("$", None, 0)])[0]
                raise InputError(f"{path}: row {n} ({id_name} {row.get('id')}): {where[2:]}: ClassLabel id {value!r} out of range "
                                 f"0..{names - 1}", hint=hint) from None
            n += 1
            yield decoded


def iter_index(release: Path) -> Iterator[dict[str, Any]]:
    """The lines of a release's ``reports/index.jsonl`` (sorted by id), streamed."""
    yield from iter_index_file(release / REPORTS / INDEX)


#: what a damaged index needs (the hint of every problem :func:`iter_index_file` reports)
INDEX_HINT = "the release's reports/index.jsonl is damaged: restore the release folder (e.g. from version control) or rebuild it"
_SHA = ("text_sha256", "annotation_sha256")


def _index_problem(entry: object, last: str | None) -> str | None:
    """Why a parsed index line cannot be used (``<field>: <reason>``), or None."""
    if not isinstance(entry, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(type(entry), "null")
        return f"not a JSON object ({kind})"
    if "id" not in entry:
        return "id: missing"
    if not isinstance(entry["id"], str) or not entry["id"]:
        return f"id: {entry['id']!r} is not a document id (a non-empty string)"
    for name in _SHA:
        if name not in entry:
            return f"{name}: missing"
    if not isinstance(entry["text_sha256"], str):
        return f"text_sha256: {entry['text_sha256']!r} is not a string"
    if entry["annotation_sha256"] is not None and not isinstance(entry["annotation_sha256"], str):
        return f"annotation_sha256: {entry['annotation_sha256']!r} is neither a string nor null"
    if last is not None and entry["id"] <= last:
        return f"id: {entry['id']} comes after {last}; the index must be sorted by id, each id once"
    return None


def iter_index_file(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of an index file (JSON objects ``{id, text_sha256, annotation_sha256, …}``,
    sorted by id), streamed and checked one by one.

    Raises:
        InputError: ``<file>: line N: <field>: <reason>`` (with :data:`INDEX_HINT`): the file is
            missing or unreadable (a folder), a line is not UTF-8, not JSON or not an object, its
            ``id`` is missing, not a string or out of order (not after the line before), its
            ``text_sha256`` or ``annotation_sha256`` is missing or of the wrong type.
    """
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: missing (not a Khabar release?)", hint=INDEX_HINT) from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}", hint=INDEX_HINT) from None
    last = None
    with fh:
        try:
            for n, raw in enumerate(fh, 1):
                try:
                    entry = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as err:
                    raise InputError(f"{path}: line {n}: not UTF-8 (byte {err.start})", hint=INDEX_HINT) from None
                except json.JSONDecodeError as err:
                    raise InputError(f"{path}: line {n}: invalid JSON: {err.msg}", hint=INDEX_HINT) from None
                except RecursionError:
                    raise InputError(f"{path}: line {n}: invalid JSON: nested too deeply", hint=INDEX_HINT) from None
                why = _index_problem(entry, last)
                if why:
                    raise InputError(f"{path}: line {n}: {why}", hint=INDEX_HINT)
                last = entry["id"]
                yield entry
        except OSError as err:  # a read error after opening (EISDIR on some systems, EIO)
            raise InputError(f"{path}: cannot read: {err.strerror}", hint=INDEX_HINT) from None


def read_index(release: Path) -> dict[str, dict[str, Any]]:
    """``{doc_id: {split, revision, text_sha256, annotation_sha256}}`` of a release."""
    return {r["id"]: r for r in iter_index(release)}


def read_build_info(release: Path) -> dict[str, Any]:
    path = release / REPORTS / BUILD_INFO
    if not path.is_file():
        raise InputError(f"{path}: missing (not a Khabar release?)")
    info = load_json(path)
    if not isinstance(info, dict) or not isinstance(info.get("features"), dict) or "documents" not in info["features"]:
        raise InputError(f"{path}: not a build report (no features.documents)")
    return info

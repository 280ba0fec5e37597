"""Level 4 of the gate: ``croissant.json``, read as Croissant readers read it.

* :func:`check_croissant`: ``croissant-invalid`` (``croissant.json`` is not valid Croissant,
  :func:`khabar.dataset.croissant.validate_croissant`; a FileObject's ``sha256`` differs from the
  file it names, or it names a file outside the release or none);
* :func:`check_croissant_records`: ``croissant-records`` (``mlcroissant.Dataset.records`` of a
  record set fails, lacks a config, or yields other rows than the parquet files hold: count per
  split, then every row compared with ``pyarrow``'s, through
  :func:`khabar.dataset.croissant.row_from_record`). On a split file of more than
  :data:`SAMPLE_ROWS` rows, the first :data:`SAMPLE_ROWS` rows are compared: the check copies
  ``croissant.json`` and the first rows of every file to a temporary folder and reads that, so
  its time does not grow with the release (issue 13).

Public API: :data:`SAMPLE_ROWS`, :func:`check_croissant`, :func:`check_croissant_records`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

from khabar.core.errors import InputError
from khabar.core.jsonio import load_json, sha256_file
from khabar.dataset.croissant import row_from_record, validate_croissant
from khabar.dataset.layout import CROISSANT
from khabar.gate.files import inside
from khabar.gate.problems import Problem

__all__ = ["SAMPLE_ROWS", "check_croissant", "check_croissant_records"]

#: rows per split file read through mlcroissant; a longer file is compared on its first rows
SAMPLE_ROWS = 200


_FILE_OBJECT = ("cr:FileObject", "http://mlcommons.org/croissant/FileObject", "FileObject")


def _is_file_object(obj: Any) -> bool:
    kind = obj.get("@type") if isinstance(obj, dict) else None
    kinds = kind if isinstance(kind, list) else [kind]
    return any(k in _FILE_OBJECT for k in kinds)


def _check_croissant_hashes(rel: Path, meta: dict[str, Any]) -> list[Problem]:
    """Each FileObject's ``sha256`` in croissant.json (parsed: ``meta``) against the file it names,
    and a FileObject for every parquet file under ``data/`` (however its ``@type`` is spelled)."""
    out = []
    dist = meta.get("distribution", [])
    named: set[str] = set()
    for obj in dist if isinstance(dist, list) else []:
        if not _is_file_object(obj):
            continue
        url = obj.get("contentUrl")
        if not isinstance(url, str) or not url:
            out.append(Problem("croissant-invalid", CROISSANT, f"FileObject {obj.get('@id')!r} has no contentUrl"))
            continue
        named.add(url)
        path = rel / url
        if not inside(rel, url):
            out.append(Problem("croissant-invalid", CROISSANT, f"FileObject {url} points outside the release"))
        elif not path.is_file():
            out.append(Problem("croissant-invalid", CROISSANT, f"FileObject {url} is not a file of the release"))
        elif not isinstance(obj.get("sha256"), str):
            out.append(Problem("croissant-invalid", CROISSANT, f"FileObject {url} has no sha256 (Khabar writes one for every file)"))
        elif sha256_file(path) != obj["sha256"]:
            out.append(Problem("croissant-invalid", CROISSANT, f"sha256 of {url} differs from the file"))
    for path in sorted((rel / "data").rglob("*.parquet")) if (rel / "data").is_dir() else []:
        url = path.relative_to(rel).as_posix()
        if url not in named:
            out.append(Problem("croissant-invalid", CROISSANT, f"no FileObject (with its sha256) for {url}"))
    return out


def check_croissant(rel: Path) -> list[Problem]:
    """``croissant-invalid`` problems of ``rel/croissant.json`` (none when the file is missing:
    ``file-missing`` says so). A file that is not UTF-8 strict JSON, or not a JSON object, is one
    problem with a plain reason; otherwise the Croissant validator's problems, then the file hashes'."""
    if not (rel / CROISSANT).is_file():
        return []
    try:
        meta = load_json(rel / CROISSANT)
    except InputError as err:
        return [Problem("croissant-invalid", CROISSANT, str(err).split(": ", 1)[-1])]
    if not isinstance(meta, dict):
        return [Problem("croissant-invalid", CROISSANT, "not a JSON object (Croissant metadata is one JSON-LD object)")]
    return ([Problem("croissant-invalid", CROISSANT, msg) for msg in validate_croissant(rel / CROISSANT)]
            + _check_croissant_hashes(rel, meta))


def _split_of(path: str) -> str:
    """``data/<config>/<split>-00000-of-00001.parquet`` -> ``<split>``."""
    return Path(path).name.split("-", 1)[0]


def _sample_folder(rel: Path, shards: dict[str, dict[str, str]], tmp: Path) -> Path:
    """A folder holding ``rel``'s croissant.json and the first :data:`SAMPLE_ROWS` rows of each
    shard under the same names (``rel`` itself when no shard is longer)."""
    import pyarrow.parquet as pq

    if all(pq.ParquetFile(rel / p).metadata.num_rows <= SAMPLE_ROWS for splits in shards.values() for p in splits.values()):
        return rel
    shutil.copyfile(rel / CROISSANT, tmp / CROISSANT)
    for splits in shards.values():
        for path in splits.values():
            pf = pq.ParquetFile(rel / path)
            (tmp / path).parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(tmp / path, pf.schema_arrow) as out:
                left = SAMPLE_ROWS
                for batch in pf.iter_batches(batch_size=min(SAMPLE_ROWS, 1000)):
                    if left <= 0:
                        break
                    out.write_batch(batch.slice(0, left))
                    left -= batch.num_rows
    return tmp


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (``True == 1`` and ``1 == 1.0`` are not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text[:50] + '…' if len(text) > 50 else text} ({type(value).__name__})"


def _first_difference(want: dict[str, Any], got: dict[str, Any]) -> str:
    for key in want:
        if not _same(want[key], got.get(key)):
            a, b = want[key], got.get(key)
            while isinstance(a, (list, dict)) and type(a) is type(b) and len(a) == len(b):  # down to the first differing part
                pairs = list(a.items()) if isinstance(a, dict) else list(enumerate(a))
                diff = next(((k, v) for k, v in pairs if not _same(v, b[k] if isinstance(b, list) else b.get(k))), None)
                if diff is None:
                    break
                key = f"{key}.{diff[0]}" if isinstance(a, dict) else f"{key}[{diff[0]}]"
                a, b = diff[1], (b[diff[0]] if isinstance(b, list) else b.get(diff[0]))
            return f"{key}: parquet {_show(a)}, mlcroissant {_show(b)}"
    return "columns differ"


def _why_none(folder: Path) -> str:
    """The known cause of a Croissant that yields nothing, as a clause, or ``""``."""
    text = (folder / CROISSANT).read_text(encoding="utf-8", errors="replace")
    if '"containedIn"' in text or '"cr:containedIn"' in text:
        return ("; its FileSets are containedIn their parquet files, as releases before 0.4.3 wrote them, and mlcroissant "
                "yields no record from it (only Croissant readers are affected: load_dataset and the parquet files are "
                "sound; use release 0.4.3 or later)")
    return ""


def _check_record_set(folder: Path, config: str, splits: dict[str, str], dataset: Any) -> list[Problem]:
    """Compare the records of ``config`` with the rows of its shards in ``folder``."""
    import pyarrow.parquet as pq
    from datasets import Features

    first = next(iter(splits.values()))
    features = Features.from_arrow_schema(pq.read_schema(folder / first))
    got: dict[str | None, list[dict[str, Any]]] = {}
    try:
        with warnings.catch_warnings():  # mlcroissant's pandas calls warn of deprecations
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)  # mlcroissant logs "Could not match …" once per row
            try:
                for record in dataset.records(config):
                    split, row = row_from_record(record, config, features)
                    got.setdefault(split, []).append(row)
            finally:
                logging.disable(logging.NOTSET)
    except Exception as err:  # noqa: BLE001 - any failure of the reader is this check's finding
        cause = err
        while cause.__cause__ is not None or cause.__context__ is not None:  # mlcroissant wraps the reason
            cause = cause.__cause__ or cause.__context__
        reason = f"{type(cause).__name__}: {cause}".splitlines()[0][:200]
        return [Problem("croissant-records", CROISSANT, f"mlcroissant cannot read record set {config!r}: {reason}")]
    if not got:
        held = sum(pq.ParquetFile(folder / p).metadata.num_rows for p in splits.values())
        if held:
            return [Problem("croissant-records", CROISSANT, f"mlcroissant yields no record of {config!r}; its parquet files hold "
                                                            f"{held} row{'s' if held != 1 else ''}{_why_none(folder)}")]
    out = []
    for split, path in sorted(splits.items()):
        rows = pq.read_table(folder / path).to_pylist()
        mine = got.pop(split, [])
        if len(mine) != len(rows):
            out.append(Problem("croissant-records", path, f"mlcroissant yields {len(mine)} records of {config}/{split}, "
                                                          f"the parquet file holds {len(rows)} rows"))
            continue
        for i, (want, have) in enumerate(zip(rows, mine)):
            if not _same(want, have):
                out.append(Problem("croissant-records", path, f"record {i} of {config}/{split} differs from the parquet "
                                                              f"row: {_first_difference(want, have)}"))
                break
    for split, extra in sorted(got.items(), key=lambda kv: str(kv[0])):
        out.append(Problem("croissant-records", CROISSANT, f"mlcroissant yields {len(extra)} records of {config} "
                                                           f"from no split file (split {split!r})"))
    return out


#: parquet leaf type -> the Croissant dataType Khabar writes for it
_DATA_TYPES = {"string": "sc:Text", "large_string": "sc:Text", "bool": "sc:Boolean", "int8": "cr:Int8", "int16": "cr:Int16",
               "int32": "cr:Int32", "int64": "cr:Int64", "uint8": "cr:UInt8", "uint16": "cr:UInt16", "uint32": "cr:UInt32",
               "uint64": "cr:UInt64", "halffloat": "cr:Float16", "float": "cr:Float32", "double": "cr:Float64"}


def _expected_fields(config: str, schema: Any) -> dict[str, tuple[str, bool, str, str | None]]:
    """``@id`` -> (dataType, isArray, column, jsonPath or None) of every leaf field Khabar writes
    for the parquet ``schema`` of ``config`` (the split field aside)."""
    import pyarrow as pa

    out: dict[str, tuple[str, bool, str, str | None]] = {}

    def walk(fid: str, typ: Any, column: str, path: tuple[str, ...]) -> None:
        if pa.types.is_list(typ) and pa.types.is_struct(typ.value_type):
            for f in typ.value_type:
                walk(f"{fid}/{f.name}", f.type, column, path + (f.name,))
        elif pa.types.is_list(typ):
            out[fid] = (_DATA_TYPES.get(str(typ.value_type), str(typ.value_type)), True, column, ".".join(path) or None)
        elif pa.types.is_struct(typ):
            for f in typ:
                walk(f"{fid}/{f.name}", f.type, column, path + (f.name,))
        else:
            out[fid] = (_DATA_TYPES.get(str(typ), str(typ)), False, column, ".".join(path) or None)

    for col in schema:
        walk(f"{config}/{col.name}", col.type, col.name, ())
    return out


def _one(value: Any) -> Any:
    """A JSON-LD value that may be given as a one-item list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _older_croissant(rel: Path) -> list[Problem]:
    """One problem when croissant.json conforms to another Croissant version than the one this
    toolkit writes (:data:`khabar.dataset.croissant.CROISSANT_VERSION`): it is not read."""
    from khabar.dataset.croissant import CROISSANT_VERSION

    try:
        meta = load_json(rel / CROISSANT)
    except InputError:
        return []
    version = meta.get("conformsTo") if isinstance(meta, dict) else None
    if version == CROISSANT_VERSION:
        return []
    short = f"Croissant {version.rsplit('/', 1)[-1]}" if isinstance(version, str) else "no Croissant version"
    return [Problem("croissant-records", CROISSANT, f"conforms to {short}, not Croissant 1.1, so its records are not read"
                                                    f"{_why_none(rel)}")]


def _field_problems(config: str, field: Any, want: dict[str, tuple[str, bool, str, str | None]], seen: set[str],
                    bad: Callable[[str], None]) -> None:
    """Report through ``bad`` how ``field`` (and its sub-fields) differs from what Khabar writes
    for the parquet leaves ``want`` (:func:`_expected_fields`); add the leaf @ids met to ``seen``."""
    from khabar.dataset.croissant import SPLIT_FIELD, split_regex

    if not isinstance(field, dict):
        bad(f"record set {config!r}: a field that is not a JSON object")
        return
    fid = field.get("@id")
    if not isinstance(fid, str):
        bad(f"record set {config!r}: a field without an @id")
        return
    if field.get("name") != fid.rsplit("/", 1)[-1]:
        bad(f"field {fid}: name {field.get('name')!r}, but its @id names {fid.rsplit('/', 1)[-1]!r}")
    subs = field.get("subField")
    if subs is not None:
        for sub in subs if isinstance(subs, list) else [subs]:
            _field_problems(config, sub, want, seen, bad)
        return
    seen.add(fid)
    source = field.get("source") if isinstance(field.get("source"), dict) else {}
    extract = source.get("extract") if isinstance(source.get("extract"), dict) else {}
    transforms = source.get("transform", [])
    transforms = [t for t in (transforms if isinstance(transforms, list) else [transforms])]
    if fid == f"{config}/{SPLIT_FIELD}":
        if extract.get("fileProperty") != "fullpath" or transforms != [{"regex": split_regex(config)}]:
            bad(f"field {fid}: not read from the file name by the regex Khabar writes")
        return
    if fid not in want:
        bad(f"field {fid}: no such column in the parquet files of {config}")
        return
    dtype, is_array, column, path = want[fid]
    got_type = _one(field.get("dataType"))
    if got_type != dtype:
        bad(f"field {fid}: dataType {got_type!r}, but the parquet column holds {dtype}")
    if bool(field.get("cr:isArray", field.get("isArray"))) != is_array:
        bad(f"field {fid}: isArray {'missing' if is_array else 'set'}, but the parquet column "
            f"{'is' if is_array else 'is not'} a list")
    if extract.get("column") != column or set(extract) != {"column"}:
        bad(f"field {fid}: reads {extract!r}, not the column {column!r}")
    if transforms != ([{"jsonPath": path}] if path else []):
        bad(f"field {fid}: transform {transforms!r}, not the one Khabar writes "
            f"({'jsonPath ' + repr(path) if path else 'none'})")


def _declared_problems(rel: Path, shards: dict[str, dict[str, str]]) -> list[Problem]:
    """croissant.json's record sets and fields against the parquet schemas, before anything is
    read: one record set per config (by name, once), one field per parquet leaf with the
    ``@id``, ``name``, ``dataType``, ``isArray``, column and ``jsonPath`` Khabar writes, the split
    field with its file-name regex, and no other field or transform. (A transform Khabar does not
    write, such as a regex, could make the reader run for ever.)"""
    import pyarrow.parquet as pq

    from khabar.dataset.croissant import SPLIT_FIELD

    try:
        meta = load_json(rel / CROISSANT)
    except InputError:
        return []  # check_croissant said so
    out: list[Problem] = []

    def bad(message: str) -> None:
        out.append(Problem("croissant-records", CROISSANT, message))

    sets = meta.get("recordSet") if isinstance(meta, dict) else None
    sets = [rs for rs in sets if isinstance(rs, dict)] if isinstance(sets, list) else []
    names = [rs.get("name") for rs in sets]
    for name in sorted({n for n in names if names.count(n) > 1}, key=str):
        bad(f"{names.count(name)} record sets are named {name!r}")
    for name in sorted({str(n) for n in names} - set(shards)):
        bad(f"record set {name!r} names no config of this release")
    for config in sorted(set(shards) - set(names)):
        bad(f"no record set {config!r} for the config's parquet files")
    for rs in sets:
        config = rs.get("name")
        if config not in shards or names.count(config) > 1 or not shards[config]:
            continue
        schema = pq.read_schema(rel / next(iter(shards[config].values())))
        want = _expected_fields(config, schema)
        seen: set[str] = set()

        fields = rs.get("field", [])
        for field in fields if isinstance(fields, list) else [fields]:
            _field_problems(config, field, want, seen, bad)
        for fid in sorted(set(want) - seen):
            bad(f"field {fid}: missing from record set {config!r}")
        if f"{config}/{SPLIT_FIELD}" not in seen:
            bad(f"record set {config!r}: no {SPLIT_FIELD} field")
    return out


def check_croissant_records(rel: Path, shards: dict[str, dict[str, str]]) -> list[Problem]:
    """``croissant-records`` problems: every record set of ``rel/croissant.json`` read through
    ``mlcroissant`` against the parquet rows (the module docstring says how much is read).

    Args:
        rel: the release folder, whose croissant.json passed :func:`check_croissant`.
        shards: ``{config: {split: path}}`` of the shards whose schema passed.

    Returns:
        One problem per record set that cannot be read or is missing, per split whose record
        count differs, and per split's first differing record.
    """
    import mlcroissant as mlc

    if not shards or not (rel / CROISSANT).is_file():
        return []
    old = _older_croissant(rel)
    if old:
        return old
    declared = _declared_problems(rel, shards)
    if declared:  # what mlcroissant would be asked to read is not what Khabar writes: do not run it
        return declared
    logging.getLogger("absl").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="khabar-croissant-"))
    try:
        folder = _sample_folder(rel, shards, tmp)
        try:
            dataset = mlc.Dataset(jsonld=str(folder / CROISSANT))
        except Exception as err:  # noqa: BLE001 - check_croissant reports why
            return [Problem("croissant-records", CROISSANT, f"mlcroissant cannot open it: {type(err).__name__}".splitlines()[0])]
        names = {rs.name for rs in dataset.metadata.record_sets}
        out = []
        for config, splits in sorted(shards.items()):
            if config not in names:
                out.append(Problem("croissant-records", CROISSANT, f"no record set {config!r} for the config's parquet files"))
            elif splits:
                out += _check_record_set(folder, config, splits, dataset)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

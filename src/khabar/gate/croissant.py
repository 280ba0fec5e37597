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
from typing import Any

from khabar.core.errors import InputError
from khabar.core.jsonio import load_json, sha256_file
from khabar.dataset.croissant import row_from_record, validate_croissant
from khabar.dataset.layout import CROISSANT
from khabar.gate.files import inside
from khabar.gate.problems import Problem

__all__ = ["SAMPLE_ROWS", "check_croissant", "check_croissant_records"]

#: rows per split file read through mlcroissant; a longer file is compared on its first rows
SAMPLE_ROWS = 2000


def _check_croissant_hashes(rel: Path, meta: dict[str, Any]) -> list[Problem]:
    """Each FileObject's ``sha256`` in croissant.json (parsed: ``meta``) against the file it names."""
    out = []
    dist = meta.get("distribution", [])
    for obj in dist if isinstance(dist, list) else []:
        if isinstance(obj, dict) and obj.get("@type") == "cr:FileObject" and obj.get("sha256"):
            url = str(obj.get("contentUrl", ""))
            path = rel / url
            if not inside(rel, url):
                out.append(Problem("croissant-invalid", CROISSANT, f"FileObject {url} points outside the release"))
            elif not path.is_file():
                out.append(Problem("croissant-invalid", CROISSANT, f"FileObject {obj.get('contentUrl')} does not exist"))
            elif sha256_file(path) != obj["sha256"]:
                out.append(Problem("croissant-invalid", CROISSANT, f"sha256 of {obj.get('contentUrl')} differs from the file"))
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


def _first_difference(want: dict[str, Any], got: dict[str, Any]) -> str:
    for key in want:
        if want[key] != got.get(key):
            return f"{key}: parquet {str(want[key])[:60]!r}, mlcroissant {str(got.get(key))[:60]!r}"
    return "columns differ"


def _why_none(folder: Path) -> str:
    """The known cause of a Croissant that yields nothing, as a clause, or ``""``."""
    text = (folder / CROISSANT).read_text(encoding="utf-8", errors="replace")
    if '"containedIn"' in text or '"cr:containedIn"' in text:
        return (" (FileSets containedIn their parquet files, as releases before 0.4.3 wrote them: only Croissant readers "
                "are affected, load_dataset and the parquet files are sound; use 0.4.3 or later)")
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
            for record in dataset.records(config):
                split, row = row_from_record(record, config, features)
                got.setdefault(split, []).append(row)
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
            if want != have:
                out.append(Problem("croissant-records", path, f"record {i} of {config}/{split} differs from the parquet "
                                                              f"row: {_first_difference(want, have)}"))
                break
    for split, extra in sorted(got.items(), key=lambda kv: str(kv[0])):
        out.append(Problem("croissant-records", CROISSANT, f"mlcroissant yields {len(extra)} records of {config} "
                                                           f"from no split file (split {split!r})"))
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

"""``croissant.json``: Croissant 1.1 metadata (MLCommons) with the Responsible-AI fields, made with
``mlcroissant``, validated by it, and readable by it record by record.

The layout, per config (one Croissant RecordSet per Hugging Face config):

* one ``FileObject`` per parquet file (``contentUrl`` relative to the release, ``sha256``), and one
  ``FileSet`` per config that ``includes`` ``data/<config>/*.parquet``. The FileSet is not
  ``containedIn`` the FileObjects: ``mlcroissant`` would read a parquet file as an archive and
  yield no record (issue 13).
* one field per parquet column, typed as the column is: ``string`` -> ``sc:Text``, ``int32`` ->
  ``cr:Int32``, ``int64`` and ClassLabel ids -> ``cr:Int64`` (the names in the description),
  ``bool`` -> ``sc:Boolean``, ``float64`` -> ``cr:Float64``; a list is ``isArray`` (Croissant
  1.1), a struct has ``subField``\\ s, each reading its value with a ``jsonPath`` transform.
* one more field, ``split``, read from the file name (``fileProperty: fullpath``), as the Hub's
  own Croissant does; ``records(config, filters={"<config>/split": "train"})`` reads one split.

``mlcroissant`` 1.1.1 yields a record as a dict keyed by field ``@id`` with ``sc:Text`` as
``bytes``, and places the values of a struct inside a list of structs beside the list instead of
in its items (``record["documents/claims/content"] == {"documents/claims/content/start": [per
claim], ...}``), and a null struct as a struct of nulls. :func:`row_from_record` undoes these
and gives back the parquet row; the gate compares the two (check ``croissant-records``).

Public API: :data:`CROISSANT_VERSION`, :func:`make_croissant`, :func:`validate_croissant`,
:func:`row_from_record`, :func:`dumps`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlcroissant as mlc
from datasets import ClassLabel, Features, List, Value

from khabar.core.jsonio import sha256_file

__all__ = ["CROISSANT_VERSION", "SPLIT_FIELD", "split_regex", "make_croissant", "validate_croissant", "row_from_record", "dumps"]

#: the ``conformsTo`` of the croissant.json this toolkit writes (releases before 0.4.3 have 1.0)
CROISSANT_VERSION = "http://mlcommons.org/croissant/1.1"
#: the name of the field read from the file name, in every record set
SPLIT_FIELD = "split"
# what mlcroissant's ``filters`` turns into a glob (its heuristics read ``.+``, ``\.``, ``$`` and ``(?:…)?``)
_SPLIT_REGEX = r"(?:.*/)?data/{config}/(train|validation|test)-.+\.parquet$"

# Arrow dtype of a datasets Value -> Croissant dataType (mlcroissant casts each to the same width)
_TYPES = {"string": mlc.DataType.TEXT, "large_string": mlc.DataType.TEXT, "bool": mlc.DataType.BOOL,
          "int8": mlc.DataType.INT8, "int16": mlc.DataType.INT16, "int32": mlc.DataType.INT32, "int64": mlc.DataType.INT64,
          "uint8": mlc.DataType.UINT8, "uint16": mlc.DataType.UINT16, "uint32": mlc.DataType.UINT32,
          "uint64": mlc.DataType.UINT64, "float16": mlc.DataType.FLOAT16, "float32": mlc.DataType.FLOAT32,
          "float64": mlc.DataType.FLOAT64}


def _leaf_type(feature: Any, fid: str) -> tuple[Any, str | None]:
    """(Croissant dataType, description) of a Value or ClassLabel."""
    if isinstance(feature, ClassLabel):
        return mlc.DataType.INT64, "ClassLabel id; names: " + ", ".join(feature.names)
    if isinstance(feature, Value) and feature.dtype in _TYPES:
        return _TYPES[feature.dtype], None
    raise ValueError(f"{fid}: no Croissant dataType for the feature {feature!r}")


def _is_leaf(feature: Any) -> bool:
    return isinstance(feature, (Value, ClassLabel))


def _field(ctx: mlc.Context, fid: str, name: str, feature: Any, file_set: str, column: str,
           path: tuple[str, ...] = (), in_list: bool = False) -> mlc.Field:
    """The Croissant field of ``feature`` (a column, or a part of one at ``path`` inside it).

    Raises:
        ValueError: a feature shape ``mlcroissant`` 1.1.1 cannot yield back: a list of structs or
            a struct of structs inside a list, or a list of lists.
    """
    transforms = [mlc.Transform(ctx=ctx, json_path=".".join(path))] if path else []

    def source() -> mlc.Source:
        return mlc.Source(ctx=ctx, file_set=file_set, extract=mlc.Extract(ctx=ctx, column=column), transforms=transforms)

    if _is_leaf(feature):
        dtype, desc = _leaf_type(feature, fid)
        return mlc.Field(ctx=ctx, id=fid, name=name, data_types=[dtype], description=desc, source=source())
    if isinstance(feature, List):
        item = feature.feature
        if _is_leaf(item):
            dtype, desc = _leaf_type(item, fid)
            return mlc.Field(ctx=ctx, id=fid, name=name, data_types=[dtype], description=desc, source=source(),
                             is_array=True, array_shape="-1")
        if isinstance(item, dict) and not in_list and not path:
            subs = [_field(ctx, f"{fid}/{k}", k, v, file_set, column, path + (k,), in_list=True) for k, v in item.items()]
            for k, v in item.items():
                if isinstance(v, dict) and any(not _is_leaf(x) for x in v.values()):
                    raise ValueError(f"{fid}/{k}: a struct holding lists or structs inside a list: mlcroissant cannot yield it")
            return mlc.Field(ctx=ctx, id=fid, name=name, sub_fields=subs, is_array=True, array_shape="-1")
        raise ValueError(f"{fid}: a list of {type(item).__name__} inside a list: mlcroissant cannot yield it")
    if isinstance(feature, dict):
        if path and not in_list:
            raise ValueError(f"{fid}: a struct inside a struct: mlcroissant cannot yield it")
        subs = [_field(ctx, f"{fid}/{k}", k, v, file_set, column, path + (k,), in_list=in_list) for k, v in feature.items()]
        return mlc.Field(ctx=ctx, id=fid, name=name, sub_fields=subs)
    raise ValueError(f"{fid}: no Croissant field for the feature {feature!r}")


def split_regex(config: str) -> str:
    """The regex of ``config``'s ``split`` field (read from a parquet file's path)."""
    return _SPLIT_REGEX.format(config=config)


def _split_field(ctx: mlc.Context, config: str, file_set: str) -> mlc.Field:
    return mlc.Field(ctx=ctx, id=f"{config}/{SPLIT_FIELD}", name=SPLIT_FIELD, data_types=[mlc.DataType.TEXT],
                     description="the split, read from the parquet file's name (not a parquet column)",
                     source=mlc.Source(ctx=ctx, file_set=file_set, extract=mlc.Extract(ctx=ctx, file_property="fullpath"),
                                       transforms=[mlc.Transform(ctx=ctx, regex=split_regex(config))]))


def make_croissant(release: Path, version: str, features: dict[str, Features], files: dict[str, list[str]],
                   facts: dict[str, Any], date_published: Any = None) -> dict[str, Any]:
    """Croissant 1.1 JSON-LD for a release folder (the layout is in the module docstring).

    Args:
        release: the (staging) release folder; the parquet files are hashed from it.
        features: config -> Features.
        files: config -> relative parquet paths (``data/<config>/<split>-00000-of-00001.parquet``).
        facts: free-text Responsible-AI facts: ``collection``, ``biases``, ``limitations``,
            ``personal``, ``use_cases``, ``annotation``, ``preprocessing``, ``maintenance``,
            ``social_impact``, ``machine_tools``.

    Raises:
        ValueError: a feature shape that ``mlcroissant`` cannot yield back (see :func:`_field`).
    """
    ctx = mlc.Context(conforms_to=CROISSANT_VERSION)
    distribution: list[Any] = []
    record_sets = []
    for config, paths in files.items():
        for rel in paths:
            distribution.append(mlc.FileObject(ctx=ctx, id=rel, name=rel, content_url=rel,
                                               encoding_formats=["application/x-parquet"], sha256=sha256_file(release / rel)))
        fs_id = f"{config}-parquet"
        distribution.append(mlc.FileSet(ctx=ctx, id=fs_id, name=fs_id, encoding_formats=["application/x-parquet"],
                                        includes=[f"data/{config}/*.parquet"]))
        fields = [_split_field(ctx, config, fs_id)]
        fields += [_field(ctx, f"{config}/{n}", n, f, fs_id, n) for n, f in features[config].items()]
        record_sets.append(mlc.RecordSet(ctx=ctx, id=config, name=config, fields=fields,
                                         description=f"Rows of the `{config}` config, one record per parquet row, "
                                                     f"plus `{SPLIT_FIELD}` from the file name."))
    meta = mlc.Metadata(
        ctx=ctx,
        name="khabar",
        description="Khabar: Arabic news annotated with Wojood entities, PARC attributed claims with reporting chains, "
                    "CheckThat! check-worthiness and SemEval-2016 stances.",
        version=version,
        license=["unknown"],
        url="releases/" + version,
        cite_as="Khabar: an annotated corpus of Arabic news, release " + version,
        in_language=["ar"],
        keywords=["Arabic", "news", "named entities", "attribution", "claims", "stance"],
        date_published=date_published,
        distribution=distribution,
        record_sets=record_sets,
        data_collection=facts["collection"],
        data_biases=[facts["biases"]],
        data_limitations=[facts["limitations"]],
        personal_sensitive_information=[facts["personal"]],
        data_use_cases=[facts["use_cases"]],
        data_annotation_protocol=[facts["annotation"]],
        data_preprocessing_protocol=[facts["preprocessing"]],
        data_release_maintenance_plan=facts["maintenance"],
        data_social_impact=facts["social_impact"],
        machine_annotation_tools=[facts["machine_tools"]],
    )
    return meta.to_json()


def _plain(value: Any) -> Any:
    """A value as ``mlcroissant`` yields it -> the Python value ``pyarrow`` gives for the column."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, dict)):  # numpy scalars
        return value.item()
    return value


def _rebuild(feature: Any, fid: str, record: dict[str, Any], value: Any) -> Any:
    """The column value of ``feature`` (field ``fid``) from ``value``, the part ``mlcroissant``
    yielded for it, and ``record`` (for structs inside a list, whose values it yields beside the
    list, keyed by the struct's field id, one per item)."""
    if _is_leaf(feature) or (isinstance(feature, List) and _is_leaf(feature.feature)):
        return _plain(value)
    if isinstance(feature, List):  # a list of structs: items keyed by their fields' ids
        if value is None:
            return None
        items = []
        for i, item in enumerate(value):
            row = {}
            for k, sub in feature.feature.items():
                sid = f"{fid}/{k}"
                if isinstance(sub, dict):
                    hoisted = record.get(sid) or {}
                    part = {kk: _plain((hoisted.get(f"{sid}/{kk}") or [None] * (i + 1))[i]) for kk in sub}
                    row[k] = _null_struct(part)
                else:
                    row[k] = _rebuild(sub, sid, record, item.get(sid))
            items.append(row)
        return items
    if value is None:
        return None
    return _null_struct({k: _rebuild(sub, f"{fid}/{k}", record, value.get(f"{fid}/{k}")) for k, sub in feature.items()})


def _null_struct(part: dict[str, Any]) -> dict[str, Any] | None:
    """``None`` for a struct whose every field is null: ``mlcroissant`` yields a null struct as
    nulls in each field. (Khabar's structs that may be null, such as a claim's ``cue``, have
    required fields, so a struct of nulls is always a null struct.)"""
    return None if all(v is None for v in part.values()) else part


def row_from_record(record: dict[str, Any], config: str, features: Features) -> tuple[str | None, dict[str, Any]]:
    """``(split, row)``: a record of record set ``config`` as ``mlcroissant.Dataset.records`` yields
    it -> the split it was read from and the parquet row (``pyarrow``'s ``to_pylist`` shape: column
    name -> value, ``str`` for text, lists and dicts as stored).

    Args:
        record: one record (keys are field ``@id``\\ s such as ``documents/title``).
        features: the config's Features, which say each column's shape.

    Raises:
        KeyError: the record lacks a column's field.
    """
    split = _plain(record.get(f"{config}/{SPLIT_FIELD}"))
    row = {name: _rebuild(f, f"{config}/{name}", record, record[f"{config}/{name}"]) for name, f in features.items()}
    return split, row


def validate_croissant(path: Path) -> list[str]:
    """Problems ``mlcroissant`` finds in a croissant.json (errors only); ``[]`` when valid."""
    import logging

    logging.getLogger("absl").setLevel(logging.ERROR)  # "datePublished is recommended" when no date is set
    try:
        ds = mlc.Dataset(jsonld=str(path))
    except mlc.ValidationError as err:
        # mlcroissant's message: "Found the following N error(s) ...:\n  -  [...] ...", then warnings
        errors, section = [], None
        for line in str(err).splitlines():
            if line.startswith("Found the following"):
                section = "error" if "error" in line else "warning"
            elif line.strip().startswith("-") and section == "error":
                errors.append(line.strip().lstrip("- ").strip())
        return errors or [str(err).splitlines()[0]]
    except RecursionError:
        return ["JSON nested too deeply"]
    except Exception as err:  # noqa: BLE001 - any failure to read is a problem to report
        return [f"{type(err).__name__}: {err}"]
    issues = ds.metadata.ctx.issues
    return [str(e) for e in issues.errors]


def dumps(obj: dict[str, Any]) -> str:
    """croissant.json's text: indented JSON, non-ASCII kept, a final newline."""
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n"

"""``croissant.json``: Croissant 1.0 metadata (MLCommons) with the Responsible-AI fields, made
with ``mlcroissant`` and validated by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlcroissant as mlc
from datasets import ClassLabel, Features, List, Value

from khabar.core.jsonio import sha256_file

__all__ = ["make_croissant", "validate_croissant"]

_TYPES = {"string": mlc.DataType.TEXT, "int32": mlc.DataType.INTEGER, "int64": mlc.DataType.INTEGER,
          "bool": mlc.DataType.BOOL, "float64": mlc.DataType.FLOAT}


def _field(rs: str, file_set: str, name: str, column: str, feature: Any) -> mlc.Field:
    src = mlc.Source(file_set=file_set, extract=mlc.Extract(column=column))
    fid = f"{rs}/{name}"
    if isinstance(feature, Value):
        return mlc.Field(id=fid, name=name, data_types=[_TYPES.get(feature.dtype, mlc.DataType.TEXT)], source=src)
    if isinstance(feature, ClassLabel):
        return mlc.Field(id=fid, name=name, data_types=[mlc.DataType.INTEGER], source=src,
                         description="ClassLabel id; names: " + ", ".join(feature.names))
    if isinstance(feature, List):
        return mlc.Field(id=fid, name=name, data_types=[mlc.DataType.TEXT], source=src, repeated=True,
                         description="a list; see the dataset card for its item type")
    return mlc.Field(id=fid, name=name, data_types=[mlc.DataType.TEXT], source=src,
                     description="a struct; see the dataset card for its fields")


def make_croissant(release: Path, version: str, features: dict[str, Features], files: dict[str, list[str]],
                   facts: dict[str, Any], date_published: Any = None) -> dict[str, Any]:
    """Croissant JSON-LD for a release folder.

    Args:
        release: the (staging) release folder; the parquet files are hashed from it.
        features: config -> Features.
        files: config -> relative parquet paths.
        facts: free-text Responsible-AI facts: ``collection``, ``biases``, ``limitations``,
            ``personal``, ``use_cases``, ``annotation``, ``preprocessing``, ``maintenance``,
            ``social_impact``, ``machine_tools``.
    """
    distribution: list[Any] = []
    record_sets = []
    for config, paths in files.items():
        for rel in paths:
            sha = sha256_file(release / rel)
            distribution.append(mlc.FileObject(id=rel, name=rel, content_url=rel, encoding_formats=["application/x-parquet"], sha256=sha))
        fs_id = f"{config}-parquet"
        distribution.append(mlc.FileSet(id=fs_id, name=fs_id, contained_in=list(paths), encoding_formats=["application/x-parquet"],
                                        includes=[f"data/{config}/*.parquet"]))
        record_sets.append(mlc.RecordSet(id=config, name=config, description=f"Rows of the `{config}` config.",
                                         fields=[_field(config, fs_id, n, n, f) for n, f in features[config].items()]))
    meta = mlc.Metadata(
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
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n"

"""Hugging Face ``Features`` and the Arrow schema of each release config, derived from ``schema/``.

Mapping (JSON Schema -> ``datasets``): ``enum`` of strings -> ``ClassLabel(names=enum)`` (so
label ids are the enum order of ``labels.schema.json``); ``string``/``const`` -> ``Value("string")``;
``integer`` -> ``Value(x-arrow or "int64")``; ``number`` -> ``float64``; ``boolean`` -> ``bool``;
``array`` -> ``List(items)``; ``object`` -> a dict of its ``properties`` in order;
``oneOf [X, null]`` and ``type: [X, "null"]`` -> X (Arrow columns are nullable).

Every shard of a config is written with :func:`arrow_schema`, never with a schema inferred from
its rows, so a shard whose rows all have empty lists still has ``list<struct<...>>`` columns
(huggingface/datasets#7092).
"""

from __future__ import annotations

from typing import Any, Callable

import pyarrow as pa
from datasets import ClassLabel, Features, List, Value

from khabar.core.schema import Schemas

__all__ = ["bad_labels", "CONFIGS", "TRAINING_CONFIGS", "features_for", "arrow_schema", "make_encoder", "make_decoder"]

#: config name -> schema name of its rows (``schema/release/<config>.schema.json``), in card order
CONFIGS = {"documents": "release/documents", "entities": "release/entities", "claims": "release/claims",
           "stances": "release/stances"}
#: the configs derived from the ``documents`` rows (:mod:`khabar.dataset.training`)
TRAINING_CONFIGS = ("entities", "claims", "stances")


def _is_null(node: dict[str, Any]) -> bool:
    return node.get("type") == "null"


def _feature(schemas: Schemas, node: dict[str, Any], resolver: Any) -> Any:
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        return _feature(schemas, resolved.contents, resolved.resolver)
    if "oneOf" in node or "anyOf" in node:
        options = [o for o in node.get("oneOf", node.get("anyOf", [])) if not _is_null(o)]
        if len(options) != 1:
            raise ValueError(f"cannot derive a feature from a union of {len(options)} non-null types")
        return _feature(schemas, options[0], resolver)
    if "enum" in node and all(isinstance(v, str) for v in node["enum"]):
        return ClassLabel(names=list(node["enum"]))
    if "const" in node:
        return Value("string")
    typ = node.get("type")
    if isinstance(typ, list):
        typ = [t for t in typ if t != "null"]
        if len(typ) != 1:
            raise ValueError(f"cannot derive a feature from type {node['type']}")
        typ = typ[0]
    if typ == "string":
        return Value("string")
    if typ == "integer":
        return Value(node.get("x-arrow", "int64"))
    if typ == "number":
        return Value("float64")
    if typ == "boolean":
        return Value("bool")
    if typ == "array":
        return List(_feature(schemas, node["items"], resolver))
    if typ == "object":
        return {k: _feature(schemas, v, resolver) for k, v in node["properties"].items()}
    raise ValueError(f"no feature for schema node {node!r}")


def features_for(schemas: Schemas, config: str = "documents") -> Features:
    """The ``datasets.Features`` of release config ``config``, from its row schema."""
    schema = schemas[CONFIGS[config]]
    resolver = schemas.registry.resolver(schema["$id"])
    return Features({k: _feature(schemas, v, resolver) for k, v in schema["properties"].items()})


def arrow_schema(features: Features) -> pa.Schema:
    """The Arrow schema of ``features``, with the features in its ``huggingface`` metadata, so
    ``load_dataset`` restores ClassLabel names from the parquet files alone."""
    return features.arrow_schema


def _walk(feature: Any, leaf: Callable[[ClassLabel], Callable[[Any], Any]]) -> Callable[[Any], Any] | None:
    if isinstance(feature, ClassLabel):
        return leaf(feature)
    if isinstance(feature, dict):
        subs = {k: _walk(v, leaf) for k, v in feature.items()}
        subs = {k: f for k, f in subs.items() if f is not None}
        if not subs:
            return None

        def obj(value: Any) -> Any:
            if value is None:
                return None
            out = dict(value)
            for k, f in subs.items():
                if k in out:
                    out[k] = f(out[k])
            return out
        return obj
    if isinstance(feature, List):
        inner = _walk(feature.feature, leaf)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(v) for v in value]
    return None


def make_encoder(features: Features) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function mapping a row with label names to a row with ClassLabel ids (dict lookups).

    Raises (when called):
        KeyError: a label is not in its ClassLabel's names.
    """
    def leaf(cl: ClassLabel) -> Callable[[Any], Any]:
        ids = {n: i for i, n in enumerate(cl.names)}
        return lambda v: None if v is None else ids[v]
    fn = _walk(dict(features), leaf)
    return fn or (lambda row: row)


def make_decoder(features: Features, on_bad: Callable[[ClassLabel, Any], Any] | None = None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The inverse of :func:`make_encoder`: ids -> names. An id out of range is passed to
    ``on_bad(classlabel, value)`` whose result is used (default: raise ``ValueError``)."""
    def leaf(cl: ClassLabel) -> Callable[[Any], Any]:
        names = cl.names

        def dec(v: Any) -> Any:
            if v is None:
                return None
            if isinstance(v, int) and 0 <= v < len(names):
                return names[v]
            if on_bad is None:
                raise ValueError(f"ClassLabel id {v!r} out of range 0..{len(names) - 1}")
            return on_bad(cl, v)
        return dec
    fn = _walk(dict(features), leaf)
    return fn or (lambda row: row)


def bad_labels(feature: Any, value: Any, path: str = "$") -> list[tuple[str, Any, int]]:
    """Every ClassLabel id in ``value`` (a raw row, or part of one, of ``feature``) that is out of
    range: ``[(JSON path such as $.entities[3].type, the id, number of names), ...]``; ``[]`` when
    all fit. Used to name the field behind a failed :func:`make_decoder` call."""
    if isinstance(feature, Features):
        feature = dict(feature)
    if isinstance(feature, ClassLabel):
        ok = value is None or (isinstance(value, int) and 0 <= value < feature.num_classes)
        return [] if ok else [(path, value, feature.num_classes)]
    out: list[tuple[str, Any, int]] = []
    if isinstance(feature, dict) and isinstance(value, dict):
        for k, f in feature.items():
            out += bad_labels(f, value.get(k), f"{path}.{k}")
    elif isinstance(feature, List) and isinstance(value, list):
        for i, v in enumerate(value):
            out += bad_labels(feature.feature, v, f"{path}[{i}]")
    return out

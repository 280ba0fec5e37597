"""Level 2 of the gate for one row, shared by the ``documents`` rows (:mod:`khabar.gate.rows`) and
the training configs (:mod:`khabar.gate.training`): ClassLabel ids in range, and the decoded row
against its JSON Schema.

A decoder made with ``on_bad=raise_out_of_range`` (:func:`khabar.dataset.features.make_decoder`)
stops at the first id out of range by raising :class:`OutOfRange`; :func:`label_problems` then
finds every bad id with its field.

Public API: :class:`OutOfRange`, :func:`raise_out_of_range`, :func:`label_problems`,
:func:`schema_problems`.
"""

from __future__ import annotations

from typing import Any, Sequence

from datasets import ClassLabel, Features

from khabar.core.schema import SchemaProblem, Schemas
from khabar.dataset.features import bad_labels
from khabar.gate.problems import Problem

__all__ = ["OutOfRange", "raise_out_of_range", "label_problems", "schema_problems"]


class OutOfRange(Exception):
    """A ClassLabel id outside its label list met while decoding a row (caught by the gate)."""


def raise_out_of_range(cl: ClassLabel, value: Any) -> Any:
    """The ``on_bad`` hook of :func:`khabar.dataset.features.make_decoder` for the gate.

    Raises:
        OutOfRange: always.
    """
    raise OutOfRange


def label_problems(path: str, features: Features, row: dict[str, Any], doc_id: str | None) -> list[Problem]:
    """``classlabel-out-of-range`` problems of a raw parquet row (one per bad id, with its field).

    Args:
        path: the shard, relative to the release folder.
        features: the config's features (the label lists).
        row: the row as stored (labels as ids).
    """
    return [Problem("classlabel-out-of-range", path, f"ClassLabel id {value} out of range 0..{n - 1}", doc_id, field)
            for field, value, n in bad_labels(features, row)]


def schema_problems(schemas: Schemas, schema_name: str, path: str, found: Sequence[SchemaProblem],
                    doc_id: str | None) -> list[Problem]:
    """The gate's problems for the JSON Schema problems ``found`` in a decoded row of ``path``.

    An ``enum`` problem at a label field of ``schema_name`` (:meth:`Schemas.label_fields`, derived
    from the schema) is ``label-unknown``; any other is ``schema-invalid``. ``field`` is the JSON path.
    """
    if not found:
        return []
    labels = schemas.label_fields(schema_name)
    return [Problem("label-unknown" if p.validator == "enum" and p.path.endswith(labels) else "schema-invalid",
                    path, p.message, doc_id, p.path) for p in found]

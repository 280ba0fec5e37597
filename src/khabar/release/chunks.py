"""The rows of a release, made a run of documents at a time, on every core.

The corpus ids (sorted) are cut into runs of :data:`CHUNK_DOCS` documents. For each run,
:class:`RowMaker` checks every document and its gold annotation
(:func:`khabar.release.plan.check_document`), makes its ``documents`` row and training rows
(:class:`khabar.dataset.training_tables.TrainingTables`), encodes them (ClassLabel ids) and returns them as one
Arrow table per config and split, with the run's :class:`~khabar.release.tally.Tally`, its
``reports/index.jsonl`` lines and its problems (:class:`RunRows`). :func:`iter_runs` hands the runs
to worker processes (:func:`khabar.core.parallel.ordered_map`) and yields their results in id
order, so what is written does not depend on the number of workers: the same rows, row groups
and bytes with 1 or N.

The datatrove pipeline (:mod:`khabar.release.pipeline`) calls the same :class:`RowMaker`, one
contiguous range of runs per task.

Public API: :class:`RowMaker`, :class:`RunRows`, :func:`iter_runs`, :func:`cut_runs`, :data:`CHUNK_DOCS`; re-exported:
:func:`~khabar.core.parallel.default_workers`.
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import pyarrow as pa

from khabar.core.parallel import default_workers, ordered_map
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.dataset.features import arrow_schema, features_for, make_encoder
from khabar.dataset.rows import document_row, split_for
from khabar.dataset.training import Spec
from khabar.dataset.training_tables import TrainingTables
from khabar.release.plan import check_document, index_entry
from khabar.release.tally import Tally

__all__ = ["RowMaker", "RunRows", "iter_runs", "cut_runs", "default_workers", "CHUNK_DOCS"]

#: documents per run handed to a worker (a run's rows are held in memory once, as Arrow tables)
CHUNK_DOCS = 256


@dataclass
class RunRows:
    """What one run of documents gives.

    Attributes:
        tables: ``{(config, split): pyarrow.Table}`` of encoded rows (the config's Arrow schema), in id order.
        tally: the counts of the run's documents.
        index: the run's ``reports/index.jsonl`` lines (without newline), in id order.
        errors: one line per document or annotation that stops the build.
        documents: documents of the run read (checked or not).
    """

    tables: dict[tuple[str, str], pa.Table] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    index: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents: int = 0


class RowMaker:
    """Makes the rows of a run of documents (see the module docstring).

    Args:
        project: the project (its ``corpus/`` and ``annotations/`` are read).
        schemas: its schemas.

    Raises:
        InputError: from the constructor, a ``BioTag`` vocabulary out of step with ``EntityType``
            (:meth:`khabar.dataset.training.Spec.from_schemas`).
    """

    def __init__(self, project: Project, schemas: Schemas):
        self.project, self.schemas = project, schemas
        features = features_for(schemas, "documents")
        self.encode_doc = make_encoder(features)
        self.doc_arrow = arrow_schema(features)
        Spec.from_schemas(schemas)  # raises InputError here, not at the first document
        self.training: dict[str, TrainingTables] = {}  # per split, reused run after run

    def __call__(self, ids: Sequence[Any]) -> RunRows:
        """The rows of the documents numbered ``ids`` (sorted; :func:`khabar.release.plan.listed_ids`)."""
        out = RunRows(documents=len(ids))
        docs: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for value in ids:
            checked = check_document(self.project, self.schemas, value, out.errors)
            if checked is None:
                continue
            doc, gold = checked
            split = split_for(doc["id"])
            row = document_row(doc, gold)
            tables = self.training.get(split) or self.training.setdefault(split, TrainingTables(self.schemas))
            try:
                encoded = self.encode_doc(row)
                stats = tables.add(row)
            except KeyError as err:
                out.errors.append(f"{doc['id']}: label-unknown: {err} is not in the schema's vocabulary")
                continue
            docs[split].append(encoded)
            out.tally.add(doc, gold, row, stats)
            out.index.append(json.dumps(index_entry(doc, gold, encoded), ensure_ascii=False))
        for split, rows in docs.items():
            out.tables["documents", split] = pa.Table.from_pylist(rows, schema=self.doc_arrow)
            out.tables.update(((config, split), table) for config, table in self.training[split].take().items())
        return out


def cut_runs(ids: Sequence[Any], size: int | None = None) -> list[Sequence[Any]]:
    """``ids`` (sorted) cut into runs of ``size`` documents (default :data:`CHUNK_DOCS`; the last
    one shorter): the unit of work of the local build and of the datatrove pipeline's tasks."""
    size = size or CHUNK_DOCS
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _make_rows(maker: RowMaker, ids: Sequence[Any]) -> RunRows:
    return maker(ids)


def iter_runs(project: Project, schemas: Schemas, ids: Sequence[Any], workers: int = 1,
              chunk_docs: int | None = None) -> Iterator[RunRows]:
    """The :class:`RunRows` of ``ids`` cut into runs of ``chunk_docs`` (default :data:`CHUNK_DOCS`), in order,
    made on ``workers`` processes (:func:`khabar.core.parallel.ordered_map`: the output is the
    same with any number, and memory stays bounded).

    Raises:
        InputError: from :class:`RowMaker`; OSError: a read failed in a worker (re-raised here).
    """
    yield from ordered_map(RowMaker, (project, schemas), _make_rows, cut_runs(ids, chunk_docs), workers)

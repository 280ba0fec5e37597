"""``khabar export conll``: documents and their entities -> one CoNLL file (Wojood nested or AQMAR).

Sources (:mod:`khabar.formats.conll.sources`): a release's ``documents`` config (the default: the latest
release; or ``release`` by version or folder; rows not annotated are skipped), or the project's
``corpus/`` with ``annotations/<doc_id>/<annotator>.json`` (``corpus=True`` or an ``annotator``;
``gold`` by default; documents without that file are skipped and counted).

Layout and tags: :func:`document_lines`. Entities that cannot be written are never
dropped silently: deeper than ``depth``, clashing with an entity of their layer, covering no
token, or of a type the format has no class for (AQMAR: only PERS, ORG, LOC/GPE/FAC and the
inverted ``--map``) are counted per reason, with examples, in the :class:`ExportReport` (the CLI
prints them as warnings and exits 0), or refused with ``strict``.

The file is written to a temporary file next to ``out`` and renamed when complete (atomic);
an existing ``out`` is refused unless ``force``, and so is any ``out`` inside the project's
``releases/`` (:func:`khabar.core.project.inside_releases`: releases are immutable), and an export
with no document (nothing is written then).

Public API: :func:`export_conll` and its :class:`ExportReport` (:data:`REASONS`: why an entity
was not written); :func:`document_lines` and its :class:`DocLines` (the lines of one document).
"""

from __future__ import annotations

import bisect
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from khabar.text.bio import bio_layers
from khabar.formats.conll.reader import FORMATS, annotator_problem, export_classes
from khabar.formats.conll.sources import corpus_rows, release_rows
from khabar.core.errors import InputError
from khabar.core.project import GOLD, PREANNOTATOR, Project, inside_releases
from khabar.core.schema import Schemas
from khabar.text.tokens import tokenize

__all__ = ["export_conll", "ExportReport", "REASONS", "document_lines", "DocLines"]

#: why an entity was not written -> what the report says
REASONS = {"too_deep": "are deeper than --depth", "clash": "overlap an entity of their layer without nesting in it",
           "untokened": "cover no token", "unmapped": "have a type the format has no class for"}
_EXAMPLES = 5
#: annotation files the export reads besides annotators' (not conflicts.json, drafts, ...), by stem
_READABLE = frozenset(Path(name).stem for name in (GOLD, PREANNOTATOR))


@dataclass
class ExportReport:
    """What an export wrote: counts, entities left out per reason (``left_out`` counts and up to
    five ``examples`` each, ``doc_id id TYPE 'text'``), entities ``cut`` at a paragraph break,
    sentence breaks merged because an entity ran across them, documents ``skipped`` (no
    annotation)."""

    path: str
    source: str
    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    entities: int = 0
    left_out: dict[str, int] = field(default_factory=lambda: {k: 0 for k in REASONS})
    examples: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in REASONS})
    cut: int = 0
    merged_breaks: int = 0
    skipped: int = 0

    def note(self, reason: str, doc_id: str, ent: dict[str, Any]) -> None:
        self.left_out[reason] += 1
        if len(self.examples[reason]) < _EXAMPLES:
            self.examples[reason].append(f"{doc_id} {ent.get('id')} {ent['type']} {ent.get('text')!r}")

    def warnings(self) -> list[str]:
        """One line per reason with a non-zero count (for the CLI's stderr)."""
        out = [f"{n} entit{'y' if n == 1 else 'ies'} not written: they {REASONS[r]} (e.g. {'; '.join(self.examples[r])})"
               for r, n in self.left_out.items() if n]
        if self.cut:
            out.append(f"{self.cut} entit{'y' if self.cut == 1 else 'ies'} cross a paragraph break: written as one entity per paragraph")
        return out


@dataclass
class DocLines:
    """Result of :func:`document_lines`: the ``lines`` (no line ends; ``""`` between sentences),
    counts, and the entities not written (indexes into the input list): ``too_deep``,
    ``clashes``, ``untokened`` (see :class:`khabar.text.bio.Layers`); ``cut`` lists entities that cross
    a paragraph break (written as two entities, one per paragraph); ``merged_breaks`` counts
    sentence breaks not written because an entity runs across them."""

    lines: list[str]
    sentences: int = 0
    tokens: int = 0
    too_deep: list[int] = field(default_factory=list)
    clashes: list[int] = field(default_factory=list)
    untokened: list[int] = field(default_factory=list)
    cut: list[int] = field(default_factory=list)
    merged_breaks: int = 0


def document_lines(text: str, paragraphs: Sequence[dict[str, int]], sentences: Sequence[dict[str, int]],
                   entities: Sequence[dict[str, Any]], depth: int, paragraph_mark: str | None) -> DocLines:
    """The CoNLL lines of one document.

    Tokens come from :func:`khabar.text.tokens.tokenize` over each paragraph (so every token of the
    text is written, including one the sentence splitter left outside every sentence), tags from
    :func:`khabar.text.bio.bio_layers` over the whole document with ``depth`` layers, each line
    ``token TAG [TAG ...]`` with the non-``O`` tags outermost first (``O`` alone when none).
    A blank line goes before each sentence start (``sentences``, code-point ranges), unless an
    entity runs across it; after a paragraph's last token comes ``paragraph_mark O`` (when the
    format has one) and a blank line.

    Args:
        entities: dicts with ``start``, ``end`` (code points, half-open) and ``type`` already in
            the output format's classes; of equal spans the outer one first.
    """
    tokens: list[tuple[int, int]] = []
    para_first: list[int] = []
    for p in paragraphs:
        para_first.append(len(tokens))
        tokens += tokenize(text, p["start"], p["end"])
    layers = bio_layers(tokens, entities, depth)
    out = DocLines([], too_deep=layers.too_deep, clashes=layers.clashes, untokened=layers.untokened)
    bounds = [(p["start"], p["end"]) for p in paragraphs]
    for i, e in enumerate(entities):
        if sum(1 for a, b in bounds if a < e["end"] and e["start"] < b) > 1 and i not in layers.too_deep + layers.clashes:
            out.cut.append(i)
    starts = [t[0] for t in tokens]
    breaks = {bisect.bisect_left(starts, s["start"]) for s in sentences}
    para_starts = set(para_first)
    stops = set(para_first[1:]) | {len(tokens)}
    for k, (a, b) in enumerate(tokens):
        tags = [layer[k] for layer in layers.tags if layer[k] != "O"]
        if k in para_starts:
            tags = ["B-" + t[2:] if t.startswith("I-") else t for t in tags]
            out.sentences += 1
        elif k in breaks:
            if any(t.startswith("I-") for t in tags):
                out.merged_breaks += 1
            else:
                out.lines.append("")
                out.sentences += 1
        out.lines.append(f"{text[a:b]} {' '.join(tags or ['O'])}")
        if k + 1 in stops:
            if paragraph_mark is not None:
                out.lines.append(f"{paragraph_mark} O")
            out.lines.append("")
    out.tokens = len(tokens)
    return out


def export_conll(project: Project, out: str | os.PathLike[str], *, release: str | None = None, split: str | None = None,
                 corpus: bool = False, annotator: str | None = None, docs: list[str] | None = None, fmt: str = "wojood",
                 depth: int | None = None, mapping: dict[str, str] | None = None, force: bool = False,
                 strict: bool = False, progress: bool = True, schemas: Schemas | None = None) -> ExportReport:
    """Write the documents of a release (default) or of the corpus as one CoNLL file ``out``.

    Args:
        release, split: the release (version or folder; default the latest) and split (default all).
        corpus, annotator, docs: export ``corpus/`` with ``<annotator>.json`` (default ``gold``)
            instead, optionally only documents ``docs`` in that order.
        fmt: ``wojood`` (nested, ``depth`` 1..3 tags per token, default 3) or ``aqmar`` (one tag).
        mapping: the ``{class: Wojood type}`` used at import (``{"MIS1": "EVENT"}``), inverted.
        force: replace an existing ``out``. strict: refuse when any entity cannot be written.

    Returns:
        An :class:`ExportReport`.

    Raises:
        InputError: bad arguments (an ``annotator`` that is no annotator id or a reserved name
            other than ``gold`` and ``preannotator``, a ``docs`` id that is no DocId); ``out``
            exists, or is inside the project's ``releases/``; no release; an unreadable release
            (a ClassLabel id out of range names the file, row, document and field); no corpus
            document with the annotator's file; a stale/invalid annotation file; no document to
            export; with ``strict``, entities that cannot be written. ``out`` is then left as it was.
    """
    schemas = schemas or Schemas(project.schema)
    out, depth, classes = _checked_arguments(project, schemas, Path(out), fmt=fmt, depth=depth, release=release, split=split,
                                             corpus=corpus, annotator=annotator, docs=docs, mapping=mapping, force=force)
    skipped = 0
    if corpus or annotator or docs:
        source, rows, skipped = corpus_rows(project, schemas, annotator or "gold", docs, progress)
    else:
        source, rows = release_rows(project, release, split, progress)
    report = ExportReport(str(out), source, skipped=skipped)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                lines = _row_lines(row, classes, depth, FORMATS[fmt].paragraph_mark, report)
                if lines is not None:
                    fh.write("\n".join(lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if not report.documents:
            raise InputError(f"{out}: not written: no annotated document in {source}")
        if strict and any(report.left_out.values()):
            raise InputError(f"{out}: not written: " + "; ".join(report.warnings()), hint="raise --depth, or drop --strict to write the rest")
        if out.exists() and not force:
            raise InputError(f"{out}: exists", hint="pass --force to replace it")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report


def _checked_arguments(project: Project, schemas: Schemas, out: Path, *, fmt: str, depth: int | None, release: str | None,
                       split: str | None, corpus: bool, annotator: str | None, docs: list[str] | None,
                       mapping: dict[str, str] | None, force: bool) -> tuple[Path, int, dict[str, str]]:
    """``(out, depth, classes)`` once the arguments of :func:`export_conll` are checked: ``depth``
    defaults to the format's most tags per token (3 for the nested format); ``classes`` is
    :func:`khabar.formats.conll.reader.export_classes` with ``mapping``.

    Raises:
        InputError: an unknown format; a ``depth`` the format does not take; a release and the
            corpus asked for at once; a bad ``annotator`` or ``docs`` id; a bad ``mapping``; ``out`` inside
            ``releases/``, a folder, or existing without ``force``.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", hint="formats: " + ", ".join(FORMATS))
    spec = FORMATS[fmt]
    depth = depth or (spec.max_tags or 3)
    if not 1 <= depth <= (spec.max_tags or 3):
        raise InputError(f"--depth {depth}: the {fmt} format takes 1 to {spec.max_tags or 3} tags per token")
    if (corpus or annotator or docs) and (release or split):
        raise InputError("export either a release (--release, --split) or the corpus (--corpus, --annotator, --doc)")
    if annotator is not None and (bad := annotator_problem(annotator, schemas, _READABLE)):
        raise InputError(bad, hint="the annotator ids are the names of annotations/<doc_id>/*.json, e.g. gold")
    for d in docs or []:
        if not re.fullmatch(schemas["common"]["$defs"]["DocId"]["pattern"], d):
            raise InputError(f"--doc {d!r}: not a document id (kb- and 16 lower-case hex digits)",
                             hint="document ids are the names of corpus/*.json, e.g. kb-1415eb2e8d27dc16")
    classes = export_classes(fmt, schemas, mapping)
    if inside_releases(project, out):
        raise InputError(f"{out}: inside the project's releases folder {project.releases}: releases are immutable "
                         "(a file added to a release breaks its checksums)", hint="write the export elsewhere, e.g. -o export.conll.txt")
    if out.is_dir():
        raise InputError(f"{out}: is a folder", hint="give a file name, e.g. -o export.conll.txt")
    if out.exists() and not force:
        raise InputError(f"{out}: exists", hint="pass --force to replace it")
    return out, depth, classes


def _row_lines(row: dict[str, Any], classes: dict[str, str], depth: int, paragraph_mark: str | None,
               report: ExportReport) -> list[str] | None:
    """The CoNLL lines of one source row (:func:`document_lines` over its entities mapped to the
    format's ``classes``), with what was written and what was left out counted in ``report``;
    None (counted as skipped) for a row not annotated."""
    if not row["annotation"]["annotated"]:
        report.skipped += 1
        return None
    kept = []
    for e in row["entities"]:
        if e["type"] in classes:
            kept.append(e)
        else:
            report.note("unmapped", row["id"], e)
    mapped = [{"start": e["start"], "end": e["end"], "type": classes[e["type"]]} for e in kept]
    res = document_lines(row["text"], row["paragraphs"], row["sentences"], mapped, depth, paragraph_mark)
    for reason, idx in (("too_deep", res.too_deep), ("clash", res.clashes), ("untokened", res.untokened)):
        for i in idx:
            report.note(reason, row["id"], kept[i])
    report.documents += 1
    report.sentences += res.sentences
    report.tokens += res.tokens
    report.entities += len(kept) - len(res.too_deep) - len(res.clashes) - len(res.untokened)
    report.cut += len(res.cut)
    report.merged_breaks += res.merged_breaks
    return res.lines

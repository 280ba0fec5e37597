"""``khabar import conll``: a CoNLL NER file -> a corpus document and an annotation file.

With ``doc_id``, the file's tokens are aligned to that corpus document. Without it, the tokens
become a seed (``seeds/<file stem>.txt``: tokens joined by single spaces, one paragraph per line;
with ``per="paragraph"`` one seed ``<file stem>-pNNN.txt`` per paragraph, NNN its 1-based number
in the file), :func:`khabar.ingest.run.ingest` makes the document, and the tokens are aligned to it.

Alignment: tokens in order, white space between them skipped (tokens may also abut: ``بغداد``
``؛``), each compared after the normalisation ingest applies (:func:`khabar.ingest.normalize.normalize`:
NFC, bidi/format controls such as U+200F removed). A token made only of such controls (AQMAR has
``\\u200f O`` lines) has no text of record: it is listed in the report and tags nothing. The
document must hold nothing but the tokens (and white space).

Entities go to ``annotations/<doc_id>/<annotator>.json`` (or ``gold.json`` with ``gold``, whose
``origin.sources`` names the annotator), ids ``e1``, ``e2`` … in file order (of equal spans the
outer one, whose tag comes first, first), ``origin.kind`` ``import``. An annotator missing from
``annotations/annotators.json`` is added (``kind`` human; an existing entry is never changed).

All or nothing: every check (file, seeds, documents, alignment, annotation schema) runs before
anything is written; if ingest or a later write fails, what this import added to ``seeds/``,
``corpus/``, the seeds manifest and ``annotations/`` is removed and replaced files are restored.
(Ingest also ingests other new seeds waiting in ``seeds/``, as ``khabar ingest`` would.)

Re-import of the same file is idempotent: a seed with the same bytes is not written again (ingest
is skipped when its document exists), an identical annotation file (``origin.tool`` aside, which
names the file: the same content under another file name) is left untouched and reported
unchanged. A seed name taken by other content, or an annotation file with other content, is
refused, with a hint (``force`` replaces the annotation file).

Claims and stances of a replaced file: CoNLL carries entities only, so a replaced annotation
file's claims and stances are kept, their entity ids rewritten, when every entity they refer to
is imported with the same span and type (:func:`khabar.formats.conll.seeds.keep_claims`); when any would
be lost, the import is refused, even with ``force``, saying how many and which.

File names come from :class:`khabar.core.project.Project` (``gold``, ``annotator_file``,
``annotators_registry``, ``corpus_file``). Phases: check the arguments, read the file, choose the
units (documents to be), resolve their seeds, align and plan each annotation file, then commit.

Public API: :func:`import_conll`, :class:`ImportReport`, :func:`align_tokens`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from khabar import __version__
from khabar.core.checks import check_row
from khabar.formats.conll.reader import FORMATS, ConllFile, annotator_problem, import_classes, read_conll, refusal
from khabar.formats.conll.seeds import Unit, commit, keep_claims, resolve_seeds
from khabar.core.errors import InputError
from khabar.ingest.run import IngestReport
from khabar.core.jsonio import dumps_canonical, load_json
from khabar.ingest.normalize import normalize
from khabar.core.project import GOLD, Project
from khabar.core.schema import Schemas

__all__ = ["import_conll", "ImportReport", "align_tokens"]


@dataclass
class ImportReport:
    """What an import did. ``documents``: doc ids in file order; ``written`` / ``unchanged``:
    annotation file paths; ``seeds_added``: seed file names; ``skipped``: paragraphs left out
    (``lines A-B: reason``); ``empty_paragraphs``: lines of paragraph marks that closed no token;
    ``invisible_tokens``: lines of tokens with no text of record; ``annotator_added``: the id added
    to the registry, if any; ``ingest``: the ingest report when ingest ran."""

    documents: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    seeds_added: list[str] = field(default_factory=list)
    repairs: int = 0  # tags repaired (--repair)
    repairs_file: str | None = None  # where their report went
    entities: int = 0
    skipped: list[str] = field(default_factory=list)
    empty_paragraphs: list[int] = field(default_factory=list)
    invisible_tokens: list[int] = field(default_factory=list)
    annotator_added: str | None = None
    ingest: IngestReport | None = None


def align_tokens(tokens: list[str], text: str, lines: list[int], name: str, doc_id: str) -> list[tuple[int, int]]:
    """Offsets ``[(start, end)]`` (code points, half-open) of already normalised ``tokens`` in
    ``text``, in order, skipping white space; an empty token gets an empty range where it stands.

    Raises:
        InputError: a token that does not match the text (names the file, its line, the token,
            the document and the text there), or text left over after the last token.
    """
    out: list[tuple[int, int]] = []
    p = 0
    for tok, line in zip(tokens, lines):
        while p < len(text) and text[p].isspace():
            p += 1
        if tok and text[p:p + len(tok)] != tok:
            raise InputError(f"{name}: line {line}: token {tok!r} does not match document {doc_id} at offset {p}: "
                             f"the text there is {text[p:p + len(tok) + 10]!r}" + (f" (after {text[max(0, p - 30):p]!r})" if p else ""),
                             hint="the tokens must be the document's text in order (white space aside)")
        out.append((p, p + len(tok)))
        p += len(tok)
    rest = text[p:].lstrip()
    if rest:
        raise InputError(f"{name}: the file ends (line {lines[-1]}) but document {doc_id} goes on at offset "
                         f"{len(text) - len(rest)}: {rest[:40]!r}", hint="import a file that covers the whole document")
    return out


def _annotation(unit: Unit, conll: ConllFile, offs: list[tuple[int, int]], label: str, gold: bool, tool: str,
                problems: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    doc = unit.doc
    assert doc is not None
    ents: list[dict[str, Any]] = []
    base = 0
    for para in unit.paragraphs:
        for first, stop, typ, line in para.entities:
            seen = [offs[base + i] for i in range(first, stop) if offs[base + i][0] < offs[base + i][1]]
            if not seen:
                problems.append(f"{conll.name}: line {line}: the {typ} entity has no visible character (its tokens are "
                                "only bidi/format controls, removed from the text of record)")
                continue
            s, e = seen[0][0], seen[-1][1]
            ents.append({"id": f"e{len(ents) + 1}", "start": s, "end": e, "text": doc["text"][s:e], "type": typ, "_line": line})
        base += len(para.tokens)
    lines = {e["id"]: e.pop("_line") for e in ents}
    origin: dict[str, Any] = {"kind": "import", "tool": tool[:200], "version": __version__}
    if gold:
        origin["sources"] = [label]
    ann = {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": "gold" if gold else label,
           "guidelines_version": None, "origin": origin, "entities": ents, "claims": [], "stances": []}
    return ann, lines


def _checked(ann: dict[str, Any], lines: dict[str, int], text: str, name: str, schemas: Schemas, problems: list[str]) -> bool:
    """Check ``ann`` against the annotation schema and the span/reference checks; problems name
    the file's line of an entity."""
    bad = [f"{name}: annotation of {ann['doc_id']}: {p.path[2:]}: {p.message}" for p in schemas.problems("annotation", ann)]
    for check, path, msg in check_row(ann, text=text):
        m = re.match(r"\$\.entities\[(\d+)\]", path)
        where = f"line {lines[ann['entities'][int(m.group(1))]['id']]}" if m else path
        bad.append(f"{name}: {where}: {check}: {msg}")
    problems.extend(bad)
    return not bad


def _without_tool(ann: Any) -> Any:
    return {**ann, "origin": {**ann["origin"], "tool": None}} if isinstance(ann, dict) and isinstance(ann.get("origin"), dict) else ann


def import_conll(project: Project, path: str | os.PathLike[str], fmt: str = "wojood", *, annotator: str | None = None,
                 doc_id: str | None = None, mapping: dict[str, str] | None = None, per: str = "file", gold: bool = False,
                 skip_unfit: bool = False, force: bool = False, repair: bool = False, progress: bool = True,
                 schemas: Schemas | None = None) -> ImportReport:
    """Import CoNLL file ``path`` of format ``fmt`` (``wojood`` or ``aqmar``) into ``project``.

    Args:
        annotator: the annotator id (default ``wojood`` / ``aqmar``); not a reserved name
            (:func:`khabar.formats.conll.reader.annotator_problem`: ``gold`` — use ``gold`` —, ``preannotator``,
            ``conflicts``, ``annotators``, ``*.draft``).
        doc_id: align to this corpus document (a DocId, ``kb-`` + 16 lower-case hex digits)
            instead of making one.
        mapping: ``{file class: Wojood type}`` on top of the crosswalk (``{"MIS1": "EVENT"}``).
        per: ``file`` (one document) or ``paragraph`` (one per paragraph; not with ``doc_id``).
        gold: write ``gold.json`` (``origin.sources`` = the annotator) instead of ``<annotator>.json``.
        skip_unfit: leave out paragraphs that cannot be corpus documents (not Arabic, fewer than
            three words, the same text as another), listing them, instead of refusing.
        force: replace an existing annotation file with other content (its claims and stances are
            kept when their entities are imported; when any would be lost it is refused all the same).
        repair: apply the stated tag repairs of :mod:`khabar.formats.conll.repair` and write their
            report, ``seeds/<file stem>.repairs.json`` (rules, then one entry per repaired tag), with
            the rest of the import; without it such a file is refused.

    Raises:
        InputError: bad arguments (a reserved or malformed annotator id, a ``doc_id`` that is not
            a DocId); the file's problems (see :func:`khabar.formats.conll.reader.read_conll`); unfit documents;
            a token that does not align; a seed name taken by other content; an annotation file
            that exists with other content (without ``force``), or whose claims or stances would
            be lost; ingest's problems. Nothing is written then (or what was written is undone).
    """
    schemas = schemas or Schemas(project.schema)
    label = _checked_arguments(schemas, fmt, annotator, doc_id, per)
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    conll = read_conll(data, path.name, fmt, import_classes(fmt, schemas, mapping), repair=repair)
    run = _Run(project, schemas, conll, label, gold, force,
               ImportReport(empty_paragraphs=[p.mark_line for p in conll.paragraphs if not p.sentences and p.mark_line]))
    units = _units(project, conll, path.name, doc_id, per)
    if not doc_id:
        units = _fit_units(run, units, skip_unfit)
    tool = (f"khabar import conll --format {fmt}" + "".join(f" --map {k}={v}" for k, v in (mapping or {}).items())
            + (" --repair" if conll.repairs else "") + f" {conll.name}")
    planned: list[tuple[Path, bytes]] = []
    for u in tqdm(units, desc="align", unit="doc", disable=not progress or len(units) < 2):
        if u.doc is None:
            continue
        made = _unit_annotation(run, u, tool + (f" {u.lines}" if u.number else ""))
        target = project.gold(u.doc["id"]) if gold else project.annotator_file(u.doc["id"], label)
        payload = _plan_file(run, target, *made, u.doc["text"]) if made is not None else None
        if payload is not None:
            planned.append((target, payload))
    registry = _registry(project, schemas, label, fmt, conll.name, run.problems)
    if run.problems:
        raise refusal(conll.name, run.problems, run.hints[0] if run.hints else None)
    report = run.report
    written = [str(t) for t, _ in planned]
    if conll.repairs:
        from khabar.formats.conll.repair import RULES

        report.repairs = len(conll.repairs)
        report.repairs_file = str(project.seeds / f"{path.stem}.repairs.json")
        planned.append((Path(report.repairs_file), (json.dumps(
            {"file": conll.name, "format": fmt, "rules": RULES, "repairs": [r.as_dict() for r in conll.repairs]},
            ensure_ascii=False, indent=1) + "\n").encode("utf-8")))
    report.seeds_added, report.ingest = commit(project, units, planned, registry, progress)
    report.written = written
    report.annotator_added = label if registry is not None else None
    return report


@dataclass
class _Run:
    """One import's settings and what it has found so far: its ``report``, the ``problems``
    that refuse it (one line each) and the ``hints`` for them (the first is shown)."""

    project: Project
    schemas: Schemas
    conll: ConllFile
    label: str
    gold: bool
    force: bool
    report: ImportReport
    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def refuse(self, problem: str, hint: str | None = None) -> None:
        """Note a problem (and its hint, if any)."""
        self.problems.append(problem)
        if hint:
            self.hints.append(hint)


def _checked_arguments(schemas: Schemas, fmt: str, annotator: str | None, doc_id: str | None, per: str) -> str:
    """The annotator id the import writes as (``annotator`` or the format's default).

    Raises:
        InputError: an unknown format or ``per``; ``doc_id`` with ``per="paragraph"``; a reserved
            or malformed annotator id; a ``doc_id`` that is not a DocId.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", hint="formats: " + ", ".join(FORMATS))
    if per not in ("file", "paragraph"):
        raise InputError(f"--per {per!r}: expected file or paragraph")
    if doc_id and per == "paragraph":
        raise InputError("--doc aligns the whole file to one document; --per paragraph makes one document per paragraph",
                         hint="leave out one of them")
    label = annotator or FORMATS[fmt].default_annotator
    bad = annotator_problem(label, schemas)
    if bad:
        raise InputError(bad, hint=f"use --gold to write {GOLD}" if label == "gold" else
                         f"name who made the file, e.g. --annotator {FORMATS[fmt].default_annotator}")
    if doc_id is not None and not re.fullmatch(schemas["common"]["$defs"]["DocId"]["pattern"], doc_id):
        raise InputError(f"--doc {doc_id!r}: not a document id (kb- and 16 lower-case hex digits)",
                         hint="document ids are the names of corpus/*.json, e.g. kb-1415eb2e8d27dc16")
    return label


def _units(project: Project, conll: ConllFile, file_name: str, doc_id: str | None, per: str) -> list[Unit]:
    """What becomes a document: the whole file aligned to ``doc_id``; or the file (``per="file"``,
    seed ``<stem>.txt``) or each paragraph with a token (seed ``<stem>-pNNN.txt``) as a new seed.

    Raises:
        InputError: ``doc_id`` is not a corpus document.
    """
    paras = [(k, p) for k, p in enumerate(conll.paragraphs, 1) if p.sentences]
    base = file_name[:-4] if file_name.endswith(".txt") else file_name
    if doc_id:
        return [Unit([p for _, p in paras], doc=_corpus_doc(project, doc_id))]
    if per == "file":
        return [Unit([p for _, p in paras], seed=f"{base}.txt")]
    width = max(3, len(str(len(conll.paragraphs))))
    return [Unit([p], number=k, seed=f"{base}-p{k:0{width}d}.txt") for k, p in paras]


def _fit_units(run: _Run, units: list[Unit], skip_unfit: bool) -> list[Unit]:
    """The units that can be corpus documents (:func:`khabar.formats.conll.seeds.resolve_seeds`
    fills their seeds and documents); an unfit one is listed in ``report.skipped`` with
    ``skip_unfit``, else refused.

    Raises:
        InputError: every unit was unfit and skipped: nothing is left to import.
    """
    unfit = resolve_seeds(run.project, run.schemas, units, run.problems, run.hints)
    for u, reason in unfit:
        what = f"{run.conll.name}: {u.lines}" + (f" (paragraph {u.number})" if u.number else "")
        if skip_unfit:
            run.report.skipped.append(f"{u.lines}: {reason}")
        else:
            run.refuse(f"{what}: cannot be a corpus document: {reason}",
                       "fix the file, or pass --skip-unfit to leave such paragraphs out (they are listed)")
    units = [u for u in units if all(u is not x for x, _ in unfit)]
    if not units and not run.problems:
        raise InputError(f"{run.conll.name}: nothing left to import (every paragraph was unfit and skipped)")
    return units


def _unit_annotation(run: _Run, u: Unit, tool: str) -> tuple[dict[str, Any], dict[str, int]] | None:
    """Align the unit's tokens (normalised as ingest does) to its document and make its
    annotation and the file line of each entity (:func:`_annotation`); None, the reason refused,
    when a token does not align. Tokens with no text of record go to ``report.invisible_tokens``."""
    assert u.doc is not None
    toks = [t for p in u.paragraphs for t in p.tokens]
    norm = [normalize(t.text)[0] for t in toks]
    run.report.invisible_tokens += [t.line for t, n in zip(toks, norm) if not n]
    try:
        offs = align_tokens(norm, u.doc["text"], [t.line for t in toks], run.conll.name, u.doc["id"])
    except InputError as err:
        run.refuse(str(err), err.hint)
        return None
    return _annotation(u, run.conll, offs, run.label, run.gold, tool, run.problems)


def _plan_file(run: _Run, target: Path, ann: dict[str, Any], lines: dict[str, int], text: str) -> bytes | None:
    """Decide what becomes of annotation file ``target``: the bytes to write, or None when it is
    left as it is (the same content: reported unchanged) or refused (claims or stances of the
    file it replaces would be lost; invalid; other content without ``force``)."""
    old_bytes = target.read_bytes() if target.exists() else None
    try:
        old = json.loads(old_bytes) if old_bytes is not None else None
    except ValueError:
        old = None
    ann, lost = keep_claims(old, ann)
    if lost:
        run.refuse(f"{target}: not replaced, even with --force: it {lost}",
                   "import under another --annotator and reconcile by hand, or remove those claims and stances from the file first")
        return None
    if not _checked(ann, lines, text, run.conll.name, run.schemas, run.problems):
        return None
    payload = dumps_canonical(ann).encode("utf-8")
    run.report.documents.append(ann["doc_id"])
    run.report.entities += len(ann["entities"])
    if old_bytes == payload or (old is not None and _without_tool(old) == _without_tool(ann)):
        run.report.unchanged.append(str(target))
        return None
    if old_bytes is not None and not run.force:
        origin = old.get("origin") if isinstance(old, dict) else None
        was = origin.get("tool") if isinstance(origin, dict) and origin.get("kind") == "import" else None
        run.refuse(f"{target}: exists with other content (" + (f"imported by `{was}`" if was else "another annotation") + ")",
                   "pass --force to replace it" + ("" if run.gold else ", or --annotator NAME to import the file next to it"))
        return None
    return payload


def _corpus_doc(project: Project, doc_id: str) -> dict[str, Any]:
    path = project.corpus_file(doc_id)
    if not path.is_file():
        raise InputError(f"--doc {doc_id}: no such corpus document ({path})", hint="document ids are the names of corpus/*.json")
    return load_json(path)


def _registry(project: Project, schemas: Schemas, label: str, fmt: str, file: str,
              problems: list[str]) -> dict[str, Any] | None:
    """The registry with an entry for ``label`` added (None when it has one already)."""
    path = project.annotators_registry
    registry = load_json(path) if path.is_file() else {}
    if isinstance(registry, dict) and label in registry:
        return None
    spec = FORMATS[fmt]
    who = (f"Human annotators of {spec.source}" if label == spec.default_annotator
           else f"The annotators of a {fmt}-format CoNLL file (who they were is not recorded)")
    entry = {"kind": "human", "reviewed_by_human": False,
             "description": f"{who}; entities imported from {file.replace('@', '')} with `khabar import conll --format {fmt}`, "
                            "not reviewed by a Khabar annotator."}
    new = {**registry, label: entry} if isinstance(registry, dict) else registry
    problems.extend(f"{path}: {p.path[2:] or '$'}: {p.message}" for p in schemas.problems("annotators", new))
    return new

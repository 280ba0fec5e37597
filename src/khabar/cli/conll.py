"""``khabar import conll`` and ``khabar export conll`` (thin over :mod:`khabar.formats.conll.importer` and
:mod:`khabar.formats.conll.exporter`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import FullHelpGroup

from khabar.cli.common import QuietOpt, RootOpt, fail as _fail, project_at as _project
from khabar.core.errors import KhabarError

__all__ = ["import_app", "export_app"]

import_app = typer.Typer(cls=FullHelpGroup, help="Bring annotations made elsewhere into the project (documents, entities).",
                         no_args_is_help=True, rich_markup_mode=None)
export_app = typer.Typer(cls=FullHelpGroup, help="Write the corpus or a release in other tools' formats.", no_args_is_help=True, rich_markup_mode=None)

FormatOpt = typer.Option(..., "--format", metavar="wojood|aqmar",
                         help="wojood: `token TAG [TAG ...]`, nested tags outermost first, `$#$ O` closes a paragraph "
                              "(SinaLab/ArabicNER). aqmar: `token TAG`, classes PER LOC ORG MIS0-MIS3 (AQMAR).")
MapOpt = typer.Option([], "--map", metavar="CLASS=TYPE",
                      help="Map a file class to a Wojood type, e.g. --map MIS1=EVENT (AQMAR's MIS classes have none). Repeatable.")


@import_app.command("conll")
def import_conll(
    file: Path = typer.Argument(..., metavar="FILE", help="The CoNLL file (UTF-8)."),
    fmt: str = FormatOpt,
    annotator: Optional[str] = typer.Option(None, "--annotator",
                                            help="Annotator id of the file (default: wojood or aqmar); not gold (use --gold), "
                                                 "preannotator, conflicts, annotators or *.draft."),
    doc: Optional[str] = typer.Option(None, "--doc", metavar="DOC_ID",
                                      help="Align the tokens to this corpus document (kb-<16 hex digits>) instead of making a seed "
                                           "and ingesting it."),
    mapping: list[str] = MapOpt,
    per: str = typer.Option("file", "--per", metavar="file|paragraph",
                            help="One document for the file, or one per paragraph (Wojood `$#$` marks; for samples of unrelated paragraphs)."),
    gold: bool = typer.Option(False, "--gold", help="Write gold.json (origin.sources = the annotator) instead of <annotator>.json."),
    skip_unfit: bool = typer.Option(False, "--skip-unfit",
                                    help="Leave out (and list) paragraphs that cannot be documents: not Arabic, under 3 words, repeated."),
    force: bool = typer.Option(False, "--force",
                               help="Replace an annotation file that exists with other content. CoNLL carries entities only: the "
                                    "file's claims and stances are kept when every entity they refer to is imported with the same "
                                    "span and type; if any would be lost, the import is refused even with --force."),
    repair: bool = typer.Option(False, "--repair",
                                help="Repair malformed tags by stated rules instead of refusing: OO/0 -> O, I--X or I_X -> I-X, "
                                     "B-/I- without a class -> O, an I-X that continues nothing -> B-X (as conlleval reads it); "
                                     "every repair is listed in seeds/<file stem>.repairs.json."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Import a CoNLL NER file: its tokens become a seed and a corpus document (or align to --doc),
    its entities annotations/<doc_id>/<annotator>.json.

    Every line is checked (malformed tags, unknown classes, I- that continues nothing); on any
    problem nothing is written. Tokens are compared after ingest's normalisation (NFC, no bidi
    controls). Re-importing the same file (or the same content under another name) changes nothing.
    Claims and stances of a replaced annotation file are kept, or the import is refused (see --force).
    """
    from khabar.formats.conll.reader import parse_map
    from khabar.formats.conll.importer import import_conll as run

    try:
        r = run(_project(root), file, fmt, annotator=annotator, doc_id=doc, mapping=parse_map(mapping), per=per, gold=gold,
                skip_unfit=skip_unfit, force=force, repair=repair, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"{file.name}: {r.entities} entities in {len(r.documents)} document(s): {len(r.written)} annotation file(s) "
               f"written, {len(r.unchanged)} unchanged")
    if r.repairs:
        typer.echo(f"repaired {r.repairs} tag(s) by the stated rules; report: {r.repairs_file}")
    if r.seeds_added:
        typer.echo(f"seeds added: {len(r.seeds_added)} ({', '.join(r.seeds_added[:3])}{', …' if len(r.seeds_added) > 3 else ''})")
    for path in r.written[:5]:
        typer.echo(f"wrote {path}")
    if len(r.written) > 5:
        typer.echo(f"… and {len(r.written) - 5} more")
    if r.annotator_added:
        typer.echo(f"added annotator {r.annotator_added!r} to annotations/annotators.json (kind human, not reviewed by a Khabar annotator)")
    for s in r.skipped:
        typer.echo(f"warning: skipped {s}", err=True)
    if r.invisible_tokens:
        typer.echo(f"note: {len(r.invisible_tokens)} token(s) are only bidi/format controls, not in the text of record "
                   f"(line {', '.join(map(str, r.invisible_tokens[:5]))}{', …' if len(r.invisible_tokens) > 5 else ''})", err=True)
    for line in r.empty_paragraphs:
        typer.echo(f"note: the paragraph closed at line {line} has no token", err=True)


@export_app.command("conll")
def export_conll(
    out: Path = typer.Option(..., "-o", "--output",
                             help="The file to write (refused if it exists, unless --force; refused inside releases/, which are immutable)."),
    release: Optional[str] = typer.Option(None, "--release", metavar="X.Y.Z", help="Release by version or folder (default: the latest)."),
    split: Optional[str] = typer.Option(None, "--split", help="Only this split of the release (default: all)."),
    corpus: bool = typer.Option(False, "--corpus", help="Export corpus/ with annotation files instead of a release."),
    annotator: Optional[str] = typer.Option(None, "--annotator",
                                            help="With the corpus: whose annotation files (default gold; refused when no document has one); implies --corpus."),
    doc: list[str] = typer.Option([], "--doc", metavar="DOC_ID", help="With the corpus: only these documents, in this order. Repeatable."),
    fmt: str = typer.Option("wojood", "--format", metavar="wojood|aqmar", help="Output format (aqmar: one tag, PER LOC ORG and --map classes)."),
    depth: Optional[int] = typer.Option(None, "--depth", min=1, max=3, help="Tags per token (nesting layers; default 3 for wojood, 1 for aqmar)."),
    mapping: list[str] = MapOpt,
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    strict: bool = typer.Option(False, "--strict", help="Refuse (write nothing) when an entity cannot be written."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Export documents and their entities as CoNLL: sentences from the corpus segmenter, tokens by
    the corpus token rule, IOB2 tags outermost first, `$#$ O` after each paragraph (wojood).

    Entities that cannot be written (deeper than --depth, clashing, no class in the format) are
    counted and reported as warnings (exit 0), or refused with --strict.
    """
    from khabar.formats.conll.reader import parse_map
    from khabar.formats.conll.exporter import export_conll as run

    try:
        r = run(_project(root), out, release=release, split=split, corpus=corpus, annotator=annotator, docs=doc or None, fmt=fmt,
                depth=depth, mapping=parse_map(mapping), force=force, strict=strict, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    typer.echo(f"wrote {out}: {r.documents} document(s), {r.sentences} sentences, {r.tokens} tokens, {r.entities} entities "
               f"(from {r.source})")
    for w in r.warnings():
        typer.echo(f"warning: {w}", err=True)
    if r.merged_breaks:
        typer.echo(f"note: {r.merged_breaks} sentence break(s) not written because an entity runs across them", err=True)
    if r.skipped:
        typer.echo(f"note: {r.skipped} document(s) without that annotation not exported", err=True)

"""``khabar preannotate``: proposals from the rule-based pre-annotator, scored against gold."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import QuietOpt, RootOpt, fail as _fail, project_at as _project
from khabar.core.errors import KhabarError

__all__ = ["preannotate"]


def preannotate(
    doc: list[str] = typer.Option([], "--doc", metavar="DOC_ID", help="Only this document (repeatable; default: every document)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Propose entities and claims with gazetteers, patterns and reporting cues (no downloaded model):
    writes annotations/<doc_id>/preannotator.json, and prints precision/recall/F1 against gold.json
    where a document has one."""
    from khabar.annotate.files import load_checked_annotation
    from khabar.core.errors import StaleAnnotationError
    from khabar.core.jsonio import load_json
    from khabar.annotate.preannotate import OUTPUT_NAME, preannotate_corpus
    from khabar.annotate.evaluate import evaluate_pairs
    from khabar.core.schema import Schemas

    try:
        project = _project(root)
        written = preannotate_corpus(project, doc or None, progress=not quiet)
        schemas = Schemas(project.schema)
        pairs = []
        for path in written:
            gold = path.with_name("gold.json")
            if gold.is_file():
                document = load_json(project.corpus / f"{path.parent.name}.json")
                try:
                    pairs.append((load_json(path), load_checked_annotation(gold, document, schemas)))
                except StaleAnnotationError as err:
                    typer.echo(f"not scored: {err}")
        figures = evaluate_pairs(pairs, schemas.vocab("EntityType"))
    except KhabarError as err:
        _fail(err)
    typer.echo(f"wrote {len(written)} {OUTPUT_NAME} file(s)")
    if pairs:
        for layer, res in (("entities", figures["entities"]["overall"]), ("claims", figures["claims"])):
            typer.echo(f"{layer} vs gold ({len(pairs)} doc): " + "; ".join(
                f"{s} P={res[s]['precision']:.2f} R={res[s]['recall']:.2f} F1={res[s]['f1']:.2f}" for s in ("strict", "partial")))
        typer.echo("(strict: same span and type; partial: overlapping span, type ignored; claims: content span only)")

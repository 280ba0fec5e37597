"""``khabar preannotate``: proposals from the rule-based pre-annotator, scored against gold."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import QuietOpt, RootOpt, fail as _fail, project_at as _project
from khabar.core.errors import KhabarError, os_error

__all__ = ["preannotate"]


def preannotate(
    doc: list[str] = typer.Option([], "--doc", metavar="DOC_ID", help="Only this document (repeatable; default: every document)."),
    model: Optional[Path] = typer.Option(None, "--model", metavar="FOLDER", help="A model made by `khabar train` (default: the gazetteer pre-annotator)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Propose entities and claims with gazetteers, patterns and reporting cues (no downloaded model), or
    with a trained model (--model): writes annotations/<doc_id>/preannotator.json, and prints
    precision/recall/F1 against gold.json where a document has one."""
    from khabar.annotate.evaluate import preannotator_report
    from khabar.annotate.preannotate import preannotate_corpus
    from khabar.core.project import PREANNOTATOR
    from khabar.core.schema import Schemas

    try:
        project = _project(root)
        annotate = None
        if model is not None:
            from khabar.model.artifact import load_model, type_fingerprint

            loaded = load_model(model, type_fingerprint(Schemas(project.schema).vocab("EntityType")))
            annotate = loaded.annotate
            typer.echo(f"model {loaded.version}")
        written = preannotate_corpus(project, doc or None, progress=not quiet, annotate=annotate)
        report, warnings = preannotator_report(project, Schemas(project.schema), doc_ids=[p.parent.name for p in written])
    except KhabarError as err:
        _fail(err)
    except OSError as err:  # the library names the files it writes; this is the last resort
        _fail(os_error(err, "annotations/"))
    typer.echo(f"wrote {len(written)} {PREANNOTATOR} file(s)")
    for w in warnings:
        typer.echo(f"not scored: {w}")
    if report is not None:
        n = report["documents"]
        for layer, res in (("entities", report["entities"]["overall"]), ("claims", report["claims"])):
            typer.echo(f"{layer} vs gold ({n} doc): " + "; ".join(
                f"{s} P={res[s]['precision']:.2f} R={res[s]['recall']:.2f} F1={res[s]['f1']:.2f}" for s in ("strict", "partial")))
        typer.echo("(strict: same span and type; partial: overlapping span, type ignored; claims: content span only)")

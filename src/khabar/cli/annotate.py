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
    score_split: Optional[str] = typer.Option(None, "--score", metavar="SPLIT", help="Write nothing: score the pre-annotator against the gold "
                                              "of one split's documents (train, validation, test), as a release card does."),
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
        if score_split is not None:
            if doc:
                raise KhabarError("--score scores a whole split; --doc cannot narrow it", hint="drop --doc, or drop --score to write files")
            _score(project, score_split, annotate)
            return
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
        if model is not None:
            typer.echo("(these documents include the model's training documents: `--score test` gives the held-out figures)")


def _score(project, split: str, annotate) -> None:
    """``--score SPLIT``: figures against gold, nothing written."""
    from khabar.annotate.evaluate import score_against_gold
    from khabar.annotate.preannotate import preannotate as gazetteers
    from khabar.core.schema import Schemas
    from khabar.dataset.rows import SPLITS, split_for

    if split not in SPLITS:
        raise KhabarError(f"--score {split}: not a split", hint="one of: " + ", ".join(SPLITS))
    r = score_against_gold(project, Schemas(project.schema), annotate or gazetteers, lambda d: split_for(d) == split)
    if not r["documents"]:
        raise KhabarError(f"--score {split}: no document of the {split} split has a gold annotation", hint="nothing to score against")
    e, c, s = r["entities"]["overall"], r["claims"], r["sources"]
    pers = r["entities"]["per_type"].get("PERS", {}).get("strict", {"recall": 0.0})
    typer.echo(f"{split} split, {r['documents']} gold document(s), nothing written:")
    typer.echo("entities: " + "; ".join(f"{k} P={e[k]['precision']:.3f} R={e[k]['recall']:.3f} F1={e[k]['f1']:.3f}" for k in ("strict", "partial"))
               + f"; PERS strict R={pers['recall']:.3f}")
    typer.echo("claims (content span): " + "; ".join(f"{k} P={c[k]['precision']:.3f} R={c[k]['recall']:.3f} F1={c[k]['f1']:.3f}" for k in ("strict", "partial"))
               + f"; source accuracy {s['accuracy']:.3f} ({s['correct']}/{s['gold']})")

"""``khabar agreement`` and ``khabar adjudicate`` (thin over :mod:`khabar.agreement.compare` and :mod:`khabar.agreement.adjudicate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import QuietOpt, RootOpt, fail as _fail, project_at as _project
from khabar.core.errors import KhabarError, os_error

__all__ = ["agreement", "adjudicate"]

DocIdsArg = typer.Argument(None, metavar="DOC_ID", help="Only these documents (default: every corpus document).")


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def agreement(
    doc_ids: list[str] = DocIdsArg,
    out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                       help="Write agreement.json, agreement-documents.jsonl (one line per compared document), "
                                            "agreement.md and the PNG plots agreement-entity-f1.png, agreement-entity-confusion.png here."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Inter-annotator agreement of annotations/<doc_id>/<annotator>.json (not gold, preannotator, drafts).

    Entities: span F1 per Wojood type (nervaluate: exact and partial) and a type confusion matrix;
    claims: content-span F1 and agreement on source, reporting chain and check-worthiness
    (Krippendorff's alpha); stances: Krippendorff's alpha over (holder, target) units. Pairwise over
    annotator pairs; a document's figure is the mean over its pairs, the corpus figures pool the
    counts. Documents with one annotator and stale files are named, never averaged in.
    """
    from khabar.agreement.compare import summary_rows
    from khabar.agreement.report import agreement_report

    try:
        report, written = agreement_report(_project(root), doc_ids or None, out, progress=not quiet)
    except KhabarError as err:
        _fail(err)
    d = report["documents"]
    for item in d["single_annotator"]:
        typer.echo(f"single annotator: {item['doc_id']} ({item['annotator']}): not compared")
    for doc_id in d["all_stale"]:
        typer.echo(f"not compared: {doc_id}: every annotator file is stale")
    for item in d["stale_files"]:
        typer.echo(f"stale: {item['reason']}")
    for item in d["misnamed_files"]:
        typer.echo(f"warning: {item['file']}: {item['reason']}")
    if not d["compared"]:
        typer.echo(f"no agreement figures: {report['note']}")
    else:
        typer.echo(f"agreement over {d['compared']} document(s) with two or more annotators ({', '.join(report['annotators'])}; "
                   f"{report['comparisons']} document x pair comparisons); figures pool the counts of every document and pair")
        rows = summary_rows(report)
        width = max(len(m) for _, m, _ in rows)
        for layer, measure, value in rows:
            typer.echo(f"  {layer:<9}{measure:<{width + 2}}{value}")
        per_type = report["entities"]["per_type"]
        if per_type:
            typer.echo("  entity span F1 per type (exact / partial): " + ", ".join(
                f"{t} {_num(f['exact']['f1'])} / {_num(f['partial']['f1'])}" for t, f in per_type.items()))
    for path in written:
        typer.echo(f"wrote {path}")


def adjudicate(
    doc_ids: list[str] = typer.Argument(None, metavar="DOC_ID",
                                        help="Documents to adjudicate (default: every document with two or more annotator files)."),
    force: bool = typer.Option(False, "--force", help="Replace a gold.json that khabar adjudicate did not write (hand-made, imported or "
                                                       "reviewed), or one edited since it wrote it."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Merge each document's annotator files into annotations/<doc_id>/gold.json; write the rest to conflicts.json.

    An item goes into gold when strictly more than half of the annotators give it (entities by
    span and type; claims by content span, each attribute by majority; stances by holder span and
    target). Everything else is a conflict, with each annotator's version, for review
    (`khabar studio push-review`); a stance whose evidence claims lack a majority is one too.
    Refuses, writing nothing: annotator files made on different or old texts, fewer than two
    annotators, a gold.json not written by this command, or one edited since: its SHA-256 is not
    the gold_sha256 recorded in conflicts.json (unless --force). A document without conflicts has
    no conflicts.json, so there only origin protects gold.json: origin.kind must be `adjudication`
    with tool `khabar adjudicate` for it to be recomputed; set origin.kind to `manual` when you edit
    it by hand. Files whose name is not an annotator id (A02.json) are not read and are named.
    One run at a time (annotations/.adjudicate.lock); re-running gives byte-identical files.
    """
    from khabar.agreement.adjudicate import adjudicate as run

    def show(o) -> None:  # noqa: ANN001 - a DocumentOutcome
        n_conf = sum(o.conflicts.values())
        typer.echo(f"{o.doc_id}: {len(o.annotators)} annotators ({', '.join(o.annotators)}): agreed "
                   f"{o.agreed['entities']} entities, {o.agreed['claims']} claims, {o.agreed['stances']} stances; "
                   + (f"{n_conf} conflict(s) ({o.conflicts['entities']} entity, {o.conflicts['claims']} claim, "
                      f"{o.conflicts['stances']} stance) -> annotations/{o.doc_id}/conflicts.json" if n_conf else "no conflicts")
                   + ("" if o.changed else " (unchanged)"))
        for w in o.warnings:
            typer.echo(f"warning: {w}", err=True)

    try:
        r = run(_project(root), doc_ids or None, force=force, progress=not quiet, on_document=show)
    except KhabarError as err:
        _fail(err)
    except OSError as err:
        _fail(os_error(err, "annotations/"))
    for w in r.warnings:
        typer.echo(f"warning: {w}", err=True)
    if r.leftovers:
        typer.echo(f"removed {r.leftovers} staging folder(s) left by an interrupted khabar adjudicate", err=True)
    typer.echo(f"adjudicated {r.documents} document(s): {r.written} written, {r.unchanged} unchanged; "
               f"{sum(r.conflicts.values())} conflict(s) in total"
               + (f"; {r.skipped} document(s) with a single annotator skipped" if r.skipped else ""))

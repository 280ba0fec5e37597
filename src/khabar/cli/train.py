"""``khabar train RELEASE --out models/<name>``: the trained pre-annotator (thin over
:mod:`khabar.baseline.trainer`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import QuietOpt, RootOpt, fail, project_at, release_arg
from khabar.core.errors import KhabarError

__all__ = ["train"]


def train(
    release: Path = typer.Argument(..., metavar="RELEASE", help="A release, by version (0.4.1) or folder (releases/0.4.1); the model learns its train split's gold."),
    out: Path = typer.Option(..., "--out", metavar="FOLDER", help="A new folder for the model, e.g. models/khabar-crf (never overwritten)."),
    with_: list[Path] = typer.Option([], "--with", metavar="CONLL", help="Join open NER data for entities: a wojood*.txt or aqmar*.txt CoNLL file "
                                     "(e.g. ../shared/realdata/arabic_ner_conll/wojood_sample_val.txt; repeatable; the card states licence and class map)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Train the CRF entity tagger and claim tagger on a release's train split, score them on its
    test split next to the gazetteer pre-annotator, and write the model folder with its MODEL_CARD.md."""
    from khabar.baseline.modelcard import model_card
    from khabar.baseline.trainer import train_release
    from khabar.core.project import MODEL_CARD, inside_releases
    from khabar.core.schema import Schemas
    from khabar.model.artifact import save_model

    try:
        project = project_at(root)
        release = release_arg(release, project)
        if inside_releases(project, out):
            raise KhabarError(f"--out {out}: inside {project.releases}; releases are immutable", hint="write the model under models/")
        if out.exists() or out.is_symlink():
            raise KhabarError(f"--out {out}: exists; a trained model is never overwritten", hint="name a new folder, e.g. models/khabar-crf-2")
        _writable_parent(out)
        if not quiet:
            typer.echo(f"training on {release} (train split) ...", err=True)
        model, report = train_release(release, with_, Schemas(project.schema), progress=not quiet)
        save_model(model, out, model_card(model, report))
    except KhabarError as err:
        fail(err)
    m, g = report["model"], report["gazetteer"]
    typer.echo(f"wrote {out} (model {model.version}; card {out / MODEL_CARD})")
    typer.echo(f"scored on the test split ({report['documents']} documents):")
    for name, r in (("trained CRF", m), ("gazetteers", g)):
        e, p = r["entities"]["overall"]["strict"], r["entities"]["per_type"].get("PERS", {}).get("strict", {"recall": 0.0})
        typer.echo(f"  {name:<12} entities strict P={e['precision']:.3f} R={e['recall']:.3f} F1={e['f1']:.3f}  PERS R={p['recall']:.3f}  "
                   f"claim content F1 strict={r['claims']['strict']['f1']:.3f} partial={r['claims']['partial']['f1']:.3f}  "
                   f"source accuracy={r['sources']['accuracy']:.3f}")


def _writable_parent(out: Path) -> None:
    """Refuse, before any training, an ``--out`` whose parent cannot hold a new folder."""
    import tempfile

    parent = out.parent
    for p in [parent, *parent.parents]:
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                raise KhabarError(f"--out {out}: {p} is a file, not a folder", hint="name a folder, e.g. models/khabar-crf")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=parent).cleanup()
    except OSError as err:
        raise KhabarError(f"--out {out}: cannot write in {parent} ({err.strerror or err})", hint="name a writable folder") from None

"""``khabar baseline RELEASE``: train and score the baselines of a release (thin over :mod:`khabar.baseline.run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from khabar.cli.common import QuietOpt, fail, release_arg
from khabar.core.errors import KhabarError

__all__ = ["baseline", "summary_lines"]


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The readable summary of a :func:`khabar.baseline.run.run_baseline` report, one string per line."""
    ent, cl = report["entities"], report["claims"]
    split = f"trained on {report['train_split']}, scored on {report['test_split']}"
    out = [f"release {report['release']}: baselines ({split})"]
    if ent["status"] != "trained":
        out.append(f"entity tagger (CRF, ner_tags): not trained: {ent['reason']}")
    else:
        crf, maj = ent["crf"], ent["majority"]
        out.append(f"entity tagger (CRF, outer layer ner_tags): {crf['rows']} test sentences, {crf['entities']} entities")
        for name, r in (("CRF", crf), (f"majority ({maj['tag']})", maj)):
            o = r["overall"]
            out.append(f"  {name:<14} F1 strict {o['strict']['f1']:.4f}  exact {o['exact']['f1']:.4f}  "
                       f"partial {o['partial']['f1']:.4f}  (strict P {o['strict']['precision']:.4f} R {o['strict']['recall']:.4f})")
        out.append("  per type, strict F1: " + ", ".join(f"{t} {r['strict']['f1']:.4f} ({r['strict']['gold']})"
                                                         for t, r in crf["per_type"].items()))
    if cl["status"] != "trained":
        out.append(f"claim-sentence classifier (has_claim): not trained: {cl['reason']}")
    else:
        k, maj = cl["classifier"], cl["majority"]
        out.append(f"claim-sentence classifier (has_claim): {k['rows']} test rows, {k['yes']} yes")
        for name, r in (("logistic reg.", k), (f"majority ({maj['label']})", maj)):
            out.append(f"  {name:<14} accuracy {r['accuracy']:.4f}  yes: P {r['precision']:.4f} R {r['recall']:.4f} F1 {r['f1']:.4f}")
    return out


def baseline(
    release: Path = typer.Argument(..., metavar="RELEASE", help="A release, by version (0.4.1) or folder (releases/0.4.1), with the entities and claims configs."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE.json", help="Also write the full report (JSON) here."),
    quiet: bool = QuietOpt,
) -> None:
    """Train a CRF entity tagger and a claim-sentence classifier on a release's train split and score
    them on test, next to majority-class baselines (nervaluate entity F1; accuracy and F1 of `yes`)."""
    from khabar.baseline.run import run_baseline
    from khabar.core.jsonio import write_json
    from khabar.core.project import Project, inside_releases

    try:
        try:
            project = Project.find(release) if Path(release).exists() else Project.find()
        except KhabarError:
            project = None
        if project is not None:
            release = release_arg(release, project)
        if out is not None:
            if project is not None and inside_releases(project, out):
                raise KhabarError(f"--out {out}: inside {project.releases}; releases are immutable (their files are checksummed)",
                                  hint="write the report elsewhere, e.g. --out baseline.json; every release already carries reports/baseline.json")
        report = run_baseline(release, progress=not quiet)
        if out is not None:
            write_json(out, report)
    except KhabarError as err:
        fail(err)
    except OSError as err:
        fail(KhabarError(f"{out}: cannot write: {err.strerror}"))
    for line in summary_lines(report):
        typer.echo(line)
    if out is not None:
        typer.echo(f"wrote {out}")

"""``khabar ingest``, ``build``, ``validate``, ``diff`` and ``release``: the corpus and its releases.

Each command parses its arguments, calls one library function and prints its report; the library
is imported inside the command, so argument errors answer before ``datasets`` is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import QuietOpt, RootOpt, fail as _fail, project_at as _project, release_arg
from khabar.core.errors import InputError, KhabarError, os_error

__all__ = ["ingest", "build", "validate", "diff", "release"]


def ingest(
    encoding: list[str] = typer.Option([], "--encoding", metavar="FILE=ENC",
                                       help="Declare a seed's encoding (utf-8, utf-16-le, utf-16-be, cp1256) when detection is not sure. Repeatable."),
    accept_edit: list[str] = typer.Option([], "--accept-edit", metavar="FILE",
                                          help="Accept a seed edited after ingest: keeps its id, bumps its revision, marks its annotations stale. Repeatable."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Ingest seeds/ into corpus/: decode, clean (NFC, \\n, no bidi controls), segment, flag artifacts.

    All or nothing: on any bad seed nothing is written and every problem is listed.
    """
    from khabar.ingest.run import ingest as run

    try:
        declared = {}
        for item in encoding:
            name, sep, enc = item.partition("=")
            if not sep:
                raise KhabarError(f"--encoding {item!r}: expected FILE=ENCODING", hint="e.g. --encoding article.txt=cp1256")
            declared[name] = enc
        report = run(_project(root), encodings=declared, accept_edits=set(accept_edit), progress=not quiet)
    except KhabarError as err:
        _fail(err)
    c = report.counts
    typer.echo(f"ingested {report.total} document(s): {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
               + (f"; revision raised for {len(report.revised)}" if report.revised else ""))
    for path in report.stale_annotations:
        typer.echo(f"stale: {path} was made on the old text; re-annotate before the next build")
    for w in report.warnings:
        typer.echo(f"warning: {w}")


def build(
    version: str = typer.Option(..., "--version", metavar="X.Y.Z", help="Release version MAJOR.MINOR.PATCH; must fit the change (SemVer for data)."),
    workers: Optional[int] = typer.Option(None, "--workers", metavar="N", min=1, max=256, help="Processes that make the rows (default: KHABAR_WORKERS, else every "
                                          "core); with --engine datatrove, the tasks run at a time. The release is the same, byte for byte, with any number."),
    engine: str = typer.Option("local", "--engine", metavar="local|datatrove", help="local: this machine's cores. datatrove: the same "
                               "build as a datatrove pipeline (LocalPipelineExecutor here; see the README for Slurm or Ray)."),
    tasks: Optional[int] = typer.Option(None, "--tasks", metavar="N", min=1, max=10000, help="With --engine datatrove only: tasks of the rows step "
                                        "(shards named by rank; default 2)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Build releases/<version>/ from corpus/ and the gold annotations, then gate it.

    Refuses an existing version, a bump smaller than the change requires, stale annotations, and
    any release that fails `khabar validate`.
    """
    if engine not in ("local", "datatrove"):
        _fail(InputError(f"--engine {engine!r}: choose local or datatrove"))
    if tasks is not None and engine != "datatrove":
        _fail(InputError(f"--tasks {tasks}: tasks are those of the datatrove pipeline", hint="add --engine datatrove, or leave --tasks out"))
    from khabar.dataset.versioning import parse_version

    try:
        parse_version(version)  # a malformed version is refused before the library is loaded
        project = _project(root)
        if engine == "datatrove":
            from khabar.release.chunks import default_workers
            from khabar.release.pipeline import run_local

            r = run_local(project, version, tasks or 2, workers or default_workers(), progress=not quiet)
        else:
            from khabar.release.build import build as run

            r = run(project, version, progress=not quiet, workers=workers)
    except KhabarError as err:
        _fail(err)
    except OSError as err:  # the library names the files it writes; this is the last resort
        _fail(os_error(err, "releases/"))
    for w in r.warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"built {r.path} ({', '.join(f'{s}: {n}' for s, n in r.counts.items())}); "
               f"{r.diff.bump()} bump from {r.previous or 'nothing'}; passed the gate")


def validate(
    release: Path = typer.Argument(..., metavar="RELEASE", help="A release, by version (0.4.1) or folder (releases/0.4.1)."),
    no_load: bool = typer.Option(False, "--no-load", help="Skip the load_dataset round trip (the slowest check of level 4; "
                                                          "the Croissant checks still run)."),
    root: Optional[Path] = RootOpt, quiet: bool = QuietOpt,
) -> None:
    """Run the gate on a release: files and checksums, card, schema, spans, ids, splits, training
    configs, reports, Croissant (read back through mlcroissant), load_dataset.

    Prints one line per problem (`error CHECK-ID FILE doc=ID FIELD: message`) and exits 1 on any.
    """
    from khabar.core.schema import Schemas
    from khabar.gate.validate import validate_release

    try:
        project = _project(root)
        release = release_arg(release, project)
        if not quiet:
            typer.echo(f"validating {release} …", err=True)
        problems = validate_release(release, schemas=Schemas(project.schema), progress=not quiet, load=not no_load)
    except KhabarError as err:
        _fail(err)
    except OSError as err:  # e.g. a file of the release that cannot be read: one line naming it
        _fail(os_error(err, str(release)))
    for p in problems:
        typer.echo(p.line())
    if problems:
        typer.echo(f"{release}: {len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{release}: passed every check")


def diff(
    old: Optional[str] = typer.Argument(None, help="Old release, by version or folder (default: the latest)."),
    new: Optional[str] = typer.Argument(None, help="New release, by version or folder (default: what `build` would make now from corpus/)."),
    root: Optional[Path] = RootOpt,
) -> None:
    """Show what changed between two releases, or between the latest release and the corpus now,
    and the version bump (SemVer for data) that the change requires."""
    for name, value in (("OLD", old), ("NEW", new)):
        if value is not None and not value.strip():
            raise typer.BadParameter("an empty argument names no release; give a version (0.1.0) or a folder (releases/0.1.0)",
                                     param_hint=name)
    from khabar.release.compare import compare

    try:
        c = compare(_project(root), old, new)
    except KhabarError as err:
        _fail(err)
    except OSError as err:
        _fail(os_error(err, "releases/"))
    for e in c.problems:
        typer.echo(f"problem: {e}")
    typer.echo(f"comparing {c.old or 'no release'} -> {c.new or 'corpus/ now'}")
    for line in c.diff.lines():
        typer.echo(line)
    bump = c.diff.bump()
    note = ""
    if c.next_version:
        note = f" (next version {c.next_version})"
    elif c.new is None and bump != "none" and not c.old_is_latest:
        note = (f" (since {c.old}; the latest release is {c.latest}: `khabar diff` alone gives the next version)" if c.latest
                else f" (since {c.old}, which is not a release of this project)")
    if c.problems:  # the documents they name are left out of the comparison and would read as removed
        typer.echo(f"bump: not computed: {len(c.problems)} problem(s) above leave documents out of the comparison; "
                   "fix them and run khabar diff again", err=True)
        raise typer.Exit(1)
    typer.echo(f"bump: {bump}{note}")


def release(root: Optional[Path] = RootOpt, quiet: bool = QuietOpt) -> None:
    """The main job: ingest the seeds, build the next release if anything changed, validate it and
    load it back with datasets.load_dataset; prints a summary."""
    from khabar.release.job import run_release

    try:
        r = run_release(_project(root), progress=not quiet)
    except KhabarError as err:
        _fail(err)
    except OSError as err:  # the library names the files it writes; this is the last resort
        _fail(os_error(err, "releases/"))
    s = r.summary
    typer.echo(f"corpus: {r.ingest.total} document(s) ({r.ingest.counts['created']} new, {r.ingest.counts['updated']} updated)")
    for w in r.warnings:
        typer.echo(f"warning: {w}", err=True)
    if r.built:
        typer.echo(f"release: built {r.path} ({r.bump} bump), passed the gate")
    else:
        typer.echo(f"release: {r.path} is up to date with the corpus and passed the gate")
    typer.echo(f"load_dataset({str(r.path)!r}): " + ", ".join(f"{k}={v} rows" for k, v in s["splits"].items()))
    f = s["first"]
    typer.echo(f"  first row: {f['id']} ({f['split']}), {f['chars']} characters, {f['entities']} entities, "
               f"{f['claims']} claims, {f['stances']} stances")
    typer.echo(f"  title: {f['title']}")
    typer.echo(f"  texts identical to corpus/: {s['texts_identical']} of {sum(s['splits'].values())}")

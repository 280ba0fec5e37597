"""The ``khabar`` command: a thin layer that parses arguments and calls the library.

Library errors become one line (``error: …``) plus a hint, and exit code 1 (2 for usage errors).
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import typer

from khabar.cli.common import FullHelpGroup


app = typer.Typer(cls=FullHelpGroup, 
    help="Khabar: build an annotated corpus of Arabic news.\n\n"
         "Data flows one way: seeds/ -> corpus/ (ingest) -> Label Studio -> annotations/ -> releases/<version>/ (build, validate).\n\n"
         "Quick start: `khabar release` ingests the seeds, builds and validates the next release and loads it back.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def _version(value: bool) -> None:
    if value:
        from khabar import __version__

        typer.echo(f"khabar {__version__}")
        for line in _project_versions():
            typer.echo(line)
        raise typer.Exit()


def _project_versions() -> list[str]:
    """The versions of the project found from the current folder (none outside one): annotation
    schema, stance-target registry, guidelines, newest release."""
    import json
    import re

    from khabar.core.errors import KhabarError
    from khabar.core.project import Project
    from khabar.dataset.lookup import latest_release

    try:
        project = Project.find()
    except KhabarError:
        return []
    out = [f"project: {project.root}"]
    try:
        ann = json.loads((project.schema / "annotation.schema.json").read_text(encoding="utf-8"))
        out.append(f"annotation schema: {ann['properties']['schema_version']['const']}")
        from khabar.core.targets import REGISTRY

        registry = json.loads((project.schema / REGISTRY).read_text(encoding="utf-8"))
        out.append(f"stance-target registry: {registry['registry_version']}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        out.append("schema: unreadable (run khabar validate on a release to see why)")
    m = re.search(r"version (\d+(?:\.\d+)*)", project.guidelines.read_text(encoding="utf-8")[:200]) if project.guidelines.is_file() else None
    out.append(f"guidelines: {m.group(1) if m else 'none'}")
    latest = latest_release(project.releases) if project.releases.is_dir() else None
    out.append(f"newest release: {latest[0] if latest else 'none'}")
    return out


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the toolkit's version and, inside a project, the schema, registry, guidelines and newest release versions; exit.")) -> None:
    """Khabar: build an annotated corpus of Arabic news."""


from khabar.cli import accept as _accept_cmds, agreement as _agreement_cmds, annotate as _annotate_cmds, corpus as _corpus_cmds  # noqa: E402
from khabar.cli.baseline import baseline as _baseline  # noqa: E402
from khabar.cli.conll import export_app, import_app  # noqa: E402
from khabar.cli.studio import studio_app  # noqa: E402
from khabar.cli.train import train as _train  # noqa: E402

for _name in ("ingest", "build", "validate"):
    app.command(name=_name)(getattr(_corpus_cmds, _name))
app.command(name="preannotate")(_annotate_cmds.preannotate)
app.command(name="diff")(_corpus_cmds.diff)
app.command(name="release")(_corpus_cmds.release)
app.add_typer(studio_app, name="studio")
app.command(name="agreement")(_agreement_cmds.agreement)
app.command(name="adjudicate")(_agreement_cmds.adjudicate)
app.command(name="accept")(_accept_cmds.accept)
app.command(name="baseline")(_baseline)
app.command(name="train")(_train)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


def _interrupted(signum: int, frame: object) -> None:
    # Ctrl-C and SIGTERM (timeout, kill, a cancelled CI job) both unwind: staging folders are removed
    typer.echo(f"interrupted ({signal.Signals(signum).name}): stopping; nothing half-written is kept", err=True)
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point: exit 0 on success, 1 on a library error, 2 on a usage error,
    130 when interrupted (Ctrl-C or SIGTERM; staging folders are removed, nothing half-written kept)."""
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # noqa: BLE001 - the last resort for a full disk or a folder we may not write
        line = system_error_line(err)
        if line is None:
            raise
        typer.echo(line, err=True)
        sys.exit(1)


#: errno -> what to do about it
_SYSTEM_HINTS = {
    errno.ENOSPC: "free some disk space (or point TMPDIR at a bigger disk), then run it again",
    errno.EDQUOT: "your disk quota is used up: free some space, then run it again",
    errno.EACCES: "you may not write or read there: check the folder's owner and permissions, then run it again",
    errno.EPERM: "you may not write or read there: check the folder's owner and permissions, then run it again",
    errno.EROFS: "that folder is on a read-only file system: work in a writable checkout",
}


def system_error_line(err: BaseException) -> str | None:
    """``error: <file>: <reason>`` and a hint for an error caused (directly, or anywhere in its
    ``__cause__``/``__context__`` chain) by a full disk, a quota, a permission or a read-only file
    system; None for anything else. Commands leave ``corpus/``, ``annotations/`` and ``releases/``
    as they were on such an error (they write into staging folders and rename at the end)."""
    seen: set[int] = set()
    cur: BaseException | None = err
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in _SYSTEM_HINTS:
            where = f"{cur.filename}: " if cur.filename else "writing failed: "
            return f"error: {where}{cur.strerror or os.strerror(cur.errno)}\nhint: {_SYSTEM_HINTS[cur.errno]}"
        if isinstance(cur, OSError) and cur.filename and cur.strerror:  # a folder where a file should be, and the like
            return (f"error: {cur.filename}: {cur.strerror}\nhint: check that path (a file or folder in the way?), then run it "
                    "again; nothing half-written is kept")
        text = str(cur)
        if type(cur).__name__ == "OperationalError" and ("disk is full" in text or "disk I/O error" in text):  # sqlite3
            return f"error: writing failed: No space left on device ({text})\nhint: {_SYSTEM_HINTS[errno.ENOSPC]}"
        cur = cur.__cause__ or cur.__context__
    return None


if __name__ == "__main__":
    main()

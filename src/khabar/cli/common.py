"""Pieces shared by the ``khabar`` command and its ``khabar studio`` group."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperArgument, TyperGroup

from khabar.core.errors import KhabarError
from khabar.core.project import Project

class FullHelpGroup(TyperGroup):
    """A command group whose ``--help`` lists each command with its whole first sentence, wrapped,
    never cut mid-word (Click cuts summaries to the terminal width and adds "...")."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _usage_name(self: TyperArgument) -> str:
    """An argument in a usage line as Click and POSIX write it: ``RELEASE`` (required), ``[OLD]``
    (optional), ``DOC...`` (repeated); this Typer writes a required one as ``{release}``."""
    name = (self.metavar or self.name or "").upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]


RootOpt = typer.Option(None, "--root", help="Project folder (default: found from the current directory, or $KHABAR_ROOT).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")


def project_at(root: Optional[Path]) -> Project:
    """The project at ``--root`` exactly, or the one found from the current directory."""
    return Project.at(root) if root else Project.find()


def fail(err: KhabarError) -> None:
    """Print a library error as ``error: …`` and ``hint: …`` and exit 1."""
    typer.echo(f"error: {err}", err=True)
    if err.hint:
        typer.echo(f"hint: {err.hint}", err=True)
    raise typer.Exit(1)


def release_arg(ref: Path | str, project: Project) -> Path:
    """A release given on the command line by version (``0.4.0``: the project's ``releases/0.4.0``)
    or by folder, as ``diff`` and ``export`` take it (:func:`khabar.dataset.lookup.release_dir`);
    a name that is neither is returned as it is, for the command to report."""
    from khabar.core.errors import InputError
    from khabar.dataset.lookup import release_dir

    try:
        return release_dir(project.releases, str(ref))
    except InputError:
        return Path(ref)

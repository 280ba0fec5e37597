"""Pieces shared by the ``khabar`` command and its ``khabar studio`` group."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.core.errors import KhabarError
from khabar.core.project import Project

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

"""``khabar accept DOC --annotator ID``: one reviewed annotator file becomes the document's gold
(thin over :func:`khabar.annotate.accept.accept`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from khabar.cli.common import RootOpt, fail as _fail, project_at as _project
from khabar.core.errors import KhabarError, os_error

__all__ = ["accept"]


def accept(
    doc_id: str = typer.Argument(..., metavar="DOC_ID", help="The document (kb-…)."),
    annotator: str = typer.Option(..., "--annotator", metavar="ID", help="The annotator whose file annotations/<doc_id>/<ID>.json you reviewed."),
    force: bool = typer.Option(False, "--force", help="Replace an existing gold.json that is not this acceptance (adjudicated, reviewed "
                                                      "or hand-made), and drop open conflicts.json."),
    root: Optional[Path] = RootOpt,
) -> None:
    """Make one reviewed annotator file the document's gold (annotations/<doc_id>/gold.json).

    For a document with a single annotator, where there is nothing to adjudicate. The file must
    be valid and made on the document's current text; the gold keeps its spans and ids and
    records origin kind `accepted` with the annotator in origin.sources, so the card counts such
    documents apart from adjudicated ones.
    """
    from khabar.annotate.accept import accept as run

    try:
        r = run(_project(root), doc_id, annotator, force=force)
    except KhabarError as err:
        _fail(err)
    except OSError as err:
        _fail(os_error(err, "annotations/"))
    if not r.changed:
        typer.echo(f"{r.path}: unchanged (already the accepted file of {annotator})")
    else:
        typer.echo(f"wrote {r.path}: the gold of {doc_id} is {annotator}'s file"
                   + (f" (replaced a gold of origin {r.replaced!r})" if r.replaced else ""))

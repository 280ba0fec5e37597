"""Write an agreement report to a folder: ``agreement.json``, ``agreement-documents.jsonl`` (one
line per compared document, streamed), ``agreement.md`` and the PNG plots.

Public API: :func:`agreement_report`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from khabar.agreement.compare import agreement_markdown, corpus_agreement
from khabar.agreement.plots import write_plots
from khabar.core.errors import InputError, os_error
from khabar.core.jsonio import atomic_write_text, dumps_canonical, write_json
from khabar.core.project import Project

__all__ = ["agreement_report"]


def _open_documents_sink(out: Path) -> tuple[str, Any]:
    """A temporary ``.agreement-documents.*.tmp`` in ``out`` with the usual file mode (mkstemp makes 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=".agreement-documents.", suffix=".tmp", dir=out)
    mask = os.umask(0o022)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)
    return tmp, os.fdopen(fd, "w", encoding="utf-8")


def _refuse_protected(project: Project, out: Path) -> None:
    """Refuse an ``--out`` folder that is, or lies inside, ``releases/``, ``corpus/`` or ``annotations/``
    (``..`` and symbolic links resolved; ``out`` relative to the current folder): a release's files
    are checksummed, and the other two hold only documents and annotation files.

    Raises:
        InputError: naming the folder it lies in, with a hint.
    """
    target = os.path.realpath(out)
    for folder in (project.releases, project.corpus, project.annotations):
        guarded = os.path.realpath(folder)
        if target == guarded or target.startswith(guarded.rstrip(os.sep) + os.sep):
            raise InputError(f"--out {out}: lies inside {folder} (khabar agreement never writes into releases/, corpus/ or annotations/)",
                             hint="write the report to a folder of its own, e.g. --out agreement-report")


def agreement_report(project: Project, doc_ids: Iterable[str] | None = None, out: Path | None = None, *,
                     progress: bool = True) -> tuple[dict[str, Any], list[Path]]:
    """Compare the annotator files (:func:`khabar.agreement.compare.corpus_agreement`) and, with
    ``out``, write the report files there; each file appears whole or not at all.

    Returns:
        ``(report, written)``: the report dict and the paths written (empty without ``out``).

    Raises:
        InputError: ``out`` lies inside ``releases/``, ``corpus/`` or ``annotations/``; ``out`` exists
            and is not a folder; a file cannot be written (one line naming
            it: permission denied, disk full); and whatever ``corpus_agreement`` raises.
    """
    tmp = None
    try:
        sink = fh = None
        if out is not None:
            _refuse_protected(project, out)
            if out.exists() and not out.is_dir():
                raise InputError(f"--out {out}: exists and is not a folder", hint="--out names a folder to write the report files into")
            out.mkdir(parents=True, exist_ok=True)
            tmp, fh = _open_documents_sink(out)
            sink = lambda fig: fh.write(dumps_canonical(fig, indent=None) + "\n")  # noqa: E731
        try:
            report = corpus_agreement(project, doc_ids or None, progress=progress, on_document=sink)
        finally:
            if fh is not None:
                fh.close()
        if out is None:
            return report, []
        write_json(out / "agreement.json", report)
        atomic_write_text(out / "agreement.md", agreement_markdown(report))
        os.replace(tmp, out / "agreement-documents.jsonl")
        tmp = None
        return report, [out / "agreement.json", out / "agreement-documents.jsonl", out / "agreement.md", *write_plots(report, out)]
    except OSError as err:
        raise os_error(err, str(out)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)

"""What changed between two releases, or between a release and the corpus now (``khabar diff``).

Public API: :func:`compare`, :class:`Comparison`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from khabar.core.errors import VersionError
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.dataset.lookup import iter_index, iter_index_file, latest_release, release_dir
from khabar.dataset.versioning import Diff, diff_streams, next_version, parse_version
from khabar.release.plan import diff_against_latest, plan
from khabar.dataset.layout import INDEX

__all__ = ["compare", "Comparison"]


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes:
        old: the older release's version, or None when there is none.
        new: the newer release's version, or None for the corpus now.
        diff: the change (:class:`khabar.dataset.versioning.Diff`; ``lines()``, ``bump()``).
        problems: what stops the corpus from being built now (only when ``new`` is None).
    """

    old: str | None
    new: str | None
    diff: Diff
    problems: list[str] = field(default_factory=list)

    @property
    def next_version(self) -> str | None:
        """The version a build of the corpus now would need (None between two releases or with no change)."""
        bump = self.diff.bump()
        return next_version(self.old, bump) if bump != "none" and self.new is None else None


def compare(project: Project, old: str | None = None, new: str | None = None, schemas: Schemas | None = None) -> Comparison:
    """Compare release ``old`` with release ``new`` (each a version or a folder).

    ``new`` None means what ``khabar build`` would make now from ``corpus/``; ``old`` None means
    the latest release (older than ``new`` when ``new`` is given).

    Raises:
        InputError: a release that does not exist or is malformed (:func:`khabar.dataset.lookup.release_dir`).
        VersionError: ``old`` is not older than ``new``.
    """
    schemas = schemas or Schemas(project.schema)
    if new is None:
        with tempfile.TemporaryDirectory(prefix="khabar-diff-") as tmp:
            index = Path(tmp) / INDEX
            problems = plan(project, index, schemas)
            if old is None:
                prev, d = diff_against_latest(project, index, schemas)
            else:
                old_dir = release_dir(project.releases, old)
                prev, d = old_dir.name, diff_streams(iter_index(old_dir), iter_index_file(index))
        return Comparison(prev, None, d, problems)
    new_dir = release_dir(project.releases, new)
    old_dir = release_dir(project.releases, old) if old else (latest_release(project.releases, before=new_dir.name) or (None, None))[1]
    if old_dir is not None and parse_version(old_dir.name) >= parse_version(new_dir.name):
        raise VersionError(f"{old_dir.name} is not older than {new_dir.name}", hint="give the older release first")
    d = diff_streams(iter_index(old_dir) if old_dir else [], iter_index(new_dir))
    return Comparison(old_dir.name if old_dir else None, new_dir.name, d)

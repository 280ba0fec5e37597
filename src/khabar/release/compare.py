"""What changed between two releases, or between a release and the corpus now (``khabar diff``).

Public API: :func:`compare`, :class:`Comparison`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from khabar.core.errors import InputError, VersionError
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.dataset.features import CONFIGS, features_for
from khabar.dataset.lookup import iter_index, iter_index_file, latest_release, read_build_info, release_dir
from khabar.dataset.versioning import Diff, diff_streams, next_version, parse_version
from khabar.release.plan import describe_change, diff_against_latest, plan
from khabar.dataset.layout import INDEX, REPORTS

__all__ = ["compare", "Comparison"]


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes:
        old: the older release's version, or None when there is none.
        new: the newer release's version, or None for the corpus now.
        diff: the change (:class:`khabar.dataset.versioning.Diff`; ``lines()``, ``bump()``).
        problems: what stops the corpus from being built now (only when ``new`` is None).
        latest: the project's latest release (only when ``new`` is None), or None when there is none.
    """

    old: str | None
    new: str | None
    diff: Diff
    problems: list[str] = field(default_factory=list)
    latest: str | None = None
    old_is_latest: bool = True

    @property
    def next_version(self) -> str | None:
        """The version a build of the corpus now would need: after the latest release, by the bump
        of the change since it. None between two releases, with no change, or when ``old`` is not
        the latest release (the change since ``old`` is not what a build would be checked against)."""
        bump = self.diff.bump()
        if self.new is not None or bump == "none" or not self.old_is_latest:
            return None
        return next_version(self.latest, bump)


def _version_of(path: Path, ref: str) -> str:
    """The version a release folder's name gives (``releases/0.1.0`` -> ``0.1.0``; ``.`` and ``..``
    are resolved, links are not followed).

    Raises:
        InputError: the folder's name is not ``MAJOR.MINOR.PATCH``.
    """
    name = Path(os.path.abspath(path)).name
    try:
        parse_version(name)
    except VersionError:
        raise InputError(f"{ref}: not a release folder (its name is not a version)",
                         hint="name a release by version (0.1.0) or by its folder (releases/0.1.0)") from None
    return name


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _corpus_now(project: Project, old: str | None, schemas: Schemas) -> Comparison:
    """:func:`compare` of release ``old`` (default: the latest) with what a build would make now."""
    latest = latest_release(project.releases)
    old_dir = release_dir(project.releases, old) if old is not None else None
    prev = _version_of(old_dir, old) if old_dir is not None and old is not None else None
    with tempfile.TemporaryDirectory(prefix="khabar-diff-") as tmp:
        index = Path(tmp) / INDEX
        problems = plan(project, index, schemas)
        if old_dir is None:
            prev, d = diff_against_latest(project, index, schemas)
            return Comparison(prev, None, d, problems, prev)
        d = diff_streams(iter_index(old_dir), iter_index_file(index), names=(str(old_dir / REPORTS / INDEX), str(index)))
    describe_change(d, read_build_info(old_dir)["features"], {c: features_for(schemas, c).to_dict() for c in CONFIGS}, old_dir, None)
    is_latest = latest is not None and _same(old_dir, latest[1])
    return Comparison(prev, None, d, problems, latest[0] if latest else None, is_latest)


def compare(project: Project, old: str | None = None, new: str | None = None, schemas: Schemas | None = None) -> Comparison:
    """Compare release ``old`` with release ``new`` (each a version or a folder named by its version).

    ``new`` None means what ``khabar build`` would make now from ``corpus/``; ``old`` None means
    the latest release (older than ``new`` when ``new`` is given).

    Raises:
        InputError: a release that does not exist, is malformed (:func:`khabar.dataset.lookup.release_dir`,
            :func:`khabar.dataset.lookup.iter_index_file`) or a folder whose name is not a version.
        VersionError: ``old`` is not older than ``new``.
    """
    schemas = schemas or Schemas(project.schema)
    if new is None:
        return _corpus_now(project, old, schemas)
    new_dir = release_dir(project.releases, new)
    new_version = _version_of(new_dir, new)
    old_dir = (release_dir(project.releases, old) if old is not None
               else (latest_release(project.releases, before=new_version) or (None, None))[1])
    old_version = _version_of(old_dir, str(old_dir) if old is None else old) if old_dir is not None else None
    if old_version is not None and parse_version(old_version) >= parse_version(new_version):
        raise VersionError(f"{old_version} is not older than {new_version}", hint="give the older release first")
    d = diff_streams(iter_index(old_dir) if old_dir else [], iter_index(new_dir),
                     names=(str(old_dir / REPORTS / INDEX) if old_dir else "", str(new_dir / REPORTS / INDEX)))
    if old_dir is not None:
        describe_change(d, read_build_info(old_dir)["features"], read_build_info(new_dir)["features"], old_dir, new_dir)
    return Comparison(old_version, new_version, d)

"""The changelog entry of a release, in the release (``CHANGELOG.md``) and on top of the project's
``CHANGELOG.md``; and the build's date (``SOURCE_DATE_EPOCH`` only: outputs carry no wall-clock time).

Public API: :func:`source_date`, :func:`changelog_entry`, :func:`changelog_with`, :func:`read_text`,
:func:`stage_text`.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from khabar.core.jsonio import stage_bytes
from khabar.core.errors import InputError
from khabar.core.project import Project
from khabar.dataset.versioning import Diff

__all__ = ["source_date", "changelog_entry", "changelog_with", "read_text", "stage_text"]


def source_date() -> datetime | None:
    """``$SOURCE_DATE_EPOCH`` (seconds since 1970, UTC) as a datetime, or None when unset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch else None


def changelog_entry(version: str, previous: str | None, diff: Diff) -> str:
    """``### [version] - date`` (the date only with ``SOURCE_DATE_EPOCH``), the bump and one line per change."""
    when = source_date()
    head = f"### [{version}]" + (f" - {when.date().isoformat()}" if when else "")
    since = f"Changes since {previous}" if previous else "First release"
    return head + "\n\n" + f"{since} ({diff.bump()} bump):\n\n" + "\n".join(f"- {line}" for line in diff.lines()) + "\n"


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``.

    Raises:
        InputError: not UTF-8 (names the byte offset), or unreadable.
    """
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 (byte {err.start})") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None


def changelog_with(project: Project, version: str, previous: str | None, diff: Diff) -> str:
    """CHANGELOG.md with this release's entry on top of the data releases (unchanged when it has one).

    Raises:
        InputError: CHANGELOG.md exists but cannot be read as UTF-8 text.
    """
    path = project.changelog
    old = read_text(path) if path.exists() else "# Changelog\n\nData releases of Khabar (SemVer for data) and changes to the toolkit.\n"
    if f"## [{version}]" in old:
        return old
    entry = changelog_entry(version, previous, diff)[1:]  # "## [x.y.z]" at the top level
    cut = old.find("\n## ")
    return (old[:cut] + "\n" + entry + old[cut:]) if cut >= 0 else (old.rstrip("\n") + "\n\n" + entry)


def stage_text(path: Path, text: str) -> Path:
    """:func:`khabar.core.jsonio.stage_bytes` for UTF-8 text: a flushed temporary file beside
    ``path`` that the caller renames onto it (or removes).

    Raises:
        OSError: the folder is not writable, the disk is full… (nothing is left behind).
    """
    return stage_bytes(path, text.encode("utf-8"))


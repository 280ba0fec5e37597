"""Typed errors of the library. The CLI turns each into one line with a hint."""

from __future__ import annotations

__all__ = ["KhabarError", "InputError", "StaleAnnotationError", "ReleaseExistsError", "VersionError", "StudioError", "os_error"]


class KhabarError(Exception):
    """Base class. ``str(err)`` is one line naming the file, record, field and reason.

    Attributes:
        hint: an optional suggestion of how to fix the problem, shown by the CLI.
    """

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class InputError(KhabarError):
    """Bad input: a file that cannot be read, decoded, parsed or validated."""


class StaleAnnotationError(KhabarError):
    """An annotation was made on another version of its document's text."""


class ReleaseExistsError(KhabarError):
    """The release version asked for exists already; releases are never overwritten."""


class VersionError(KhabarError):
    """The version asked for does not fit the change (SemVer for data, see khabar.dataset.versioning)."""


class StudioError(KhabarError):
    """Label Studio cannot be installed, started or reached, or it refused a request."""


def os_error(err: OSError, what: str) -> InputError:
    """An ``OSError`` (permission denied, disk full…) as one :class:`InputError` line naming the
    file (``err.filename``, else ``what``) and the system's reason, with a hint."""
    return InputError(f"{err.filename or what}: {err.strerror or err}",
                      hint="check that the folder exists, is readable and writable and the disk has free space, then run it again")

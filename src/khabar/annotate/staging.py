"""Files staged beside their targets and renamed into place together (all or nothing): how
``khabar preannotate`` replaces many ``preannotator.json`` files at once.

Public API: :class:`Staged`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Staged"]


class Staged:
    """Files written beside their targets first (``.preannotator.json.*.tmp``), renamed into place
    together by :meth:`commit`; :meth:`discard` removes them and the folders made for them."""

    def __init__(self) -> None:
        self.files: list[tuple[Path, Path]] = []  # (temporary file, target)
        self.made: list[Path] = []                # folders made, in order

    def _folder(self, folder: Path) -> None:
        if folder.is_dir():
            return
        from khabar.core.errors import InputError

        if folder.exists() or folder.is_symlink():  # a file, or a link to nothing or a loop
            raise InputError(f"{folder}: not a folder (a file, or a link that points nowhere)",
                             hint="move it away, then run khabar preannotate again")
        folder.mkdir()
        self.made.append(folder)

    def add(self, target: Path, text: str, annotations: Path) -> None:
        """Stage ``text`` for ``target`` (``annotations/<doc_id>/<file>``), making the folders it needs.

        Raises:
            InputError: a folder on the way is not a folder, or ``target`` is one.
            OSError: the folder cannot be written.
        """
        from khabar.core.errors import InputError
        from khabar.core.jsonio import stage_bytes

        self._folder(annotations)
        self._folder(target.parent)
        if target.is_dir():
            raise InputError(f"{target}: a folder, not a file", hint="move it away, then run khabar preannotate again")
        self.files.append((stage_bytes(target, text.encode("utf-8")), target))

    def commit(self) -> None:
        """Rename every staged file onto its target (each rename atomic; interrupts held back)."""
        from khabar.core.jsonio import no_interrupts

        with no_interrupts():
            for tmp, target in self.files:
                os.replace(tmp, target)
        self.files, self.made = [], []

    def discard(self) -> None:
        for tmp, _ in self.files:
            tmp.unlink(missing_ok=True)
        for folder in reversed(self.made):
            try:
                folder.rmdir()
            except OSError:
                pass
        self.files, self.made = [], []

"""A bar over the stages of a long command, shown from its start (``tqdm``).

``khabar validate`` and ``khabar build`` run several stages, some without a bar of their own
(the file checks, the reports, Croissant, the ``load_dataset`` round trip). :class:`Stages`
shows, from the first second, which stage runs, how many there are and the elapsed time::

    validate [3/6] training configs: 50%|█████     | 3/6 [00:04<00:03]

The per-split bars of a stage (``validate train``) appear below it. When stderr is not a
terminal (a log file, CI), each stage is one plain line with the elapsed time instead, and the
per-split bars are off (``tqdm``'s ``disable=None``).

Public API: :class:`Stages`.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Sequence

from tqdm import tqdm

__all__ = ["Stages"]


class Stages:
    """A context manager: ``with Stages("validate", ["files", ...], enabled) as st: st.next("files")``.

    Args:
        name: the command (the bar's prefix).
        stages: the stage names, in order (the bar's total is their number).
        enabled: show the bar (False: every call is a no-op).
    """

    def __init__(self, name: str, stages: Sequence[str], enabled: bool = True) -> None:
        self.name, self.stages, self.enabled = name, list(stages), enabled
        self._bar: Any = None
        self._lines = False
        self._started = 0.0
        self._current: tuple[str, float] | None = None
        #: seconds each stage took (kept whether or not anything is shown)
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> "Stages":
        self._lines = self.enabled and not sys.stderr.isatty()  # a log: one plain line per stage, no bar
        self._started = time.monotonic()
        if self.enabled and not self._lines:
            self._bar = tqdm(total=len(self.stages), desc=f"{self.name} [0/{len(self.stages)}] starting", unit="stage",
                             bar_format="{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}]", leave=True)
        return self

    def next(self, stage: str) -> None:
        """Mark the previous stage done and show ``stage`` (one of ``stages``) as running.

        Raises:
            ValueError: ``stage`` is not one of the stages.
        """
        i = self.stages.index(stage)
        self._close_stage()
        self._current = (stage, time.monotonic())
        if self._lines:
            print(f"{self.name} [{i + 1}/{len(self.stages)}] {stage} ({time.monotonic() - self._started:.1f} s)",
                  file=sys.stderr, flush=True)
        if self._bar is not None:
            if i > self._bar.n:  # the stages before this one are done
                self._bar.update(i - self._bar.n)
            self._bar.set_description(f"{self.name} [{i + 1}/{len(self.stages)}] {stage}")

    def _close_stage(self) -> None:
        if self._current is not None:
            self.seconds[self._current[0]] = time.monotonic() - self._current[1]
            self._current = None

    def __exit__(self, *exc: Any) -> None:
        self._close_stage()
        if self._lines and exc[0] is None:
            print(f"{self.name} done ({time.monotonic() - self._started:.1f} s)", file=sys.stderr, flush=True)
        if self._bar is not None:
            if exc[0] is None:
                self._bar.update(len(self.stages) - self._bar.n)
                self._bar.set_description(f"{self.name} [{len(self.stages)}/{len(self.stages)}] done")
            self._bar.close()

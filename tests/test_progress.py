"""Long commands show what runs from their start (issue 13: `validate` ran 34 s with bars only
at the end): one bar over the stages, then per-split bars below it."""

from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT
from khabar.core.progress import Stages
from khabar.dataset.lookup import latest_release
from khabar.gate.validate import STAGES, validate_release


def _descriptions(err: str) -> list[str]:
    """The bar descriptions tqdm drew, in the order first drawn."""
    seen: list[str] = []
    for piece in re.split(r"[\r\n]", err):
        m = re.match(r"\s*(\S.*?):?\s+\d+%\|", piece)
        if m and m[1] not in seen:
            seen.append(m[1])
    return seen


def test_validate_shows_its_stages_from_the_start(capsys, monkeypatch) -> None:
    """In a terminal: one bar over the stages, drawn before any check ran."""
    _, release = latest_release(ROOT / "releases")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert validate_release(release, progress=True, load=False) == []
    shown = _descriptions(capsys.readouterr().err)
    stages = [d for d in shown if d.startswith("validate [")]
    assert shown[0] == "validate [0/5] starting"  # before any check ran
    assert stages == ["validate [0/5] starting", "validate [1/5] files and card", "validate [2/5] documents rows",
                      "validate [3/5] training configs", "validate [4/5] report files", "validate [5/5] croissant",
                      "validate [5/5] done"]
    # the per-split bars come inside their stage
    assert shown.index("validate train") > shown.index("validate [2/5] documents rows")
    assert shown.index("validate configs train") > shown.index("validate [3/5] training configs")
    assert STAGES[-1] == "load_dataset"


def test_in_a_log_each_stage_is_one_line(capsys) -> None:
    """Not a terminal (a log file, CI): plain lines with the elapsed time, no bar, no escape codes."""
    _, release = latest_release(ROOT / "releases")
    assert validate_release(release, progress=True, load=False) == []
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    lines = [re.sub(r"\(\d+\.\d s\)$", "(s)", line) for line in err.splitlines()]
    assert lines == ["validate [1/5] files and card (s)", "validate [2/5] documents rows (s)", "validate [3/5] training configs (s)",
                     "validate [4/5] report files (s)", "validate [5/5] croissant (s)", "validate done (s)"]


def test_a_stage_bar_names_only_its_stages(capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with Stages("job", ["one", "two"], enabled=True) as st:
        st.next("two")
        with pytest.raises(ValueError):
            st.next("three")
    assert _descriptions(capsys.readouterr().err)[-1] == "job [2/2] done"
    with Stages("quiet", ["one"], enabled=False) as st:
        st.next("one")
    assert capsys.readouterr().err == ""

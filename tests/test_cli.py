"""The CLI is thin and teaches: every command has help; errors are one line plus a hint."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from khabar.cli import app

COMMANDS = ["ingest", "build", "validate", "diff", "release"]


def test_every_command_has_help() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for cmd in COMMANDS:
        assert cmd in top.output
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0, cmd
        assert len(res.output.strip().splitlines()) > 5, cmd


@pytest.mark.slow
def test_ingest_error_is_one_line_with_hint(project) -> None:
    (project.seeds / "legacy.txt").write_bytes(bytes.fromhex("e6d2c7d1c920c7e1cec7d1ccedc9"))
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "ingest", "--root", str(project.root), "-q"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert lines[0] == "error: ingest refused (1 problem); corpus/ unchanged:"
    assert lines[1].startswith("  legacy.txt: not UTF-8 (byte 0xe6 at offset 0)")
    assert "khabar ingest --encoding legacy.txt=cp1256" in lines[1]
    ok = subprocess.run([sys.executable, "-m", "khabar.cli", "ingest", "--root", str(project.root), "-q",
                         "--encoding", "legacy.txt=cp1256"], capture_output=True, text=True)
    assert ok.returncode == 1 and "not Arabic" not in ok.stderr or ok.returncode == 0


@pytest.mark.slow
def test_build_existing_version_exit_1(project) -> None:
    from khabar.release.build import build
    build(project, "0.1.0", progress=False)
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "build", "--version", "0.1.0", "--root", str(project.root), "-q"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "release 0.1.0 exists; releases are never overwritten" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("hint: choose a new version")


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "01.0.0", "١.٠.٠"])
def test_bad_version_refused(project, bad) -> None:
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "build", "--version", bad, "--root", str(project.root), "-q"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "is not MAJOR.MINOR.PATCH" in res.stderr

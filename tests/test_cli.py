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


def _all_groups():
    """``(command path, help output)`` of the top command and every group (studio, import, export,
    studio backend)."""
    runner = CliRunner()
    for path in ([], ["studio"], ["import"], ["export"], ["studio", "backend"]):
        res = runner.invoke(app, [*path, "--help"], terminal_width=80)
        assert res.exit_code == 0, path
        yield path, res.output


def test_help_summaries_are_never_cut_and_usage_lines_are_readable() -> None:
    """Issue 13: Click cut command summaries mid-word ("Inter-annotator agreement of..."), and
    Typer wrote required arguments as ``{release}``."""
    for path, out in _all_groups():
        commands = out[out.index("Commands:"):] if "Commands:" in out else ""
        assert "..." not in commands, (path, commands)
    assert "agreement    Inter-annotator agreement of\n" in CliRunner().invoke(app, ["--help"], terminal_width=80).output
    for cmd, usage in ((["validate"], "Usage: khabar validate [OPTIONS] RELEASE"), (["diff"], "Usage: khabar diff [OPTIONS] [OLD] [NEW]"),
                       (["train"], "Usage: khabar train [OPTIONS] RELEASE"), (["accept"], "Usage: khabar accept [OPTIONS] DOC_ID")):
        out = CliRunner().invoke(app, [*cmd, "--help"], prog_name="khabar").output
        assert out.startswith(usage) and "{" not in out.splitlines()[0], out.splitlines()[0]


def test_version_names_toolkit_schema_registry_guidelines_and_newest_release() -> None:
    import khabar
    from conftest import ROOT

    res = subprocess.run([sys.executable, "-m", "khabar.cli", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    newest = sorted((p.name for p in (ROOT / "releases").iterdir() if p.is_dir() and p.name[0].isdigit()),
                    key=lambda v: tuple(map(int, v.split("."))))[-1]
    assert res.returncode == 0 and res.stdout.splitlines() == [
        f"khabar {khabar.__version__}", f"project: {ROOT}", "annotation schema: 1.0", "stance-target registry: 1.1",
        "guidelines: 1.1", f"newest release: {newest}"]


@pytest.mark.slow
def test_validate_and_diff_take_a_release_by_version() -> None:
    """Issue 13: `khabar validate 0.3.0` was refused; `khabar diff 0.2.0 0.3.0` said "no change"
    although 0.3.0 added the training configs."""
    from conftest import ROOT

    from khabar.dataset.lookup import latest_release

    newest = latest_release(ROOT / "releases")[0]
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "validate", newest, "--no-load", "-q"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == f"{ROOT / 'releases' / newest}: passed every check", res.stdout + res.stderr
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "validate", "0.2.0", "--no-load", "-q"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and res.stderr.strip() == f"{ROOT / 'releases' / '0.2.0'}: 1 problem(s)", res.stdout + res.stderr
    assert res.stdout.startswith("error croissant-records croissant.json: conforms to Croissant 1.0, not Croissant 1.1")
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "diff", "0.2.0", "0.3.0"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.splitlines() == [
        "comparing 0.2.0 -> 0.3.0",
        "reports added (a newer toolkit reports more on the same data): 2 (agreement.json, baseline.json)",
        "schema change: minor (configs added: claims, entities, stances)",
        "bump: minor"], res.stdout


def test_a_long_install_step_is_never_a_silence() -> None:
    """Issue 13: `studio install` ran ~6 min without a word. A step says what runs and the time so
    far at a fixed period, and its output is kept for the error message."""
    import time

    from khabar.studio.server import _run_with_heartbeat  # noqa: PLC2701

    said: list[str] = []
    started = time.monotonic()
    code, out = _run_with_heartbeat([sys.executable, "-c", "import time; print('pip says hi'); time.sleep(0.7); raise SystemExit(3)"],
                                    "installing label-studio", started, said.append, every=0.2)
    assert (code, out.strip()) == (3, "pip says hi")
    assert len(said) >= 2 and all(s.startswith("  ... installing label-studio: ") and s.endswith(" s so far") for s in said)


def test_the_install_scripts_say_what_runs_and_for_how_long(tmp_path) -> None:
    from conftest import ROOT

    # run only the _step function: a copy of _venv.sh up to its first install line
    body = (ROOT / "scripts" / "_venv.sh").read_text(encoding="utf-8").split("[ -x .venv/bin/python ]")[0]
    (tmp_path / "steps.sh").write_text(body.replace('cd "$(dirname "${BASH_SOURCE[0]}")/.."', "") +
                                       '_step "sleeping" sleep 0\n_step "failing" false || echo "rc=$?"\n', encoding="utf-8")
    started = __import__("time").monotonic()
    res = subprocess.run(["bash", str(tmp_path / "steps.sh")], capture_output=True, text=True, timeout=60)
    assert __import__("time").monotonic() - started < 5  # the heartbeat's sleep does not outlive its step
    assert res.stdout == "rc=1\n"
    assert res.stderr.splitlines() == ["sleeping ...", "sleeping: done in 0 s", "failing ...", "failing: failed after 0 s"]

"""`khabar studio serve` takes Label Studio down with it (issue 14: closing its terminal, or
kill -9 of serve, left Label Studio running as an orphan holding the port, the data folder and
its lock), keeps its data folder private, and writes no e-mail address to its log."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT
from khabar.studio.server import free_port

pytestmark = pytest.mark.studio

USER, PASSWORD = "serve-test@khabar.test", "serve-test-password"


def _serve(port: int, data) -> subprocess.Popen:
    env = dict(os.environ, LABEL_STUDIO_USERNAME=USER, LABEL_STUDIO_PASSWORD=PASSWORD)
    return subprocess.Popen([sys.executable, "-m", "khabar.cli", "studio", "serve", "--port", str(port), "--data-dir", str(data),
                             "--root", str(ROOT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _ready(port: int, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail("Label Studio did not start")


def _server_pid(data) -> int:
    import json

    return json.loads((data / "serve.lock").read_text(encoding="utf-8"))["server_pid"]


def _gone(pid: int, port: int, timeout: float = 30) -> bool:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        with socket.socket() as s:
            listening = s.connect_ex(("127.0.0.1", port)) == 0
        if not alive and not listening:
            return True
        time.sleep(0.5)
    return False


@pytest.mark.parametrize("how", ["SIGHUP (the terminal closed)", "SIGKILL (kill -9 of serve)"])
def test_label_studio_goes_down_with_serve(tmp_path, how) -> None:
    port, data = free_port(), tmp_path / "ls"
    proc = _serve(port, data)
    try:
        _ready(port, proc)
        server = _server_pid(data)
        proc.send_signal(signal.SIGHUP if how.startswith("SIGHUP") else signal.SIGKILL)
        proc.wait(timeout=60)
        assert _gone(server, port), f"Label Studio (pid {server}) still runs after {how}"
        # the data folder is free again: a new serve starts on it
        again = _serve(port, data)
        try:
            _ready(port, again)
        finally:
            again.send_signal(signal.SIGINT)
            out, _ = again.communicate(timeout=60)
        assert "stopping Label Studio" in out and "Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
    # private data folder, and no e-mail address in the log (Label Studio prints "User … already exists")
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "server.log").st_mode) == 0o600
    db = [p for p in data.iterdir() if p.suffix == ".sqlite3"]
    assert db and all(stat.S_IMODE(os.stat(p).st_mode) & 0o077 == 0 for p in db)
    log = (data / "server.log").read_text(encoding="utf-8")
    assert "already exists" in log and USER not in log and "<e-mail>" in log

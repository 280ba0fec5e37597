"""Two pushes at once (issue 14): one task per document and one project, whether the two runs
share the project lock (one machine) or not (two machines: only the settling after create
guards them). Against the real Label Studio server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import STUDIO_PASSWORD, STUDIO_USER, make_project
from khabar.studio.lock import project_lock

pytestmark = pytest.mark.studio


def _push_at_once(studio_server, roots: list[Path], title: str, lock_dirs: list[Path]) -> list[subprocess.CompletedProcess]:
    procs = []
    for root, locks in zip(roots, lock_dirs):
        env = dict(os.environ, LABEL_STUDIO_URL=studio_server.url, LABEL_STUDIO_API_KEY=studio_server.api_key,
                   LABEL_STUDIO_USERNAME=STUDIO_USER, LABEL_STUDIO_PASSWORD=STUDIO_PASSWORD, KHABAR_LOCK_DIR=str(locks))
        procs.append(subprocess.Popen([sys.executable, "-m", "khabar.cli", "studio", "push", "--project", title, "--root", str(root)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out


def _count(studio, title: str) -> tuple[int, dict[str, int]]:
    projects = [p for p in studio.sdk.projects.list(title=title, page_size=100) if p.title == title]
    per_doc: dict[str, int] = {}
    for proj in projects:
        for t in studio.iter_tasks(proj.id):
            per_doc[t["data"]["doc_id"]] = per_doc.get(t["data"]["doc_id"], 0) + 1
    return len(projects), per_doc


@pytest.mark.parametrize("machines", ["one machine (shared lock)", "two machines (no shared lock)"])
def test_two_pushes_at_once_leave_one_project_and_one_task_per_document(tmp_path, studio_server, studio, title, machines) -> None:
    roots = [make_project(tmp_path / f"checkout{i}", full=True).root for i in (1, 2)]  # two checkouts of the 70 documents
    shared = machines.startswith("one")
    locks = [tmp_path / "locks"] * 2 if shared else [tmp_path / "locks-a", tmp_path / "locks-b"]
    results = _push_at_once(studio_server, roots, title, locks)
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    projects, per_doc = _count(studio, title)
    assert projects == 1
    assert len(per_doc) == 70 and set(per_doc.values()) == {1}
    created = [int(m[1]) for r in results for m in re.finditer(r": (\d+) task\(s\) created, ", r.stdout)]
    assert len(created) == 2 and sum(created) == 70, [r.stdout for r in results]


def test_a_second_run_waits_for_the_lock_and_says_who_holds_it(tmp_path, monkeypatch) -> None:
    """The lock is named by the server and the title, not by the checkout: another checkout's run
    on the same server and project waits, and gives up after its wait with one line."""
    from khabar.core.errors import StudioError

    monkeypatch.setenv("KHABAR_LOCK_DIR", str(tmp_path))
    said: list[str] = []
    with project_lock("http://localhost:8080/", "Khabar", "khabar studio push"):
        started = time.monotonic()
        with pytest.raises(StudioError) as err:
            with project_lock("http://127.0.0.1:8080", "Khabar", "khabar studio pull", wait=0.5, echo=said.append):
                pass
        assert 0.5 <= time.monotonic() - started < 3
        with project_lock("http://127.0.0.1:8080", "Other", "khabar studio pull", wait=0):  # another project: free
            pass
    assert said == [f"waiting: khabar studio push (pid {os.getpid()}) is working on project 'Khabar' at http://127.0.0.1:8080 …"]
    assert str(err.value) == (f"project 'Khabar' at http://127.0.0.1:8080: khabar studio push (pid {os.getpid()}) still holds "
                              "the lock after 0 s; nothing was done")
    with project_lock("http://127.0.0.1:8080", "Khabar", "khabar studio pull", wait=0):  # released at the end of the block
        pass
    assert oct(os.stat(tmp_path).st_mode & 0o777) in ("0o700", "0o755", "0o775")

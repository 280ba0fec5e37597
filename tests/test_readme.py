"""Every Python snippet of README.md runs as written, on its own (issue 13: the second snippet
once failed alone with NameError: load_dataset)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import pytest

from conftest import ROOT

BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_readme_has_python_snippets() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("n", range(len(BLOCKS)))
def test_a_readme_snippet_runs_alone(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="khabar-readme-") as cache:
        env = os.environ | {"HF_DATASETS_CACHE": cache, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
        res = subprocess.run([sys.executable, "-c", BLOCKS[n]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"README python snippet {n + 1} failed:\n{res.stderr[-2000:]}"
    assert res.stdout.strip(), "the snippet printed nothing"

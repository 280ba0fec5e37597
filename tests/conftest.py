"""Shared fixtures: a throw-away copy of the project, so tests never touch the real corpus."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

# no network, and no shared cache: load_dataset reads local folders into a throw-away cache
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="khabar-tests-hf-")
atexit.register(shutil.rmtree, os.environ["HF_DATASETS_CACHE"], True)

import datasets  # noqa: E402 - after the environment above, which it reads at import
import pytest  # noqa: E402

datasets.disable_progress_bars()

from khabar.core.project import Project
from khabar.core.schema import Schemas

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "fixtures" / "cases"  # copies of ../shared/cases
SEED = "000_1c97974decbb7475.txt"
SEED_ID = "kb-1415eb2e8d27dc16"


def load_case(name: str) -> dict:
    return json.loads((CASES / name).read_text(encoding="utf-8"))


def make_project(folder: Path, with_corpus: bool = True, full: bool = False) -> Project:
    """A project at ``folder`` with the real schema and the seed article (its seed file, manifest
    line and, if asked, its corpus document); with ``full``, every seed and document of the checkout."""
    shutil.copytree(ROOT / "schema", folder / "schema")
    shutil.copy(ROOT / "DATASHEET.md", folder / "DATASHEET.md")
    if full:
        shutil.copytree(ROOT / "seeds", folder / "seeds")
        if with_corpus:
            shutil.copytree(ROOT / "corpus", folder / "corpus")
    else:
        (folder / "seeds").mkdir()
        shutil.copy(ROOT / "seeds" / SEED, folder / "seeds" / SEED)
        lines = (ROOT / "seeds" / "manifest.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (folder / "seeds" / "manifest.jsonl").write_text("".join(line for line in lines if f'"seed_file": "{SEED}"' in line),
                                                          encoding="utf-8")
        if with_corpus:
            (folder / "corpus").mkdir()
            shutil.copy(ROOT / "corpus" / f"{SEED_ID}.json", folder / "corpus" / f"{SEED_ID}.json")
    (folder / "annotations").mkdir()
    shutil.copy(ROOT / "annotations" / "annotators.json", folder / "annotations" / "annotators.json")
    return Project(folder)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")


@pytest.fixture
def empty_project(tmp_path: Path) -> Project:
    """Schema and an empty seeds/ folder (no manifest, no corpus)."""
    p = tmp_path / "empty"
    shutil.copytree(ROOT / "schema", p / "schema")
    (p / "seeds").mkdir()
    shutil.copy(ROOT / "DATASHEET.md", p / "DATASHEET.md")
    return Project(p)


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    return Schemas(ROOT / "schema")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes (to prove a failed run changed nothing)."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- a real Label Studio server
# Started once per test session on a free loopback port, with its own data folder. Never
# skipped: if label-studio cannot be installed or started, every test that needs it errors.

STUDIO_USER = "admin@khabar.test"
STUDIO_PASSWORD = "khabar-test-password"


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    import secrets

    from khabar.studio.server import StudioServer, free_port, install

    from khabar.studio.tokens import create_personal_access_token

    install(Project(ROOT))
    # Label Studio's own token settings (issue 13): legacy tokens off, personal access tokens on.
    # allow_local_ml: tests/test_studio_backend.py connects an ML backend on 127.0.0.1
    server = StudioServer(Project(ROOT), free_port(), STUDIO_USER, STUDIO_PASSWORD,
                          data_dir=tmp_path_factory.mktemp("labelstudio"), allow_local_ml=True)
    server.start()
    try:
        server.wait_ready()
        server.api_key = create_personal_access_token(server.url, STUDIO_USER, STUDIO_PASSWORD)  # what clients send
        yield server
    finally:
        server.stop()


def studio_headers(server) -> dict[str, str]:
    """HTTP headers for a raw API call: the personal access token exchanged for an access token
    (``POST /api/token/refresh/``), sent as ``Authorization: Bearer``."""
    import httpx

    r = httpx.post(f"{server.url}/api/token/refresh/", json={"refresh": server.api_key}, timeout=60)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access']}"}


@pytest.fixture
def studio(studio_server):
    """A client connected to the session's server with a personal access token."""
    from khabar.studio.client import connect

    return connect(studio_server.url, studio_server.api_key)


@pytest.fixture
def title(request) -> str:
    """A Label Studio project title of this test's own."""
    import re
    import secrets

    return (re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:30] + "-" + secrets.token_hex(3))


def draw_entities(data, text: str, *, min_size: int = 0, max_size: int = 6) -> list[dict]:
    """Hypothesis: distinct non-empty entity spans over ``text`` (exact ``text[start:end]``)."""
    from hypothesis import strategies as st

    spans = data.draw(st.lists(st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))),
                               min_size=min_size, max_size=max_size))
    ents, seen = [], set()
    for i, (a, b) in enumerate(spans):
        s, e = min(a, b), max(a, b)
        if s == e or (s, e) in seen:
            continue
        seen.add((s, e))
        ents.append({"id": f"e{i}", "start": s, "end": e, "text": text[s:e], "type": ("PERS", "ORG", "GPE", "DATE")[i % 4]})
    return ents

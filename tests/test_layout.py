"""The package layout (issue 10): one package per stage, imports one way down, short modules and
functions, no private name imported across modules, file names and schema-owned values written once,
and a CLI that answers without loading the heavy libraries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "khabar"
MODULES = sorted(SRC.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
STAGES = ("core", "ingest", "annotate", "model", "text", "agreement", "dataset", "gate", "release", "baseline", "formats", "studio", "cli")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_every_module_lives_in_a_stage_package() -> None:
    top = sorted(p.name for p in SRC.glob("*.py"))
    # __init__ (the version), __main__ (python -m khabar), tokenize (the rule's old home, named by release cards up to 0.3.0)
    assert top == ["__init__.py", "__main__.py", "tokenize.py"]
    assert sorted(p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(STAGES)
    for stage in STAGES:
        assert (SRC / stage / "__init__.py").is_file(), stage
        assert ast.get_docstring(_tree(SRC / stage / "__init__.py")), f"{stage}/__init__.py has no docstring"


def test_imports_go_one_way_down() -> None:
    """The import-linter contract in pyproject.toml ([tool.importlinter]) holds: no cycle, no upward import."""
    exe = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "Contracts: 1 kept, 0 broken." in res.stdout


def test_no_private_name_is_imported_across_modules() -> None:
    found = []
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("khabar") or (isinstance(node, ast.ImportFrom) and node.level):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
    assert found == []


def test_modules_and_functions_are_short() -> None:
    long_modules, long_functions = [], []
    for path in MODULES:
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            long_modules.append(f"{path.relative_to(ROOT)}: {n} lines")
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {size} lines")
    assert long_modules == [] and long_functions == []


@pytest.mark.parametrize("name", ["gold.json", "conflicts.json", "annotators.json", "preannotator.json", "GUIDELINES.md",
                                  ".labelstudio", ".venv-studio", "annotator-map.json", "manifest.jsonl",
                                  "README.md", "DATASHEET.md", "CHANGELOG.md", "SHA256SUMS", "croissant.json", "reports",
                                  "index.jsonl", "stats.json", "build.json", "rows.json", "baseline.json"])
def test_file_names_are_written_once(name: str) -> None:
    """Only khabar.core.project names the project's files and khabar.dataset.layout a release's;
    everyone else asks them."""
    where = []
    for path in MODULES:
        if path in (SRC / "core" / "project.py", SRC / "dataset" / "layout.py"):
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Constant) and node.value == name:
                where.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert where == []


def test_the_schema_owns_the_doc_id_pattern_splits_and_label_fields() -> None:
    from khabar.core.ids import DOC_ID_PATTERN
    from khabar.core.schema import Schemas
    from khabar.dataset.rows import SPLITS

    schemas = Schemas(ROOT / "schema")
    assert schemas["common"]["$defs"]["DocId"]["pattern"] == DOC_ID_PATTERN
    assert SPLITS == schemas.splits == ("train", "validation", "test")
    assert schemas.label_fields("annotation") == (".type", ".checkworthy", ".speech", ".target", ".label")
    assert schemas.label_fields("release/documents") == (".type", ".checkworthy", ".speech", ".target", ".label", ".kind")
    assert schemas.vocabularies("release/documents") == ("EntityType", "StanceLabel", "StanceTarget", "Checkworthy", "Speech", "FlagKind")


def test_a_new_label_property_in_the_schema_is_a_label_field(tmp_path: Path) -> None:
    """Projections follow the schema: a schema copy that gives entities a second labelled property
    yields it as a label field, with no code change."""
    import shutil

    from khabar.core.schema import Schemas

    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    path = tmp_path / "schema" / "annotation.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    entity = next(d for d in schema["$defs"].values() if "type" in d.get("properties", {}) and "start" in d.get("properties", {}))
    entity["properties"]["subtype"] = {"$ref": "urn:khabar:schema:labels#/$defs/Speech"}
    path.write_text(json.dumps(schema), encoding="utf-8")
    assert Schemas(tmp_path / "schema").label_fields("annotation") == (".type", ".subtype", ".checkworthy", ".speech", ".target", ".label")


HEAVY = ("datasets", "mlcroissant", "pyarrow", "jsonschema", "label_studio_sdk", "sklearn", "matplotlib")
PROBE = """
import sys
from typer.testing import CliRunner
from khabar.cli import app
res = CliRunner().invoke(app, {args!r})
print(res.exit_code)
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("args, code", [(["--help"], 0), (["build", "--help"], 0), (["studio", "--help"], 0),
                                         (["build", "--version", "1.0"], 1), (["validate"], 2), (["--version"], 0)])
def test_help_and_argument_errors_load_no_heavy_library(args: list[str], code: int) -> None:
    """`khabar --help` and a malformed argument answer before datasets, mlcroissant, pyarrow or the
    JSON Schema checkers are imported (what made `khabar build --version 1.0` take 2.7 s)."""
    res = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    exit_code, loaded = res.stdout.strip().split("\n")[-2:] if "\n" in res.stdout.strip() else (res.stdout.strip(), "")
    assert (int(exit_code), loaded.strip()) == (code, "")


def test_python_dash_m_khabar_runs_the_cli() -> None:
    res = subprocess.run([sys.executable, "-m", "khabar", "--version"], capture_output=True, text=True, cwd=ROOT)
    from khabar import __version__

    assert (res.returncode, res.stdout.splitlines()[0]) == (0, f"khabar {__version__}")

"""The registry of the gate's check ids (:data:`khabar.gate.problems.CHECKS`) against the code, the
README and the tests: every id the gate can emit is registered, documented in README.md ("The
gate's check ids"), and triggered and asserted by a named test (:data:`TRIGGERED_BY`); a
:class:`~khabar.gate.problems.Problem` with an unregistered id cannot be made.

Two ids cannot be reached through a release's parquet files, because the Arrow columns are typed
from the schema: ``offset-type`` (offsets are int32 columns) and ``label-unknown`` (every label is
decoded from its ClassLabel list, which is the schema's vocabulary). Their tests here run the
gate's own row checks on a decoded row directly.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from khabar.core.checks import CHECK_IDS, check_row
from khabar.core.schema import Schemas
from khabar.dataset.features import features_for, make_decoder
from khabar.gate.problems import CHECKS, LEVELS, Problem
from khabar.gate.records import schema_problems

ROOT = Path(__file__).resolve().parents[1]
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
SHARD = "data/documents/validation-00000-of-00001.parquet"

#: check id -> the test (``file::function``) that triggers it and asserts it
TRIGGERED_BY = {
    "file-missing": "test_validate.py::test_required_file_missing",
    "file-symlink": "test_validate.py::test_file_symlink",
    "checksum-mismatch": "test_validate.py::test_malformed_checksum_line",
    "checksum-file-missing": "test_validate.py::test_checksum_file_missing_and_unlisted",
    "checksum-unlisted": "test_validate.py::test_checksum_file_missing_and_unlisted",
    "card-yaml-invalid": "test_validate.py::test_card_yaml_invalid",
    "card-files-mismatch": "test_validate.py::test_card_data_file_does_not_exist",
    "card-features-mismatch": "test_validate.py::test_card_features_mismatch",
    "card-count-mismatch": "test_validate.py::test_card_count_mismatch",
    "parquet-unreadable": "test_validate.py::test_parquet_unreadable",
    "parquet-schema-mismatch": "test_validate.py::test_parquet_with_inferred_schema",
    "classlabel-out-of-range": "test_validate.py::test_classlabel_out_of_range",
    "label-unknown": "test_gate_checks.py::test_label_unknown_is_an_enum_problem_at_a_label_field",
    "schema-invalid": "test_validate.py::test_schema_invalid_row",
    "offset-type": "test_gate_checks.py::test_offset_type",
    "span-out-of-bounds": "test_validate.py::test_span_end_past_text_is_out_of_bounds",
    "span-empty": "test_validate.py::test_entity_span_problem",
    "span-text-mismatch": "test_validate.py::test_claim_cue_span_mismatch",
    "id-duplicate": "test_validate.py::test_id_duplicate_across_layers",
    "id-dangling": "test_validate.py::test_id_dangling",
    "entity-duplicate": "test_validate.py::test_entity_duplicate_under_a_new_id",
    "chain-invalid": "test_validate.py::test_chain_invalid",
    "text-sha256-mismatch": "test_validate.py::test_text_sha256_mismatch",
    "doc-id-duplicate": "test_validate.py::test_doc_id_duplicate_in_one_split",
    "split-mismatch": "test_validate.py::test_same_document_in_two_splits",
    "split-leak-exact": "test_validate.py::test_exact_leak_under_another_id",
    "split-leak-near": "test_validate.py::test_near_duplicate_in_another_split",
    "tokens-misaligned": "test_validate.py::test_tokens_misaligned",
    "report-invalid": "test_validate.py::test_rows_report_without_configs_is_reported_not_raised",
    "croissant-invalid": "test_validate.py::test_croissant_invalid",
    "croissant-records": "test_validate.py::test_croissant_records_none_yielded",
    "config-derivation-mismatch": "test_validate.py::test_config_derivation_mismatch_names_the_first_row",
    "load-failed": "test_validate.py::test_load_failed",
    "load-mismatch": "test_validate.py::test_load_mismatch",
}


# --------------------------------------------------------------------------- the registry

def test_every_check_has_a_level_and_a_one_line_meaning() -> None:
    assert len(CHECKS) == 34
    for check in CHECKS.values():
        assert KEBAB.match(check.id), check
        assert check.level in LEVELS, check
        assert check.meaning and "\n" not in check.meaning, check
    levels = [c.level for c in CHECKS.values()]
    assert levels == sorted(levels), "the registry is in level order"


def test_a_problem_with_an_unregistered_id_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="unknown check id 'no-such-check'"):
        Problem("no-such-check", "README.md", "anything")
    assert Problem("file-missing", "README.md", "required file is missing").line() == "error file-missing README.md: required file is missing"


def test_the_row_checks_of_khabar_core_are_registered() -> None:
    assert set(CHECK_IDS) <= set(CHECKS)


def _emitted_ids() -> dict[str, list[str]]:
    """Check ids written in the gate's code and khabar.core.checks: the first argument of each
    ``Problem(...)`` (both branches of a conditional too) and the first item of each
    ``(check, field, message)`` triple. Id -> where."""
    found: dict[str, list[str]] = {}
    paths = sorted((ROOT / "src" / "khabar" / "gate").glob("*.py")) + [ROOT / "src" / "khabar" / "core" / "checks.py"]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            firsts: list[ast.AST] = []
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem" and node.args:
                arg = node.args[0]
                firsts += [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            if isinstance(node, ast.Tuple) and len(node.elts) == 3:
                firsts.append(node.elts[0])
            for first in firsts:
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and KEBAB.match(first.value):
                    found.setdefault(first.value, []).append(f"{path.name}:{node.lineno}")
    return found


def test_every_id_in_the_code_is_registered_and_every_registered_id_is_in_the_code() -> None:
    emitted = _emitted_ids()
    assert {k: v for k, v in emitted.items() if k not in CHECKS} == {}
    assert sorted(set(CHECKS) - set(emitted)) == []


# --------------------------------------------------------------------------- documented

def test_every_id_is_documented_in_the_readme() -> None:
    """README.md's table of the gate's check ids lists exactly the registry, level by level."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### The gate's check ids"):]
    for level, name in LEVELS.items():
        row = re.search(rf"^\| {level} {name} \| (.*) \|$", section, re.M)
        assert row, f"README.md: no row for level {level} {name}"
        listed = [c.strip().strip("`") for c in row.group(1).split(",")]
        assert listed == [c.id for c in CHECKS.values() if c.level == level], f"README.md, level {level}"


# --------------------------------------------------------------------------- triggered by a test

def _test_source(name: str) -> str | None:
    """The source of test function ``file::function`` in tests/, decorators included, or None."""
    file, func = name.split("::")
    path = Path(__file__).parent / file
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == func:
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            return "\n".join(text.splitlines()[first - 1:node.end_lineno])
    return None


def test_every_id_is_triggered_and_asserted_by_a_named_test() -> None:
    assert sorted(TRIGGERED_BY) == sorted(CHECKS)
    for check, name in TRIGGERED_BY.items():
        assert name.split("::")[1].startswith("test_"), name
        source = _test_source(name)
        assert source is not None, f"{check}: no test {name}"
        assert f'"{check}"' in source, f"{check}: {name} does not name the check id"


# --------------------------------------------------------------------------- the ids parquet cannot reach

@pytest.fixture(scope="module")
def decoded_row(schemas: Schemas) -> dict[str, Any]:
    """The first documents row of the committed release 0.3.0 (with gold annotation), labels as names."""
    row = pq.read_table(ROOT / "releases" / "0.3.0" / SHARD).to_pylist()[0]
    decoded = make_decoder(features_for(schemas, "documents"))(row)
    assert decoded["entities"] and decoded["stances"]
    assert schemas.problems("release/documents", decoded) == [] and check_row(decoded) == []
    return decoded


def test_label_unknown_is_an_enum_problem_at_a_label_field(schemas: Schemas, decoded_row: dict[str, Any]) -> None:
    """A label outside its vocabulary is ``label-unknown``; any other schema problem is ``schema-invalid``."""
    row = {**decoded_row, "entities": [dict(decoded_row["entities"][0], type="PERSON"), *decoded_row["entities"][1:]],
           "stances": [dict(decoded_row["stances"][0], label="PRO"), *decoded_row["stances"][1:]],
           "lang": "arabic"}
    found = schemas.problems("release/documents", row)
    problems = schema_problems(schemas, "release/documents", SHARD, found, row["id"])
    assert sorted((p.check, p.file, p.record, p.field) for p in problems) == [
        ("label-unknown", SHARD, row["id"], "$.entities[0].type"),
        ("label-unknown", SHARD, row["id"], "$.stances[0].label"),
        ("schema-invalid", SHARD, row["id"], "$.lang")]
    assert next(p for p in problems if p.field == "$.entities[0].type").message.startswith("'PERSON' is not one of ['PERS', ")


@pytest.mark.parametrize("bad", ["3", 3.0, True])
def test_offset_type(decoded_row: dict[str, Any], bad: Any) -> None:
    """An offset that is not a plain int (a string, a float, a bool) is ``offset-type``, never compared."""
    entity = decoded_row["entities"][0]
    row = {**decoded_row, "entities": [dict(entity, start=bad), *decoded_row["entities"][1:]]}
    assert check_row(row) == [("offset-type", "$.entities[0]", f"offsets must be integers, got start={bad!r} end={entity['end']!r}")]

"""The release gate (:mod:`khabar.gate.validate`): one good release, then one broken copy per check.

A good release is built once per module from a copy of the project plus a small gold
annotation. Each test copies that release, breaks it in exactly one way, rewrites
``SHA256SUMS`` (except where the checksum itself is under test) so that only the intended check
fires, runs :func:`khabar.gate.validate.validate_release` and asserts the check id *and* the
location (file, record, field) of the expected problem.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import khabar.release.build
import khabar.core.project
import khabar.core.schema
import khabar.dataset.digest
import khabar.gate.validate
from conftest import make_project
from khabar.dataset.card import data_path
from khabar.dataset.features import CONFIGS, TRAINING_CONFIGS, arrow_schema, features_for, make_decoder, make_encoder
from khabar.dataset.rows import split_for
from khabar.dataset.training import Spec, derive

ROOT = Path(__file__).resolve().parents[1]
DOC_ID = "kb-1415eb2e8d27dc16"
VERSION = "0.1.0"
SHARD = data_path("documents", split_for(DOC_ID))          # data/documents/validation-00000-of-00001.parquet
TRAIN_SHARD = data_path("documents", "train")


# --------------------------------------------------------------------------- the good release

def _gold_annotation(doc: dict[str, Any]) -> dict[str, Any]:
    """A gold annotation of the seed document; every offset is found with ``text.index``."""
    text = doc["text"]

    def span(s: str, before: str = "") -> dict[str, Any]:
        start = text.index(before + s) + len(before)
        return {"start": start, "end": start + len(s), "text": s}

    def entity(eid: str, s: str, typ: str, before: str = "") -> dict[str, Any]:
        return {"id": eid, **span(s, before), "type": typ}

    gov = entity("e2", "الحكومة العراقية", "ORG", "من ")
    iraqi_start = gov["start"] + len("الحكومة ")
    entities = [
        entity("e1", "البنتاغون", "ORG", "وطلب "),
        gov,
        # nested GPE inside the ORG "الحكومة العراقية"
        {"id": "e3", "start": iraqi_start, "end": gov["end"], "text": "العراقية", "type": "GPE"},
        entity("e4", "وكالة مهر للأنباء", "ORG"),
        entity("e5", "قناة الجزيرة", "ORG"),
        entity("e6", "البيت الأبيض", "ORG", "أن "),
        entity("e7", "البنتاغون", "ORG", "وزعم "),
        entity("e8", "جو بايدن", "PERS"),
    ]
    for e in entities:
        assert text[e["start"]:e["end"]] == e["text"], e
    claims = [
        {"id": "c1", "content": span("أننا على علم بأي تهديدات ضد قواتنا، خاصة في العراق وسوريا"),
         "cue": span("أعلن", "الأبيض "), "source": "e6", "via": ["e4", "e5"], "checkworthy": "yes", "speech": "indirect"},
        {"id": "c2", "content": span("هذه الهجمات لم تكن ناجحة"), "cue": span("زعم", "و"),
         "source": "e7", "via": [], "checkworthy": "yes", "speech": "indirect"},
    ]
    stances = [{"id": "s1", "holder": "e7", "target": "attacks-on-us-forces", "label": "AGAINST", "evidence": ["c2"]}]
    return {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": "gold",
            "guidelines_version": "1.0", "origin": {"kind": "manual", "sources": ["a01"]},
            "entities": entities, "claims": claims, "stances": stances}


@pytest.fixture(scope="module")
def gate_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away project: the real schema, seeds, corpus and datasheet plus one gold annotation."""
    root = tmp_path_factory.mktemp("gate-project")
    make_project(root)  # the real schema and datasheet, the seed article's seed and document
    doc = json.loads((root / "corpus" / f"{DOC_ID}.json").read_text(encoding="utf-8"))
    gold = _gold_annotation(doc)
    schemas = khabar.core.schema.Schemas(root / "schema")
    assert schemas.problems("annotation", gold) == []
    (root / "annotations" / DOC_ID).mkdir(parents=True)
    shutil.copy(ROOT / "annotations" / "annotators.json", root / "annotations" / "annotators.json")
    (root / "annotations" / DOC_ID / "gold.json").write_text(json.dumps(gold, ensure_ascii=False, indent=2), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def gate_schemas(gate_project: Path) -> khabar.core.schema.Schemas:
    return khabar.core.schema.Schemas(gate_project / "schema")


@pytest.fixture(scope="module")
def gate_release(gate_project: Path) -> Path:
    """The good release, built (and gated by the build itself) once per module."""
    report = khabar.release.build.build(khabar.core.project.Project(gate_project), VERSION, progress=False)
    assert report.counts == {"validation": 1}
    assert report.stats["entities"] == 8 and report.stats["claims"] == 2 and report.stats["stances"] == 1
    return report.path


@pytest.fixture(scope="module")
def gate_row(gate_release: Path) -> dict[str, Any]:
    """The one row of the good release, as stored (labels as ClassLabel ids)."""
    rows = pq.read_table(gate_release / SHARD).to_pylist()
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def gate_broken(gate_release: Path, gate_schemas: khabar.core.schema.Schemas, tmp_path: Path):
    """``broken(breaker, resum=True, load=False) -> (folder, problems)``: a fresh copy of the good
    release, broken by ``breaker(folder)``, re-summed unless told not to, then validated."""
    def broken(breaker: Callable[[Path], None], resum: bool = True, load: bool = False):
        folder = _copy_break_resum(gate_release, tmp_path / "broken", breaker, resum)
        return folder, khabar.gate.validate.validate_release(folder, schemas=gate_schemas, load=load)
    return broken


# --------------------------------------------------------------------------- helpers

def _rehash_croissant(folder: Path) -> None:
    """Refresh the FileObject sha256 values of croissant.json, as a careful forger would."""
    path = folder / "croissant.json"
    if not path.is_file():
        return
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return  # a broken croissant.json is the case under test
    named = set()
    for obj in meta.get("distribution", []):
        target = folder / obj.get("contentUrl", "")
        if obj.get("@type") == "cr:FileObject" and target.is_file():
            obj["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
            named.add(obj.get("contentUrl"))
    for shard in sorted((folder / "data").rglob("*.parquet")) if (folder / "data").is_dir() else []:
        url = shard.relative_to(folder).as_posix()  # a shard the forger added gets its FileObject too
        if url not in named and isinstance(meta.get("distribution"), list):
            meta["distribution"].append({"@type": "cr:FileObject", "@id": url, "name": url, "contentUrl": url,
                                         "encodingFormat": "application/x-parquet",
                                         "sha256": hashlib.sha256(shard.read_bytes()).hexdigest()})
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _reindex(folder: Path) -> None:
    """Rewrite reports/index.jsonl to list the rows the shards now hold, as a careful forger would."""
    lines = []
    for shard in sorted((folder / "data" / "documents").rglob("*.parquet")):
        try:
            ids = pq.read_table(shard, columns=["id"]).column("id").to_pylist()
        except Exception:  # noqa: BLE001 - an unreadable shard is the case under test
            continue
        lines += [json.dumps({"id": i, "split": shard.name.split("-")[0]}) for i in ids]
    if (folder / "reports").is_dir():
        (folder / "reports" / "index.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _copy_break_resum(good: Path, dest: Path, breaker: Callable[[Path], None], resum: bool = True) -> Path:
    """Copy the release ``good`` to ``dest``, apply ``breaker`` to the copy, then rewrite the
    index, the file hashes in croissant.json and SHA256SUMS, so that only the check aimed at fires."""
    shutil.copytree(good, dest)
    breaker(dest)
    if resum:
        if (dest / "reports" / "index.jsonl").is_file():
            _reindex(dest)
        _rehash_croissant(dest)
        khabar.release.build.write_checksums(dest)
    return dest


def _find(problems: list[khabar.gate.validate.Problem], check: str) -> list[khabar.gate.validate.Problem]:
    """The problems of check id ``check`` (fails, listing everything found, when there is none)."""
    found = [p for p in problems if p.check == check]
    assert found, f"no {check} among: " + "; ".join(p.line() for p in problems)
    return found


def _assert_problem(problems: list[khabar.gate.validate.Problem], check: str, file: str,
                    record: str | None = None, field: str | None = None) -> None:
    """``check`` was reported at exactly (file, record, field)."""
    got = [(p.file, p.record, p.field) for p in _find(problems, check)]
    assert (file, record, field) in got, f"{check} reported at {got}, expected {(file, record, field)}"


def _checks(problems: list[khabar.gate.validate.Problem]) -> set[str]:
    return {p.check for p in problems}


def _edit_rows(folder: Path, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None],
               shard: str = SHARD, keep_schema: bool = True) -> None:
    """Rewrite ``shard`` with ``edit(rows)`` applied (in place, or the list it returns); written
    with the file's own Arrow schema unless ``keep_schema`` is false (then inferred)."""
    path = folder / shard
    schema = pq.ParquetFile(path).schema_arrow
    rows = pq.read_table(path).to_pylist()
    rows = edit(rows) or rows
    table = pa.Table.from_pylist(rows, schema=schema) if keep_schema else pa.Table.from_pylist(rows)
    pq.write_table(table, path, compression="zstd")


def _write_shard(folder: Path, shard: str, rows: list[dict[str, Any]]) -> None:
    """Write a new shard with the schema of the release's own shard."""
    schema = pq.ParquetFile(folder / SHARD).schema_arrow
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / shard, compression="zstd")


def _split_card(folder: Path) -> tuple[str, str]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4)
    return text[4:end], text[end:]


def _edit_card(folder: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``edit`` to the card's parsed YAML front matter and write it back."""
    head, rest = _split_card(folder)
    meta = yaml.safe_load(head)
    edit(meta)
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip("\n")
    (folder / "README.md").write_text("---\n" + head + rest, encoding="utf-8")


def _replace_in_card(folder: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in the card's YAML front matter."""
    head, rest = _split_card(folder)
    assert head.count(old) == 1, f"{old!r} occurs {head.count(old)} times in the card YAML"
    (folder / "README.md").write_text("---\n" + head.replace(old, new) + rest, encoding="utf-8")


def _documents_info(meta: dict[str, Any], config: str = "documents") -> dict[str, Any]:
    infos = meta["dataset_info"]
    infos = [infos] if isinstance(infos, dict) else infos
    return next(i for i in infos if i.get("config_name", "default") == config)


def _documents_config(meta: dict[str, Any], config: str = "documents") -> dict[str, Any]:
    return next(c for c in meta["configs"] if c["config_name"] == config)


def _set_count(folder: Path, n: int, config: str = "documents", split: str = "validation") -> None:
    """Set the card's ``num_examples`` of ``config``/``split``."""
    def edit(meta: dict[str, Any]) -> None:
        next(x for x in _documents_info(meta, config)["splits"] if x["name"] == split)["num_examples"] = n
    _edit_card(folder, edit)


def _add_documents(folder: Path, split: str, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` (documents rows as stored) to ``split`` together with the training rows derived
    from them, and declare every shard with its count in the card, as a careful forger would."""
    schemas = khabar.core.schema.Schemas(ROOT / "schema")
    feats = {c: features_for(schemas, c) for c in CONFIGS}
    new: dict[str, list[dict[str, Any]]] = {c: [] for c in CONFIGS}
    for row in rows:
        new["documents"].append(row)
        derived = derive(make_decoder(feats["documents"])(row), Spec.from_schemas(schemas))
        for c in TRAINING_CONFIGS:
            new[c] += [make_encoder(feats[c])(r) for r in derived.rows[c]]
    for c, added in new.items():
        path = folder / data_path(c, split)
        if not added:
            continue
        old = pq.read_table(path).to_pylist() if path.is_file() else []
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(old + added, schema=arrow_schema(feats[c])), path, compression="zstd")

        def edit(meta: dict[str, Any], c: str = c, n: int = len(old) + len(added), size: int = path.stat().st_size) -> None:
            files, splits = _documents_config(meta, c)["data_files"], _documents_info(meta, c)["splits"]
            if not any(f["split"] == split for f in files):
                files.insert(0, {"split": split, "path": data_path(c, split)})
                splits.insert(0, {"name": split})
            next(x for x in splits if x["name"] == split).update(num_bytes=size, num_examples=n)
        _edit_card(folder, edit)


def _declare_train_shard(folder: Path, num_examples: int = 1) -> None:
    """Add the train shard to the card (configs data_files and dataset_info splits)."""
    size = (folder / TRAIN_SHARD).stat().st_size

    def edit(meta: dict[str, Any]) -> None:
        _documents_config(meta)["data_files"].insert(0, {"split": "train", "path": TRAIN_SHARD})
        _documents_info(meta)["splits"].insert(0, {"name": "train", "num_bytes": size, "num_examples": num_examples})
    _edit_card(folder, edit)


def _id_in(split: str, start: int = 0) -> str:
    """A well-formed document id that :func:`split_for` assigns to ``split``."""
    n = start
    while split_for(f"kb-{n:016x}") != split:
        n += 1
    return f"kb-{n:016x}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- the good release passes

def test_good_release_passes_every_check(gate_release: Path, gate_schemas: khabar.core.schema.Schemas) -> None:
    assert khabar.gate.validate.validate_release(gate_release, schemas=gate_schemas, load=True) == []
    assert khabar.gate.validate.validate_release(gate_release, schemas=gate_schemas, load=False) == []


def test_helpers_alone_break_nothing(gate_broken) -> None:
    """Rewriting the shard with its own schema and re-dumping the card YAML is not itself a problem,
    so every problem in the tests below comes from the one break each makes."""
    def noop(folder: Path) -> None:
        _edit_rows(folder, lambda rows: None)
        _edit_card(folder, lambda meta: None)
    _, problems = gate_broken(noop, load=True)
    assert problems == []


def test_good_row_holds_the_gold_annotation(gate_row: dict[str, Any]) -> None:
    assert gate_row["id"] == DOC_ID
    assert [e["id"] for e in gate_row["entities"]] == [f"e{i}" for i in range(1, 9)]
    assert [c["id"] for c in gate_row["claims"]] == ["c1", "c2"]
    assert gate_row["stances"][0]["evidence"] == ["c2"]
    e3 = gate_row["entities"][2]
    assert gate_row["text"][e3["start"]:e3["end"]] == "العراقية"


# --------------------------------------------------------------------------- level 3: spans

def _set_entity(index: int, **change: Any) -> Callable[[Path], None]:
    def breaker(folder: Path) -> None:
        def edit(rows: list[dict[str, Any]]) -> None:
            e = rows[0]["entities"][index]
            e.update({k: (v(e) if callable(v) else v) for k, v in change.items()})
        _edit_rows(folder, edit)
    return breaker


@pytest.mark.parametrize("index, change, check", [
    pytest.param(0, {"start": lambda e: e["start"] + 1, "end": lambda e: e["end"] + 1}, "span-text-mismatch", id="shifted"),
    pytest.param(3, {"start": lambda e: e["start"] + 1, "end": lambda e: e["end"] + 1}, "span-text-mismatch", id="shifted-inner"),
    pytest.param(1, {"end": lambda e: e["start"]}, "span-empty", id="empty"),
    pytest.param(2, {"start": lambda e: e["end"] + 1}, "span-out-of-bounds", id="start-after-end"),
])
def test_entity_span_problem(gate_broken, index: int, change: dict[str, Any], check: str) -> None:
    _, problems = gate_broken(_set_entity(index, **change))
    _assert_problem(problems, check, SHARD, DOC_ID, f"$.entities[{index}]")
    assert _checks(problems) == {check}


def test_span_end_past_text_is_out_of_bounds(gate_broken, gate_row: dict[str, Any]) -> None:
    n = len(gate_row["text"])
    _, problems = gate_broken(_set_entity(7, end=n + 5))
    _assert_problem(problems, "span-out-of-bounds", SHARD, DOC_ID, "$.entities[7]")
    assert _checks(problems) == {"span-out-of-bounds"}


def test_claim_cue_span_mismatch(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        def edit(rows: list[dict[str, Any]]) -> None:
            cue = rows[0]["claims"][1]["cue"]
            cue["start"] -= 1
            cue["end"] -= 1
        _edit_rows(folder, edit)
    _, problems = gate_broken(breaker)
    _assert_problem(problems, "span-text-mismatch", SHARD, DOC_ID, "$.claims[1].cue")
    assert _checks(problems) == {"span-text-mismatch"}


# --------------------------------------------------------------------------- level 3: ids

def _edit_first_row(fn: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def breaker(folder: Path) -> None:
        _edit_rows(folder, lambda rows: fn(rows[0]))
    return breaker


@pytest.mark.parametrize("fn, field", [
    pytest.param(lambda r: r["claims"][0].__setitem__("source", "nope"), "$.claims[0].source", id="claim-source"),
    pytest.param(lambda r: r["claims"][0]["via"].__setitem__(1, "nope"), "$.claims[0].via[1]", id="claim-via"),
    pytest.param(lambda r: r["stances"][0]["evidence"].__setitem__(0, "c99"), "$.stances[0].evidence[0]", id="stance-evidence"),
    pytest.param(lambda r: r["stances"][0].__setitem__("holder", "c1"), "$.stances[0].holder", id="stance-holder-is-a-claim"),
    # evidence must name a claim, not an entity
    pytest.param(lambda r: r["stances"][0]["evidence"].__setitem__(0, "e7"), "$.stances[0].evidence[0]", id="evidence-is-an-entity"),
])
def test_id_dangling(gate_broken, fn: Callable[[dict[str, Any]], None], field: str) -> None:
    _, problems = gate_broken(_edit_first_row(fn))
    _assert_problem(problems, "id-dangling", SHARD, DOC_ID, field)
    assert _checks(problems) == {"id-dangling"}


def test_id_duplicate_entity(gate_broken, gate_row: dict[str, Any]) -> None:
    n = len(gate_row["entities"])
    # a second entity with e1's id (an exact copy, so no span check fires; the copy is also a
    # duplicate mention: same span and type)
    _, problems = gate_broken(_edit_first_row(lambda r: r["entities"].append(dict(r["entities"][0]))))
    _assert_problem(problems, "id-duplicate", SHARD, DOC_ID, f"$.entities[{n}].id")
    _assert_problem(problems, "entity-duplicate", SHARD, DOC_ID, f"$.entities[{n}]")
    assert _checks(problems) == {"id-duplicate", "entity-duplicate"}


def test_entity_duplicate_under_a_new_id(gate_broken, gate_row: dict[str, Any]) -> None:
    n = len(gate_row["entities"])
    _, problems = gate_broken(_edit_first_row(lambda r: r["entities"].append({**r["entities"][0], "id": "e99"})))
    _assert_problem(problems, "entity-duplicate", SHARD, DOC_ID, f"$.entities[{n}]")
    assert _checks(problems) == {"entity-duplicate"}


def test_id_duplicate_across_layers(gate_broken) -> None:
    """Ids are unique across entities, claims and stances of one document."""
    _, problems = gate_broken(_edit_first_row(lambda r: r["stances"][0].__setitem__("id", "c1")))
    _assert_problem(problems, "id-duplicate", SHARD, DOC_ID, "$.stances[0].id")
    assert _checks(problems) == {"id-duplicate"}


@pytest.mark.parametrize("fn, field, message", [
    pytest.param(lambda r: r["claims"][0]["via"].append("e6"), "$.claims[0].via",
                 "the source 'e6' is also in its own reporting chain", id="source-in-its-chain"),
    pytest.param(lambda r: r["claims"][0]["via"].append("e4"), "$.claims[0].via",
                 "an entity appears twice in the reporting chain", id="entity-twice-in-chain"),
    pytest.param(lambda r: r["stances"][0]["evidence"].append("c2"), "$.stances[0].evidence",
                 "a claim is listed twice as evidence", id="evidence-twice"),
])
def test_chain_invalid(gate_broken, fn: Callable[[dict[str, Any]], None], field: str, message: str) -> None:
    _, problems = gate_broken(_edit_first_row(fn))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [("chain-invalid", SHARD, DOC_ID, field, message)]


def test_text_sha256_mismatch(gate_broken) -> None:
    _, problems = gate_broken(_edit_first_row(lambda r: r.__setitem__("text_sha256", "0" * 64)))
    _assert_problem(problems, "text-sha256-mismatch", SHARD, DOC_ID, "$.text_sha256")
    assert _checks(problems) == {"text-sha256-mismatch"}


# --------------------------------------------------------------------------- level 2: records

def test_classlabel_out_of_range(gate_broken) -> None:
    _, problems = gate_broken(_edit_first_row(lambda r: r["entities"][2].__setitem__("type", 99)))
    _assert_problem(problems, "classlabel-out-of-range", SHARD, DOC_ID, "$.entities[2].type")
    assert _checks(problems) == {"classlabel-out-of-range"}


@pytest.mark.parametrize("fn, field", [
    pytest.param(lambda r: r["stances"][0].__setitem__("label", 3), "$.stances[0].label", id="stance-label"),
    pytest.param(lambda r: r["claims"][1].__setitem__("speech", -1), "$.claims[1].speech", id="negative-id"),
    pytest.param(lambda r: r["flags"][0].__setitem__("kind", 4), "$.flags[0].kind", id="flag-kind"),
])
def test_classlabel_out_of_range_anywhere(gate_broken, fn: Callable[[dict[str, Any]], None], field: str) -> None:
    _, problems = gate_broken(_edit_first_row(fn))
    _assert_problem(problems, "classlabel-out-of-range", SHARD, DOC_ID, field)
    assert _checks(problems) == {"classlabel-out-of-range"}


def test_schema_invalid_row(gate_broken) -> None:
    _, problems = gate_broken(_edit_first_row(lambda r: r.__setitem__("lang", "arabic")))
    _assert_problem(problems, "schema-invalid", SHARD, DOC_ID, "$.lang")
    assert _checks(problems) == {"schema-invalid"}


# --------------------------------------------------------------------------- across rows and splits

def test_doc_id_duplicate_in_one_split(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        _edit_rows(folder, lambda rows: rows + [dict(rows[0])])
        _set_count(folder, 2)   # keep the card's count right
    _, problems = gate_broken(breaker)
    _assert_problem(problems, "doc-id-duplicate", SHARD, DOC_ID, "$.id")
    assert _checks(problems) == {"doc-id-duplicate"}


def test_same_document_in_two_splits(gate_broken, gate_row: dict[str, Any]) -> None:
    """The same row also in a train shard that the card declares: the copy is in a split its id
    does not assign, the id is repeated and the text leaks across splits."""
    def breaker(folder: Path) -> None:
        _write_shard(folder, TRAIN_SHARD, [gate_row])
        _declare_train_shard(folder)
    _, problems = gate_broken(breaker)
    # train is read before validation, so the leak and the duplicate are reported on the validation row
    _assert_problem(problems, "split-mismatch", TRAIN_SHARD, DOC_ID, "$.id")
    _assert_problem(problems, "split-leak-exact", SHARD, DOC_ID, "$.text")
    _assert_problem(problems, "doc-id-duplicate", SHARD, DOC_ID, "$.id")
    assert _checks(problems) == {"split-mismatch", "split-leak-exact", "doc-id-duplicate"}


def test_exact_leak_under_another_id(gate_broken, gate_row: dict[str, Any]) -> None:
    """The same text under a train id, in the train shard: only the leak fires."""
    other = _id_in("train")

    _, problems = gate_broken(lambda folder: _add_documents(folder, "train", [dict(gate_row, id=other)]))
    _assert_problem(problems, "split-leak-exact", SHARD, DOC_ID, "$.text")
    assert _checks(problems) == {"split-leak-exact"}


def _near_duplicate(row: dict[str, Any], doc_id: str) -> dict[str, Any]:
    """``row``'s text with three words changed (same lengths, so its ranges stay valid), under
    ``doc_id``, with a consistent text_sha256 and no annotation layers or flags."""
    text = row["text"]
    for word in ("المتحدث", "واعترف", "اتفاقية"):
        assert word in text
        text = text.replace(word, word[::-1], 1)
    assert text != row["text"] and len(text) == len(row["text"])
    return dict(row, id=doc_id, text=text, text_sha256=_sha(text), entities=[], claims=[], stances=[], flags=[])


def test_near_duplicate_in_another_split(gate_broken, gate_row: dict[str, Any]) -> None:
    other = _id_in("train")

    _, problems = gate_broken(lambda folder: _add_documents(folder, "train", [_near_duplicate(gate_row, other)]))
    _assert_problem(problems, "split-leak-near", SHARD, DOC_ID, "$.text")
    assert other in _find(problems, "split-leak-near")[0].message
    assert _checks(problems) == {"split-leak-near"}


def test_near_duplicate_with_misplaced_id(gate_broken, gate_row: dict[str, Any]) -> None:
    """A fabricated id that belongs to validation, put in train: the near leak still fires."""
    other = _id_in("validation")

    def breaker(folder: Path) -> None:
        _write_shard(folder, TRAIN_SHARD, [_near_duplicate(gate_row, other)])
        _declare_train_shard(folder)
    _, problems = gate_broken(breaker)
    _assert_problem(problems, "split-leak-near", SHARD, DOC_ID, "$.text")
    _assert_problem(problems, "split-mismatch", TRAIN_SHARD, other, "$.id")
    assert _checks(problems) == {"split-leak-near", "split-mismatch"}


def test_near_duplicate_in_the_same_split_is_no_leak(gate_broken, gate_row: dict[str, Any]) -> None:
    other = _id_in("validation")

    _, problems = gate_broken(lambda folder: _add_documents(folder, "validation", [_near_duplicate(gate_row, other)]))
    assert problems == []


# --------------------------------------------------------------------------- level 1: files and checksums

def test_checksum_mismatch_after_editing_a_shard(gate_broken) -> None:
    _, problems = gate_broken(_edit_first_row(lambda r: r.__setitem__("title", r["title"] + "!")), resum=False)
    _assert_problem(problems, "checksum-mismatch", "data/documents/validation-00000-of-00001.parquet")
    # croissant.json records the file's hash too, so it disagrees as well
    _assert_problem(problems, "croissant-invalid", "croissant.json")
    assert _checks(problems) == {"checksum-mismatch", "croissant-invalid"}


def test_croissant_hash_checked_even_when_sums_are_rewritten(gate_release, gate_schemas, tmp_path) -> None:
    """An edited shard with a forged SHA256SUMS is still caught: croissant.json holds the old hash."""
    folder = tmp_path / "forged"
    shutil.copytree(gate_release, folder)
    _edit_first_row(lambda r: r.__setitem__("title", r["title"] + "!"))(folder)
    khabar.release.build.write_checksums(folder)
    problems = khabar.gate.validate.validate_release(folder, schemas=gate_schemas, load=False)
    assert [(p.check, p.file) for p in problems] == [("croissant-invalid", "croissant.json")]
    assert "sha256 of data/documents/validation-00000-of-00001.parquet differs from the file" in problems[0].message


def test_checksum_file_missing_and_unlisted(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        (folder / "reports" / "stats.json").rename(folder / "reports" / "stats-old.json")
    _, problems = gate_broken(breaker, resum=False)
    _assert_problem(problems, "checksum-file-missing", "reports/stats.json")
    _assert_problem(problems, "checksum-unlisted", "reports/stats-old.json")
    _assert_problem(problems, "file-missing", "reports/stats.json")
    assert _checks(problems) == {"checksum-file-missing", "checksum-unlisted", "file-missing"}


def test_malformed_checksum_line(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        sums = folder / "SHA256SUMS"
        sums.write_text(sums.read_text(encoding="utf-8") + "not a checksum line\n", encoding="utf-8")
    _, problems = gate_broken(breaker, resum=False)
    _assert_problem(problems, "checksum-mismatch", "SHA256SUMS")
    assert _checks(problems) == {"checksum-mismatch"}


@pytest.mark.parametrize("name", ["croissant.json", "DATASHEET.md", "reports/rows.json"])
def test_required_file_missing(gate_broken, name: str) -> None:
    _, problems = gate_broken(lambda folder: (folder / name).unlink())
    _assert_problem(problems, "file-missing", name)
    assert _checks(problems) == {"file-missing"}


def test_file_symlink(gate_broken) -> None:
    """A link inside a release is reported (and neither followed nor counted as an unlisted file)."""
    _, problems = gate_broken(lambda folder: os.symlink("../DATASHEET.md", folder / "reports" / "link.md"), resum=False)
    assert [(p.check, p.file, p.message) for p in problems] == [
        ("file-symlink", "reports/link.md", "a link inside a release (releases hold plain files only)")]


def test_missing_release_folder(gate_schemas: khabar.core.schema.Schemas, tmp_path: Path) -> None:
    problems = khabar.gate.validate.validate_release(tmp_path / "nope", schemas=gate_schemas)
    assert _checks(problems) == {"file-missing"}


# --------------------------------------------------------------------------- level 1: the card

def test_card_data_file_does_not_exist(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        _edit_card(folder, lambda meta: _documents_config(meta)["data_files"][0].__setitem__("path", "data/documents/nope.parquet"))
    _, problems = gate_broken(breaker)
    _assert_problem(problems, "card-files-mismatch", "README.md", None, "configs.documents")
    # and the real shard is now declared nowhere
    _assert_problem(problems, "card-files-mismatch", SHARD)
    assert _checks(problems) == {"card-files-mismatch"}


def test_card_undeclared_shard(gate_broken, gate_row: dict[str, Any]) -> None:
    other = _id_in("train")
    _, problems = gate_broken(lambda folder: _write_shard(folder, TRAIN_SHARD, [dict(gate_row, id=other)]))
    _assert_problem(problems, "card-files-mismatch", TRAIN_SHARD)


def test_card_count_mismatch(gate_broken) -> None:
    _, problems = gate_broken(lambda folder: _set_count(folder, 7))
    _assert_problem(problems, "card-count-mismatch", "README.md", None, "dataset_info.splits")
    assert _checks(problems) == {"card-count-mismatch"}


def test_card_features_mismatch(gate_broken) -> None:
    _, problems = gate_broken(lambda folder: _replace_in_card(folder, "'0': PERS", "'0': PERSON"))
    _assert_problem(problems, "card-features-mismatch", "README.md", None, "dataset_info.documents.features")
    assert _checks(problems) == {"card-features-mismatch"}


@pytest.mark.parametrize("breaker", [
    pytest.param(lambda folder: _replace_in_card(folder, "configs:\n", "configs: [unclosed\n"), id="does-not-parse"),
    pytest.param(lambda folder: (folder / "README.md").write_text("# no front matter\n", encoding="utf-8"), id="no-front-matter"),
    pytest.param(lambda folder: (folder / "README.md").write_text("---\n- a list\n---\nbody\n", encoding="utf-8"), id="not-a-mapping"),
])
def test_card_yaml_invalid(gate_broken, breaker: Callable[[Path], None]) -> None:
    _, problems = gate_broken(breaker)
    _assert_problem(problems, "card-yaml-invalid", "README.md")
    assert _checks(problems) == {"card-yaml-invalid"}


@pytest.mark.parametrize("edit", [
    pytest.param(lambda meta: meta.__setitem__("configs", ["documents"]), id="configs-list-of-names"),
    pytest.param(lambda meta: meta.__setitem__("configs", "documents"), id="configs-a-string"),
    pytest.param(lambda meta: _documents_info(meta).__setitem__("splits", ["validation"]), id="splits-list-of-names"),
])
def test_card_malformed_structure_is_reported_not_raised(gate_broken, edit: Callable[[dict[str, Any]], None]) -> None:
    _, problems = gate_broken(lambda folder: _edit_card(folder, edit))
    # the exact field is the fix's to choose; the file and check id are not
    assert any(p.file == "README.md" for p in _find(problems, "card-yaml-invalid"))


def test_card_split_without_dataset_info(gate_broken) -> None:
    """A declared data file whose split dataset_info does not list (load_dataset would refuse it)."""
    _, problems = gate_broken(lambda folder: _edit_card(folder, lambda meta: _documents_info(meta).__setitem__("splits", [])),
                              load=True)
    _assert_problem(problems, "card-files-mismatch", "README.md", field="dataset_info.documents.splits")
    assert _checks(problems) == {"card-files-mismatch"}


# --------------------------------------------------------------------------- level 4: croissant

def test_croissant_invalid(gate_broken) -> None:
    _, problems = gate_broken(lambda folder: (folder / "croissant.json").write_text("{not json", encoding="utf-8"))
    _assert_problem(problems, "croissant-invalid", "croissant.json")
    assert _checks(problems) == {"croissant-invalid"}


def _edit_croissant(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    """A breaker applying ``edit`` to the parsed croissant.json."""
    def breaker(folder: Path) -> None:
        path = folder / "croissant.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
        edit(meta)
        path.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return breaker


def _record_set(meta: dict[str, Any], name: str) -> dict[str, Any]:
    return next(rs for rs in meta["recordSet"] if rs["name"] == name)


def test_croissant_records_none_yielded(gate_broken) -> None:
    """Issue 13: the FileSets of releases 0.1.0-0.4.2 were containedIn their parquet FileObjects,
    so mlcroissant read each parquet file as an archive and yielded 0 records; the validator passed.
    Such a file (Croissant 1.0) is one problem, and is not read."""
    def edit(meta: dict[str, Any]) -> None:
        meta["conformsTo"] = "http://mlcommons.org/croissant/1.0"  # as those releases wrote it
        for obj in meta["distribution"]:
            if obj["@type"] == "cr:FileSet":
                config = obj["@id"].removesuffix("-parquet")
                obj["containedIn"] = [{"@id": o["@id"]} for o in meta["distribution"]
                                      if o["@type"] == "cr:FileObject" and o["@id"].startswith(f"data/{config}/")]
    _, problems = gate_broken(_edit_croissant(edit))
    assert [(p.check, p.file, p.message) for p in problems] == [(
        "croissant-records", "croissant.json",
        "conforms to Croissant 1.0, not Croissant 1.1, so its records are not read; its FileSets are containedIn their "
        "parquet files, as releases before 0.4.3 wrote them, and mlcroissant yields no record from it (only Croissant "
        "readers are affected: load_dataset and the parquet files are sound; use release 0.4.3 or later)")]


def _field(meta: dict[str, Any], fid: str) -> dict[str, Any]:
    """The field (or sub-field) ``fid`` of croissant.json."""
    def walk(fields):
        for f in fields:
            if f["@id"] == fid:
                return f
            found = walk(f.get("subField", []))
            if found:
                return found
        return None
    return walk([f for rs in meta["recordSet"] for f in rs["field"]])


@pytest.mark.parametrize("edit, message", [
    # found by the adversarial review: each read back equal in Python (True == 1, 1 == 1.0), so the gate passed
    (lambda m: _field(m, "documents/annotation/annotated").__setitem__("dataType", "cr:Int64"),
     "field documents/annotation/annotated: dataType 'cr:Int64', but the parquet column holds sc:Boolean"),
    (lambda m: _field(m, "entities/ner_tags").__setitem__("dataType", "cr:UInt8"),
     "field entities/ner_tags: dataType 'cr:UInt8', but the parquet column holds cr:Int64"),
    (lambda m: _field(m, "documents/title").__setitem__("name", "headline"),
     "field documents/title: name 'headline', but its @id names 'title'"),
    (lambda m: [_field(m, "entities/tokens").pop(k) for k in ("cr:isArray", "cr:arrayShape")],
     "field entities/tokens: isArray missing, but the parquet column is a list"),
    (lambda m: m["recordSet"].append({"@type": "cr:RecordSet", "@id": "extra", "name": "extra", "field": []}),
     "record set 'extra' names no config of this release"),
    (lambda m: next(rs for rs in m["recordSet"] if rs["name"] == "claims")["field"].append(
        dict(_field(m, "claims/text"), **{"@id": "claims/more", "name": "more"})),
     "field claims/more: no such column in the parquet files of claims"),
    (lambda m: _field(m, "documents/split")["source"]["transform"].__setitem__("regex", "^(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*X$"),
     "field documents/split: not read from the file name by the regex Khabar writes"),  # would run for ever in mlcroissant
    (lambda m: _field(m, "documents/entities/start")["source"]["transform"].__setitem__("jsonPath", "end"),
     "field documents/entities/start: transform [{'jsonPath': 'end'}], not the one Khabar writes (jsonPath 'start')"),
])
def test_croissant_records_declared_fields_match_the_parquet_columns(gate_broken, edit, message) -> None:
    _, problems = gate_broken(_edit_croissant(edit))
    assert message in [p.message for p in problems if p.check == "croissant-records"], [p.line() for p in problems]
    assert _checks(problems) == {"croissant-records"}


@pytest.mark.parametrize("edit, message", [
    (lambda m: [o.__setitem__("@type", "http://mlcommons.org/croissant/FileObject") for o in m["distribution"]
                if o["@type"] == "cr:FileObject"], "sha256 of data/stances/validation-00000-of-00001.parquet differs from the file"),
    (lambda m: [o.update(md5="0" * 32) or o.pop("sha256") for o in m["distribution"] if o.get("@id", "").startswith("data/stances/")],
     "FileObject data/stances/validation-00000-of-00001.parquet has no sha256 (Khabar writes one for every file)"),
    (lambda m: m.__setitem__("distribution", [o for o in m["distribution"] if not o.get("@id", "").startswith("data/stances/")]),
     "no FileObject (with its sha256) for data/stances/validation-00000-of-00001.parquet"),
])
def test_a_recompressed_shard_is_caught_however_its_file_object_is_spelled(gate_broken, edit, message) -> None:
    """The adversarial review recompressed a shard (same rows, new bytes) and hid the stale hash."""
    def breaker(folder: Path) -> None:
        shard = folder / "data" / "stances" / "validation-00000-of-00001.parquet"
        table = pq.read_table(shard)
        pq.write_table(table, shard, compression="gzip")
        _edit_croissant(edit)(folder)
        khabar.release.build.write_checksums(folder)  # a careful forger: only croissant.json keeps the old hash
    _, problems = gate_broken(breaker, resum=False)
    assert message in [p.message for p in problems if p.check == "croissant-invalid"], [p.line() for p in problems]


def test_croissant_records_row_differs(gate_broken, monkeypatch) -> None:
    """A reader that gives other values than the parquet rows (here: mlcroissant yielding an
    entity start as a float) is named at its first differing record and part, with types."""
    import khabar.gate.croissant as gc

    real = gc.row_from_record

    def floats(record, config, features):
        split, row = real(record, config, features)
        if config == "documents" and row["entities"]:
            row["entities"][0]["start"] = float(row["entities"][0]["start"])
        return split, row
    monkeypatch.setattr(gc, "row_from_record", floats)
    _, problems = gate_broken(lambda folder: None)
    assert [(p.check, p.file) for p in problems] == [("croissant-records", SHARD)]
    assert problems[0].message == ("record 0 of documents/validation differs from the parquet row: entities[0].start: "
                                   "parquet 58 (int), mlcroissant 58.0 (float)")


def test_croissant_records_record_set_missing_or_unreadable(gate_broken) -> None:
    """A config's record set removed, and a field typed sc:Integer over a text column: named
    before anything is read."""
    def edit(meta: dict[str, Any]) -> None:
        meta["recordSet"] = [rs for rs in meta["recordSet"] if rs["name"] != "claims"]
        title = next(f for f in _record_set(meta, "documents")["field"] if f["name"] == "title")
        title["dataType"] = "sc:Integer"
    _, problems = gate_broken(_edit_croissant(edit))
    assert _checks(problems) == {"croissant-records"}
    assert sorted(p.message for p in problems) == ["field documents/title: dataType 'sc:Integer', but the parquet column holds sc:Text",
                                                   "no record set 'claims' for the config's parquet files"]


# --------------------------------------------------------------------------- level 1: parquet

def test_parquet_with_inferred_schema(gate_broken) -> None:
    def empty_layers(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            r.update(entities=[], claims=[], stances=[])

    def breaker(folder: Path) -> None:
        _edit_rows(folder, empty_layers, keep_schema=False)
        got = pq.ParquetFile(folder / SHARD).schema_arrow
        assert pa.types.is_null(got.field("entities").type.value_type)   # huggingface/datasets#7092
    _, problems = gate_broken(breaker)
    _assert_problem(problems, "parquet-schema-mismatch", SHARD)
    assert _checks(problems) == {"parquet-schema-mismatch"}


def test_parquet_unreadable(gate_broken) -> None:
    _, problems = gate_broken(lambda folder: (folder / SHARD).write_bytes(b"not parquet at all"))
    _assert_problem(problems, "parquet-unreadable", SHARD)
    assert "parquet-unreadable" in _checks(problems)


# --------------------------------------------------------------------------- level 4: load_dataset

def test_load_mismatch(gate_broken) -> None:
    """A row changed after the build (reports/rows.json kept): load_dataset gives other rows."""
    _, problems = gate_broken(_edit_first_row(lambda r: r.__setitem__("title", "عنوان آخر")), load=True)
    _assert_problem(problems, "load-mismatch", SHARD)
    assert _checks(problems) == {"load-mismatch"}


def test_load_failed(gate_broken) -> None:
    """A card the file checks accept but ``datasets`` refuses (two configs marked ``default``):
    every config fails to load, each named with the first line of the error."""
    def breaker(folder: Path) -> None:
        def edit(meta: dict[str, Any]) -> None:
            for name in ("documents", "claims"):
                _documents_config(meta, name)["default"] = True
        _edit_card(folder, edit)
    _, problems = gate_broken(breaker, load=True)
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("load-failed", "README.md", None, None,
         f"load_dataset('broken', {c!r}): ValueError: Dataset has several default configs: 'claims' and 'documents'.")
        for c in ("documents", "entities", "claims", "stances")]


def test_load_failure_is_one_line_without_the_loaders_log(gate_broken, caplog) -> None:
    """An entities shard with no rows: ``datasets`` refuses it and would log its own ERROR lines
    to standard error; the gate says it in its problems only (adversarial review, issue 15)."""
    def breaker(folder: Path) -> None:
        path = folder / data_path("entities", "validation")
        pq.write_table(pq.read_table(path).slice(0, 0), path)
    with caplog.at_level(logging.DEBUG):
        _, problems = gate_broken(breaker, load=True)
    assert "load-failed" in _checks(problems)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("datasets") and r.levelno >= logging.WARNING] == []


def test_load_not_run_when_not_asked(gate_broken) -> None:
    _, problems = gate_broken(_edit_first_row(lambda r: r.__setitem__("title", "عنوان آخر")), load=False)
    assert problems == []


def test_load_skipped_when_the_files_are_unsound(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        _edit_rows(folder, lambda rows: rows[0].__setitem__("title", "عنوان آخر"))
        (folder / "croissant.json").unlink()
    _, problems = gate_broken(breaker, load=True)
    assert _checks(problems) == {"file-missing"}


def test_rows_report_without_configs_is_reported_not_raised(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        (folder / "reports" / "rows.json").write_text(json.dumps({"digest": khabar.dataset.digest.DIGEST_KEY}), encoding="utf-8")
    _, problems = gate_broken(breaker, load=True)
    _assert_problem(problems, "report-invalid", "reports/rows.json")
    assert _checks(problems) == {"report-invalid"}


# --------------------------------------------------------------------------- training configs (khabar.gate.training)

ENT = data_path("entities", "validation")
CLM = data_path("claims", "validation")
STN = data_path("stances", "validation")


def _shard_rows(release: Path, shard: str) -> list[dict[str, Any]]:
    return pq.read_table(release / shard).to_pylist()


def test_good_release_has_every_training_config(gate_release: Path) -> None:
    rows = json.loads((gate_release / "reports" / "rows.json").read_text(encoding="utf-8"))["configs"]
    assert {c: {s: v["num_rows"] for s, v in splits.items()} for c, splits in rows.items()} == {
        "documents": {"validation": 1}, "entities": {"validation": 25}, "claims": {"validation": 25}, "stances": {"validation": 1}}
    ent = _shard_rows(gate_release, ENT)[1]
    assert ent["id"] == f"{DOC_ID}:1" and ent["tokens"][:2] == ["وطلب", "البنتاغون"] and ent["ner_tags"][:2] == [0, 7]
    stance = _shard_rows(gate_release, STN)[0]
    assert (stance["id"], stance["holder_text"], stance["evidence_text"]) == (f"{DOC_ID}:s1", "البنتاغون", ["هذه الهجمات لم تكن ناجحة"])


def _edit_training(shard: str, fn: Callable[[list[dict[str, Any]]], Any], count: tuple[str, int] | None = None) -> Callable[[Path], None]:
    """Edit the rows of a training shard in place (``fn`` may return a new list); with ``count``
    ``(config, n)`` also set the card's row count of that config, so only the check aimed at fires."""
    def breaker(folder: Path) -> None:
        _edit_rows(folder, fn, shard=shard)
        if count:
            _set_count(folder, count[1], count[0])
    return breaker


def test_config_derivation_mismatch_names_the_first_row(gate_broken) -> None:
    _, problems = gate_broken(_edit_training(ENT, lambda rows: rows[0]["ner_tags"].__setitem__(1, 7)))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("config-derivation-mismatch", ENT, DOC_ID, None,
         f"25 rows, as many as the documents rows of validation give, but not the same; first difference at row 0: {DOC_ID}:0: ner_tags differs")]


def test_config_derivation_mismatch_on_a_missing_row(gate_broken) -> None:
    _, problems = gate_broken(_edit_training(CLM, lambda rows: rows[:-1], ("claims", 24)))
    assert [(p.check, p.file, p.record, p.message) for p in problems] == [
        ("config-derivation-mismatch", CLM, DOC_ID,
         f"24 rows where the documents rows of validation give 25; first difference at row 24: {DOC_ID}:24 is missing")]


def test_config_derivation_mismatch_on_an_extra_row(gate_broken) -> None:
    def extra(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return rows + [dict(rows[0], id=f"{DOC_ID}:s9")]
    _, problems = gate_broken(_edit_training(STN, extra, ("stances", 2)))
    assert [(p.check, p.file, p.message) for p in problems] == [
        ("config-derivation-mismatch", STN,
         f"2 rows where the documents rows of validation give 1; first difference at row 1: {DOC_ID}:s9 is not derived from any documents row")]


def test_tokens_misaligned(gate_broken, gate_release: Path) -> None:
    n = len(_shard_rows(gate_release, ENT)[1]["tokens"])
    _, problems = gate_broken(_edit_training(ENT, lambda rows: rows[1]["ner_tags"].pop()))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("tokens-misaligned", ENT, DOC_ID, "$.tokens",
         f"tokens, offsets and tag lists differ in length: tokens {n}, offsets {n}, ner_tags {n - 1}, nested_ner_tags {n}")]


def test_token_offsets_must_give_the_token(gate_broken, gate_row: dict[str, Any]) -> None:
    def shift(rows: list[dict[str, Any]]) -> None:
        off = rows[1]["offsets"][1]
        off.update(start=off["start"] + 1, end=off["end"] + 1)
    _, problems = gate_broken(_edit_training(ENT, shift))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("span-text-mismatch", ENT, DOC_ID, "$.offsets[1]",
         f"the document's text[59:68] is {gate_row['text'][59:68]!r}, the span says 'البنتاغون'")]
    assert gate_row["text"][58:67] == "البنتاغون"


def test_token_offsets_outside_the_sentence(gate_broken) -> None:
    _, problems = gate_broken(_edit_training(ENT, lambda rows: rows[1]["offsets"][0].__setitem__("start", 52)))
    assert [(p.check, p.field, p.message) for p in problems] == [
        ("span-out-of-bounds", "$.offsets[0]", "[52, 57) is outside the sentence [53, 162)")]


def test_claims_row_text_and_relative_spans(gate_broken, gate_release: Path) -> None:
    rows = _shard_rows(gate_release, CLM)
    i = next(k for k, r in enumerate(rows) if r["claims"])
    content = rows[i]["claims"][0]["content"]

    def breaker(folder: Path) -> None:
        def edit(rows: list[dict[str, Any]]) -> None:
            rows[0]["text"] = rows[0]["text"][::-1]
            c = rows[i]["claims"][0]["content"]
            c.update(start=c["start"] + 1, end=c["end"] + 1)
        _edit_rows(folder, edit, shard=CLM)
    _, problems = gate_broken(breaker)
    s, e = content["start"] + 1, content["end"] + 1
    assert [(p.check, p.field, p.message) for p in problems] == [
        ("span-text-mismatch", "$.text", f"the document's text[0:52] is {rows[0]['text']!r}, the span says {rows[0]['text'][::-1]!r}"),
        ("span-text-mismatch", "$.claims[0].content",
         f"the row's text[{s}:{e}] is {rows[i]['text'][s:e]!r}, the span says {content['text']!r}")]


def test_training_classlabel_out_of_range(gate_broken) -> None:
    _, problems = gate_broken(_edit_training(ENT, lambda rows: rows[3]["nested_ner_tags"].__setitem__(0, 43)))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("classlabel-out-of-range", ENT, DOC_ID, "$.nested_ner_tags[0]", "ClassLabel id 43 out of range 0..42")]


def test_training_row_schema_invalid(gate_broken) -> None:
    _, problems = gate_broken(_edit_training(STN, lambda rows: rows[0].__setitem__("holder_text", "")))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("schema-invalid", STN, DOC_ID, "$.holder_text", "'' should be non-empty")]


def test_training_row_id_duplicate(gate_broken) -> None:
    _, problems = gate_broken(_edit_training(ENT, lambda rows: rows + [rows[0]], ("entities", 26)))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("id-duplicate", ENT, DOC_ID, "$.id", f"row id {DOC_ID}:0 also in {ENT}")]


def test_training_row_of_no_document(gate_broken) -> None:
    other = _id_in("validation")
    _, problems = gate_broken(_edit_training(ENT, lambda rows: rows[4].__setitem__("doc_id", other)))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("id-dangling", ENT, other, "$.doc_id", f"doc_id {other} is not a row of {SHARD}")]


def test_training_row_in_another_split(gate_broken) -> None:
    other = _id_in("train")
    _, problems = gate_broken(_edit_training(STN, lambda rows: rows[0].__setitem__("doc_id", other)))
    assert [(p.check, p.file, p.record, p.field, p.message) for p in problems] == [
        ("split-mismatch", STN, other, "$.doc_id", f"row is in validation but its document {other} is assigned to train"),
        ("id-dangling", STN, other, "$.doc_id", f"doc_id {other} is not a row of {SHARD}")]


def _drop_config(config: str, version: str | None = None) -> Callable[[Path], None]:
    """Remove ``config`` from a release (files, card, rows.json, croissant.json), optionally
    setting the card's version."""
    def breaker(folder: Path) -> None:
        shutil.rmtree(folder / "data" / config)

        def edit(meta: dict[str, Any]) -> None:
            meta["configs"] = [c for c in meta["configs"] if c["config_name"] != config]
            meta["dataset_info"] = [i for i in meta["dataset_info"] if i["config_name"] != config]
            if version:
                meta["version"] = version
        _edit_card(folder, edit)
        rows = json.loads((folder / "reports" / "rows.json").read_text(encoding="utf-8"))
        del rows["configs"][config]
        (folder / "reports" / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        meta = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
        meta["distribution"] = [d for d in meta["distribution"] if not d["@id"].startswith((f"data/{config}/", f"{config}-"))]
        meta["recordSet"] = [r for r in meta["recordSet"] if r["@id"] != config]
        (folder / "croissant.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return breaker


def test_release_0_3_without_a_training_config_that_has_rows(gate_broken) -> None:
    _, problems = gate_broken(_drop_config("stances", "0.3.0"), load=True)
    assert [(p.check, p.file, p.field, p.message) for p in problems] == [
        ("card-files-mismatch", "README.md", "configs", "config stances is not declared, but the documents rows give 1 stances "
         "rows (releases from 0.3.0 carry every training config that has rows)")]


def test_release_before_0_3_may_lack_training_configs(gate_broken) -> None:
    """Releases 0.1.0 and 0.2.0 were built before the training configs: documents alone passes."""
    def breaker(folder: Path) -> None:
        for config in TRAINING_CONFIGS:
            _drop_config(config, "0.2.0")(folder)
    _, problems = gate_broken(breaker, load=True)
    assert problems == []


def test_build_report_lacks_a_config_feature(gate_broken) -> None:
    def breaker(folder: Path) -> None:
        info = json.loads((folder / "reports" / "build.json").read_text(encoding="utf-8"))
        del info["features"]["claims"]
        (folder / "reports" / "build.json").write_text(json.dumps(info), encoding="utf-8")
    _, problems = gate_broken(breaker)
    assert [(p.check, p.file, p.message) for p in problems] == [
        ("report-invalid", "reports/build.json", "features.claims differ from those derived from schema/")]


def test_card_declares_an_unknown_config(gate_broken) -> None:
    def edit(meta: dict[str, Any]) -> None:
        meta["configs"].append({"config_name": "tweets", "data_files": [{"split": "train", "path": ENT}]})
    _, problems = gate_broken(lambda folder: _edit_card(folder, edit))
    assert [(p.check, p.file, p.field, p.message) for p in problems] == [
        ("card-files-mismatch", "README.md", "configs", "config tweets is not one of documents, entities, claims, stances")]


def test_training_load_mismatch(gate_broken) -> None:
    """A stances row changed after the build: the derivation and load_dataset both disagree."""
    _, problems = gate_broken(_edit_training(STN, lambda rows: rows[0].__setitem__("target_text", "something else")), load=True)
    assert [(p.check, p.file) for p in problems] == [("config-derivation-mismatch", STN), ("load-mismatch", STN)]
    assert problems[0].message.endswith(f"first difference at row 0: {DOC_ID}:s1: target_text differs")


# --------------------------------------------------------------------------- the CLI

def _cli(release: Path, root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KHABAR_ROOT"}
    return subprocess.run([sys.executable, "-m", "khabar.cli", "validate", str(release), "--root", str(root), "-q"],
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow
def test_cli_passes_the_good_release(gate_release: Path, gate_project: Path) -> None:
    r = _cli(gate_release, gate_project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "passed every check" in r.stdout


@pytest.mark.slow
def test_cli_lists_every_problem_and_exits_1(gate_release: Path, gate_project: Path, gate_schemas: khabar.core.schema.Schemas,
                                             tmp_path: Path) -> None:
    def breaker(folder: Path) -> None:
        _edit_rows(folder, lambda rows: rows[0]["claims"][0].__setitem__("source", "nope"))
        (folder / "croissant.json").unlink()
    broken = _copy_break_resum(gate_release, tmp_path / "broken", breaker)
    expected = khabar.gate.validate.validate_release(broken, schemas=gate_schemas, load=True)
    assert _checks(expected) == {"id-dangling", "file-missing"}
    r = _cli(broken, gate_project)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(expected)
    for line in lines:
        assert re.match(r"^error [a-z0-9]+(-[a-z0-9]+)+ ", line), line
    assert sorted(lines) == sorted(p.line() for p in expected)
    assert any(line.startswith("error id-dangling ") and f"doc={DOC_ID} $.claims[0].source" in line for line in lines)
    assert any(line.startswith("error file-missing croissant.json") for line in lines)
    assert "problem" in r.stderr


def test_texts_without_words_are_not_near_duplicates() -> None:
    from khabar.text.neardup import NearDupIndex

    with NearDupIndex() as idx:
        _check_near(idx)


def _check_near(idx) -> None:
    idx.add("kb-0000000000000001", "train", "!!!")
    idx.add("kb-0000000000000002", "test", "؟؟؟")
    assert idx.cross_split_pairs() == []
    text = " ".join(f"كلمة{i}" for i in range(40))
    idx.add("kb-0000000000000003", "train", text)
    idx.add("kb-0000000000000004", "test", text.replace("كلمة5", "كلمه5"))  # ta marbuta folded: same fingerprint
    assert [(a, b, round(s, 2)) for a, _, b, _, s in idx.cross_split_pairs()] == [("kb-0000000000000003", "kb-0000000000000004", 1.0)]

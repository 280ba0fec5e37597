"""Issue 15: the build on every core, and the column-wise row digest of ``reports/rows.json``.

The release is the same, byte for byte, whatever the number of worker processes and however the
documents are cut into runs; the digest does not depend on how rows are cut into batches.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, make_project, snapshot
from khabar.core.errors import InputError
from khabar.core.schema import Schemas
from khabar.dataset.digest import DIGEST_KEY, DIGEST_V1, TableDigest
from khabar.gate.validate import validate_release
from khabar.core.parallel import default_workers
from khabar.release import chunks
from khabar.release.build import build

SHARD = ROOT / "releases" / "0.4.3" / "data" / "claims" / "train-00000-of-00001.parquet"


def _digest(*parts: pa.Table | pa.RecordBatch) -> str:
    d = TableDigest()
    for part in parts:
        d.update(part)
    return d.hexdigest()


def test_the_digest_is_the_same_however_the_rows_are_cut() -> None:
    table = pq.read_table(SHARD)
    assert table.num_rows == 513
    whole = _digest(table)
    assert _digest(*table.to_batches(max_chunksize=7)) == whole
    assert _digest(table.slice(0, 100), table.slice(100)) == whole
    assert _digest(pa.Table.from_pylist(table.to_pylist(), schema=table.schema)) == whole
    large = table.cast(pa.schema([f.with_type(pa.large_string()) if f.type == pa.string() else f for f in table.schema]))
    assert _digest(large) == whole  # the storage of a string column is not part of the data


def test_the_digest_changes_with_any_value() -> None:
    rows = [{"a": "ab", "b": [1, 2], "c": {"x": True}}, {"a": "c", "b": [], "c": None}]
    base = _digest(pa.Table.from_pylist(rows))
    moved = [{**rows[0], "a": "a"}, {**rows[1], "a": "bc"}]  # the same bytes, cut elsewhere
    one_list = [{**rows[0], "b": [1]}, {**rows[1], "b": [2]}]
    null = [rows[0], {**rows[1], "a": None}]
    empty = [rows[0], {**rows[1], "a": ""}]
    others = [_digest(pa.Table.from_pylist(r)) for r in (moved, one_list, null, empty, rows[:1])]
    assert len({base, *others}) == 6
    with pytest.raises(TypeError, match="column d: type"):
        TableDigest().update(pa.table({"d": pa.array([1], pa.decimal128(5, 2))}))


def test_schemas_travel_to_worker_processes() -> None:
    """The build's workers get the project's schemas by pickling (compiled validators are left
    behind and compiled again), with_targets included."""
    schemas = Schemas(ROOT / "schema").with_targets(2)
    schemas.problems("document", {})  # compiles a validator
    back = pickle.loads(pickle.dumps(schemas))
    assert back.vocab("StanceTarget") == schemas.vocab("StanceTarget") and len(back.vocab("StanceTarget")) == 2
    assert [p.message for p in back.problems("document", {})] == [p.message for p in schemas.problems("document", {})]


@pytest.mark.parametrize("raw", ["0", "two", "-1", "257", "1.5", "1_0", "\uff12", "1e1"])
def test_a_bad_worker_count_is_one_line(monkeypatch, raw) -> None:
    monkeypatch.setenv("KHABAR_WORKERS", raw)
    with pytest.raises(InputError, match=r"KHABAR_WORKERS=.*not a number of worker processes from 1 to 256"):
        default_workers()


def test_the_worker_count_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("KHABAR_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.delenv("KHABAR_WORKERS")
    assert default_workers() >= 1


@pytest.mark.slow
def test_two_workers_build_the_same_release_as_one(tmp_path, monkeypatch) -> None:
    """70 documents in runs of 8 (9 runs) on 2 worker processes, against one process: every file
    of the release is the same, byte for byte, and it passes the gate with the new digest."""
    monkeypatch.setattr(chunks, "CHUNK_DOCS", 8)
    built = {}
    for workers in (1, 2):
        project = make_project(tmp_path / f"w{workers}", full=True)
        shutil.rmtree(project.annotations)
        shutil.copytree(ROOT / "annotations", project.annotations)
        r = build(project, "0.1.0", progress=False, workers=workers)
        built[workers] = snapshot(r.path)
    assert built[1] == built[2]
    mask = os.umask(0)
    os.umask(mask)  # new-user review: mkdtemp made every release folder 0700
    assert (tmp_path / "w2" / "releases" / "0.1.0").stat().st_mode & 0o777 == 0o777 & ~mask
    rows = json.loads(built[2]["reports/rows.json"])
    assert rows["digest"] == DIGEST_KEY != DIGEST_V1
    assert {c: {s: v["num_rows"] for s, v in splits.items()} for c, splits in rows["configs"].items()} == {
        "documents": {"train": 58, "validation": 8, "test": 4}, "entities": {"train": 539, "validation": 86, "test": 30},
        "claims": {"train": 513, "validation": 82, "test": 30}, "stances": {"train": 68, "validation": 17, "test": 8}}
    assert validate_release(tmp_path / "w2" / "releases" / "0.1.0", schemas=Schemas(ROOT / "schema")) == []


@pytest.mark.slow
def test_two_workers_ingest_the_same_corpus_as_one(tmp_path, monkeypatch) -> None:
    """The 70 seeds in batches of 8 on 2 worker processes, against one process: the same corpus
    files and manifest, byte for byte; a bad seed among them is still refused, by name."""
    from khabar.ingest import making
    from khabar.ingest.run import ingest

    monkeypatch.setattr(making, "BATCH_SEEDS", 8)
    made = {}
    for workers in (1, 2):
        project = make_project(tmp_path / f"w{workers}", with_corpus=False, full=True)
        report = ingest(project, progress=False, workers=workers)
        assert report.counts == {"created": 70, "updated": 0, "unchanged": 0}
        made[workers] = snapshot(project.corpus), project.manifest.read_bytes()
    assert made[1] == made[2] and len(made[2][0]) == 70
    project = make_project(tmp_path / "bad", with_corpus=False, full=True)
    (project.seeds / "zz-empty.txt").write_bytes(b"")
    with pytest.raises(InputError, match=r"zz-empty.txt"):
        ingest(project, progress=False, workers=2)
    assert not any(project.corpus.glob("kb-*.json")) if project.corpus.exists() else True

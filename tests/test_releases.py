"""Reading releases (khabar.dataset.lookup): the card's YAML, its data files, a release by version or
path, and decoded shard rows; each case below broke a command once (adversarial review)."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from khabar.core.errors import InputError
from khabar.dataset.lookup import card_yaml_of, declared_files, iter_shard_rows, release_dir
from khabar.gate.validate import validate_release


def test_an_impossible_date_in_the_card_is_a_yaml_problem_not_a_traceback(tmp_path) -> None:
    with pytest.raises(InputError) as err:
        card_yaml_of(b"---\ndate: 2026-13-45\n---\n")
    assert str(err.value) == "YAML does not parse: month must be in 1..12"
    rel = tmp_path / "0.3.0"
    shutil.copytree(ROOT / "releases" / "0.3.0", rel)
    card = rel / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("---\n", "---\ndate: 2026-13-45\n", 1), encoding="utf-8")
    lines = [p.line() for p in validate_release(rel, load=False) if p.check == "card-yaml-invalid"]
    assert lines == ["error card-yaml-invalid README.md: YAML does not parse: month must be in 1..12"]


def test_declared_files_are_all_or_nothing_and_stay_inside_the_release() -> None:
    meta = {"configs": [{"config_name": "documents", "data_files": [{"split": "train", "path": "data/documents/train.parquet"},
                                                                    {"split": "validation", "file": "x"}]}]}
    with pytest.raises(InputError, match="^config documents: data_files must list split/path pairs$"):
        declared_files(meta, "documents")
    meta["configs"][0]["data_files"][1] = {"split": "validation", "path": "../../other/data.parquet"}
    with pytest.raises(InputError, match=r"^config documents: data file \.\./\.\./other/data\.parquet lies outside the release$"):
        declared_files(meta, "documents")
    assert declared_files(meta, "entities") == {} and declared_files({"configs": "documents"}, "documents") == {}


def test_a_version_names_the_projects_release_before_a_folder_here(tmp_path, monkeypatch) -> None:
    releases = ROOT / "releases"
    (tmp_path / "0.2.0").mkdir()
    monkeypatch.chdir(tmp_path)
    assert release_dir(releases, "0.2.0") == releases / "0.2.0"
    assert release_dir(releases, "releases/0.3.0") == ROOT / "releases/0.3.0"
    assert release_dir(releases, str(tmp_path / "0.2.0")) == tmp_path / "0.2.0"
    with pytest.raises(InputError, match=r"^no release '9\.9\.9' \(neither a folder nor a version under "):
        release_dir(releases, "9.9.9")


def test_shard_rows_are_decoded_and_a_zero_limit_reads_nothing() -> None:
    shard = ROOT / "releases" / "0.3.0" / "data" / "entities" / "validation-00000-of-00001.parquet"
    rows = list(iter_shard_rows(shard, ["id", "ner_tags"], "hint", limit=2))
    assert [r["id"] for r in rows] == ["kb-1415eb2e8d27dc16:0", "kb-1415eb2e8d27dc16:1"]
    assert rows[0]["ner_tags"] == ["O", "B-ORG", "B-ORG", "I-ORG", "O", "B-ORG", "I-ORG"]
    assert list(iter_shard_rows(shard, ["id"], "hint", limit=0)) == []

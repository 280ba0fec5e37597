"""Build: reproducible, never overwrites, version bump fits the change, refuses bad annotations;
the release loads back with load_dataset with the exact text of record."""

from __future__ import annotations

import json
import shutil

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from khabar.release.build import build
from khabar.core.errors import InputError, ReleaseExistsError, VersionError
from khabar.ingest.run import ingest
from khabar.release.job import run_release

from conftest import ROOT, SEED, SEED_ID, load_case, make_project, snapshot


def _doc(project):
    return json.loads((project.corpus / f"{SEED_ID}.json").read_text(encoding="utf-8"))


def _gold(project, **changes):
    doc = _doc(project)
    t = doc["text"]
    s = t.index("وكالة مهر للأنباء")
    j = t.index("قناة الجزيرة")
    w = t.index("البيت الأبيض")
    cue = t.index("أعلن أننا")
    content = t.index("أننا على علم")
    content_end = t.index("وسوريا.", content) + len("وسوريا")
    gold = {"schema_version": "1.0", "doc_id": SEED_ID, "text_sha256": doc["text_sha256"], "annotator": "gold",
            "guidelines_version": "0.1", "origin": {"kind": "manual", "sources": ["a01"]},
            "entities": [{"id": "e1", "start": s, "end": s + 17, "text": "وكالة مهر للأنباء", "type": "ORG"},
                         {"id": "e2", "start": j, "end": j + 12, "text": "قناة الجزيرة", "type": "ORG"},
                         {"id": "e3", "start": w, "end": w + 12, "text": "البيت الأبيض", "type": "ORG"}],
            "claims": [{"id": "c1", "content": {"start": content, "end": content_end, "text": t[content:content_end]},
                        "cue": {"start": cue, "end": cue + 4, "text": "أعلن"}, "source": "e3", "via": ["e1", "e2"],
                        "checkworthy": "yes", "speech": "indirect"}],
            "stances": [{"id": "s1", "holder": "e3", "target": "attacks-on-us-forces", "label": "AGAINST", "evidence": ["c1"]}]}
    gold.update(changes)
    path = project.annotations / SEED_ID / "gold.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    return gold, path


def test_build_reproduces_the_latest_committed_release_byte_for_byte(tmp_path) -> None:
    """The newest release in releases/ rebuilds to the same bytes from the committed sources."""
    from khabar.dataset.lookup import latest_release

    project = make_project(tmp_path / "full", full=True)

    version, committed = latest_release(ROOT / "releases")
    for older, path in __import__("khabar.dataset.lookup", fromlist=["list_releases"]).list_releases(ROOT / "releases"):
        if older != version:
            shutil.copytree(path, project.releases / older)
    shutil.rmtree(project.annotations)
    shutil.copytree(ROOT / "annotations", project.annotations)
    if (ROOT / "CHANGELOG.md").exists():
        text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        project.changelog.write_text(text.replace(text[text.index(f"## [{version}]"):text.index("## [", text.index(f"## [{version}]") + 4)], "")
                                     if "## [" in text[text.index(f"## [{version}]") + 4:] else text, encoding="utf-8")
    r = build(project, version, progress=False)
    assert r.counts == json.loads((committed / "reports" / "stats.json").read_text(encoding="utf-8"))["splits"]
    got, want = snapshot(r.path), snapshot(committed)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert got == want
    assert project.changelog.read_text(encoding="utf-8") == changelog


def test_load_dataset_gives_the_exact_text_of_record() -> None:
    ds = datasets.load_dataset(str(ROOT / "releases" / "0.1.0"))
    assert list(ds) == ["validation"] and ds["validation"].num_rows == 1
    row = ds["validation"][0]
    doc = json.loads((ROOT / "corpus" / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    assert row["id"] == SEED_ID and row["text"] == doc["text"] and len(row["text"]) == 3585
    assert row["entities"] == [] and row["claims"] == [] and row["stances"] == []
    flags = ds["validation"].features["flags"].feature["kind"]
    assert [flags.int2str(f["kind"]) for f in row["flags"]][:2] == ["stray-separator", "unbalanced-quote"]
    s = row["sentences"][1]
    assert row["text"][s["start"]:s["end"]].startswith("وطلب البنتاغون من الحكومة العراقية")


def test_existing_version_is_never_overwritten(project) -> None:
    build(project, "0.1.0", progress=False)
    before = snapshot(project.releases)
    with pytest.raises(ReleaseExistsError, match="release 0.1.0 exists"):
        build(project, "0.1.0", progress=False)
    assert snapshot(project.releases) == before


@pytest.mark.slow
def test_gold_annotation_is_released_and_minor_bump_required(project) -> None:
    build(project, "0.1.0", progress=False)
    _gold(project)
    with pytest.raises(VersionError, match=r"patch bump from 0.1.0, but the change needs a minor bump \(at least 0.2.0\)"):
        build(project, "0.1.1", progress=False)
    r = build(project, "0.2.0", progress=False)
    assert r.diff.annotation_added == [SEED_ID]
    row = datasets.load_dataset(str(r.path))["validation"][0]
    assert [e["text"] for e in row["entities"]] == ["وكالة مهر للأنباء", "قناة الجزيرة", "البيت الأبيض"]
    c = row["claims"][0]
    assert (c["source"], c["via"], c["cue"]["text"]) == ("e3", ["e1", "e2"], "أعلن")
    assert row["text"][c["content"]["start"]:c["content"]["end"]] == c["content"]["text"]
    assert "## [0.2.0]" in project.changelog.read_text(encoding="utf-8")
    with pytest.raises(VersionError, match="nothing changed since release 0.2.0"):
        build(project, "0.2.1", progress=False)


@pytest.mark.slow
def test_corrected_seed_is_a_patch_and_stale_gold_refused(project) -> None:
    build(project, "0.1.0", progress=False)
    path = project.seeds / SEED
    path.write_bytes(path.read_bytes().replace("الأسبوع الماضي".encode(), "الأسبوع الفائت".encode(), 1))
    ingest(project, accept_edits={SEED}, progress=False)
    r = build(project, "0.1.1", progress=False)
    assert r.diff.text_changed == [SEED_ID] and r.diff.bump() == "patch"
    # a gold file made on the old text is stale: the build refuses, naming the document
    gold, _ = _gold(project)
    gold["text_sha256"] = "1415eb2e8d27dc166ea13bd2f3d99a645494bf9fb763cedf81439e1877850776"
    (project.annotations / SEED_ID / "gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    before = snapshot(project.releases)
    with pytest.raises(InputError, match=f"stale annotation of document {SEED_ID}"):
        build(project, "0.2.0", progress=False)
    assert snapshot(project.releases) == before


@pytest.mark.slow
def test_removed_document_needs_major(project) -> None:
    build(project, "0.1.0", progress=False)
    (project.seeds / "b.txt").write_text("أعلنت وزارة الصحة اليوم عن حملة تطعيم جديدة في البلاد تبدأ الأسبوع المقبل.\n", encoding="utf-8")
    ingest(project, progress=False)
    build(project, "0.2.0", progress=False)
    other = next(p for p in project.corpus.glob("kb-*.json") if p.stem != SEED_ID)
    other.unlink()
    with pytest.raises(VersionError, match=r"needs a major bump \(at least 1.0.0\)"):
        build(project, "0.3.0", progress=False)


@pytest.mark.parametrize("change,expected", [
    (lambda g: g["entities"][0].update(type="AGENCY"), "entities[0].type (id e1): label-unknown"),
    (lambda g: g["entities"][1].update(start=g["entities"][1]["start"] + 1, end=g["entities"][1]["end"] + 1),
     "entities[1] (id e2): span-text-mismatch"),
    (lambda g: g["claims"][0].update(source="e9"), "claims[0].source (id c1): id-dangling: source 'e9' is not an entity id"),
    (lambda g: g["stances"][0].update(target="iran-nuclear-deal"), "stances[0].target (id s1): label-unknown"),
    (lambda g: g["claims"][0].update(source="c1"), "claims[0].source (id c1): id-dangling: source 'c1' is not an entity id"),
])
def test_bad_gold_refused_with_file_id_and_reason(project, change, expected) -> None:
    gold, path = _gold(project)
    change(gold)
    path.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    before = snapshot(project.releases)
    with pytest.raises(InputError) as err:
        build(project, "0.1.0", progress=False)
    assert f"{path}: {expected}" in str(err.value)
    assert snapshot(project.releases) == before


@pytest.mark.parametrize("case", ["malformed", "stale", "good"])
def test_preannotation_is_scored_or_named_in_a_warning_never_a_refusal(project, case) -> None:
    """An optional preannotator.json that is not JSON, or was made on another text, is left out of
    reports/preannotator.json and named in one warning line (file, reason); the build succeeds."""
    gold, _ = _gold(project)
    pre = project.preannotator_file(SEED_ID)
    committed = json.loads((ROOT / "annotations" / SEED_ID / "preannotator.json").read_text(encoding="utf-8"))
    assert committed["text_sha256"] == gold["text_sha256"]
    if case == "malformed":
        pre.write_text('{"doc_id": ', encoding="utf-8")
    else:
        pre.write_text(json.dumps(dict(committed, text_sha256="0" * 64) if case == "stale" else committed,
                                  ensure_ascii=False), encoding="utf-8")
    r = build(project, "0.1.0", progress=False)
    stats = json.loads((r.path / "reports" / "stats.json").read_text(encoding="utf-8"))
    hint = "; not scored (hint: regenerate it with khabar preannotate)"
    if case == "good":
        assert r.warnings == []
        report = json.loads((r.path / "reports" / "preannotator.json").read_text(encoding="utf-8"))
        assert (report["tool"], report["documents"]) == ("khabar-preannotate", 1)
        assert stats["preannotator"] == {k: v for k, v in report.items() if k not in ("tool", "version")}
        return
    reason = "line 1 column 12: invalid JSON: Expecting value" if case == "malformed" else "stale (made on another text of the document)"
    assert r.warnings == [f"{pre}: {reason}{hint}"]
    assert not (r.path / "reports" / "preannotator.json").exists() and "preannotator" not in stats


def test_case12_empty_list_shard_loads_beside_others(tmp_path) -> None:
    case = load_case("12-hf-empty-list-shard-null-type.json")
    feats = datasets.Features({
        "id": datasets.Value("string"), "text": datasets.Value("string"),
        "entities": datasets.List({"id": datasets.Value("string"), "start": datasets.Value("int64"),
                                   "end": datasets.Value("int64"), "label": datasets.Value("string")}),
        "claims": datasets.List({"id": datasets.Value("string"), "start": datasets.Value("int64"), "end": datasets.Value("int64"),
                                 "claimant": datasets.Value("string"), "stance": datasets.Value("int64")}),
    })
    from khabar.dataset.features import arrow_schema
    schema = arrow_schema(feats)
    for rel, shard in case["input"]["files"].items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(shard["rows"], schema=schema), tmp_path / rel)
    schemas = {str(pq.read_schema(p)) for p in (tmp_path / "data").glob("*.parquet")}
    assert len(schemas) == 1  # identical across shards, never inferred
    ds = datasets.load_dataset(str(tmp_path), split="train")
    exp = case["expected"]["load_dataset_local_folder"]
    assert ds.num_rows == exp["num_rows"] == 3
    assert ds[0]["claims"] == exp["row0.claims"] == [] and ds[0]["entities"] == exp["row0.entities"]
    c = ds[2]["claims"][0]
    assert {k: c[k] for k in exp["row2.claims[0]"]} == exp["row2.claims[0]"]
    # the inferred schema is what the case warns against
    inferred = pa.Table.from_pylist(case["input"]["files"]["data/train-00000-of-00002.parquet"]["rows"]).schema
    assert str(inferred.field("entities").type) == "list<item: null>"


def test_case12_kind_in_our_release_shard_with_only_empty_lists(project) -> None:
    # the seed row has no annotation: all of its entity/claim/stance lists are empty, yet the
    # shard is typed list<struct<...>> from the schema, and the gate's schema check agrees
    r = build(project, "0.1.0", progress=False)
    shard = pq.read_schema(r.path / "data/documents/validation-00000-of-00001.parquet")
    assert str(shard.field("entities").type).startswith("list<element: struct<id: string, start: int32")


def test_main_job_builds_then_is_up_to_date(project) -> None:
    first = run_release(project, progress=False)
    assert first.built and first.version == "0.1.0" and first.summary["texts_identical"] == 1
    assert first.summary["splits"] == {"validation": 1}
    second = run_release(project, progress=False)
    assert not second.built and second.version == "0.1.0"


@pytest.mark.slow
def test_provenance_correction_is_a_patch(project) -> None:
    """A manifest-only change (here the publisher) reaches the next release as a PATCH."""
    build(project, "0.1.0", progress=False)
    lines = project.manifest.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[0])
    entry["publisher"] = "وكالة مهر للأنباء"
    project.manifest.write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    report = ingest(project, progress=False)
    assert report.updated == [SEED_ID]
    with pytest.raises(VersionError, match="is not newer than the latest release 0.1.0"):
        build(project, "0.0.9", progress=False)
    r = build(project, "0.1.1", progress=False)
    assert r.diff.metadata_changed == [SEED_ID] and r.diff.bump() == "patch"
    row = datasets.load_dataset(str(r.path))["validation"][0]
    assert row["provenance"]["publisher"] == "وكالة مهر للأنباء"


def test_committed_gold_release() -> None:
    """Release 0.2.0 carries the seed's gold annotation; every span equals the text at its offsets."""
    from khabar.gate.validate import validate_release

    release = ROOT / "releases" / "0.2.0"
    # its one finding: a croissant.json that mlcroissant reads as no record (issue 13; fixed from 0.4.3)
    assert [p.check for p in validate_release(release, load=False)] == ["croissant-records"]
    ds = datasets.load_dataset(str(release))["validation"]
    row = ds[0]
    gold = json.loads((ROOT / "annotations" / SEED_ID / "gold.json").read_text(encoding="utf-8"))
    assert (len(row["entities"]), len(row["claims"]), len(row["stances"])) == (len(gold["entities"]), len(gold["claims"]), len(gold["stances"]))
    assert len(row["entities"]) >= 60
    for e in row["entities"]:
        assert row["text"][e["start"]:e["end"]] == e["text"]
    for c in row["claims"]:
        assert row["text"][c["content"]["start"]:c["content"]["end"]] == c["content"]["text"]
    types = ds.features["entities"].feature["type"]
    nested = [(a, b) for a in row["entities"] for b in row["entities"]
              if a is not b and a["start"] <= b["start"] and b["end"] <= a["end"] and (a["start"], a["end"]) != (b["start"], b["end"])]
    assert any(types.int2str(a["type"]) == "ORG" and types.int2str(b["type"]) == "GPE" for a, b in nested)
    assert row["annotation"] == {"annotated": True, "annotators": ["a01"], "guidelines_version": "1.0"}
    card = (release / "README.md").read_text(encoding="utf-8")
    pre = json.loads((release / "reports" / "preannotator.json").read_text(encoding="utf-8"))
    f1 = pre["entities"]["overall"]["exact"]["f1"]
    assert f"| entities (all) | {pre['entities']['overall']['strict']['precision']:.2f} | " in card and 0 < f1 <= 1
    assert "**not reviewed** by a human" in card


def test_guidelines_cover_every_label(schemas) -> None:
    text = (ROOT / "annotations" / "GUIDELINES.md").read_text(encoding="utf-8")
    for vocab in ("EntityType", "StanceLabel", "StanceTarget", "Checkworthy", "Speech"):
        for label in schemas.vocab(vocab):
            assert label in text, (vocab, label)
    for field in ("content", "cue", "source", "via", "checkworthy", "speech", "holder", "target", "evidence", "guidelines_version"):
        assert f"`{field}`" in text, field


@pytest.mark.slow
def test_a_report_the_latest_release_lacks_is_a_patch(project) -> None:
    """Release 0.4.0 has no reports/pretrained.json; the same data built by a toolkit that writes it
    is a patch (0.4.1 was cut so), and once built, nothing changed again."""
    from khabar.dataset.layout import MODEL_REPORT, REPORTS

    build(project, "0.1.0", progress=False)
    (project.releases / "0.1.0" / REPORTS / MODEL_REPORT).unlink()  # as a release of toolkit 0.3.0
    r = build(project, "0.1.1", progress=False)
    assert (r.diff.reports_added, r.diff.bump()) == ([MODEL_REPORT], "patch")
    assert "- reports added (a newer toolkit reports more on the same data): 1 (pretrained.json)" in project.changelog.read_text(encoding="utf-8")
    with pytest.raises(VersionError, match="nothing changed since release 0.1.1"):
        build(project, "0.1.2", progress=False)

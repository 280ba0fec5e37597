"""Bad input found by adversarial testing: each gets one clear error (or gate line), nothing is
lost, no traceback reaches the user."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from khabar.release.build import build, write_checksums
from khabar.ingest.decode import decode_seed
from khabar.core.errors import InputError, VersionError
from khabar.ingest.run import ingest
from khabar.ingest.segment import sentences
from khabar.gate.validate import validate_release
from khabar.dataset.versioning import parse_version

from conftest import ROOT, SEED, SEED_ID, snapshot

ARTICLE = "أعلنت وزارة الصحة اليوم عن حملة تطعيم جديدة في البلاد تبدأ الأسبوع المقبل وتستمر شهرا كاملا.\n"


def _manifest(project) -> list[dict]:
    return [json.loads(line) for line in project.manifest.read_text(encoding="utf-8").splitlines()]


def _write_manifest(project, entries) -> None:
    project.manifest.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")


def _refused(project, match: str, **kwargs) -> None:
    before = snapshot(project.corpus), project.manifest.read_bytes()
    with pytest.raises(InputError, match=match):
        ingest(project, progress=False, **kwargs)
    assert (snapshot(project.corpus), project.manifest.read_bytes()) == before


def test_manifest_doc_id_used_twice_is_refused(project) -> None:
    (project.seeds / "b.txt").write_text(ARTICLE, encoding="utf-8")
    ingest(project, progress=False)
    entries = _manifest(project)
    entries[1]["doc_id"] = SEED_ID  # b.txt would silently overwrite the seed's document
    _write_manifest(project, entries)
    _refused(project, "is not the id its first raw bytes gave")


def test_manifest_edited_doc_id_is_refused(project) -> None:
    entries = _manifest(project)
    entries[0]["doc_id"] = "kb-0000000000000000"
    _write_manifest(project, entries)
    _refused(project, f"{SEED}: doc_id kb-0000000000000000 is not the id its first raw bytes gave")


@pytest.mark.parametrize("field,value,message", [
    ("revision", 1.0, r"revision: 1.0 is not an integer literal"),
    ("revision", 10**20, r"revision: .* is greater than the maximum"),
    ("url", "javascript:alert(1)", r"url: 'javascript:alert\(1\)' does not match"),
    ("publisher", "editor@example.org", r"publisher: 'editor@example.org' does not match"),
])
def test_manifest_values_checked(project, field, value, message) -> None:
    entries = _manifest(project)
    entries[0][field] = value
    _write_manifest(project, entries)
    _refused(project, message)


def test_version_with_trailing_newline_refused() -> None:
    for bad in ("1.0.0\n", "1.0.0 ", "1.0.0\x00", "9999999999.0.0"):
        with pytest.raises(VersionError):
            parse_version(bad)


@pytest.mark.slow
def test_older_version_than_latest_refused(project) -> None:
    build(project, "0.1.0", progress=False)
    (project.seeds / "b.txt").write_text(ARTICLE, encoding="utf-8")
    ingest(project, progress=False)
    with pytest.raises(VersionError, match="is not newer than the latest release 0.1.0"):
        build(project, "0.0.5", progress=False)


def test_explicit_root_without_project_is_an_error(tmp_path) -> None:
    res = subprocess.run([sys.executable, "-m", "khabar.cli", "ingest", "--root", str(tmp_path / "none"), "-q"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "not a Khabar project" in res.stderr and "Traceback" not in res.stderr


def test_truncated_and_damaged_utf8_named_as_such() -> None:
    raw = ARTICLE.encode("utf-8")
    with pytest.raises(InputError, match="cut.txt: truncated: the file ends inside a multibyte UTF-8 character"):
        decode_seed(raw.rstrip(b"\n")[:-2], "cut.txt")  # drops "." and half of the last letter
    damaged = raw[:20] + b"\xff" + raw[20:]
    with pytest.raises(InputError, match=r"bad.txt: damaged UTF-8: \d invalid byte sequence\(s\), the first at offset 19"):
        decode_seed(damaged, "bad.txt")


def test_wrong_declared_legacy_encoding_refused_and_hint_declarable() -> None:
    raw = ("قال وزير الخارجية إن المحادثات مستمرة مع الجانب الآخر حتى نهاية الأسبوع. " * 3).encode("iso8859_6")
    with pytest.raises(InputError) as err:
        decode_seed(raw, "iso6.txt")
    assert "iso8859_6 gives" in str(err.value)
    assert "--encoding iso6.txt=cp1256" not in (err.value.hint or "")
    with pytest.raises(InputError, match="declared cp1256 gives Latin letters inside Arabic words"):
        decode_seed(raw, "iso6.txt", declared="cp1256")


def test_too_short_link_and_non_txt(project, tmp_path) -> None:
    (project.seeds / "one.txt").write_text("مرحبا", encoding="utf-8")
    _refused(project, r"one.txt: too short for a news article \(1 word; at least 3\)")
    (project.seeds / "one.txt").unlink()
    outside = tmp_path / "outside.txt"
    outside.write_text(ARTICLE, encoding="utf-8")
    os.symlink(outside, project.seeds / "link.txt")
    _refused(project, r"link.txt: not a regular file")
    (project.seeds / "link.txt").unlink()
    (project.seeds / "notes.md").write_text("x", encoding="utf-8")
    report = ingest(project, progress=False)
    assert any("notes.md: ignored (seeds are *.txt files)" in w for w in report.warnings)


def test_long_paragraph_is_segmented() -> None:
    text = ("قال د. أحمد إن الخطة جاهزة. " * 20000).strip()
    got = sentences(text)
    assert len(got) == 20000 and text[got[0][0]:got[0][1]] == "قال د. أحمد إن الخطة جاهزة."


def test_gold_for_a_document_not_in_the_corpus(project) -> None:
    (project.annotations / "kb-00000000000000ff").mkdir()
    (project.annotations / "kb-00000000000000ff" / "gold.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="kb-00000000000000ff/gold.json: annotation of a document that is not in corpus/"):
        build(project, "0.1.0", progress=False)


@pytest.mark.slow
def test_unreadable_changelog_or_datasheet_refused_before_shipping(project) -> None:
    project.changelog.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(InputError, match="CHANGELOG.md: not UTF-8"):
        build(project, "0.1.0", progress=False)
    assert not (project.releases / "0.1.0").exists()
    project.changelog.unlink()
    project.datasheet.write_text("# Datasheet without markers\n", encoding="utf-8")
    with pytest.raises(InputError, match="DATASHEET.md: generated-section markers missing"):
        build(project, "0.1.0", progress=False)
    assert not list(project.releases.iterdir())


# --------------------------------------------------------------------------- the gate

@pytest.fixture(scope="module")
def good_release(tmp_path_factory):
    from conftest import make_project
    project = make_project(tmp_path_factory.mktemp("bad-gate") / "p")
    return build(project, "0.1.0", progress=False).path, project


def _broken(good, tmp_path, breaker, resum=True):
    folder = tmp_path / "r"
    shutil.copytree(good, folder, symlinks=True)
    breaker(folder)
    if resum:
        write_checksums(folder)
    return validate_release(folder, load=False)


SHARD = "data/documents/validation-00000-of-00001.parquet"


@pytest.mark.parametrize("name,breaker,check,file,resum", [
    ("symlink", lambda f: os.symlink("/etc/hostname", f / "extra.txt"), "file-symlink", "extra.txt", False),
    ("sums outside", lambda f: (f / "SHA256SUMS").write_text((f / "SHA256SUMS").read_text() + "0" * 64 + "  ../../etc/hostname\n"),
     "checksum-mismatch", "SHA256SUMS", False),
    ("sums not utf-8", lambda f: (f / "SHA256SUMS").write_bytes(b"\xff\xfe"), "checksum-mismatch", "SHA256SUMS", False),
    ("card not utf-8", lambda f: (f / "README.md").write_bytes(b"---\n\xff\n---\n"), "card-yaml-invalid", "README.md", True),
    ("card path a list", lambda f: (f / "README.md").write_text((f / "README.md").read_text().replace(
        f"path: {SHARD}", "path: [a]", 1)), "card-yaml-invalid", "README.md", True),
    ("croissant outside", lambda f: (f / "croissant.json").write_text((f / "croissant.json").read_text().replace(
        f'"contentUrl": "{SHARD}"', '"contentUrl": "../../../etc/hostname"')), "croissant-invalid", "croissant.json", True),
    ("croissant NaN", lambda f: (f / "croissant.json").write_text((f / "croissant.json").read_text().replace('"@type": "sc:Dataset"', '"x": NaN, "@type": "sc:Dataset"')),
     "croissant-invalid", "croissant.json", True),
    ("index empty", lambda f: (f / "reports" / "index.jsonl").write_text(""), "report-invalid", "reports/index.jsonl", True),
    ("build.json broken", lambda f: (f / "reports" / "build.json").write_text("{"), "report-invalid", "reports/build.json", True),
    ("corrupt pages", lambda f: _xor(f / SHARD), "parquet-unreadable", SHARD, True),
])
def test_gate_reports_instead_of_crashing(good_release, tmp_path, name, breaker, check, file, resum) -> None:
    good, _ = good_release
    problems = _broken(good, tmp_path, breaker, resum)
    assert (check, file) in [(p.check, p.file) for p in problems], [p.line() for p in problems]


def _xor(path) -> None:
    data = bytearray(path.read_bytes())
    size = pq.ParquetFile(path).metadata.serialized_size
    for i in range(100, min(len(data) - size - 8, 2000)):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def test_rows_report_missing_a_split(good_release, tmp_path) -> None:
    good, _ = good_release

    def breaker(f):
        rows = json.loads((f / "reports" / "rows.json").read_text())
        rows["configs"]["documents"].pop("validation")
        (f / "reports" / "rows.json").write_text(json.dumps(rows))
    folder = tmp_path / "r"
    shutil.copytree(good, folder)
    breaker(folder)
    write_checksums(folder)
    problems = validate_release(folder, load=True)
    assert [(p.check, p.file, p.message) for p in problems] == [
        ("report-invalid", "reports/rows.json", "no digest for documents/validation")]


def _gold_file(project):
    src = ROOT / "annotations" / SEED_ID / "gold.json"
    dst = project.annotations / SEED_ID / "gold.json"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    return dst


def test_chain_with_its_own_source_or_twice_refused(project) -> None:
    path = _gold_file(project)
    gold = json.loads(path.read_text(encoding="utf-8"))
    gold["claims"][1]["via"] = gold["claims"][1]["via"] + [gold["claims"][1]["source"]]
    path.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match=r"claims\[1\]\.via \(id c2\): chain-invalid: the source 'e13' is also in its own reporting chain"):
        build(project, "0.1.0", progress=False)


def test_email_in_origin_sources_refused(project) -> None:
    path = _gold_file(project)
    gold = json.loads(path.read_text(encoding="utf-8"))
    gold["origin"]["sources"] = ["ann@example.com"]
    path.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match=r"origin.sources\[0\]: schema-invalid"):
        build(project, "0.1.0", progress=False)


def test_misnamed_annotation_folder_refused(project) -> None:
    path = _gold_file(project)
    path.parent.rename(project.annotations / SEED_ID.upper().replace("KB-", "kb-"))
    with pytest.raises(InputError, match="not a document folder"):
        build(project, "0.1.0", progress=False)


def test_invalid_preannotation_named_not_a_traceback(project) -> None:
    from khabar.annotate.preannotate import preannotate_corpus

    _gold_file(project)
    [pre] = preannotate_corpus(project, progress=False)
    ann = json.loads(pre.read_text(encoding="utf-8"))
    ann["entities"][0]["type"] = "PERSON"
    pre.write_text(json.dumps(ann, ensure_ascii=False), encoding="utf-8")
    # issue 10: an optional pre-annotation file no longer stops a build; it is named in one warning
    r = build(project, "0.1.0", progress=False)
    assert [w for w in r.warnings if "preannotator.json: not a valid pre-annotation" in w] != []


def test_preannotate_long_repetitive_sentence_stays_linear() -> None:
    from khabar.annotate.preannotate import preannotate

    n = 300
    text = "خبر عاجل\n" + "قال الرئيس الفرنسي إن العراق " * n
    doc = {"id": "kb-0000000000000001", "text_sha256": "0" * 64, "text": text,
           "sentences": [{"start": a, "end": b} for a, b in sentences(text)]}
    ann = preannotate(doc)
    assert len(ann["claims"]) == n
    for c in ann["claims"]:
        assert c["source"] not in c["via"] and len(set(c["via"])) == len(c["via"]) <= n

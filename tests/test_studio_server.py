"""The round trip corpus -> Label Studio -> annotations against a real Label Studio server
(started once per session by the ``studio_server`` fixture; never skipped)."""

from __future__ import annotations

import hashlib
import json
import shutil

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import ROOT, SEED_ID, draw_entities, load_case, snapshot, studio_headers
from khabar.core.errors import InputError
from khabar.ingest.normalize import normalize
from khabar.core.schema import Schemas
from khabar.studio.client import connect
from khabar.studio.config import Scheme, labeling_config, same_config
from khabar.studio.offsets import Utf16Index, resolve_span
from khabar.studio.parse import ConversionError
from khabar.studio.to_results import annotation_to_results
from khabar.core.errors import StudioError
from khabar.studio.pull import pull
from khabar.studio.push import push
from khabar.studio.transfer import import_export

pytestmark = pytest.mark.studio


def doc_for(text: str, revision: int = 1, doc_id: str | None = None) -> dict:
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {"id": doc_id or f"kb-{sha[:16]}", "text": text, "text_sha256": sha, "revision": revision,
            "title": text.split("\n")[0][:40]}


def tasks_of(studio, title: str) -> list[dict]:
    proj = studio.find_project(title)
    return list(studio.iter_tasks(proj.id)) if proj else []


def read(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ config and the gold

def test_server_accepts_the_generated_config(project, studio, title, schemas: Schemas) -> None:
    report = push(project, studio, title=title, progress=False)
    proj = studio.get_project(report.project_id)
    assert same_config(proj.label_config, labeling_config(schemas))
    assert (report.created, report.predictions) == (1, 0)  # the test project has no pre-annotation


def test_seed_gold_survives_push_and_pull_unchanged(project, studio, title) -> None:
    shutil.copytree(ROOT / "annotations" / SEED_ID, project.annotations / SEED_ID)
    shutil.copy(ROOT / "annotations" / "GUIDELINES.md", project.annotations / "GUIDELINES.md")
    report = push(project, studio, title=title, annotations=["gold"], progress=False)
    assert (report.created, report.predictions, report.annotations) == (1, 1, 1)
    [task] = tasks_of(studio, title)
    assert task["data"]["doc_id"] == SEED_ID and task["predictions"][0]["model_version"] == "khabar-preannotate 0.1.0"
    # the task offers the stance targets of its document (dynamic labels), not all 35 of the registry
    assert [o["value"] for o in task["data"]["stance_targets"]] == ["us-military-presence-iraq", "attacks-on-us-forces",
                                                                     "us-iraq-withdrawal-negotiations"]
    pulled = pull(project, studio, title=title, progress=False)
    name = f"ls-{studio.user_id}"
    assert pulled.written == [f"annotations/{SEED_ID}/{name}.json"] and pulled.warnings == []
    gold = read(ROOT / "annotations" / SEED_ID / "gold.json")
    back = read(project.annotations / SEED_ID / f"{name}.json")
    for key in ("schema_version", "doc_id", "text_sha256", "entities", "claims", "stances"):
        assert back[key] == gold[key], key
    assert back["guidelines_version"] == "1.1"  # the version of annotations/GUIDELINES.md when the task was pushed
    assert (len(back["entities"]), len(back["claims"]), len(back["stances"])) == (140, 19, 10)
    assert back["annotator"] == name and back["origin"]["kind"] == "label-studio"
    assert back["origin"]["task_id"] == task["id"] and back["origin"]["sources"] == [name]
    assert "@" not in (project.annotations / SEED_ID / f"{name}.json").read_text(encoding="utf-8")
    # the pre-annotation, pushed as a prediction, comes back unchanged too
    pre = read(ROOT / "annotations" / SEED_ID / "preannotator.json")
    scheme = Scheme.from_schemas(Schemas(project.schema))
    assert task["predictions"][0]["result"] == annotation_to_results(pre, task["data"]["text"], scheme)


# ------------------------------------------------------------------ case 09: idempotent push

def test_case_09_repush_and_reimport_create_no_duplicates(project, studio, title) -> None:
    case = load_case("09-ls-reimport-creates-duplicate-tasks.json")
    doc = doc_for(case["input"]["article"]["text"])
    r1 = push(project, studio, title=title, docs=[doc], progress=False)            # 1. to an empty project
    r2 = push(project, studio, title=title, docs=[doc], progress=False)            # 2. again, no change
    assert (r1.created, r2.created, r2.unchanged) == (1, 0, 1)
    [task] = tasks_of(studio, title)
    text = doc["text"]
    result = [{"id": "e1", "from_name": "entity", "to_name": "text", "type": "labels",
               "value": {"start": 6, "end": 13, "text": text[6:13], "labels": ["ORG"]}}]
    assert text[6:13] == "الحكومة"
    studio.create_annotation(task["id"], result)                                    # 3. an annotator labels it
    r3 = push(project, studio, title=title, docs=[doc], progress=False)            # 4. push again
    assert (r3.created, r3.unchanged, r3.annotations) == (0, 1, 0)
    export = tasks_of(studio, title)                                                # 5. re-import an export
    r4 = import_export(project, studio, export, source="export.json", title=title, progress=False)
    assert (r4.created, r4.unchanged, r4.annotations) == (0, 1, 0)
    expected = case["expected"]["after_all_steps"]
    tasks = [t for t in tasks_of(studio, title) if t["data"]["doc_id"] == doc["id"]]
    assert len(tasks) == expected["tasks_with_article_id_ar-0001"] == 1
    assert len(tasks[0]["annotations"]) == expected["annotations_on_that_task"] == 1
    # the export re-imported into a fresh project brings its annotation along, once
    other = title + "-b"
    r5 = import_export(project, studio, export, source="export.json", title=other, progress=False)
    r6 = import_export(project, studio, export, source="export.json", title=other, progress=False)
    assert (r5.created, r5.annotations, r6.created, r6.annotations) == (1, 1, 0, 0)
    assert [len(t["annotations"]) for t in tasks_of(studio, other)] == [1]


def test_changed_text_under_annotations_is_reported_not_replaced(project, studio, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة للنقل")
    push(project, studio, title=title, docs=[doc], progress=False)
    [task] = tasks_of(studio, title)
    studio.create_annotation(task["id"], [])
    changed = doc_for("أعلنت الحكومة خطة جديدة للنقل العام", revision=2, doc_id=doc["id"])
    r = push(project, studio, title=title, docs=[changed], progress=False)
    assert (r.changed, r.created, r.updated) == ([doc["id"]], 0, 0)
    [same] = tasks_of(studio, title)
    assert same["data"]["text"] == doc["text"] and same["data"]["revision"] == 1
    r = push(project, studio, title=title, docs=[changed], add_revisions=True, progress=False)
    assert (r.created, r.revisions) == (1, 1)
    tasks = tasks_of(studio, title)
    assert sorted((t["data"]["revision"], len(t["annotations"])) for t in tasks) == [(1, 1), (2, 0)]
    assert push(project, studio, title=title, docs=[changed], progress=False).created == 0


def test_changed_text_without_annotations_updates_the_task(project, studio, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    push(project, studio, title=title, docs=[doc], progress=False)
    changed = doc_for("أعلنت الحكومة خطة جديدة اليوم", revision=2, doc_id=doc["id"])
    r = push(project, studio, title=title, docs=[changed], progress=False)
    assert (r.updated, r.created) == (1, 0)
    [task] = tasks_of(studio, title)
    assert task["data"]["text"] == changed["text"] and task["data"]["revision"] == 2


def test_a_different_config_is_refused_unless_asked(project, studio, title, schemas) -> None:
    studio.create_project(title, labeling_config(schemas).replace('value="FAC"', 'value="FACILITY"'), "x")
    with pytest.raises(StudioError, match="its labeling config differs from the one generated from schema/"):
        push(project, studio, title=title, progress=False)
    r = push(project, studio, title=title, update_config=True, progress=False)
    assert r.config_updated and same_config(studio.get_project(r.project_id).label_config, labeling_config(schemas))


# ------------------------------------------------------------------ pull

def _annotate(studio, task: dict, start: int, end: int, label: str = "ORG", **kw) -> int:
    text = task["data"]["text"]
    result = [{"id": "e1", "from_name": "entity", "to_name": "text", "type": "labels",
               "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}]
    return studio.create_annotation(task["id"], result, **kw)


def test_pull_is_incremental_and_skips_cancelled(project, studio, title) -> None:
    docs = [doc_for("أعلنت الحكومة خطة جديدة"), doc_for("قال الوزير إن الاقتصاد سينمو")]
    push(project, studio, title=title, docs=docs, progress=False)
    t1, t2 = sorted(tasks_of(studio, title), key=lambda t: t["id"])
    aid = _annotate(studio, t1, 6, 13)
    studio.create_annotation(t2["id"], [], was_cancelled=True)
    r = pull(project, studio, title=title, progress=False)
    name = f"ls-{studio.user_id}"
    path = project.annotations / t1["data"]["doc_id"] / f"{name}.json"
    assert (len(r.written), r.cancelled, r.unchanged) == (1, 1, 0)
    assert read(path)["entities"] == [{"id": "e1", "start": 6, "end": 13, "text": "الحكومة", "type": "ORG"}]
    assert not (project.annotations / t2["data"]["doc_id"]).exists()
    before = path.stat().st_mtime_ns
    r = pull(project, studio, title=title, progress=False)
    assert (r.written, r.unchanged) == ([], 1) and path.stat().st_mtime_ns == before
    studio.call("update", studio.sdk.annotations.update, id=aid, result=[
        {"id": "e1", "from_name": "entity", "to_name": "text", "type": "labels",
         "value": {"start": 6, "end": 13, "text": "الحكومة", "labels": ["GPE"]}}])
    r = pull(project, studio, title=title, progress=False)
    assert len(r.written) == 1 and read(path)["entities"][0]["type"] == "GPE"


def test_drafts_only_on_request(project, studio, studio_server, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    push(project, studio, title=title, docs=[doc], progress=False)
    [task] = tasks_of(studio, title)
    r = httpx.post(f"{studio.url}/api/tasks/{task['id']}/drafts", headers=studio_headers(studio_server),
                   json={"result": [{"id": "d1", "from_name": "entity", "to_name": "text", "type": "labels",
                                     "value": {"start": 6, "end": 13, "text": "الحكومة", "labels": ["ORG"]}}]})
    assert r.status_code == 201
    assert pull(project, studio, title=title, progress=False).written == []
    r = pull(project, studio, title=title, drafts=True, progress=False)
    draft = project.annotations / doc["id"] / f"ls-{studio.user_id}.draft.json"
    assert r.written == [str(draft.relative_to(project.root))] and r.drafts == 1
    assert read(draft)["entities"][0]["text"] == "الحكومة" and "@" not in draft.read_text(encoding="utf-8")


def test_pull_reads_every_page(project, studio, title) -> None:
    docs = [doc_for(f"أعلنت الحكومة الخطة رقم {i}") for i in range(250)]
    assert push(project, studio, title=title, docs=docs, batch=100, progress=False).created == 250
    proj = studio.find_project(title)
    ids = [t["id"] for t in studio.iter_tasks(proj.id, page_size=100)]
    assert len(ids) == len(set(ids)) == 250
    for t in list(studio.iter_tasks(proj.id))[:3]:
        _annotate(studio, t, 6, 13)
    r = pull(project, studio, title=title, progress=False)
    assert (r.tasks, len(r.written)) == (250, 3)


@pytest.mark.parametrize("bad, message", [
    ({"labels": ["PER"]}, "region e1: label-unknown: 'PER' is not an entity type of the schema"),
    ({"start": 2, "end": 9}, "region e1: text 'الحكومة' matches neither reading: text[2:9] is 'أعلنت ا' as code points, "
                             "' أعلنت ' as UTF-16 units"),
])
def test_bad_annotations_fail_the_pull_and_write_nothing(project, studio, title, bad, message) -> None:
    doc = doc_for("😀 أعلنت الحكومة خطة جديدة")
    good = doc_for("أعلنت الحكومة خطة")
    push(project, studio, title=title, docs=[doc, good], progress=False)
    t_bad, t_good = sorted(tasks_of(studio, title), key=lambda t: t["id"])
    _annotate(studio, t_good, 6, 13)
    value = {"start": 8, "end": 15, "text": "الحكومة", "labels": ["ORG"], **bad}
    assert doc["text"][8:15] == "الحكومة"
    aid = studio.create_annotation(t_bad["id"], [{"id": "e1", "from_name": "entity", "to_name": "text", "type": "labels", "value": value}])
    before = snapshot(project.annotations)
    with pytest.raises(ConversionError) as err:
        pull(project, studio, title=title, progress=False)
    assert err.value.problems == [f"task {t_bad['id']} ({doc['id']}), annotation {aid}, {message}"]
    assert snapshot(project.annotations) == before


def test_relation_to_a_missing_region_fails_the_pull(project, studio, title) -> None:
    doc = doc_for("قال الوزير إن الاقتصاد سينمو")
    push(project, studio, title=title, docs=[doc], progress=False)
    [task] = tasks_of(studio, title)
    aid = studio.create_annotation(task["id"], [
        {"id": "c1", "from_name": "attribution", "to_name": "text", "type": "labels",
         "value": {"start": 14, "end": 28, "text": doc["text"][14:28], "labels": ["content"]}},
        {"from_id": "c1", "to_id": "gone", "type": "relation", "direction": "right", "labels": ["source"]}])
    with pytest.raises(ConversionError) as err:
        pull(project, studio, title=title, progress=False)
    assert err.value.problems == [f"task {task['id']} ({doc['id']}), annotation {aid}, relation c1->gone: relation to a missing region 'gone'"]


def test_deleted_task_keeps_its_pulled_file(project, studio, title) -> None:
    docs = [doc_for("أعلنت الحكومة خطة جديدة"), doc_for("أعلنت الوزارة خطة")]
    push(project, studio, title=title, docs=docs, progress=False)
    t1, t2 = sorted(tasks_of(studio, title), key=lambda t: t["id"])
    _annotate(studio, t1, 6, 13)
    pull(project, studio, title=title, progress=False)
    studio.call("delete", studio.sdk.tasks.delete, id=str(t1["id"]))
    r = pull(project, studio, title=title, progress=False)
    path = f"annotations/{t1['data']['doc_id']}/ls-{studio.user_id}.json"
    assert r.orphans == [f"{path}: its task {t1['id']} is no longer in Label Studio; the file is kept"]
    assert (project.root / path).exists() and r.tasks == 1


# ------------------------------------------------------------------ faults

def test_wrong_token_and_no_server(studio_server) -> None:
    with pytest.raises(StudioError, match="refused the API key") as err:
        connect(studio_server.url, "not-the-token")
    assert "not-the-token" not in str(err.value)
    from khabar.studio.server import free_port

    with pytest.raises(StudioError, match="cannot connect to Label Studio"):
        connect(f"http://127.0.0.1:{free_port()}", "x" * 40)


def test_server_down_mid_push_then_retry_completes_without_duplicates(project, studio, title, monkeypatch) -> None:
    docs = [doc_for(f"أعلنت الحكومة الخطة رقم {i}") for i in range(30)]
    real = studio.sdk.projects.import_tasks
    calls = []

    def flaky(**kw):
        calls.append(1)
        if len(calls) == 2:
            raise httpx.ConnectError("connection refused")
        return real(**kw)

    monkeypatch.setattr(studio.sdk.projects, "import_tasks", flaky)
    with pytest.raises(StudioError, match="cannot connect to Label Studio"):
        push(project, studio, title=title, docs=docs, batch=10, progress=False)
    monkeypatch.setattr(studio.sdk.projects, "import_tasks", real)
    r = push(project, studio, title=title, docs=docs, batch=10, progress=False)
    assert (r.unchanged, r.created) == (10, 20)
    ids = [t["data"]["doc_id"] for t in tasks_of(studio, title)]
    assert sorted(ids) == sorted(d["id"] for d in docs)


def test_server_down_mid_pull_leaves_annotations_as_they_were(project, studio, title, monkeypatch) -> None:
    docs = [doc_for(f"أعلنت الحكومة الخطة رقم {i}") for i in range(120)]
    push(project, studio, title=title, docs=docs, progress=False)
    for t in list(tasks_of(studio, title))[::30]:
        _annotate(studio, t, 6, 13)
    real = studio.sdk.tasks.list

    def flaky(**kw):
        if kw.get("page") == 2:
            raise httpx.RemoteProtocolError("server disconnected")
        return real(**kw)

    monkeypatch.setattr(studio.sdk.tasks, "list", flaky)
    before = snapshot(project.annotations)
    with pytest.raises(StudioError, match="the connection to Label Studio at .* broke"):
        pull(project, studio, title=title, progress=False, snapshot=False)  # paging (the snapshot's stream: test_studio_snapshot.py)
    assert snapshot(project.annotations) == before
    monkeypatch.setattr(studio.sdk.tasks, "list", real)
    assert len(pull(project, studio, title=title, progress=False).written) == 4


# ------------------------------------------------------------------ property: push -> annotate -> pull

_chars = st.sampled_from(list("ابتثجحخدذرسشصضطعغفقكلمنهوي ءأإة") + ["😀", "\U0001F1EE", "\U0001F1F6", "\u0651", "\u064e",
                                                                       "\u0301", "\u200f", "\u200e", "\u202b", "\r\n", "\n", "A", "٣"])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.lists(_chars, min_size=3, max_size=80).map("".join), data=st.data())
def test_property_push_annotate_pull_returns_what_was_put_in(project, studio, title, raw: str, data) -> None:
    text, _ = normalize(raw)                # what ingest does: CRLF -> LF, NFC, no bidi controls
    if not text.strip():
        return
    assert "\r" not in text and "\u200f" not in text
    doc = doc_for(text)
    push(project, studio, title=title, docs=[doc], progress=False)
    task = next(t for t in tasks_of(studio, title) if t["data"]["doc_id"] == doc["id"])
    ents = draw_entities(data, text, min_size=1, max_size=5)
    # A span that reads the same text as code points and, elsewhere, as UTF-16 units is refused by
    # design (DESIGN.md, Label Studio: "accept a reading only where exactly one unit matches");
    # tests/test_studio_convert.py asserts that refusal. The round trip holds for every other span.
    index = Utf16Index(text)
    assume(all(resolve_span(index, e["start"], e["end"], e["text"]).error is None for e in ents))
    claims = [{"id": "c1", "content": {"start": ents[0]["start"], "end": ents[0]["end"], "text": ents[0]["text"]}, "cue": None,
               "source": ents[-1]["id"] if len(ents) > 1 else None, "via": [], "checkworthy": "yes", "speech": None}] if ents else []
    ann = {"entities": ents, "claims": claims, "stances": []}
    scheme = Scheme.from_schemas(Schemas(project.schema))
    if not task["annotations"]:
        studio.create_annotation(task["id"], annotation_to_results(ann, text, scheme))
    else:
        ann_id = task["annotations"][0]["id"]
        studio.call("update", studio.sdk.annotations.update, id=ann_id, result=annotation_to_results(ann, text, scheme))
    pull(project, studio, title=title, progress=False)
    back = read(project.annotations / doc["id"] / f"ls-{studio.user_id}.json")
    assert back["entities"] == ents and back["claims"] == claims and back["text_sha256"] == doc["text_sha256"]


# ------------------------------------------------------------------ found by the adversarial review

def test_a_create_is_never_sent_twice_when_its_answer_is_lost(project, studio, title, monkeypatch) -> None:
    """The SDK used to resend a POST after a dropped connection: one push made 3 copies of every task."""
    docs = [doc_for(f"أعلنت الحكومة الخطة رقم {i}") for i in range(10)]
    push(project, studio, title=title, docs=docs[:1], progress=False)  # the project exists
    inner = studio.sdk._client_wrapper.httpx_client.httpx_client
    real = inner.request

    def lose_answer(method, url, **kw):
        response = real(method, url, **kw)
        if method == "POST" and str(url).endswith("/import"):
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        return response

    monkeypatch.setattr(inner, "request", lose_answer)
    with pytest.raises(StudioError, match="the connection to Label Studio at .* broke"):
        push(project, studio, title=title, docs=docs, progress=False)
    monkeypatch.setattr(inner, "request", real)
    assert len(tasks_of(studio, title)) == 10  # sent once, not three times
    r = push(project, studio, title=title, docs=docs, progress=False)
    assert (r.created, r.unchanged, r.duplicates) == (0, 10, [])


def test_pulling_another_project_does_not_overwrite(project, studio, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    for t in (title, title + "-b"):
        push(project, studio, title=t, docs=[doc], progress=False)
        _annotate(studio, tasks_of(studio, t)[0], 6, 13, "ORG" if t == title else "GPE")
    pull(project, studio, title=title, progress=False)
    path = project.annotations / doc["id"] / f"ls-{studio.user_id}.json"
    before = path.read_bytes()
    first = studio.find_project(title).id
    with pytest.raises(ConversionError) as err:
        pull(project, studio, title=title + "-b", progress=False)
    tool = read(path)["origin"]["tool"]
    assert tool.startswith("label-studio project ") and len(tool) == len("label-studio project ") + 16
    assert err.value.problems == [f"annotations/{doc['id']}/ls-{studio.user_id}.json: it came from another project ({tool}, id "
                                  f"{first}); pulling project {studio.find_project(title + '-b').id} ({title + '-b'!r}) would overwrite it"]
    assert path.read_bytes() == before
    # another server's data folder reuses project ids: a file from "project 1" elsewhere is not ours
    data = read(path)
    data["origin"]["tool"] = "label-studio project 0123456789abcdef"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ConversionError, match="came from another project \\(label-studio project 0123456789abcdef"):
        pull(project, studio, title=title, progress=False)


def test_one_file_per_annotator_per_document(project, studio, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    push(project, studio, title=title, docs=[doc], progress=False)
    [old] = tasks_of(studio, title)
    old_ann = _annotate(studio, old, 6, 13, "ORG")
    rev2 = doc_for("أعلنت الحكومة خطة جديدة اليوم", revision=2, doc_id=doc["id"])
    push(project, studio, title=title, docs=[rev2], add_revisions=True, progress=False)
    new = next(t for t in tasks_of(studio, title) if t["data"]["revision"] == 2)
    _annotate(studio, new, 6, 13, "GPE")
    studio.call("update", studio.sdk.annotations.update, id=old_ann, result=[  # the old one edited last
        {"id": "e1", "from_name": "entity", "to_name": "text", "type": "labels",
         "value": {"start": 6, "end": 13, "text": "الحكومة", "labels": ["PERS"]}}])
    r = pull(project, studio, title=title, progress=False)
    back = read(project.annotations / doc["id"] / f"ls-{studio.user_id}.json")
    assert back["text_sha256"] == rev2["text_sha256"] and back["entities"][0]["type"] == "GPE"
    assert r.warnings == [f"task {old['id']} ({doc['id']}), annotation {old_ann}: not written: ls-{studio.user_id}'s annotation on "
                          f"revision 2 (task {new['id']} ({doc['id']}), annotation {back['origin']['annotation_id']}) is taken",
                          f"task {new['id']} ({doc['id']}), annotation {back['origin']['annotation_id']}: {doc['id']} is not in "
                          "corpus/; its annotation is written all the same"]
    second = _annotate(studio, new, 14, 17, "DATE")  # two on the same task: an error, not a silent pick
    with pytest.raises(ConversionError, match=rf"has 2 submitted annotations on the same text .*annotation {second}"):
        pull(project, studio, title=title, progress=False)


def test_real_export_with_prediction_ids_reimports(project, studio, studio_server, title) -> None:
    shutil.copytree(ROOT / "annotations" / SEED_ID, project.annotations / SEED_ID)
    push(project, studio, title=title, annotations=["gold"], progress=False)
    pid = studio.find_project(title).id
    r = httpx.get(f"{studio.url}/api/projects/{pid}/export", params={"exportType": "JSON"},
                  headers=studio_headers(studio_server), timeout=60)
    export = r.json()
    assert export[0]["predictions"] == [export[0]["predictions"][0]] and isinstance(export[0]["predictions"][0], int)
    rep = import_export(project, studio, export, source="export.json", title=title + "-copy", progress=False)
    assert (rep.created, rep.annotations) == (1, 1)
    [task] = tasks_of(studio, title + "-copy")
    assert len(task["annotations"]) == 1 and task["annotations"][0]["result"] == export[0]["annotations"][0]["result"]
    with pytest.raises(InputError, match="the export holds no task"):
        import_export(project, studio, [], source="empty.json", title=title + "-none", progress=False)
    assert studio.find_project(title + "-none") is None


def test_task_with_a_path_as_doc_id_is_refused(project, studio, title) -> None:
    push(project, studio, title=title, docs=[doc_for("أعلنت الحكومة")], progress=False)
    text = "أعلنت الحكومة"
    [tid] = studio.import_tasks(studio.find_project(title).id, [{"data": {
        "text": text, "doc_id": "../../escape", "text_sha256": hashlib.sha256(text.encode()).hexdigest(), "stance_targets": []}}])
    _annotate(studio, {"id": tid, "data": {"text": text}}, 6, 13)
    with pytest.raises(ConversionError, match=r"data.doc_id '../../escape' is not a Khabar document id"):
        pull(project, studio, title=title, progress=False)
    assert not (project.root.parent / "escape").exists() and not list(project.root.parent.glob("*.json"))


def test_annotator_map_refuses_ids_that_collide(tmp_path) -> None:
    from khabar.studio.annotators import load_annotator_map

    for value in ("ls-3", "bob.draft", "gold", "Bob"):
        (tmp_path / "m.json").write_text(json.dumps({"alice@example.org": value}))
        with pytest.raises(InputError, match="is not a usable annotator id"):
            load_annotator_map(tmp_path / "m.json")
    (tmp_path / "m.json").write_text(json.dumps({"alice@example.org": "ann-a", "2": "ann-b"}))
    assert load_annotator_map(tmp_path / "m.json") == {"alice@example.org": "ann-a", "2": "ann-b"}


def test_not_label_studio_and_bad_keys_are_named(studio_server) -> None:
    import http.server
    import threading

    from khabar.studio.server import free_port

    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with pytest.raises(StudioError, match=rf"http://127.0.0.1:{port} does not answer like Label Studio"):
            connect(f"http://127.0.0.1:{port}", "x" * 40)
    finally:
        srv.shutdown()
    with pytest.raises(StudioError, match="whitespace or non-ASCII"):
        connect(studio_server.url, studio_server.api_key + "\n")
    with pytest.raises(StudioError, match="whitespace or non-ASCII"):
        connect(studio_server.url, "مفتاح-سري")


def test_deleted_annotation_is_reported_and_its_file_kept(project, studio, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    push(project, studio, title=title, docs=[doc], progress=False)
    aid = _annotate(studio, tasks_of(studio, title)[0], 6, 13)
    pull(project, studio, title=title, progress=False)
    studio.call("delete", studio.sdk.annotations.delete, id=aid)
    r = pull(project, studio, title=title, progress=False)
    rel = f"annotations/{doc['id']}/ls-{studio.user_id}.json"
    assert r.orphans == [f"{rel}: its annotation {aid} is no longer in Label Studio (deleted or submitted); the file is kept"]
    assert (project.root / rel).exists()


def test_a_second_server_on_the_same_data_folder_is_refused(studio_server) -> None:
    from khabar.studio.server import StudioServer, free_port

    other = StudioServer(studio_server.project, free_port(), "x@y.test", "pw-123456", "t" * 40, data_dir=studio_server.data_dir)
    with pytest.raises(StudioError) as err:
        other.start()
    assert str(err.value) == (f"another Label Studio is serving {studio_server.data_dir} (it holds serve.lock; "
                              f"port {studio_server.port}, pid {studio_server.process.pid})")


def test_import_keeps_every_annotator_and_refuses_unknown_users(project, studio, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    push(project, studio, title=title, docs=[doc], progress=False)
    other = studio.sdk.users.create(email=f"{title[:20].lower()}@khabar.test", username=title[:20].lower())
    [task] = tasks_of(studio, title)
    _annotate(studio, task, 6, 13)
    _annotate(studio, task, 6, 13, completed_by=other.id)      # the same result by a second annotator
    export = tasks_of(studio, title)
    assert sorted(a["completed_by"] for a in export[0]["annotations"]) == sorted([studio.user_id, other.id])
    r = import_export(project, studio, export, source="export.json", title=title + "-c", progress=False)
    assert (r.created, r.annotations) == (1, 2)
    [copy] = tasks_of(studio, title + "-c")
    assert sorted(a["completed_by"] for a in copy["annotations"]) == sorted([studio.user_id, other.id])
    assert import_export(project, studio, export, source="export.json", title=title, progress=False).annotations == 0
    for a in export[0]["annotations"]:
        a["completed_by"] = 7777
    with pytest.raises(InputError, match=r"annotations by user id\(s\) \[7777\], who are not users of"):
        import_export(project, studio, export, source="export.json", title=title + "-d", progress=False)
    assert studio.find_project(title + "-d") is None
    r = import_export(project, studio, export, source="export.json", title=title + "-d", as_me=True, progress=False)
    assert r.annotations == 1  # the same result twice, both now the connecting user's: once


def test_push_names_a_text_edited_in_label_studio(project, studio, studio_server, title) -> None:
    doc = doc_for("أعلنت الحكومة خطة جديدة")
    push(project, studio, title=title, docs=[doc], progress=False)
    [task] = tasks_of(studio, title)
    r = httpx.patch(f"{studio.url}/api/tasks/{task['id']}", headers=studio_headers(studio_server),
                    json={"data": {**task["data"], "text": "نص آخر"}})
    assert r.status_code == 200
    r = push(project, studio, title=title, docs=[doc], progress=False)  # not annotated: repaired
    assert r.updated == 1 and tasks_of(studio, title)[0]["data"]["text"] == doc["text"]
    _annotate(studio, task, 6, 13)
    httpx.patch(f"{studio.url}/api/tasks/{task['id']}", headers=studio_headers(studio_server),
                json={"data": {**task["data"], "text": "نص آخر"}})
    r = push(project, studio, title=title, docs=[doc], progress=False)
    assert (r.edited, r.changed, r.created) == ([f"{doc['id']} (task {task['id']})"], [], 0)

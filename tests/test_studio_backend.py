"""Khabar's Label Studio ML backend (``khabar studio backend``): its HTTP API on an ephemeral port,
and (marked ``studio``) a real Label Studio 1.23.2 that asks it for predictions when a task is
opened and sends it the annotations submitted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import ROOT, SEED_ID, studio_headers
from khabar.annotate.preannotate import preannotate
from khabar.cli import app
from khabar.core.schema import Schemas
from khabar.studio.backend import PREANNOTATOR_VERSION, Backend, preannotator_annotate
from khabar.studio.backend_app import BackendServer
from khabar.studio.config import Scheme, labeling_config
from khabar.studio.to_results import annotation_to_results

DOC = json.loads((ROOT / "corpus" / f"{SEED_ID}.json").read_text(encoding="utf-8"))
# the seed's third sentence: Mehr <- Al Jazeera <- the White House
SENTENCE = DOC["text"][DOC["sentences"][2]["start"]:DOC["sentences"][2]["end"]]


@pytest.fixture(scope="module")
def scheme() -> Scheme:
    return Scheme.from_schemas(Schemas(ROOT / "schema"))


def start(backend: Backend) -> BackendServer:
    return BackendServer(backend, port=0).start()


@pytest.fixture
def served(tmp_path: Path, scheme: Scheme):
    server = start(Backend(preannotator_annotate, PREANNOTATOR_VERSION, scheme, tmp_path / "ml"))
    yield server
    server.stop()


def post(server: BackendServer, path: str, body) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return httpx.post(server.url + path, content=content, headers={"Content-Type": "application/json"}, timeout=30)


def predict(server: BackendServer, tasks: list) -> list[dict]:
    r = post(server, "/predict", {"tasks": tasks, "project": "1.1700000000", "label_config": "<View/>", "params": {}})
    assert r.status_code == 200, r.text
    return r.json()["results"]


# ------------------------------------------------------------------ the API

def test_health_and_root_say_up(served: BackendServer) -> None:
    for path in ("/health", "/"):
        r = httpx.get(served.url + path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert r.json() == {"status": "UP", "model_class": "khabar", "model_version": "khabar-preannotate 0.2.0", "training": False}
    assert httpx.get(served.url + "/versions").json() == {"versions": ["khabar-preannotate 0.2.0"]}


def test_setup_gives_the_model_version_and_refuses_a_foreign_config(served: BackendServer) -> None:
    payload = {"project": "3.1700000000", "schema": labeling_config(Schemas(ROOT / "schema")), "hostname": "http://127.0.0.1:8080",
               "access_token": "not-a-real-token", "extra_params": None}
    r = post(served, "/setup", payload)
    assert (r.status_code, r.json()) == (200, {"model_version": PREANNOTATOR_VERSION})
    foreign = '<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="PER"/></Labels></View>'
    r = post(served, "/setup", {**payload, "schema": foreign})
    assert r.status_code == 422 and r.text.count("\n") == 1
    assert "attribution, checkworthy, entity, speech, stance, stance_label" in r.json()["error"]


def test_predict_a_real_sentence_gives_the_preannotators_spans(served: BackendServer, scheme: Scheme) -> None:
    [pred] = predict(served, [{"id": 7, "data": {"text": SENTENCE}}])
    assert pred["model_version"] == "khabar-preannotate 0.2.0"
    regions = [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
               for r in pred["result"] if r["type"] == "labels"]
    assert regions == [
        (11, 28, "ORG", "وكالة مهر للأنباء"), (32, 44, "ORG", "قناة الجزيرة"), (49, 61, "ORG", "البيت الأبيض"),
        (111, 117, "GPE", "العراق"), (119, 124, "GPE", "سوريا"),
        (49, 124, "content", SENTENCE[49:124]), (6, 10, "cue", "نقلت"),
        (67, 124, "content", SENTENCE[67:124]), (62, 66, "cue", "أعلن"),
    ]
    assert all(SENTENCE[s:e] == t for s, e, _, t in regions)  # code points, half-open
    relations = [(r["from_id"], r["labels"][0], r["to_id"]) for r in pred["result"] if r["type"] == "relation"]
    assert relations == [("c1", "cue", "c1-cue"), ("c1", "source", "e2"), ("c1", "via-1", "e1"),
                         ("c2", "cue", "c2-cue"), ("c2", "source", "e3"), ("c2", "via-1", "e1"), ("c2", "via-2", "e2")]
    # exactly the pre-annotator's annotation, converted as `khabar studio push` converts it
    ann = preannotate({"id": None, "text": SENTENCE, "text_sha256": "", "sentences": [{"start": 0, "end": len(SENTENCE)}]})
    assert pred["result"] == annotation_to_results(ann, SENTENCE, scheme)


def test_a_whole_corpus_document_is_segmented_as_the_corpus(served: BackendServer, scheme: Scheme) -> None:
    [pred] = predict(served, [{"id": 1, "data": {"text": DOC["text"], "doc_id": DOC["id"], "text_sha256": DOC["text_sha256"]}}])
    assert pred["result"] == annotation_to_results(preannotate(DOC), DOC["text"], scheme)


def test_tasks_without_text_get_empty_predictions_in_order(served: BackendServer) -> None:
    tasks = [{"id": 1, "data": {"text": ""}}, {"id": 2, "data": {}}, {"id": 3, "data": {"text": 42}}, {"id": 4, "data": {"text": " \n"}},
             {"id": 5}, "not a task", {"id": 6, "data": {"text": SENTENCE}}]
    preds = predict(served, tasks)
    empty = {"result": [], "score": 0, "model_version": PREANNOTATOR_VERSION}
    assert preds[:6] == [empty] * 6
    assert len(preds) == 7 and len(preds[6]["result"]) > 0
    assert predict(served, []) == []


def test_a_failing_or_wrong_model_gives_an_empty_prediction(tmp_path: Path, scheme: Scheme) -> None:
    def annotate(doc: dict) -> dict:
        if "boom" in doc["text"]:
            raise RuntimeError("the model broke\nsecond line")
        return {"entities": [{"id": "e1", "start": 0, "end": 3, "text": "nope", "type": "ORG"}], "claims": [], "stances": []}

    with start(Backend(annotate, "m-1", scheme, tmp_path)) as server:
        preds = predict(server, [{"id": 1, "data": {"text": "boom"}}, {"id": 2, "data": {"text": "قال الرئيس"}}])
    assert preds == [{"result": [], "score": 0, "model_version": "m-1"}] * 2


def test_malformed_bodies_get_one_line_json_errors(served: BackendServer) -> None:
    cases = [("/predict", b'{"tasks": [', 400, "invalid JSON"), ("/predict", b"", 400, "empty"),
             ("/predict", b"\xff\xfe", 400, "not UTF-8"), ("/predict", b'{"tasks": NaN}', 400, "NaN"),
             ("/predict", b"[1, 2]", 400, '"tasks" list'), ("/predict", b'{"tasks": {}}', 400, '"tasks" list'),
             ("/setup", b'"text"', 400, "JSON object"), ("/webhook", b"{}", 400, '"action"'), ("/nowhere", b"{}", 404, "no such route")]
    for path, body, status, words in cases:
        r = post(served, path, body)
        assert r.status_code == status, (path, body, r.text)
        assert r.headers["content-type"].startswith("application/json") and r.text.count("\n") == 1 and "Traceback" not in r.text
        assert words in r.json()["error"], (path, body, r.text)
    assert httpx.get(served.url + "/predict").status_code == 405
    assert httpx.get(served.url + "/health").json()["status"] == "UP"  # still serving


def annotation_event(action: str, task_id: int, ann_id: int, n: int) -> dict:
    result = [{"id": f"e{i}", "from_name": "entity", "to_name": "text", "type": "labels",
               "value": {"start": 0, "end": 3, "text": "قال", "labels": ["ORG"]}} for i in range(n)]
    return {"action": action, "annotation": {"id": ann_id, "task": task_id, "result": result, "completed_by": 1, "was_cancelled": False},
            "task": {"id": task_id, "data": {"doc_id": SEED_ID, "text_sha256": DOC["text_sha256"]}}, "project": {"id": 3}}


def test_webhook_records_annotation_events_and_retrains_on_request(tmp_path: Path, scheme: Scheme) -> None:
    seen: list[list[dict]] = []

    def retrain(records: list[dict]) -> str:
        seen.append(records)
        return f"m-{len(seen) + 1}"

    backend = Backend(preannotator_annotate, "m-1", scheme, tmp_path / "ml", retrain=retrain)
    with start(backend) as server:
        assert post(server, "/webhook", annotation_event("ANNOTATION_CREATED", 5, 11, 2)).json() == {"status": "recorded", "records": 1}
        assert post(server, "/webhook", annotation_event("ANNOTATION_UPDATED", 5, 11, 3)).json()["status"] == "recorded"
        assert post(server, "/webhook", {"action": "PROJECT_UPDATED", "project": {"id": 3}}).json()["status"] == "ignored"
        lines = [json.loads(x) for x in (tmp_path / "ml" / "received.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [(x["action"], x["task"], x["annotation"], x["results"], x["doc_id"]) for x in lines] == [
            ("ANNOTATION_CREATED", 5, 11, 2, SEED_ID), ("ANNOTATION_UPDATED", 5, 11, 3, SEED_ID)]
        assert post(server, "/webhook", {"action": "START_TRAINING", "project": {"id": 3}}).json() == {"status": "training"}
        assert backend.wait_training(10)
        assert [[r["results"] for r in recs] for recs in seen] == [[3]]  # the latest version of annotation 11
        assert post(server, "/setup", {"project": "3.1"}).json() == {"model_version": "m-2"}
        assert predict(server, [{"id": 1, "data": {"text": ""}}])[0]["model_version"] == "m-2"
        assert post(server, "/train", {"annotations": []}).json() == {"status": "training"}
        assert backend.wait_training(10) and backend.model_version == "m-3"


def test_connect_refuses_a_bad_backend_url_in_one_line() -> None:
    from khabar.core.errors import StudioError
    from khabar.studio.client import Studio
    from khabar.studio.connect import connect

    for url in ("ftp://127.0.0.1:9090", "127.0.0.1:9090", "http://user:pw@127.0.0.1:9090", "http://127.0.0.1:99999"):
        with pytest.raises(StudioError, match="is not the http\\(s\\) address of the backend"):
            connect(Studio(url="http://127.0.0.1:1", sdk=None, user_id=1), 1, url)


def test_without_retrain_training_events_are_acknowledged(served: BackendServer) -> None:
    assert post(served, "/webhook", {"action": "START_TRAINING"}).json()["status"] == "ignored"


def run_command(args: list[str], check, sig: int = signal.SIGINT) -> str:
    """Run ``khabar studio backend ARGS --port <free>``, call ``check(url)`` once it answers, stop it
    with ``sig``; its output (it must exit 0)."""
    from khabar.studio.server import free_port

    port = free_port()
    env = {**os.environ, "KHABAR_ROOT": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "khabar", "studio", "backend", *args, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/health")
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.2)
        check(url)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert f"on {url}" in out and "stopping the ML backend" in out and "Traceback" not in out
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_command_serves_on_loopback_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    def check(url: str) -> None:
        assert httpx.get(url + "/health").json()["model_version"] == PREANNOTATOR_VERSION

    run_command(["--root", str(ROOT)], check, sig)


@pytest.mark.slow
def test_the_command_serves_a_trained_model(tmp_path: Path, scheme: Scheme) -> None:
    from khabar.baseline.modelcard import model_card
    from khabar.baseline.trainer import train_release
    from khabar.model import save_model

    model, report = train_release(ROOT / "releases" / "0.4.0", schemas=Schemas(ROOT / "schema"))
    folder = save_model(model, tmp_path / "crf", model_card(model, report))
    ann = model.annotate({"id": SEED_ID, "text": DOC["text"], "sentences": DOC["sentences"]})
    expected = annotation_to_results(ann, DOC["text"], scheme)
    assert expected  # the model finds something in the seed

    def check(url: str) -> None:
        r = httpx.post(url + "/predict", json={"tasks": [{"id": 1, "data": {"text": DOC["text"], "doc_id": SEED_ID}}]}, timeout=60)
        [pred] = r.json()["results"]
        assert (pred["model_version"], pred["result"]) == (f"khabar-model {model.version}", expected)

    run_command(["--root", str(ROOT), "--model", str(folder)], check)


# ------------------------------------------------------------------ against Label Studio 1.23.2

def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


@pytest.mark.studio
def test_label_studio_asks_the_backend_and_sends_it_annotations(project, studio, studio_server, title, scheme: Scheme,
                                                                 tmp_path: Path) -> None:
    from khabar.studio.connect import connect
    from khabar.studio.push import push

    report = push(project, studio, title=title, progress=False)  # the project's seed document, no pre-annotation
    [task] = list(studio.iter_tasks(report.project_id))
    assert task["predictions"] == []
    trained = threading.Event()

    def retrain(records: list[dict]) -> str:
        trained.set()
        return "khabar-retrained-1"

    from khabar.core.errors import StudioError
    from khabar.studio.server import free_port

    with pytest.raises(StudioError, match="cannot use the ML backend at http://127.0.0.1:[0-9]+: its health check failed") as err:
        connect(studio, report.project_id, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert "khabar studio backend" in (err.value.hint or "") and "\n" not in str(err.value)
    backend = Backend(preannotator_annotate, PREANNOTATOR_VERSION, scheme, tmp_path / "ml", retrain=retrain)
    with start(backend) as server:
        r = connect(studio, report.project_id, server.url + "/", train_every=1)
        assert (r.created, r.webhook, r.model_version, r.state) == (True, True, PREANNOTATOR_VERSION, "Connected")
        again = connect(studio, report.project_id, server.url)
        assert (again.created, again.backend_id) == (False, r.backend_id)
        res = CliRunner().invoke(app, ["studio", "backend", "connect", "--project", title, "--url", server.url],
                                 env={"LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": studio_server.api_key})
        assert res.exit_code == 0 and f"already on project {report.project_id}" in res.output, res.output
        assert "warning" not in res.output
        assert len(studio.sdk.ml.list(project=report.project_id)) == 1
        # what the labeling screen loads when a task is opened from the Data Manager
        http = httpx.Client(base_url=studio_server.url, headers=studio_headers(studio_server), timeout=120)
        opened = http.get(f"/api/tasks/{task['id']}/", params={"project": report.project_id})
        assert opened.status_code == 200, opened.text[:500]
        [pred] = opened.json()["predictions"]
        assert pred["model_version"] == PREANNOTATOR_VERSION
        assert pred["result"] == annotation_to_results(preannotate(DOC), DOC["text"], scheme)
        # the labeling stream (Label All Tasks) shows the backend's prediction too
        nxt = http.get(f"/api/projects/{report.project_id}/next")
        assert nxt.status_code == 200, nxt.text[:500]
        assert [p["model_version"] for p in nxt.json()["predictions"]] == [PREANNOTATOR_VERSION]
        # an annotator submits: Label Studio posts ANNOTATION_CREATED to <backend>/webhook
        result = pred["result"][:3]
        ann_id = studio.create_annotation(task["id"], result)
        received = tmp_path / "ml" / "received.jsonl"
        lines = wait_for(lambda: received.exists() and [json.loads(x) for x in received.read_text(encoding="utf-8").splitlines()])
        assert [(x["action"], x["task"], x["annotation"], x["results"], x["doc_id"], x["project"]) for x in lines] == [
            ("ANNOTATION_CREATED", task["id"], ann_id, 3, SEED_ID, report.project_id)]
        assert lines[0]["result"] == result and "@" not in received.read_text(encoding="utf-8")
        # and, with train_every=1, START_TRAINING: the backend retrains and reports its new version
        assert trained.wait(20) and backend.wait_training(20)
        assert wait_for(lambda: backend.model_version == "khabar-retrained-1")


def test_odd_ids_and_lone_surrogates_get_one_line_answers(served: BackendServer, tmp_path: Path) -> None:
    """Found by an adversarial review: an annotation id that is an object was recorded and then
    broke every retraining (unhashable); a task id that is a list was a 500; a lone surrogate
    escape got no answer at all; PUT got an HTML page."""
    r = post(served, "/webhook", {"action": "ANNOTATION_CREATED", "annotation": {"id": {"a": 1}, "task": 1, "result": []},
                                  "task": {"id": 1, "data": {"text": "x", "doc_id": SEED_ID}}})
    assert (r.status_code, r.json()) == (400, {"error": "annotation id \"{'a': 1}\" is not a number or a string"})
    r = post(served, "/webhook", {"action": "ANNOTATION_CREATED", "annotation": {"id": 7, "task": [1], "result": []}, "task": [{"id": [1]}]})
    assert (r.status_code, r.json()) == (200, {"status": "recorded", "records": 1})
    [line] = (tmp_path / "ml" / "received.jsonl").read_text(encoding="utf-8").splitlines()
    assert (json.loads(line)["annotation"], json.loads(line)["task"]) == (7, None)
    r = post(served, "/webhook", '{"action": "\\ud800"}')
    assert (r.status_code, r.json()) == (200, {"status": "ignored", "action": "\ud800"})  # escaped back as it came
    r = post(served, "/webhook", '{"action": "ANNOTATION_CREATED", "annotation": {"id": 8, "result": [{"x": "\\udc00"}]}}')
    assert r.status_code == 200 and len((tmp_path / "ml" / "received.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert post(served, "/setup", '{"schema": "<View>\\ud800</View>"}').status_code == 200
    r = httpx.put(served.url + "/predict", content="{}", timeout=10)
    assert (r.status_code, r.json()) == (405, {"error": "PUT /predict: method not allowed"})

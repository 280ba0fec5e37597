"""The labeling UI in a real browser: Debian's Chromium, driven headless by Playwright, against
the session's Label Studio server. Never a downloaded browser; never skipped.

What it proves for label-studio 1.23.2: the Arabic text runs right-to-left; a pre-annotation
pushed by ``khabar studio push`` (offsets in code points) is highlighted over exactly its
characters, even after emoji; an annotation submitted from it in the UI pulls back identical.
And the negative control: the same prediction with UTF-16 offsets shows shifted highlights,
which is why push writes code points.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT, STUDIO_PASSWORD, STUDIO_USER
from khabar.core.jsonio import write_json
from khabar.core.schema import Schemas
from khabar.studio.config import Scheme
from khabar.studio.pull import pull
from khabar.studio.push import push
from khabar.studio.to_results import annotation_to_results
from test_studio_server import doc_for, read, tasks_of

pytestmark = [pytest.mark.studio, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(os.environ.get("KHABAR_TEST_ARTIFACTS", ROOT / "test-artifacts"))

# An Arabic sentence with a Latin word and emoji before the entities: "😀 The Ministry of Health
# announced in Baghdad today 🎉 that the vaccination campaign began."
TEXT = "😀 أعلنت وزارة الصحة في Baghdad اليوم 🎉 أن حملة التطعيم بدأت."


def _entities() -> list[dict]:
    out = []
    for i, (word, etype) in enumerate([("وزارة الصحة", "ORG"), ("Baghdad", "GPE"), ("اليوم", "DATE"), ("حملة التطعيم", "EVENT")]):
        s = TEXT.index(word)
        out.append({"id": f"e{i + 1}", "start": s, "end": s + len(word), "text": word, "type": etype})
    return out


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install Debian's chromium (scripts/run-tests.sh does)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def _login(page, url: str) -> None:
    page.goto(url + "/user/login")
    page.fill("input[name=email]", STUDIO_USER)
    page.fill("input[name=password]", STUDIO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=60000)


def _open_task(page, url: str, project_id: int, task_id: int) -> list[dict]:
    page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector("span.htx-highlight", timeout=90000)
    page.wait_for_timeout(500)
    return page.evaluate("""() => Array.from(document.querySelectorAll('span.htx-highlight')).map(e => {
        const r = e.getBoundingClientRect();
        return {text: e.textContent, x: r.x, y: r.y, w: r.width};
    })""")


def test_rtl_text_and_exact_prediction_highlights_after_emoji(project, studio, studio_server, title, browser_page) -> None:
    assert TEXT.index("وزارة") == 8 and len(TEXT[:8].encode("utf-16-le")) // 2 == 9  # an emoji before: units differ
    doc = doc_for(TEXT)
    ents = _entities()
    pre = {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": "preannotator",
           "guidelines_version": "1.0", "origin": {"kind": "preannotator", "tool": "khabar-preannotate", "version": "0.1.0"},
           "entities": ents, "claims": [], "stances": []}
    (project.annotations / doc["id"]).mkdir(parents=True)
    write_json(project.annotations / doc["id"] / "preannotator.json", pre)
    report = push(project, studio, title=title, docs=[doc], progress=False)
    assert report.predictions == 1
    [task] = tasks_of(studio, title)

    page = browser_page
    _login(page, studio.url)
    boxes = _open_task(page, studio.url, report.project_id, task["id"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "studio-task-rtl.png"))
    # every highlight covers exactly the characters of its prediction, in text order
    assert [b["text"] for b in boxes] == [e["text"] for e in ents]
    # right-to-left: the text's container computes to rtl, and on one line an earlier word lies to the right
    direction = page.evaluate("""() => getComputedStyle(document.querySelector('.lsf-richtext__line')).direction""")
    assert direction == "rtl"
    first, second = boxes[0], boxes[2]  # وزارة الصحة (8) and اليوم (32), on the same line
    assert abs(first["y"] - second["y"]) < 5 and first["x"] > second["x"]

    # submitting the pre-annotation in the UI stores code points: the pull gives it back unchanged
    page.get_by_role("button", name="Submit").click()
    page.wait_for_function("() => !document.querySelector('button[aria-label=\"submit\"]:disabled')", timeout=10000)
    for _ in range(30):
        if tasks_of(studio, title)[0]["annotations"]:
            break
        page.wait_for_timeout(500)
    r = pull(project, studio, title=title, progress=False)
    assert len(r.warnings) == 1 and r.warnings[0].endswith(f"{doc['id']} is not in corpus/; its annotation is written all the same")
    back = read(project.annotations / doc["id"] / f"ls-{studio.user_id}.json")
    assert back["entities"] == ents


def test_utf16_predictions_would_show_shifted_text(project, studio, title, browser_page) -> None:
    """The negative control: offsets in UTF-16 units (what older tools wrote) land one character
    late after the emoji in the 1.23.2 UI, so Khabar pushes code points."""
    doc = doc_for(TEXT)
    ents = _entities()
    scheme = Scheme.from_schemas(Schemas(project.schema))
    push(project, studio, title=title, docs=[doc], progress=False)
    [task] = tasks_of(studio, title)
    studio.create_prediction(task["id"], annotation_to_results({"entities": ents, "claims": [], "stances": []}, TEXT, scheme,
                                                               utf16=True), "utf16-control")
    page = browser_page
    _login(page, studio.url)
    boxes = _open_task(page, studio.url, studio.find_project(title).id, task["id"])
    page.screenshot(path=str(ARTIFACTS / "studio-task-utf16-shifted.png"))
    shifts = [sum(ord(c) > 0xFFFF for c in TEXT[:e["start"]]) for e in ents]
    assert shifts == [1, 1, 1, 2]
    assert [b["text"] for b in boxes] == [TEXT[e["start"] + k:e["end"] + k] for e, k in zip(ents, shifts)]
    assert boxes[0]["text"] == "زارة الصحة "

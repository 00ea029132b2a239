"""The chat UI in a real headless Chromium (Debian's `chromium`, driven by Playwright).

`.ci/run` installs the browser; elsewhere these tests are skipped, with the reason, when
`/usr/bin/chromium` (or RAG_TEST_CHROMIUM) is missing."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from rag.settings import Settings
from tests.ui_support import ENGLISH, HOSTILE_QUESTIONS, INDONESIAN, UI_EMBEDDER, index_ui_corpus, running_app, words_of

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")

CHROMIUM = os.environ.get("RAG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does)", allow_module_level=True)

# As the machine's own probe starts it: no sandbox (root), and no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory):
    settings: Settings = index_ui_corpus(tmp_path_factory.mktemp("browser"))
    with running_app(settings) as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, url: str):
    """A fresh page that records every request leaving the app's own host, and every dialog."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.outside_requests, page.dialogs = [], []
    host = urlparse(url).netloc
    page.on("request", lambda r: urlparse(r.url).netloc != host and r.url.startswith("http")
            and page.outside_requests.append(r.url))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("#rag-question textarea")
    yield page
    page.close()


def _ask(page, question: str) -> None:
    count = page.locator("#rag-chat .message-row, #rag-chat [data-testid='bot']").count()
    page.fill("#rag-question textarea", question)
    page.click("#rag-send")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#rag-chat .message-row, #rag-chat [data-testid='bot']\").length > n", arg=count)
    page.wait_for_selector("#rag-sources .rag-source", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('#rag-chat .pending, #rag-chat .generating')")


def test_asking_shows_markers_and_sources_and_a_marker_opens_its_source(page, tmp_path: Path) -> None:
    _ask(page, "Apa yang dibahas Anies dengan Gubernur Tokyo?")
    markers = page.locator('#rag-chat a[href^="#rag-src-0-"]')
    assert markers.count() >= 1
    source = page.locator("#rag-src-0-1")
    assert "Anies kunjungi Jepang" in source.inner_text()
    assert "ANTARA" in source.locator(".rag-source-meta").inner_text()
    assert source.locator("mark").count() >= 1 and "Koike" in source.locator("mark").first.inner_text()
    assert page.locator("#rag-status").inner_text().count(UI_EMBEDDER) == 1
    marks = source.locator("mark")
    for index in range(marks.count()):  # every cited span is highlighted, each a marker's target
        assert marks.nth(index).get_attribute("id") == f"rag-src-0-1-{index}"
    markers.last.click()
    target = markers.last.get_attribute("href")
    page.wait_for_selector(f"#rag-src-0-{target.split('-')[3]}.rag-active")
    page.wait_for_selector(f"{target}.rag-active")  # the marker's own span, not only its source
    assert page.locator("mark.rag-active").count() == 1
    assert page.url.rstrip("/").endswith(urlparse(page.url).netloc), "the marker did not navigate away"
    shot = tmp_path / "chat.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_each_marker_highlights_the_span_of_its_own_sentence(page) -> None:
    _ask(page, "Siapa Gubernur Tokyo?")  # two sentences of the seed, both [1]
    markers = page.locator('#rag-chat a[href^="#rag-src-0-1-"]')
    assert markers.count() >= 2, "this question is answered with two sentences of one article"
    targets = [markers.nth(i).get_attribute("href") for i in range(markers.count())]
    assert len(set(targets)) == len(targets), "each [1] points at its own span"
    for i, target in enumerate(targets):
        markers.nth(i).click()
        page.wait_for_selector(f"{target}.rag-active")
        assert page.locator("mark.rag-active").count() == 1
        assert page.locator(target).inner_text() in page.locator("#rag-src-0-1 .rag-quote").inner_text()


# What the page shows of its own (article text, questions and code spans taken out), and the
# placeholders of the question and date boxes.
CHROME_TEXT = """() => {
  let shown = document.body.innerText;
  for (const el of document.querySelectorAll("#rag-chat, .rag-quote, .rag-source-head strong, .rag-turn > summary, code")) {
    if (el.innerText) shown = shown.split(el.innerText).join(" ");
  }
  const boxes = [...document.querySelectorAll("#rag-question textarea, #rag-since input, #rag-since textarea, "
                                             + "#rag-until input, #rag-until textarea")];
  return shown + "\\n" + boxes.map((box) => box.getAttribute("placeholder") || "").join("\\n") + "\\n" + document.title;
}"""


@pytest.mark.parametrize(("choice", "question", "send", "foreign"), [
    ("English", "What did Anies Baswedan discuss in Tokyo?", "Send", INDONESIAN),
    ("Bahasa Indonesia", "Apa yang dibahas Anies dengan Gubernur Tokyo?", "Kirim", ENGLISH),
])
def test_interface_follows_the_chosen_language(page, tmp_path: Path, choice: str, question: str, send: str,
                                               foreign: set[str]) -> None:
    page.get_by_label(choice).check()
    page.wait_for_function(f"() => document.querySelector('#rag-send').innerText.includes('{send}')")
    _ask(page, question)
    page.click("#rag-filters .label-wrap")  # open the filters: their labels and placeholders count too
    page.wait_for_selector("#rag-since", state="visible")
    page.wait_for_timeout(500)
    shown = page.evaluate(CHROME_TEXT)
    assert not words_of(shown) & foreign, sorted(words_of(shown) & foreign)
    if send == "Send":
        assert "Ask a question" in page.locator("#rag-question textarea").get_attribute("placeholder")
        assert re.search(r"\b1 article\b|\b\d+ articles\b", page.locator("#rag-status").inner_text())
    shot = tmp_path / f"ui-{send.lower()}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    page.click("#rag-footer a")  # our footer link opens Gradio's API page, as its own footer did
    page.wait_for_selector("text=gradio_client", timeout=30_000)


def test_hostile_articles_render_as_text_and_load_nothing(page, tmp_path: Path) -> None:
    for question in HOSTILE_QUESTIONS:
        _ask(page, question)
    page.wait_for_timeout(500)
    panel = page.locator("#rag-sources").inner_text()
    chat = page.locator("#rag-chat").inner_text()
    shown = panel + chat
    assert "<img src=" in shown and "onerror=" in shown, "the markup is visible, as text"
    assert "![pelacak](http://203.0.113.8/track.png)" in panel and "![pelacak](http://203.0.113.8/track.png)" in chat
    assert "\\" not in chat, "markdown escapes do not show"
    assert page.locator("a[href*='203.0.113']").count() == 0, "URLs in articles do not become links"
    assert page.evaluate("() => window.__pwned") is None, "no script from an article ran"
    assert page.locator("#rag-sources img, #rag-chat img, #rag-sources script, #rag-chat script").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.dialogs == [] and page.outside_requests == []
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)


def test_adding_an_article_from_the_page(page, tmp_path: Path) -> None:
    from tests.test_uploads import UPLOADED

    article = tmp_path / "seruni.txt"
    article.write_text(UPLOADED)
    page.locator("#rag-upload").get_by_text("Tambah artikel").click()
    page.set_input_files("#rag-upload-files input[type=file]", str(article))
    page.wait_for_selector("#rag-upload-files :text('seruni.txt')")
    page.click("#rag-upload-button")
    page.wait_for_function("() => document.querySelector('#rag-upload-status').innerText.includes('Selesai')",
                           timeout=120_000)
    assert "1 artikel ditambahkan" in page.locator("#rag-upload-status").inner_text()
    page.screenshot(path=str(tmp_path / "upload.png"), full_page=True)
    _ask(page, "Berapa harga tiket jembatan kaca Seruni Point?")
    assert "Seruni Point" in page.locator("#rag-src-0-1").inner_text()

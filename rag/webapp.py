"""The Gradio skin of the chat UI: layout and wiring only. What it shows comes from
`rag.ui.ChatService` (tested without Gradio); the guards it is served behind (login,
exposure, file routes) from `rag.guards`; `app.py` and `rag serve` launch it.

Named API endpoints, for `gradio_client` and scripts:
  /ask    question, since, until, outlet -> the answer as data (see `Answer.to_json`)
  /chat   the chat box's own streaming endpoint
  /status the index status line
  /add_articles  files, language -> what was added and skipped (streams progress)
"""

from __future__ import annotations

import json
from typing import Any

from .errors import IndexLocked
from .guards import UPLOAD_SUFFIXES, UploadFilter, check_exposure, login, private_paths
from .settings import Settings
from .ui import ChatService
from .ui_render import Turn, sources_html
from .ui_text import EXAMPLES, counted, interface_language, text
from .uploads import TEXTS as UPLOAD_TEXTS
from .uploads import Uploader, job_markdown, message

CSS = """
#rag-status { font-size: 0.9em; opacity: 0.85; }
.rag-sources { max-height: 640px; overflow-y: auto; }
.rag-turn > summary { cursor: pointer; font-weight: 600; margin: 0.4em 0; }
.rag-source { border-left: 3px solid var(--border-color-primary); padding: 0.3em 0.7em; margin: 0.6em 0;
              scroll-margin: 1em; }
.rag-source.rag-active { border-left-color: var(--color-accent); background: var(--background-fill-secondary); }
.rag-source-meta { font-size: 0.85em; opacity: 0.8; }
.rag-quote { white-space: pre-wrap; margin: 0.3em 0; }
.rag-quote mark { background: #fde68a; color: inherit; padding: 0 0.1em; }
/* Gradio's own footer follows the browser's language; ours (rag-footer) follows the interface's. */
footer { display: none !important; }
#rag-footer { text-align: center; font-size: 0.85em; opacity: 0.8; }
.rag-quote mark.rag-active { background: #fbbf24; outline: 2px solid var(--color-accent); }
"""

# A click on an answer's [n] opens its source and highlights the span its sentence rests on
# (a `#rag-src-T-N-S` link to a <mark>), or the source alone (`#rag-src-T-N`), instead of
# following the link.
JS = """
() => {
  document.addEventListener("click", (event) => {
    const api = event.target.closest ? event.target.closest("#rag-footer a") : null;
    const gradioApi = document.querySelector("footer button.show-api");
    if (api && gradioApi) {  // our footer's link opens the API page as Gradio's (hidden) footer button does
      event.preventDefault();
      event.stopPropagation();
      gradioApi.click();
      return;
    }
    const link = event.target.closest ? event.target.closest('a[href^="#rag-src-"]') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute("href").slice(1);
    const target = document.getElementById(id) || document.getElementById(id.replace(/-\\d+$/, ""));
    if (!target) return;
    const source = target.closest(".rag-source") || target;
    const turn = source.closest("details");
    if (turn) turn.open = true;
    document.querySelectorAll(".rag-source.rag-active, .rag-quote mark.rag-active")
      .forEach((el) => el.classList.remove("rag-active"));
    source.classList.add("rag-active");
    if (target !== source) target.classList.add("rag-active");
    target.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }, true);
}
"""


def build_app(service: ChatService) -> Any:
    """The chat UI as a `gr.Blocks`; nothing is opened until the first page load or question."""
    import gradio as gr

    lang0 = "id"
    uploader = Uploader(service.settings, embedder=service.embedder)
    with gr.Blocks(title=f"rag: {text(lang0, 'title')}", analytics_enabled=False) as demo:
        turns = gr.State([])
        header = gr.Markdown(_header(lang0))
        status = gr.Markdown(elem_id="rag-status")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="rag-chat", height=520, feedback_options=None, buttons=["copy"],
                                     show_label=False, sanitize_html=True)
                question = gr.Textbox(placeholder=text(lang0, "placeholder"), show_label=False, lines=1,
                                      max_lines=6, elem_id="rag-question", autofocus=True)
                with gr.Row():
                    send = gr.Button(text(lang0, "send"), variant="primary", elem_id="rag-send")
                    new_chat = gr.Button(text(lang0, "new_chat"), elem_id="rag-new")
                examples = gr.Examples([[q] for q in EXAMPLES[lang0]], inputs=question, label=text(lang0, "examples"))
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html([], lang0), elem_id="rag-sources")
                with gr.Accordion(text(lang0, "filters"), open=False, elem_id="rag-filters") as filters:
                    since = gr.Textbox(label=text(lang0, "since"), placeholder=text(lang0, "date_hint"),
                                       elem_id="rag-since")
                    until = gr.Textbox(label=text(lang0, "until"), placeholder=text(lang0, "date_hint"),
                                       elem_id="rag-until")
                    outlet = gr.Dropdown(choices=[(text(lang0, "all_outlets"), "")], value="",
                                         label=text(lang0, "outlet"), elem_id="rag-outlet")
                with gr.Accordion(message(lang0, "label"), open=False, visible=uploader.allowed,
                                  elem_id="rag-upload") as upload_box:
                    # No `file_types`: Gradio would refuse a whole upload for one wrong file; our own
                    # check (uploads.py) skips that file with its reason and keeps the others.
                    upload_files = gr.File(label=message(lang0, "files"), file_count="multiple",
                                           elem_id="rag-upload-files")
                    upload_button = gr.Button(message(lang0, "button"), elem_id="rag-upload-button")
                    upload_status = gr.Markdown(_upload_hint(service, lang0), elem_id="rag-upload-status")
                language = gr.Radio(_language_choices(lang0), value="auto", label=text(lang0, "language"),
                                    elem_id="rag-language")
        footer = gr.Markdown(_footer(lang0), elem_id="rag-footer")
        answer_data = gr.JSON(visible=False)

        def respond(q: str, messages: list[dict], done: list[Turn], since_: str, until_: str, outlet_: str,
                    language_: str):
            lang = interface_language(language_, q)
            history = [(t.question, t.answer.text) for t in done]
            messages = [*(messages or []), {"role": "user", "content": q}, {"role": "assistant", "content": "…"}]
            for reply in service.ask(q, history, since_, until_, outlet_ or None, language_, turn=len(done)):
                messages[-1] = {"role": "assistant", "content": reply.markdown}
                if reply.answer is None and reply.error is None:  # a streamed piece: only the text changes
                    yield "", messages, gr.skip(), gr.skip(), gr.skip()
                    continue
                if reply.turn is not None:
                    done = [*done, reply.turn]
                data = reply.answer.to_json() if reply.answer else {"error": reply.error}
                yield "", messages, sources_html(done, lang), done, data

        chat_inputs = [question, chatbot, turns, since, until, outlet, language]
        chat_outputs = [question, chatbot, sources, turns, answer_data]

        def relabel(choice: str, done: list[Turn], last: dict | None = None):
            """Every fixed string in the chosen language; with "auto", the last question's.
            `last` (the last answer's data) lets the status line say what wrote it."""
            lang = interface_language(choice, done[-1].question if done else "")
            return (_header(lang), service.status_markdown(lang, last), gr.update(placeholder=text(lang, "placeholder")),
                    gr.update(value=text(lang, "send")), gr.update(value=text(lang, "new_chat")),
                    gr.Dataset(samples=[[q] for q in EXAMPLES[lang]], label=text(lang, "examples")),
                    gr.update(label=text(lang, "filters")),
                    gr.update(label=text(lang, "since"), placeholder=text(lang, "date_hint")),
                    gr.update(label=text(lang, "until"), placeholder=text(lang, "date_hint")),
                    _outlet_choices(service, lang, label=True),
                    gr.update(label=text(lang, "language"), choices=_language_choices(lang)), _footer(lang),
                    sources_html(done, lang), gr.update(label=message(lang, "label")),
                    gr.update(label=message(lang, "files")), gr.update(value=message(lang, "button")),
                    _upload_hint(service, lang))

        relabelled = [header, status, question, send, new_chat, examples.dataset, filters, since, until, outlet,
                      language, footer, sources, upload_box, upload_files, upload_button, upload_status]

        def relabel_after_question(choice: str, done: list[Turn], last: dict | None):
            """With "auto" the interface follows the question just asked; an upload's report stays."""
            return (*relabel(choice, done, last)[:-1], gr.skip())

        # Gradio runs every question at once; ChatService queues them itself (see `Admission`).
        question.submit(respond, chat_inputs, chat_outputs, api_name="chat", concurrency_limit=None).then(
            relabel_after_question, [language, turns, answer_data], relabelled, api_visibility="private")
        send.click(respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=None).then(
            relabel_after_question, [language, turns, answer_data], relabelled, api_visibility="private")
        new_chat.click(lambda lang: ([], [], sources_html([], interface_language(lang)), ""), [language],
                       [chatbot, turns, sources, question], api_visibility="private")
        chatbot.clear(lambda lang: ([], sources_html([], interface_language(lang))), [language], [turns, sources],
                      api_visibility="private")

        language.change(relabel, [language, turns], relabelled, api_visibility="private")
        titles = json.dumps({lang: f"rag: {text(lang, 'title')}" for lang in ("id", "en")})
        language.change(None, [language], None, js=f"(choice) => {{ document.title = {titles}[choice] || {titles}.id; }}",
                        api_visibility="private")
        demo.load(lambda choice: (service.status_markdown(interface_language(choice)),
                                  _outlet_choices(service, interface_language(choice))),
                  [language], [status, outlet], api_visibility="private")

        def add_articles(files: list[str] | None, language_: str = "auto"):
            """Add article files to the index: saved into RAG_UPLOAD_DIR and indexed; streams
            progress, ends with what was added and what was skipped (with reasons)."""
            lang = interface_language(language_)
            if not uploader.allowed:
                yield message(lang, "off")
                return
            if not files:
                yield message(lang, "none")
                return
            yield message(lang, "saving", files=counted(lang, "file_count", len(files), UPLOAD_TEXTS))
            try:
                job = uploader.start(files)
            except IndexLocked:
                yield message(lang, "busy")
                return
            while not job.finished.wait(0.5):
                yield job_markdown(job, lang)
            status = service.status()
            yield job_markdown(job, lang, status.articles if status else None)

        upload_button.click(add_articles, [upload_files, language], [upload_status], api_name="add_articles",
                            concurrency_limit=1).then(
            lambda choice: (service.status_markdown(interface_language(choice)),
                            _outlet_choices(service, interface_language(choice)), None),
            [language], [status, outlet, upload_files], api_visibility="private")

        def ask(question: str, since: str = "", until: str = "", outlet: str = "") -> dict:
            """Answer one question from the indexed articles: {"answer", "citations", "refused", ...},
            or {"error": message} when it cannot be asked (empty, too long, no index, bad date)."""
            final = None
            for reply in service.ask(question, (), since, until, outlet or None):
                final = reply
            if final is None or final.answer is None:
                return {"error": final.error if final else "no answer"}
            return final.answer.to_json()

        def index_status(language: str = "auto") -> str:
            """The index status line (articles, chunks, embedder, answer mode, last indexed)."""
            return service.status_markdown(interface_language(language))

        gr.api(ask, api_name="ask", concurrency_limit=None)
        gr.api(index_status, api_name="status")
    return demo


def _language_choices(lang: str) -> list[tuple[str, str]]:
    # Each language is named in itself, as language pickers do.
    return [(text(lang, "auto"), "auto"), ("Bahasa Indonesia", "id"), ("English", "en")]


def _footer(lang: str) -> str:
    return f"[{text(lang, 'api')}](?view=api)"


def _upload_hint(service: ChatService, lang: str) -> str:
    return message(lang, "hint", folder=f"`{service.settings.upload_dir}/`", limit=service.settings.max_file_mb)


def _header(lang: str) -> str:
    return f"## {text(lang, 'title')}\n{text(lang, 'subtitle')}"


def _outlet_choices(service: ChatService, lang: str, label: bool = False) -> Any:
    import gradio as gr

    choices = [(text(lang, "all_outlets"), "")] + [(name, name) for name in service.outlets()]
    return gr.update(choices=choices, label=text(lang, "outlet")) if label else gr.update(choices=choices)


def launch(demo: Any, settings: Settings, service: ChatService | None = None, **overrides: Any) -> Any:
    """Serve `demo` the safe way: loopback unless a login is set, a bounded queue, and no
    file route into the index, the articles or secrets. Gradio's start-up lines are
    replaced by one line of ours (`ChatService.serving_line`) when `service` is given."""
    from starlette.middleware import Middleware

    check_exposure(settings)
    # Questions are queued by ChatService (RAG_QUEUE_SIZE, RAG_CONCURRENCY); Gradio's queue only
    # passes them on, and its own bound is a backstop far above a burst the app turns away itself.
    demo.queue(max_size=8 * (settings.queue_size + settings.concurrency) + 64,
               default_concurrency_limit=settings.concurrency)
    options: dict[str, Any] = dict(
        server_name=settings.server_name, server_port=settings.server_port, auth=login(settings),
        blocked_paths=private_paths(settings), footer_links=["api"], css=CSS, js=JS, show_error=False,
        ssr_mode=False, quiet=True,
        # A question waiting for its turn holds a worker thread (see `Admission`); keep some for the rest.
        max_threads=settings.queue_size + settings.concurrency + 16,
        max_file_size=int(settings.max_file_mb * 1024 * 1024),
        app_kwargs={"middleware": [Middleware(UploadFilter, suffixes=UPLOAD_SUFFIXES)]},
    )
    options.update(overrides)
    block = not options.pop("prevent_thread_lock", False)
    result = demo.launch(prevent_thread_lock=True, **options)
    if service is not None:
        print(service.serving_line(demo.local_url), flush=True)
    if block:
        demo.block_thread()
    return result


def serve(settings: Settings, **overrides: Any) -> Any:
    """`rag serve` / `python app.py`: the chat UI on the index in `settings.index_dir`."""
    service = ChatService(settings)
    return launch(build_app(service), settings, service, **overrides)

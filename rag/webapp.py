"""The Gradio skin of the chat UI: layout and wiring only. What it shows comes from
`rag.ui.ChatService` (tested without Gradio); `app.py` and `rag serve` launch it.

Named API endpoints, for `gradio_client` and scripts:
  /ask    question, since, until, outlet -> the answer as data (see `Answer.to_json`)
  /chat   the chat box's own streaming endpoint
  /status the index status line
"""

from __future__ import annotations

from typing import Any

from .settings import Settings
from .ui import (EXAMPLES, ChatService, Turn, check_exposure, interface_language, login, private_paths,
                 sources_html, text)

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
"""

# A click on an answer's [n] opens and highlights its source instead of following the link.
JS = """
() => {
  document.addEventListener("click", (event) => {
    const link = event.target.closest ? event.target.closest('a[href^="#rag-src-"]') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    const turn = target.closest("details");
    if (turn) turn.open = true;
    document.querySelectorAll(".rag-source.rag-active").forEach((el) => el.classList.remove("rag-active"));
    target.classList.add("rag-active");
    target.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }, true);
}
"""


def build_app(service: ChatService) -> Any:
    """The chat UI as a `gr.Blocks`; nothing is opened until the first page load or question."""
    import gradio as gr

    lang0 = "id"
    with gr.Blocks(title="rag: tanya berita", analytics_enabled=False) as demo:
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
                gr.Examples(list(EXAMPLES), inputs=question, label=text(lang0, "examples"))
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html([], lang0), elem_id="rag-sources")
                with gr.Accordion(text(lang0, "filters"), open=False) as filters:
                    since = gr.Textbox(label=text(lang0, "since"), placeholder=text(lang0, "date_hint"),
                                       elem_id="rag-since")
                    until = gr.Textbox(label=text(lang0, "until"), placeholder=text(lang0, "date_hint"),
                                       elem_id="rag-until")
                    outlet = gr.Dropdown(choices=[(text(lang0, "all_outlets"), "")], value="",
                                         label=text(lang0, "outlet"), elem_id="rag-outlet")
                language = gr.Radio([(text(lang0, "auto"), "auto"), ("Bahasa Indonesia", "id"), ("English", "en")],
                                    value="auto", label=text(lang0, "language"), elem_id="rag-language")
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
        question.submit(respond, chat_inputs, chat_outputs, api_name="chat").then(
            service.status_markdown, [language, answer_data], [status], api_visibility="private")
        send.click(respond, chat_inputs, chat_outputs, api_visibility="private").then(
            service.status_markdown, [language, answer_data], [status], api_visibility="private")
        new_chat.click(lambda lang: ([], [], sources_html([], interface_language(lang)), ""), [language],
                       [chatbot, turns, sources, question], api_visibility="private")
        chatbot.clear(lambda lang: ([], sources_html([], interface_language(lang))), [language], [turns, sources],
                      api_visibility="private")

        def relabel(choice: str, done: list[Turn]):
            lang = interface_language(choice)
            return (_header(lang), service.status_markdown(lang), gr.update(placeholder=text(lang, "placeholder")),
                    gr.update(value=text(lang, "send")), gr.update(value=text(lang, "new_chat")),
                    gr.update(label=text(lang, "filters")), gr.update(label=text(lang, "since")),
                    gr.update(label=text(lang, "until")), _outlet_choices(service, lang, label=True),
                    gr.update(label=text(lang, "language")), sources_html(done, lang))

        language.change(relabel, [language, turns],
                        [header, status, question, send, new_chat, filters, since, until, outlet, language, sources],
                        api_visibility="private")
        demo.load(lambda choice: (service.status_markdown(interface_language(choice)),
                                  _outlet_choices(service, interface_language(choice))),
                  [language], [status, outlet], api_visibility="private")

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

        gr.api(ask, api_name="ask")
        gr.api(index_status, api_name="status")
    return demo


def _header(lang: str) -> str:
    return f"## {text(lang, 'title')}\n{text(lang, 'subtitle')}"


def _outlet_choices(service: ChatService, lang: str, label: bool = False) -> Any:
    import gradio as gr

    choices = [(text(lang, "all_outlets"), "")] + [(name, name) for name in service.outlets()]
    return gr.update(choices=choices, label=text(lang, "outlet")) if label else gr.update(choices=choices)


def launch(demo: Any, settings: Settings, **overrides: Any) -> Any:
    """Serve `demo` the safe way: loopback unless a login is set, a bounded queue, and no
    file route into the index, the articles or secrets."""
    check_exposure(settings)
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    options: dict[str, Any] = dict(
        server_name=settings.server_name, server_port=settings.server_port, auth=login(settings),
        blocked_paths=private_paths(settings), footer_links=["api"], css=CSS, js=JS, show_error=False,
        ssr_mode=False, quiet=False,
    )
    options.update(overrides)
    return demo.launch(**options)


def serve(settings: Settings, **overrides: Any) -> Any:
    """`rag serve` / `python app.py`: the chat UI on the index in `settings.index_dir`."""
    return launch(build_app(ChatService(settings)), settings, **overrides)

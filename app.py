"""The chat UI: `python app.py` (the same as `rag serve`). Settings come from `RAG_*`
variables (README, "Configuration"); the layout is `rag.webapp.build_app`."""

from rag.ui import ChatService
from rag.webapp import build_app, launch

__all__ = ["build_app"]


def main() -> None:
    from rag.llm import prepare_process
    from rag.settings import Settings

    settings = Settings.from_env()
    prepare_process(settings.llm)  # before torch or llama.cpp load OpenMP
    service = ChatService(settings)
    launch(build_app(service), settings, service)


if __name__ == "__main__":
    main()

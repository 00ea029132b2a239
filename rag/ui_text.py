"""The chat UI's fixed strings in its two languages, Indonesian and English: `TEXTS` (one
table a language), the example questions, and how the interface picks its language.

`text` fills in one string; `counted` writes "1 article", "2 articles", "3.463 artikel"
(the number grouped as the language writes it). Left out: what the strings are shown
in (ui_render.py, webapp.py) and the upload panel's own strings (uploads.py).
"""

from __future__ import annotations

from typing import Any

from .evidence import question_language

LANGUAGES = ("auto", "id", "en")

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Tanya berita",
        "subtitle": "Jawaban dari artikel berita, dengan kutipan yang bisa Anda periksa.",
        "placeholder": "Tulis pertanyaan tentang berita, dalam bahasa Indonesia atau Inggris",
        "send": "Kirim",
        "new_chat": "Obrolan baru",
        "examples": "Contoh pertanyaan",
        "filters": "Saring artikel",
        "since": "Sejak tanggal",
        "until": "Sampai tanggal",
        "date_hint": "mis. 2022-08-01",
        "outlet": "Media",
        "all_outlets": "Semua media",
        "language": "Bahasa antarmuka",
        "auto": "Otomatis",
        "sources": "Sumber",
        "no_sources": "Sumber jawaban akan tampil di sini.",
        "open_original": "buka artikel asli",
        "status": "{articles}, {chunks} · model embedding {embedder} · jawaban: {llm} · diindeks {built}",
        "n_articles": "{n} artikel",
        "n_chunks": "{n} potongan",
        "api": "Pakai lewat API",
        "bundled": "Model embedding: salinan 4-bit bawaan dari {requested} (model yang sama, tanpa unduhan).",
        "fallback": "⚠️ Model embedding {requested} tidak tersedia secara luring; indeks memakai cadangan {embedder}, "
                    "sehingga pencarian makna lebih lemah.",
        "no_index": "Belum ada indeks di {where}. Bangun dengan `rag index` (artikel dari `seeds/`), "
                    "lalu ajukan pertanyaan lagi.",
        "empty": "Pertanyaannya kosong. Tulis pertanyaan tentang berita.",
        "too_long": "Pertanyaannya {length} karakter; batasnya {limit}. Persingkat pertanyaan Anda.",
        "bad_date": "Tanggal {value!r} tidak dikenali (contoh: 2022-08-13 atau 13 Agustus 2022).",
        "error": "Terjadi kesalahan: {error}",
        "busy": "Server sedang penuh; coba lagi sebentar lagi.",
        "by": "oleh",
        "last_answer": "jawaban terakhir: {mode}",
        "mode_extractive": "kutipan langsung (tanpa model)",
        "mode_fallback": "kutipan langsung, cadangan karena {reason}",
    },
    "en": {
        "title": "Ask the news",
        "subtitle": "Answers from news articles, with quotes you can check.",
        "placeholder": "Ask a question about the news, in English or Indonesian",
        "send": "Send",
        "new_chat": "New chat",
        "examples": "Example questions",
        "filters": "Filter articles",
        "since": "From date",
        "until": "Until date",
        "date_hint": "e.g. 2022-08-01",
        "outlet": "Outlet",
        "all_outlets": "All outlets",
        "language": "Interface language",
        "auto": "Automatic",
        "sources": "Sources",
        "no_sources": "The sources of an answer appear here.",
        "open_original": "open the original",
        "status": "{articles}, {chunks} · embedder {embedder} · answers: {llm} · indexed {built}",
        "n_articles": "{n} article|{n} articles",
        "n_chunks": "{n} chunk|{n} chunks",
        "api": "Use via API",
        "bundled": "Embedder: the bundled 4-bit copy of {requested} (the same model, no download needed).",
        "fallback": "⚠️ The embedding model {requested} is not available offline; the index uses the fallback "
                    "{embedder}, so meaning-based search is weaker.",
        "no_index": "There is no index in {where} yet. Build it with `rag index` (articles from `seeds/`), "
                    "then ask again.",
        "empty": "The question is empty. Ask something about the news.",
        "too_long": "The question is {length} characters long; the limit is {limit}. Please shorten it.",
        "bad_date": "{value!r} is not a date I know (try 2022-08-13 or 13 August 2022).",
        "error": "Something went wrong: {error}",
        "busy": "The server is busy; please try again in a moment.",
        "by": "by",
        "last_answer": "last answer: {mode}",
        "mode_extractive": "direct quotes (no model)",
        "mode_fallback": "direct quotes, fallback because of {reason}",
    },
}

EXAMPLES: dict[str, tuple[str, ...]] = {
    "id": ("Apa yang dibahas Anies dengan Gubernur Tokyo?", "Kapan Anies pertama kali bertemu Gubernur Koike?",
           "Siapa yang ditemui Anies di Tokyo?"),
    "en": ("What did Anies Baswedan discuss in Tokyo?", "Who did the Jakarta governor meet in Japan?",
           "When did Anies first meet Governor Koike?"),
}
"""Example questions shown in each interface language (each can be asked in the other too)."""


def interface_language(choice: str, question: str = "") -> str:
    """`id` or `en`: the user's choice, or with `auto` the question's language (Indonesian
    when there is no question yet)."""
    if choice in ("id", "en"):
        return choice
    return question_language(question) if question.strip() else "id"


def text(language: str, key: str, **values: Any) -> str:
    return TEXTS[language if language in TEXTS else "id"][key].format(**values)


def counted(language: str, key: str, n: int, texts: dict[str, dict[str, str]] | None = None) -> str:
    """"1 article", "2 articles", "3.463 artikel": TEXTS[key] (or `texts[key]`) is
    "singular|plural" (one form in Indonesian), the number grouped as the language writes it."""
    table = TEXTS if texts is None else texts
    forms = table[language if language in table else "id"][key].split("|")
    number = f"{n:,}".replace(",", "." if language == "id" else ",")
    return (forms[0] if n == 1 or len(forms) == 1 else forms[1]).format(n=number)

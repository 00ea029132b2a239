"""The search tables of a generation, built once from what Chroma holds (build time).

    lexical/      BM25 over whole articles (lexical.py)
    chunks.json   chunk ids in a fixed order, with their article, date, outlet, author
    vectors.npy   their vectors in the same order (memory-mapped by readers)
    search.json   the version of these tables
    ../stems.json the stems cache, kept beside the generations

A folder index writes them into each generation before publishing it; a server index's
readers build them into their machine's cache (store/). Reading them is search.py's job.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .lexical import LexicalIndex, load_stems, save_stems, stems_known

CHUNK_TABLE = "chunks.json"
VECTORS = "vectors.npy"
SEARCH_META = "search.json"
STEM_CACHE = "stems.json"
SEARCH_TABLES_VERSION = 2  # bump when the tables written by write_search_tables change
LEXICAL_DIR = "lexical"

_TABLE_FIELDS = ("article_id", "chunk_index", "start", "title", "published_ts", "source_key", "author_key")


class StoredChunks(Protocol):
    """What the tables are built from: an opened generation (`store.Generation`)."""

    def count(self) -> int: ...
    def page(self, offset: int, limit: int) -> dict[str, Any]: ...


def search_tables_current(path: Path) -> bool:
    """Whether a generation's lexical index was built the way this version builds it
    (an analyzer change needs new tables, though no new embeddings)."""
    from .lexical import DEFAULT_ANALYZER, DEFAULT_B, DEFAULT_K1, FORMAT_VERSION, META_FILE

    try:
        meta = json.loads((path / LEXICAL_DIR / META_FILE).read_text())
        tables = json.loads((path / SEARCH_META).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    if tables.get("version") != SEARCH_TABLES_VERSION:
        return False
    bm25 = meta.get("bm25", {})
    return (meta.get("version") == FORMAT_VERSION and meta.get("analyzer") == DEFAULT_ANALYZER.to_dict()
            and (bm25.get("k1"), bm25.get("b")) == (DEFAULT_K1, DEFAULT_B))


def write_search_tables(generation: StoredChunks, path: Path) -> None:
    """Build a generation's lexical index (per article), chunk table and vector matrix
    from what Chroma holds, so that they always describe exactly the stored chunks.

    Vectors go page by page to a file, never all in memory at once; the chunk texts are
    held once, since the lexical index is built from whole articles."""
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict] = []
    page = 5000
    arrived = path / f"{VECTORS}.unordered"
    unordered: np.ndarray | None = None
    total = generation.count()
    for offset in range(0, total, page):
        got = generation.page(offset, page)
        rows = np.asarray(got["embeddings"], dtype=np.float32)
        if unordered is None:
            unordered = np.lib.format.open_memmap(arrived, mode="w+", dtype=np.float32, shape=(total, rows.shape[1]))
        unordered[len(ids):len(ids) + len(rows)] = rows
        ids.extend(got["ids"])
        texts.extend(got["documents"])
        metas.extend({k: m.get(k) for k in _TABLE_FIELDS} for m in got["metadatas"])
    order = sorted(range(len(ids)), key=lambda i: (metas[i]["article_id"], metas[i]["chunk_index"]))
    if unordered is None:
        np.save(path / VECTORS, np.zeros((0, 1), dtype=np.float32))
    else:
        matrix = np.lib.format.open_memmap(path / VECTORS, mode="w+", dtype=np.float32, shape=unordered.shape)
        for start in range(0, len(order), page):
            matrix[start:start + page] = unordered[np.asarray(order[start:start + page])]
        matrix.flush()
        del matrix, unordered
        arrived.unlink()
    table = {
        "ids": [ids[i] for i in order],
        "article_ids": [metas[i]["article_id"] for i in order],
        "published_ts": [metas[i].get("published_ts") for i in order],
        "source_keys": [metas[i].get("source_key") for i in order],
        "author_keys": [metas[i].get("author_key") for i in order],
    }
    (path / CHUNK_TABLE).write_text(json.dumps(table, ensure_ascii=False))
    bodies: dict[str, list[tuple[int, str]]] = {}
    titles: dict[str, str] = {}
    for i in order:
        article_id = metas[i]["article_id"]
        bodies.setdefault(article_id, []).append((metas[i]["start"], texts[i]))
        titles[article_id] = metas[i].get("title") or ""
    article_ids = sorted(bodies)
    # Stemming is the slow part of building; the cache of stems is kept beside the generations.
    stems = path.parent / STEM_CACHE
    known = load_stems(stems)
    LexicalIndex.build([f"{titles[a]}\n{join_chunks(bodies[a])}" for a in article_ids], article_ids).save(path / LEXICAL_DIR)
    (path / SEARCH_META).write_text(json.dumps({"version": SEARCH_TABLES_VERSION, "chunks": len(ids)}))
    if stems_known() > known:
        save_stems(stems)


def write_tables_once(generation: StoredChunks, tables: Path) -> None:
    """Build the search tables into the folder `tables`, which appears whole or not at all.
    Several processes may race here: each builds its own copy and the first rename wins."""
    tables.parent.mkdir(parents=True, exist_ok=True)
    tmp = tables.with_name(f"{tables.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    tmp.mkdir()
    try:
        write_search_tables(generation, tmp)
        try:
            os.rename(tmp, tables)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def join_chunks(pieces: list[tuple[int, str]]) -> str:
    """An article's body from its overlapping chunks (start offset, text), each word once."""
    body = ""
    for start, text in sorted(pieces):
        if start >= len(body):
            body += " " * (start - len(body)) + text
        elif start + len(text) > len(body):
            body += text[len(body) - start:]
    return body

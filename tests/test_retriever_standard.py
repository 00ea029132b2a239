"""LangChain's standard retriever tests (`langchain-tests`) against `NewsRetriever`, on a
real small index (Chroma, BM25, the hashing embedder) of the seed and the test corpus."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.embeddings.hashing import HashingEmbedder
from rag.indexer import build_index
from rag.retriever import NewsRetriever
from rag.search import Searcher
from rag.settings import Settings
from tests.conftest import SEED
from tests.corpus import write_good_articles


class TestNewsRetrieverStandard(RetrieversIntegrationTests):
    searcher: Searcher

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _index(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
        root = tmp_path_factory.mktemp("standard")
        articles = root / "articles"
        articles.mkdir()
        (articles / SEED.name).write_text(SEED.read_text())
        write_good_articles(articles)
        embedder = HashingEmbedder(128)
        build_index(Settings(index_dir=root / "index", sources=(articles,), embedding_model="hash:128"),
                    embedder=embedder, progress=False)
        cls.searcher = Searcher.open(root / "index", embedder=embedder)
        yield
        cls.searcher.close()

    @property
    def retriever_constructor(self) -> type[NewsRetriever]:
        return NewsRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"searcher": self.searcher}

    @property
    def retriever_query_example(self) -> str:
        return "Gubernur Anies bertemu warga di kota"

"""One search path: over-fetch, extraction and trimming to ``k`` happen in ReverseImageSearch.

An engine whose first hits are duplicates must still give every component exactly ``k``
results when it holds that many distinct ones, and the components must not re-do the work.
"""

from __future__ import annotations

import pytest

from rir import ExtractOptions, ReverseImageSearch, SearchHit, SearchResult
from rir.engines import Engine
from rir.inputs.images import QueryImage
from tests.images import photo


class DuplicatingEngine(Engine):
    """Every page twice in a row (``?utm_source`` copies), ``distinct`` pages in all."""

    name = "duplicating"

    def __init__(self, distinct: int = 30) -> None:
        self.distinct = distinct
        self.asked: list[int] = []

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        self.asked.append(k)
        hits = []
        for i in range(self.distinct):
            url = f"https://site{i}.example.org/page/{i}"
            hits.append(SearchHit(title=f"Page {i}", url=url))
            hits.append(SearchHit(title=f"Page {i}", url=url + "?utm_source=lens"))
        return SearchResult(hits=hits[:k])


@pytest.fixture
def image() -> bytes:
    return photo()


def test_core_returns_k_distinct_hits_from_duplicates(image: bytes) -> None:
    engine = DuplicatingEngine()
    result = ReverseImageSearch(engine, cache=False).search(image, k=5)
    assert [h.title for h in result.hits] == [f"Page {i}" for i in range(5)]
    assert [h.position for h in result.hits] == [1, 2, 3, 4, 5]


def test_core_asks_again_when_cleanup_leaves_too_few(image: bytes) -> None:
    engine = DuplicatingEngine()
    result = ReverseImageSearch(engine, cache=False).search(image, k=15)
    assert len(result.hits) == 15  # 25 hits asked first held only 13 distinct pages
    assert engine.asked == [25, 50]


def test_core_returns_fewer_only_when_the_engine_has_no_more(image: bytes) -> None:
    engine = DuplicatingEngine(distinct=3)
    result = ReverseImageSearch(engine, cache=False).search(image, k=5)
    assert [h.title for h in result.hits] == ["Page 0", "Page 1", "Page 2"]
    assert engine.asked == [10]


def test_per_call_extract_options_override_the_searcher(image: bytes) -> None:
    searcher = ReverseImageSearch(DuplicatingEngine(), cache=False)
    raw = searcher.search(image, k=4, extract=False)
    assert [h.url.endswith("utm_source=lens") for h in raw.hits] == [False, True, False, True]
    denied = searcher.search(image, k=3, extract=ExtractOptions(deny_domains=["site0.example.org"]))
    assert [h.title for h in denied.hits] == ["Page 1", "Page 2", "Page 3"]


def test_local_files_can_be_refused(tmp_path, image: bytes) -> None:
    from rir.errors import InvalidImageError, UnsafeURLError

    path = tmp_path / "photo.jpg"
    path.write_bytes(image)
    searcher = ReverseImageSearch(DuplicatingEngine(), cache=False, allow_local_files=False)
    with pytest.raises((InvalidImageError, UnsafeURLError), match="allow_local_files"):
        searcher.search(str(path), k=2)
    assert searcher.search(image, k=2).hits  # bytes are not a file: still accepted


def test_langchain_retriever_gives_exactly_k(image: bytes) -> None:
    pytest.importorskip("langchain_core")
    from langchain_rir import ReverseImageRetriever

    retriever = ReverseImageRetriever(engine=DuplicatingEngine(), k=5, cache=False)
    docs = retriever.search(image).documents
    assert [d.metadata["title"] for d in docs] == [f"Page {i}" for i in range(5)]


def test_llama_index_retriever_gives_exactly_k(image: bytes) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index_rir import ReverseImageRetriever
    from rir._runtime import run_sync

    retriever = ReverseImageRetriever(engine=DuplicatingEngine(), k=5, cache=False)
    nodes = run_sync(retriever.asearch_image(image)).nodes
    assert [n.node.metadata["title"] for n in nodes] == [f"Page {i}" for i in range(5)]

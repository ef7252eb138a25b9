"""A photo indexed on two pages reaches LangChain as two Documents (issue: one was lost)."""

from __future__ import annotations

from langchain_rir import ReverseImageRetriever
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.inputs.images import load_image


def test_retriever_returns_both_pages_of_one_photo() -> None:
    _, path = available_demo_photos()[0]
    index = LocalIndex(":memory:")
    index.add(path, title="Page A", url="https://news.example/a")
    index.add(path, title="Page B", url="https://news.example/b")
    documents = ReverseImageRetriever(engine=index, cache=False, k=5).invoke(
        load_image(path).as_data_uri())
    assert [d.metadata["title"] for d in documents] == ["Page A", "Page B"]
    assert [d.metadata["source"] for d in documents] == ["https://news.example/a",
                                                         "https://news.example/b"]
    assert [d.metadata["match_type"] for d in documents] == ["exact", "exact"]

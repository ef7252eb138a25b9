"""A photo indexed on two pages reaches LlamaIndex as two nodes (issue: one was lost)."""

from __future__ import annotations

from llama_index_rir import ReverseImageRetriever
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.inputs.images import load_image


def test_retriever_returns_both_pages_of_one_photo() -> None:
    _, path = available_demo_photos()[0]
    index = LocalIndex(":memory:")
    index.add(path, title="Page A", url="https://news.example/a")
    index.add(path, title="Page B", url="https://news.example/b")
    nodes = ReverseImageRetriever(index, cache=False, k=5).retrieve(
        load_image(path).as_data_uri())
    assert [n.node.metadata["title"] for n in nodes] == ["Page A", "Page B"]
    assert [n.node.metadata["source"] for n in nodes] == ["https://news.example/a",
                                                          "https://news.example/b"]
    assert nodes[0].node.metadata["engine_score"] == nodes[1].node.metadata["engine_score"]

"""ReverseImageRetriever: Documents, ids, per-call options, input rules, async."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from langchain_core.documents import Document
from PIL import Image
from pydantic import ValidationError

from langchain_rir import ReverseImageRetriever
from langchain_rir.documents import DOCUMENT_METADATA_KEYS
from rir import InputPolicy
from rir.errors import ConfigurationError, InvalidImageError, UnsafeURLError
from rir.results.extract import ExtractOptions
from tests.langchain.helpers import HOPPER_PAGES


@pytest.fixture
def retriever(index) -> ReverseImageRetriever:
    return ReverseImageRetriever(engine=index, cache=False, k=5)


def test_documents_carry_exactly_the_documented_metadata(retriever, query_image) -> None:
    docs = retriever.invoke(query_image.as_data_uri())
    # 5 pages show the portrait; Britannica's title cleans to Wikipedia's ("Grace Hopper")
    # and the two merge, as near-identical titles add nothing to a prompt.
    assert len(docs) == 4
    assert all(isinstance(d, Document) for d in docs)
    for position, doc in enumerate(docs, start=1):
        assert tuple(doc.metadata) == DOCUMENT_METADATA_KEYS
        assert doc.metadata["position"] == position
        assert doc.metadata["engine"] == "local"
        assert doc.metadata["best_guess"] == "Grace Hopper"
        assert doc.metadata["query_image_sha256"] == query_image.sha256
        assert doc.metadata["thumbnail_url"].startswith("data:image/jpeg;base64,")
        assert doc.metadata["source"] in {url for _, url, _, _ in HOPPER_PAGES}
        assert doc.page_content.startswith(doc.metadata["title"])
    titles = {d.metadata["title"] for d in docs}
    assert "Grace Hopper" in titles  # " - Wikipedia" was cleaned off
    assert "Grace Hopper: The Queen of Code" in titles  # " - Yale News" too


def test_ids_are_stable_across_retrievers_and_runs(index, query_image) -> None:
    first = ReverseImageRetriever(engine=index, cache=False).invoke(query_image.as_data_uri())
    second = ReverseImageRetriever(engine=index, cache=False).invoke(query_image.as_data_uri())
    assert [d.id for d in first] == [d.id for d in second]
    assert len({d.id for d in first}) == len(first)
    # the id depends on the page, not on the rank
    by_source = {d.metadata["source"]: d.id for d in first}
    third = ReverseImageRetriever(engine=index, cache=False, k=2).invoke(query_image.data)
    assert all(by_source[d.metadata["source"]] == d.id for d in third)


def test_k_per_call_and_other_options(retriever, query_image) -> None:
    uri = query_image.as_data_uri()
    assert len(retriever.invoke(uri, k=2)) == 2
    docs = retriever.invoke(uri, deny_domains=["wikipedia.org", "britannica.com"])
    sources = [d.metadata["source"] for d in docs]
    assert sources and not any("wikipedia" in s or "britannica" in s for s in sources)
    with pytest.raises(ConfigurationError, match="Unknown retriever option"):
        retriever.invoke(uri, top_k=3)


def test_extraction_shortcuts_in_the_constructor(index) -> None:
    retriever = ReverseImageRetriever(engine=index, enrich_captions=2,
                                      deny_domains=["pinterest.com"])
    assert retriever.extract == ExtractOptions(enrich_captions=2, deny_domains=("pinterest.com",))
    with pytest.raises(ValidationError):
        ReverseImageRetriever(engine=index, k=0)
    with pytest.raises(ValidationError, match="engine must be"):
        ReverseImageRetriever(engine=42)


def test_engine_options_stay_out_of_the_repr(index) -> None:
    retriever = ReverseImageRetriever(engine="serpapi",
                                      engine_options={"api_key": "secret-value-123"})
    assert "secret-value-123" not in repr(retriever)


def test_local_paths_unless_the_policy_refuses_them(index, query_image, tmp_path: Path) -> None:
    path = tmp_path / "hopper.jpg"
    path.write_bytes(query_image.data)
    docs = ReverseImageRetriever(engine=index, cache=False).invoke(str(path))
    assert docs[0].metadata["query_image_sha256"] == query_image.sha256
    with pytest.raises(InvalidImageError, match="allow_local_files=True"):
        ReverseImageRetriever(engine=index, cache=False,
                              policy=InputPolicy.untrusted()).invoke(str(path))


def test_bytes_and_pil_inputs(retriever, query_image) -> None:
    pil = Image.open(io.BytesIO(query_image.data))
    assert retriever.invoke(query_image.data)[0].metadata["best_guess"] == "Grace Hopper"
    assert retriever.invoke(pil, k=1)[0].metadata["title"]


def test_http_url_queries_and_the_ssrf_guard(index, query_image, local_web) -> None:
    url = local_web.add("/retriever/hopper.jpg", query_image.data, "image/jpeg")
    with pytest.raises(UnsafeURLError, match="allow_private_urls"):
        ReverseImageRetriever(engine=index, cache=False).invoke(url)
    docs = ReverseImageRetriever(engine=index, cache=False, allow_private_urls=True,
                                 k=3).invoke(url)
    assert len(docs) == 3


def test_no_match_returns_no_documents(retriever) -> None:
    noise = Image.effect_noise((200, 200), 90).convert("RGB")
    assert retriever.invoke(noise) == []


async def test_native_async_with_per_call_k(retriever, query_image) -> None:
    docs = await retriever.ainvoke(query_image.as_data_uri(), k=3)
    assert len(docs) == 3
    assert type(retriever)._aget_relevant_documents is not \
        ReverseImageRetriever.__mro__[1]._aget_relevant_documents


async def test_asearch_exposes_the_search_result(retriever, query_image) -> None:
    found = await retriever.asearch(query_image, k=2)
    assert found.image.sha256 == query_image.sha256
    assert found.result.best_guess == "Grace Hopper"
    assert [d.metadata["position"] for d in found.documents] == [1, 2]


def test_sync_invoke_inside_a_running_loop_thread(retriever, query_image) -> None:
    # retrievers get called from Jupyter cells and async frameworks' worker threads
    import asyncio

    async def call_sync() -> int:
        return len(await asyncio.to_thread(retriever.invoke, query_image.data, k=1))

    assert asyncio.run(call_sync()) == 1

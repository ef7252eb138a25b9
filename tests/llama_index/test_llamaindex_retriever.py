"""ReverseImageRetriever: inputs, nodes, metadata, scores, ImageNodes, async, errors."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import ImageNode, MetadataMode, QueryBundle, TextNode
from PIL import Image

import rir._runtime
from llama_index_rir import ReverseImageRetriever, normalized_scores
from llama_index_rir.testing import RecordingMultimodalLLM
from rir.errors import (
    ConfigurationError,
    EngineBlockedError,
    ImageFetchError,
    InvalidImageError,
    UnsafeURLError,
)
from rir.results.models import SearchHit

EXPECTED_KEYS = {"source", "title", "site", "thumbnail_url", "position", "match_type", "engine",
                 "best_guess", "query_image_sha256", "engine_score"}


def _retriever(engine, **options) -> ReverseImageRetriever:
    return ReverseImageRetriever(engine, cache=False, **options)


def _assert_found_hopper(nodes, demo_image) -> None:
    assert nodes, "the disguised Grace Hopper photo should match the demo index"
    top = nodes[0]
    assert isinstance(top.node, TextNode) and not isinstance(top.node, ImageNode)
    assert top.node.metadata["title"] == "Grace Hopper"
    assert top.node.metadata["query_image_sha256"] == demo_image.sha256
    assert 0.0 <= top.score <= 1.0


def test_image_from_data_uri_query_string(demo_index, demo_image):
    nodes = _retriever(demo_index, k=3).retrieve(demo_image.as_data_uri())
    _assert_found_hopper(nodes, demo_image)
    metadata = nodes[0].node.metadata
    assert set(metadata) >= EXPECTED_KEYS
    assert metadata["source"] == "https://en.wikipedia.org/wiki/Grace_Hopper"
    assert metadata["engine"] == "local" and metadata["best_guess"] == "Grace Hopper"
    assert metadata["position"] == 1 and metadata["match_type"] in {"visual", "exact"}
    assert "Grace Hopper" in nodes[0].node.get_content()


def test_image_from_image_path_file(demo_index, demo_image, demo_file: Path):
    nodes = _retriever(demo_index).retrieve(QueryBundle("who is this?", image_path=str(demo_file)))
    _assert_found_hopper(nodes, demo_image)


def test_image_path_may_be_a_data_uri(demo_index, demo_image):
    bundle = QueryBundle("who is this?", image_path=demo_image.as_data_uri())
    _assert_found_hopper(_retriever(demo_index).retrieve(bundle), demo_image)


def test_image_from_url_on_a_loopback_server(demo_index, demo_image, image_server):
    retriever = _retriever(demo_index, allow_private_urls=True)
    nodes = retriever.retrieve(QueryBundle("who?", image_path=f"{image_server}/query.jpg"))
    _assert_found_hopper(nodes, demo_image)
    # the query string alone works too when it is the URL
    _assert_found_hopper(retriever.retrieve(f"{image_server}/query.jpg"), demo_image)


def test_private_url_refused_by_default(demo_index, image_server):
    with pytest.raises(UnsafeURLError):
        _retriever(demo_index).retrieve(f"{image_server}/query.jpg")


def test_url_that_is_not_an_image_is_a_typed_error(demo_index, image_server):
    retriever = _retriever(demo_index, allow_private_urls=True)
    with pytest.raises((ImageFetchError, InvalidImageError)) as caught:
        retriever.retrieve(f"{image_server}/page.html")
    assert "page.html" in str(caught.value)
    with pytest.raises(ImageFetchError):
        retriever.retrieve(f"{image_server}/nothing-here.jpg")


def test_question_without_an_image_says_how_to_pass_one(demo_index):
    with pytest.raises(InvalidImageError, match="image_path"):
        _retriever(demo_index).retrieve("who is in this photo?")


def test_query_string_is_never_read_as_a_path(demo_index, demo_file):
    with pytest.raises(InvalidImageError, match="No query image"):
        _retriever(demo_index).retrieve(str(demo_file))


def test_local_files_can_be_refused(demo_index, demo_file):
    retriever = _retriever(demo_index, allow_local_files=False)
    with pytest.raises(InvalidImageError, match="allow_local_files"):
        retriever.retrieve(QueryBundle("who?", image_path=str(demo_file)))


def test_missing_file_names_the_path(demo_index, tmp_path):
    missing = tmp_path / "nope.jpg"
    with pytest.raises(InvalidImageError, match=r"nope\.jpg"):
        _retriever(demo_index).retrieve(QueryBundle("who?", image_path=str(missing)))


def test_url_metadata_hidden_from_llm_and_embedding_text(canned_engine):
    nodes = _retriever(canned_engine, extract=False).retrieve(
        QueryBundle("who?", image_path=_tiny_data_uri()))
    for node in (n.node for n in nodes):
        for mode in (MetadataMode.LLM, MetadataMode.EMBED):
            text = node.get_content(mode)
            assert "http" not in text and "data:" not in text, text
        assert "site: Wikipedia" in nodes[0].node.get_content(MetadataMode.LLM)
        assert "best_guess: Grace Hopper" in node.get_content(MetadataMode.LLM)
        assert "best_guess" not in node.get_content(MetadataMode.EMBED)
    # the URLs are still in the metadata for the application
    assert nodes[0].node.metadata["image_url"] == "https://upload.example.org/hopper.jpg"


def test_node_ids_are_stable_and_distinct(canned_engine):
    bundle = QueryBundle("who?", image_path=_tiny_data_uri())
    first = [n.node.node_id for n in _retriever(canned_engine, extract=False).retrieve(bundle)]
    second = [n.node.node_id for n in _retriever(canned_engine, extract=False).retrieve(bundle)]
    assert first == second and len(set(first)) == 3


def test_node_ids_and_metadata_match_the_langchain_documents(canned_engine):
    documents = pytest.importorskip("langchain_rir.documents")
    retriever = _retriever(canned_engine, extract=False)
    retrieval = retriever.search(QueryBundle("who?", image_path=_tiny_data_uri()))
    expected = documents.hits_to_documents(retrieval.result, query_sha256=retrieval.image.sha256)
    assert [n.node.node_id for n in retrieval.nodes] == [d.id for d in expected]
    for node, document in zip(retrieval.nodes, expected, strict=True):
        shared = {k: v for k, v in document.metadata.items() if v is not None}
        assert {k: node.node.metadata[k] for k in shared} == shared


def test_scores_are_normalised_to_unit_interval(canned_engine):
    nodes = _retriever(canned_engine, extract=False).retrieve(_tiny_data_uri())
    # engine scores 50 and 25 are scaled by the largest; the unscored third hit gets 1/rank
    assert [n.score for n in nodes] == pytest.approx([1.0, 0.5, 1 / 3], abs=1e-6)
    assert nodes[0].node.metadata["engine_score"] == 50.0


def test_normalized_scores_keep_unit_scores():
    hits = [SearchHit(title="a", score=0.9, position=1), SearchHit(title="b", score=0.2,
                                                                   position=2)]
    assert normalized_scores(hits) == [0.9, 0.2]
    assert normalized_scores([SearchHit(title="c", score=-3.0, position=1)]) == [0.0]


def test_image_nodes_only_when_asked(canned_engine, image_server):
    bundle = QueryBundle("who?", image_path=_tiny_data_uri())
    plain = _retriever(canned_engine, extract=False).retrieve(bundle)
    assert not any(isinstance(n.node, ImageNode) for n in plain)

    nodes = _retriever(canned_engine, extract=False, image_nodes=True,
                       allow_private_urls=True).retrieve(bundle)
    kinds = [type(n.node).__name__ for n in nodes]
    # hit 1: served thumbnail; hit 2: its thumbnail 404s, so it stays text; hit 3: data: URI
    assert kinds == ["ImageNode", "TextNode", "ImageNode"]
    first = nodes[0].node
    assert first.image_mimetype in ("image/png", "image/jpeg")
    assert Image.open(io.BytesIO(base64.b64decode(first.image))).size == (40, 30)
    assert first.image_url is None  # nothing LlamaIndex would download on its own


async def test_aretrieve_never_blocks_on_the_sync_bridge(monkeypatch, demo_index, demo_image):
    retriever = _retriever(demo_index)

    def refuse(*args, **kwargs):
        raise AssertionError("a blocking sync call ran inside _aretrieve")

    monkeypatch.setattr(rir._runtime._background, "get", refuse)
    monkeypatch.setattr(demo_index, "search", refuse)
    monkeypatch.setattr(demo_index, "query", refuse)
    monkeypatch.setattr(retriever, "_retrieve", refuse)
    nodes = await retriever.aretrieve(QueryBundle("who?", image_path=demo_image.as_data_uri()))
    _assert_found_hopper(nodes, demo_image)


async def test_sync_retrieve_works_inside_a_running_loop(demo_index, demo_image):
    # as in Jupyter, where a loop is already running in the calling thread
    _assert_found_hopper(_retriever(demo_index).retrieve(demo_image.as_data_uri()), demo_image)


def test_engine_errors_surface_as_typed_errors(make_engine):
    engine = make_engine(error=EngineBlockedError("Google served a captcha for this query.",
                                                  engine="canned"))
    with pytest.raises(EngineBlockedError, match="captcha"):
        _retriever(engine).retrieve(_tiny_data_uri())


def test_bad_options_are_configuration_errors(demo_index):
    with pytest.raises(ConfigurationError, match="Unknown engine"):
        ReverseImageRetriever("no-such-engine", cache=False)
    with pytest.raises(ConfigurationError, match="k must be"):
        ReverseImageRetriever(demo_index, k=0, cache=False)
    with pytest.raises(ConfigurationError, match="Options"):
        ReverseImageRetriever(demo_index, cache=False, path="x.rir")


def test_engine_by_name_with_options(tmp_path, demo_image):
    from rir.engines.local import LocalIndex

    with pytest.raises(ConfigurationError, match="rir index add"):  # by name: it must exist
        ReverseImageRetriever("local", path=str(tmp_path / "empty.rir"), cache=False)
    LocalIndex(tmp_path / "empty.rir").close()
    retriever = ReverseImageRetriever("local", path=str(tmp_path / "empty.rir"), cache=False)
    assert retriever.retrieve(demo_image.as_data_uri()) == []
    retriever.close()


def test_retriever_query_engine_over_our_retriever(demo_index, demo_image):
    llm = RecordingMultimodalLLM(answer="Grace Hopper.")
    engine = RetrieverQueryEngine.from_args(_retriever(demo_index), llm=llm)
    response = engine.query(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    assert str(response) == "Grace Hopper."
    assert response.source_nodes[0].node.metadata["title"] == "Grace Hopper"
    sent = "\n".join(llm.texts())
    assert "Official U.S. Navy portrait" in sent and "Who is this?" in sent
    assert "data:image" not in sent and "wikipedia.org" not in sent


def _tiny_data_uri() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), (10, 200, 30)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

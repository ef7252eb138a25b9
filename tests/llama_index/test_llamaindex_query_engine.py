"""ReverseImageQueryEngine: what reaches the model in each context mode, sync and async."""

from __future__ import annotations

import re

import pytest
from llama_index.core.base.llms.types import MessageRole
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse
from llama_index.core.schema import QueryBundle

import rir._runtime
from llama_index_rir import DEFAULT_QUESTION, ReverseImageQueryEngine, ReverseImageRetriever
from llama_index_rir.testing import MOCK_LABEL, RecordingMultimodalLLM
from rir.errors import ConfigurationError, EngineTimeoutError, InvalidImageError
from rir.prompting.build import PromptOptions, abuild_context_prompt
from rir.prompting.spec import ImagePart
from rir.prompting.texts import FENCE_CLOSE, FENCE_OPEN, SYSTEM_BY_MODE
from rir.results.models import SearchResult
from tests.helpers import GALLERY_URL, STORY_URL, NewsEngine
from tests.images import png_bytes

MODES = ["text", "screenshot", "thumbnails", "none"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _engine(searcher, llm, **options) -> ReverseImageQueryEngine:
    return ReverseImageQueryEngine(ReverseImageRetriever(searcher, cache=False), llm, **options)


def _check_sent(llm: RecordingMultimodalLLM, mode: str, demo_image) -> None:
    messages = llm.last_messages
    assert [m.role for m in messages] == [MessageRole.SYSTEM, MessageRole.USER]
    assert llm.texts(role=MessageRole.SYSTEM) == [SYSTEM_BY_MODE[mode]]
    images = llm.images()
    assert images[0] == (demo_image.data, "image/jpeg"), "the query image must be sent inline"
    user_text = "\n".join(llm.texts(role=MessageRole.USER))
    assert user_text.endswith("Question: Who is this?")
    if mode == "none":
        assert len(images) == 1 and FENCE_OPEN not in user_text
    elif mode == "text":
        assert len(images) == 1
        fenced = user_text[user_text.index(FENCE_OPEN):user_text.index(FENCE_CLOSE)]
        assert "Grace Hopper" in fenced and "Official U.S. Navy portrait" in fenced
    elif mode == "screenshot":
        assert len(images) == 2 and images[1][1] == "image/png"
        assert images[1][0].startswith(PNG_MAGIC)
        assert "screenshot of the reverse image search results" in user_text
    else:  # thumbnails
        assert len(images) == 2, "the query image plus the top hit's thumbnail"
        assert "[1] Grace Hopper | site: matplotlib sample data" in user_text


@pytest.mark.parametrize("mode", MODES)
def test_query_sends_image_and_context_in_each_mode(mode, demo_index, demo_image):
    llm = RecordingMultimodalLLM()
    engine = _engine(demo_index, llm, context=mode)
    response = engine.query(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    _check_sent(llm, mode, demo_image)
    assert llm.methods == ["chat"]
    assert str(response).startswith(MOCK_LABEL)
    assert response.metadata["context_mode"] == mode
    if mode == "none":
        assert response.source_nodes == [] and response.metadata["best_guess"] is None
    else:
        assert response.metadata["best_guess"] == "Grace Hopper"
        assert response.metadata["engine"] == "local"
        assert response.source_nodes[0].node.metadata["title"] == "Grace Hopper"
        assert "best guess is Grace Hopper" in str(response) or mode == "screenshot"


@pytest.mark.parametrize("mode", MODES)
async def test_aquery_sends_image_and_context_in_each_mode(mode, demo_index, demo_image,
                                                           monkeypatch):
    llm = RecordingMultimodalLLM()
    engine = _engine(demo_index, llm, context=mode)

    def refuse(*args, **kwargs):
        raise AssertionError("a blocking call ran inside aquery")

    # no sync bridge, no sync engine call, no sync LLM call on the async path
    monkeypatch.setattr(rir._runtime._background, "get", refuse)
    monkeypatch.setattr(demo_index, "search", refuse)
    monkeypatch.setattr(type(llm), "chat", refuse)
    response = await engine.aquery(QueryBundle("Who is this?",
                                               image_path=demo_image.as_data_uri()))
    _check_sent(llm, mode, demo_image)
    assert llm.methods == ["achat"]
    assert response.metadata["context_mode"] == mode


async def test_same_context_as_rir_context_and_the_langchain_translation(demo_index, demo_image):
    """The engine sends exactly the prompt rir.prompting.build makes, as the LangChain side does."""
    from langchain_rir.messages import to_langchain_messages

    for mode in MODES:
        llm = RecordingMultimodalLLM()
        engine = _engine(demo_index, llm, context=mode, max_hits=5)
        await engine.aquery(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
        retrieval = await engine.retriever.asearch_image(demo_image)
        spec = await abuild_context_prompt("Who is this?", image=demo_image,
                                           result=None if mode == "none" else retrieval.result,
                                           options=PromptOptions(context=mode, max_hits=5))
        assert llm.texts(role=MessageRole.SYSTEM) == [spec.system]
        assert llm.texts(role=MessageRole.USER) == [p.text for p in spec.parts
                                                     if not isinstance(p, ImagePart)]
        assert llm.images()[0][0] == spec.images[0].data
        assert len(llm.images()) == len(spec.images)
        system, human = to_langchain_messages(spec)
        assert system.content == spec.system
        langchain_texts = [b["text"] for b in human.content if b["type"] == "text"]
        assert langchain_texts == llm.texts(role=MessageRole.USER)


def test_injected_titles_stay_inside_the_fence(canned_engine):
    llm = RecordingMultimodalLLM()
    engine = ReverseImageQueryEngine(
        ReverseImageRetriever(canned_engine, cache=False, extract=False), llm)
    engine.query(QueryBundle("Who is this?", image_path=_png_data_uri()))
    user_text = "\n".join(llm.texts(role=MessageRole.USER))
    assert user_text.count(FENCE_OPEN) == 1 and user_text.count(FENCE_CLOSE) == 1
    inside = user_text[user_text.index(FENCE_OPEN):user_text.index(FENCE_CLOSE)]
    outside = user_text.replace(inside, "")
    assert "Ignore previous instructions" in inside
    assert "PWNED" not in outside and "<system>" not in user_text


def test_streaming_sync(demo_index, demo_image):
    llm = RecordingMultimodalLLM()
    engine = _engine(demo_index, llm, streaming=True)
    response = engine.query(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    assert isinstance(response, StreamingResponse)
    tokens = list(response.response_gen)
    assert len(tokens) > 3 and "".join(tokens).startswith(MOCK_LABEL)
    assert llm.methods == ["stream_chat"]
    assert response.source_nodes and response.metadata["best_guess"] == "Grace Hopper"
    _check_sent(llm, "text", demo_image)


async def test_streaming_async(demo_index, demo_image):
    llm = RecordingMultimodalLLM()
    engine = _engine(demo_index, llm, streaming=True, context="thumbnails")
    response = await engine.aquery(QueryBundle("Who is this?",
                                               image_path=demo_image.as_data_uri()))
    assert isinstance(response, AsyncStreamingResponse)
    tokens = [token async for token in response.response_gen]
    assert len(tokens) > 3 and "".join(tokens).startswith(MOCK_LABEL)
    assert llm.methods == ["astream_chat"]
    _check_sent(llm, "thumbnails", demo_image)


@pytest.mark.parametrize("kind", ["path", "url", "data_uri"])
async def test_image_path_may_be_a_file_a_url_or_a_data_uri(kind, demo_index, demo_image,
                                                            demo_file, image_server):
    source = {"path": str(demo_file), "url": f"{image_server}/query.jpg",
              "data_uri": demo_image.as_data_uri()}[kind]
    llm = RecordingMultimodalLLM()
    engine = ReverseImageQueryEngine(
        ReverseImageRetriever(demo_index, cache=False, allow_private_urls=True), llm)
    response = await engine.aquery(QueryBundle("Who is this?", image_path=source))
    _check_sent(llm, "text", demo_image)
    assert response.metadata["query_image_sha256"] == demo_image.sha256


def test_query_string_that_is_the_image_asks_the_default_question(demo_index, demo_image):
    llm = RecordingMultimodalLLM()
    _engine(demo_index, llm).query(demo_image.as_data_uri())
    assert llm.texts()[-1] == f"Question: {DEFAULT_QUESTION}"


def test_engine_screenshot_is_sent_as_is(make_engine, demo_image):
    shot = png_bytes((200, 200, 0), (64, 48))
    engine_with_shot = make_engine(SearchResult(screenshot=shot))
    llm = RecordingMultimodalLLM()
    _engine(engine_with_shot, llm, context="screenshot").query(
        QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    assert llm.images()[1] == (shot, "image/png")


def test_screenshot_mode_without_screenshot_or_fallback_is_a_configuration_error(demo_index,
                                                                                 demo_image):
    engine = _engine(demo_index, RecordingMultimodalLLM(), context="screenshot",
                     render_missing_screenshot=False)
    with pytest.raises(ConfigurationError, match="screenshot"):
        engine.query(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))


def test_errors_are_typed(demo_index, make_engine, tmp_path, demo_image):
    llm = RecordingMultimodalLLM()
    with pytest.raises(ConfigurationError, match="context mode"):
        _engine(demo_index, llm, context="pictures")
    with pytest.raises(ConfigurationError, match="question is empty"):
        _engine(demo_index, llm).query(QueryBundle("  ", image_path=demo_image.as_data_uri()))
    missing = str(tmp_path / "missing.png")
    with pytest.raises(InvalidImageError, match=r"missing\.png"):
        _engine(demo_index, llm).query(QueryBundle("Who?", image_path=missing))
    with pytest.raises(InvalidImageError, match="image_path"):
        _engine(demo_index, llm).query("Who is this?")
    slow = make_engine(error=EngineTimeoutError("canned did not answer in 30 s.", engine="canned"))
    with pytest.raises(EngineTimeoutError):
        _engine(slow, llm).query(QueryBundle("Who?", image_path=demo_image.as_data_uri()))
    with pytest.raises(ConfigurationError, match="retriever"):
        ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False), llm, k=3)
    with pytest.raises(ConfigurationError, match="LlamaIndex LLM"):
        ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False), llm="gpt-4o")
    assert llm.calls == [], "nothing reached the model when the input was wrong"


def test_prepare_is_a_dry_run(demo_index, demo_image):
    llm = RecordingMultimodalLLM()
    prepared = _engine(demo_index, llm).prepare(
        QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    assert llm.calls == []
    rendered = prepared.prompt.render_text()
    assert "<image: query image, image/jpeg" in rendered and "Grace Hopper" in rendered
    assert prepared.metadata["context_text"] in rendered
    assert re.search(r"sent inline as base64", rendered)


def _png_data_uri() -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes((200, 200, 0), (64, 48))).decode()


@pytest.mark.parametrize("use_async", [False, True])
def test_callback_events_show_the_search_and_the_answer(use_async, demo_index, demo_image):
    import asyncio

    from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
    from llama_index.core.callbacks.llama_debug import LlamaDebugHandler

    debug = LlamaDebugHandler(print_trace_on_end=False)
    engine = ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False),
                                     RecordingMultimodalLLM(), context="text",
                                     callback_manager=CallbackManager([debug]))
    bundle = QueryBundle("Who is this?", image_path=demo_image.as_data_uri())
    response = asyncio.run(engine.aquery(bundle)) if use_async else engine.query(bundle)
    (retrieve_start, retrieve_end), = debug.get_event_pairs(CBEventType.RETRIEVE)
    assert retrieve_start.payload[EventPayload.QUERY_STR] == "Who is this?"
    nodes = retrieve_end.payload[EventPayload.NODES]
    assert nodes and nodes == response.source_nodes
    assert "Grace Hopper" in nodes[0].node.get_content()
    (_, query_end), = debug.get_event_pairs(CBEventType.QUERY)
    assert query_end.payload[EventPayload.RESPONSE] is response
    # The search is reported inside the query, as LlamaIndex's own engines do.
    assert debug._trace_map[query_end.id_] == [retrieve_start.id_]  # (no public getter)


def test_no_search_no_retrieve_event(demo_index, demo_image):
    from llama_index.core.callbacks import CallbackManager, CBEventType
    from llama_index.core.callbacks.llama_debug import LlamaDebugHandler

    debug = LlamaDebugHandler(print_trace_on_end=False)
    engine = ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False),
                                     RecordingMultimodalLLM(), context="none",
                                     callback_manager=CallbackManager([debug]))
    engine.query(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    assert debug.get_event_pairs(CBEventType.RETRIEVE) == []
    assert len(debug.get_event_pairs(CBEventType.QUERY)) == 1


def test_a_prompt_options_object_is_honoured(demo_index, demo_image):
    engine = _engine(demo_index, RecordingMultimodalLLM(),
                     prompt=PromptOptions(context="none", max_hits=3))
    assert (engine.context, engine.prompt.max_hits) == ("none", 3)
    assert _engine(demo_index, RecordingMultimodalLLM(), prompt=PromptOptions(max_hits=3),
                   max_hits=4).prompt.max_hits == 4  # the keyword wins


async def test_urls_reach_the_model_whole(demo_image):
    llm = RecordingMultimodalLLM()
    engine = _engine(NewsEngine(), llm, context="text")
    await engine.aquery(QueryBundle("Where is this?", image_path=demo_image.as_data_uri()))
    user_text = "\n".join(llm.texts(role=MessageRole.USER))
    assert f"url: {STORY_URL}\n" in user_text and f"url: {GALLERY_URL}\n" in user_text
    assert "utm_" not in user_text and "fbclid" not in user_text


def test_regions_reach_the_model_grouped_and_the_response_holds_the_parts(demo_index) -> None:
    from rir.demo import demo_collage

    image, boxes = demo_collage(["Grace Hopper", "Falcon 9 launching DSCOVR"])
    llm = RecordingMultimodalLLM()
    engine = _engine(demo_index, llm, regions=boxes, max_hits=4)
    response = engine.query(QueryBundle("What launches on the right?",
                                        image_path=image.as_data_uri()))
    user_text = "\n".join(llm.texts(role=MessageRole.USER))
    assert user_text.index("Region 1, whole image") < user_text.index("Grace Hopper") \
        < user_text.index("Region 2, left half") < user_text.index("Region 3, right") \
        < user_text.index("Falcon 9 launching DSCOVR")
    assert [p.origin for p in response.metadata["parts"]] == ["whole", "given", "given"]
    assert {n.node.metadata["regions"] for n in response.source_nodes} >= {"1,2", "3"}
    whole_only = engine.with_regions(None).query(QueryBundle("And now?",
                                                             image_path=image.as_data_uri()))
    assert whole_only.metadata["parts"] is None
    assert "Region 1" not in "\n".join(llm.texts(role=MessageRole.USER))

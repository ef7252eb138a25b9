"""The LlamaIndex tool searches the image the user attached: no base64 in tool arguments.

A ``FunctionAgent`` on a scripted tool-calling LLM gets a user message carrying an
``ImageBlock``; the model calls ``reverse_image_search`` with no image argument;
the tool reads the image from the agent's memory (through the workflow Context),
searches a local index built here, and the answer quotes the page it found.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from llama_index.core.agent.workflow import FunctionAgent, ReActAgent, ToolCall, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM

from llama_index_rir import ReverseImageSearchOutput, ReverseImageSearchToolSpec
from llama_index_rir.attachments import latest_user_image
from llama_index_rir.testing import MOCK_LABEL, scripted_tool_calling_llm
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.errors import ConfigurationError, InvalidImageError
from rir.inputs.images import QueryImage
from tests.helpers import STORY_URL, TRACKED_STORY_URL

# LlamaIndex's workflow runtime inspects pydantic models with inspect.getmembers.
pytestmark = [pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
              pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")]

QUESTION = "Where was this photo published?"


@pytest.fixture(scope="module")
def news_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """The demo photos, with Grace Hopper's portrait published at a news story URL."""
    index = LocalIndex(tmp_path_factory.mktemp("news-index") / "news.rir")
    for photo, path in available_demo_photos():
        url = TRACKED_STORY_URL if photo.title == "Grace Hopper" else photo.url
        index.add(path, title=photo.title, caption=photo.caption, url=url)
    yield index
    index.close()


@pytest.fixture
def tool(news_index):
    (tool,) = ReverseImageSearchToolSpec(news_index, cache=False).to_tool_list()
    return tool


def _base64_block(image: QueryImage) -> ImageBlock:
    return ImageBlock(image=image.as_base64().encode("ascii"), image_mimetype=image.mime_type)


def _user_message(block: ImageBlock) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, blocks=[block, TextBlock(text=QUESTION)])


async def _run(tool, tool_kwargs: dict, **run_kwargs) -> tuple[list, list, str]:
    llm = scripted_tool_calling_llm("reverse_image_search", tool_kwargs)
    handler = FunctionAgent(tools=[tool], llm=llm).run(**run_kwargs)
    events = [event async for event in handler.stream_events()]
    answer = await handler
    calls = [e for e in events if isinstance(e, ToolCall) and not isinstance(e, ToolCallResult)]
    results = [e for e in events if isinstance(e, ToolCallResult)]
    return calls, results, str(answer)


def test_the_schema_the_model_sees_has_no_place_for_bytes(tool):
    schema = tool.metadata.get_parameters_dict()
    assert set(schema["properties"]) == {"image", "max_results", "region"}
    assert "required" not in schema
    image = schema["properties"]["image"]
    assert image["type"] == "string" and "format" not in image
    assert "attached" in image["description"]
    shown = json.dumps(tool.metadata.fn_schema.model_json_schema()).lower()
    for word in ("base64", "data:", "bytes", "binary", "ctx", "context"):
        assert word not in shown, word
    assert "image the user attached" in tool.metadata.description


@pytest.mark.parametrize("attach", ["base64", "path", "data_url"])
async def test_function_agent_searches_the_image_the_user_attached(tool, demo_image, tmp_path,
                                                                   attach):
    if attach == "base64":
        block = _base64_block(demo_image)
    elif attach == "path":
        file = tmp_path / "holiday photo.jpg"
        file.write_bytes(demo_image.data)
        block = ImageBlock(path=file)
    else:
        block = ImageBlock(url=demo_image.as_data_uri())
    calls, results, answer = await _run(tool, {"max_results": 3}, user_msg=_user_message(block))
    assert [c.tool_kwargs for c in calls] == [{"max_results": 3}], "the model wrote no image"
    [result] = results
    assert not result.tool_output.is_error, result.tool_output.content
    raw = result.tool_output.raw_output
    assert isinstance(raw, ReverseImageSearchOutput)
    assert raw.result.query_sha256 == demo_image.sha256, "it searched the user's image"
    assert raw.hits[0]["title"] == "Grace Hopper"
    assert answer.startswith(MOCK_LABEL)
    assert f"url: {STORY_URL}\n" in answer and "utm_" not in answer  # the found page, whole


def _react_respond(messages, **kwargs) -> ChatMessage:
    """A ReAct-format model: call the tool with no arguments, then answer with its observation."""
    observations = [m.content for m in messages
                    if m.role == MessageRole.USER and (m.content or "").startswith("Observation:")]
    if observations:
        return ChatMessage(role=MessageRole.ASSISTANT, content=(
            "Thought: I can answer without using any more tools.\n"
            f"Answer: {MOCK_LABEL} {observations[-1].removeprefix('Observation:').strip()}"))
    return ChatMessage(role=MessageRole.ASSISTANT, content=(
        "Thought: I need to search the image the user attached.\n"
        "Action: reverse_image_search\nAction Input: {}"))


@pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning")
async def test_react_agent_searches_the_image_the_user_attached(tool, demo_image):
    llm = MockFunctionCallingLLM(response_generator=_react_respond, is_chat_model=True)
    handler = ReActAgent(tools=[tool], llm=llm).run(
        user_msg=_user_message(_base64_block(demo_image)))
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    answer = str(await handler)
    [result] = results
    assert result.tool_kwargs == {} and not result.tool_output.is_error, result.tool_output
    assert result.tool_output.raw_output.result.query_sha256 == demo_image.sha256
    assert answer.startswith(MOCK_LABEL) and f"url: {STORY_URL}\n" in answer


async def test_the_user_image_handle_and_an_earlier_turn(tool, demo_image):
    history = [_user_message(_base64_block(demo_image)),
               ChatMessage(role=MessageRole.ASSISTANT, content="It is a portrait."),
               ChatMessage(role=MessageRole.USER, content="Thanks.")]
    _, [result], answer = await _run(tool, {"image": "user_image"},
                                     user_msg="And where was it published?",
                                     chat_history=history)
    assert not result.tool_output.is_error, result.tool_output.content
    assert result.tool_output.raw_output.result.query_sha256 == demo_image.sha256
    assert STORY_URL in answer


async def test_the_image_is_found_in_a_sql_backed_memory_too(tool, demo_image):
    from llama_index.core.memory import Memory  # stores messages serialised, in SQLite

    memory = Memory.from_defaults(session_id="user-image-test", token_limit=40_000)
    _, [result], answer = await _run(tool, {}, user_msg=_user_message(_base64_block(demo_image)),
                                     memory=memory)
    assert not result.tool_output.is_error, result.tool_output.content
    assert result.tool_output.raw_output.result.query_sha256 == demo_image.sha256
    assert STORY_URL in answer


async def test_no_image_in_the_conversation_is_a_tool_error_the_model_reads(tool):
    _, [result], _ = await _run(tool, {}, user_msg="Who is in my photo?")
    output = result.tool_output
    assert output.is_error and isinstance(output.exception, InvalidImageError)
    assert "No image to search" in output.content and "attach an image" in output.content


async def test_a_url_written_by_the_model_is_still_searched(news_index, demo_image,
                                                           image_server):
    spec = ReverseImageSearchToolSpec(news_index, cache=False, allow_private_urls=True)
    (tool,) = spec.to_tool_list()
    _, [result], _ = await _run(tool, {"image": f"{image_server}/query.jpg"},
                                user_msg="Search this picture")
    assert not result.tool_output.is_error, result.tool_output.content
    assert result.tool_output.raw_output.hits[0]["title"] == "Grace Hopper"


def test_direct_calls_need_no_context(tool, demo_image):
    output = tool.call(image=demo_image.as_data_uri(), max_results=2)
    assert not output.is_error and "Grace Hopper" in output.content
    assert "ctx" not in output.raw_input["kwargs"]
    with pytest.raises(InvalidImageError, match="No image to search"):
        tool.call()


class _Store:
    """The one part of a workflow Context the tool reads: its key-value store."""

    def __init__(self, **values) -> None:
        self.values = values

    async def get(self, key: str, default=None):
        return self.values.get(key, default)


def test_the_sync_twin_reads_the_context_too(tool, demo_image):
    from llama_index.core.memory import ChatMemoryBuffer

    memory = ChatMemoryBuffer.from_defaults(
        chat_history=[_user_message(_base64_block(demo_image))])
    output = tool.call(ctx=SimpleNamespace(store=_Store(memory=memory)))
    assert not output.is_error and output.raw_output.result.query_sha256 == demo_image.sha256
    with pytest.raises(ConfigurationError, match="no agent memory"):
        tool.call(ctx=SimpleNamespace(store=_Store()))


def test_latest_user_image_picks_the_most_recent_user_image(demo_image, tmp_path: Path):
    older, newer = b"older image bytes", b"newer image bytes"
    messages = [
        ChatMessage(role=MessageRole.USER, blocks=[
            ImageBlock(image=base64.b64encode(older)), TextBlock(text="first")]),
        ChatMessage(role=MessageRole.ASSISTANT, blocks=[ImageBlock(url="https://a.example/x.png")]),
        ChatMessage(role=MessageRole.USER, blocks=[
            ImageBlock(image=base64.b64encode(b"first of two")),
            ImageBlock(image=base64.b64encode(newer))]),
        ChatMessage(role=MessageRole.USER, content="no image here"),
    ]
    assert latest_user_image(messages) == newer
    assert latest_user_image(messages[:2]) == older
    assert latest_user_image(messages[1:2]) is None, "an assistant's image is not the user's"
    assert latest_user_image([ChatMessage(role=MessageRole.USER, blocks=[
        ImageBlock(url="https://news.example.org/p.jpg?id=2")])]) == \
        "https://news.example.org/p.jpg?id=2"


async def test_function_agent_searches_two_regions_of_the_attached_image(tool):
    from rir.demo import demo_collage

    image, boxes = demo_collage(["Grace Hopper", "Falcon 9 launching DSCOVR"])
    grid = [[round(v * 1000 / s) for v, s in zip(box.box, (image.width, image.height) * 2,
                                                   strict=True)] for box in boxes]
    calls, [result], answer = await _run(tool, {"region": grid, "max_results": 3},
                                         user_msg=_user_message(_base64_block(image)))
    assert [c.tool_kwargs for c in calls] == [{"region": grid, "max_results": 3}]
    assert not result.tool_output.is_error, result.tool_output.content
    raw = result.tool_output.raw_output
    assert [p.origin for p in raw.regions.parts] == ["given", "given"]
    assert {h["title"]: h["regions"] for h in raw.hits} == {
        "Grace Hopper": [1], "Falcon 9 launching DSCOVR": [2]}
    # the model's last turn was given both regions' hits (the scripted answer quotes them)
    assert answer.startswith(MOCK_LABEL)
    first, second = answer.index("Region 1, left"), answer.index("Region 2, right")
    assert first < answer.index("Grace Hopper") < second < answer.index("Falcon 9")

"""ReverseImageSearchTool on its own and inside ``langchain.agents.create_agent``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_rir import ReverseImageRetriever, ReverseImageSearchTool
from langchain_rir.testing import ScriptedToolCallingModel
from rir.engines.base import Engine
from rir.errors import EngineRateLimitedError
from tests.helpers import GALLERY_URL, STORY_URL, NewsEngine


@pytest.fixture
def tool(index) -> ReverseImageSearchTool:
    return ReverseImageSearchTool(retriever=ReverseImageRetriever(engine=index, cache=False))


def _call(args: dict[str, Any], call_id: str = "call_1") -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": "reverse_image_search", "args": args}


def _user_message(query_image) -> HumanMessage:
    return HumanMessage(content=[
        {"type": "image", "base64": query_image.as_base64(), "mime_type": "image/jpeg"},
        {"type": "text", "text": "Who is the person in this photo?"},
    ])


def test_schema_shown_to_the_model_has_no_injected_conversation(tool) -> None:
    schema = tool.tool_call_schema.model_json_schema()
    assert set(schema["properties"]) == {"image_url", "max_results", "region"}
    assert tool.name == "reverse_image_search"


def test_the_region_argument_explains_itself_to_the_model(tool) -> None:
    region = tool.tool_call_schema.model_json_schema()["properties"]["region"]
    for words in ("0-1000 grid", "x1,y1,x2,y2", "top-left corner", "'auto'"):
        assert words in region["description"]
    kinds = {option.get("type") for option in region["anyOf"]}
    assert {"string", "array"} <= kinds


def test_content_for_the_model_and_documents_as_artifact(tool, query_image) -> None:
    message = tool.invoke(_call({"image_url": query_image.as_data_uri(), "max_results": 3}))
    assert isinstance(message, ToolMessage) and message.status == "success"
    lines = message.content.splitlines()
    assert lines[0] == "Reverse image search (local) found 3 matches."
    assert lines[1:3] == ["<search_results>", "Best guess from the results: Grace Hopper"]
    assert lines[3].startswith("[1] ") and lines[-1] == "</search_results>"
    assert "data:image" not in message.content  # thumbnails stay in the artifact
    assert len(message.artifact) == 3
    assert all(isinstance(d, Document) for d in message.artifact)
    assert message.artifact[0].metadata["thumbnail_url"].startswith("data:image/jpeg")


def test_searches_the_users_image_from_the_conversation(tool, query_image) -> None:
    for image_url in (None, "user_image", ""):
        args = {"messages": [_user_message(query_image)], "max_results": 2}
        if image_url is not None:
            args["image_url"] = image_url
        message = tool.invoke(_call(args))
        assert message.status == "success", message.content
        assert message.artifact[0].metadata["query_image_sha256"] == query_image.sha256


@pytest.mark.parametrize(("args", "expected"), [
    ({"image_url": "/etc/passwd"}, "Local files are not allowed"),
    ({"image_url": "ftp://example.org/a.jpg"}, "Unsupported URL scheme"),
    ({"image_url": "http://169.254.169.254/latest/meta-data"}, "Refusing URL"),
    ({}, "No image to search"),
    ({"image_url": "data:image/png;base64,AAAA", "max_results": 99}, "max_results"),
])
def test_errors_come_back_as_error_tool_messages(tool, args, expected) -> None:
    message = tool.invoke(_call(args))
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert expected in message.content


class _RateLimitedEngine(Engine):
    name = "flaky"

    async def _asearch(self, image: Any, *, k: int) -> Any:
        raise EngineRateLimitedError("flaky answered HTTP 429", engine="flaky", retry_after=30)


def test_engine_failures_tell_the_agent_what_to_do(query_image) -> None:
    tool = ReverseImageSearchTool(
        retriever=ReverseImageRetriever(engine=_RateLimitedEngine(), cache=False))
    message = tool.invoke(_call({"image_url": query_image.as_data_uri()}))
    assert message.status == "error"
    assert "HTTP 429" in message.content and "do not retry now" in message.content


async def test_native_async(tool, query_image) -> None:
    message = await tool.ainvoke(_call({"messages": [_user_message(query_image)]}))
    assert message.status == "success"
    assert "Grace Hopper" in message.content


def test_urls_in_the_tool_result_are_whole(query_image) -> None:
    tool = ReverseImageSearchTool(retriever=ReverseImageRetriever(engine=NewsEngine(),
                                                                  cache=False))
    message = tool.invoke(_call({"messages": [_user_message(query_image)]}))
    assert message.status == "success", message.content
    assert f"| url: {STORY_URL}\n" in message.content
    assert f"| url: {GALLERY_URL}\n" in message.content
    assert "utm_" not in message.content and "…" not in message.content


def test_a_document_with_an_overlong_url_is_left_out_whole_and_said_so() -> None:
    from langchain_rir.documents import format_documents

    long_url = "https://a.example/p?" + "&".join(f"k{i}=v{i}" for i in range(500))
    docs = [Document(page_content="Too long", metadata={"title": "Too long", "source": long_url}),
            Document(page_content="Short", metadata={"title": "Short", "site": "b.example",
                                                     "source": "https://b.example/p?id=7"})]
    lines = format_documents(docs).splitlines()
    assert lines[0].startswith(f"[1] left out: its URL is {len(long_url):,} characters")
    assert lines[1] == "[2] Short | site: b.example | url: https://b.example/p?id=7"
    assert "k1=v1" not in "\n".join(lines)


def test_default_construction_builds_a_retriever() -> None:
    tool = ReverseImageSearchTool(engine="local")
    assert isinstance(tool.retriever, ReverseImageRetriever)
    assert tool.retriever.engine == "local"


# -- inside an agent ---------------------------------------------------------------------------


def _agent(tool, script: list[AIMessage]):
    from langchain.agents import create_agent

    model = ScriptedToolCallingModel(script=script)
    return create_agent(model, tools=[tool]), model


def test_agent_searches_the_image_the_user_sent(tool, query_image) -> None:
    agent, model = _agent(tool, [
        AIMessage(content="", tool_calls=[{"name": "reverse_image_search",
                                           "args": {"max_results": 3}, "id": "call_1"}]),
        AIMessage(content="This is Grace Hopper, the computing pioneer."),
    ])
    state = agent.invoke({"messages": [_user_message(query_image)]})
    tool_messages = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(tool_messages) == 1
    [reply] = tool_messages
    assert reply.status == "success" and reply.tool_call_id == "call_1"
    assert "Best guess from the results: Grace Hopper" in reply.content
    assert len(reply.artifact) == 3
    # the model's second turn saw the search results, and no base64 went through tool args
    assert any(isinstance(m, ToolMessage) and "Grace Hopper" in m.content for m in model.seen[1])
    ai_calls = [m for m in state["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    assert "base64" not in json.dumps(ai_calls[0].tool_calls)
    assert state["messages"][-1].content == "This is Grace Hopper, the computing pioneer."


async def test_agent_recovers_from_a_tool_error(tool, query_image) -> None:
    agent, _ = _agent(tool, [
        AIMessage(content="", tool_calls=[{"name": "reverse_image_search",
                                           "args": {"image_url": "file:///etc/shadow"},
                                           "id": "bad"}]),
        AIMessage(content="", tool_calls=[{"name": "reverse_image_search", "args": {},
                                           "id": "good"}]),
        AIMessage(content="Grace Hopper."),
    ])
    state = await agent.ainvoke({"messages": [_user_message(query_image)]})
    replies = {m.tool_call_id: m for m in state["messages"] if isinstance(m, ToolMessage)}
    assert replies["bad"].status == "error"
    assert "Local files are not allowed" in replies["bad"].content
    assert replies["good"].status == "success"
    assert state["messages"][-1].content == "Grace Hopper."


# -- regions ------------------------------------------------------------------------------------


def _collage_message() -> tuple[HumanMessage, list[list[int]]]:
    """The user's attached image: Hopper beside the Falcon 9, and both boxes on the grid."""
    from rir.demo import demo_collage

    image, regions = demo_collage(["Grace Hopper", "Falcon 9 launching DSCOVR"])
    grid = [[round(v * 1000 / size) for v, size in zip(r.box, (image.width, image.height) * 2,
                                                       strict=True)] for r in regions]
    message = HumanMessage(content=[
        {"type": "image", "base64": image.as_base64(), "mime_type": "image/jpeg"},
        {"type": "text", "text": "Who is on the left, and what is the launch on the right?"}])
    return message, grid


def test_agent_searches_two_regions_of_the_attached_image(tool) -> None:
    message, grid = _collage_message()
    agent, model = _agent(tool, [
        AIMessage(content="", tool_calls=[{"name": "reverse_image_search",
                                           "args": {"region": grid, "max_results": 4},
                                           "id": "regions"}]),
        AIMessage(content="Grace Hopper on the left; a Falcon 9 launch on the right."),
    ])
    state = agent.invoke({"messages": [message]})
    [reply] = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert reply.status == "success", reply.content
    text = reply.content
    assert text.startswith("Reverse image search (local) searched 2 regions")
    left, right = text.index("Region 1, left"), text.index("Region 2, right")
    assert left < text.index("Grace Hopper") < right < text.index("Falcon 9 launching DSCOVR")
    by_title = {d.metadata["title"]: d.metadata for d in reply.artifact}
    assert by_title["Falcon 9 launching DSCOVR"]["regions"] == "2"
    assert by_title["Grace Hopper"]["regions"] == "1"
    assert by_title["Grace Hopper"]["region"] == "49,24,358,384"  # the grid box, in pixels
    # the model's final turn read both regions' hits
    final_prompt = "\n".join(str(m.content) for m in model.seen[1])
    assert "Region 1, left" in final_prompt and "Falcon 9 launching DSCOVR" in final_prompt


@pytest.mark.parametrize(("region", "expected"), [
    ("0,0,2000,500", "The grid goes from 0 to 1000"),
    ("500,0,100,900", "is inverted"),
    ("a,b,c,d", "expected four numbers"),
])
def test_a_bad_region_comes_back_as_an_error_the_model_can_fix(tool, query_image, region,
                                                              expected) -> None:
    message = tool.invoke(_call({"image_url": query_image.as_data_uri(), "region": region}))
    assert message.status == "error"
    assert expected in message.content and "0-1000 grid" in message.content

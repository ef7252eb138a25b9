"""ReverseImageSearchToolSpec: one sync+async tool, used by a FunctionAgent with a scripted LLM."""

from __future__ import annotations

import pytest
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import MessageRole

import rir._runtime
from llama_index_rir import ReverseImageSearchOutput, ReverseImageSearchToolSpec
from llama_index_rir.testing import MOCK_LABEL, scripted_tool_calling_llm
from rir.errors import ConfigurationError, InvalidImageError
from rir.prompting.texts import FENCE_CLOSE, FENCE_OPEN
from tests.helpers import GALLERY_URL, STORY_URL, NewsEngine

# LlamaIndex's workflow runtime inspects pydantic models with inspect.getmembers.
pytestmark = [pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
              pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")]


def _spec(engine, **options) -> ReverseImageSearchToolSpec:
    return ReverseImageSearchToolSpec(engine, cache=False, **options)


def test_one_tool_with_a_sync_and_an_async_function(demo_index):
    spec = _spec(demo_index)
    (tool,) = spec.to_tool_list()
    assert tool.metadata.name == "reverse_image_search"
    assert "Reverse image search" in tool.metadata.description
    schema = tool.metadata.get_parameters_dict()
    assert "required" not in schema, "image may be left empty: the user's image is used"
    assert set(schema["properties"]) == {"image", "max_results", "region"}
    assert tool.fn == spec.reverse_image_search
    assert tool.async_fn == spec.areverse_image_search


def test_tool_call_returns_compact_text_and_structured_hits(demo_index, demo_image):
    (tool,) = _spec(demo_index).to_tool_list()
    output = tool.call(image=demo_image.as_data_uri(), max_results=3)
    assert not output.is_error
    text = output.content
    assert text.startswith("Reverse image search (local) found 1 match.")
    assert FENCE_OPEN in text and FENCE_CLOSE in text
    assert "[1] Grace Hopper | site: matplotlib sample data" in text
    assert "data:image" not in text, "thumbnails stay out of the text the model reads"
    raw = output.raw_output
    assert isinstance(raw, ReverseImageSearchOutput)
    assert raw.best_guess == "Grace Hopper" and raw.engine == "local"
    assert raw.hits[0]["title"] == "Grace Hopper" and 0 <= raw.hits[0]["score"] <= 1
    assert raw.hits[0]["thumbnail_url"].startswith("data:image/jpeg;base64,")


async def test_async_tool_call_is_native(monkeypatch, demo_index, demo_image):
    spec = _spec(demo_index)
    (tool,) = spec.to_tool_list()

    def refuse(*args, **kwargs):
        raise AssertionError("a blocking call ran inside the async tool")

    monkeypatch.setattr(rir._runtime._background, "get", refuse)
    monkeypatch.setattr(demo_index, "search", refuse)
    output = await tool.acall(image=demo_image.as_data_uri())
    assert "Grace Hopper" in output.content


async def test_function_agent_calls_the_tool(demo_index, demo_image):
    (tool,) = _spec(demo_index).to_tool_list()
    llm = scripted_tool_calling_llm("reverse_image_search",
                                    {"image": demo_image.as_data_uri(), "max_results": 3})
    agent = FunctionAgent(tools=[tool], llm=llm, system_prompt="Identify images.")
    handler = agent.run(user_msg="Who is in this picture?")
    results = [event async for event in handler.stream_events()
               if isinstance(event, ToolCallResult)]
    answer = await handler
    assert len(results) == 1 and not results[0].tool_output.is_error
    assert isinstance(results[0].tool_output.raw_output, ReverseImageSearchOutput)
    assert results[0].tool_output.raw_output.best_guess == "Grace Hopper"
    final = str(answer)
    assert final.startswith(MOCK_LABEL) and "[1] Grace Hopper" in final
    assert answer.response.role == MessageRole.ASSISTANT


async def test_agent_sees_our_error_message_when_the_input_is_refused(demo_index, demo_file):
    (tool,) = _spec(demo_index).to_tool_list()  # local files are off for model-written args
    llm = scripted_tool_calling_llm("reverse_image_search", {"image": str(demo_file)})
    handler = FunctionAgent(tools=[tool], llm=llm).run(user_msg="Search my file")
    results = [event async for event in handler.stream_events()
               if isinstance(event, ToolCallResult)]
    await handler
    output = results[0].tool_output
    assert output.is_error
    assert isinstance(output.exception, InvalidImageError)
    assert "allow_local_files" in output.content


def test_direct_calls_raise_typed_errors(demo_index, demo_file, demo_image):
    spec = _spec(demo_index)
    with pytest.raises(InvalidImageError, match="Local files are not allowed"):
        spec.reverse_image_search(str(demo_file))
    with pytest.raises(ConfigurationError, match="at most 20"):
        spec.reverse_image_search(demo_image.as_data_uri(), max_results=50)
    with pytest.raises(ConfigurationError, match="k must be"):
        spec.reverse_image_search(demo_image.as_data_uri(), max_results=0)


def test_local_files_when_the_application_allows_them(demo_index, demo_file):
    spec = _spec(demo_index, allow_local_files=True)
    (tool,) = spec.to_tool_list()
    assert "local file path" in tool.metadata.description
    assert spec.reverse_image_search(str(demo_file)).best_guess == "Grace Hopper"


def test_urls_on_a_loopback_server(demo_index, image_server):
    spec = _spec(demo_index, allow_private_urls=True)
    assert spec.reverse_image_search(f"{image_server}/query.jpg").hits[0]["title"] == \
        "Grace Hopper"


def test_urls_in_the_tool_output_are_whole(demo_image):
    (tool,) = _spec(NewsEngine()).to_tool_list()
    output = tool.call(image=demo_image.as_data_uri())
    assert f"url: {STORY_URL}\n" in output.content and f"url: {GALLERY_URL}\n" in output.content
    assert "utm_" not in output.content and "fbclid" not in output.content

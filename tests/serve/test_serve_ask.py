"""``ask_about_image`` / ``--model``: the MCP tool on an Asker, and the LangChain Asker itself."""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import TextContent

from langchain_rir.serving import LangChainAsker
from rir.inputs.images import QueryImage
from rir.results.models import SearchResult
from rir.serve import SearchService, ServeConfig, build_mcp
from tests.serve.helpers import HOPPER_PAGE


class EchoAsker:
    async def aask(self, image: QueryImage, question: str, result: SearchResult) -> str:
        return f"{question} -> {result.best_guess}"


async def test_ask_about_image_is_a_tool_only_with_a_model(demo_index_path, hopper_uri) -> None:
    config = ServeConfig(index=demo_index_path, cache=False)
    without = build_mcp(SearchService(config))
    assert "ask_about_image" not in {t.name for t in await without.list_tools()}
    server = build_mcp(SearchService(config, asker=EchoAsker()))
    async with create_connected_server_and_client_session(server._mcp_server) as session:
        result = await session.call_tool("ask_about_image",
                                         {"image": hopper_uri, "question": "Who is this?"})
    assert not result.isError
    assert [b.text for b in result.content if isinstance(b, TextContent)] == [
        "Who is this? -> Grace Hopper"]
    assert result.structuredContent["search"]["hits"][0]["url"] == HOPPER_PAGE


class RecordingFake(FakeListChatModel):
    seen: ClassVar[list[Any]] = []

    async def ainvoke(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        RecordingFake.seen.append(messages)
        return await super().ainvoke(messages, *args, **kwargs)


async def test_the_langchain_asker_sends_the_image_and_the_results(hopper: QueryImage,
                                                                    demo_index_path) -> None:
    service = SearchService(ServeConfig(index=demo_index_path, cache=False))
    searched = await service.search(hopper.as_data_uri(), k=3)
    asker = LangChainAsker(RecordingFake(responses=["Grace Hopper, computing pioneer."]))
    answer = await asker.aask(searched.query, "Who is this?", searched.result)
    assert answer == "Grace Hopper, computing pioneer."
    system, human = RecordingFake.seen[-1]
    assert "reverse image search" in system.content
    kinds = [block["type"] for block in human.content]
    assert "image" in kinds
    text = " ".join(block.get("text", "") for block in human.content)
    assert HOPPER_PAGE in text and "Who is this?" in text
    await service.aclose()

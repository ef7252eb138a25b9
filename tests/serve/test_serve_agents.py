"""Agents of both frameworks use ``rir serve`` through their MCP adapters, on loopback:
a LangChain ``create_agent`` run over ``langchain-mcp-adapters`` (streamable HTTP and
stdio), and a LlamaIndex ``FunctionAgent`` over ``llama-index-tools-mcp``'s ``McpToolSpec``.
The models are scripted tool callers; the tools, the server and the search are real."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_rir.testing import ScriptedToolCallingModel
from tests.serve.helpers import HOPPER_PAGE, stdio_command

pytest.importorskip("langchain_mcp_adapters")
pytest.importorskip("llama_index.tools.mcp")

# LlamaIndex's workflow runtime inspects pydantic models with inspect.getmembers.
pytestmark = [pytest.mark.timeout(120),
              pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
              pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")]

KEY = "agent-key-424242"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") if isinstance(part, dict) else str(part)
                     for part in content)


@pytest.mark.parametrize("transport", ["streamable_http", "stdio"])
async def test_a_langgraph_agent_finds_the_page_through_mcp(transport, serve_http,
                                                             demo_index_path, hopper_uri) -> None:
    from langchain.agents import create_agent
    from langchain_mcp_adapters.client import MultiServerMCPClient

    if transport == "stdio":
        command, args, env = stdio_command("--index", str(demo_index_path))
        connection = {"transport": "stdio", "command": command, "args": args, "env": env}
    else:
        server = serve_http(index=demo_index_path, api_key=KEY)
        connection = {"transport": "streamable_http", "url": f"{server.url}/mcp",
                      "headers": {"X-API-Key": KEY}}
    client = MultiServerMCPClient({"rir": connection})
    tools = await client.get_tools()
    assert {tool.name for tool in tools} == {"reverse_image_search", "search_local_index"}
    model = ScriptedToolCallingModel(script=[
        AIMessage(content="", tool_calls=[{"name": "reverse_image_search", "id": "call_1",
                                           "args": {"image": hopper_uri, "max_results": 3}}]),
        AIMessage(content="That is Grace Hopper's Wikipedia page."),
    ])
    agent = create_agent(model, tools=tools)
    state = await agent.ainvoke({"messages": [HumanMessage("Where was this photo published?")]})
    [reply] = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert reply.status == "success", reply.content
    text = _content_text(reply.content)
    assert HOPPER_PAGE in text and "Best guess from the results: Grace Hopper" in text
    assert any(isinstance(m, ToolMessage) for m in model.seen[1])  # the model saw the results
    assert state["messages"][-1].content == "That is Grace Hopper's Wikipedia page."


async def test_a_langgraph_agent_gets_a_tool_error_it_can_read(serve_http,
                                                               demo_index_path) -> None:
    from langchain.agents import create_agent
    from langchain_mcp_adapters.client import MultiServerMCPClient

    server = serve_http(index=demo_index_path)
    client = MultiServerMCPClient({"rir": {"transport": "streamable_http",
                                           "url": f"{server.url}/mcp"}})
    tools = await client.get_tools()
    model = ScriptedToolCallingModel(script=[
        AIMessage(content="", tool_calls=[{"name": "reverse_image_search", "id": "bad",
                                           "args": {"image": "file:///etc/shadow"}}]),
        AIMessage(content="I cannot read local files."),
    ])
    agent = create_agent(model, tools=tools)
    state = await agent.ainvoke({"messages": [HumanMessage("Search /etc/shadow")]})
    [reply] = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert reply.status == "error"
    assert "reads no local files" in _content_text(reply.content)


async def test_a_llamaindex_agent_finds_the_page_through_mcp(serve_http, demo_index_path,
                                                              hopper_uri) -> None:
    from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
    from llama_index.tools.mcp import BasicMCPClient, McpToolSpec

    from llama_index_rir.testing import MOCK_LABEL, scripted_tool_calling_llm

    server = serve_http(index=demo_index_path, api_key=KEY)
    client = BasicMCPClient(f"{server.url}/mcp", headers={"Authorization": f"Bearer {KEY}"})
    tools = await McpToolSpec(client=client).to_tool_list_async()
    assert {tool.metadata.name for tool in tools} == {"reverse_image_search",
                                                      "search_local_index"}
    llm = scripted_tool_calling_llm("reverse_image_search",
                                    {"image": hopper_uri, "max_results": 3})
    handler = FunctionAgent(tools=tools, llm=llm).run(user_msg="Where was this published?")
    events = [event async for event in handler.stream_events()]
    answer = str(await handler)
    [result] = [e for e in events if isinstance(e, ToolCallResult)]
    assert not result.tool_output.is_error
    assert answer.startswith(MOCK_LABEL)
    assert HOPPER_PAGE in answer and "Grace Hopper" in answer

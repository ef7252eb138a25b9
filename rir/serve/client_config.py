"""``rir serve --print-config CLIENT``: a client configuration that cannot be copied wrong.

The printed command is the absolute path of the ``rir`` that is running (a desktop client
does not share your shell's ``PATH`` or virtualenv); paths are made absolute; and no
secret is ever written: keys appear only as references to environment variables, where
the client can resolve them, and are otherwise left out with a note (on stderr, so the
configuration can be redirected into a file as it is).

    >>> print(client_config("claude-desktop", ["serve", "--stdio"]).text)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLIENTS", "ENGINE_KEYS", "SERVER_NAME", "ClientConfig", "client_config",
           "rir_command"]

CLIENTS = ("claude-desktop", "cursor", "vscode", "langgraph", "llama-index")
SERVER_NAME = "reverse-image-search"
#: What the server's engines (and --model openai:...) read; referenced, never copied.
ENGINE_KEYS = ("SERPAPI_API_KEY", "GOOGLE_CLOUD_VISION_API_KEY",
               "GOOGLE_APPLICATION_CREDENTIALS", "OPENAI_API_KEY")


@dataclass(frozen=True)
class ClientConfig:
    """``text`` goes to stdout (the configuration); ``note`` to stderr (what to do next)."""

    text: str
    note: str


def rir_command() -> list[str]:
    """The running installation's command, absolute: its ``rir`` script, else this
    interpreter running :func:`rir.cli.main`."""
    bin_dir = Path(sys.executable).parent
    for name in ("rir", "rir.exe"):
        script = bin_dir / name
        if script.is_file():
            return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-c",
            "import sys; from rir.cli import main; sys.exit(main())"]


def client_config(client: str, serve_args: Sequence[str]) -> ClientConfig:
    """The configuration for ``client`` that starts ``rir <serve_args>`` over stdio."""
    command, *prefix = rir_command()
    args = [*prefix, *serve_args]
    if client == "claude-desktop":
        entry = {"command": command, "args": args}
        return ClientConfig(_json({"mcpServers": {SERVER_NAME: entry}}), _note(
            "Merge this into claude_desktop_config.json (Settings > Developer > Edit Config) "
            "and restart Claude Desktop.",
            "Claude Desktop does not pass your shell's environment to servers and cannot "
            "reference variables, so no engine key is included: without one the server "
            "uses your index and Google Lens. For a paid engine add \"env\": "
            "{\"SERPAPI_API_KEY\": \"...\"} with your real key (the file then holds it)."))
    if client == "cursor":
        entry = {"command": command, "args": args,
                 "env": {name: f"${{env:{name}}}" for name in ENGINE_KEYS}}
        return ClientConfig(_json({"mcpServers": {SERVER_NAME: entry}}), _note(
            "Save as ~/.cursor/mcp.json (or .cursor/mcp.json in a project), or merge the entry "
            "into it. Keys are read from the environment Cursor runs in (${env:NAME}); an "
            "unset one is simply not configured."))
    if client == "vscode":
        entry = {"type": "stdio", "command": command, "args": args}
        return ClientConfig(_json({"servers": {SERVER_NAME: entry}}), _note(
            "Save as .vscode/mcp.json, or merge the entry into it. The server inherits the "
            "environment VS Code was started from, engine keys included; none is written "
            "into the file."))
    if client == "langgraph":
        return ClientConfig(_LANGGRAPH.format(keys=ENGINE_KEYS, name=SERVER_NAME,
                                              command=command, args=args), _note(
            "Needs: pip install langchain-mcp-adapters langchain (and a model's package)."))
    if client == "llama-index":
        return ClientConfig(_LLAMA_INDEX.format(keys=ENGINE_KEYS, command=command,
                                                args=args), _note(
            "Needs: pip install llama-index-tools-mcp (and an LLM's package)."))
    raise ValueError(f"unknown client {client!r}; choose one of {', '.join(CLIENTS)}")


def _json(value: object) -> str:
    return json.dumps(value, indent=2)


def _note(*lines: str) -> str:
    return "\n".join(f"# {line}" for line in lines)


# Python snippets: the keys are passed by reference (os.environ), never written out.
_LANGGRAPH = '''\
import asyncio
import os

from langchain.agents import create_agent
from langchain_mcp_adapters.client import MultiServerMCPClient

KEYS = {keys!r}
client = MultiServerMCPClient({{{name!r}: {{
    "transport": "stdio",
    "command": {command!r},
    "args": {args!r},
    "env": {{name: os.environ[name] for name in KEYS if name in os.environ}},
}}}})


async def main() -> None:
    agent = create_agent("openai:gpt-4o", tools=await client.get_tools())
    state = await agent.ainvoke({{"messages": [
        ("user", "Where was https://example.org/photo.jpg published?")]}})
    print(state["messages"][-1].content)


asyncio.run(main())'''

_LLAMA_INDEX = '''\
import asyncio
import os

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.llms.openai import OpenAI
from llama_index.tools.mcp import BasicMCPClient, McpToolSpec

KEYS = {keys!r}
client = BasicMCPClient({command!r}, args={args!r},
                        env={{name: os.environ[name] for name in KEYS if name in os.environ}})


async def main() -> None:
    tools = await McpToolSpec(client=client).to_tool_list_async()
    agent = FunctionAgent(tools=tools, llm=OpenAI(model="gpt-4o"))
    print(await agent.run(user_msg="Who is in this photo? https://example.org/photo.jpg"))


asyncio.run(main())'''

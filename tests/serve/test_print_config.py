"""``rir serve --print-config CLIENT`` prints a configuration that works as printed (issue 22),
and error hints name only what that client can do on that transport."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from rir.demo import build_demo_index
from rir.errors import EngineBlockedError, InvalidImageError, UnsafeURLError
from rir.serve.error_replies import Audience, error_reply
from tests.docs.helpers import Block, undefined_names

RIR = Path(sys.executable).with_name("rir")


def _print_config(client: str, *args: str, cwd: Path, env: dict[str, str] | None = None
                  ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RIR), "serve", "--print-config", client, *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("print-config")
    build_demo_index(folder / "photos.rir").close()
    (folder / "pictures").mkdir()
    return folder


def test_the_claude_desktop_config_works_as_printed_with_the_official_client(
        index_dir: Path) -> None:
    printed = _print_config("claude-desktop", "--index", "photos.rir", "--allow-dir", "pictures",
                            cwd=index_dir)
    assert printed.returncode == 0, printed.stderr
    entry = json.loads(printed.stdout)["mcpServers"]["reverse-image-search"]
    assert entry["command"] == str(RIR.absolute())        # this venv's rir, not "rir" on PATH
    assert entry["args"] == ["serve", "--stdio", "--index", str(index_dir / "photos.rir"),
                             "--allow-dir", str(index_dir / "pictures")]
    assert "env" not in entry and "key" in printed.stderr  # no placeholder secret, a note

    async def talk() -> tuple[list[str], str]:
        server = StdioServerParameters(command=entry["command"], args=entry["args"],
                                       env=entry.get("env"), cwd="/")
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = [tool.name for tool in (await session.list_tools()).tools]
            refused = await session.call_tool("search_local_index", {"image": "notes.txt"})
            return tools, refused.content[0].text

    tools, refused = anyio.run(talk)
    assert {"reverse_image_search", "search_local_index"} <= set(tools)
    assert "this server reads no local files" not in refused   # --allow-dir was given
    assert "GET /v1/engines" not in refused


def test_cursor_references_keys_and_never_copies_them(index_dir: Path) -> None:
    import os

    secret = "3f9c2a7b1d0e4f6a8b9c0d1e"
    printed = _print_config("cursor", "--index", "photos.rir", cwd=index_dir,
                            env={**os.environ, "SERPAPI_API_KEY": secret})
    assert printed.returncode == 0, printed.stderr
    assert secret not in printed.stdout + printed.stderr
    env = json.loads(printed.stdout)["mcpServers"]["reverse-image-search"]["env"]
    assert env["SERPAPI_API_KEY"] == "${env:SERPAPI_API_KEY}"


def test_vscode_and_the_python_snippets(index_dir: Path) -> None:
    vscode = json.loads(_print_config("vscode", cwd=index_dir).stdout)
    assert vscode["servers"]["reverse-image-search"]["type"] == "stdio"
    for client in ("langgraph", "llama-index"):
        printed = _print_config(client, "--index", "photos.rir", cwd=index_dir)
        assert printed.returncode == 0, printed.stderr
        assert str(RIR.absolute()) in printed.stdout
        compile(printed.stdout, client, "exec")
        assert undefined_names([Block(index_dir / f"{client}.md", 1, printed.stdout, True)]) == []


def test_a_missing_index_is_refused_before_anything_is_printed(tmp_path: Path) -> None:
    printed = _print_config("claude-desktop", "--index", "nowhere.rir", cwd=tmp_path)
    assert printed.returncode == 2 and printed.stdout == ""
    assert "No index at nowhere.rir" in printed.stderr


def test_hints_name_what_the_client_can_do() -> None:
    blocked = EngineBlockedError("Google showed a captcha.", engine="google_lens")
    assert "GET /v1/engines" in error_reply(blocked).hint
    over_mcp = error_reply(blocked, Audience("mcp"))
    assert "rir://engines" in over_mcp.hint and "/v1/engines" not in over_mcp.hint
    bad = InvalidImageError("The bytes are not an image.")
    assert "reads no local files" in error_reply(bad, Audience("mcp")).hint
    with_dirs = error_reply(bad, Audience("mcp", local_files=True)).hint
    assert "reads no local files" not in with_dirs and "--allow-dir" in with_dirs
    unsafe = UnsafeURLError("Refusing URL 'http://10.0.0.1/a.jpg': its host resolves to "
                            "10.0.0.1, a private address. Pass allow_private_urls=True if you "
                            "trust this network.")
    for audience in (Audience(), Audience("mcp")):
        reply = error_reply(unsafe, audience)
        assert "allow_private_urls" not in reply.text()
        assert reply.detail.endswith("a private address.")

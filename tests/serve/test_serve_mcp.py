"""The MCP server through the official ``mcp`` client: over stdio (``rir serve --stdio`` as a
subprocess) and over streamable HTTP (uvicorn on a free port, ``/mcp``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ImageContent, TextContent

from rir.demo import available_demo_photos
from rir.inputs.images import QueryImage
from tests.serve.helpers import HOPPER_PAGE, stdio_command

pytestmark = pytest.mark.timeout(120)


@asynccontextmanager
async def stdio_session(*args: str) -> AsyncIterator[ClientSession]:
    command, argv, env = stdio_command(*args)
    params = StdioServerParameters(command=command, args=argv, env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(url: str, headers: dict[str, str] | None = None
                       ) -> AsyncIterator[ClientSession]:
    async with httpx.AsyncClient(headers=headers, timeout=30) as client, \
            streamable_http_client(f"{url}/mcp", http_client=client) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _text(result) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_stdio_tools_search_the_demo_index(demo_index_path, hopper_uri, tmp_path) -> None:
    allowed = tmp_path / "photos"
    allowed.mkdir()
    hopper_file = next(path for photo, path in available_demo_photos()
                       if photo.title == "Grace Hopper")
    inside = allowed / "hopper.jpg"
    shutil.copy(hopper_file, inside)
    async with stdio_session("--index", str(demo_index_path), "--allow-dir", str(allowed)) as s:
        tools = {tool.name: tool for tool in (await s.list_tools()).tools}
        assert set(tools) == {"reverse_image_search", "search_local_index"}
        search = tools["reverse_image_search"]
        assert search.annotations.readOnlyHint and search.annotations.openWorldHint
        assert not tools["search_local_index"].annotations.openWorldHint
        assert set(search.outputSchema["properties"]) >= {"best_guess", "engine", "query_sha256",
                                                         "hits", "complete"}
        assert str(allowed) in search.inputSchema["properties"]["image"]["description"]

        found = await s.call_tool("reverse_image_search", {"image": hopper_uri, "max_results": 3})
        assert not found.isError, _text(found)
        assert found.structuredContent["hits"][0]["url"] == HOPPER_PAGE
        assert found.structuredContent["best_guess"] == "Grace Hopper"
        assert _text(found).startswith("Reverse image search (local) found")

        by_path = await s.call_tool("search_local_index", {"image": str(inside)})
        assert not by_path.isError, _text(by_path)
        assert by_path.structuredContent["hits"][0]["url"] == HOPPER_PAGE

        outside = await s.call_tool("reverse_image_search", {"image": str(hopper_file)})
        assert outside.isError
        assert "outside the folders local images may be read from" in _text(outside)
        assert "Traceback" not in _text(outside) and "\n" not in _text(outside)

        broken = await s.call_tool("reverse_image_search", {"image": "data:image/png;base64,AA"})
        assert broken.isError and "InvalidImageError" in _text(broken)
        bad_count = await s.call_tool("reverse_image_search", {"image": hopper_uri,
                                                               "max_results": 0})
        assert bad_count.isError

        resource = await s.read_resource("rir://engines")
        engines = {e["name"]: e for e in json.loads(resource.contents[0].text)["engines"]}
        assert engines["local"]["configured"] and engines["local"]["default"]

        again = await s.call_tool("reverse_image_search", {"image": hopper_uri})
        assert not again.isError  # the server is still up after the errors


async def test_stdio_without_allow_dir_reads_no_files(demo_index_path) -> None:
    async with stdio_session("--index", str(demo_index_path)) as session:
        refused = await session.call_tool("reverse_image_search",
                                          {"image": str(demo_index_path)})
    assert refused.isError and "reads no local files" in _text(refused)


async def test_streamable_http_search_progress_and_thumbnails(serve_http, demo_index_path,
                                                              hopper: QueryImage,
                                                              hopper_uri) -> None:
    server = serve_http(index=demo_index_path, api_key="mcp-key-123456")
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with http_session(server.url, {"Authorization": "Bearer mcp-key-123456"}) as session:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert tools == {"reverse_image_search", "search_local_index"}
        found = await session.call_tool(
            "reverse_image_search", {"image": hopper_uri, "include_thumbnails": True},
            progress_callback=on_progress)
        by_path = await session.call_tool("reverse_image_search", {"image": "/etc/passwd"})
    assert not found.isError, _text(found)
    assert found.structuredContent["hits"][0]["url"] == HOPPER_PAGE
    assert found.structuredContent["query_sha256"] == hopper.sha256
    images = [block for block in found.content if isinstance(block, ImageContent)]
    hits_with_thumbnails = [h for h in found.structuredContent["hits"] if h["thumbnail_url"]]
    assert len(images) == len(hits_with_thumbnails) >= 1  # the index keeps data: thumbnails
    assert images[0].mimeType in ("image/jpeg", "image/png")
    assert "thumbnails could not be fetched" not in _text(found)
    assert [value for value, _ in progress] == sorted(value for value, _ in progress)
    assert progress and progress[-1][0] == 1.0
    assert by_path.isError and "reads no local files" in _text(by_path)


async def test_add_to_index_only_with_allow_write(serve_http, tmp_path: Path, hopper_uri) -> None:
    from rir.demo import build_demo_index

    index_path = tmp_path / "writable.rir"
    build_demo_index(index_path).close()
    server = serve_http(index=index_path, allow_write=True)
    async with http_session(server.url) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert not tools["add_to_index"].annotations.readOnlyHint
        added = await session.call_tool("add_to_index", {
            "image": hopper_uri, "title": "Grace Hopper at the Yale news",
            "url": "https://news.example/hopper"})
        found = await session.call_tool("search_local_index", {"image": hopper_uri,
                                                               "max_results": 5})
    assert not added.isError, _text(added)
    assert "https://news.example/hopper" in {h["url"] for h in found.structuredContent["hits"]}


def _bomb_uri() -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (10_000, 6_000)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


MCP_BAD_INPUTS = [
    ("not an image", {"image": "data:image/png;base64,PGh0bWw+"}, "InvalidImageError"),
    ("0 bytes", {"image": "data:image/png;base64,"}, "InvalidImageError"),
    ("decompression bomb", {"image": _bomb_uri()}, "ImageTooLargeError"),
    ("unsafe URL", {"image": "http://169.254.169.254/latest/meta-data"}, "UnsafeURLError"),
    ("file path", {"image": "/etc/passwd"}, "InvalidImageError"),
    ("oversized", {"image": "data:image/png;base64," + "A" * 420_000}, "ImageTooLargeError"),
    ("unknown engine", {"image": "data:image/png;base64,AA", "engine": "nope"},
     "ConfigurationError"),
    ("max_results too large", {"image": "data:image/png;base64,AA", "max_results": 51},
     "max_results"),
]


async def test_bad_input_is_a_one_line_tool_error_and_the_server_stays_up(
        serve_http, demo_index_path, hopper_uri) -> None:
    server = serve_http(index=demo_index_path, max_bytes=300_000)
    async with http_session(server.url) as session:
        for kind, arguments, expected in MCP_BAD_INPUTS:
            result = await session.call_tool("reverse_image_search", arguments)
            text = _text(result)
            assert result.isError, kind
            assert expected in text, (kind, text)
            assert "Traceback" not in text and "\n" not in text, (kind, text)
            again = await session.call_tool("reverse_image_search", {"image": hopper_uri})
            assert not again.isError and again.structuredContent["hits"][0]["url"] == HOPPER_PAGE


async def test_a_cancelled_search_frees_its_slot(serve_http, hopper_uri) -> None:
    import asyncio

    from tests.serve.helpers import GATE_ENGINE, GateEngine

    GateEngine.gate.clear()
    server = serve_http(engine=GATE_ENGINE, concurrency=1, max_queue=0)
    service = server.server.config.app.state.service
    headers = {"Accept": "application/json, text/event-stream"}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            opened = await client.post("/mcp", headers=headers, json={
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "test", "version": "0"}}})
            headers["mcp-session-id"] = opened.headers["mcp-session-id"]
            await client.post("/mcp", headers=headers,
                              json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            call = asyncio.create_task(client.post("/mcp", headers=headers, json={
                "jsonrpc": "2.0", "id": 7, "method": "tools/call",
                "params": {"name": "reverse_image_search", "arguments": {"image": hopper_uri}}}))
            for _ in range(500):
                limiter = service.limiter()
                if limiter is not None and limiter.in_use == 1:
                    break
                await asyncio.sleep(0.01)
            assert service.limiter().in_use == 1
            await client.post("/mcp", headers=headers, json={
                "jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": 7, "reason": "the user gave up"}})
            for _ in range(500):
                if service.limiter().in_use == 0:
                    break
                await asyncio.sleep(0.01)
            assert service.limiter().in_use == 0  # the search was cancelled, its slot freed
            call.cancel()
    finally:
        GateEngine.gate.set()


async def test_an_image_over_the_sdks_4_mib_body_limit_is_accepted(serve_http,
                                                                   demo_index_path) -> None:
    import base64
    import io

    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(7).integers(0, 255, (1300, 1300, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert len(uri) > 4 * 1024 * 1024  # the mcp SDK's default request body limit
    server = serve_http(index=demo_index_path)
    async with http_session(server.url) as session:
        result = await session.call_tool("search_local_index", {"image": uri})
    assert not result.isError, _text(result)
    assert result.structuredContent["hits"] == []  # noise matches no demo photo

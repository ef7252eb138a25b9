"""Region search through ``rir serve``: the MCP tools (official ``mcp`` client, streamable
HTTP) and ``POST /v1/search`` take ``region`` (0-1000 grid boxes, a list, or ``auto``); a bad
region is a 422 / tool error with the ``{error, detail, hint}`` shape, on one line."""

from __future__ import annotations

import httpx
import pytest
from mcp.types import TextContent

from rir.demo import demo_collage
from rir.errors import InvalidRegionError
from rir.serve.error_replies import error_reply
from tests.serve.test_serve_mcp import http_session

pytestmark = pytest.mark.timeout(120)

TITLES = ["Grace Hopper", "Falcon 9 launching DSCOVR"]


@pytest.fixture(scope="module")
def collage() -> tuple[str, list[list[int]]]:
    """The collage as a data URI, and the grid box of each photo in it."""
    image, regions = demo_collage(TITLES)
    grid = [[round(v * 1000 / size) for v, size in zip(r.box, (image.width, image.height) * 2,
                                                       strict=True)] for r in regions]
    return image.as_data_uri(), grid


def test_an_invalid_region_is_a_422_with_a_hint() -> None:
    reply = error_reply(InvalidRegionError("The region (0, 0, 2000, 10) on the 0-1000 grid ..."))
    assert reply.status == 422 and "0-1000 grid" in reply.hint


async def test_the_mcp_tool_searches_two_regions(serve_http, demo_index_path, collage) -> None:
    uri, grid = collage
    server = serve_http(index=demo_index_path)
    async with http_session(server.url) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        found = await session.call_tool("reverse_image_search",
                                        {"image": uri, "region": grid, "max_results": 3})
        bad = await session.call_tool("reverse_image_search",
                                      {"image": uri, "region": "0,0,2000,500"})
    schema = tools["reverse_image_search"].inputSchema["properties"]["region"]
    assert "0-1000 grid" in schema["description"] and "'auto'" in schema["description"]
    assert "region" in tools["search_local_index"].inputSchema["properties"]
    assert not found.isError
    body = found.structuredContent
    assert [(r["number"], r["origin"], r["label"]) for r in body["regions"]] == [
        (1, "given", "left half"), (2, "given", "right")]
    assert {h["title"]: h["regions"] for h in body["hits"]} == {
        "Grace Hopper": [1], "Falcon 9 launching DSCOVR": [2]}
    text = "\n".join(b.text for b in found.content if isinstance(b, TextContent))
    assert text.index("Region 1, left half") < text.index("Grace Hopper") \
        < text.index("Region 2, right") < text.index("Falcon 9 launching DSCOVR")
    [error] = [b.text for b in bad.content if isinstance(b, TextContent)]
    assert bad.isError and "InvalidRegionError: " in error and "\n" not in error
    assert "The grid goes from 0 to 1000" in error


def test_rest_search_takes_region_as_json_and_as_a_form_field(serve_http, demo_index_path,
                                                             collage) -> None:
    uri, grid = collage
    server = serve_http(index=demo_index_path)
    import base64

    data = base64.b64decode(uri.split(",", 1)[1])
    with httpx.Client(base_url=server.url, timeout=60) as client:
        auto = client.post("/v1/search", json={"data_uri": uri, "region": "auto", "k": 5})
        given = client.post("/v1/search", files={"file": ("c.jpg", data, "image/jpeg")},
                            data={"region": ";".join(",".join(map(str, b)) for b in grid)})
        bad = client.post("/v1/search", json={"data_uri": uri, "region": [900, 0, 100, 500]})
        plain = client.post("/v1/search", json={"data_uri": uri})
    assert auto.status_code == 200, auto.text
    assert auto.json()["regions"][0]["origin"] == "whole"
    assert {r["origin"] for r in auto.json()["regions"][1:]} == {"auto"}
    assert given.status_code == 200, given.text
    assert {h["title"] for h in given.json()["hits"]} >= set(TITLES)
    assert bad.status_code == 422
    assert set(bad.json()) == {"error", "detail", "hint"}
    assert bad.json()["error"] == "InvalidRegionError" and "inverted" in bad.json()["detail"]
    assert plain.json()["regions"] is None and "Region 1" not in plain.json()["text"]

"""The HTTP API on a real uvicorn on 127.0.0.1: searches, the error shape, and the guards.

Each kind of bad input gets its status and a one-line ``{error, detail, hint}``, and the
server answers the next good request; keys never appear in a response.
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from rir.errors import ConfigurationError
from rir.inputs.images import QueryImage
from rir.results.models import SearchResult
from tests.serve.helpers import GATE_ENGINE, HOPPER_PAGE, GateEngine

KEY = "test-key-7d1e0b5a9c"


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (10_000, 6_000)).save(buffer, "PNG")  # 60 MP in ~60 kB
    return buffer.getvalue()


def _assert_error_shape(response: httpx.Response, status: int, error: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "hint"}
    assert "\n" not in body["detail"] and "Traceback" not in body["detail"]
    assert body["hint"]
    if error is not None:
        assert body["error"] == error


@pytest.fixture
def server(serve_http, demo_index_path):
    return serve_http(index=demo_index_path, max_bytes=300_000)


def test_upload_json_and_data_uri_all_find_the_demo_page(server, hopper: QueryImage,
                                                         hopper_uri: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        uploaded = client.post("/v1/search", files={"file": ("q.jpg", hopper.data, "image/jpeg")},
                               data={"k": "3"})
        posted = client.post("/v1/search", json={"data_uri": hopper_uri, "k": 3})
    for response in (uploaded, posted):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["engine"] == "local"
        assert body["hits"][0]["url"] == HOPPER_PAGE
        assert body["best_guess"] == "Grace Hopper"
        assert body["query_sha256"] == hopper.sha256
        assert body["text"].startswith("Reverse image search (local) found")
        assert HOPPER_PAGE in body["text"]


def test_healthz_engines_and_openapi(server, monkeypatch) -> None:
    monkeypatch.setenv("SERPAPI_API_KEY", "serp-secret-value-123")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        engines = client.get("/v1/engines")
        spec = client.get("/openapi.json").json()
    assert "serp-secret-value-123" not in engines.text
    listed = {e["name"]: e for e in engines.json()["engines"]}
    assert listed["local"]["default"] and listed["local"]["configured"]
    assert listed["serpapi"]["configured"] and listed["serpapi"]["configured_by"] == [
        "SERPAPI_API_KEY"]
    assert {"/v1/search", "/v1/engines", "/healthz"} <= set(spec["paths"])
    assert "/v1/ask" not in spec["paths"]  # no model configured
    content = spec["paths"]["/v1/search"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} == set(content)


BAD_INPUTS = [
    ("not an image", {"files": {"file": ("a.jpg", b"<html>hello</html>", "image/jpeg")}},
     400, "InvalidImageError"),
    ("0 bytes", {"files": {"file": ("a.jpg", b"", "image/jpeg")}}, 400, "InvalidImageError"),
    ("decompression bomb", {"files": {"file": ("b.png", _bomb(), "image/png")}}, 413,
     "ImageTooLargeError"),
    ("unsafe URL", {"json": {"image_url": "http://169.254.169.254/latest/meta-data"}}, 400,
     "UnsafeURLError"),
    ("loopback URL", {"json": {"image_url": "http://127.0.0.1:9/x.jpg"}}, 400, "UnsafeURLError"),
    ("file path", {"json": {"image_url": "/etc/passwd"}}, 400, "InvalidImageError"),
    ("file URL", {"json": {"image_url": "file:///etc/passwd"}}, 400, "InvalidImageError"),
    ("oversized body", {"files": {"file": ("big.jpg", b"\xff" * 500_000, "image/jpeg")}}, 413,
     "RequestTooLarge"),
    ("oversized data URI", {"json": {"data_uri": "data:image/png;base64," + "A" * 420_000}},
     413, "ImageTooLargeError"),
    ("k zero", {"json": {"image_url": "https://example.org/a.jpg", "k": 0}}, 422,
     "ConfigurationError"),
    ("k huge", {"json": {"image_url": "https://example.org/a.jpg", "k": 10_000}}, 422,
     "ConfigurationError"),
    ("unknown engine", {"json": {"data_uri": "data:image/png;base64,AAAA", "engine": "nope"}},
     422, "ConfigurationError"),
    ("both images", {"json": {"image_url": "https://e.org/a.jpg", "data_uri": "data:,"}}, 422,
     "ConfigurationError"),
    ("unknown field", {"json": {"image_url": "https://e.org/a.jpg", "x": 1}}, 422,
     "ConfigurationError"),
    ("broken JSON", {"content": b"{oops", "headers": {"content-type": "application/json"}}, 400,
     "BadRequestBodyError"),
    ("JSON list", {"json": [1, 2]}, 422, "ConfigurationError"),
    ("no file part", {"files": {"other": ("a.jpg", b"x", "image/jpeg")}}, 422,
     "ConfigurationError"),
    ("plain text", {"content": b"hi", "headers": {"content-type": "text/plain"}}, 415,
     "UnsupportedMediaTypeError"),
]


@pytest.mark.parametrize(("kind", "request_kwargs", "status", "error"), BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gets_its_status_and_the_server_stays_up(server, hopper_uri, kind,
                                                          request_kwargs, status, error) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        _assert_error_shape(client.post("/v1/search", **request_kwargs), status, error)
        after = client.post("/v1/search", json={"data_uri": hopper_uri, "k": 1})
    assert after.status_code == 200 and after.json()["hits"][0]["url"] == HOPPER_PAGE


def test_framework_errors_use_the_same_shape(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        _assert_error_shape(client.get("/no/such/route"), 404)
        _assert_error_shape(client.get("/v1/search"), 405)


def test_the_api_key_guards_rest_and_mcp(serve_http, demo_index_path, hopper_uri) -> None:
    server = serve_http(index=demo_index_path, api_key=KEY)
    good = {"data_uri": hopper_uri, "k": 1}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        missing = client.post("/v1/search", json=good)
        wrong = client.post("/v1/search", json=good, headers={"X-API-Key": KEY + "x"})
        mcp = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        bearer = client.post("/v1/search", json=good, headers={"Authorization": f"Bearer {KEY}"})
        header = client.post("/v1/search", json=good, headers={"X-API-Key": KEY})
        health = client.get("/healthz")
    for response in (missing, wrong, mcp):
        _assert_error_shape(response, 401, "Unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
        assert KEY not in response.text
    assert bearer.status_code == header.status_code == health.status_code == 200
    assert KEY not in bearer.text


def test_several_keys_each_have_their_own_rate_limit(serve_http, demo_index_path) -> None:
    server = serve_http(index=demo_index_path, api_key="key-a-12345,key-b-67890",
                        rate_limit_per_minute=2)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        a = [client.get("/v1/engines", headers={"X-API-Key": "key-a-12345"}) for _ in range(3)]
        b = client.get("/v1/engines", headers={"X-API-Key": "key-b-67890"})
    assert [r.status_code for r in a] == [200, 200, 429]
    _assert_error_shape(a[2], 429, "RequestRateLimitedError")
    assert int(a[2].headers["retry-after"]) >= 1
    assert b.status_code == 200


def test_a_non_loopback_address_needs_a_key(demo_index_path) -> None:
    from rir.serve import ServeConfig, create_app

    with pytest.raises(ConfigurationError, match="RIR_API_KEY"):
        create_app(ServeConfig(host="0.0.0.0", index=demo_index_path))
    create_app(ServeConfig(host="0.0.0.0", index=demo_index_path, api_key=KEY))  # accepted


def test_dns_rebinding_and_foreign_origins_are_refused(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        rebound = client.get("/v1/engines", headers={"Host": "evil.example"})
        rebound_mcp = client.post("/mcp", json={}, headers={"Host": f"evil.example:{server.port}"})
        foreign = client.get("/v1/engines", headers={"Origin": "https://evil.example"})
        own = client.get("/v1/engines", headers={"Origin": server.url})
        loopback_name = client.get("/v1/engines", headers={"Host": f"localhost:{server.port}"})
    _assert_error_shape(rebound, 421, "InvalidHost")
    _assert_error_shape(rebound_mcp, 421, "InvalidHost")
    _assert_error_shape(foreign, 403, "ForbiddenOrigin")
    assert own.status_code == loopback_name.status_code == 200


def test_cors_is_off_unless_an_origin_is_given(serve_http, demo_index_path, server) -> None:
    allowed = serve_http(index=demo_index_path, cors_origins=("https://app.example",))
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    with httpx.Client(timeout=30) as client:
        on = client.options(f"{allowed.url}/v1/search", headers=preflight)
        off = client.get(f"{server.url}/v1/engines")
    assert on.status_code == 200
    assert on.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in off.headers


def test_a_saturated_engine_answers_503_with_retry_after(serve_http, hopper_uri) -> None:
    GateEngine.gate.clear()
    server = serve_http(engine=GATE_ENGINE, concurrency=1, max_queue=1)
    body = {"data_uri": hopper_uri}
    with httpx.Client(base_url=server.url, timeout=30) as client, \
            ThreadPoolExecutor(2) as pool:
        held = [pool.submit(client.post, "/v1/search", json=body) for _ in range(2)]
        deadline = time.monotonic() + 10
        while GateEngine.running < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the second request is queued behind the first
        busy = client.post("/v1/search", json=body)
        GateEngine.gate.set()
        done = [future.result(timeout=30) for future in held]
    _assert_error_shape(busy, 503, "ServerBusyError")
    assert int(busy.headers["retry-after"]) >= 1
    assert [r.status_code for r in done] == [200, 200]


def test_a_slow_search_ends_in_504(serve_http, hopper_uri) -> None:
    GateEngine.gate.clear()
    server = serve_http(engine=GATE_ENGINE, search_timeout_s=0.3)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            response = client.post("/v1/search", json={"data_uri": hopper_uri})
    finally:
        GateEngine.gate.set()
    _assert_error_shape(response, 504, "EngineTimeoutError")
    assert "0.3 s deadline" in response.json()["detail"]


class EchoAsker:
    """An Asker that answers from the search result (no model): what /v1/ask passes on."""

    async def aask(self, image: QueryImage, question: str, result: SearchResult) -> str:
        return f"{question} -> {result.best_guess} ({image.width}x{image.height})"


def test_ask_is_offered_only_with_a_model(serve_http, demo_index_path, hopper, hopper_uri
                                          ) -> None:
    server = serve_http(index=demo_index_path, asker=EchoAsker())
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/v1/ask", json={"data_uri": hopper_uri, "question": "Who?"})
        empty = client.post("/v1/ask", json={"data_uri": hopper_uri, "question": ""})
        upload = client.post("/v1/ask", files={"file": ("q.jpg", hopper.data, "image/jpeg")},
                             data={"question": "Who is it?"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["answer"] == f"Who? -> Grace Hopper ({hopper.width}x{hopper.height})"
    assert answer.json()["search"]["hits"][0]["url"] == HOPPER_PAGE
    _assert_error_shape(empty, 422, "ConfigurationError")
    assert upload.json()["answer"].startswith("Who is it? -> Grace Hopper")

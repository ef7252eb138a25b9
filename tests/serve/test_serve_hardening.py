"""The server against an attacker and an unlucky operator (issue 21): key settings that
must never open it, secrets that must never reach a log line, and client input that must
never get a 5xx, over REST and MCP's /mcp alike. Real servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rir.errors import ConfigurationError
from tests.serve.helpers import REPO, RunningServer, free_socket

KEY = "hardening-key-5f3a9c1e7b2d"
ENGINE_SECRET = "serp-engine-secret-8c4e2a"
FUZZ = int(os.environ.get("RIR_FUZZ_EXAMPLES", "0")) or None  # more examples: `make fuzz`


# -- 1. a key setting never opens the server ------------------------------------------------------

NO_USABLE_KEY = [",", " , ", ",,,", " ", "\t", "$A,$B", "$RIR_KEY", "${RIR_KEY}", "%RIR_KEY%",
                 "key with space", "ctrl\x00char", "tab\tinside", "caf\u00e9-key-123456789",
                 f"{KEY},$UNSET"]
WEAK_FOR_PUBLIC = ["x", "k", "short-key", "aaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababab",
                   f"{KEY},x"]


@pytest.mark.parametrize("value", NO_USABLE_KEY)
def test_a_key_setting_without_usable_keys_stops_the_server_on_any_host(value: str,
                                                                        demo_index_path) -> None:
    from rir.serve import ServeConfig, create_app

    for host in ("127.0.0.1", "0.0.0.0", "::"):
        with pytest.raises(ConfigurationError, match="RIR_API_KEY") as caught:
            create_app(ServeConfig(host=host, index=demo_index_path, api_key=value))
        for part in value.split(","):  # the message names entries, never their values
            if len(part.strip()) >= 3:
                assert part.strip() not in str(caught.value)


@pytest.mark.parametrize("value", WEAK_FOR_PUBLIC)
def test_a_weak_key_refuses_a_public_bind_and_still_guards_loopback(value: str,
                                                                    demo_index_path,
                                                                    serve_http) -> None:
    from rir.serve import ServeConfig, create_app

    for host in ("0.0.0.0", "192.0.2.10", "::", "example.org"):
        with pytest.raises(ConfigurationError, match=r"too weak|at least 16"):
            create_app(ServeConfig(host=host, index=demo_index_path, api_key=value))
    server = serve_http(index=demo_index_path, api_key=value)  # loopback: allowed, guarded
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/v1/engines").status_code == 401
        first = value.split(",")[0]
        assert client.get("/v1/engines", headers={"X-API-Key": first}).status_code == 200


def test_the_parse_and_the_bind_check_share_one_definition() -> None:
    from rir.serve.config import ServeConfig, parse_api_keys

    assert parse_api_keys(None) == parse_api_keys("") == ()
    assert parse_api_keys(f" {KEY} ,, other-key-1234567890 ,") == (KEY, "other-key-1234567890")
    config = ServeConfig(host="0.0.0.0", api_key=f"{KEY}, other-key-1234567890")
    assert config.api_keys == (KEY, "other-key-1234567890")
    config.check_bind()  # strong keys: accepted


def test_rir_serve_refuses_a_public_bind_for_a_bad_key_setting() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RIR_API_KEY": "$A,$B"}
    done = subprocess.run([sys.executable, "-c", "import sys; from rir.cli import main; "
                           "sys.exit(main())", "serve", "--host", "0.0.0.0", "--port", "1"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2 and done.stderr.startswith("rir: error:"), done.stderr
    assert "Uvicorn running" not in done.stderr


# -- 2. no secret in any log line ------------------------------------------------------------------

SECRET_PARAMS = ["api_key", "key", "KEY", "Api_Key", "apikey", "api-key", "token", "Token",
                 "access_token", "ACCESS_TOKEN", "refresh_token", "id_token", "password",
                 "Password", "passwd", "secret", "client_secret", "sig", "signature", "Signature",
                 "auth", "AUTH", "x-api-key", "X-Amz-Signature", "jwt", "credential",
                 # other spellings of the same names: camelCase, percent-encoded, array syntax
                 "apiKey", "clientSecret", "oauth_token", "X-Amz-Security-Token",
                 "AWSAccessKeyId", "api%5Fkey", "%61pi_key", "API_KEY[]", "private_key",
                 "session", "sessionid", "password2"]


def test_no_secret_reaches_any_line_of_the_server_log(tmp_path: Path, demo_index_path) -> None:
    log = tmp_path / "server.log"
    port = free_socket().getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "RIR_API_KEY": KEY,
           "SERPAPI_API_KEY": ENGINE_SECRET}
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", "import sys; from rir.cli import main; sys.exit(main())",
             "--debug", "serve", "--port", str(port), "--index", str(demo_index_path),
             "--no-cache"], stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, server)
            secrets = _send_secrets_everywhere(base)
        finally:
            server.terminate()
            server.wait(30)
    text = log.read_text()
    assert "GET /v1/engines" in text  # the access log was written ...
    for secret in [KEY, ENGINE_SECRET, *secrets]:
        assert secret not in text, f"{secret} leaked into the log"  # ... and holds no secret
    assert "***" in text


def _wait_until_up(base: str, server: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "rir serve exited"
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("rir serve did not start")


def _send_secrets_everywhere(base: str) -> list[str]:
    sent: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for number, name in enumerate(SECRET_PARAMS):
            secret = f"qs-secret-{number:02d}"
            sent.append(secret)
            client.get(f"/v1/engines?{name}={secret}&page=2")  # 401: no key header
            client.get(f"/v1/engines?x=1&{name}={secret}", headers={"X-API-Key": KEY})
        client.get(f"/v1/engines?api_key={KEY}")
        client.get("/v1/engines", headers={"Authorization": "Bearer wrong-bearer-secret-77"})
        sent.append("wrong-bearer-secret-77")
        nested = "http%3A%2F%2Fe.org%2F%3Ftoken%3Dnested-secret-99%26a%3D1"
        client.get(f"/no/such/route?u={nested}", headers={"X-API-Key": KEY})
        sent.append("nested-secret-99")
        client.post("/v1/search", headers={"X-API-Key": KEY},
                    json={"image_url": "https://user:pw-secret-55@127.0.0.1/a.jpg?sig=sig-66"})
        sent += ["pw-secret-55", "sig-66"]
    return sent


# -- 3. no 5xx for any client input ---------------------------------------------------------


@pytest.fixture(scope="module")
def hard_server(demo_index_path) -> Iterator[RunningServer]:
    from rir.serve import ServeConfig, create_app

    sock = free_socket()
    config = ServeConfig(port=sock.getsockname()[1], index=demo_index_path, cache=False,
                         rate_limit_per_minute=0, max_bytes=300_000, api_key=KEY)
    server = RunningServer(create_app(config), sock)
    yield server
    server.close()


def _json(raw: bytes) -> dict[str, Any]:
    return {"content": raw, "headers": {"content-type": "application/json"}}


def _multipart(raw: bytes, boundary: str = "b") -> dict[str, Any]:
    return {"content": raw,
            "headers": {"content-type": f"multipart/form-data; boundary={boundary}"}}


_FILE = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nxx\r\n'
CLIENT_INPUT = {
    "deep array": _json(b"[" * 100_000 + b"]" * 100_000),
    "deep object in a field": _json(b'{"image_url":' + b'{"a":' * 40 + b"1" + b"}" * 41),
    "100,000-digit k": _json(b'{"image_url":"https://e.org/a.jpg","k":' + b"9" * 100_000 + b"}"),
    "long float": _json(b'{"image_url":"https://e.org/a.jpg","k":1.' + b"0" * 5000 + b"}"),
    "exponent": _json(b'{"image_url":"https://e.org/a.jpg","k":1e999999}'),
    "NaN": _json(b'{"image_url":"https://e.org/a.jpg","k":NaN}'),
    "port 99999": {"json": {"image_url": "http://127.0.0.1:99999/a.jpg"}},
    "port 0": {"json": {"image_url": "http://example.org:0/a.jpg"}},
    "bad IPv6 literal": {"json": {"image_url": "http://[::1/a.jpg"}},
    "6to4 loopback": {"json": {"image_url": "http://[2002:7f00:1::]/"}},
    "IDNA empty label": {"json": {"image_url": "http://a..b/c.jpg"}},
    "NUL in host": {"json": {"image_url": "http://a\x00b.org/c.jpg"}},
    "lone surrogate": _json(b'{"image_url":"https://e.org/\\ud800.jpg"}'),
    "lone low surrogate key": _json(b'{"\\udc00":1}'),
    "invalid UTF-8": _json(b'{"image_url":"\xff\xfe"}'),
    "k true": {"json": {"image_url": "https://e.org/a.jpg", "k": True}},
    "k 5.0": {"json": {"image_url": "https://e.org/a.jpg", "k": 5.0}},
    "k string": {"json": {"image_url": "https://e.org/a.jpg", "k": "5"}},
    "huge array": {"json": {"image_url": list(range(200_000))}},
    "many keys": {"json": {f"x{i}": i for i in range(100_000)}},
    "duplicate keys": _json(b'{"image_url":"https://e.org/a.jpg","image_url":"http://10.0.0.1/"}'),
    "top-level string": {"json": "hello"},
    "empty body": _json(b""),
    "XML": {"content": b"<a/>", "headers": {"content-type": "application/xml"}},
    "no content type": {"content": b"{}"},
    "multipart without boundary": {"content": b"x",
                                   "headers": {"content-type": "multipart/form-data"}},
    "multipart garbage": _multipart(b"--b\r\nxx"),
    "multipart two files": {"files": [("file", ("a.jpg", b"x", "image/jpeg")),
                                      ("file", ("b.jpg", b"y", "image/jpeg"))]},
    "multipart k true": {"files": {"file": ("a.jpg", b"x", "image/jpeg")}, "data": {"k": "true"}},
    "multipart k 5000 digits": {"files": {"file": ("a.jpg", b"x", "image/jpeg")},
                                "data": {"k": "9" * 5000}},
    "multipart field twice": _multipart(
        _FILE + b'--b\r\nContent-Disposition: form-data; name="k"\r\n\r\n1\r\n'
        b'--b\r\nContent-Disposition: form-data; name="k"\r\n\r\n2\r\n--b--\r\n'),
    "multipart bad UTF-8 field": _multipart(
        _FILE + b'--b\r\nContent-Disposition: form-data; name="engine"\r\n\r\n\xff\r\n--b--\r\n'),
    "multipart many fields": {"files": {"file": ("a.jpg", b"x", "image/jpeg")},
                              "data": {f"f{i}": "1" for i in range(50)}},
    "long engine": {"json": {"image_url": "https://e.org/a.jpg", "engine": "x" * 5000}},
    # answered at once: the detail names the key, and the reply is built in linear time
    "200,000-character key": {"json": {"x" * 200_000: 1}},
    "200,000-character engine": {"json": {"image_url": "https://e.org/a.jpg",
                                          "engine": "y" * 200_000}},
    "blank image": {"json": {"image_url": "   "}},
}


def _client_error(response: httpx.Response, max_bytes: int = 2000) -> dict[str, str]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert len(response.content) <= max_bytes, len(response.content)
    body = response.json()
    assert set(body) == {"error", "detail", "hint"}, body
    assert "Traceback" not in response.text and "This is a bug" not in response.text
    assert KEY not in response.text
    return body


@pytest.mark.parametrize("kind", list(CLIENT_INPUT))
def test_no_client_input_gets_a_5xx_over_rest(hard_server: RunningServer, kind: str) -> None:
    with httpx.Client(base_url=hard_server.url, timeout=60, headers={"X-API-Key": KEY}) as client:
        _client_error(client.post("/v1/search", **CLIENT_INPUT[kind]))


def test_a_huge_invalid_request_gets_a_small_answer(hard_server: RunningServer) -> None:
    unknown = {f"unknown_field_{i}": i for i in range(60)} | {"image_url": "https://e.org/a"}
    with httpx.Client(base_url=hard_server.url, timeout=60, headers={"X-API-Key": KEY}) as client:
        body = _client_error(client.post("/v1/search", json=unknown), max_bytes=1500)
        big = _client_error(client.post("/v1/search", content=b"x" * 390_000,
                                        headers={"content-type": "application/json"}))
    assert "and 55 more" in body["detail"]
    assert big["error"] == "BadRequestBodyError"


def test_k_is_a_number_never_a_boolean(hard_server: RunningServer, hopper_uri: str) -> None:
    with httpx.Client(base_url=hard_server.url, timeout=60, headers={"X-API-Key": KEY}) as client:
        for k in (True, False, 1.0, "1", None, [1]):
            response = client.post("/v1/search", json={"data_uri": hopper_uri, "k": k})
            assert _client_error(response)["error"] == "ConfigurationError", k
        assert client.post("/v1/search", json={"data_uri": hopper_uri, "k": 1}).status_code == 200
        mcp = _mcp_session(client)
        reply = _mcp_call(client, mcp, {"image": hopper_uri, "max_results": True})
    assert reply["result"]["isError"] and "valid integer" in json.dumps(reply)


def _mcp_session(client: httpx.Client) -> dict[str, str]:
    headers = {"accept": "application/json, text/event-stream"}
    response = client.post("/mcp", headers=headers, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "hardening", "version": "1"}}})
    assert response.status_code == 200, response.text
    headers |= {"mcp-session-id": response.headers["mcp-session-id"],
                "mcp-protocol-version": "2025-06-18"}
    client.post("/mcp", headers=headers, json={"jsonrpc": "2.0",
                                               "method": "notifications/initialized"})
    return headers


def _mcp_call(client: httpx.Client, headers: dict[str, str], arguments: Any) -> dict[str, Any]:
    response = client.post("/mcp", headers=headers, json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "reverse_image_search", "arguments": arguments}})
    assert response.status_code == 200, response.text
    data = response.text.split("data: ", 1)[1] if "data: " in response.text else response.text
    return json.loads(data)


MCP_BODIES = {
    "deep nesting": b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":'
                    b'"reverse_image_search","arguments":{"image":' + b"[" * 20_000
                    + b"]" * 20_000 + b"}}}",
    "100,000-digit id": b'{"jsonrpc":"2.0","id":' + b"9" * 100_000 + b',"method":"ping"}',
    "lone surrogate": b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":'
                      b'"reverse_image_search","arguments":{"image":"\\ud800"}}}',
    "invalid UTF-8": b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":"\xff"}}',
    "not JSON": b"{oops",
    "NaN": b'{"jsonrpc":"2.0","id":NaN,"method":"ping"}',
    "duplicate keys": b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}',
}


@pytest.mark.parametrize("kind", list(MCP_BODIES))
def test_no_client_input_gets_a_5xx_over_mcp(hard_server: RunningServer, kind: str) -> None:
    with httpx.Client(base_url=hard_server.url, timeout=60, headers={"X-API-Key": KEY}) as client:
        headers = _mcp_session(client)
        response = client.post("/mcp", content=MCP_BODIES[kind],
                               headers=headers | {"content-type": "application/json"})
    _client_error(response)


def test_mcp_tool_arguments_of_any_shape_get_a_tool_error(hard_server: RunningServer) -> None:
    with httpx.Client(base_url=hard_server.url, timeout=60, headers={"X-API-Key": KEY}) as client:
        headers = _mcp_session(client)
        for arguments in ({"image": "http://127.0.0.1:99999/"}, {"image": "http://[::1/"},
                          {"image": list(range(30_000))}, {"image": "data:,", "max_results": 5.0},
                          {"image": "http://[64:ff9b::a9fe:a9fe]/"}, {"image": "x" * 200_000}):
            reply = _mcp_call(client, headers, arguments)
            text = reply["result"]["content"][0]["text"]
            assert reply["result"]["isError"] and len(text) <= 1200, text[:200]
            assert "Traceback" not in text and "InternalServerError" not in text


# -- the same as properties ------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20)
_fields = st.fixed_dictionaries({}, optional={
    "image_url": _json_values | st.sampled_from([
        "http://127.0.0.1:99999/", "http://[2002:a9fe:a9fe::]/", "https://e.org/a.jpg",
        "http://0x7f.1/", "file:///etc/passwd", "data:image/png;base64,AAAA", ""]),
    "data_uri": _json_values, "k": _json_values, "engine": _json_values,
    "question": _json_values})


def _assert_no_5xx(response: httpx.Response, *, mcp: bool = False) -> None:
    """No 5xx (but 503/504 under load), no traceback, no secret; an error in the server's
    shape, or on /mcp a JSON-RPC error object (the protocol's own, which MCP clients read)."""
    assert response.status_code < 500 or response.status_code in (503, 504), response.text[:300]
    assert "Traceback" not in response.text and KEY not in response.text
    assert ENGINE_SECRET not in response.text and len(response.content) <= 4000
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "detail", "hint"} or (
            mcp and set(body) == {"jsonrpc", "id", "error"} and body["error"]["code"] < 0), body


@pytest.fixture(scope="module")
def property_client(hard_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hard_server.url, timeout=60,
                      headers={"X-API-Key": KEY}) as client:
        yield client


@pytest.mark.fuzz
@given(body=_fields | _json_values)
@settings(max_examples=FUZZ or 60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_property_any_json_body_gets_a_4xx_or_an_answer(property_client: httpx.Client,
                                                        body: Any) -> None:
    _assert_no_5xx(property_client.post("/v1/search", json=body))


@pytest.mark.fuzz
@given(raw=st.binary(max_size=300), content_type=st.sampled_from([
    "application/json", "multipart/form-data; boundary=b", "multipart/form-data",
    "text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json", ""]))
@settings(max_examples=FUZZ or 60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_property_any_bytes_with_any_content_type_get_a_4xx(property_client: httpx.Client,
                                                            raw: bytes, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    _assert_no_5xx(property_client.post("/v1/search", content=raw, headers=headers))
    _assert_no_5xx(property_client.post("/mcp", content=raw, headers=headers | {
        "accept": "application/json, text/event-stream"}), mcp=True)

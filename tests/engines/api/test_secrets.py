"""No key, cookie or token in any log line (DEBUG included), error text, repr or cache file."""

from __future__ import annotations

import logging
import sqlite3
import traceback
import zlib
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

import rir
from rir.engines.cloud_vision import CloudVisionEngine
from rir.engines.fallback import FallbackEngine
from rir.engines.fusion import FusionEngine
from rir.engines.http import RateLimit, redact_text, scrub
from rir.engines.http.secrets import is_credential_param
from rir.engines.picimagesearch import PicImageSearchEngine
from rir.engines.serpapi import SerpApiLensEngine
from rir.errors import RIRError
from tests.engines.api.helpers import (
    COOKIE_VALUE,
    OAUTH_TOKEN,
    SECRETS,
    SERPAPI_KEY,
    VISION_KEY,
    Recorder,
    fixture_json,
    fixture_text,
    json_response,
)


def texts_of(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


def echoing_serpapi(request: httpx.Request) -> httpx.Response:
    """A misbehaving endpoint that echoes the request URL (and so the key) everywhere."""
    url = str(request.url)
    mode = request.url.params.get("q", "")
    if mode == "401":
        return json_response({"error": f"Invalid API key {SERPAPI_KEY} for {url}"}, 401)
    if mode == "html":
        return httpx.Response(502, text=f"<html><title>Bad gateway for {url}</title></html>")
    if mode == "timeout":
        raise httpx.ReadTimeout(f"timed out reading {url}")
    if mode == "reset":
        raise httpx.ReadError(f"connection reset while reading {url}")
    if mode == "garbage":
        return httpx.Response(200, text=f"not json {url}")
    if mode == "429":
        return json_response({"error": f"Too many requests for {url}"}, 429)
    doc = fixture_json("serpapi/lens_eiffel_all.json")
    doc["search_parameters"]["api_key"] = SERPAPI_KEY  # an echo we must not store
    doc["visual_matches"][0]["link"] = f"https://en.wikipedia.org/wiki/Eiffel_Tower?key={SERPAPI_KEY}"
    doc["visual_matches"][1]["title"] = f"Tour Eiffel {SERPAPI_KEY}"
    return json_response(doc)


async def test_nothing_secret_leaks_anywhere(url_image, local_image, fast_retry, tmp_path,
                                             caplog) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    serpapi_recorder = Recorder(echoing_serpapi)
    for mode in ("401", "html", "timeout", "reset", "garbage", "429"):
        engine = SerpApiLensEngine(api_key=SERPAPI_KEY, q=mode, retry=fast_retry,
                                   transport=serpapi_recorder.transport)
        with pytest.raises(RIRError) as caught:
            await engine.asearch(url_image)
        texts += texts_of(caught.value)
        texts += [repr(engine), str(engine.cache_key_options())]

    def vision(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-goog-api-key") == VISION_KEY:
            return json_response({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                            "message": f"API key {VISION_KEY} not valid.",
                                            "details": [{"reason": "API_KEY_INVALID"}]}}, 400)
        return json_response(fixture_json("cloud_vision/web_detection_golden_gate.json"))

    vision_engine = CloudVisionEngine(api_key=SecretStr(VISION_KEY), retry=fast_retry,
                                      transport=Recorder(vision).transport)
    with pytest.raises(RIRError) as caught:
        await vision_engine.asearch(local_image)
    texts += [*texts_of(caught.value), repr(vision_engine), repr(vision_engine._key)]

    class Credentials:
        token, valid, quota_project_id = None, False, None

        def refresh(self, request) -> None:
            self.token, self.valid = OAUTH_TOKEN, True

    adc_engine = CloudVisionEngine(credentials=Credentials(), retry=fast_retry,
                                   transport=Recorder(vision).transport)
    texts.append((await adc_engine.asearch(local_image)).model_dump_json())

    def yandex(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=f"<html>cookie was {request.headers.get('cookie')}</html>")

    pis = PicImageSearchEngine("yandex", cookies=f"Session_id={COOKIE_VALUE}",
                               transport=Recorder(yandex).transport, retry=fast_retry,
                               rate_limit=RateLimit(requests_per_second=None))
    with pytest.raises(RIRError) as caught:
        await pis.asearch(local_image)
    texts += [*texts_of(caught.value), repr(pis), str(pis.cache_key_options())]

    chain = FallbackEngine([
        SerpApiLensEngine(api_key=SERPAPI_KEY, q="401", transport=serpapi_recorder.transport,
                          retry=fast_retry),
        SerpApiLensEngine(api_key=SERPAPI_KEY, transport=serpapi_recorder.transport,
                          retry=fast_retry),
    ])
    cache_path = tmp_path / "c.sqlite3"
    searcher = rir.ReverseImageSearch(engine=chain, cache=cache_path)
    result = await searcher.asearch(url_image, k=10)
    assert result.metadata["answered_by"] == "serpapi" and result.failures
    texts += [result.model_dump_json(), repr(result), repr(chain), repr(searcher)]
    fusion = FusionEngine([SerpApiLensEngine(api_key=SERPAPI_KEY, q="429", retry=fast_retry,
                                             transport=serpapi_recorder.transport),
                           SerpApiLensEngine(api_key=SERPAPI_KEY, retry=fast_retry,
                                             transport=serpapi_recorder.transport)])
    texts.append((await fusion.asearch(url_image)).model_dump_json())
    searcher.close()

    texts.append(caplog.text)
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, text
    # the key did reach the providers (they need it), only our outputs are clean
    assert any(r.url.params.get("api_key") == SERPAPI_KEY for r in serpapi_recorder.requests)
    # httpx logs every request URL at INFO; the key in it is masked
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("api_key=***" in line for line in httpx_lines)

    stored = b"".join(p.read_bytes() for p in Path(tmp_path).glob("c.sqlite3*"))
    for row in sqlite3.connect(cache_path).execute("SELECT payload FROM results"):
        stored += zlib.decompress(row[0])
    assert b"Eiffel" in stored  # the result really is in the cache
    for secret in SECRETS:
        assert secret.encode() not in stored


def test_redaction_helpers() -> None:
    SerpApiLensEngine(api_key=SERPAPI_KEY)  # registers the key
    assert redact_text(f"GET /search?engine=x&api_key={SERPAPI_KEY}&q=1") == (
        "GET /search?engine=x&api_key=***&q=1")
    assert redact_text("see https://x.test/a?key=AIzaSomethingElse123") == (
        "see https://x.test/a?key=***")
    assert redact_text(f"body mentions {SERPAPI_KEY} plainly") == "body mentions *** plainly"
    assert redact_text("page_token=abc stays") == "page_token=abc stays"
    assert scrub({"a": [f"x{SERPAPI_KEY}", 3], SERPAPI_KEY: None}) == {"a": ["x***", 3],
                                                                       "***": None}


@pytest.mark.parametrize("name", [
    "api_key", "apiKey", "API-KEY", "api%5Fkey", "%61pi_key", "API_KEY[]", "x-goog-api-key",
    "clientSecret", "client_secret", "oauth_token", "accesstoken", "X-Amz-Security-Token",
    "AWSAccessKeyId", "X-Amz-Signature", "sig", "password2", "passwd", "private_key",
    "session", "sessionid", "jwt", "auth", "toKen", "ApiKEY", "PassWord"])
def test_every_spelling_of_a_credential_parameter_is_redacted(name: str) -> None:
    assert is_credential_param(name)
    assert redact_text(f"GET /a?q=1&{name}=v4lue-9&b=2 HTTP/1.1") == (
        f"GET /a?q=1&{name}=***&b=2 HTTP/1.1")
    nested = f"https://e.org/?u=https%3A%2F%2Fx.org%2F%3F{name}%3Dv4lue-9%26a%3D1"
    assert "v4lue-9" not in redact_text(nested)


@pytest.mark.timeout(20)  # a hang fails here instead of holding the whole run
def test_a_crafted_request_line_is_redacted_in_one_pass() -> None:
    """A client controls the request line uvicorn logs: URLs nested thousands deep or a
    60,000-character name must neither crash the log filter nor stall the server."""
    nested = "GET /v1/engines?u=" + "%3Fu%3D" * 8000 + "secret-9 HTTP/1.1"
    assert "secret-9" not in redact_text(nested)
    assert redact_text("/a?" + "x" * 60_000).endswith("x")
    assert redact_text("/a?" + "a=b&" * 10_000 + "token=t0ken-1").endswith("token=***")


@pytest.mark.parametrize("name", ["q", "page", "engine", "url", "keyword", "monkey",
                                  "passage", "author", "signal", "page_token", "nextPageToken"])
def test_ordinary_parameters_stay(name: str) -> None:
    assert not is_credential_param(name)
    assert redact_text(f"/a?{name}=v4lue-9") == f"/a?{name}=v4lue-9"


def test_a_third_party_logger_line_is_redacted(caplog) -> None:
    SerpApiLensEngine(api_key=SERPAPI_KEY)
    logging.getLogger("httpx").info("HTTP Request: GET %s", f"https://serpapi.com/x?api_key={SERPAPI_KEY}")
    assert caplog.records[-1].getMessage() == "HTTP Request: GET https://serpapi.com/x?api_key=***"


def test_yandex_fixture_is_not_a_secret_source() -> None:
    # the recorded pages used across these tests carry no test secret themselves
    for name in ("picimagesearch/yandex_sites.html", "serpapi/lens_eiffel_all.json"):
        text = fixture_text(name)
        assert not any(secret in text for secret in SECRETS)

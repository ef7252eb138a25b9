"""SerpApi Google Lens: mapping of recorded answers, image submission, every failure."""

from __future__ import annotations

import dataclasses
import html
import json

import httpx
import pytest

from rir.engines import get_engine
from rir.engines.http import (
    EngineAuthenticationError,
    EngineConnectionError,
    EngineQuotaExceededError,
    EngineRequestError,
    EngineResponseError,
    EngineServerError,
    EngineUnsupportedInputError,
    RetryPolicy,
)
from rir.engines.serpapi import SerpApiLensEngine, parse_lens_response
from rir.errors import ConfigurationError, EngineError, EngineRateLimitedError, EngineTimeoutError
from rir.inputs.images import load_image
from tests.engines.api.helpers import (
    PUBLIC_IMAGE_URL,
    SERPAPI_KEY,
    Recorder,
    fixture_json,
    json_response,
)


def engine_for(recorder: Recorder, retry: RetryPolicy, **options) -> SerpApiLensEngine:
    return SerpApiLensEngine(api_key=SERPAPI_KEY, transport=recorder.transport, retry=retry,
                             **options)


def expected_text(value: str) -> str:
    return " ".join(html.unescape(value).split())


async def test_maps_every_visual_match_knowledge_graph_and_related_content(
    url_image, fast_retry
) -> None:
    doc = fixture_json("serpapi/lens_eiffel_all.json")
    recorder = Recorder.sequence(json_response(doc))
    result = await engine_for(recorder, fast_retry).asearch(url_image, k=50)

    usable = [m for m in doc["visual_matches"] if m.get("link") or m.get("title")]
    assert len(result.hits) == len(usable) == 20
    for hit, match in zip(result.hits, usable, strict=True):
        assert hit.url == match["link"]
        assert hit.title == expected_text(match["title"])
        assert hit.thumbnail_url == match["thumbnail"]
        assert hit.image_url == match.get("image")
        assert hit.width == match.get("image_width")
        assert hit.height == match.get("image_height")
        assert hit.engine == "serpapi"
        assert hit.metadata["provider_position"] == match["position"]
    assert [h.position for h in result.hits] == list(range(1, 21))

    by_url = {h.url: h for h in result.hits}
    britannica = by_url["https://www.britannica.com/topic/Eiffel-Tower-Paris-France"]
    assert britannica.title == "Eiffel Tower | History, Height, & Facts | Britannica"
    guardian = by_url["https://www.theguardian.com/travel/2024/mar/31/eiffel-tower-135-years"]
    assert guardian.title == "Paris' iron lady turns 135: the tower's story"
    assert guardian.metadata["date"] == "Mar 31, 2024"
    japanese = result.hits[4]
    assert japanese.title == "エッフェル塔 - Wikipedia" and japanese.image_url is None
    assert japanese.width is None and japanese.height is None
    spanish = by_url["https://es.wikipedia.org/wiki/Torre_Eiffel"]
    assert spanish.source == "es.wikipedia.org"  # no "source" field: the domain stands in
    assert by_url["https://www.instagram.com/p/C5xYzAbCdEf/"].title == ""
    etsy = by_url["https://www.etsy.com/listing/1234567890/eiffel-tower-paris-poster-vintage"]
    assert etsy.match_type == "product"
    assert etsy.metadata["price"]["extracted_value"] == 18.99
    assert result.hits[0].match_type == "visual"

    assert result.best_guess == "Eiffel Tower"
    names = [e.name for e in result.entities]
    assert names == ["Eiffel Tower", "Champ de Mars", "Eiffel Tower", "Eiffel Tower at night",
                     "Tour Eiffel billets"]
    assert result.entities[0].type == "Tower in Paris, France"
    assert result.entities[0].url.startswith("https://www.google.com/search?q=Eiffel+Tower")
    assert result.entities[2].type == "related_search"
    assert result.page_url == doc["search_metadata"]["google_lens_url"]
    assert result.metadata["serpapi_id"] == doc["search_metadata"]["id"]
    assert "ai_overview" not in result.metadata  # only a page token: not followed


async def test_request_parameters_follow_the_options(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/lens_eiffel_all.json")))
    engine = engine_for(recorder, fast_retry, hl="fr", country="fr", q="at night",
                        type="visual_matches", no_cache=True)
    await engine.asearch(url_image, k=3)
    request = recorder.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/search.json"
    assert request.url.host == "serpapi.com"
    query = dict(request.url.params)
    assert query == {"engine": "google_lens", "url": PUBLIC_IMAGE_URL, "type": "visual_matches",
                     "hl": "fr", "country": "fr", "q": "at night", "no_cache": "true",
                     "api_key": SERPAPI_KEY}


async def test_default_type_all_is_not_sent(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/lens_eiffel_all.json")))
    await engine_for(recorder, fast_retry).asearch(url_image)
    assert "type" not in recorder.requests[0].url.params


async def test_auto_crop_is_off_unless_asked(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(*(json_response(fixture_json("serpapi/lens_eiffel_all.json"))
                                   for _ in range(2)))
    await engine_for(recorder, fast_retry).asearch(url_image)
    cropping = engine_for(recorder, fast_retry, auto_crop=True)
    await cropping.asearch(url_image)
    assert "auto_crop" not in recorder.requests[0].url.params
    assert recorder.requests[1].url.params["auto_crop"] == "true"
    assert cropping.cache_key_options()["auto_crop"] is True


def _upload_then_search(request: httpx.Request) -> httpx.Response:
    """SerpApi's Images API answers an upload, then the search answers the Eiffel tower."""
    if request.url.path == "/image":
        return json_response(fixture_json("serpapi/image_upload.json"))
    return json_response(fixture_json("serpapi/lens_eiffel_all.json"))


async def test_a_region_of_a_url_image_uploads_the_crop_not_the_url(url_image, fast_retry):
    from rir import Region, ReverseImageSearch

    recorder = Recorder(_upload_then_search)
    searcher = ReverseImageSearch(engine_for(recorder, fast_retry), cache=False)
    result = await searcher.asearch(url_image, k=3, region=Region.from_grid(0, 0, 500, 500))
    upload, search = recorder.requests
    assert upload.url.path == "/image" and "url" not in search.url.params
    assert search.url.params["image_id"] == "img_2f6c0d9e8b7a41c3a5e1"
    assert result.metadata["region"] == [0, 0, url_image.width // 2, url_image.height // 2]


async def test_exact_matches_when_asked_come_first_and_merge_duplicates(
    url_image, fast_retry
) -> None:
    visual = fixture_json("serpapi/lens_eiffel_all.json")
    exact = fixture_json("serpapi/lens_eiffel_exact.json")

    def handler(request: httpx.Request) -> httpx.Response:
        exact_tab = request.url.params.get("type") == "exact_matches"
        return json_response(exact if exact_tab else visual)

    recorder = Recorder(handler)
    engine = engine_for(recorder, fast_retry, exact_matches=True, q="tower")
    result = await engine.asearch(url_image, k=100)
    tabs = {r.url.params.get("type", "all"): r.url.params for r in recorder.requests}
    assert sorted(tabs) == ["all", "exact_matches"]
    assert tabs["all"]["q"] == "tower" and "q" not in tabs["exact_matches"]
    first = result.hits[0]
    assert first.match_type == "exact"
    assert first.url == exact["exact_matches"][0]["link"]
    assert (first.width, first.height) == (3024, 4032)  # from actual_image_width/height
    assert [h.match_type for h in result.hits[:12]] == ["exact"] * 12
    wikipedia = next(h for h in result.hits if h.url == "https://en.wikipedia.org/wiki/Eiffel_Tower")
    assert wikipedia.match_type == "exact"
    assert wikipedia.metadata["match_types"] == ["exact", "visual"]
    urls = [h.url for h in result.hits]
    assert len(urls) == len(set(urls))
    assert result.hits[4].title == "La tour Eiffel a 135 ans : l'histoire d'un monument"
    assert result.best_guess == "Eiffel Tower"
    assert engine.cache_key_options() == {"type": "all", "q": "tower", "exact_matches": True}


async def test_failed_exact_matches_tab_is_recorded_not_fatal(url_image, fast_retry) -> None:
    visual = fixture_json("serpapi/lens_eiffel_all.json")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("type") == "exact_matches":
            return httpx.Response(500, text="Internal Server Error")
        return json_response(visual)

    result = await engine_for(Recorder(handler), fast_retry, exact_matches=True).asearch(url_image)
    assert len(result.hits) == 10
    assert [f.engine for f in result.failures] == ["serpapi[exact_matches]"]
    assert result.failures[0].error_type == "EngineServerError"


async def test_type_exact_matches_maps_exact_tab(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/lens_eiffel_exact.json")))
    result = await engine_for(recorder, fast_retry, type="exact_matches").asearch(url_image, k=20)
    assert len(result.hits) == 12 and {h.match_type for h in result.hits} == {"exact"}
    assert recorder.requests[0].url.params["type"] == "exact_matches"
    assert result.hits[7].title == "巴黎铁塔 - 维基百科，自由的百科全书"
    assert result.hits[8].width is None  # actual_image_width missing


@pytest.mark.parametrize("name", ["serpapi/lens_no_results.json",
                                  "serpapi/lens_ai_overview_only.json"])
async def test_no_results_and_ai_overview_only_are_empty_results(name, url_image, fast_retry):
    recorder = Recorder.sequence(json_response(fixture_json(name)))
    result = await engine_for(recorder, fast_retry).asearch(url_image)
    assert result.hits == [] and result.entities == [] and result.best_guess is None
    assert result.engine == "serpapi"
    assert recorder.count == 1  # "no results" is an answer, not an error to retry


async def test_inline_ai_overview_gives_best_guess_and_text(url_image, fast_retry) -> None:
    doc = fixture_json("serpapi/lens_ai_overview_inline.json")
    recorder = Recorder.sequence(json_response(doc))
    result = await engine_for(recorder, fast_retry).asearch(url_image)
    assert result.best_guess == "Eiffel Tower"
    assert len(result.hits) == 3
    overview = result.metadata["ai_overview"]
    assert "wrought-iron lattice tower" in overview and "<b>" not in overview
    assert "Gustave Eiffel's company" in overview


async def test_local_image_is_uploaded_then_searched_by_image_id(local_image, fast_retry):
    recorder = Recorder(_upload_then_search)
    result = await engine_for(recorder, fast_retry).asearch(local_image, k=5)
    upload, search = recorder.requests
    assert upload.method == "POST" and upload.url.path == "/image"
    assert "api_key" not in upload.url.params  # the key travels in the form body
    body = upload.content
    assert b'name="api_key"' in body and SERPAPI_KEY.encode() in body
    assert b'name="image"; filename="image.jpg"' in body
    assert local_image.data in body
    assert search.url.params["image_id"] == "img_2f6c0d9e8b7a41c3a5e1"
    assert "url" not in search.url.params
    assert len(result.hits) == 5


async def test_large_local_image_is_downscaled_to_the_upload_limit(big_jpeg_bytes, fast_retry):
    image = load_image(big_jpeg_bytes)
    sizes = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/image":
            sizes.append(len(request.content))
            return json_response({"image_id": "img_small"})
        return json_response(fixture_json("serpapi/lens_no_results.json"))

    await engine_for(Recorder(handler), fast_retry).asearch(image)
    assert sizes and sizes[0] < 500_000 + 2_000  # the file plus multipart framing


async def test_private_url_is_uploaded_rather_than_passed(local_image, fast_retry) -> None:
    image = dataclasses.replace(local_image, url="http://127.0.0.1:8000/cat.jpg")
    recorder = Recorder(lambda r: json_response(
        {"image_id": "img_1"} if r.url.path == "/image" else
        fixture_json("serpapi/lens_no_results.json")))
    await engine_for(recorder, fast_retry).asearch(image)
    assert [r.url.path for r in recorder.requests] == ["/image", "/search.json"]


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_image_host_hook_supplies_the_url(local_image, fast_retry, asynchronous) -> None:
    hosted = "https://cdn.example.org/uploads/abc123.jpg"
    seen = []

    def host(image):
        seen.append(image.sha256)
        return hosted

    async def async_host(image):
        return host(image)

    recorder = Recorder.sequence(json_response(fixture_json("serpapi/lens_no_results.json")))
    engine = engine_for(recorder, fast_retry, image_host=async_host if asynchronous else host)
    await engine.asearch(local_image)
    assert seen == [local_image.sha256]
    assert recorder.requests[0].url.params["url"] == hosted


async def test_without_upload_or_host_a_local_file_is_refused_clearly(local_image, fast_retry):
    recorder = Recorder.sequence(json_response({}))
    engine = engine_for(recorder, fast_retry, upload=False)
    with pytest.raises(EngineUnsupportedInputError) as caught:
        await engine.asearch(local_image)
    message = str(caught.value)
    assert "public image URL" in message and "image_host" in message and "upload=True" in message
    assert isinstance(caught.value, ConfigurationError) and isinstance(caught.value, EngineError)
    assert recorder.count == 0


async def test_image_host_returning_garbage_is_a_configuration_error(local_image, fast_retry):
    engine = engine_for(Recorder.sequence(json_response({})), fast_retry,
                        image_host=lambda image: "not a url")
    with pytest.raises(ConfigurationError, match="image_host must return an http"):
        await engine.asearch(local_image)


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "error", "pattern"),
    [
        (httpx.Response(200, text='{"search_metadata": {"status": "Succ'), EngineResponseError,
         "invalid JSON"),
        (httpx.Response(200, text="<!DOCTYPE html><html><head><title>Attention Required! | "
                                  "Cloudflare</title></head><body>blocked</body></html>",
                        headers={"content-type": "text/html"}),
         EngineResponseError, "HTML page titled 'Attention Required! | Cloudflare'"),
        (json_response({"unexpected": True, "data": []}), EngineResponseError,
         "not a Google Lens result"),
        (json_response([1, 2, 3]), EngineResponseError, "JSON list"),
        (httpx.Response(200, content=b""), EngineResponseError, "empty response"),
        (json_response(fixture_json("serpapi/error_invalid_key.json"), 401),
         EngineAuthenticationError, "Invalid API key.*SERPAPI_API_KEY"),
        (json_response({"error": "Your account has been disabled."}, 403),
         EngineAuthenticationError, "HTTP 403"),
        (json_response(fixture_json("serpapi/error_missing_url.json"), 400), EngineRequestError,
         "Missing `url`"),
    ],
)
async def test_bad_answers_map_to_typed_errors(url_image, fast_retry, response, error, pattern):
    recorder = Recorder.sequence(response)
    with pytest.raises(error, match=pattern) as caught:
        await engine_for(recorder, fast_retry).asearch(url_image)
    assert caught.value.engine == "serpapi"
    assert recorder.count == 1  # none of these is worth a retry
    assert SERPAPI_KEY not in str(caught.value)


async def test_out_of_searches_is_a_quota_error_without_retry(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/error_out_of_searches.json"),
                                               429))
    with pytest.raises(EngineQuotaExceededError, match="run out of searches") as caught:
        await engine_for(recorder, fast_retry).asearch(url_image)
    assert isinstance(caught.value, EngineRateLimitedError)
    assert recorder.count == 1


async def test_429_then_success_answers_after_one_retry(url_image, fast_retry, sleeps) -> None:
    recorder = Recorder.sequence(
        json_response({"error": "Too many requests"}, 429, **{"Retry-After": "3"}),
        json_response(fixture_json("serpapi/lens_eiffel_all.json")),
    )
    result = await engine_for(recorder, fast_retry).asearch(url_image)
    assert len(result.hits) == 10 and recorder.count == 2 and sleeps.waits == [3.0]


async def test_429_until_give_up(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response({"error": "Too many requests"}, 429))
    with pytest.raises(EngineRateLimitedError, match="gave up after 3 attempts"):
        await engine_for(recorder, fast_retry).asearch(url_image)
    assert recorder.count == 3


async def test_5xx_is_retried_then_raised(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/error_try_again.json"), 503))
    with pytest.raises(EngineServerError, match="try again later"):
        await engine_for(recorder, fast_retry).asearch(url_image)
    assert recorder.count == 3


async def test_error_with_status_200_asking_to_retry_is_retried(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(
        json_response(fixture_json("serpapi/error_try_again.json")),
        json_response(fixture_json("serpapi/lens_eiffel_all.json")),
    )
    result = await engine_for(recorder, fast_retry).asearch(url_image)
    assert recorder.count == 2 and result.hits


async def test_other_error_text_with_status_200_is_an_engine_error(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response({"search_metadata": {"status": "Error"},
                                                "error": "Unsupported `xx` country."}))
    with pytest.raises(EngineError, match="Unsupported `xx` country"):
        await engine_for(recorder, fast_retry).asearch(url_image)


async def test_timeout_and_connection_reset(url_image, fast_retry) -> None:
    with pytest.raises(EngineTimeoutError):
        await engine_for(Recorder.sequence(httpx.ReadTimeout("timed out")),
                         fast_retry).asearch(url_image)
    reset = Recorder.sequence(httpx.RemoteProtocolError("Server disconnected"),
                              json_response(fixture_json("serpapi/lens_eiffel_all.json")))
    result = await engine_for(reset, fast_retry).asearch(url_image)
    assert reset.count == 2 and result.hits
    with pytest.raises(EngineConnectionError):
        await engine_for(Recorder.sequence(httpx.ConnectError("[Errno 111] Connection refused")),
                         fast_retry).asearch(url_image)


async def test_served_from_127_0_0_1_through_base_url(api_server, url_image, fast_retry):
    doc = fixture_json("serpapi/lens_eiffel_all.json")
    api_server.add("/search.json", json.dumps(doc), "application/json")
    engine = SerpApiLensEngine(api_key=SERPAPI_KEY, base_url=api_server.base_url,
                               retry=fast_retry)
    result = await engine.asearch(url_image, k=30)
    await engine.aclose()
    assert len(result.hits) == 20
    assert api_server.requests[0].query["api_key"] == [SERPAPI_KEY]


# -- configuration -----------------------------------------------------------------------------


def test_key_is_required_and_read_from_the_environment(monkeypatch) -> None:
    with pytest.raises(ConfigurationError, match="SERPAPI_API_KEY"):
        SerpApiLensEngine()
    monkeypatch.setenv("SERPAPI_API_KEY", SERPAPI_KEY)
    engine = get_engine("serpapi", hl="en")
    assert isinstance(engine, SerpApiLensEngine)
    assert SERPAPI_KEY not in repr(engine) and SERPAPI_KEY not in str(engine.cache_key_options())
    assert engine.cache_key_options() == {"hl": "en", "type": "all"}


@pytest.mark.parametrize("options", [{"type": "shopping"}, {"type": "exact_matches", "q": "red"},
                                     {"hl": ""}, {"base_url": "serpapi.com"},
                                     {"image_host": "https://host"}])
def test_bad_options_are_configuration_errors(options) -> None:
    with pytest.raises(ConfigurationError):
        SerpApiLensEngine(api_key=SERPAPI_KEY, **options)


def test_parse_rejects_non_lens_documents() -> None:
    with pytest.raises(EngineResponseError):
        parse_lens_response({"organic_results": []})
    empty = parse_lens_response({"search_metadata": {"status": "Success"}})
    assert empty.hits == []

"""Google Cloud Vision web detection: mapping, request shape, credentials, every failure."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from rir.engines import get_engine
from rir.engines.cloud_vision import CloudVisionEngine, adc_available, parse_web_detection
from rir.engines.http import (
    EngineAuthenticationError,
    EngineConnectionError,
    EngineQuotaExceededError,
    EngineResponseError,
    EngineServerError,
    RetryPolicy,
)
from rir.errors import (
    ConfigurationError,
    EngineRateLimitedError,
    EngineTimeoutError,
    InvalidImageError,
)
from rir.inputs.images import load_image
from tests.engines.api.helpers import (
    OAUTH_TOKEN,
    VISION_KEY,
    Recorder,
    fixture_json,
    json_response,
)

GOLDEN_GATE = "cloud_vision/web_detection_golden_gate.json"
EMPTY = "cloud_vision/web_detection_empty.json"


def engine_for(recorder: Recorder, retry: RetryPolicy, **options) -> CloudVisionEngine:
    return CloudVisionEngine(api_key=VISION_KEY, transport=recorder.transport, retry=retry,
                             **options)


async def test_maps_pages_matching_images_similar_images_entities_and_best_guess(
    local_image, fast_retry
) -> None:
    doc = fixture_json(GOLDEN_GATE)
    web = doc["responses"][0]["webDetection"]
    result = await engine_for(Recorder.sequence(json_response(doc)), fast_retry).asearch(
        local_image, k=100)

    pages = web["pagesWithMatchingImages"]
    page_hits = result.hits[: len(pages)]
    assert [h.url for h in page_hits] == [p["url"] for p in pages]
    assert page_hits[0].title == "Golden Gate Bridge - Wikipedia"
    assert page_hits[1].title == "Golden Gate Bridge | History, Construction, & Facts | Britannica"
    assert page_hits[4].title == "ゴールデン・ゲート・ブリッジ - Wikipedia"
    assert page_hits[5].title == "The Golden Gate Bridge at sunset — San Francisco, CA | Flickr"
    assert page_hits[6].title == "Visitor's Guide to the Golden Gate Bridge | San Francisco Travel"
    assert page_hits[7].title == ""  # an empty pageTitle stays empty
    assert all("<" not in h.title and "&amp;" not in h.title for h in page_hits)
    assert page_hits[0].match_type == "exact"  # the page holds a full match
    assert page_hits[0].image_url == pages[0]["fullMatchingImages"][0]["url"]
    assert page_hits[1].image_url == pages[1]["partialMatchingImages"][0]["url"]
    assert page_hits[3].metadata["partial_matching_images"] == [
        pages[3]["partialMatchingImages"][0]["url"]]
    assert page_hits[8].match_type == "visual"  # no matching image listed for that page
    assert page_hits[0].score == 1.2 and page_hits[2].score is None
    assert page_hits[0].source == "en.wikipedia.org"

    rest = result.hits[len(pages):]
    full = [h.image_url for h in rest if h.metadata["vision_match"] == "full"]
    partial = [h.image_url for h in rest if h.metadata["vision_match"] == "partial"]
    similar = [h for h in rest if h.match_type == "similar"]
    assert full == [i["url"] for i in web["fullMatchingImages"]]
    assert partial == [i["url"] for i in web["partialMatchingImages"]]
    assert {h.match_type for h in rest[: len(full) + len(partial)]} == {"exact"}
    assert [h.image_url for h in similar] == [i["url"] for i in web["visuallySimilarImages"][:4]]
    assert all(h.url is None for h in rest)  # images, not pages: nothing invented

    assert result.best_guess == "golden gate bridge"
    assert [(e.name, e.score) for e in result.entities][:2] == [
        ("Golden Gate Bridge", 1.4651), ("San Francisco", 0.9081)]
    assert len(result.entities) == 6  # the entity with only an id is skipped
    assert result.metadata["web_entity_ids"][0] == "/m/035p3"


async def test_request_sends_bytes_inline_and_the_key_in_a_header(local_image, fast_retry):
    recorder = Recorder.sequence(json_response(fixture_json(EMPTY)))
    engine = engine_for(recorder, fast_retry, include_geo_results=True, language_hints=["en"])
    await engine.asearch(local_image, k=15)
    request = recorder.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://vision.googleapis.com/v1/images:annotate"
    assert request.headers["x-goog-api-key"] == VISION_KEY
    assert "key" not in request.url.params
    body = json.loads(request.content)
    (item,) = body["requests"]
    assert base64.b64decode(item["image"]["content"]) == local_image.data
    assert item["features"] == [{"type": "WEB_DETECTION", "maxResults": 30}]
    assert item["imageContext"] == {"webDetectionParams": {"includeGeoResults": True},
                                    "languageHints": ["en"]}
    assert engine.cache_key_options() == {"include_geo_results": True, "language_hints": ["en"]}


async def test_large_images_are_downscaled_before_sending(big_jpeg_bytes, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json(EMPTY)))
    await engine_for(recorder, fast_retry, max_image_side=640).asearch(load_image(big_jpeg_bytes))
    sent = base64.b64decode(json.loads(recorder.requests[0].content)["requests"][0]["image"]
                            ["content"])
    image = load_image(sent)
    assert max(image.width, image.height) == 640


async def test_empty_answer_is_an_empty_result(local_image, fast_retry) -> None:
    result = await engine_for(Recorder.sequence(json_response(fixture_json(EMPTY))),
                              fast_retry).asearch(local_image)
    assert result.hits == [] and result.best_guess is None and result.entities == []


async def test_labels_without_pages(local_image, fast_retry) -> None:
    doc = fixture_json("cloud_vision/web_detection_labels_only.json")
    result = await engine_for(Recorder.sequence(json_response(doc)), fast_retry).asearch(
        local_image)
    assert result.hits == [] and result.best_guess == "tabby cat"
    assert [e.name for e in result.entities] == ["Animal"]


@pytest.mark.parametrize(
    ("response", "error", "pattern", "attempts"),
    [
        (json_response(fixture_json("cloud_vision/error_api_key_invalid.json"), 400),
         EngineAuthenticationError, "API key not valid", 1),
        (json_response(fixture_json("cloud_vision/error_service_disabled.json"), 403),
         EngineAuthenticationError, "has not been used in project", 1),
        (json_response({"error": {"code": 401, "message": "Request had invalid authentication "
                                  "credentials.", "status": "UNAUTHENTICATED"}}, 401),
         EngineAuthenticationError, "invalid authentication", 1),
        (json_response(fixture_json("cloud_vision/error_rate_limited.json"), 429),
         EngineRateLimitedError, "Requests per minute", 3),
        (json_response(fixture_json("cloud_vision/error_daily_quota.json"), 429),
         EngineQuotaExceededError, "per day", 1),
        (json_response(fixture_json("cloud_vision/error_unavailable_image.json")),
         EngineServerError, "currently unavailable", 3),
        (httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>"),
         EngineServerError, "502 Bad Gateway", 3),
        (json_response({"kind": "something else"}), EngineResponseError, "no 'responses'", 1),
        (httpx.Response(200, text="{\"responses\": [{\"webDetection\": {"), EngineResponseError,
         "invalid JSON", 1),
        (httpx.Response(200, text="<html><head><title>Sign in - Google Accounts</title></head>"),
         EngineResponseError, "instead of JSON", 1),
        (httpx.ReadTimeout("timed out"), EngineTimeoutError, "did not answer", 3),
        (httpx.ReadError("Connection reset by peer"), EngineConnectionError, "reset", 3),
    ],
)
async def test_failures_map_to_typed_errors(local_image, fast_retry, response, error, pattern,
                                            attempts) -> None:
    recorder = Recorder.sequence(response)
    with pytest.raises(error, match=pattern) as caught:
        await engine_for(recorder, fast_retry).asearch(local_image)
    assert recorder.count == attempts
    assert VISION_KEY not in str(caught.value)


async def test_bad_image_data_is_an_input_error(local_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("cloud_vision/error_bad_image.json")))
    with pytest.raises(InvalidImageError, match="Bad image data"):
        await engine_for(recorder, fast_retry).asearch(local_image)


async def test_429_then_success(local_image, fast_retry, sleeps) -> None:
    recorder = Recorder.sequence(
        json_response(fixture_json("cloud_vision/error_rate_limited.json"), 429,
                      **{"Retry-After": "5"}),
        json_response(fixture_json(GOLDEN_GATE)),
    )
    result = await engine_for(recorder, fast_retry).asearch(local_image)
    assert recorder.count == 2 and sleeps.waits == [5.0] and result.best_guess


class FakeCredentials:
    """Stands in for a google-auth Credentials object (same attributes and refresh())."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.valid = False
        self.quota_project_id = "my-billing-project"
        self.refreshes = 0

    def refresh(self, request) -> None:
        self.refreshes += 1
        self.token, self.valid = OAUTH_TOKEN, True


async def test_credentials_object_is_used_when_there_is_no_key(local_image, fast_retry):
    credentials = FakeCredentials()
    recorder = Recorder.sequence(json_response(fixture_json(GOLDEN_GATE)))
    engine = CloudVisionEngine(credentials=credentials, transport=recorder.transport,
                               retry=fast_retry)
    await engine.asearch(local_image)
    await engine.asearch(local_image)
    assert credentials.refreshes == 1  # a valid token is reused
    request = recorder.requests[0]
    assert request.headers["authorization"] == f"Bearer {OAUTH_TOKEN}"
    assert request.headers["x-goog-user-project"] == "my-billing-project"
    assert "x-goog-api-key" not in request.headers


def test_no_credentials_is_a_configuration_error_naming_the_options() -> None:
    with pytest.raises(ConfigurationError) as caught:
        CloudVisionEngine()
    message = str(caught.value)
    assert "GOOGLE_CLOUD_VISION_API_KEY" in message and "application-default" in message
    with pytest.raises(ConfigurationError):
        CloudVisionEngine(use_adc=False)


def test_key_from_environment_and_adc_detection(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_VISION_API_KEY", VISION_KEY)
    engine = get_engine("cloud_vision")
    assert VISION_KEY not in repr(engine)
    monkeypatch.delenv("GOOGLE_CLOUD_VISION_API_KEY")
    assert not adc_available()
    key_file = tmp_path / "sa.json"
    key_file.write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    assert adc_available()
    assert isinstance(CloudVisionEngine(), CloudVisionEngine)  # ADC is resolved lazily
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    gcloud = tmp_path / "gcloud"
    gcloud.mkdir()
    (gcloud / "application_default_credentials.json").write_text("{}")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(gcloud))
    assert adc_available()


async def test_unusable_adc_file_is_an_authentication_error(monkeypatch, tmp_path, local_image,
                                                            fast_retry) -> None:
    key_file = tmp_path / "broken.json"
    key_file.write_text('{"type": "nonsense"}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    recorder = Recorder.sequence(json_response({}))
    engine = CloudVisionEngine(transport=recorder.transport, retry=fast_retry)
    with pytest.raises(EngineAuthenticationError, match="Application Default Credentials"):
        await engine.asearch(local_image)
    assert recorder.count == 0


def test_parse_tolerates_missing_and_odd_fields() -> None:
    result = parse_web_detection({"responses": [{"webDetection": {
        "pagesWithMatchingImages": [{"pageTitle": "no url"}, {"url": "ftp://x"},
                                    {"url": "https://ok.example/page", "score": "0.5"}],
        "visuallySimilarImages": "not a list",
        "bestGuessLabels": [{"label": "  "}, {"label": "second"}],
    }}]})
    assert [h.url for h in result.hits] == ["https://ok.example/page"]
    assert result.hits[0].score == 0.5 and result.best_guess == "second"

"""The PicImageSearch adapter: each provider's recorded pages, normalisation, failure mapping."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from rir.engines import get_engine
from rir.engines.http import EngineResponseError, RateLimit, RetryPolicy
from rir.engines.picimagesearch import PicImageSearchEngine
from rir.errors import ConfigurationError, EngineBlockedError, EngineRateLimitedError
from tests.engines.api.helpers import (
    COOKIE_VALUE,
    Recorder,
    fixture_json,
    fixture_text,
    json_response,
)


def engine_for(provider: str, recorder: Recorder, retry: RetryPolicy, **options):
    engine = get_engine(f"picimagesearch:{provider}", transport=recorder.transport, retry=retry,
                        rate_limit=RateLimit(requests_per_second=None), **options)
    assert isinstance(engine, PicImageSearchEngine)
    return engine


def html_response(text: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, text=text, headers={"content-type": "text/html; charset=utf-8"})


async def test_yandex_sites_are_mapped(local_image, fast_retry) -> None:
    recorder = Recorder.sequence(html_response(fixture_text("picimagesearch/yandex_sites.html")))
    engine = engine_for("yandex", recorder, fast_retry)
    result = await engine.asearch(local_image, k=20)
    request = recorder.requests[0]
    assert request.method == "POST"
    assert str(request.url).startswith("https://yandex.com/images/search?rpt=imageview")
    assert b'name="upfile"' in request.content and local_image.data in request.content
    assert result.engine == "picimagesearch:yandex"
    assert len(result.hits) == 6
    first = result.hits[0]
    assert (first.title, first.url) == ("Mona Lisa — Wikipedia", "https://en.wikipedia.org/wiki/Mona_Lisa")
    assert first.snippet.startswith("The Mona Lisa is a half-length portrait")
    assert first.thumbnail_url.startswith("https://avatars.mds.yandex.net/i?id=01")
    assert (first.width, first.height) == (7479, 11146)
    assert first.source == "en.wikipedia.org"
    assert result.hits[1].title == "Мона Лиза — Википедия"
    assert result.hits[2].title == "Mona Lisa & the Louvre: a visitor's guide"
    assert result.hits[2].snippet == "Practical tips for seeing the Mona Lisa ."
    assert result.hits[3].snippet is None  # empty description
    assert first.raw["originalImage"]["width"] == 7479


async def test_yandex_captcha_redirect_is_a_block(local_image, fast_retry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/images/search":
            return httpx.Response(302, headers={
                "location": "https://yandex.com/showcaptcha?cc=1&retpath=https%3A%2F%2Fyandex.com"})
        return html_response(fixture_text("picimagesearch/yandex_captcha.html"))

    recorder = Recorder(handler)
    with pytest.raises(EngineBlockedError, match="captcha") as caught:
        await engine_for("yandex", recorder, fast_retry).asearch(local_image)
    assert caught.value.engine == "picimagesearch:yandex"
    assert recorder.count == 2  # a block is not retried


async def test_changed_page_layout_is_a_response_error_with_advice(local_image, fast_retry):
    recorder = Recorder.sequence(html_response("<html><body><div>new layout</div></body></html>"))
    with pytest.raises(EngineResponseError, match="pip install -U PicImageSearch") as caught:
        await engine_for("yandex", recorder, fast_retry).asearch(local_image)
    assert "data-state" in str(caught.value)


async def test_bing_upload_then_knowledge(local_image, fast_retry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/images/search":
            return html_response(fixture_text("picimagesearch/bing_upload.html"))
        assert request.url.params["insightsToken"].startswith("bcid_qYr8cJ0UjkQH5L0yV2zDb5V6D8wL")
        return json_response(fixture_json("picimagesearch/bing_knowledge.json"))

    recorder = Recorder(handler)
    result = await engine_for("bing", recorder, fast_retry).asearch(local_image, k=20)
    assert [r.url.path for r in recorder.requests] == ["/images/search",
                                                       "/images/api/custom/knowledge"]
    assert [h.match_type for h in result.hits] == ["exact"] * 5 + ["similar"] * 3
    assert result.hits[0].title == "Mona Lisa - Wikipedia"
    assert result.hits[0].image_url == "https://upload.wikimedia.org/wikipedia/commons/e/ec/Mona_Lisa.jpg"
    assert result.hits[2].title == "Why Is the Mona Lisa So Famous? | Arts & Culture"
    assert result.hits[3].title == "モナ・リザ - Wikipedia"
    assert result.best_guess == "Mona Lisa"
    assert result.entities[0].name == "Mona Lisa" and result.entities[0].type == "Painting"
    assert result.metadata["related_searches"] == ["Mona Lisa painting", "Leonardo da Vinci"]


async def test_tineye_matches_and_domains(url_image, fast_retry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/result_json/":
            return json_response(fixture_json("picimagesearch/tineye_result.json"))
        assert request.url.path.startswith("/api/v1/search/get_domains/")
        return json_response(fixture_json("picimagesearch/tineye_domains.json"))

    recorder = Recorder(handler)
    result = await engine_for("tineye", recorder, fast_retry).asearch(url_image, k=20)
    upload = recorder.requests[0].content
    assert url_image.url.encode() in upload.replace(b"%3A", b":").replace(b"%2F", b"/")
    assert url_image.data not in upload  # prefer_url: the image is searched by its URL
    matches = fixture_json("picimagesearch/tineye_result.json")["matches"]
    assert len(result.hits) == len(matches) == 8
    for hit, match in zip(result.hits, matches, strict=True):
        assert hit.url == match["backlinks"][0]["backlink"]
        assert hit.image_url == match["backlinks"][0]["url"]
        assert hit.thumbnail_url == match["image_url"]
        assert hit.source == match["domain"]
        assert (hit.width, hit.height) == (match["width"], match["height"])
        assert hit.match_type == "exact"
    assert result.hits[0].metadata == {"crawl_date": "2019-03-02", "backlinks": 3}
    assert result.metadata["domains"][0] == {"domain": "wikimedia.org", "count": 3}


async def test_tineye_without_matches_is_empty(local_image, fast_retry) -> None:
    doc = fixture_json("picimagesearch/tineye_no_matches.json")
    recorder = Recorder.sequence(json_response(doc))
    result = await engine_for("tineye", recorder, fast_retry).asearch(local_image)
    assert result.hits == [] and recorder.count == 1


async def test_tineye_429_is_retried_then_answers(local_image, fast_retry, sleeps) -> None:
    state = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/result_json/":
            state["n"] += 1
            if state["n"] == 1:
                return html_response("<html><title>429 Too Many Requests</title></html>", 429)
            return json_response(fixture_json("picimagesearch/tineye_result.json"))
        return json_response(fixture_json("picimagesearch/tineye_domains.json"))

    result = await engine_for("tineye", Recorder(handler), fast_retry).asearch(local_image)
    assert state["n"] == 2 and len(result.hits) == 8 and len(sleeps.waits) == 1


async def test_tineye_429_until_give_up(local_image, fast_retry) -> None:
    recorder = Recorder.sequence(html_response("Too Many Requests", 429))
    with pytest.raises(EngineRateLimitedError, match="gave up after 3 attempts"):
        await engine_for("tineye", recorder, fast_retry).asearch(local_image)
    assert recorder.count == 3


async def test_baidu_same_and_similar_images(local_image, fast_retry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/upload":
            return json_response(fixture_json("picimagesearch/baidu_upload.json"))
        if request.url.path == "/s":
            return html_response(fixture_text("picimagesearch/baidu_page.html"))
        assert request.url.path == "/ajax/pcsimi"
        return json_response(fixture_json("picimagesearch/baidu_simi.json"))

    result = await engine_for("baidu", Recorder(handler), fast_retry).asearch(local_image, k=20)
    exact = [h for h in result.hits if h.match_type == "exact"]
    similar = [h for h in result.hits if h.match_type == "similar"]
    assert [h.title for h in exact] == ["蒙娜丽莎_百度百科", "Mona Lisa | Louvre"]
    assert [h.url for h in similar] == [
        "https://www.zhihu.com/question/20389311", "https://www.douban.com/note/123456/",
        "https://www.sohu.com/a/123456789_121124", "http://www.artsbj.com/show-1-2.html"]
    assert similar[2].title == ""  # an empty title list
    assert similar[3].title == "油画欣赏：蒙娜丽莎 & 其他名作"
    assert similar[0].thumbnail_url == "https://mms2.baidu.com/it/u=5,6&fm=253"


@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")  # inside the library
async def test_copyseeker_pages_labels_and_similar_images(local_image, fast_retry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        action = request.headers.get("next-action")
        if request.url.path == "/discovery":
            return httpx.Response(200, text=fixture_text("picimagesearch/copyseeker_results.txt"))
        if action and action.startswith("4022"):  # the file-upload action
            return httpx.Response(200,
                                  text=fixture_text("picimagesearch/copyseeker_discovery.txt"))
        return httpx.Response(200, text="0:[]\n")  # the cookie-setting action

    result = await engine_for("copyseeker", Recorder(handler), fast_retry).asearch(local_image,
                                                                                  k=20)
    pages = [h for h in result.hits if h.match_type == "visual"]
    assert [h.url for h in pages] == [
        "https://en.wikipedia.org/wiki/Mona_Lisa",
        "https://www.louvre.fr/en/explore/the-palace/from-the-mona-lisa",
        "https://www.britannica.com/topic/Mona-Lisa-painting", "https://de.wikipedia.org/wiki/Mona_Lisa"]
    assert pages[2].title == "Mona Lisa | Painting, Subject, History, Meaning, & Facts"
    assert pages[0].score == 0.98 and pages[3].thumbnail_url is None
    similar = [h.image_url for h in result.hits if h.match_type == "similar"]
    assert similar == ["https://uploads.wikiart.org/mona-lisa.jpg",
                       "https://i.pinimg.com/736x/mona.jpg"]
    assert result.best_guess == "mona lisa"
    assert [e.name for e in result.entities] == ["Mona Lisa", "Leonardo da Vinci", "Louvre"]


async def test_base_url_points_the_provider_at_a_local_server(api_server, local_image,
                                                              fast_retry) -> None:
    api_server.add("/api/v1/result_json/",
                   json.dumps(fixture_json("picimagesearch/tineye_result.json")),
                   "application/json", method="POST")
    api_server.add("/api/v1/search/get_domains/9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e",
                   json.dumps(fixture_json("picimagesearch/tineye_domains.json")),
                   "application/json")
    engine = PicImageSearchEngine("tineye", base_url=api_server.base_url, retry=fast_retry,
                                  rate_limit=RateLimit(requests_per_second=None))
    result = await engine.asearch(local_image)
    await engine.aclose()
    assert len(result.hits) == 8
    assert api_server.requests[0].path == "/api/v1/result_json/"


async def test_server_error_pages_are_server_errors(local_image, fast_retry) -> None:
    recorder = Recorder.sequence(html_response("<html><title>503</title></html>", 503))
    with pytest.raises(Exception) as caught:
        await engine_for("yandex", recorder, fast_retry).asearch(local_image)
    assert type(caught.value).__name__ == "EngineServerError"
    assert recorder.count == 3


async def test_cookies_are_sent_but_kept_secret(local_image, fast_retry) -> None:
    recorder = Recorder.sequence(html_response(fixture_text("picimagesearch/yandex_sites.html")))
    engine = engine_for("yandex", recorder, fast_retry,
                        cookies=f"yandexuid=1234567; Session_id={COOKIE_VALUE}")
    await engine.asearch(local_image)
    assert COOKIE_VALUE in recorder.requests[0].headers["cookie"]
    assert COOKIE_VALUE not in repr(engine)
    assert COOKIE_VALUE not in json.dumps(engine.cache_key_options())


def test_unknown_provider_and_bad_cookies() -> None:
    with pytest.raises(ConfigurationError, match="picimagesearch:yandex"):
        get_engine("picimagesearch:saucenao")
    with pytest.raises(ConfigurationError, match="name=value"):
        PicImageSearchEngine("bing", cookies="just-a-token-without-name")


def test_missing_library_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "PicImageSearch", None)
    with pytest.raises(ConfigurationError, match=r"reverse-image-rag\[picimagesearch\]"):
        PicImageSearchEngine("yandex")

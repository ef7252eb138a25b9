"""What a cached result is keyed on (issue 21): every option that changes what an engine
returns, the endpoint included, and never a secret."""

from __future__ import annotations

import httpx
import pytest

from rir.engines import get_engine
from rir.results.cache import ResultCache
from rir.search import ReverseImageSearch
from tests.engines.api.helpers import SERPAPI_KEY, Recorder, json_response

CLOUD_KEY = "cloud-vision-key-0123456789"


def _answer_by_host(request: httpx.Request) -> httpx.Response:
    host = request.url.host
    return json_response({"search_metadata": {"status": "Success"}, "visual_matches": [
        {"position": 1, "title": f"page seen through {host}", "link": f"https://{host}/p"}]})


async def test_a_result_from_one_base_url_is_not_served_for_another(url_image, fast_retry,
                                                                    tmp_path) -> None:
    recorder = Recorder(_answer_by_host)
    cache = ResultCache(tmp_path / "cache.sqlite3")
    first, second = (ReverseImageSearch("serpapi", cache=cache, api_key=SERPAPI_KEY,
                                        base_url=base, transport=recorder.transport,
                                        retry=fast_retry)
                     for base in ("https://mirror-a.test", "https://mirror-b.test"))
    a = await first.asearch(url_image, k=1)
    b = await second.asearch(url_image, k=1)
    again = await first.asearch(url_image, k=1)
    assert a.hits[0].title == "page seen through mirror-a.test" and not a.from_cache
    assert b.hits[0].title == "page seen through mirror-b.test" and not b.from_cache
    assert again.from_cache and again.hits[0].title == a.hits[0].title
    assert recorder.count == 2


@pytest.mark.parametrize(("name", "options", "changed"), [
    ("serpapi", {"api_key": SERPAPI_KEY}, {"base_url": "https://user:pw@proxy.test/serp?x=1"}),
    ("cloud_vision", {"api_key": CLOUD_KEY}, {"base_url": "https://vision-proxy.test"}),
    ("cloud_vision", {"api_key": CLOUD_KEY}, {"max_image_side": 512}),
])
def test_each_option_that_changes_results_is_in_the_key_and_no_secret_is(
        name: str, options: dict, changed: dict) -> None:
    default = get_engine(name, **options)
    other = get_engine(name, **options, **changed)
    assert default.cache_key_options() != other.cache_key_options()
    shown = repr(other.cache_key_options()) + repr(other)
    for secret in (SERPAPI_KEY, CLOUD_KEY, "pw", "x=1"):
        assert secret not in shown


def test_the_default_endpoint_keeps_the_keys_of_earlier_releases() -> None:
    engine = get_engine("serpapi", api_key=SERPAPI_KEY)
    assert "base_url" not in engine.cache_key_options()
    explicit = get_engine("serpapi", api_key=SERPAPI_KEY, base_url="https://serpapi.com/")
    assert explicit.cache_key_options() == engine.cache_key_options()

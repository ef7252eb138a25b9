"""No boolean where a number is asked (issue 21): ``k=True`` is not ``k=1``, anywhere a
user gives a number to the Python API. One check, :func:`rir.errors.check_number`."""

from __future__ import annotations

import pytest

import rir
from rir.engines import get_engine
from rir.engines.http import RateLimit, RetryPolicy
from rir.engines.local import LocalIndex
from rir.errors import ConfigurationError, check_number
from rir.results.cache import ResultCache
from tests.images import noisy_jpeg

IMAGE = noisy_jpeg(96, 72, seed=3)


@pytest.fixture(scope="module")
def index() -> LocalIndex:
    built = LocalIndex(":memory:")
    built.add(IMAGE, title="one")
    return built


@pytest.mark.parametrize("value", [True, False, 2.5, "5", None, float("nan")])
def test_check_number_refuses_what_is_not_a_whole_number(value) -> None:
    with pytest.raises(ConfigurationError, match="k must be a whole number"):
        check_number("k", value, integer=True, minimum=1)


def test_no_boolean_is_taken_for_a_number(index: LocalIndex, tmp_path) -> None:
    calls = {
        "search k": lambda: rir.ReverseImageSearch(index, cache=False).search(IMAGE, k=True),
        "engine k": lambda: index.search(IMAGE, k=True),
        "min_score": lambda: index.search(IMAGE, min_score=True),
        "max_bytes": lambda: rir.load_image(IMAGE, max_bytes=True),
        "max_pixels": lambda: rir.load_image(IMAGE, max_pixels=True),
        "timeout_s": lambda: rir.load_image(IMAGE, timeout_s=True),
        "max_image_bytes": lambda: rir.ReverseImageSearch(index, max_image_bytes=True),
        "image_timeout_s": lambda: rir.ReverseImageSearch(index, image_timeout_s=True),
        "concurrency": lambda: rir.ReverseImageSearch(index, cache=False).search_many(
            [IMAGE], concurrency=True),
        "min_similarity": lambda: LocalIndex(":memory:", min_similarity=True),
        "rrf_k": lambda: get_engine("fusion", engines=[index, index], rrf_k=True),
        "per_engine_k": lambda: get_engine("fusion", engines=[index, index], per_engine_k=True),
        "max_results": lambda: get_engine("cloud_vision", api_key="k" * 20, max_results=True),
        "max_image_side": lambda: get_engine("cloud_vision", api_key="k" * 20,
                                             max_image_side=True),
        "lens timeout_s": lambda: get_engine("google_lens", timeout_s=True),
        "lens max_concurrency": lambda: get_engine("google_lens", max_concurrency=True),
        "http timeout_s": lambda: get_engine("serpapi", api_key="k" * 20, timeout_s=True),
        "ttl_s": lambda: ResultCache(tmp_path / "c.sqlite3", ttl_s=True),
        "retry attempts": lambda: RetryPolicy(attempts=True),
        "retry backoff_s": lambda: RetryPolicy(backoff_s=True),
        "requests_per_second": lambda: RateLimit(requests_per_second=True),
        "rate max_concurrency": lambda: RateLimit(max_concurrency=True),
        "engine retry": lambda: get_engine("serpapi", api_key="k" * 20,
                                           retry=RetryPolicy(max_backoff_s=True)),
    }
    accepted = []
    for name, call in calls.items():
        try:
            call()
        except ConfigurationError:
            continue
        accepted.append(name)
    assert accepted == []


def test_serve_settings_take_no_boolean_for_a_number() -> None:
    from rir.serve.config import ServeConfig

    for field in ("port", "max_bytes", "max_pixels", "fetch_timeout_s", "search_timeout_s",
                  "concurrency", "max_queue", "rate_limit_per_minute"):
        with pytest.raises(ConfigurationError, match=field):
            ServeConfig(**{field: True})

"""``auto``: SerpApi if its key is set, else Cloud Vision if credentials exist, else Google Lens."""

from __future__ import annotations

import logging

import pytest

import rir.engines
from rir.engines import auto, get_engine
from rir.engines.base import Engine
from rir.engines.cloud_vision import CloudVisionEngine
from rir.engines.serpapi import SerpApiLensEngine
from rir.inputs.images import QueryImage
from rir.results.models import SearchResult
from tests.engines.api.helpers import SERPAPI_KEY, VISION_KEY


class FakeLens(Engine):
    name = "google_lens"

    def __init__(self, **options) -> None:
        self.options = options

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        return SearchResult()


@pytest.fixture(autouse=True)
def _fresh_announcements(monkeypatch) -> None:
    monkeypatch.setattr(auto, "_announced", set())
    # google_lens is built lazily through the registry; a stand-in keeps this test offline
    monkeypatch.setitem(rir.engines._REGISTRY, "google_lens", FakeLens)


def choices(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rir.engines.auto"]


def test_serpapi_key_wins_and_the_choice_is_logged_once(monkeypatch, caplog) -> None:
    monkeypatch.setenv("SERPAPI_API_KEY", SERPAPI_KEY)
    monkeypatch.setenv("GOOGLE_CLOUD_VISION_API_KEY", VISION_KEY)
    first = get_engine("auto", serpapi={"hl": "en"}, cloud_vision={"include_geo_results": True})
    second = get_engine("auto")
    assert isinstance(first, SerpApiLensEngine) and isinstance(second, SerpApiLensEngine)
    assert first.cache_key_options() == {"hl": "en", "type": "all"}
    messages = choices(caplog)
    assert messages == ["Engine 'auto' chose 'serpapi' (SERPAPI_API_KEY is set)."]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "rir.engines.auto")


def test_cloud_vision_key_is_next(monkeypatch, caplog) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_VISION_API_KEY", VISION_KEY)
    engine = get_engine("auto", cloud_vision={"include_geo_results": True}, serpapi={"hl": "x"})
    assert isinstance(engine, CloudVisionEngine)
    assert engine.cache_key_options() == {"include_geo_results": True}
    assert "GOOGLE_CLOUD_VISION_API_KEY is set" in choices(caplog)[0]


def test_application_default_credentials_choose_cloud_vision(monkeypatch, tmp_path, caplog):
    credentials = tmp_path / "service-account.json"
    credentials.write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    assert isinstance(get_engine("auto"), CloudVisionEngine)
    assert "Application Default Credentials" in choices(caplog)[0]


def test_without_keys_google_lens_in_the_browser(caplog) -> None:
    engine = get_engine("auto", google_lens={"headless": True})
    assert isinstance(engine, FakeLens) and engine.options == {"headless": True}
    assert choices(caplog) == ["Engine 'auto' chose 'google_lens' (no SERPAPI_API_KEY or Google "
                               "Cloud Vision credentials were found)."]


def test_blank_keys_do_not_count(monkeypatch) -> None:
    monkeypatch.setenv("SERPAPI_API_KEY", "   ")
    assert auto.choose_engine()[0] == "google_lens"

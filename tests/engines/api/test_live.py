"""Live checks against the real providers; skipped unless RIR_LIVE_TESTS=1 (and keys are set).

    RIR_LIVE_TESTS=1 SERPAPI_API_KEY=... GOOGLE_CLOUD_VISION_API_KEY=... \\
        pytest tests/engines/api/test_live.py -m live

They cost real searches (SerpApi credits, Vision units) and depend on the
providers' moods; the offline tests cover behaviour, these confirm the wiring.
"""

from __future__ import annotations

import os

import pytest

from rir.engines.cloud_vision import CloudVisionEngine, adc_available
from rir.engines.picimagesearch import PROVIDERS, PicImageSearchEngine
from rir.engines.serpapi import SerpApiLensEngine
from rir.errors import EngineBlockedError, EngineRateLimitedError
from rir.inputs.images import aload_image

pytestmark = [pytest.mark.live, pytest.mark.enable_socket]

IMAGE_URL = ("https://upload.wikimedia.org/wikipedia/commons/thumb/8/85/"
             "Tour_Eiffel_Wikimedia_Commons_%28cropped%29.jpg/"
             "640px-Tour_Eiffel_Wikimedia_Commons_%28cropped%29.jpg")


def require_live(*, key: str | None = None, present: bool = True) -> None:
    if os.environ.get("RIR_LIVE_TESTS") != "1":
        pytest.skip("live test: set RIR_LIVE_TESTS=1 to run it")
    if key is not None and not present:
        pytest.skip(f"live test: {key} is not set")


def assert_no_secret(caplog, result, secret: str | None) -> None:
    if secret:
        assert secret not in caplog.text
        assert secret not in result.model_dump_json()


async def test_serpapi_live(real_environment, caplog) -> None:
    key = real_environment["SERPAPI_API_KEY"]
    require_live(key="SERPAPI_API_KEY", present=bool(key))
    engine = SerpApiLensEngine(hl="en", country="us")
    try:
        result = await engine.asearch(await aload_image(IMAGE_URL), k=5)
    finally:
        await engine.aclose()
    assert result.hits and all(hit.url for hit in result.hits)
    assert_no_secret(caplog, result, key)


async def test_serpapi_live_upload(real_environment, caplog, jpeg_bytes) -> None:
    key = real_environment["SERPAPI_API_KEY"]
    require_live(key="SERPAPI_API_KEY", present=bool(key))
    engine = SerpApiLensEngine()
    try:
        image = await aload_image(IMAGE_URL)
        result = await engine.asearch(image.data, k=5)  # bytes: goes through the Images API
    finally:
        await engine.aclose()
    assert result.engine == "serpapi"
    assert_no_secret(caplog, result, key)


async def test_cloud_vision_live(real_environment, caplog) -> None:
    key = real_environment["GOOGLE_CLOUD_VISION_API_KEY"]
    require_live(key="GOOGLE_CLOUD_VISION_API_KEY or ADC", present=bool(key) or adc_available())
    engine = CloudVisionEngine()
    try:
        result = await engine.asearch(await aload_image(IMAGE_URL), k=10)
    finally:
        await engine.aclose()
    assert result.hits and result.best_guess
    assert_no_secret(caplog, result, key)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_picimagesearch_live(provider, real_environment) -> None:
    require_live()
    engine = PicImageSearchEngine(provider)
    try:
        result = await engine.asearch(await aload_image(IMAGE_URL), k=5)
    except (EngineBlockedError, EngineRateLimitedError) as exc:
        pytest.xfail(f"{provider} refused this network today: {exc}")
    finally:
        await engine.aclose()
    assert result.engine == f"picimagesearch:{provider}"
    assert all(hit.url or hit.image_url for hit in result.hits)

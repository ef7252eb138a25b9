"""Client hints match the user agent the engine sends: no "HeadlessChrome" anywhere."""

from __future__ import annotations

import pytest

from rir.engines.google_lens import GoogleLensEngine
from rir.engines.google_lens.client_hints import ClientHints
from tests.engines.lens.fake_lens import FakeLens
from tests.images import jpeg_bytes


class TestHints:
    def test_brands_follow_chromium_for_the_version(self) -> None:
        hints = ClientHints.for_version("131.0.6778.85", platform="linux")
        brands = {b["brand"]: b["version"] for b in hints.metadata["brands"]}
        assert brands["Chromium"] == "131" and len(brands) == 2
        grease = next(b for b in brands if b != "Chromium")
        assert grease.startswith("Not") and grease.endswith("Brand")
        full = {b["brand"]: b["version"] for b in hints.metadata["fullVersionList"]}
        assert full["Chromium"] == "131.0.6778.85"
        assert "Chrome/131.0.0.0" in hints.user_agent and "Headless" not in hints.user_agent
        assert hints.headers()["Sec-CH-UA-Platform"] == '"Linux"'
        assert hints.headers()["Sec-CH-UA-Mobile"] == "?0"

    def test_the_headless_shells_own_brands_minus_headless(self) -> None:
        # chromium-headless-shell 156 sends: "Not:A-Brand";v="8", "Chromium";v="156",
        # "HeadlessChrome";v="156". A regular Chromium 156 sends the first two.
        hints = ClientHints.for_version("156.0.7000.1", platform="linux")
        assert hints.headers()["Sec-CH-UA"] == '"Not:A-Brand";v="8", "Chromium";v="156"'
        odd = ClientHints.for_version("131.0.1.2", platform="linux").headers()["Sec-CH-UA"]
        assert odd.startswith('"Chromium";v="131", "Not')

    def test_platforms(self) -> None:
        mac = ClientHints.for_version("131.0.1.2", platform="darwin")
        assert "Macintosh" in mac.user_agent and mac.metadata["platform"] == "macOS"
        win = ClientHints.for_version("131.0.1.2", platform="win32")
        assert "Windows NT" in win.user_agent and win.platform_name == "Win32"


@pytest.mark.browser
@pytest.mark.parametrize("render", [False, True])
def test_every_request_carries_consistent_hints(browser_path: str | None, fake: FakeLens,
                                                scenario, render: bool) -> None:
    name = scenario("results")
    with GoogleLensEngine(base_url=fake.base_url(), render_results=render) as engine:
        engine.search(jpeg_bytes(), k=3)
    requests = fake.requests_for(name)
    assert {r.path for r in requests} >= {"/v3/upload", "/search"}
    for request in requests:
        headers = request.headers
        assert "headless" not in headers.get("user-agent", "").lower(), request.path
        assert "headless" not in headers.get("sec-ch-ua", "").lower(), request.path
        assert '"Chromium";v="' in headers["sec-ch-ua"], request.path
        assert headers["sec-ch-ua-mobile"] == "?0"
        assert headers["sec-ch-ua-platform"] == '"Linux"'
        major = headers["user-agent"].split("Chrome/")[1].split(".")[0]
        assert f'"Chromium";v="{major}"' in headers["sec-ch-ua"]

"""Real Google Lens. Runs only with RIR_LIVE_TESTS=1 (and network access)."""

from __future__ import annotations

import os

import pytest

from rir.engines.google_lens import GoogleLensEngine
from rir.errors import EngineBlockedError
from rir.inputs.images import load_image

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.skipif(os.environ.get("RIR_LIVE_TESTS") != "1",
                       reason="live test: set RIR_LIVE_TESTS=1 to query the real Google Lens"),
]

# A stable, famous picture: Lens should recognise it and find many copies.
IMAGE_URL = ("https://upload.wikimedia.org/wikipedia/commons/thumb/8/85/"
             "Tour_Eiffel_Wikimedia_Commons_%28cropped%29.jpg/"
             "330px-Tour_Eiffel_Wikimedia_Commons_%28cropped%29.jpg")


@pytest.mark.parametrize("mode", ["url", "upload"])
def test_real_lens_finds_the_eiffel_tower(browser_path: str | None, mode: str) -> None:
    image = load_image(IMAGE_URL)
    query = image if mode == "url" else image.data  # bytes: the upload path
    with GoogleLensEngine(timeout_s=60, screenshot="viewport") as engine:
        try:
            result = engine.search(query, k=20)
        except EngineBlockedError as exc:  # a verdict about this network, not a bug
            pytest.skip(f"Google blocked this network: {exc}")
    assert len(result.hits) >= 5
    assert all(hit.url and hit.url.startswith("http") and hit.title for hit in result.hits)
    text = " ".join([result.best_guess or ""] + [h.title for h in result.hits]).lower()
    assert "eiffel" in text
    assert result.screenshot and result.screenshot.startswith(b"\x89PNG")


def test_results_read_off_the_network_match_the_rendered_page(browser_path: str | None) -> None:
    """The default read (the page as Google sends it, never rendered) against the DOM
    after Google's scripts ran: the same matches, or the default is losing results."""
    image = load_image(IMAGE_URL)
    results = {}
    for render in (False, True):
        with GoogleLensEngine(timeout_s=60, render_results=render) as engine:
            try:
                results[render] = engine.search(image, k=20)
            except EngineBlockedError as exc:
                pytest.skip(f"Google blocked this network: {exc}")
    network, rendered = results[False], results[True]
    assert network.metadata["read_from"] == "network", "results were not in the page as sent"
    assert rendered.metadata["read_from"] == "page"
    rendered_urls = {h.url for h in rendered.hits}
    shared = rendered_urls & {h.url for h in network.hits}
    assert len(shared) >= 0.8 * len(rendered_urls), (
        f"only {len(shared)} of the rendered page's {len(rendered_urls)} matches were in "
        "the page as sent: use render_results=True and report it")

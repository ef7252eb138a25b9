"""Lens views: match_type "all" (udm=26), "visual" (44), "exact" (48), "products" (37)."""

from __future__ import annotations

import pytest

from rir.engines import get_engine
from rir.engines.google_lens import parse_lens_html
from tests.engines.lens.fake_lens import FakeLens
from tests.engines.lens.helpers import page
from tests.images import jpeg_bytes

PRODUCTS = "https://www.google.com/search?vsrid=1&udm=37&hl=en"


class TestProductsParser:
    def test_products_carry_price_and_merchant_when_the_card_shows_them(self) -> None:
        result = parse_lens_html(page("products"), page_url=PRODUCTS)
        assert {h.match_type for h in result.hits} == {"product"}
        assert result.metadata["view"] == "products"
        first = result.hits[0]
        assert first.title == "Eiffel Tower Model, 3D Metal Puzzle, 38 cm"
        assert first.metadata["price"] == "$24.99" and first.metadata["merchant"] == "Amazon.com"
        assert [h.metadata.get("price") for h in result.hits] == [
            "$24.99", "US$ 18.00", "24,99 €", "£8", None]
        assert result.hits[-1].metadata["merchant"] == "eBay"
        assert "price" not in (result.hits[-1].snippet or "")

    def test_prices_are_not_taken_from_titles_or_sizes(self) -> None:
        result = parse_lens_html(page("exact-matches"),
                                 page_url=PRODUCTS.replace("udm=37", "udm=48"))
        assert all("price" not in h.metadata for h in result.hits)
        assert all("merchant" not in h.metadata for h in result.hits)


def searched_views(fake: FakeLens, name: str) -> list[str]:
    return [r.query.get("udm", [""])[0] for r in fake.requests_for(name) if r.path == "/search"]


@pytest.mark.browser
@pytest.mark.parametrize(("match_type", "udm", "hit_type"), [
    ("all", "26", "visual"), ("visual", "44", "visual"), ("exact", "48", "exact"),
    ("products", "37", "product"),
])
def test_each_view_is_read_from_its_tab(browser_path: str | None, fake: FakeLens, scenario,
                                        match_type: str, udm: str, hit_type: str) -> None:
    name = scenario("results")
    with get_engine("google_lens", base_url=fake.base_url(), match_type=match_type) as engine:
        result = engine.search(jpeg_bytes(), k=3)
    assert result.hits and {h.match_type for h in result.hits} == {hit_type}
    assert result.metadata["udm"] == udm
    assert searched_views(fake, name)[-1] == udm
    if match_type == "all":
        assert searched_views(fake, name) == ["26"]  # the default opens one page
    if match_type == "products":
        assert result.hits[0].metadata["price"] == "$24.99"

"""Region search on the one search path: search(region=...), search_regions(...), the merge,
the cache, the paid-call cap, failed parts, and engines that match boxes natively."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from PIL import Image, ImageStat

from rir import (
    EngineBlockedError,
    InvalidImageError,
    InvalidRegionError,
    Region,
    RegionsResult,
    ReverseImageSearch,
    SearchHit,
    SearchResult,
    load_image,
)
from rir.engines import Engine
from rir.inputs.images import QueryImage
from tests.images import encode, jpeg_bytes

RED_PAGES = [f"Red {n}" for n in range(1, 6)]


def collage() -> bytes:
    """480x240: a red square on the left, a blue one on the right."""
    image = Image.new("RGB", (480, 240), (200, 30, 30))
    image.paste(Image.new("RGB", (240, 240), (30, 30, 200)), (240, 0))
    return encode(image, "PNG")


def _hits(titles: Sequence[str]) -> list[SearchHit]:
    return [SearchHit(title=t, url=f"https://pages.example.org/{t.replace(' ', '-')}")
            for t in titles]


class ColourEngine(Engine):
    """Finds "pages" by the colour of what it is sent: red, blue, or both (the whole image)."""

    name = "colours"

    def __init__(self, *, paid: int = 0, fail_on_blue: bool = False, delay_s: float = 0.0,
                 whole: Sequence[str] = ("Mixed 1", "Red 1", "Blue 1")) -> None:
        self.paid, self.fail_on_blue, self.delay_s, self.whole = paid, fail_on_blue, delay_s, whole
        self.seen: list[tuple[int, int]] = []
        self.active = self.max_active = 0

    def paid_calls(self) -> int:
        return self.paid

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        self.seen.append((image.width, image.height))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.active -= 1
        red, _, blue = ImageStat.Stat(image.to_pil().convert("RGB")).mean
        if blue > 150 and red < 80:
            if self.fail_on_blue:
                raise EngineBlockedError("the engine blocked this search", engine=self.name)
            return SearchResult(hits=_hits(["Blue 1"]), best_guess="blue")
        if red > 150 and blue < 80:
            return SearchResult(hits=_hits(RED_PAGES), best_guess="red")
        return SearchResult(hits=_hits(self.whole), best_guess="red")


LEFT, RIGHT = Region(0, 0, 240, 240), Region(240, 0, 480, 240)


@pytest.fixture
def engine() -> ColourEngine:
    return ColourEngine()


# -- one region -----------------------------------------------------------------------------------


def test_a_region_search_sends_the_crop_and_says_where_it_searched(engine) -> None:
    image = load_image(collage())
    result = ReverseImageSearch(engine, cache=False).search(image, k=3, region=RIGHT)
    assert [h.title for h in result.hits] == ["Blue 1"]
    assert engine.seen == [(480, 480)]  # 240 px is small for a web engine: enlarged 2x
    assert result.metadata["region"] == [240, 0, 480, 240]
    assert result.hits[0].metadata["region"] == [240, 0, 480, 240]
    assert result.query_sha256 == image.sha256  # the query is the image; the region says where


def test_grid_and_fraction_regions_resolve_against_the_image(engine) -> None:
    searcher = ReverseImageSearch(engine, cache=False)
    left = searcher.search(collage(), region=Region.from_grid(0, 0, 500, 1000))
    right = searcher.search(collage(), region=Region.from_fractions(0.5, 0, 1, 1))
    assert left.metadata["region"] == [0, 0, 240, 240] and left.hits[0].title == "Red 1"
    assert right.metadata["region"] == [240, 0, 480, 240] and right.hits[0].title == "Blue 1"


def test_the_cache_key_covers_the_region(engine, tmp_path) -> None:
    searcher = ReverseImageSearch(engine, cache=tmp_path / "cache.sqlite3")
    whole = searcher.search(collage(), k=3)
    right = searcher.search(collage(), k=3, region=RIGHT)
    again = searcher.search(collage(), k=3, region=(240, 0, 480, 240))
    left = searcher.search(collage(), k=3, region=LEFT)
    assert len(engine.seen) == 3  # whole, right, left: the repeat of the right came from cache
    assert again.from_cache and not right.from_cache
    assert [h.title for h in again.hits] == [h.title for h in right.hits] == ["Blue 1"]
    assert whole.hits[0].title == "Mixed 1" and left.hits[0].title == "Red 1"


def test_a_box_that_does_not_fit_fails_before_any_search(engine) -> None:
    searcher = ReverseImageSearch(engine, cache=False)
    with pytest.raises(InvalidRegionError, match=r"outside the 480x240 image"):
        searcher.search(collage(), region=(100, 100, 900, 700))
    with pytest.raises(InvalidImageError):
        searcher.search(b"not an image", region=(0, 0, 10, 10))
    assert engine.seen == []


# -- several regions, merged ----------------------------------------------------------------------


def test_parts_say_where_why_and_what_they_found(engine) -> None:
    found = ReverseImageSearch(engine, cache=False).search_regions(collage(), [LEFT, RIGHT], k=4)
    assert [(p.origin, p.label, p.region.box) for p in found.parts] == [
        ("whole", "whole image", (0, 0, 480, 240)),
        ("given", "left half", (0, 0, 240, 240)),
        ("given", "right half", (240, 0, 480, 240))]
    assert [p.result.hits[0].title for p in found.parts] == ["Mixed 1", "Red 1", "Blue 1"]
    assert all(h.metadata["region"] == [240, 0, 480, 240] for h in found.parts[2].result.hits)
    assert (found.width, found.height, found.best_guess) == (480, 240, "red")


def test_the_merge_ranks_shared_hits_first_and_never_drowns_a_parts_best(engine) -> None:
    found = ReverseImageSearch(engine, cache=False).search_regions(collage(), [LEFT, RIGHT], k=10)
    titles = [h.title for h in found.hits]
    # Red 1: rank 2 of the whole + rank 1 of the left; Blue 1: rank 3 + rank 1 of the right
    assert titles == ["Red 1", "Blue 1", "Mixed 1", "Red 2", "Red 3", "Red 4", "Red 5"]
    assert found.hits[0].metadata["regions"] == [0, 1]
    assert found.hits[1].metadata["regions"] == [0, 2]
    assert found.hits[1].metadata["region"] == [240, 0, 480, 240]  # where it ranked best
    assert [h.position for h in found.hits] == list(range(1, 8))
    assert found.metadata["merged_hits"] == 7 and found.metadata["hits_not_shown"] == 0


def test_one_parts_many_hits_do_not_push_down_another_parts_only_hit() -> None:
    engine = ColourEngine(whole=["Mixed 1"])
    found = ReverseImageSearch(engine, cache=False).search_regions(collage(), [LEFT, RIGHT], k=3)
    assert [h.title for h in found.hits] == ["Mixed 1", "Red 1", "Blue 1"]
    assert found.metadata["hits_not_shown"] == 2  # Red 2 and 3 (parts keep k each): said


def test_overlapping_parts_finding_the_same_hits_do_not_push_out_another_parts_best() -> None:
    engine = ColourEngine(whole=RED_PAGES)  # the whole image and the left both find the reds
    found = ReverseImageSearch(engine, cache=False).search_regions(collage(), [LEFT, RIGHT], k=2)
    assert [h.title for h in found.hits] == ["Red 1", "Blue 1"]  # Red 2 (0.67) waits its turn


def test_regions_result_round_trips_through_json(engine) -> None:
    found = ReverseImageSearch(engine, cache=False).search_regions(collage(), [RIGHT], k=4)
    again = RegionsResult.model_validate_json(found.model_dump_json())
    assert again == found
    assert again.parts[1].region == RIGHT


def test_parts_run_concurrently() -> None:
    engine = ColourEngine(delay_s=0.05)
    ReverseImageSearch(engine, cache=False).search_regions(collage(), [LEFT, RIGHT])
    assert engine.max_active == 3


def test_a_failed_part_is_reported_the_others_complete_and_nothing_of_it_is_cached(
        tmp_path) -> None:
    cache = tmp_path / "cache.sqlite3"
    failing = ColourEngine(fail_on_blue=True)
    found = ReverseImageSearch(failing, cache=cache).search_regions(collage(), [LEFT, RIGHT])
    whole, left, right = found.parts
    assert whole.ok and left.ok and not right.ok
    assert right.result is None and right.error.error_type == "EngineBlockedError"
    with pytest.raises(EngineBlockedError):
        right.unwrap()
    assert [h.title for h in found.hits][:2] == ["Red 1", "Mixed 1"]
    working = ColourEngine()
    again = ReverseImageSearch(working, cache=cache).search_regions(collage(), [LEFT, RIGHT])
    assert working.seen == [(480, 480)]  # only the failed part is searched again
    assert [p.ok for p in again.parts] == [True, True, True]
    assert [p.result.from_cache for p in again.parts] == [True, True, False]


def test_when_every_part_fails_the_error_is_raised() -> None:
    engine = ColourEngine(fail_on_blue=True)
    with pytest.raises(EngineBlockedError, match="blocked"):
        ReverseImageSearch(engine, cache=False).search_regions(collage(), [RIGHT],
                                                               include_whole=False)


def test_duplicates_are_searched_once_and_counted(engine) -> None:
    found = ReverseImageSearch(engine, cache=False).search_regions(
        collage(), [LEFT, (0, 0, 240, 240), (0, 0, 480, 240)])
    assert [p.origin for p in found.parts] == ["whole", "given"]
    assert found.metadata["duplicate_regions_dropped"] == 2
    assert len(engine.seen) == 2


def test_bad_counts_are_configuration_errors(engine) -> None:
    from rir import ConfigurationError

    searcher = ReverseImageSearch(engine, cache=False)
    with pytest.raises(ConfigurationError, match="max_auto_regions must be 1 or more"):
        searcher.search_regions(collage(), "auto", max_auto_regions=0)
    with pytest.raises(ConfigurationError, match="max_paid_calls must be 0 or more"):
        ReverseImageSearch(engine, cache=False, max_paid_calls=-1)


def test_too_many_regions_fail_before_any_search(engine) -> None:
    boxes = [(x, 0, x + 20, 20) for x in range(0, 400, 20)]
    with pytest.raises(InvalidRegionError, match=r"21 regions .* more than the 16"):
        ReverseImageSearch(engine, cache=False).search_regions(collage(), boxes)
    assert engine.seen == []


# -- paid engines ---------------------------------------------------------------------------------


def test_paid_calls_over_the_cap_fail_before_any_call(tmp_path) -> None:
    engine = ColourEngine(paid=1)
    searcher = ReverseImageSearch(engine, cache=tmp_path / "c.sqlite3", max_paid_calls=2)
    with pytest.raises(InvalidRegionError, match=r"3 paid colours calls .* cap of 2"):
        searcher.search_regions(collage(), [LEFT, RIGHT])
    assert engine.seen == []
    found = searcher.search_regions(collage(), [LEFT, RIGHT], max_paid_calls=3)
    assert found.metadata["paid_calls"] == 3 and len(engine.seen) == 3
    cached = searcher.search_regions(collage(), [LEFT, RIGHT], max_paid_calls=0)
    assert cached.metadata["paid_calls"] == 0 and len(engine.seen) == 3  # cached parts are free


def test_a_single_region_counts_too() -> None:
    engine = ColourEngine(paid=2)
    with pytest.raises(InvalidRegionError, match="2 paid colours calls"):
        ReverseImageSearch(engine, cache=False, max_paid_calls=1).search(collage(), region=LEFT)


def test_serpapi_and_cloud_vision_are_paid_and_composites_add_up(monkeypatch) -> None:
    from rir.engines import get_engine

    monkeypatch.setenv("SERPAPI_API_KEY", "test-key")
    monkeypatch.setenv("GOOGLE_CLOUD_VISION_API_KEY", "test-key")
    assert get_engine("serpapi").paid_calls() == 1
    assert get_engine("serpapi", exact_matches=True).paid_calls() == 2
    assert get_engine("cloud_vision").paid_calls() == 1
    fusion = get_engine("fusion", engines=["serpapi", "cloud_vision", ColourEngine()])
    assert fusion.paid_calls() == 2
    assert ColourEngine().paid_calls() == 0


# -- engines that match boxes natively ------------------------------------------------------------


class NativeEngine(ColourEngine):
    name = "native"
    searches_boxes_natively = True

    def __init__(self) -> None:
        super().__init__()
        self.box_calls: list[list[tuple[int, int, int, int]]] = []

    async def asearch_boxes(self, image, boxes, *, k):
        self.box_calls.append(list(boxes))
        return await super().asearch_boxes(image, boxes, k=k)


def test_an_engine_that_matches_boxes_natively_gets_them_all_in_one_call() -> None:
    engine = NativeEngine()
    found = ReverseImageSearch(engine, cache=False).search_regions(collage(), [LEFT, RIGHT])
    assert engine.box_calls == [[(0, 0, 480, 240), (0, 0, 240, 240), (240, 0, 480, 240)]]
    assert [p.result.hits[0].title for p in found.parts] == ["Mixed 1", "Red 1", "Blue 1"]


# -- the real local engine ------------------------------------------------------------------------


def test_auto_regions_find_both_photos_of_a_collage_on_the_local_engine() -> None:
    from rir.demo import build_demo_index, demo_collage

    image, boxes = demo_collage(["Grace Hopper", "Falcon 9 launching DSCOVR"])
    with ReverseImageSearch(build_demo_index(), cache=False) as searcher:
        found = searcher.search_regions(image, "auto", k=5)
        given = searcher.search(image, region=boxes[1], k=1)
    titles = [h.title for h in found.hits]
    assert {"Grace Hopper", "Falcon 9 launching DSCOVR"} <= set(titles)
    assert given.hits[0].title == "Falcon 9 launching DSCOVR"
    assert given.hits[0].metadata["region"] == list(boxes[1].box)


def test_auto_on_a_tiny_image_is_one_clear_error(engine) -> None:
    with pytest.raises(InvalidImageError, match="too small"):
        ReverseImageSearch(engine, cache=False).search_regions(jpeg_bytes(size=(40, 30)), "auto")
    assert engine.seen == []

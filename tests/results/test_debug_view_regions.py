"""The debug view of a region search: numbered boxes for the searched regions, each hit's
caption starting with its regions, and the box a local hit matched, dashed."""

from __future__ import annotations

from matplotlib.patches import Rectangle
from PIL import Image

from rir import Region, RegionPart, RegionsResult, SearchHit, SearchResult, load_image
from rir.results.debug_view import render_result
from tests.images import encode


def _found() -> RegionsResult:
    whole, left = Region(0, 0, 200, 100), Region(0, 0, 100, 100)
    matched = SearchHit(title="Matched inset", position=1,
                        metadata={"region": [0, 0, 100, 100], "regions": [0, 1],
                                  "query_box": [10, 10, 60, 60]})
    other = SearchHit(title="Whole only", position=2,
                      metadata={"region": [0, 0, 200, 100], "regions": [0]})
    parts = [RegionPart(region=whole, origin="whole", label="whole image",
                        result=SearchResult(hits=[matched, other])),
             RegionPart(region=left, origin="given", label="left half",
                        result=SearchResult(hits=[matched]))]
    return RegionsResult(parts=parts, hits=[matched, other], engine="local", width=200,
                         height=100)


def test_regions_and_matched_boxes_are_drawn_and_hits_name_their_regions() -> None:
    query = load_image(encode(Image.new("RGB", (200, 100), "white")))
    figure = render_result(query, _found())
    query_axes = figure.axes[0]
    boxes = [p for p in query_axes.patches if isinstance(p, Rectangle)]
    dashed = [p for p in boxes if p.get_linestyle() == "--"]
    assert len(boxes) == 3 and len(dashed) == 1  # two regions, one matched box
    assert dashed[0].get_xy() == (10, 10) and dashed[0].get_width() == 50
    labels = {t.get_text() for t in query_axes.texts}
    assert {"1", "2", "#1"} <= labels
    captions = [axes.get_title(loc="left") for axes in figure.axes[1:]]
    assert captions[0].startswith("1. R1,R2 Matched inset")
    assert captions[1].startswith("2. R1 Whole only")
    assert "from 2 regions" in figure._suptitle.get_text()


def test_a_single_region_search_draws_its_region() -> None:
    query = load_image(encode(Image.new("RGB", (200, 100), "white")))
    result = SearchResult(hits=[SearchHit(title="x", metadata={"region": [100, 0, 200, 100]})],
                          metadata={"region": [100, 0, 200, 100]})
    [box] = [p for p in render_result(query, result).axes[0].patches]
    assert box.get_xy() == (100, 0) and box.get_width() == 100

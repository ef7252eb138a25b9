"""The local engine finds sub-images and says where: boxes, overlaps, parts, weak candidates."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from benchmarks import compositions as C
from benchmarks.transforms import crop_area
from rir import ReverseImageSearch
from rir.demo import available_demo_photos, build_demo_index, demo_collage
from rir.engines.local import LocalIndex
from rir.engines.local import features as F
from rir.engines.local.placement import placement
from rir.engines.local.postings import PostingsIndex
from rir.errors import InvalidRegionError
from rir.inputs.images import load_image
from tests.images import encode, photo

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"


@pytest.fixture(scope="module")
def demo_index() -> LocalIndex:
    return build_demo_index()


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    return {p.title: Image.open(path).convert("RGB") for p, path in available_demo_photos()}


def _iou(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def _inset(photos: dict, title: str, area: float, seed: int = 3) -> C.Composition:
    background = Image.open(SKIMAGE_DATA / "ihc.png").convert("RGB").resize((1000, 700))
    return C.inset(photos[title], background, area, random.Random(seed))


def test_a_searched_box_says_where_it_matched(demo_index: LocalIndex, photos: dict) -> None:
    made = _inset(photos, "Eileen Collins", 0.10)
    image = load_image(encode(made.image, quality=90))
    [result] = demo_index.search_boxes(image, [made.boxes[0]], k=3)
    hit = result.hits[0]
    assert hit.title == "Eileen Collins"
    assert _iou(hit.metadata["query_box"], made.boxes[0]) > 0.9  # the full image's pixels
    assert _iou(hit.metadata["indexed_box"], (0, 0, hit.width, hit.height)) > 0.9
    assert hit.metadata["query_overlap"] > 0.9 and hit.metadata["indexed_overlap"] > 0.9
    assert result.metadata["weak_candidates_dropped"] >= 0


def test_whole_image_search_finds_a_photo_that_is_a_small_part(demo_index: LocalIndex,
                                                               photos: dict) -> None:
    made = _inset(photos, "Cup of coffee", 0.10, seed=5)
    image = load_image(encode(made.image, quality=90))
    result = demo_index.search(image, k=3)
    assert result.hits and result.hits[0].title == "Cup of coffee"
    assert result.metadata["parts_searched"] >= 1
    assert _iou(result.hits[0].metadata["query_box"], made.boxes[0]) > 0.8
    assert result.hits[0].metadata["query_overlap"] < 0.2  # of the whole query


def test_without_parts_a_miss_is_still_counted(demo_index: LocalIndex, photos: dict) -> None:
    plain = build_demo_index(find_parts=False)
    made = _inset(photos, "Cup of coffee", 0.10, seed=5)
    result = plain.search(encode(made.image, quality=90), k=3)
    assert "parts_searched" not in result.metadata
    assert isinstance(result.metadata["weak_candidates_dropped"], int)


def test_a_crop_matches_part_of_the_indexed_photo(demo_index: LocalIndex,
                                                  photos: dict) -> None:
    original = photos["Chelsea the cat"]
    crop = crop_area(original, 0.5, 1.0, 0.0)  # the top right quarter-ish, half the area
    hit = demo_index.search(encode(crop), k=1).hits[0]
    assert hit.title == "Chelsea the cat"
    expected = (original.width - crop.width, 0, original.width, crop.height)
    assert _iou(hit.metadata["indexed_box"], expected) > 0.85
    assert hit.metadata["query_overlap"] > 0.9
    assert hit.metadata["indexed_overlap"] == pytest.approx(0.5, abs=0.08)


def test_a_mirrored_copy_maps_back_to_its_own_pixels(demo_index: LocalIndex,
                                                     photos: dict) -> None:
    original = photos["Falcon 9 launching DSCOVR"]
    crop = ImageOps.mirror(crop_area(original, 0.6, 0.0, 0.0))  # top left, mirrored
    hit = demo_index.search(encode(crop), k=1).hits[0]
    assert hit.title == "Falcon 9 launching DSCOVR"
    assert _iou(hit.metadata["query_box"], (0, 0, crop.width, crop.height)) > 0.85
    assert _iou(hit.metadata["indexed_box"], (0, 0, crop.width, crop.height)) > 0.85


def test_matches_without_a_transform_carry_no_boxes() -> None:
    index = LocalIndex(":memory:")
    index.add(photo(400, 300), title="a smooth gradient")  # no keypoints: appearance only
    hit = index.search(photo(300, 225), k=1).hits[0]
    assert hit.title == "a smooth gradient"
    assert not {"query_box", "indexed_box", "query_overlap", "indexed_overlap"} & set(
        hit.metadata)


def test_boxes_come_back_in_order_and_the_whole_box_matches_a_whole_search(
        demo_index: LocalIndex, photos: dict) -> None:
    assert LocalIndex.searches_boxes_natively
    image, regions = demo_collage(("Grace Hopper", "Chelsea the cat", "Cup of coffee"))
    boxes = [(0, 0, image.width, image.height), *(r.box for r in regions)]
    results = demo_index.search_boxes(image, boxes, k=5)
    assert [r.hits[0].title for r in results[1:]] == ["Grace Hopper", "Chelsea the cat",
                                                      "Cup of coffee"]
    for region, result in zip(regions, results[1:], strict=True):
        assert _iou(result.hits[0].metadata["query_box"], region.box) > 0.8
    assert results[0].hits[0].title == demo_index.search(image, k=5).hits[0].title


@pytest.mark.parametrize("box", [(0, 0, 10_000, 10), (50, 50, 40, 90), (1.5, 0, 20, 20),
                                 "0,0,1,1", (1, 2, 3)])
def test_a_bad_box_is_one_clear_error(demo_index: LocalIndex, box: object) -> None:
    with pytest.raises(InvalidRegionError, match=r"inside the \d+x\d+ image"):
        demo_index.search_boxes(photo(300, 200), [box], k=3)  # type: ignore[list-item]


def test_region_search_through_the_searcher(demo_index: LocalIndex) -> None:
    image, _ = demo_collage(("Grace Hopper", "Chelsea the cat", "Cup of coffee",
                             "Eileen Collins"), gap=0)
    result = ReverseImageSearch(engine=demo_index, cache=False).search_regions(image, "auto")
    assert {"Grace Hopper", "Chelsea the cat", "Cup of coffee", "Eileen Collins"} <= {
        h.title for h in result.hits}
    assert any(part.origin == "auto" for part in result.parts)
    unrelated = load_image(SKIMAGE_DATA / "ihc.png")
    nothing = ReverseImageSearch(engine=demo_index, cache=False).search_regions(unrelated,
                                                                                "auto")
    assert nothing.hits == []


def test_placement_of_a_known_transform() -> None:
    # The query is the right half (a box) of an 800x600 image; the indexed image is that
    # image: in normalised pixels, the query's points shift right by half a width.
    width, _ = F.normalised_size(800, 600)
    scale = width / 800
    frame = F.Frame((400, 0, 800, 600), scale, scale)
    shift = np.array([[1.0, 0.0, 400 * scale], [0.0, 1.0, 0.0]])
    where = placement(shift, mirrored=False, frame=frame, indexed_size=(800, 600))
    assert _iou(where["query_box"], [400, 0, 800, 600]) > 0.98
    assert _iou(where["indexed_box"], [400, 0, 800, 600]) > 0.98
    assert where["query_overlap"] == pytest.approx(1.0, abs=0.01)
    assert where["indexed_overlap"] == pytest.approx(0.5, abs=0.01)
    mirrored = placement(shift, mirrored=True, frame=frame, indexed_size=(800, 600))
    assert _iou(mirrored["query_box"], [400, 0, 800, 600]) > 0.98  # the same box, read flipped
    assert placement(np.zeros((2, 3)), mirrored=False, frame=frame, indexed_size=(800, 600)) \
        == {}


def test_a_small_index_reads_posting_lists_from_memory_like_the_file(
        demo_index: LocalIndex, photos: dict, tmp_path: Path) -> None:
    store = demo_index._store
    generation, _ = store.versions()
    words = np.unique(np.random.default_rng(1).integers(0, 400_000, 5000))
    from_file = PostingsIndex(store._conn).lists(words)
    postings = PostingsIndex(store._conn)
    postings.lists(words, generation)  # the first read after a change: from the file
    from_memory = postings.lists(words, generation)
    assert postings._memory is not None
    for a, b in ((from_file.words, from_memory.words), (from_file.sizes, from_memory.sizes),
                 (from_file.select(words[::2])[1], from_memory.select(words[::2])[1])):
        assert np.array_equal(a, b)
    # A write is seen: the copy in memory is not used once the index has changed.
    index = LocalIndex(tmp_path / "small.rir")
    index.add(encode(photos["Grace Hopper"]), title="Grace Hopper")
    for _ in range(3):
        assert index.search(encode(photos["Grace Hopper"]), k=1).hits
    index.add(encode(photos["Chelsea the cat"]), title="Chelsea the cat")
    assert index.search(encode(photos["Chelsea the cat"]), k=1).hits[0].title == \
        "Chelsea the cat"

"""Automatic regions: photos inside a larger picture found from the pixels alone."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from benchmarks import compositions as C
from rir.errors import ConfigurationError, InvalidImageError
from rir.inputs.images import load_image
from rir.inputs.region_proposals import DEFAULT_MAX_AUTO_REGIONS, MIN_SPLIT_SIDE, propose_regions
from tests.images import encode, photo, stored_turned

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"


def _photo(name: str) -> Image.Image:
    return Image.open(SKIMAGE_DATA / name).convert("RGB")


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def _found(box: tuple[int, ...], proposals: list[tuple[int, int, int, int]]) -> bool:
    return any(_iou(box, p) >= 0.7 for p in proposals)


def _check_shape(proposals: list, width: int, height: int, limit: int, *,
                 largest_first: bool = True) -> None:
    """Inside the image, at most ``limit``, never the whole image, never two alike,
    largest first."""
    assert 0 < len(proposals) <= limit
    for x1, y1, x2, y2 in proposals:
        assert all(isinstance(v, int) for v in (x1, y1, x2, y2))
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert (x1, y1, x2, y2) != (0, 0, width, height)
    for i, a in enumerate(proposals):
        assert all(_iou(a, b) < 0.6 for b in proposals[i + 1:])
    areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in proposals]
    assert areas == sorted(areas, reverse=True) or not largest_first


@pytest.mark.parametrize(("inset", "background", "area", "seed"), [
    ("astronaut.png", "ihc.png", 0.25, 1), ("coffee.png", "grass.png", 0.25, 2),
    ("chelsea.png", "ihc.png", 0.10, 3), ("rocket.jpg", "gravel.png", 0.10, 4)])
def test_finds_a_photo_pasted_into_another(inset: str, background: str, area: float,
                                           seed: int) -> None:
    made = C.inset(_photo(inset), _photo(background).resize((960, 640)), area,
                   random.Random(seed))
    image = load_image(encode(made.image, quality=90))
    proposals = propose_regions(image)
    assert _found(made.boxes[0], proposals), (made.boxes, proposals)
    _check_shape(proposals, image.width, image.height, DEFAULT_MAX_AUTO_REGIONS)


@pytest.mark.parametrize("gutter", [0, 12])
def test_finds_every_cell_of_a_collage(gutter: int) -> None:
    photos = [_photo(n) for n in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg")]
    made = C.collage(photos, random.Random(5), columns=2, gutter=gutter)
    proposals = propose_regions(load_image(encode(made.image, quality=90)))
    assert all(_found(box, proposals) for box in made.boxes), (made.boxes, proposals)


def test_finds_the_photo_in_a_page_screenshot() -> None:
    made = C.screenshot(_photo("astronaut.png"), random.Random(7))
    proposals = propose_regions(load_image(encode(made.image, quality=90)))
    assert _found(made.boxes[0], proposals), (made.boxes, proposals)


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "rocket.jpg"])
def test_finds_a_photo_whose_white_corner_runs_into_the_page(name: str) -> None:
    """A blown-out sky or a white wall in the photo meets the white page: the photo's
    outline is open there, and no text beside it (headline, caption) joins it."""
    picture = _photo(name)
    ImageDraw.Draw(picture).rectangle((0, picture.height // 2, picture.width // 3,
                                       picture.height), fill=(255, 255, 255))
    made = C.screenshot(picture, random.Random(0))
    assert made.image.getpixel((5, made.image.height - 5)) == (255, 255, 255)  # a white page
    proposals = propose_regions(load_image(encode(made.image, quality=90)))
    assert _found(made.boxes[0], proposals), (made.boxes, proposals)


@pytest.mark.parametrize(("name", "seed"), [("coffee.png", 0), ("chelsea.png", 1),
                                          ("rocket.jpg", 4)])
def test_finds_a_photo_with_white_margins_under_text_on_a_white_page(name: str,
                                                                     seed: int) -> None:
    """A picture whose own margins are white (a book cover on white) shows on a white page
    as its inner part, a few pixels under a line of text: the part is found, not joined to
    the text into no rectangle at all."""
    picture = _photo(name)
    padded = Image.new("RGB", (picture.width * 2, picture.height), (255, 255, 255))
    padded.paste(picture, (picture.width // 2, 0))
    made = C.screenshot(padded, random.Random(seed))
    assert made.image.getpixel((5, made.image.height - 5)) == (255, 255, 255)
    x1, y1, x2, y2 = made.boxes[0]
    shown = (x1 + (x2 - x1) // 4, y1, x2 - (x2 - x1) // 4, y2)
    assert _found(shown, propose_regions(load_image(encode(made.image, quality=90))))


def test_a_photo_cut_along_a_line_inside_it_is_not_proposed_beside_it() -> None:
    """With room for six parts, the two photos of a page are proposed, not also their
    slices (a cell's photo cut along a line in it shares three sides with it)."""
    from rir.demo import demo_collage

    image, boxes = demo_collage(["Grace Hopper", "Falcon 9 launching DSCOVR"])
    proposals = propose_regions(image, max_regions=6)
    assert all(_found(box.box, proposals) for box in boxes), proposals
    for a in proposals:
        for b in proposals:
            shared = sum(abs(x - y) <= 8 for x, y in zip(a, b, strict=True))
            smaller = (a[2] - a[0]) * (a[3] - a[1]) <= 0.75 * (b[2] - b[0]) * (b[3] - b[1])
            assert a == b or not (shared >= 3 and smaller), (a, b, proposals)


def test_finds_a_print_turned_on_a_wall() -> None:
    made = C.wall_print(_photo("coffee.png"), random.Random(11))
    proposals = propose_regions(load_image(encode(made.image, quality=90)))
    assert _found(made.boxes[0], proposals), (made.boxes, proposals)


def test_nothing_rectangular_gives_the_bounded_fallback() -> None:
    image = load_image(photo(600, 400))  # a smooth gradient: no edge at all
    proposals = propose_regions(image)
    _check_shape(proposals, 600, 400, DEFAULT_MAX_AUTO_REGIONS, largest_first=False)
    # the four quarters, two thirds a side: any part up to a third of each side lies whole
    # inside one of them
    quarters = [(0, 0, 400, 267), (200, 0, 600, 267), (0, 133, 400, 400), (200, 133, 600, 400)]
    assert all(_iou(got, want) > 0.98 for got, want in zip(proposals, quarters, strict=True))
    for x in range(0, 411, 10):
        for y in range(0, 274, 10):
            assert any(_inside((x, y, x + 190, y + 126), box) for box in proposals), (x, y)
    assert len(propose_regions(image, max_regions=2)) == 2
    centre = propose_regions(image, max_regions=5)[4]
    assert _iou(centre, (100, 67, 500, 333)) > 0.95  # the fifth: the centre


def test_a_blank_picture_has_no_parts_and_is_searched_whole() -> None:
    from rir import ReverseImageSearch
    from rir.demo import build_demo_index

    for colour in ((0, 0, 0), (255, 255, 255), (90, 140, 200)):
        blank = load_image(encode(Image.new("RGB", (800, 600), colour), "PNG"))
        assert propose_regions(blank, max_regions=6) == []
        found = ReverseImageSearch(build_demo_index(), cache=False).search_regions(blank, "auto")
        assert [part.origin for part in found.parts] == ["whole"]


def _inside(part: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> bool:
    return box[0] <= part[0] and box[1] <= part[1] and part[2] <= box[2] and part[3] <= box[3]


def test_deterministic_and_bounded_by_max_regions() -> None:
    photos = [_photo(n) for n in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg")]
    image = load_image(encode(C.collage(photos, random.Random(5), columns=2,
                                        gutter=0).image))
    assert propose_regions(image) == propose_regions(image)
    assert len(propose_regions(image, max_regions=1)) == 1


def test_boxes_are_in_pixels_of_the_image_as_loaded() -> None:
    made = C.inset(_photo("astronaut.png"), _photo("ihc.png").resize((640, 900)), 0.25,
                   random.Random(2))
    image = load_image(stored_turned(made.image))
    assert (image.width, image.height) == made.image.size
    assert _found(made.boxes[0], propose_regions(image))


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(InvalidImageError, match=f"at least {MIN_SPLIT_SIDE} pixels"):
        propose_regions(load_image(photo(MIN_SPLIT_SIDE - 1, 300)))
    with pytest.raises(ConfigurationError, match="max_regions"):
        propose_regions(load_image(photo(200, 200)), max_regions=0)

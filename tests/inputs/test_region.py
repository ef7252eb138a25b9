"""rir.Region: the three scales, parsing what users and models write, and one clear error
for every box that cannot be searched."""

from __future__ import annotations

import pytest

from rir import InvalidRegionError, Region, load_image
from rir.errors import ConfigurationError
from rir.inputs.crops import acrop_boxes, upscale_factor
from rir.inputs.region import parse_regions, region_unit
from tests.images import jpeg_with_orientation


def test_pixel_grid_and_fraction_regions_resolve_to_the_same_pixels() -> None:
    pixels = Region(160, 120, 480, 360)
    assert pixels.box == (160, 120, 480, 360)
    assert Region.from_grid(250, 250, 750, 750).resolve(640, 480) == pixels
    assert Region.from_fractions(0.25, 0.25, 0.75, 0.75).resolve(640, 480) == pixels
    assert Region.from_box((160, 120, 480, 360)) == pixels
    assert (pixels.width, pixels.height, pixels.as_list()) == (320, 240, [160, 120, 480, 360])


def test_grid_edges_round_outwards_and_stay_inside() -> None:
    region = Region.from_grid(0, 0, 1000, 333).resolve(101, 99)
    assert region.box == (0, 0, 101, 33)


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("120,40,560,380", "px", Region(120, 40, 560, 380)),
    ("[120, 40, 560, 380]", None, Region(120, 40, 560, 380)),
    ("(100 50 480 520)", 1000, Region.from_grid(100, 50, 480, 520)),
    ([0.1, "0.2", 0.5, 0.9], "1", Region.from_fractions(0.1, 0.2, 0.5, 0.9)),
    ({"x1": 1, "y1": 2, "x2": 30, "y2": 40}, "px", Region(1, 2, 30, 40)),
    ({"x1": 1, "y1": 2, "x2": 30, "y2": 40, "unit": "grid"}, "px",
     Region.from_grid(1, 2, 30, 40)),
])
def test_parse_reads_strings_lists_and_mappings(text, unit, expected) -> None:
    assert Region.parse(text, unit=unit) == expected


def test_parse_regions_reads_one_box_several_or_auto() -> None:
    assert parse_regions("auto") == "auto" and parse_regions(" AUTO ") == "auto"
    assert parse_regions([1, 2, 30, 40]) == [Region(1, 2, 30, 40)]
    assert parse_regions([[1, 2, 30, 40], "5,5,60,60"]) == [Region(1, 2, 30, 40),
                                                             Region(5, 5, 60, 60)]
    assert parse_regions("1,2,30,40; 5 5 60 60", unit=1000) == [
        Region.from_grid(1, 2, 30, 40), Region.from_grid(5, 5, 60, 60)]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Region(300, 50, 100, 200), "is inverted"),
    (lambda: Region(100, 50, 100, 200), "is empty"),
    (lambda: Region(-5, 0, 100, 100), "outside the scale"),
    (lambda: Region.from_grid(0, 0, 1200, 500), "The grid goes from 0 to 1000"),
    (lambda: Region.from_fractions(0, 0, 2, 0.5), "Fractions go from 0 to 1"),
    (lambda: Region(0.1, 0.2, 0.5, 0.9), "look like fractions"),
    (lambda: Region.parse("1,2,3"), "expected four numbers"),
    (lambda: Region.parse("1,2,3,x"), "expected four numbers"),
    (lambda: region_unit("cm"), "Unknown region scale"),
    (lambda: parse_regions([]), "list of regions is empty"),
])
def test_bad_boxes_get_one_clear_error(make, message) -> None:
    with pytest.raises(InvalidRegionError, match=message) as caught:
        make()
    assert isinstance(caught.value, ConfigurationError)
    assert "\n" not in str(caught.value)


def test_a_grid_box_given_as_pixels_names_the_box_the_image_and_the_fix() -> None:
    with pytest.raises(InvalidRegionError) as caught:
        Region(100, 200, 800, 900).resolve(300, 200)
    message = str(caught.value)
    assert "(100, 200, 800, 900) in pixels" in message
    assert "300x200 image" in message
    assert "Region.from_grid" in message and "--region-scale 1000" in message


def test_a_region_too_small_to_search_says_how_small_and_the_minimum() -> None:
    with pytest.raises(InvalidRegionError, match=r"only 6x5 pixels .* at least 16"):
        Region.from_grid(0, 0, 10, 10).resolve(600, 500)


def test_unresolved_regions_have_no_pixel_box() -> None:
    with pytest.raises(InvalidRegionError, match="resolve it against the image"):
        _ = Region.from_grid(0, 0, 500, 500).box


@pytest.mark.parametrize(("box", "label"), [
    ((0, 0, 640, 480), "whole image"),
    ((0, 0, 200, 150), "top-left"),
    ((440, 330, 640, 480), "bottom-right"),
    ((220, 0, 420, 150), "top"),
    ((220, 165, 420, 315), "centre"),
    ((0, 0, 320, 480), "left half"),
    ((0, 240, 640, 480), "bottom half"),
    ((0, 330, 640, 480), "bottom"),
    ((50, 24, 357, 384), "left"),
])
def test_position_labels_say_where_a_region_sits(box, label) -> None:
    assert Region(*box).position_label(640, 480) == label


def test_small_crops_are_enlarged_for_web_engines_by_the_documented_rule() -> None:
    assert upscale_factor(600, 480) == 1.0  # an ordinary photo size: sent as is
    assert upscale_factor(240, 200) == pytest.approx(2.4)  # shorter side to 480
    assert upscale_factor(60, 40) == 4.0  # at most 4x
    assert upscale_factor(1000, 200) == pytest.approx(2.048)  # longer side at most 2048


async def test_crops_are_cut_from_the_upright_image_and_carry_no_url() -> None:
    # EXIF orientation 6: stored 80x60, shown (and loaded) 60x80
    image = load_image(jpeg_with_orientation(80, 60, 6))
    assert (image.width, image.height) == (60, 80)
    [crop, small] = await acrop_boxes(image, [(0, 0, 60, 40), (0, 40, 30, 80)],
                                      upscale=False)
    assert (crop.width, crop.height, small.width, small.height) == (60, 40, 30, 40)
    assert crop.url is None and "[region 0,0,60,40]" in crop.origin
    [big] = await acrop_boxes(image, [(0, 40, 30, 80)])
    assert (big.width, big.height) == (120, 160)  # 4x: the cap


def test_region_round_trips_through_json_inside_a_model() -> None:
    from rir import RegionPart

    part = RegionPart(region=Region(1, 2, 30, 40), origin="given", label="top-left")
    assert RegionPart.model_validate_json(part.model_dump_json()) == part

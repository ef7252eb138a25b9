"""``rir search --region / --regions auto / --region-scale / --show`` and ``rir eval run
--regions auto``: output grouped by region, JSON with the parts, one line per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rir.demo import build_demo_index, demo_collage
from rir.search import DEFAULT_MAX_PAID_CALLS
from tests.cli.helpers import run

TITLES = ["Grace Hopper", "Falcon 9 launching DSCOVR"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """(index, collage file, each photo's box as 'x1,y1,x2,y2' in pixels)."""
    folder = tmp_path_factory.mktemp("cli-regions")
    build_demo_index(folder / "demo.rir").close()
    image, regions = demo_collage(TITLES)
    (folder / "collage.jpg").write_bytes(image.data)
    return folder / "demo.rir", folder / "collage.jpg", [",".join(map(str, r.box))
                                                          for r in regions]


def test_given_regions_print_one_table_per_region(capsys, files) -> None:
    index, collage, boxes = files
    code, out, err = run(capsys, "search", str(collage), "--index", str(index), "-k", "2",
                         "--region", boxes[0], "--region", boxes[1])
    assert code == 0, err
    first, second = out.index(f"Region 1, left half ({boxes[0]})"), out.index(
        f"Region 2, right ({boxes[1]})")
    assert first < out.index("Grace Hopper") < second < out.index("Falcon 9")
    assert "2 regions, 2 distinct hits from local" in out


def test_regions_auto_as_json_holds_the_parts_and_the_merged_hits(capsys, files) -> None:
    index, collage, _ = files
    code, out, err = run(capsys, "search", str(collage), "--index", str(index), "--regions",
                         "auto", "--json")
    assert code == 0, err
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["query"] == str(collage)
    origins = [part["origin"] for part in record["parts"]]
    assert origins[0] == "whole" and set(origins[1:]) == {"auto"}
    assert all("raw" not in hit for hit in record["hits"])
    assert all(isinstance(hit["metadata"]["regions"], list) for hit in record["hits"])
    assert "screenshot" not in json.dumps(record["parts"][0]["result"])


def test_grid_boxes_with_region_scale(capsys, files) -> None:
    index, collage, _ = files
    code, out, _ = run(capsys, "search", str(collage), "--index", str(index),
                       "--region", "515,206,970,794", "--region-scale", "1000", "-k", "1")
    assert code == 0 and "Falcon 9" in out and "Grace Hopper" not in out


@pytest.mark.parametrize(("arguments", "expected"), [
    (["--region", "515,206,970,794"], "lies outside the 792x408 image"),
    (["--region", "300,10,100,200"], "is inverted"),
    (["--region", "1,2,3"], "expected four numbers"),
    (["--region", "0.1,0.2,0.5,0.9"], "--region-scale 1"),
    (["--region-scale", "1000"], "give --region X1,Y1,X2,Y2 too"),
])
def test_bad_regions_are_one_line_and_exit_2(capsys, files, arguments, expected) -> None:
    index, collage, _ = files
    code, out, err = run(capsys, "search", str(collage), "--index", str(index), *arguments)
    assert code == 2 and out == ""
    assert expected in err and err.count("\n") == 1 and err.startswith("rir: error: ")


def test_auto_on_a_tiny_image_and_an_image_that_does_not_load(capsys, files, tmp_path) -> None:
    from tests.images import jpeg_bytes

    index, _, _ = files
    tiny, broken = tmp_path / "tiny.jpg", tmp_path / "broken.jpg"
    tiny.write_bytes(jpeg_bytes(size=(40, 30)))
    broken.write_bytes(b"not an image")
    for image, expected in ((tiny, "too small"), (broken, "not an image")):
        code, _, err = run(capsys, "search", str(image), "--index", str(index), "--regions",
                           "auto")
        assert code == 2 and expected in err and err.count("\n") == 1


def test_max_paid_calls_help_states_the_default(capsys) -> None:
    code, out, _ = run(capsys, "search", "--help")
    assert code == 0 and f"(default {DEFAULT_MAX_PAID_CALLS};" in " ".join(out.split())


def test_show_draws_the_regions(capsys, files, tmp_path, monkeypatch) -> None:
    index, collage, boxes = files
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = run(capsys, "search", str(collage), "--index", str(index), "--region",
                       boxes[1], "--show")
    assert code == 0, err
    [picture] = tmp_path.glob("rir-show-*.png")
    assert picture.stat().st_size > 10_000


def test_eval_run_with_regions_records_them(capsys, files, tmp_path) -> None:
    index, collage, _ = files
    dataset = tmp_path / "dataset.jsonl"
    dataset.write_text(json.dumps({"id": "q1", "image": str(collage), "answers": ["Falcon 9"],
                                   "question": "What launches on the right?"}) + "\n")
    base, regions = tmp_path / "base.jsonl", tmp_path / "regions.jsonl"
    common = ["eval", "run", str(dataset), "--model", "fake:parrot", "--index", str(index),
              "--no-progress", "--no-cache"]
    assert run(capsys, *common, "--out", str(base))[0] == 0
    code, _, err = run(capsys, *common, "--out", str(regions), "--regions", "auto")
    assert code == 0, err
    whole, parts = (json.loads(path.read_text()) for path in (base, regions))
    assert "regions" not in whole or whole["regions"] is None
    assert parts["regions"] == "auto" and "Region 1, whole image" in parts["prediction"]
    code, _, err = run(capsys, *common, "--out", str(regions))  # mixing setups is refused
    assert code == 2 and "regions=auto" in err

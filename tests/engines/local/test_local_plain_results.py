"""``LocalIndex.query_data``: the search's result as plain data, the same as the model's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PIL import Image

from benchmarks import compositions as C
from rir.cli._common import result_json
from rir.demo import DEMO_PHOTOS, available_demo_photos, build_demo_index
from rir.engines.local import LocalIndex
from rir.inputs.images import QueryImage, load_image
from rir.results.models import SearchResult
from tests.cli.helpers import run
from tests.images import encode, noisy_jpeg

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"


@pytest.fixture(scope="module")
def demo_index() -> LocalIndex:
    return build_demo_index()


def _queries() -> dict[str, QueryImage]:
    [(_, path), *_] = available_demo_photos()
    picture = Image.open(path).convert("RGB")
    cropped = picture.crop((0, 0, picture.width * 3 // 4, picture.height))
    coffee = next(photo for photo in DEMO_PHOTOS if photo.title == "Cup of coffee").path()
    assert coffee is not None
    background = Image.open(SKIMAGE_DATA / "ihc.png").convert("RGB").resize((1000, 700))
    small = C.inset(Image.open(coffee).convert("RGB"), background, 0.10, random.Random(5))
    return {"copy": load_image(encode(cropped, quality=80)),  # found whole
            "parts": load_image(encode(small.image, quality=90)),  # found in a part
            "nothing": load_image(noisy_jpeg(320, 240))}


def _same(data: dict, model: SearchResult) -> None:
    data, model = dict(data), model.model_copy(update={"elapsed_s": 0.0})
    data["elapsed_s"] = 0.0
    assert SearchResult.model_validate(data) == model
    assert list(data) == list(model.model_dump())


@pytest.mark.parametrize("kind", ["copy", "parts", "nothing"])
def test_query_data_is_the_result_of_query(demo_index: LocalIndex, kind: str) -> None:
    query = _queries()[kind]
    data = demo_index.query_data(query, k=3)
    _same(data, demo_index.query(query, k=3))
    assert isinstance(data, dict) and all(isinstance(hit, dict) for hit in data["hits"])
    if kind == "copy":
        assert data["hits"] and data["hits"][0]["position"] == 1
        assert data["hits"][0]["engine"] == "local" and data["engine"] == "local"
    elif kind == "parts":
        assert data["metadata"]["parts_searched"] >= 1
        assert data["hits"][0]["title"] == "Cup of coffee"
        assert data["hits"][0]["metadata"]["query_overlap"] < 0.2  # merged over the parts
    else:
        assert data["hits"] == [] and data["best_guess"] is None
    json.dumps(data)  # plain Python values only: JSON needs no model


def test_query_data_keeps_the_results_sheet(tmp_path: Path) -> None:
    index = build_demo_index(tmp_path / "sheet.rir", screenshot=True)
    query = _queries()["copy"]
    data = index.query_data(query, k=2)
    assert data["screenshot"].startswith(b"\x89PNG")
    _same(data, index.query(query, k=2))
    assert json.loads(result_json(data))["has_screenshot"] is True


def test_rir_index_search_json_prints_what_the_model_prints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.rir"
    build_demo_index(path).close()
    image = tmp_path / "query.jpg"
    image.write_bytes(_queries()["copy"].data)
    code, out, _ = run(capsys, "index", "search", str(image), "--index", str(path), "--json",
                       "-k", "2")
    assert code == 0
    with LocalIndex(path, create=False) as index:
        expected = json.loads(result_json(index.query(load_image(image), k=2),
                                          query=str(image)))
    printed = json.loads(out)
    assert printed.pop("elapsed_s") >= 0 and expected.pop("elapsed_s") >= 0
    assert printed == expected and printed["hits"]

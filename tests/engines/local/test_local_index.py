"""The embedded local engine: near-duplicate recall, no false matches, storage, folders."""

from __future__ import annotations

import base64
import csv
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.transforms import TRANSFORMS
from rir import ConfigurationError, ReverseImageSearch, get_engine
from rir.demo import available_demo_photos, build_demo_index
from rir.engines.local import LocalIndex
from tests.helpers import shared_path

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
UNINDEXED = ["brick.png", "grass.png", "gravel.png", "text.png", "page.png", "horse.png",
             "cell.png", "color.png", "logo.png", "clock_motion.png"]


@pytest.fixture(scope="module")
def demo_index() -> LocalIndex:
    return build_demo_index()


@pytest.fixture(scope="module")
def photos() -> list[tuple[str, Image.Image]]:
    return [(photo.title, Image.open(path).convert("RGB"))
            for photo, path in available_demo_photos()]


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_finds_every_transformed_copy(demo_index: LocalIndex, photos: list, transform: str) -> None:
    for title, image in photos:
        result = demo_index.query(TRANSFORMS[transform](image), k=3)
        assert result.hits, f"{transform} of {title}: no hit"
        assert result.hits[0].title == title, f"{transform} of {title}: {result.hits[0].title}"
        assert 0.3 <= result.hits[0].score <= 1.0


def test_unrelated_images_find_nothing(demo_index: LocalIndex) -> None:
    for name in UNINDEXED:
        result = demo_index.query(SKIMAGE_DATA / name, k=5)
        assert result.hits == [], f"{name} matched {[h.title for h in result.hits]}"
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8))
    assert demo_index.query(noise).hits == []


def test_hits_carry_what_documents_need(demo_index: LocalIndex, photos: list) -> None:
    title, image = photos[0]
    result = demo_index.search(image, k=5)  # the sync engine contract
    hit = result.hits[0]
    assert result.engine == "local" and hit.engine == "local" and hit.position == 1
    assert hit.match_type == "exact" and hit.score == 1.0
    assert hit.title == title and hit.snippet and hit.url.startswith("https://")
    assert hit.thumbnail_url.startswith("data:image/jpeg;base64,")
    Image.open(io.BytesIO(base64.b64decode(hit.thumbnail_url.split(",", 1)[1]))).verify()
    assert result.best_guess == title
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


async def test_async_search(demo_index: LocalIndex, photos: list) -> None:
    title, image = photos[1]
    result = await demo_index.asearch(TRANSFORMS["mirror"](image), k=2)
    assert result.hits[0].title == title


def test_empty_index_returns_empty_result() -> None:
    result = LocalIndex().query(Image.new("RGB", (50, 50), "red"))
    assert result.hits == [] and result.best_guess is None


def test_persistence_ids_and_updates(tmp_path: Path, photos: list) -> None:
    path = tmp_path / "photos.rir"
    index = LocalIndex(path)
    title, image = photos[0]
    first = index.add(image, title=title, caption="v1", url="https://a.example/1",
                      metadata={"tag": "x"})
    again = index.add(image, title=title + " (updated)", caption="v2", url="https://a.example/1")
    assert first == again and len(index) == 1  # same image, same url: that page is updated
    index.add(photos[1][1], title=photos[1][0])
    index.close()
    reopened = LocalIndex(path)
    assert len(reopened) == 2
    hit = reopened.query(TRANSFORMS["crop_center_70"](image)).hits[0]
    assert hit.title == title + " (updated)" and hit.snippet == "v2"
    assert hit.metadata["id"] == hit.metadata["page_id"] == first
    assert reopened.remove(first) and not reopened.remove(first)
    assert reopened.query(image).hits == [] and len(reopened) == 1


def test_a_second_process_sees_additions(tmp_path: Path, photos: list) -> None:
    path = tmp_path / "shared.rir"
    reader, writer = LocalIndex(path), LocalIndex(path)
    assert reader.query(photos[2][1]).hits == []
    writer.add(photos[2][1], title=photos[2][0])
    assert reader.query(photos[2][1]).hits[0].title == photos[2][0]


def test_add_requires_a_title_and_valid_options(photos: list) -> None:
    with pytest.raises(ConfigurationError, match="title"):
        LocalIndex().add(photos[0][1], title=" ")
    with pytest.raises(ConfigurationError, match="min_score"):
        LocalIndex(min_score=2)


def test_index_of_another_format_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.rir"
    LocalIndex(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = 'old-features' WHERE key = 'features'")
    with pytest.raises(ConfigurationError, match="Rebuild it"):
        LocalIndex(path)
    (tmp_path / "junk.rir").write_bytes(b"not sqlite at all" * 50)
    with pytest.raises(ConfigurationError, match=r"junk\.rir is not an index file"):
        LocalIndex(tmp_path / "junk.rir")


def _write_folder(folder: Path, photos: list) -> list[str]:
    names = []
    for i, (_, image) in enumerate(photos[:4]):
        name = f"img_{i}.jpg"
        image.save(folder / name, "JPEG", quality=90)
        names.append(name)
    return names


def test_add_folder_with_jsonl_captions_and_a_broken_file(tmp_path: Path, photos: list) -> None:
    names = _write_folder(tmp_path, photos)
    (tmp_path / "broken.jpg").write_text("not an image")
    captions = tmp_path / "captions.jsonl"
    captions.write_text("\n".join(json.dumps({"file": n, "title": photos[i][0],
                                              "caption": f"caption {i}", "url": f"https://x/{i}",
                                              "credit": "AP"})
                                  for i, n in enumerate(names)))
    index = LocalIndex()
    report = index.add_folder(tmp_path, captions=captions)
    assert len(report.added) == 4 and len(index) == 4
    assert report.failed and report.failed[0][0].endswith("broken.jpg")
    assert "not an image" in report.failed[0][1]
    hit = index.query(TRANSFORMS["grayscale"](photos[2][1])).hits[0]
    assert (hit.title, hit.snippet, hit.url) == (photos[2][0], "caption 2", "https://x/2")
    assert hit.metadata["credit"] == "AP" and hit.metadata["file"] == "img_2.jpg"


def test_add_folder_with_csv_sidecars_and_file_names(tmp_path: Path, photos: list) -> None:
    names = _write_folder(tmp_path, photos)
    with (tmp_path / "captions.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "title"])
        writer.writeheader()
        writer.writerow({"file": names[0], "title": "From CSV"})
    (tmp_path / "img_1.txt").write_text("From sidecar\nA longer caption.")
    (tmp_path / "img_2.json").write_text(json.dumps({"title": "From JSON sidecar"}))
    index = LocalIndex()
    index.add_folder(tmp_path, captions=tmp_path / "captions.csv")
    titles = [index.query(photos[i][1]).hits[0].title for i in range(4)]
    assert titles == ["From CSV", "From sidecar", "From JSON sidecar", "img 3"]


def test_add_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Not a folder"):
        LocalIndex().add_folder(tmp_path / "missing")
    with pytest.raises(ConfigurationError, match="No images"):
        LocalIndex().add_folder(tmp_path)
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "bad.jsonl").write_text("{not json}\n")
    with pytest.raises(ConfigurationError, match=r"bad\.jsonl:1 is not valid JSON"):
        LocalIndex().add_folder(tmp_path, captions=tmp_path / "bad.jsonl")


def test_embedding_hook_adds_similar_images(photos: list) -> None:
    def colour_histogram(image: Image.Image) -> list[float]:
        return [*list(np.asarray(image.resize((32, 32))).reshape(-1, 3).mean(axis=0)), 1.0]

    index = LocalIndex(embedder=colour_histogram, min_similarity=0.5)
    for title, image in photos[:3]:
        index.add(image, title=title)
    unrelated = Image.open(SKIMAGE_DATA / "brick.png").convert("RGB")
    result = index.query(unrelated, k=3)
    assert result.hits and all(h.match_type == "similar" for h in result.hits)
    exact = index.query(photos[0][1], k=3)
    assert exact.hits[0].match_type == "exact" and exact.hits[0].title == photos[0][0]


def test_screenshot_option_renders_a_results_sheet(photos: list) -> None:
    index = LocalIndex(screenshot=True)
    index.add(photos[0][1], title=photos[0][0])
    result = index.query(photos[0][1])
    assert result.screenshot and Image.open(io.BytesIO(result.screenshot)).format == "PNG"


def test_through_reverse_image_search_by_name(tmp_path: Path, photos: list) -> None:
    path = tmp_path / "i.rir"
    build_demo_index(path).close()
    searcher = ReverseImageSearch("local", path=path, cache=True)
    result = searcher.search(TRANSFORMS["caption_band"](photos[0][1]), k=3)
    assert result.hits[0].title == photos[0][0] and not result.from_cache
    assert isinstance(get_engine("local", path=path), LocalIndex)


@pytest.mark.shared_data
def test_recall_on_real_news_photos() -> None:
    """Index 40 real news photographs, query 15 of them under every transform."""
    folder = shared_path("images", "news")
    files = sorted(folder.glob("*.jpg"))
    random.Random(7).shuffle(files)
    index = LocalIndex()
    for file in files[:40]:
        index.add(file, title=file.stem)
    per_transform = {}
    for name, transform in TRANSFORMS.items():
        found = 0
        for file in files[:15]:
            result = index.query(transform(Image.open(file).convert("RGB")), k=1)
            found += bool(result.hits) and result.hits[0].title == file.stem
        per_transform[name] = found / 15
    overall = sum(per_transform.values()) / len(per_transform)
    assert overall >= 0.95, per_transform
    assert min(per_transform.values()) >= 0.9, per_transform
    false_matches = [f.name for f in files[40:60] if index.query(f, k=1).hits]
    assert len(false_matches) <= 1, false_matches

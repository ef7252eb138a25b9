"""The local index's data model: one image on many pages, removal, listing, min_score."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.transforms import TRANSFORMS
from rir import ConfigurationError
from rir.demo import available_demo_photos
from rir.engines.local import AddReport, IndexedPage, LocalIndex


@pytest.fixture(scope="module")
def photos() -> list[tuple[str, Image.Image]]:
    return [(photo.title, Image.open(path).convert("RGB"))
            for photo, path in available_demo_photos()]


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_one_photo_on_two_pages_returns_both(tmp_path: Path, photos: list) -> None:
    """The issue's scenario: a wire photo in two articles is found on both."""
    photo = _jpeg(photos[0][1])
    index = LocalIndex(tmp_path / "news.rir")
    a = index.add(photo, title="Page A", url="https://news.example/a")
    b = index.add(photo, title="Page B", url="https://news.example/b")
    assert a != b and len(index) == 2
    stats = index.stats()
    assert (stats["images"], stats["pages"]) == (1, 2) and stats["bytes"] > 0
    assert stats["format"] == "2" and stats["path"].endswith("news.rir")

    result = index.search(TRANSFORMS["crop_center_70"](photos[0][1]), k=10)
    assert [h.title for h in result.hits] == ["Page A", "Page B"]
    assert [h.url for h in result.hits] == ["https://news.example/a", "https://news.example/b"]
    first, second = result.hits
    assert first.score == second.score and first.score >= 0.3
    assert first.metadata["image_id"] == second.metadata["image_id"]
    assert (first.metadata["page_id"], second.metadata["page_id"]) == (a, b)
    assert [h.position for h in result.hits] == [1, 2]
    index.close()
    assert len(LocalIndex(tmp_path / "news.rir")) == 2  # both pages persisted


def test_same_url_updates_and_no_url_means_one_page_per_title(photos: list) -> None:
    index = LocalIndex(":memory:")
    image = photos[1][1]
    first = index.add(image, title="Old title", url="https://x.example/p", caption="v1")
    assert index.add(image, title="New title", url="https://x.example/p", caption="v2") == first
    assert [(p.title, p.caption) for p in index.pages()] == [("New title", "v2")]

    untitled = index.add(image, title="Gallery", caption="c1")
    assert index.add(image, title="Gallery", caption="c2") == untitled  # same image + title
    other = index.add(image, title="Another gallery")
    assert len({first, untitled, other}) == 3 and len(index) == 3
    assert index.stats()["images"] == 1
    assert [p.caption for p in index.pages() if p.page_id == untitled] == ["c2"]


def test_pages_remove_and_remove_image(photos: list) -> None:
    index = LocalIndex(":memory:")
    one = [index.add(photos[2][1], title=f"Page {n}", url=f"https://p.example/{n}")
           for n in range(3)]
    lone = index.add(photos[3][1], title="Elsewhere")
    image_id = index.search(photos[2][1]).hits[0].metadata["image_id"]

    pages = index.pages(image_id)
    assert [p.page_id for p in pages] == one
    assert all(isinstance(p, IndexedPage) and p.image_id == image_id and p.added_at > 0
               for p in pages)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pages[0].title = "changed"  # type: ignore[misc]
    assert len(index.pages()) == 4 and index.pages("no-such-image") == []

    assert index.remove(one[0]) and not index.remove(one[0])
    assert [h.title for h in index.search(photos[2][1]).hits] == ["Page 1", "Page 2"]
    assert index.remove_image(image_id) == 2 and index.remove_image(image_id) == 0
    assert index.search(photos[2][1]).hits == []
    assert len(index) == 1 and index.stats()["images"] == 1

    # The last page of an image takes the image with it.
    assert index.remove(lone) and index.stats()["images"] == 0
    assert index.search(photos[3][1]).hits == []


def test_k_counts_pages_and_marks_what_it_left_out(photos: list) -> None:
    index = LocalIndex(":memory:")
    for n in range(3):
        index.add(photos[4][1], title=f"Story {n}", url=f"https://s.example/{n}")
    result = index.search(photos[4][1], k=2)
    assert [h.title for h in result.hits] == ["Story 0", "Story 1"]
    assert result.metadata["pages_not_shown"] == 1
    assert index.search(photos[4][1], k=5).metadata["pages_not_shown"] == 0


def test_best_image_first_then_its_pages(photos: list) -> None:
    index = LocalIndex(":memory:")
    original = _jpeg(photos[0][1])
    cropped = _jpeg(TRANSFORMS["crop_center_70"](photos[0][1]))
    index.add(cropped, title="Cropped copy", url="https://c.example/1")
    index.add(original, title="Original A", url="https://o.example/a")
    index.add(original, title="Original B", url="https://o.example/b")
    hits = index.search(original, k=10).hits
    assert [h.title for h in hits] == ["Original A", "Original B", "Cropped copy"]
    assert hits[0].score == hits[1].score == 1.0 > hits[2].score
    assert hits[0].metadata["image_id"] != hits[2].metadata["image_id"]


async def test_min_score_per_call(photos: list) -> None:
    index = LocalIndex(":memory:")
    index.add(photos[0][1], title="Hopper")
    disguised = TRANSFORMS["crop_offcenter_70"](photos[0][1])
    score = index.query(disguised).hits[0].score
    assert 0.3 <= score < 1.0
    assert index.search(disguised, min_score=min(1.0, score + 0.01)).hits == []
    assert index.query(disguised, min_score=min(1.0, score + 0.01)).hits == []
    assert (await index.asearch(disguised, min_score=min(1.0, score + 0.01))).hits == []
    assert (await index.asearch(disguised, min_score=score)).hits[0].title == "Hopper"
    assert index.min_score == 0.3  # a per-call threshold does not stick
    for bad in (-0.1, 1.5, "high", True):
        with pytest.raises(ConfigurationError, match="min_score"):
            index.search(disguised, min_score=bad)


async def test_aadd_takes_the_same_page_fields(photos: list) -> None:
    index = LocalIndex(":memory:")
    page_id = await index.aadd(photos[5][1], title="T", caption="C", url="https://u.example/",
                               image_url="https://u.example/i.jpg", metadata={"credit": "AP"})
    (page,) = index.pages()
    assert (page.page_id, page.title, page.caption, page.url, page.image_url, page.metadata) == (
        page_id, "T", "C", "https://u.example/", "https://u.example/i.jpg", {"credit": "AP"})


def test_memory_index_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     photos: list) -> None:
    monkeypatch.chdir(tmp_path)
    index = LocalIndex(":memory:")
    index.add(photos[0][1], title="x")
    assert index.path is None and index.stats()["path"] == ":memory:"
    assert list(tmp_path.iterdir()) == []


def test_add_folder_progress_and_report_wording(tmp_path: Path, photos: list) -> None:
    photos[0][1].save(tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_text("not an image")
    calls: list[tuple[int, int]] = []
    report = LocalIndex(":memory:").add_folder(tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]
    assert str(report) == "1 image indexed, 1 failed" and len(report.added) == 1
    assert str(AddReport(added=["a", "b"])) == "2 images indexed, 0 failed"
    assert str(AddReport()) == "0 images indexed, 0 failed"
    with pytest.raises(ConfigurationError, match="workers"):
        LocalIndex(":memory:").add_folder(tmp_path, workers=0)

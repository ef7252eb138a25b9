"""Issue 13 item 5: `rir index` covers the index: one image and its page, list, remove, bar."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import run, write_demo_photos


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("photos")
    return write_demo_photos(folder)


def pages(capsys, index: Path, *extra: str) -> list[dict]:
    code, out, _ = run(capsys, "index", "list", "--index", str(index), "--json", *extra)
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_one_photo_on_two_pages_listed_and_removed(capsys, tmp_path: Path,
                                                   photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    wire = photos[0]
    for title, url in (("Storm hits coast", "https://news.example/a?id=1"),
                       ("Week in pictures", "https://news.example/b")):
        code, out, _ = run(capsys, "index", "add", str(wire), "--index", str(index),
                           "--title", title, "--url", url, "--caption", "Waves at dawn",
                           "--image-url", "https://cdn.example/wire.jpg")
        assert code == 0
    assert "now holds 1 image on 2 pages" in out
    run(capsys, "index", "add", str(photos[1]), "--index", str(index))
    listed = pages(capsys, index)
    assert len(listed) == 3 and len({p["image_id"] for p in listed}) == 2
    a, b = (p for p in listed if p["title"] in ("Storm hits coast", "Week in pictures"))
    assert a["image_id"] == b["image_id"] and a["page_id"] != b["page_id"]
    assert {a["url"], b["url"]} == {"https://news.example/a?id=1", "https://news.example/b"}
    assert a["caption"] == "Waves at dawn" and a["image_url"] == "https://cdn.example/wire.jpg"
    assert {p["page_id"] for p in pages(capsys, index, "--image", a["image_id"])} == \
        {a["page_id"], b["page_id"]}

    code, out, _ = run(capsys, "index", "list", "--index", str(index))
    assert code == 0 and a["page_id"] in out and a["image_id"] in out
    assert out.count(a["image_id"]) == 1  # grouped: the image id heads its pages
    assert "3 pages of 2 images" in out

    # Search returns both pages of the wire photo, sharing its score.
    code, out, _ = run(capsys, "index", "search", str(wire), "--index", str(index), "--json")
    hits = json.loads(out)["hits"]
    assert {h["title"] for h in hits} >= {"Storm hits coast", "Week in pictures"}

    # A typo changes nothing: every id is checked before anything is removed.
    code, _, err = run(capsys, "index", "remove", a["page_id"], "feedfacefeedfacefeed",
                       "--index", str(index))
    assert code == 2 and "feedfacefeedfacefeed" in err and "nothing was removed" in err
    assert len(pages(capsys, index)) == 3
    code, out, _ = run(capsys, "index", "remove", a["page_id"], "--index", str(index))
    assert code == 0 and "Removed 1 page" in out and "2 pages of 2 images" in out
    code, _, err = run(capsys, "index", "remove", a["image_id"], "--index", str(index))
    assert code == 2 and "need --image" in err
    code, out, _ = run(capsys, "index", "remove", a["image_id"], "--image", "--index", str(index))
    assert code == 0 and "Removed 1 image (1 page)" in out
    left = pages(capsys, index)
    assert len(left) == 1 and left[0]["image_id"] != a["image_id"]
    code, _, err = run(capsys, "index", "list", "--image", a["image_id"], "--index", str(index))
    assert code == 2 and "No image with id" in err


def test_list_and_remove_need_an_existing_index(capsys, tmp_path: Path) -> None:
    for argv in (["index", "list"], ["index", "remove", "abc"]):
        code, _, err = run(capsys, *argv, "--index", str(tmp_path / "none.rir"))
        assert code == 2 and "No index at" in err
    assert list(tmp_path.iterdir()) == []


def test_progress_only_on_a_terminal(capsys, tmp_path: Path, photos: list[Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = photos[0].parent
    code, _, err = run(capsys, "index", "add", str(folder), "--index", str(tmp_path / "a.rir"))
    assert code == 0 and "indexing" not in err and err == ""  # piped: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(capsys, "index", "add", str(folder), "--index", str(tmp_path / "b.rir"),
                         "--workers", "1")
    assert code == 0 and "3 images indexed" in out
    assert "indexing" in err and "3/3" in err and "images/s" in err and "left" in err

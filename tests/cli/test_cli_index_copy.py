"""`rir index copy SRC DST`: an index moves between a file and Qdrant whole, or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from qdrant_client import QdrantClient, models

from benchmarks.transforms import TRANSFORMS
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.engines.local.copy import copy_index
from rir.engines.local.qdrant.backend import QdrantBackend
from rir.engines.local.store import IndexStore
from tests.cli.helpers import run
from tests.helpers import Route


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    found = [Image.open(path).convert("RGB") for _, path in available_demo_photos()[:3]]
    if len(found) < 3:
        pytest.skip("the demo photos (matplotlib, scikit-image) are not installed")
    return found


@pytest.fixture
def source(tmp_path: Path, photos: list) -> Path:
    """An index file: one photo on two pages, two more photos (one with a caption)."""
    path = tmp_path / "src.rir"
    with LocalIndex(path) as index:
        index.add(photos[0], title="Page A", url="https://n.example/a")
        index.add(photos[1], title="Other", caption="a caption", metadata={"k": 1})
        index.add(photos[0], title="Page B", url="https://n.example/b")
        index.add(photos[2], title="Third")
    return path


def test_a_file_goes_to_qdrant_and_back_whole(capsys, tmp_path: Path, source: Path,
                                             photos: list) -> None:
    qdrant = f"qdrant+local:{tmp_path / 'qd'}/photos"
    code, out, err = run(capsys, "index", "copy", str(source), qdrant)
    assert code == 0, err
    assert "copied 3 images on 4 pages" in out
    back = tmp_path / "back.rir"
    code, out, err = run(capsys, "index", "copy", qdrant, str(back))
    assert code == 0, err
    original, copied = IndexStore(source).pages(), IndexStore(back).pages()
    assert [(p.page_id, p.image_id, p.title, p.caption, p.url, p.metadata) for p in copied] == \
        [(p.page_id, p.image_id, p.title, p.caption, p.url, p.metadata) for p in original]
    assert not list(tmp_path.glob(".*partial*"))
    with LocalIndex(back) as index:  # the copied features still find a transformed copy
        hits = index.search(TRANSFORMS["crop_offcenter_70"](photos[0])).hits
        assert [h.title for h in hits] == ["Page A", "Page B"]
    backend = QdrantBackend(path=str(tmp_path / "qd"), collection="photos", create=False)
    with LocalIndex(backend=backend) as index:
        assert [h.title for h in index.search(TRANSFORMS["mirror"](photos[0])).hits] == \
            ["Page A", "Page B"]


def test_copy_reports_progress_to_the_last_page(source: Path) -> None:
    seen: list[tuple[int, int]] = []
    destination = QdrantBackend(":memory:", collection="c")
    report = copy_index(IndexStore(source), destination, progress=lambda d, t: seen.append((d, t)))
    assert (report.images, report.pages) == (3, 4) and seen[-1] == (4, 4)


def test_an_existing_destination_is_refused_and_left_alone(capsys, tmp_path: Path,
                                                           source: Path) -> None:
    other = tmp_path / "other.rir"
    other.write_bytes(b"keep me")
    code, _, err = run(capsys, "index", "copy", str(source), str(other))
    assert code == 2 and "already exists" in err and other.read_bytes() == b"keep me"
    code, _, err = run(capsys, "index", "copy", str(tmp_path / "missing.rir"), str(tmp_path / "n"))
    assert code == 2 and "No index at" in err and not (tmp_path / "n").exists()


@pytest.mark.parametrize("bad", ["qdrant://127.0.0.1:6333", "qdrant://u:p@127.0.0.1/c",
                                 "qdrant+local:nocollection", "s3://bucket/x"])
def test_bad_locations_are_exit_2_naming_the_syntax(capsys, source: Path, bad: str) -> None:
    code, _, err = run(capsys, "index", "copy", str(source), bad)
    assert code == 2 and err.count("\n") == 1 and "rir: error:" in err
    assert "u:p" not in err


def test_an_unreachable_server_is_exit_1(capsys, tmp_path: Path, source: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = run(capsys, "index", "copy", str(source), f"qdrant://127.0.0.1:{port}/x")
    assert code == 1 and "Cannot reach Qdrant" in err and err.count("\n") == 1


def test_a_collection_with_another_schema_is_exit_2(capsys, tmp_path: Path) -> None:
    client = QdrantClient(path=str(tmp_path / "qd"))
    client.create_collection("theirs", vectors_config=models.VectorParams(
        size=8, distance=models.Distance.COSINE))
    client.close()
    code, _, err = run(capsys, "index", "copy", f"qdrant+local:{tmp_path / 'qd'}/theirs",
                       str(tmp_path / "out.rir"))
    assert code == 2 and "not a reverse-image-rag index" in err
    assert not (tmp_path / "out.rir").exists()


@pytest.mark.parametrize("kind", ["file", "qdrant"])
def test_a_copy_failing_half_way_leaves_no_destination(capsys, monkeypatch, tmp_path: Path,
                                                       source: Path, kind: str) -> None:
    monkeypatch.setattr("rir.engines.local.copy._BATCH", 1)
    cls = IndexStore if kind == "file" else QdrantBackend
    real_write, calls = cls.write, []

    def failing_write(self, items):  # the second batch hits a full disk
        calls.append(len(items))
        if len(calls) == 2:
            raise OSError("No space left on device")
        return real_write(self, items)

    monkeypatch.setattr(cls, "write", failing_write)
    target = str(tmp_path / "out.rir") if kind == "file" else f"qdrant+local:{tmp_path}/qd/c"
    code, _, err = run(capsys, "index", "copy", str(source), target)
    assert code == 1 and "No space left on device" in err and len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "src.rir"
                  and not p.name.startswith("src.rir-")) == ([] if kind == "file" else ["qd"])
    if kind == "qdrant":
        client = QdrantClient(path=str(tmp_path / "qd"))
        assert not client.collection_exists("c")
        client.close()
    with LocalIndex(source) as index:
        assert len(index) == 4  # the source is untouched


def test_the_index_commands_work_on_a_collection(capsys, tmp_path: Path, photos: list) -> None:
    """add, search, list, remove and stats with --index naming a Qdrant collection."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for n, photo in enumerate(photos):
        photo.save(folder / f"p{n}.jpg", quality=90)
    query = tmp_path / "query.jpg"
    TRANSFORMS["crop_offcenter_70"](photos[1]).save(query, quality=90)
    where = f"qdrant+local:{tmp_path / 'qd'}/archive"
    code, out, err = run(capsys, "index", "add", str(folder), "--index", where)
    assert code == 0, err
    assert f"3 images indexed, 0 failed; the index at {where} now holds 3 images" in out
    code, out, err = run(capsys, "index", "add", str(folder / "p1.jpg"), "--title", "Elsewhere",
                         "--url", "https://n.example/elsewhere", "--index", where)
    assert code == 0 and "3 images on 4 pages" in out, err
    code, out, err = run(capsys, "index", "search", str(query), "--json", "--index", where)
    hits = json.loads(out)["hits"]
    assert code == 0 and [h["title"] for h in hits] == ["p1", "Elsewhere"], err
    code, out, _ = run(capsys, "index", "list", "--json", "--index", where)
    page_ids = [json.loads(line)["page_id"] for line in out.splitlines()]
    assert code == 0 and len(page_ids) == 4
    assert run(capsys, "index", "remove", page_ids[0], "--index", where)[0] == 0
    code, out, _ = run(capsys, "index", "stats", "--index", where)
    assert code == 0 and (json.loads(out)["images"], json.loads(out)["pages"]) == (2, 3)


def test_a_failed_add_creates_no_collection_and_a_missing_one_is_exit_2(capsys,
                                                                       tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"not an image")
    where = f"qdrant+local:{tmp_path / 'qd'}/c"
    code, out, _ = run(capsys, "index", "add", str(folder), "--index", where)
    assert code == 1 and "no index was created" in out
    client = QdrantClient(path=str(tmp_path / "qd"))
    assert not client.collection_exists("c")
    client.close()
    code, _, err = run(capsys, "index", "search", str(folder / "a.jpg"), "--index", where)
    assert code == 2 and "No Qdrant collection 'c'" in err


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
def test_a_rejected_api_key_is_exit_2_without_the_key(capsys, monkeypatch, tmp_path: Path,
                                                      source: Path, local_server) -> None:
    """A 127.0.0.1 server answering as Qdrant does to a wrong key (no real server here)."""
    secret = "wrong-qdrant-key-987654321"
    monkeypatch.setenv("QDRANT_API_KEY", secret)
    local_server.route("/collections/photos/exists",
                       Route(status=403, body="Invalid API key or JWT"))
    code, out, err = run(capsys, "index", "copy", str(source),
                         f"qdrant://127.0.0.1:{local_server.port}/photos")
    assert code == 2 and "rejected the API key (HTTP 403)" in err and err.count("\n") == 1
    assert secret not in out + err
    assert local_server.requests[-1].headers["api-key"] == secret

"""Index files: migration of format 1, and clear errors for files this version cannot use."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.transforms import TRANSFORMS
from rir import ConfigurationError
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.engines.local import features as F
from rir.inputs.images import load_image
from tests.cli.helpers import run

# The format-1 schema exactly as released (one row per image = one page), frozen here so
# the migration is tested against what users' files really contain.
FORMAT_1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL,
    title TEXT NOT NULL, caption TEXT, url TEXT, image_url TEXT,
    metadata TEXT NOT NULL DEFAULT '{}', width INTEGER NOT NULL, height INTEGER NOT NULL,
    added_at REAL NOT NULL, thumbnail BLOB, global_desc BLOB NOT NULL, words BLOB NOT NULL,
    points BLOB NOT NULL, descriptors BLOB NOT NULL, embedding BLOB
);
CREATE INDEX entries_sha256 ON entries (sha256);
"""


@pytest.fixture(scope="module")
def photos() -> list[tuple[str, Path]]:
    return [(photo.title, path) for photo, path in available_demo_photos()][:3]


def write_format_1(path: Path, photos: list[tuple[str, Path]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(FORMAT_1_SCHEMA)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", "1"), ("features", F.FEATURE_VERSION), ("generation", "3"),
            ("deletions", "0"), ("created_at", str(time.time()))])
        for n, (title, file) in enumerate(photos):
            image = load_image(file)
            features = F.extract_index_features(F.load_for_features(image.data))
            conn.execute(
                "INSERT INTO entries (id, sha256, title, caption, url, image_url, metadata, "
                "width, height, added_at, thumbnail, global_desc, words, points, descriptors) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (image.sha256[:20], image.sha256, title, f"caption {n}",
                 f"https://old.example/{n}" if n else None, None, json.dumps({"n": n}),
                 image.width, image.height, time.time(), None, features.global_desc.tobytes(),
                 features.words.astype(np.uint32).tobytes(), features.points.tobytes(),
                 features.descriptors.tobytes()))
    conn.close()


def test_a_format_1_file_is_migrated_in_place_with_a_backup(tmp_path: Path,
                                                            photos: list) -> None:
    path = tmp_path / "old.rir"
    write_format_1(path, photos)
    index = LocalIndex(path)
    assert index.stats()["format"] == "2"
    assert (index.stats()["images"], len(index)) == (3, 3)
    pages = index.pages()
    assert [p.title for p in pages] == [t for t, _ in photos]
    assert [p.caption for p in pages] == ["caption 0", "caption 1", "caption 2"]
    assert [p.url for p in pages] == [None, "https://old.example/1", "https://old.example/2"]
    assert [p.metadata for p in pages] == [{"n": 0}, {"n": 1}, {"n": 2}]

    title, file = photos[1]
    hit = index.search(TRANSFORMS["mirror"](Image.open(file).convert("RGB"))).hits[0]
    assert hit.title == title and hit.metadata["image_id"] == load_image(file).sha256[:20]
    # Adding the same page again after migration updates it (same page id), not a duplicate.
    assert index.add(file, title="renamed", url="https://old.example/1") == hit.metadata["id"]
    assert len(index) == 3
    index.close()

    backup = tmp_path / "old.rir.v1.bak"
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='format'").fetchone() == ("1",)
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone() == (3,)
    conn.close()
    assert LocalIndex(path).stats()["format"] == "2"  # opens again without a second migration
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == ["old.rir.v1.bak"]


def test_a_second_migration_does_not_overwrite_an_earlier_backup(tmp_path: Path,
                                                                 photos: list) -> None:
    path = tmp_path / "old.rir"
    (tmp_path / "old.rir.v1.bak").write_bytes(b"an earlier backup")
    write_format_1(path, photos[:1])
    LocalIndex(path).close()
    assert (tmp_path / "old.rir.v1.bak").read_bytes() == b"an earlier backup"
    assert (tmp_path / "old.rir.v1.1.bak").is_file()


def test_a_newer_format_is_refused_with_the_upgrade_command(tmp_path: Path) -> None:
    path = tmp_path / "new.rir"
    LocalIndex(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'format'")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ConfigurationError, match=r"newer version.*pip install -U"):
        LocalIndex(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"not sqlite at all" * 50, b"SQLite format 3\0" + b"\1" * 200])
def test_a_damaged_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.rir"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match=r"local index \S*junk\.rir is .*rir index add"):
        LocalIndex(path)
    assert path.read_bytes() == content


def test_another_sqlite_file_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE results (key TEXT)")
    conn.close()
    with pytest.raises(ConfigurationError, match="not a local index"):
        LocalIndex(path)
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    conn.close()
    assert tables == ["results"]


def test_a_folder_is_not_an_index_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a folder"):
        LocalIndex(tmp_path)


def _photo_folder(folder: Path, photos: list[tuple[str, Path]], count: int) -> list[Path]:
    """``count`` distinct JPEGs (demo photos, then slightly cropped variants)."""
    files = []
    images = [Image.open(p).convert("RGB") for _, p in available_demo_photos()]
    for n in range(count):
        image = images[n % len(images)]
        if n >= len(images):
            image = image.crop((n, n, image.width - n, image.height - n))
        files.append(folder / f"photo_{n:02d}.jpg")
        image.save(files[-1], "JPEG", quality=90)
    return files


def test_a_file_damaged_after_writing_fails_with_one_clear_line(tmp_path: Path,
                                                                photos: list) -> None:
    path = tmp_path / "cut.rir"
    index = LocalIndex(path)
    for title, file in photos:
        index.add(file, title=title)
    index.close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ConfigurationError, match=r"damaged|Cannot open the local index"):
        LocalIndex(path).search(photos[0][1])


def test_an_interrupted_bulk_add_leaves_a_consistent_index(tmp_path: Path, photos: list,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from rir.engines.local import index as index_module

    monkeypatch.setattr(index_module, "_WRITE_BATCH", 2)
    folder = tmp_path / "photos"
    folder.mkdir()
    files = _photo_folder(folder, photos, 6)

    def stop_at_five(done: int, total: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    path = tmp_path / "i.rir"
    with pytest.raises(KeyboardInterrupt):
        LocalIndex(path).add_folder(folder, progress=stop_at_five, workers=1)
    reopened = LocalIndex(path)
    stats = reopened.stats()
    assert (stats["images"], stats["pages"]) == (4, 4)  # two whole batches, nothing half-way
    for file in files[:4]:
        assert reopened.search(file).hits[0].title == file.stem.replace("_", " ")
    assert reopened.search(files[4]).hits == [] or \
        reopened.search(files[4]).hits[0].title != "photo 04"


def test_a_failed_batch_write_is_reported_per_file(tmp_path: Path, photos: list,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from rir.engines.local import index as index_module
    from rir.engines.local.store import IndexStore

    monkeypatch.setattr(index_module, "_WRITE_BATCH", 2)
    real_write, calls = IndexStore.write, []

    def full_on_second_batch(self: IndexStore, items: list) -> list[str]:
        calls.append(len(items))
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real_write(self, items)

    monkeypatch.setattr(IndexStore, "write", full_on_second_batch)
    folder = tmp_path / "photos"
    folder.mkdir()
    files = _photo_folder(folder, photos, 6)
    index = LocalIndex(tmp_path / "i.rir")
    report = index.add_folder(folder, workers=1)
    assert [Path(f).name for f, _ in report.failed] == [files[2].name, files[3].name]
    assert all("database or disk is full" in why for _, why in report.failed)
    assert len(report.added) == 4 and str(report) == "4 images indexed, 2 failed"
    assert (index.stats()["images"], len(index)) == (4, 4)


def test_a_folder_is_fingerprinted_on_a_process_pool(tmp_path: Path, photos: list) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    files = _photo_folder(folder, photos, 17)
    (folder / "zz_broken.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    calls: list[tuple[int, int]] = []
    index = LocalIndex(":memory:")
    report = index.add_folder(folder, workers=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(n, 18) for n in range(1, 19)]
    assert len(report.added) == 17 and [Path(f).name for f, _ in report.failed] == \
        ["zz_broken.jpg"]
    assert index.search(files[12]).hits[0].title == "photo 12"


def test_deferred_merges_then_compact_keep_every_image_findable(tmp_path: Path,
                                                                photos: list) -> None:
    from rir.engines.local.folder import fingerprint
    from rir.engines.local.records import PageData

    index = LocalIndex(tmp_path / "bulk.rir")
    store = index._store
    files = _photo_folder(tmp_path, photos, 9)
    prints = [fingerprint(load_image(f)) for f in files]
    for start in range(0, 9, 3):
        store.write([(p, PageData(f"p{start + n}")) for n, p in enumerate(prints[start:start + 3])],
                    defer_merges=True)
    assert store.segments() == 3
    assert index.remove_image(prints[4].image_id) == 1
    store.compact()
    assert store.segments() == 1
    for n, file in enumerate(files):
        hits = index.search(file).hits
        assert (hits[0].title if hits else None) == (None if n == 4 else f"p{n}")
    removed = store._conn.execute("SELECT COUNT(*) FROM removed").fetchone()[0]
    assert removed == 1  # kept: harmless, and a reader may still hold the old rows


def test_reading_a_format_1_file_leaves_it_as_it_is_and_names_the_upgrade(
        tmp_path: Path, photos: list, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.rir"
    write_format_1(path, photos[:1])
    before = path.read_bytes()
    with pytest.raises(ConfigurationError, match=r"format 1.*rir index upgrade --index"):
        LocalIndex(path, create=False)
    for argv in (["index", "stats", "--index", str(path)],
                 ["index", "search", str(photos[0][1]), "--index", str(path)],
                 ["index", "list", "--index", str(path)]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and "rir index upgrade" in err and out == "", (argv, err)
        assert len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.rir"]


def test_rir_index_upgrade_migrates_once_and_keeps_the_old_file(
        tmp_path: Path, photos: list, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.rir"
    write_format_1(path, photos[:2])
    old = path.read_bytes()
    code, out, _ = run(capsys, "index", "upgrade", "--index", str(path))
    assert code == 0 and f"kept as {tmp_path / 'old.rir.v1.bak'}" in out
    assert (tmp_path / "old.rir.v1.bak").read_bytes()[:16] == old[:16]
    assert LocalIndex(path, create=False).stats()["images"] == 2
    code, out, _ = run(capsys, "index", "upgrade", "--index", str(path))
    assert code == 0 and "already in format 2: nothing to do" in out
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == ["old.rir.v1.bak"]
    empty = tmp_path / "empty.rir"
    empty.write_bytes(b"")
    code, _, err = run(capsys, "index", "upgrade", "--index", str(empty))
    assert code == 2 and "empty" in err and empty.read_bytes() == b""

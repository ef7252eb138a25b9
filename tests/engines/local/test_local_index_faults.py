"""Fault tests of the index file, kept as tests: what a crash, a second writer, a reader
during a write or a damaged file does to it. Real SQLite files, real ``rir`` processes.

The read-only entry points (``rir index stats|search|list``, ``rir search --engine
local``, ``open_index``, ``LocalIndex(create=False)``, ``get_engine("local")``) must
refuse an empty, truncated or byte-flipped file with one line, and leave it byte for
byte as it was (before this, an empty file silently became an empty 64 KB index).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rir.engines import get_engine
from rir.engines.local import LocalIndex, open_index
from rir.errors import ConfigurationError
from tests.images import noisy_jpeg

REPO = Path(__file__).resolve().parents[3]


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``rir ARGS`` run by the CLI's own main, in this process: (exit code, stderr)."""
    from rir.cli import main

    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def _rir(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from rir.cli import main; "
                           "sys.exit(main())", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def _folder(root: Path, count: int, *, seed: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"img{seed + i:04d}.jpg").write_bytes(noisy_jpeg(160, 120, seed=seed + i))
    return root


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a healthy index file of 12 images, one of those images to search with)."""
    root = tmp_path_factory.mktemp("faults")
    folder = _folder(root / "photos", 12)
    path = root / "good.rir"
    index = LocalIndex(path)
    index.add_folder(folder, workers=1)
    index.close()
    return path, folder / "img0003.jpg"


def _damaged(good: Path, tmp_path: Path, kind: str) -> Path:
    data = good.read_bytes()
    target = tmp_path / f"{kind}.rir"
    if kind == "zero-byte":
        target.write_bytes(b"")
    elif kind == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-odd":
        target.write_bytes(data[:5000])
    elif kind == "header-flipped":
        target.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])
    elif kind == "page-size-flipped":
        target.write_bytes(data[:16] + bytes([data[16] ^ 0x01]) + data[17:])
    elif kind == "btree-flipped":  # page 1's b-tree header, right after the file header
        target.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    elif kind.startswith("schema-"):  # the CREATE TABLE text SQLite keeps on page 1
        # a flipped bit renames a column ('title' -> 'uitle'); a high bit makes the text
        # invalid UTF-8 (SQLite's error then quotes bytes Python cannot decode)
        at = data.index(b"title TEXT NOT NULL")
        flip = 0x01 if kind == "schema-renamed" else 0x80
        target.write_bytes(data[:at] + bytes([data[at] ^ flip]) + data[at + 1:])
    return target


DAMAGE = ("zero-byte", "truncated", "truncated-odd", "header-flipped", "page-size-flipped",
          "btree-flipped", "schema-renamed", "schema-not-utf8")


@pytest.mark.parametrize("kind", DAMAGE)
def test_read_only_commands_refuse_a_damaged_file_and_leave_it_unchanged(
        small_index: tuple[Path, Path], tmp_path: Path, kind: str, capsys) -> None:
    good, query = small_index
    path = _damaged(good, tmp_path, kind)
    before = path.read_bytes()
    for args in (("index", "stats", "--index", str(path)),
                 ("index", "search", str(query), "--index", str(path)),
                 ("index", "list", "--index", str(path)),
                 ("search", "--engine", "local", "--index", str(path), str(query))):
        code, err = _cli(capsys, *args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and err.startswith("rir: error:"), err
        assert str(path) in err and "Traceback" not in err
        assert path.read_bytes() == before, f"{' '.join(args)} changed the {kind} file"
    openers: list[Callable[[], object]] = [
        lambda: open_index(path), lambda: LocalIndex(path, create=False),
        lambda: get_engine("local", path=str(path))]
    for opener in openers:
        with pytest.raises(ConfigurationError, match=r"local index .*(empty|truncated|damaged|"
                                                     r"not an index)"):
            opener()
        assert path.read_bytes() == before


def test_a_healthy_file_is_left_byte_identical_by_reads(small_index: tuple[Path, Path],
                                                         tmp_path: Path, capsys) -> None:
    good, query = small_index
    path = tmp_path / "copy.rir"
    path.write_bytes(good.read_bytes())
    before = path.read_bytes()
    assert _cli(capsys, "index", "stats", "--index", str(path))[0] == 0
    assert _cli(capsys, "index", "search", str(query), "--index", str(path))[0] == 0
    with open_index(path) as index:
        assert index.search(query, k=1).hits
    assert path.read_bytes() == before


def test_stats_reports_a_damaged_page_instead_of_counts(small_index: tuple[Path, Path],
                                                         tmp_path: Path, capsys) -> None:
    good, _ = small_index
    data = bytearray(good.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    with sqlite3.connect(good) as conn:  # the first page of the images table's b-tree
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'images'")\
            .fetchone()[0]
    conn.close()
    start = (root - 1) * page_size
    data[start:start + 8] = b"\xff" * 8
    path = tmp_path / "page.rir"
    path.write_bytes(bytes(data))
    code, err = _cli(capsys, "index", "stats", "--index", str(path))
    assert code == 2 and err.count("\n") == 1, err
    assert "damaged" in err and path.read_bytes() == bytes(data)


@pytest.mark.parametrize("damage", [
    "UPDATE postings SET count = count + 1",                       # lists and lengths disagree
    "UPDATE postings SET count = 'many'",                          # not even a number
    "UPDATE images SET points = X'0000', descriptors = X'00'",     # keypoints of no shape
    "UPDATE images SET descriptors = substr(descriptors, 1, 64)",  # fewer than the points
])
def test_damaged_records_fail_a_search_with_one_line_naming_the_file(
        small_index: tuple[Path, Path], tmp_path: Path, damage: str, capsys) -> None:
    """Damage inside the records (SQLite cannot see it: it has no page checksums) is
    found when a search reads them, and reported like damage of the file's structure."""
    good, query = small_index
    path = tmp_path / "records.rir"
    path.write_bytes(good.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    conn.close()
    with open_index(path) as index, pytest.raises(ConfigurationError,
                                                  match=r"local index .* is damaged"):
        index.search(query, k=3)
    code, err = _cli(capsys, "index", "search", str(query), "--index", str(path))
    assert code == 2 and err.count("\n") == 1 and "damaged" in err, err


def test_only_stats_reads_every_page(small_index: tuple[Path, Path], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The whole-file check (seconds per GB) runs for 'rir index stats' alone: adding one
    image to a large index, listing or removing pages must not read all of it."""
    from rir.engines.local.store import IndexStore

    good, query = small_index
    path = tmp_path / "big.rir"
    path.write_bytes(good.read_bytes())
    with open_index(path) as index:
        assert "integrity" not in index.stats()
        assert index.stats(check=True)["integrity"] == "ok"
    checked: list[Path] = []
    monkeypatch.setattr(IndexStore, "check_integrity", lambda self: checked.append(self.path))
    assert _cli(capsys, "index", "add", str(query), "--title", "again", "--url",
                "https://e.org/2", "--index", str(path))[0] == 0
    assert _cli(capsys, "index", "list", "--index", str(path))[0] == 0
    assert checked == []
    assert _cli(capsys, "index", "stats", "--no-check", "--index", str(path))[0] == 0
    assert checked == []
    assert _cli(capsys, "index", "stats", "--index", str(path))[0] == 0
    assert checked == [path]


def test_a_zero_byte_file_still_becomes_an_index_when_asked_to_build_one(tmp_path: Path) -> None:
    path = tmp_path / "new.rir"
    path.write_bytes(b"")
    with LocalIndex(path) as index:  # create=True, what 'rir index add' does
        index.add(noisy_jpeg(160, 120, seed=1), title="one")
        assert len(index) == 1


def _count(path: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        images = conn.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        pages = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    conn.close()
    return int(images), int(pages)


def _consistent(path: Path) -> tuple[int, int]:
    """(images, pages) after checking the file and the index's own invariants."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = conn.execute("SELECT COUNT(*) FROM pages WHERE image NOT IN "
                               "(SELECT rowid FROM images)").fetchone()[0]
        bare = conn.execute("SELECT COUNT(*) FROM images WHERE rowid NOT IN "
                            "(SELECT image FROM pages)").fetchone()[0]
        counted = conn.execute("SELECT value FROM meta WHERE key = 'images'").fetchone()[0]
        images = conn.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        duplicates = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT sha256) FROM images")\
            .fetchone()[0]
    conn.close()
    assert (orphans, bare, duplicates) == (0, 0, 0)
    assert int(counted) == images
    return _count(path)


def test_kill_9_during_a_bulk_add_leaves_a_consistent_index_and_a_rerun_completes(
        tmp_path: Path) -> None:
    folder = _folder(tmp_path / "photos", 100)
    path = tmp_path / "crash.rir"
    command = [sys.executable, "-c", "import sys; from rir.cli import main; sys.exit(main())",
               "index", "add", str(folder), "--index", str(path), "--workers", "1"]
    writer = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and writer.poll() is None:
            if path.exists() and _safe_count(path) > 0:
                break
            time.sleep(0.05)
        assert writer.poll() is None, "the add finished before it could be killed"
        os.killpg(writer.pid, signal.SIGKILL)  # the writer and any helper it started
    finally:
        writer.wait(30)
    images, pages = _consistent(path)
    assert 0 < images < 100 and pages == images  # a whole batch, never half an image
    rerun = _rir("index", "add", str(folder), "--index", str(path), "--workers", "1",
                 timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _consistent(path) == (100, 100)  # every image once, no duplicate


def _safe_count(path: Path) -> int:
    try:
        return _count(path)[0]
    except sqlite3.Error:  # the writer has not created the tables yet
        return 0


def test_two_writers_lose_nothing_and_a_reader_sees_only_whole_batches(tmp_path: Path) -> None:
    first = _folder(tmp_path / "a", 30, seed=0)
    second = _folder(tmp_path / "b", 30, seed=1000)
    path = tmp_path / "shared.rir"
    LocalIndex(path).close()  # both writers open an existing index
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [subprocess.Popen(
        [sys.executable, "-c", "import sys; from rir.cli import main; sys.exit(main())",
         "index", "add", str(folder), "--index", str(path), "--workers", "1"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for folder in (first, second)]
    seen: list[int] = []
    query = first / "img0005.jpg"
    while any(w.poll() is None for w in writers):
        with open_index(path) as reader:  # a reader during the writes: never an error
            seen.append(reader.stats()["images"])
            reader.search(query, k=1)
        time.sleep(0.05)
    for writer in writers:
        assert writer.wait(60) == 0, writer.stderr.read() if writer.stderr else ""
    assert seen == sorted(seen)  # counts only grow
    assert _consistent(path) == (60, 60)
    with open_index(path) as index:
        assert index.search(query, k=1).hits[0].title == "img0005"

"""rir.results.cache: hits, misses, TTL, keys, corruption and concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import warnings
from pathlib import Path

import pytest

from rir.results.cache import CacheWarning, ResultCache, default_cache_path
from rir.results.models import SearchHit, SearchResult


def result(n: int = 3, engine: str = "fake") -> SearchResult:
    return SearchResult(hits=[SearchHit(title=f"hit {i}", url=f"https://e.com/{i}", position=i)
                              for i in range(1, n + 1)], engine=engine, query_sha256="q")


def test_miss_then_hit_marked_from_cache(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    key = cache.make_key("fake", {"hl": "en"}, "sha")
    assert cache.get(key, k=3) is None
    cache.put(key, result(), k=3)
    cached = cache.get(key, k=3)
    assert cached is not None and cached.from_cache
    assert [h.title for h in cached.hits] == ["hit 1", "hit 2", "hit 3"]


def test_keys_depend_on_engine_options_and_image() -> None:
    base = ResultCache.make_key("e", {"hl": "en", "country": "us"}, "sha")
    assert base == ResultCache.make_key("e", {"country": "us", "hl": "en"}, "sha")
    assert base != ResultCache.make_key("e2", {"hl": "en", "country": "us"}, "sha")
    assert base != ResultCache.make_key("e", {"hl": "de", "country": "us"}, "sha")
    assert base != ResultCache.make_key("e", {"hl": "en", "country": "us"}, "sha2")


def test_k_larger_than_cached_is_a_miss_unless_the_engine_ran_out(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    cache.put("full", result(5), k=5)
    assert cache.get("full", k=10) is None
    assert len(cache.get("full", k=2).hits) == 2  # type: ignore[union-attr]
    cache.put("exhausted", result(3), k=10)  # engine had only 3
    assert len(cache.get("exhausted", k=20).hits) == 3  # type: ignore[union-attr]


def marked(n: int, *, complete: bool) -> SearchResult:
    return result(n).model_copy(update={"metadata": {"complete": complete}})


def test_a_partial_result_is_never_served_as_all_that_exists(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    cache.put("thin", marked(6, complete=False), k=20)  # a thin read: 6 of maybe 60
    assert len(cache.get("thin", k=6).hits) == 6  # type: ignore[union-attr]
    assert len(cache.get("thin", k=4).hits) == 4  # type: ignore[union-attr]
    assert cache.get("thin", k=7) is None
    assert cache.get("thin", k=20) is None
    cache.put("ended", marked(6, complete=True), k=20)  # the list visibly ended at 6
    assert len(cache.get("ended", k=50).hits) == 6  # type: ignore[union-attr]
    cache.put("reached", marked(20, complete=True), k=20)  # complete because k was reached
    assert cache.get("reached", k=21) is None


def test_empty_incomplete_results_are_not_stored(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    cache.put("degraded", marked(0, complete=False), k=10)
    assert cache.get("degraded", k=1) is None and cache.stats()["entries"] == 0
    cache.put("none", marked(0, complete=True), k=10)  # an explicit "no matches" page
    cached = cache.get("none", k=10)
    assert cached is not None and cached.hits == []


def test_ttl_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rir.results.cache as module

    now = [1_000_000.0]
    monkeypatch.setattr(module.time, "time", lambda: now[0])
    cache = ResultCache(tmp_path / "c.sqlite3", ttl_s=60)
    cache.put("k", result(), k=3)
    now[0] += 59
    assert cache.get("k", k=3) is not None
    now[0] += 2
    assert cache.get("k", k=3) is None
    assert cache.stats()["entries"] == 0  # expired rows are deleted


def test_location_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RIR_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_path() == tmp_path / "elsewhere" / "results.sqlite3"
    cache = ResultCache()
    cache.put("k", result(), k=3)
    assert (tmp_path / "elsewhere" / "results.sqlite3").is_file()


def test_corrupt_file_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = ResultCache(path)
    with pytest.warns(CacheWarning, match="damaged"):
        assert cache.get("k", k=3) is None
    cache.put("k", result(), k=3)
    assert cache.get("k", k=3) is not None
    assert list(tmp_path.glob("c.sqlite3.corrupt-*"))


def test_damaged_entry_is_dropped_not_served(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = ResultCache(path)
    cache.put("k", result(), k=3)
    with sqlite3.connect(path) as conn:
        payload = conn.execute("SELECT payload FROM results").fetchone()[0]
        damaged = payload[:-5] + b"\x00\x01\x02\x03\x04"
        conn.execute("UPDATE results SET payload = ?", (damaged,))
    fresh = ResultCache(path)
    with pytest.warns(CacheWarning, match="damaged cache entry"):
        assert fresh.get("k", k=3) is None
    assert fresh.stats()["entries"] == 0


def test_unusable_location_turns_caching_off_without_failing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = ResultCache(blocker / "sub" / "c.sqlite3")  # parent is a file: cannot create
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache.put("k", result(), k=3)
        assert cache.get("k", k=3) is None
    assert any(issubclass(w.category, CacheWarning) for w in caught)
    assert cache.stats()["disabled"]


def test_many_threads(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                key = f"{n}-{i}"
                cache.put(key, result(2, engine=key), k=2)
                got = cache.get(key, k=2)
                assert got is not None and got.engine == key
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert cache.stats()["entries"] == 160


def _writer(path: str, n: int) -> None:
    cache = ResultCache(path)
    for i in range(25):
        cache.put(f"{n}-{i}", result(2, engine=f"p{n}"), k=2)


def test_many_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite3")
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_writer, args=(path, n)) for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    cache = ResultCache(path)
    assert cache.stats()["entries"] == 100
    assert all(cache.get(f"{n}-{i}", k=2) is not None for n in range(4) for i in range(25))


def test_clear(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    cache.put("a", result(), k=3)
    assert cache.clear() == 1 and cache.get("a", k=3) is None


def test_an_instant_lock_is_retried_not_a_miss(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite reports "locked" at once (no busy wait) when waiting could deadlock, e.g.
    # several connections setting up a new file together; it clears in milliseconds.
    cache = ResultCache(tmp_path / "c.sqlite3")
    cache.put("key", result(2), k=2)
    real_select, failures = ResultCache._select, [2]

    def flaky(conn: sqlite3.Connection, key: str) -> object:
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real_select(conn, key)

    monkeypatch.setattr(ResultCache, "_select", staticmethod(flaky))
    got = cache.get("key", k=2)
    assert got is not None and len(got.hits) == 2 and failures == [0]


def test_a_lock_that_does_not_clear_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    cache = ResultCache(tmp_path / "c.sqlite3")
    cache.put("key", result(2), k=2)

    def locked(conn: sqlite3.Connection, key: str) -> object:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(ResultCache, "_select", staticmethod(locked))
    assert cache.get("key", k=2) is None
    assert "busy; treating as a miss" in caplog.text
    monkeypatch.undo()
    assert cache.get("key", k=2) is not None  # not disabled: the next lookup works

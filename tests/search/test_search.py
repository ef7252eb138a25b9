"""ReverseImageSearch and the engine registry: caching, batches, options, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rir import (
    ConfigurationError,
    EngineBlockedError,
    ExtractOptions,
    InvalidImageError,
    ReverseImageSearch,
    SearchHit,
    SearchResult,
    available_engines,
    get_engine,
    register_engine,
)
from rir.engines import Engine
from rir.inputs.images import QueryImage
from tests.images import photo

TOWER_HITS = [
    ("Eiffel Tower - Wikipedia", "https://en.wikipedia.org/wiki/Eiffel_Tower"),
    ("Eiffel Tower | History, Height, & Facts | Britannica",
     "https://www.britannica.com/topic/Eiffel-Tower-Paris-France"),
    ("Eiffel Tower - Wikipedia", "https://en.wikipedia.org/wiki/Eiffel_Tower?utm_source=lens"),
    ("Visiting the Eiffel Tower at night", "https://travel.example.com/paris/eiffel-night"),
    ("Paris skyline photo", "https://photos.example.org/skyline/123"),
    ("Tour Eiffel — official site", "https://www.toureiffel.paris/en"),
    ("The Eiffel Tower turns 135", "https://news.example.net/eiffel-135"),
    ("Eiffel Tower tickets and tours", "https://tickets.example.com/eiffel"),
]


class CountingEngine(Engine):
    """Returns hits derived from the image; counts calls and concurrency."""

    name = "counting"

    def __init__(self, hl: str = "en", delay_s: float = 0.0, fail_on: bytes | None = None):
        self.hl, self.delay_s, self.fail_on = hl, delay_s, fail_on
        self.calls = 0
        self.active = 0
        self.max_active = 0

    def cache_key_options(self) -> dict[str, str]:
        return {"hl": self.hl}

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        self.calls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.delay_s)
            if self.fail_on is not None and image.data == self.fail_on:
                raise EngineBlockedError("blocked for this one", engine=self.name)
            return SearchResult(hits=[SearchHit(title=t, url=u) for t, u in TOWER_HITS][: k + 2])
        finally:
            self.active -= 1


def test_search_stamps_and_trims(tmp_path: Path) -> None:
    engine = CountingEngine()
    searcher = ReverseImageSearch(engine, cache=tmp_path / "c.sqlite3", extract=False)
    result = searcher.search(photo(), k=3)
    assert [h.position for h in result.hits] == [1, 2, 3]
    assert result.engine == "counting" and len(result.query_sha256) == 64
    assert all(h.engine == "counting" for h in result.hits)


def test_cache_hit_on_second_search_and_refresh(tmp_path: Path) -> None:
    engine = CountingEngine()
    searcher = ReverseImageSearch(engine, cache=tmp_path / "c.sqlite3")
    first = searcher.search(photo(), k=4)
    second = searcher.search(photo(), k=4)
    assert engine.calls == 1 and not first.from_cache and second.from_cache
    assert [h.title for h in first.hits] == [h.title for h in second.hits]
    searcher.search(photo(), k=4, refresh=True)
    assert engine.calls == 2
    other_options = ReverseImageSearch(CountingEngine(hl="de"), cache=tmp_path / "c.sqlite3")
    assert not other_options.search(photo(), k=4).from_cache


def test_cache_false_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIR_CACHE_DIR", str(tmp_path / "cache"))
    ReverseImageSearch(CountingEngine(), cache=False).search(photo())
    assert not (tmp_path / "cache").exists()


def test_extraction_is_applied_by_default(tmp_path: Path) -> None:
    result = ReverseImageSearch(CountingEngine(), cache=False).search(photo(), k=6)
    titles = [h.title for h in result.hits]
    assert titles[0] == "Eiffel Tower"  # " - Wikipedia" cleaned away
    assert "Visiting the Eiffel Tower at night" in titles
    assert [h.position for h in result.hits] == list(range(1, len(titles) + 1))
    assert TOWER_HITS[2][1] in result.hits[0].metadata["duplicates"]  # same page, kept as a note
    assert len(titles) == 6  # duplicates dropped, and the engine asked for more to fill k
    assert result.best_guess == "Eiffel Tower"
    raw = ReverseImageSearch(CountingEngine(), cache=False, extract=False).search(photo(), k=6)
    assert len(raw.hits) == 6 and raw.best_guess is None
    assert raw.hits[0].title == "Eiffel Tower - Wikipedia"
    only_fr = ReverseImageSearch(CountingEngine(), cache=False,
                                 extract=ExtractOptions(allow_domains=("fr.wikipedia.org",)))
    assert only_fr.search(photo(), k=6).hits == []


def test_search_many_reports_failures_and_keeps_order() -> None:
    bad = photo(40, 30)
    engine = CountingEngine(delay_s=0.01, fail_on=bad)
    searcher = ReverseImageSearch(engine, cache=False)
    images = [photo(64, 48), b"not an image", bad, photo(70, 50), Path("/nope/missing.jpg")]
    outcomes = searcher.search_many(images, k=2, concurrency=2, progress=False)
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4]
    assert [o.ok for o in outcomes] == [True, False, False, True, False]
    assert isinstance(outcomes[1].error, InvalidImageError)
    assert isinstance(outcomes[2].error, EngineBlockedError)
    assert "missing.jpg" in outcomes[4].source
    assert outcomes[0].unwrap().hits
    with pytest.raises(EngineBlockedError):
        outcomes[2].unwrap()
    assert engine.max_active <= 2


async def test_async_batch_respects_concurrency() -> None:
    engine = CountingEngine(delay_s=0.05)
    searcher = ReverseImageSearch(engine, cache=False)
    outcomes = await searcher.asearch_many([photo(60 + i, 40) for i in range(8)], concurrency=3,
                                           progress=False)
    assert all(o.ok for o in outcomes) and engine.max_active == 3


def test_bad_arguments_are_typed() -> None:
    searcher = ReverseImageSearch(CountingEngine(), cache=False)
    for k in (0, -1, 2.5, True):
        with pytest.raises(ConfigurationError, match="k must be"):
            searcher.search(photo(), k=k)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="concurrency"):
        searcher.search_many([photo()], concurrency=0)
    with pytest.raises(ConfigurationError, match="cache must be"):
        ReverseImageSearch(CountingEngine(), cache=3.5)  # type: ignore[arg-type]


def test_registry() -> None:
    assert "local" in available_engines() and "picimagesearch:<provider>" in available_engines()
    with pytest.raises(ConfigurationError, match=r"Unknown engine 'nope'.*local"):
        get_engine("nope")
    with pytest.raises(ConfigurationError, match=r"Bad options for engine 'local'"):
        get_engine("local", colour="blue")
    register_engine("counting", CountingEngine)
    engine = get_engine("counting", hl="fr")
    assert isinstance(engine, CountingEngine) and engine.hl == "fr"
    assert get_engine(engine) is engine
    with pytest.raises(ConfigurationError, match="configure the instance"):
        get_engine(engine, hl="de")
    with pytest.raises(ConfigurationError):
        register_engine("a:b", CountingEngine)


def test_local_engine_by_name(tmp_path: Path) -> None:
    from rir.engines.local import LocalIndex

    LocalIndex(tmp_path / "i.rir").close()  # by name the index must exist (see test_default_index)
    engine = get_engine("local", path=tmp_path / "i.rir")
    assert isinstance(engine, LocalIndex) and engine.path == tmp_path / "i.rir"


def test_progress_bar_reports_failures(capsys: pytest.CaptureFixture[str]) -> None:
    searcher = ReverseImageSearch(CountingEngine(), cache=False)
    searcher.search_many([photo(), b"junk"], progress=True)
    err = capsys.readouterr().err
    assert "searching" in err and "2/2" in err and "1 failed" in err

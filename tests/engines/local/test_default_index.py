"""Issue 13 item 1: ``engine="local"`` without a path is the default index, never an empty one.

Every entry point that builds the local engine by name opens the default index
(``$RIR_INDEX`` here, set per test by tests/conftest.py) and, while it does not
exist, says so and names ``rir index add`` and ``$RIR_INDEX``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rir import ReverseImageSearch, get_engine
from rir.cli import main
from rir.demo import available_demo_photos
from rir.engines.auto import choose_engine
from rir.engines.local import MEMORY, LocalIndex, default_index_path, resolve_index_path
from rir.errors import ConfigurationError

NO_INDEX = r"No local index yet.*rir index add.*\$RIR_INDEX"


@pytest.fixture
def hopper() -> Path:
    photos = {photo.title: path for photo, path in available_demo_photos()}
    if "Grace Hopper" not in photos:
        pytest.skip("matplotlib's sample photo of Grace Hopper is not installed")
    return photos["Grace Hopper"]


def build_default_index(photo: Path) -> Path:
    with LocalIndex() as index:  # no path: the default index, created for adding
        index.add(photo, title="Grace Hopper", url="https://example.org/hopper")
    return default_index_path()


def test_default_path_is_rir_index_else_the_user_data_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RIR_INDEX", str(tmp_path / "mine.rir"))
    assert default_index_path() == tmp_path / "mine.rir"
    assert resolve_index_path(None) == tmp_path / "mine.rir"
    monkeypatch.delenv("RIR_INDEX")
    assert default_index_path().name == "index.rir"
    assert "reverse-image-rag" in str(default_index_path())
    assert resolve_index_path(MEMORY) is None
    assert resolve_index_path("~/x.rir") == Path(os.path.expanduser("~/x.rir"))
    with pytest.raises(ConfigurationError, match="path is empty"):
        resolve_index_path("  ")
    with pytest.raises(ConfigurationError, match="must be a file path"):
        resolve_index_path(3)  # type: ignore[arg-type]


def test_local_index_without_path_opens_the_default_file(hopper: Path) -> None:
    path = build_default_index(hopper)
    assert path.is_file()
    with LocalIndex() as index:
        assert index.path == path and len(index) == 1


def test_memory_is_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             hopper: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with LocalIndex(MEMORY) as index:
        index.add(hopper, title="Grace Hopper")
        assert index.path is None and len(index) == 1
        assert "':memory:'" in repr(index)
    assert list(tmp_path.iterdir()) == [] and not default_index_path().exists()
    assert len(LocalIndex(MEMORY)) == 0  # nothing survives closing


def test_create_false_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=NO_INDEX):
        LocalIndex(create=False)
    with pytest.raises(ConfigurationError, match=r"No index at .*nope\.rir.*rir index add"):
        LocalIndex(tmp_path / "nope.rir", create=False)
    assert not (tmp_path / "nope.rir").exists() and not default_index_path().exists()
    assert len(LocalIndex(MEMORY, create=False)) == 0  # memory has no file to miss


def _registry(**options: Any) -> Any:
    return get_engine("local", **options)


def _searcher(**options: Any) -> Any:
    return ReverseImageSearch(engine="local", cache=False, **options).engine


@pytest.mark.parametrize("build", [_registry, _searcher], ids=["get_engine", "ReverseImageSearch"])
def test_by_name_opens_the_default_index_or_says_how_to_build_it(
        build: Callable[..., Any], hopper: Path) -> None:
    with pytest.raises(ConfigurationError, match=NO_INDEX):
        build()
    assert not default_index_path().exists()  # the failed attempt created nothing
    build_default_index(hopper)
    engine = build()
    assert isinstance(engine, LocalIndex) and engine.path == default_index_path()
    result = engine.search(hopper, k=3)
    assert [hit.title for hit in result.hits] == ["Grace Hopper"]
    engine.close()


def test_by_name_with_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"No index at .*x\.rir"):
        get_engine("local", path=tmp_path / "x.rir")
    assert not (tmp_path / "x.rir").exists()
    assert len(get_engine("local", path=MEMORY)) == 0  # asked for explicitly: fine


def test_langchain_retriever_by_name(hopper: Path) -> None:
    pytest.importorskip("langchain_core")
    from langchain_rir import ReverseImageRetriever

    retriever = ReverseImageRetriever(engine="local", cache=False, allow_local_files=True)
    with pytest.raises(ConfigurationError, match=NO_INDEX):
        retriever.invoke(str(hopper))
    build_default_index(hopper)
    retriever = ReverseImageRetriever(engine="local", cache=False, allow_local_files=True)
    documents = retriever.invoke(str(hopper))
    assert documents and documents[0].metadata["title"] == "Grace Hopper"


def test_llama_index_retriever_by_name(hopper: Path) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.schema import QueryBundle

    from llama_index_rir import ReverseImageRetriever

    with pytest.raises(ConfigurationError, match=NO_INDEX):
        ReverseImageRetriever(engine="local", cache=False)
    build_default_index(hopper)
    retriever = ReverseImageRetriever(engine="local", cache=False)
    nodes = retriever.retrieve(QueryBundle("who is this?", image_path=str(hopper)))
    assert nodes and "Grace Hopper" in nodes[0].node.get_content()


def test_cli_search_engine_local(capsys: pytest.CaptureFixture[str], hopper: Path) -> None:
    code = main(["search", str(hopper), "--engine", "local"])
    err = capsys.readouterr().err
    assert code == 2 and "rir index add" in err and "$RIR_INDEX" in err
    assert err.count("\n") == 1 and not default_index_path().exists()
    assert main(["index", "add", str(hopper), "--title", "Grace Hopper"]) == 0
    capsys.readouterr()
    code = main(["search", str(hopper), "--engine", "local", "--no-cache"])
    out = capsys.readouterr().out
    assert code == 0 and "Grace Hopper" in out and "1 hit from local" in out


def test_auto_never_picks_the_local_index(monkeypatch: pytest.MonkeyPatch, hopper: Path) -> None:
    """``auto`` means a web engine: your own index is asked for by name (or --index)."""
    for key in ("SERPAPI_API_KEY", "GOOGLE_CLOUD_VISION_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    build_default_index(hopper)
    name, _ = choose_engine()
    assert name != "local" and name in ("google_lens", "cloud_vision")

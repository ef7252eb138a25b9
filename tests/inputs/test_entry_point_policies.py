"""Every entry point holds an InputPolicy, applies it, and has the documented default.

The rule (docs/concepts/input-policy.md): code a developer writes (the searcher, both
retrievers, the LCEL chain, the query engine, the CLI) reads local paths; what a model,
an agent or a remote client writes (both agent tools, ``rir serve``) is refused unless the
operator allows folders. For each entry point: its default, and that a policy given with
``policy=`` is the one applied (an image inside its folder is read, one outside refused).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rir import InputPolicy, ReverseImageSearch
from rir.errors import InvalidImageError
from tests.helpers import NewsEngine
from tests.images import photo

REFUSED = "Local files are not allowed here"
OUTSIDE = "outside the folders local images may be read from"


@pytest.fixture
def inside(tmp_path: Path) -> Path:
    (tmp_path / "allowed").mkdir()
    path = tmp_path / "allowed" / "photo.jpg"
    path.write_bytes(photo())
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere.jpg"
    path.write_bytes(photo(40, 40))
    return path


@pytest.fixture
def folder_policy(inside: Path) -> InputPolicy:
    return InputPolicy.untrusted(allowed_folders=[inside.parent])


def test_reverse_image_search(inside: Path, outside: Path, folder_policy: InputPolicy) -> None:
    default = ReverseImageSearch(NewsEngine(), cache=False)
    assert default.policy == InputPolicy()
    assert default.search(str(outside), k=1).hits  # reads local files
    searcher = ReverseImageSearch(NewsEngine(), cache=False, policy=folder_policy)
    assert searcher.policy is folder_policy
    assert searcher.search(str(inside), k=1).hits
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        searcher.search(str(outside), k=1)
    legacy = ReverseImageSearch(NewsEngine(), cache=False, allow_local_files=False,
                                max_image_bytes=5000)
    assert legacy.policy == InputPolicy(allow_local_files=False, max_bytes=5000)


def test_langchain_retriever(inside: Path, outside: Path, folder_policy: InputPolicy) -> None:
    pytest.importorskip("langchain_core")
    from langchain_rir import ReverseImageRetriever

    default = ReverseImageRetriever(engine=NewsEngine(), cache=False)
    assert default.policy == InputPolicy()
    assert default.invoke(str(outside))
    retriever = ReverseImageRetriever(engine=NewsEngine(), cache=False, policy=folder_policy)
    assert retriever.policy is folder_policy and retriever.searcher.policy is folder_policy
    assert retriever.invoke(str(inside))
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        retriever.invoke(str(outside))
    legacy = ReverseImageRetriever(engine=NewsEngine(), cache=False, allow_local_files=False)
    assert legacy.policy == InputPolicy(allow_local_files=False)


def test_langchain_tool(inside: Path, outside: Path, folder_policy: InputPolicy) -> None:
    pytest.importorskip("langchain_core")
    from langchain_rir import ReverseImageSearchTool

    default = ReverseImageSearchTool(engine=NewsEngine())
    assert default.policy == InputPolicy.untrusted()
    refused = default.invoke({"image_url": str(inside)})  # an error the model reads
    assert refused.startswith("reverse_image_search failed") and REFUSED in refused
    tool = ReverseImageSearchTool(engine=NewsEngine(), policy=folder_policy)
    assert tool.policy is folder_policy and tool.retriever.policy is folder_policy
    assert tool.invoke({"image_url": str(inside)}).startswith("Reverse image search (news)")
    assert OUTSIDE in tool.invoke({"image_url": str(outside)})


def test_langchain_chain(inside: Path, outside: Path, folder_policy: InputPolicy) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from langchain_rir import ReverseImageRetriever, create_rir_chain
    from rir.errors import ConfigurationError

    llm = FakeListChatModel(responses=["a flood"])
    default = create_rir_chain(llm, engine=NewsEngine(), cache=False)
    assert default.invoke({"image": str(outside), "question": "What is this?"}) == "a flood"
    chain = create_rir_chain(llm, engine=NewsEngine(), cache=False, policy=folder_policy)
    assert chain.invoke({"image": str(inside), "question": "What is this?"}) == "a flood"
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        chain.invoke({"image": outside, "question": "What is this?", "context": "none"})
    with pytest.raises(ConfigurationError, match="policy"):
        create_rir_chain(llm, ReverseImageRetriever(engine=NewsEngine()), policy=folder_policy)


def test_llama_index_retriever(inside: Path, outside: Path,
                               folder_policy: InputPolicy) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.schema import QueryBundle

    from llama_index_rir import ReverseImageRetriever

    default = ReverseImageRetriever(NewsEngine(), cache=False)
    assert default.policy == InputPolicy()
    assert default.retrieve(QueryBundle("what?", image_path=str(outside)))
    retriever = ReverseImageRetriever(NewsEngine(), cache=False, policy=folder_policy)
    assert retriever.policy is folder_policy and retriever.searcher.policy is folder_policy
    assert retriever.retrieve(QueryBundle("what?", image_path=str(inside)))
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        retriever.retrieve(QueryBundle("what?", image_path=str(outside)))


def test_llama_index_tool_spec(inside: Path, outside: Path,
                               folder_policy: InputPolicy) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index_rir import ReverseImageSearchToolSpec

    default = ReverseImageSearchToolSpec(NewsEngine(), cache=False)
    assert default.policy == InputPolicy.untrusted()
    with pytest.raises(InvalidImageError, match=REFUSED):
        default.reverse_image_search(str(inside))
    spec = ReverseImageSearchToolSpec(NewsEngine(), cache=False, policy=folder_policy)
    assert spec.policy is folder_policy
    assert spec.reverse_image_search(str(inside)).hits
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        spec.reverse_image_search(str(outside))
    [tool] = spec.to_tool_list()
    assert str(inside.parent.resolve()) in tool.metadata.description


def test_llama_index_query_engine(inside: Path, outside: Path,
                                  folder_policy: InputPolicy) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.schema import QueryBundle

    from llama_index_rir import ReverseImageQueryEngine
    from llama_index_rir.testing import RecordingMultimodalLLM

    default = ReverseImageQueryEngine(llm=RecordingMultimodalLLM(), engine=NewsEngine(),
                                      cache=False)
    assert default.retriever.policy == InputPolicy()
    assert default.query(QueryBundle("What is this?", image_path=str(outside))).response
    engine = ReverseImageQueryEngine(llm=RecordingMultimodalLLM(), engine=NewsEngine(),
                                     cache=False, policy=folder_policy)
    assert engine.retriever.policy is folder_policy
    assert engine.query(QueryBundle("What is this?", image_path=str(inside))).response
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        engine.query(QueryBundle("What is this?", image_path=str(outside)))


async def test_server(inside: Path, outside: Path) -> None:
    from rir.serve.config import ServeConfig
    from rir.serve.service import SearchService

    default = SearchService(ServeConfig())
    assert default.policy == InputPolicy.untrusted(max_bytes=default.config.max_bytes)
    for local_files in (True, False):  # stdio (a client on this machine) and HTTP
        with pytest.raises(InvalidImageError, match=REFUSED):
            await default.load(str(inside), local_files=local_files)
    service = SearchService(ServeConfig(allow_dirs=(inside.parent,), max_bytes=50_000,
                                        fetch_timeout_s=5))
    assert service.policy == InputPolicy.untrusted([inside.parent], max_bytes=50_000,
                                                   timeout_s=5)
    assert (await service.load(str(inside), local_files=True)).width == 64
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        await service.load(str(outside), local_files=True)
    with pytest.raises(InvalidImageError, match=REFUSED):  # HTTP never reads local files
        await service.load(str(inside), local_files=False)


def test_cli_reads_the_files_you_name_within_its_flags(capsys, tmp_path: Path,
                                                       outside: Path) -> None:
    from rir.cli import main
    from rir.engines.local import LocalIndex

    index = tmp_path / "photos.rir"
    with LocalIndex(index) as building:
        building.add(outside, title="elsewhere")
    assert main(["index", "search", str(outside), "--index", str(index), "--json"]) == 0
    assert '"title": "elsewhere"' in capsys.readouterr().out
    assert main(["index", "search", str(outside), "--index", str(index),
                 "--max-bytes", "100"]) == 2
    assert "over the 100-byte limit" in capsys.readouterr().err

"""Issue 13 item 6: local paths and ``file://`` URLs follow one rule at every entry point.

A ``file://`` URL is a local path by another name: wherever local files are read
(the Python core, the CLI, both retrievers by default) both work; wherever they are
refused (an untrusted policy, ``allow_local_files=False``) both are refused with the
same error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rir import ReverseImageSearch
from rir.cli import main
from rir.demo import available_demo_photos
from rir.engines.local import MEMORY, LocalIndex
from rir.errors import InvalidImageError
from rir.inputs.images import load_image

REFUSED = "Local files are not allowed"


@pytest.fixture
def hopper(tmp_path: Path) -> Path:
    photos = {photo.title: path for photo, path in available_demo_photos()}
    if "Grace Hopper" not in photos:
        pytest.skip("matplotlib's sample photo of Grace Hopper is not installed")
    copy = tmp_path / "a folder with spaces" / "grace hopper.jpg"
    copy.parent.mkdir()
    copy.write_bytes(photos["Grace Hopper"].read_bytes())
    return copy


def forms(path: Path) -> list[object]:
    """The same local file as a str path, a Path, and file:// URLs (percent-encoded)."""
    return [str(path), path, path.as_uri(), "file://localhost" + path.as_uri()[len("file://"):]]


@pytest.fixture
def index(hopper: Path) -> LocalIndex:
    index = LocalIndex(MEMORY)
    index.add(hopper.read_bytes(), title="Grace Hopper", url="https://example.org/hopper")
    return index


def test_core_reads_every_form_or_refuses_every_form(hopper: Path) -> None:
    digests = {load_image(form).sha256 for form in forms(hopper)}
    assert len(digests) == 1
    for form in forms(hopper):
        with pytest.raises(InvalidImageError, match=REFUSED):
            load_image(form, allow_local_files=False)


def test_file_url_of_another_host_is_refused(hopper: Path) -> None:
    with pytest.raises(InvalidImageError, match="names the host 'fileserver'"):
        load_image("file://fileserver" + hopper.as_uri()[len("file://"):])


def test_search_api_reads_both(index: LocalIndex, hopper: Path) -> None:
    searcher = ReverseImageSearch(index, cache=False)
    titles = {searcher.search(form, k=1).hits[0].title for form in forms(hopper)}
    assert titles == {"Grace Hopper"}


def test_cli_reads_both_because_you_typed_them(capsys, tmp_path: Path, hopper: Path) -> None:
    db = tmp_path / "i.rir"
    assert main(["index", "add", str(hopper), "--index", str(db),
                 "--title", "Grace Hopper"]) == 0
    capsys.readouterr()
    for command in (["index", "search"], ["search", "--no-cache"]):
        code = main([*command, str(hopper), hopper.as_uri(), "--index", str(db), "--json"])
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert code == 0 and [line["hits"][0]["title"] for line in lines] == ["Grace Hopper"] * 2


def test_langchain_retriever_reads_both_unless_refused(index: LocalIndex, hopper: Path) -> None:
    pytest.importorskip("langchain_core")
    from langchain_rir import ReverseImageRetriever

    reading = ReverseImageRetriever(engine=index, cache=False)
    for form in (str(hopper), hopper.as_uri()):
        assert reading.invoke(form)[0].metadata["title"] == "Grace Hopper"
    refusing = ReverseImageRetriever(engine=index, cache=False, allow_local_files=False)
    for form in (str(hopper), hopper.as_uri()):
        with pytest.raises(InvalidImageError, match=REFUSED):
            refusing.invoke(form)


def test_llama_index_image_path_reads_both_unless_refused(index: LocalIndex,
                                                           hopper: Path) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.schema import QueryBundle

    from llama_index_rir import ReverseImageRetriever

    reading = ReverseImageRetriever(engine=index, cache=False)
    for form in (str(hopper), hopper.as_uri()):
        nodes = reading.retrieve(QueryBundle("who?", image_path=form))
        assert "Grace Hopper" in nodes[0].node.get_content()
    refusing = ReverseImageRetriever(engine=index, cache=False, allow_local_files=False)
    for form in (str(hopper), hopper.as_uri()):
        with pytest.raises(InvalidImageError, match=REFUSED):
            refusing.retrieve(QueryBundle("who?", image_path=form))

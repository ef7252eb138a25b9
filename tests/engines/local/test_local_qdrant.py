"""The Qdrant backend beyond the shared contract: the issue's scenario, options, bad input.

The in-process client (``QdrantClient(":memory:")``) stands in for a server; the
wrong-API-key case is a 127.0.0.1 server answering as Qdrant does (HTTP 401/403),
since no real server runs here. Against a real one:
tests/engines/local/test_local_backend_contract.py
with $QDRANT_URL set.
"""

from __future__ import annotations

import logging
import socket

import pytest
from PIL import Image
from qdrant_client import QdrantClient, models

from benchmarks.transforms import TRANSFORMS
from rir import ConfigurationError
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.engines.local.qdrant.backend import QdrantBackend
from rir.engines.local.qdrant.collection import META_ID
from rir.errors import EngineAuthenticationError, EngineConnectionError
from tests.helpers import LocalServer, Route

SECRET = "qdrant-secret-key-0123456789"
# qdrant-client rightly warns when a key goes over plain HTTP; these servers are loopback fakes.
pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    found = [Image.open(path).convert("RGB") for _, path in available_demo_photos()]
    if len(found) < 3:
        pytest.skip("the demo photos (matplotlib, scikit-image) are not installed")
    return found


def test_one_photo_on_two_pages_returns_both_through_qdrant(photos: list) -> None:
    """Issue 11's scenario: the same wire photo in two articles, both pages found."""
    index = LocalIndex(backend="qdrant", url=":memory:", collection="news")
    first = index.add(photos[0], title="Page A", url="https://news.example/a")
    second = index.add(photos[0], title="Page B", url="https://news.example/b")
    index.add(photos[1], title="Another photo", url="https://news.example/c")
    assert first != second and len(index) == 3 and index.stats()["images"] == 2
    hits = index.search(TRANSFORMS["crop_offcenter_70"](photos[0])).hits
    assert [h.title for h in hits] == ["Page A", "Page B"]
    assert hits[0].metadata["image_id"] == hits[1].metadata["image_id"]
    assert hits[0].score == hits[1].score
    # The same url again updates that page rather than adding one.
    assert index.add(photos[0], title="Page A, corrected", url="https://news.example/a") == first
    assert [p.title for p in index.pages(hits[0].metadata["image_id"])] == \
        ["Page A, corrected", "Page B"]
    assert index.remove(first) and [h.title for h in index.search(photos[0]).hits] == ["Page B"]
    index.close()


def test_an_unrelated_image_finds_nothing(photos: list) -> None:
    index = LocalIndex(backend="qdrant", url=":memory:")
    index.add(photos[0], title="indexed")
    assert index.search(Image.new("RGB", (300, 200), (30, 120, 200))).hits == []


class _RecordingClient(QdrantClient):
    def __init__(self) -> None:
        super().__init__(":memory:")
        self.created: dict = {}

    def create_collection(self, collection_name: str, **kwargs):  # type: ignore[override]
        self.created = kwargs
        return super().create_collection(collection_name, **kwargs)


def test_a_new_collection_gets_the_shard_and_replica_options_and_its_vectors() -> None:
    client = _RecordingClient()
    QdrantBackend(client=client, collection="c", shard_number=3, replication_factor=2)
    assert client.created["shard_number"] == 3 and client.created["replication_factor"] == 2
    params = client.get_collection("c").config.params
    assert params.sparse_vectors["words"].modifier == models.Modifier.IDF
    assert params.vectors["global"].distance == models.Distance.COSINE
    with pytest.raises(ConfigurationError, match="shard_number must be a positive integer"):
        QdrantBackend(client=client, collection="d", shard_number=0)


def test_a_collection_with_another_schema_is_refused_with_the_fix() -> None:
    client = QdrantClient(":memory:")
    client.create_collection("theirs", vectors_config=models.VectorParams(
        size=512, distance=models.Distance.DOT))
    with pytest.raises(ConfigurationError) as caught:
        QdrantBackend(client=client, collection="theirs")
    message = str(caught.value)
    assert "'theirs'" in message and "not a reverse-image-rag index" in message
    assert "pass another collection=" in message and "\n" not in message
    # Our vectors, but built with other features: refused too, naming both versions.
    QdrantBackend(client=client, collection="ours")
    client.set_payload("ours", {"features": "orb-v0"},
                       points=[META_ID])
    with pytest.raises(ConfigurationError, match=r"built with other features.*orb-v0"):
        QdrantBackend(client=client, collection="ours")


def test_a_missing_collection_is_an_error_when_not_creating() -> None:
    with pytest.raises(ConfigurationError, match=r"No Qdrant collection 'gone'.*rir index copy"):
        QdrantBackend(":memory:", collection="gone", create=False)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_a_one_line_connection_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(EngineConnectionError) as caught:
        LocalIndex(backend="qdrant", url=url, api_key=SECRET, collection="photos")
    message = str(caught.value)
    assert url in message and "Start the server" in message and "\n" not in message
    assert SECRET not in message and not isinstance(caught.value, ConfigurationError)


def test_a_wrong_api_key_is_an_authentication_error_without_the_key(
        local_server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    for status, body in ((401, "Must provide an API key or an Authorization bearer token"),
                         (403, "Invalid API key or JWT")):
        local_server.route("/collections/photos/exists", Route(status=status, body=body))
        with caplog.at_level(logging.DEBUG), pytest.raises(EngineAuthenticationError) as caught:
            QdrantBackend(local_server.base, api_key=SECRET, collection="photos")
        message = str(caught.value)
        assert f"HTTP {status}" in message and "api_key=" in message and "\n" not in message
        assert SECRET not in message and SECRET not in caplog.text
        assert isinstance(caught.value, ConfigurationError)  # bad input: CLI exit 2
    assert local_server.requests[-1].headers["api-key"] == SECRET  # it was sent, not shown


def test_the_api_key_stays_out_of_reprs_and_stats() -> None:
    backend = QdrantBackend(":memory:", api_key=SECRET, collection="photos")
    index = LocalIndex(backend=backend)
    assert SECRET not in repr(backend) + repr(index) + str(index.stats())
    assert "photos" in repr(index)


def test_backend_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="for backend='qdrant'"):
        LocalIndex(":memory:", collection="photos")
    with pytest.raises(ConfigurationError, match="leave path out"):
        LocalIndex("photos.rir", backend="qdrant", url=":memory:")
    with pytest.raises(ConfigurationError, match="Unknown backend 'qdrnt'"):
        LocalIndex(backend="qdrnt")
    with pytest.raises(ConfigurationError, match="needs url="):
        LocalIndex(backend="qdrant")


def test_a_write_failing_after_its_upsert_is_taken_back(photos: list, monkeypatch) -> None:
    """No transactions in Qdrant: the backend deletes what it added, restores what it changed."""
    from rir.engines.local.folder import fingerprint
    from rir.engines.local.records import PageData
    from rir.inputs.images import load_image

    backend = QdrantBackend(":memory:", collection="undo")
    a, b = (fingerprint(load_image(p)) for p in photos[:2])
    kept = backend.write([(a, PageData("Original", url="https://n.example/a"))])
    before = backend.versions()

    def failing_bump(**_: object) -> None:
        raise EngineConnectionError("Cannot reach Qdrant (the test's server went away)")

    monkeypatch.setattr(backend, "_bump", failing_bump)
    with pytest.raises(EngineConnectionError):
        backend.write([(a, PageData("Changed", url="https://n.example/a")),
                       (b, PageData("New image"))])
    assert [(p.page_id, p.title) for p in backend.pages()] == [(kept[0], "Original")]
    assert (backend.count_images(), backend.count_pages(), backend.versions()) == (1, 1, before)


def test_a_server_failing_during_a_bulk_add_reports_the_files(tmp_path, photos: list,
                                                              monkeypatch) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for n, photo in enumerate(photos[:3]):
        photo.save(folder / f"p{n}.jpg", quality=90)
    index = LocalIndex(backend="qdrant", url=":memory:")

    def down(*_: object, **__: object) -> None:
        raise EngineConnectionError("Cannot reach Qdrant at http://qdrant:6333")

    monkeypatch.setattr(index._store, "write", down)
    report = index.add_folder(folder, workers=1)
    assert report.added == [] and len(report.failed) == 3
    assert all("Cannot reach Qdrant" in why for _, why in report.failed)

"""The contract every LocalIndex storage backend passes (parametrized over the backends).

A new backend adds a factory to BACKENDS; everything below must then hold for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.transforms import TRANSFORMS
from rir import ConfigurationError
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.engines.local import features as F
from rir.engines.local.backends import IndexBackend
from rir.engines.local.candidates import query_words
from rir.engines.local.folder import fingerprint
from rir.engines.local.records import ImageData, PageData
from rir.engines.local.store import IndexStore
from rir.inputs.images import load_image
from tests.engines.local.helpers import qdrant_live_backend, qdrant_memory_backend
from tests.images import encode

BACKENDS: dict[str, Callable[[Path], IndexBackend]] = {
    "sqlite-memory": lambda tmp: IndexStore(None),
    "sqlite-file": lambda tmp: IndexStore(tmp / "contract.rir"),
    "qdrant-memory": qdrant_memory_backend,
    "qdrant-live": qdrant_live_backend,  # skipped (reason printed) unless $QDRANT_URL is set
}


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.live) if name == "qdrant-live"
                        else name for name in sorted(BACKENDS)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexBackend]:
    store = BACKENDS[request.param](tmp_path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [Image.open(path).convert("RGB") for _, path in available_demo_photos()]


@pytest.fixture(scope="module")
def prints(photos: list[Image.Image]) -> list[ImageData]:
    return [fingerprint(load_image(encode(p, quality=90))) for p in photos]


def _query(image: Image.Image):  # -> (QueryWords, sha256)
    data = load_image(encode(image, quality=90))
    return query_words(F.extract_query_features(F.load_for_features(data.data))), data.sha256


def test_it_implements_the_protocol(backend: IndexBackend) -> None:
    assert isinstance(backend, IndexBackend)
    stats = backend.stats()
    assert {"images", "pages", "bytes", "path", "format"} <= set(stats)
    assert (backend.count_images(), backend.count_pages()) == (0, 0)
    words, _ = _query(Image.new("RGB", (64, 64), "red"))
    assert backend.candidates(words, limit=8) == []


def test_images_are_stored_once_and_pages_upserted(backend: IndexBackend,
                                                   prints: list[ImageData]) -> None:
    a, b = PageData("A", url="https://e.example/a"), PageData("B", url="https://e.example/b")
    ids = backend.write([(prints[0], a), (prints[0], b), (prints[1], PageData("C"))])
    assert len(set(ids)) == 3
    assert backend.write([(prints[0], PageData("A2", url="https://e.example/a"))]) == [ids[0]]
    assert (backend.count_images(), backend.count_pages()) == (2, 3)
    assert [p.title for p in backend.pages(prints[0].image_id)] == ["A2", "B"]
    assert [p.title for p in backend.pages()] == ["A2", "B", "C"]


def test_candidates_find_a_transformed_copy_and_same_bytes_first(
        backend: IndexBackend, photos: list[Image.Image], prints: list[ImageData]) -> None:
    backend.write([(p, PageData(f"photo {n}")) for n, p in enumerate(prints)])
    for n, photo in enumerate(photos):
        words, sha = _query(TRANSFORMS["crop_offcenter_70"](photo))
        found = backend.candidates(words, limit=8, sha256=sha)
        info = backend.image_info([c.rowid for c in found])
        assert prints[n].image_id in [info[c.rowid].image_id for c in found[:3]], n
    words, sha = _query(photos[2])
    first = backend.candidates(words, limit=8, sha256=prints[2].sha256)[0]
    assert first.exact and backend.image_info([first.rowid])[first.rowid].image_id == \
        prints[2].image_id
    points, descriptors = backend.load_keypoints([first.rowid])[first.rowid]
    assert points.shape[1] == 2 and descriptors.shape[1] == 32 and len(points) == len(descriptors)


def test_removal_is_seen_by_candidates_and_counters(backend: IndexBackend,
                                                    photos: list[Image.Image],
                                                    prints: list[ImageData]) -> None:
    ids = backend.write([(prints[0], PageData("x", url="https://u/1")),
                         (prints[0], PageData("y", url="https://u/2")),
                         (prints[1], PageData("z"))])
    before = backend.versions()
    assert backend.remove_page(ids[0]) and backend.count_images() == 2
    assert backend.remove_image(prints[0].image_id) == 1
    assert backend.versions()[0] > before[0] and backend.versions()[1] > before[1]
    words, sha = _query(photos[0])
    rowids = [c.rowid for c in backend.candidates(words, limit=8, sha256=sha)]
    assert not any(info.image_id == prints[0].image_id
                   for info in backend.image_info(rowids).values())
    assert (backend.count_images(), backend.count_pages()) == (1, 1)


def test_a_failing_write_leaves_nothing_behind(backend: IndexBackend,
                                               prints: list[ImageData]) -> None:
    backend.write([(prints[0], PageData("kept"))])
    broken = ImageData(prints[1].sha256, 10, 10, None, None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        backend.write([(prints[2], PageData("first of batch")), (broken, PageData("bad"))])
    assert (backend.count_images(), backend.count_pages()) == (1, 1)
    assert [p.title for p in backend.pages()] == ["kept"]
    backend.write([(prints[2], PageData("after"))])  # and the backend still works
    assert backend.count_images() == 2


def test_many_small_writes_and_removals_stay_correct(backend: IndexBackend,
                                                     photos: list[Image.Image]) -> None:
    """Dozens of one-image writes (segment merges) interleaved with removals."""
    variants, originals = [], []
    for n in range(36):
        base = photos[n % len(photos)]
        width, height = base.size
        crop = base.crop((n % 5, n % 7, width - n % 3, height - n % 4))
        variants.append(fingerprint(load_image(encode(crop, quality=90))))
        originals.append(crop)
    for n, data in enumerate(variants):
        backend.write([(data, PageData(f"v{n}"))])
        if n % 6 == 5:
            assert backend.remove_image(variants[n - 2].image_id) == 1
    removed = {variants[n - 2].image_id for n in range(36) if n % 6 == 5}
    assert backend.count_images() == 36 - len(removed)
    for n in (0, 7, 20, 35):
        words, sha = _query(originals[n])
        found = backend.candidates(words, limit=8, sha256=sha)
        ids = [i.image_id for i in backend.image_info([c.rowid for c in found]).values()]
        assert variants[n].image_id in ids and not removed & set(ids)


def test_local_index_runs_on_a_given_backend(backend: IndexBackend, photos: list) -> None:
    index = LocalIndex(backend=backend)
    index.add(photos[0], title="Page A", url="https://n.example/a")
    index.add(photos[0], title="Page B", url="https://n.example/b")
    hits = index.search(TRANSFORMS["mirror"](photos[0])).hits
    assert [h.title for h in hits] == ["Page A", "Page B"]
    with pytest.raises(ConfigurationError, match="IndexBackend"):
        LocalIndex(backend=object())  # type: ignore[arg-type]


def test_embeddings_round_trip(backend: IndexBackend, prints: list[ImageData]) -> None:
    vector = np.arange(4, dtype=np.float32)
    data = ImageData(prints[0].sha256, prints[0].width, prints[0].height, prints[0].features,
                     prints[0].thumbnail, vector)
    backend.write([(data, PageData("e")), (prints[1], PageData("no embedding"))])
    rowids, vectors = backend.embeddings()
    assert len(rowids) == 1 and np.array_equal(vectors[0], vector)
    assert len(backend.embeddings(int(rowids[0]))[0]) == 0

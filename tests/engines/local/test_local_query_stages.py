"""The local engine's query stages: exact top-n picks, two-core work that changes nothing."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex, threads
from rir.engines.local import candidates as C
from rir.engines.local import features as F
from rir.engines.local import verification as V
from rir.engines.local.candidates import Candidate


def _reference_top(values: np.ndarray, n: int) -> list[int]:
    """Sort every positive value: largest first, ties by position."""
    positive = [i for i in range(len(values)) if values[i] > 0]
    return sorted(positive, key=lambda i: (-values[i], i))[:n]


@pytest.mark.parametrize("seed", range(30))
def test_top_is_exact_whatever_the_floors(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 3000))
    if seed % 2:  # small integer counts: ties everywhere (the global-word tally)
        values = rng.integers(0, 5, size) * (rng.random(size) < 0.3)
    else:  # IDF-weighted votes, a few strong
        values = np.round(rng.exponential(3, size) * (rng.random(size) < 0.2), 1)
    n = int(rng.integers(1, 40))
    for floors in [(), (1,), (2, 1), (100, 10, 3), (1e9,)]:
        got = C._top(values, n, floors).tolist()
        assert got == _reference_top(values, n), (floors, n)


def test_top_with_fewer_voted_than_asked() -> None:
    values = np.array([0.0, 3.0, 0.0, 1.5])
    assert C._top(values, 10, (5.0, 2.0)).tolist() == [1, 3]
    assert C._top(np.zeros(5), 3, (1.0,)).tolist() == []


@pytest.mark.parametrize("seed", range(20))
def test_best_of_two_sides_equals_the_dense_maximum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    straight = rng.integers(0, 6, int(rng.integers(1, 500))).astype(np.float64)
    mirrored = rng.integers(0, 6, int(rng.integers(1, 500))).astype(np.float64)
    n = int(rng.integers(1, 20))
    size = max(len(straight), len(mirrored))
    dense = np.maximum(np.pad(straight, (0, size - len(straight))),
                       np.pad(mirrored, (0, size - len(mirrored))))
    got = C._best(n, (straight, C._top(straight, n, (3,))),
                  (mirrored, C._top(mirrored, n, (3,))))
    assert got == _reference_top(dense, n)


def _query(path: object) -> F.QueryFeatures:
    return F.extract_query_features(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def photo_paths() -> list:
    return [path for _, path in available_demo_photos()][:3]


def test_query_features_are_the_same_on_one_core(photo_paths: list,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    two_cores = [_query(p) for p in photo_paths]
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 1)
    one_core = [_query(p) for p in photo_paths]
    for a, b in zip(two_cores, one_core, strict=True):
        assert np.array_equal(a.global_descs, b.global_descs)
        for side in (0, 1):
            assert np.array_equal(a.points[side], b.points[side])
            assert np.array_equal(a.descriptors[side], b.descriptors[side])


def _sequential(candidates: list[Candidate], query: F.QueryFeatures, keypoints: dict,
                threshold: float) -> dict:
    """One check at a time, as the engine did before checks ran two at a time."""
    scored, misses = {}, 0
    for candidate in candidates:
        scored.update(V.verify_candidates([candidate], query, keypoints, threshold))
        misses = 0 if scored[candidate.rowid][0] >= threshold else misses + 1
        if misses >= 4 and any(s[0] >= threshold for s in scored.values()):
            break
    return scored


@pytest.mark.parametrize("cores", [1, 2])
def test_verification_stops_where_one_at_a_time_would(photo_paths: list, cores: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.os, "cpu_count", lambda: cores)
    stored = [F.extract_index_features(Image.open(p).convert("RGB")) for p in photo_paths]
    keypoints = {rowid: (f.points, f.descriptors) for rowid, f in enumerate(stored, start=1)}
    keypoints.update({rowid + 3: value for rowid, value in keypoints.items()})
    query = _query(photo_paths[1])  # matches rowids 2 and 5 only
    base = Candidate(0, (1.0, 0.0), (0.0, 0.0))
    for order in ([2, 1, 3, 4, 6, 5], [1, 3, 4, 6, 2, 5], [1, 2], [2], [1, 3, 4, 6],
                  [7, 1, 8, 3, 9, 4, 10, 6, 11, 5, 2]):  # 7-11: no keypoints stored
        candidates = [replace(base, rowid=r) for r in order]
        got = V.verify_candidates(candidates, query, keypoints, 0.3)
        assert got == _sequential(candidates, query, keypoints, 0.3)
        assert list(got) == order[: len(got)]  # a prefix, in vote order
    # [2, 1, 3, 4, 6, 5]: 2 passes, then four misses end the stage before 5
    assert list(V.verify_candidates([replace(base, rowid=r) for r in [2, 1, 3, 4, 6, 5]],
                                    query, keypoints, 0.3)) == [2, 1, 3, 4, 6]


def _boom() -> None:
    raise ValueError("no such picture")


@pytest.mark.parametrize("cores", [1, 2])
def test_work_beside_returns_its_value_or_raises_its_error(cores: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.os, "cpu_count", lambda: cores)
    assert threads.beside(sum, [1, 2, 3]).result() == 6
    with pytest.raises(ValueError, match="no such picture"):
        threads.beside(_boom).result()


def _in_forked_child() -> None:
    assert threads.beside(sum, [4, 5]).result(timeout=10) == 9


def test_work_beside_runs_in_a_forked_child() -> None:
    """A child forked after the parent made its pool gets a pool of its own, not a hang."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    threads.beside(sum, [1]).result()  # the parent's pool exists
    child = multiprocessing.get_context("fork").Process(target=_in_forked_child)
    child.start()
    child.join(30)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung waiting for its parent's pool")
    assert child.exitcode == 0


def test_vote_buffers_are_clean_for_the_next_query() -> None:
    buffers = C.VoteBuffers()
    rowids = np.array([5, 3, 5, 9], np.intp)
    votes = buffers.tally(0, rowids, np.array([1.0, 2.0, 0.5, 4.0]))
    assert votes.tolist() == [0, 0, 0, 2.0, 0, 1.5, 0, 0, 0, 4.0]
    buffers.clear(0, rowids)
    bigger = np.array([2, 40], np.intp)  # grows, keeping nothing from before
    assert buffers.tally(0, bigger, 1.0)[[2, 3, 5, 9, 40]].tolist() == [1, 0, 0, 0, 1]
    assert buffers.tally(1, rowids, 1.0)[[3, 5, 9]].tolist() == [1, 2, 1]  # its own side


def test_candidates_do_not_depend_on_earlier_queries(tmp_path: Path, photo_paths: list) -> None:
    """The reused vote buffers carry nothing from one query to the next."""
    index = LocalIndex(tmp_path / "photos.rir")
    for path in photo_paths:
        index.add(path, title=path.stem)
    queries = [C.query_words(_query(p)) for p in photo_paths]
    store = index._store
    first = [store.candidates(q, limit=9) for q in queries]
    again = [store.candidates(q, limit=9) for q in reversed(queries)][::-1]
    fresh = LocalIndex(tmp_path / "photos.rir")._store
    assert first == again == [fresh.candidates(q, limit=9) for q in queries]
    assert all(c and c[0].votes[0] > 0 for c in first)
    assert [c[0].rowid for c in first] == [1, 2, 3]
    index.close()


@pytest.mark.parametrize("seed", range(20))
def test_word_sets_match_numpys_without_importing_numpy_ma(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for dtype in (np.uint32, np.int64):
        words = rng.integers(0, 60, int(rng.integers(0, 80))).astype(dtype)
        probes = rng.integers(0, 70, int(rng.integers(0, 50))).astype(np.int64)
        unique = F.unique_words(words)
        assert unique.dtype == dtype and unique.tolist() == np.unique(words).tolist()
        assert F.isin_words(probes, words).tolist() == np.isin(probes, words).tolist()


def test_a_cold_query_does_not_import_numpy_ma() -> None:
    import subprocess
    import sys

    if not available_demo_photos():
        pytest.skip("the demo photos (matplotlib, scikit-image) are not installed")
    code = ("import sys\nfrom rir.demo import build_demo_index, demo_query\n"
            "index = build_demo_index()\nassert 'numpy.ma' not in sys.modules\n"
            "assert index.query(demo_query()[0], k=1).hits[0].title == 'Grace Hopper'\n"
            "print('numpy.ma' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"

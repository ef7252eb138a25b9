"""Bulk indexing on Ray (`rir index add FOLDER --executor ray`): a local Ray on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rir.cli import main
from rir.demo import available_demo_photos
from rir.engines.local import LocalIndex
from rir.engines.local.copy import read_images
from rir.engines.local.ray_fingerprints import fingerprint_payloads
from rir.engines.local.store import IndexStore


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir()
    for _, path in available_demo_photos()[:4]:
        shutil.copy(path, photos / path.name)
    if len(list(photos.iterdir())) < 4:
        pytest.skip("the demo photos (matplotlib, scikit-image) are not installed")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return photos


def test_the_task_body_fingerprints_bytes_and_reports_bad_ones(folder: Path) -> None:
    good = next(p for p in sorted(folder.iterdir()) if p.name != "broken.jpg")
    results = fingerprint_payloads([(good.name, good.read_bytes(), None),
                                    ("broken.jpg", (folder / "broken.jpg").read_bytes(), None),
                                    ("gone.jpg", None, "FileNotFoundError: gone")])
    assert results[0][0] is not None and results[0][1] is None
    assert results[1][0] is None and results[1][1]
    assert results[2] == (None, "FileNotFoundError: gone")


def test_bad_executor_arguments_are_exit_2(capsys, folder: Path, tmp_path: Path) -> None:
    index = tmp_path / "i.rir"
    assert main(["index", "add", str(folder), "--executor", "ray", "--workers", "2",
                 "--index", str(index)]) == 2
    assert "leave --workers out" in capsys.readouterr().err and not index.exists()
    with pytest.raises(Exception, match="executor must be 'processes' or 'ray'"):
        LocalIndex(":memory:").add_folder(folder, executor="dask")


def test_a_folder_indexed_on_ray_equals_the_process_pool_build(capsys, folder: Path,
                                                              tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    on_ray = tmp_path / "ray.rir"
    code = main(["index", "add", str(folder), "--executor", "ray", "--index", str(on_ray)])
    out, err = capsys.readouterr()
    assert not ray.is_initialized()  # the local Ray it started is stopped again
    assert code == 1  # one file failed, the others are indexed
    assert "4 images indexed, 1 failed" in out and "broken.jpg" in err
    local = tmp_path / "local.rir"
    with LocalIndex(local) as index:
        report = index.add_folder(folder, workers=1)
    assert len(report.added) == 4 and [Path(f).name for f, _ in report.failed] == ["broken.jpg"]
    ray_store, local_store = IndexStore(on_ray), IndexStore(local)
    ray_pages, local_pages = ray_store.pages(), local_store.pages()
    assert [(p.page_id, p.title, p.metadata) for p in ray_pages] == \
        [(p.page_id, p.title, p.metadata) for p in local_pages]
    ids = [p.image_id for p in local_pages]
    built_on_ray, built_here = read_images(ray_store, ids), read_images(local_store, ids)
    for image_id in ids:
        a, b = built_on_ray[image_id].features, built_here[image_id].features
        assert np.array_equal(a.descriptors, b.descriptors) and np.allclose(a.global_desc,
                                                                            b.global_desc)

"""Large local indexes: build once, then time a fresh process's first query and warm queries.

Runs against whichever ``rir`` is first on the path, so ``benchmarks/local_index.py``
can measure this version and the previous one (exported from git) on the same
entries, in one run:

    python benchmarks/local_scale.py build --index big.rir --entries 1000000
    python benchmarks/local_scale.py probe --index big.rir --query q.jpg
    python benchmarks/local_scale.py measure --index big.rir

Each command prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after a version on PYTHONPATH

from benchmarks.local_filler import filler_batches
from benchmarks.transforms import TRANSFORMS
from rir.engines.local import LocalIndex
from rir.engines.local import features as F
from rir.inputs.images import load_image

NEWS = Path(__file__).resolve().parents[2] / "shared" / "images" / "news"


def split(folder: Path, indexed: int, seed: int) -> tuple[list[Path], list[Path]]:
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    random.Random(seed).shuffle(photos)
    return photos[:indexed], photos[indexed:]


def encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _manifest(args: argparse.Namespace, version: str) -> dict:
    return {"entries": args.entries, "indexed": args.indexed, "seed": args.seed,
            "folder": str(args.folder), "version": version}


def _version() -> str:
    return f"{getattr(F, 'WORDS_VERSION', 'v1')}/{F.FEATURE_VERSION}"


def _wait_for_other_build(index: Path) -> None:
    """If another process is building this index (its pid in NAME.building), wait for it."""
    marker = Path(f"{index}.building")
    while marker.exists():
        try:
            os.kill(int(marker.read_text()), 0)
        except (ProcessLookupError, ValueError):
            marker.unlink(missing_ok=True)  # that build died: build again below
            return
        time.sleep(10)


def build(args: argparse.Namespace) -> dict:
    _wait_for_other_build(args.index)
    manifest_path = Path(str(args.index) + ".manifest.json")
    wanted = _manifest(args, _version())
    if args.index.exists() and manifest_path.exists() and \
            json.loads(manifest_path.read_text()) == wanted:
        return {"built": False, "entries": args.entries}
    for stale in (args.index, Path(f"{args.index}-wal"), Path(f"{args.index}-shm")):
        stale.unlink(missing_ok=True)
    indexed, _ = split(args.folder, args.indexed, args.seed)
    marker = Path(f"{args.index}.building")
    marker.write_text(str(os.getpid()))
    index = LocalIndex(args.index)
    started = time.perf_counter()
    for path in indexed:
        index.add(path, title=path.stem)
    sources = [F.extract_index_features(Image.open(p)) for p in indexed[args.queries:]]
    store = index._store  # filler skips image decoding, which is not what is measured
    if hasattr(store, "write"):
        store._conn.execute("PRAGMA cache_size = -1048576")  # 1 GB: the id indexes at 1M
    done = len(indexed)
    for batch in filler_batches(sources, args.entries - len(indexed), seed=args.seed,
                                batch=25_000):
        if hasattr(store, "write"):  # this version: images + pages, one transaction per batch
            from rir.engines.local.records import ImageData, PageData

            items = []
            for n, features in enumerate(batch, start=done):
                digest = hashlib.sha256(f"filler-{n}".encode()).hexdigest()
                items.append((ImageData(digest, 640, 480, features, None),
                              PageData(f"filler {n}")))
            store.write(items, defer_merges=True)
        else:  # the previous version: one upsert per entry
            for n, features in enumerate(batch, start=done):
                store.upsert(entry_id=f"filler-{n}", sha256=f"filler-{n}", title=f"filler {n}",
                             caption=None, url=None, image_url=None, metadata={}, width=640,
                             height=480, thumbnail=None, features=features, embedding=None)
        done += len(batch)
        if done % 100_000 < len(batch):
            print(f"  {done:,} entries, {time.perf_counter() - started:.0f} s", flush=True)
    if hasattr(store, "compact"):
        store.compact()  # one rewrite instead of merging while loading
        print(f"  compacted, {time.perf_counter() - started:.0f} s", flush=True)
    index.close()
    manifest_path.write_text(json.dumps(wanted))
    marker.unlink(missing_ok=True)
    return {"built": True, "entries": done, "build_s": round(time.perf_counter() - started, 1)}


def probe(args: argparse.Namespace) -> dict:
    """Open the index and run one query: what a CLI call on a big archive costs."""
    started = time.perf_counter()
    index = LocalIndex(args.index)
    opened = time.perf_counter()
    result = index.query(load_image(args.query), k=5)
    done = time.perf_counter()
    return {"open_ms": round((opened - started) * 1000, 1),
            "open_first_query_ms": round((done - started) * 1000, 1),
            "top": result.hits[0].title if result.hits else None}


def warm_postings(index: Path) -> float:
    """Read the posting lists once; returns seconds taken.

    "Warm" means what a process that has been answering queries for a while sees:
    the index open and its posting lists (the part every query reads) in the OS
    page cache. Without this step the figures would depend on what ran before,
    e.g. the previous engine, whose in-memory load evicts most of the cache. The
    images' keypoints and records (most of the file) are left to be read from
    wherever they are, as a query of a million-entry archive reads them.
    """
    started = time.perf_counter()
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "postings" in tables:  # this version; the previous one loads its words itself
            conn.execute("SELECT sum(length(rowids)) FROM postings").fetchone()
    finally:
        conn.close()
    return time.perf_counter() - started


def measure(args: argparse.Namespace) -> dict:
    indexed, held_out = split(args.folder, args.indexed, args.seed)
    sample = indexed[: args.queries]
    warm_s = warm_postings(args.index)
    index = LocalIndex(args.index)
    index.query(load_image(encoded(Image.open(sample[0]).convert("RGB"))))  # warm
    recall, latencies = {}, []
    for name, transform in TRANSFORMS.items():
        found = 0
        for path in sample:
            image = load_image(encoded(transform(Image.open(path).convert("RGB"))))
            started = time.perf_counter()
            result = index.query(image, k=5)
            latencies.append((time.perf_counter() - started) * 1000)
            found += bool(result.hits) and result.hits[0].title == path.stem
        recall[name] = found / len(sample)
    false = sum(bool(index.query(p, k=1).hits) for p in held_out)
    size = args.index.stat().st_size + sum(
        p.stat().st_size for p in (Path(f"{args.index}-wal"),) if p.exists())
    entries = len(index)
    return {"entries": entries, "warm_postings_s": round(warm_s, 1), "recall": recall,
            "recall_all": float(np.mean(list(recall.values()))),
            "queries": len(latencies), "p50_ms": round(float(np.percentile(latencies, 50)), 1),
            "p95_ms": round(float(np.percentile(latencies, 95)), 1),
            "false_matches": false, "held_out": len(held_out),
            "bytes_per_entry": round(size / max(1, entries))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "probe", "measure"])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=NEWS)
    parser.add_argument("--indexed", type=int, default=250)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--query", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = {"build": build, "probe": probe, "measure": measure}[args.command](args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

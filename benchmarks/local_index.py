"""Benchmark the embedded local engine on real news photographs.

Measures, in one run:

* recall@1 per transform (resize, JPEG, crops, mirror, rotation, light, grey,
  caption band, watermark) on ``../shared/images/news``, for the local engine
  and for a pHash-like baseline (nearest global DCT descriptor, no keypoints);
* false matches: how many photos that are *not* indexed still get a hit;
* index build speed (images/s);
* query latency p50/p95 at 1k and 100k entries (filler entries are synthetic
  photos built from real photos' keypoints), against brute-force keypoint
  verification of every entry at 1k (what the LSH candidate stage saves).

    python benchmarks/local_index.py [--queries 60] [--large 100000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.transforms import TRANSFORMS
from rir.engines.local import LocalIndex
from rir.engines.local import features as F
from rir.images import load_image

NEWS = Path(__file__).resolve().parents[2] / "shared" / "images" / "news"


def load_photos(folder: Path) -> list[tuple[Path, str]]:
    titles = {}
    captions = folder / "captions.jsonl"
    if captions.is_file():
        for line in captions.read_text().splitlines():
            row = json.loads(line)
            titles[row["file"]] = row.get("title") or Path(row["file"]).stem
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return [(p, titles.get(p.name, p.stem)) for p in files]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def add_filler(index: LocalIndex, sources: list[F.IndexFeatures], count: int, seed: int) -> None:
    """Insert ``count`` synthetic entries that look like other photos (no image decoding).

    Each filler entry takes its keypoints from a random mix of real photos (so its
    descriptors have real ORB statistics) with a few bits flipped, and a global
    descriptor blended from two photos plus noise: realistic distractors, not
    near-copies of any one photo.
    """
    rng = np.random.default_rng(seed)
    pool_points = np.concatenate([s.points for s in sources])
    pool_descriptors = np.concatenate([s.descriptors for s in sources])
    for n in range(count):
        pick = rng.choice(len(pool_descriptors), F.STORED_KEYPOINTS, replace=False)
        descriptors = pool_descriptors[pick].copy()
        flips = rng.random(descriptors.shape) < 0.05
        descriptors[flips] ^= rng.integers(1, 256, int(flips.sum()), dtype=np.uint8)
        a, b = rng.choice(len(sources), 2, replace=False)
        blended = sources[a].global_desc + sources[b].global_desc
        blended = blended + rng.normal(0, 0.2, blended.shape)
        features = F.IndexFeatures(
            global_desc=(blended / np.linalg.norm(blended)).astype(np.float32),
            points=pool_points[pick].astype(np.float32),
            descriptors=descriptors,
            words=F.lsh_words(descriptors[: F.WORD_KEYPOINTS]),
        )
        # The store is internal API: filler skips image decoding, which is not what we time.
        index._store.upsert(
            entry_id=f"filler-{seed}-{n}", sha256=f"filler-{seed}-{n}", title=f"filler {n}",
            caption=None, url=None, image_url=None, metadata={}, width=640, height=480,
            thumbnail=None, features=features, embedding=None,
        )


def time_queries(index: LocalIndex, queries: list[tuple[bytes, str]]) -> tuple[list[float], float]:
    index.query(load_image(queries[0][0]))  # load the in-memory arrays outside the timing
    times, found = [], 0
    for data, title in queries:
        image = load_image(data)
        started = time.perf_counter()
        result = index.query(image, k=5)
        times.append((time.perf_counter() - started) * 1000)
        found += bool(result.hits) and result.hits[0].title == title
    return times, found / len(queries)


def brute_force_ms(index: LocalIndex, queries: list[tuple[bytes, str]], limit: int) -> list[float]:
    """Baseline: verify the query against every entry's keypoints (no candidate stage)."""
    store = index._store
    rowids = list(index._sync_memory().rowids)
    keypoints = store.load_keypoints(rowids)
    times = []
    for data, _ in queries[:limit]:
        started = time.perf_counter()
        query = F.extract_query_features(F.load_for_features(data))
        for points, descriptors in keypoints.values():
            F.verify(query.points[0], query.descriptors[0], points, descriptors)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=NEWS)
    parser.add_argument("--indexed", type=int, default=250, help="photos to index")
    parser.add_argument("--queries", type=int, default=60, help="queries per transform")
    parser.add_argument("--large", type=int, default=100_000, help="entries for the large index")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"{args.folder} not found: this benchmark needs ../shared/images/news")
        return 1
    photos = load_photos(args.folder)
    random.Random(args.seed).shuffle(photos)
    indexed, held_out = photos[: args.indexed], photos[args.indexed:]
    print(f"{len(photos)} photos in {args.folder}: indexing {len(indexed)}, "
          f"{len(held_out)} held out as no-match queries")

    index = LocalIndex(":memory:")  # LocalIndex() is now the default index file
    started = time.perf_counter()
    for path, title in indexed:
        index.add(path, title=title)
    build_s = time.perf_counter() - started
    print(f"index build: {len(indexed) / build_s:.1f} images/s ({build_s:.1f} s)")

    # Recall per transform, local engine vs the pHash-like global-descriptor baseline.
    sample = indexed[: args.queries]
    memory = index._sync_memory()
    position_of = {int(r): i for i, r in enumerate(memory.rowids)}
    title_at = {position_of[rowid]: record.title
                for rowid, record in index._store.load_records(memory.rowids).items()}
    rows, all_ours, all_base, latencies = [], [], [], []
    for name, transform in TRANSFORMS.items():
        ours = base = 0
        for path, title in sample:
            image = load_image(encoded(transform(Image.open(path).convert("RGB"))))
            t0 = time.perf_counter()
            result = index.query(image, k=1)
            latencies.append((time.perf_counter() - t0) * 1000)
            ours += bool(result.hits) and result.hits[0].title == title
            query = F.extract_query_features(F.load_for_features(image.data))
            nearest = int(np.argmax(memory.global_similarities(query.global_descs).max(axis=1)))
            base += title_at[nearest] == title
        rows.append((name, ours / len(sample), base / len(sample)))
        all_ours.append(ours / len(sample))
        all_base.append(base / len(sample))
    false = sum(bool(index.query(path, k=1).hits) for path, _ in held_out)

    print("\n| transform | recall@1 local engine | recall@1 pHash-like baseline |")
    print("|---|---|---|")
    for name, ours, base in rows:
        print(f"| {name} | {ours:.3f} | {base:.3f} |")
    print(f"| **all ({len(sample)} queries each)** | **{statistics.mean(all_ours):.3f}** | "
          f"**{statistics.mean(all_base):.3f}** |")
    print(f"\nno-match queries with a hit (false matches): {false}/{len(held_out)}")
    print(f"query time at {len(indexed)} entries: mean {statistics.mean(latencies):.1f} ms, "
          f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms")

    # Latency at 1k and at the large size, with filler.
    queries = [(encoded(TRANSFORMS["crop_offcenter_70"](Image.open(p).convert("RGB"))), t)
               for p, t in indexed[:40]]
    # Filler is built from photos that are not queried, so it holds no copies of a query.
    sources = [F.extract_index_features(Image.open(p)) for p, _ in indexed[40:]]
    print("\n| entries | query p50 | query p95 | recall@1 (crop 70%) |")
    print("|---|---|---|---|")
    brute = None
    for size in (1_000, args.large):
        add_filler(index, sources, size - len(index), seed=size)
        load_started = time.perf_counter()
        index._sync_memory()
        load_s = time.perf_counter() - load_started
        times, recall = time_queries(index, queries)
        print(f"| {len(index):,} | {percentile(times, 50):.1f} ms | "
              f"{percentile(times, 95):.1f} ms | {recall:.3f} |  (arrays loaded in {load_s:.1f} s)")
        if size == 1_000:
            brute = brute_force_ms(index, queries, limit=5)
            ours_1k = percentile(times, 50)
    if brute:
        print(f"\nbaseline at 1,000 entries, brute-force keypoint verification of every entry: "
              f"p50 {percentile(brute, 50):.0f} ms -> the candidate stage is "
              f"{percentile(brute, 50) / ours_1k:.0f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

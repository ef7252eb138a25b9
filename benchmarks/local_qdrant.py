"""The Qdrant backend beside the embedded SQLite store, on the real news photographs.

Both backends get the same fingerprints (computed once) and the same queries
(every transform of benchmarks/transforms.py on a sample of indexed photos, plus
held-out photos that must find nothing), in one run:

* recall@1 per transform, and false matches on held-out photos;
* write speed (images/s, fingerprints already computed);
* query time (load + features + candidates + verification), median and p95, and
  the ratio to the SQLite store measured in the same run.

Qdrant runs as qdrant-client's in-process mode here (``QdrantClient(":memory:")``,
a pure-Python implementation, not the server); pass ``--url`` for a real server.

    python benchmarks/local_qdrant.py [--indexed 100] [--queries 10] [--url http://...]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.local_index import NEWS, load_photos
from benchmarks.transforms import TRANSFORMS
from rir.engines.local import LocalIndex
from rir.engines.local.folder import fingerprint
from rir.engines.local.qdrant.backend import QdrantBackend
from rir.engines.local.records import PageData
from rir.engines.local.store import IndexStore
from rir.inputs.images import load_image


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=NEWS)
    # In-process Qdrant scores sparse vectors in pure Python (~4 ms per indexed image per
    # query side), so the defaults keep this run to a few minutes; a server is far faster.
    parser.add_argument("--indexed", type=int, default=100)
    parser.add_argument("--queries", type=int, default=10, help="photos queried per transform")
    parser.add_argument("--held-out", type=int, default=40, help="no-match queries")
    parser.add_argument("--url", default=":memory:", help="a Qdrant server (default: in-process)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"{args.folder} not found: this benchmark needs ../shared/images/news")
        return 1
    photos = load_photos(args.folder)
    random.Random(args.seed).shuffle(photos)
    indexed = photos[: args.indexed]
    held_out = photos[args.indexed:args.indexed + args.held_out]
    started = time.perf_counter()
    items = [(fingerprint(load_image(path)), PageData(title)) for path, title in indexed]
    print(f"{len(items)} photos fingerprinted in {time.perf_counter() - started:.1f} s; "
          f"{len(held_out)} held out; Qdrant: {args.url}")

    backends = {"sqlite (memory)": IndexStore(None),
                "qdrant": QdrantBackend(args.url, collection=f"rir-bench-{args.seed}")}
    indexes, write_rate = {}, {}
    for name, backend in backends.items():
        started = time.perf_counter()
        for start in range(0, len(items), 64):
            backend.write(items[start:start + 64])
        write_rate[name] = len(items) / (time.perf_counter() - started)
        indexes[name] = LocalIndex(backend=backend)

    sample = indexed[: args.queries]
    queries = [(name, title, _jpeg(transform(Image.open(path).convert("RGB"))))
               for name, transform in TRANSFORMS.items() for path, title in sample]
    recall: dict[str, dict[str, list[bool]]] = {n: {} for n in backends}
    times: dict[str, list[float]] = {n: [] for n in backends}
    for transform, title, data in queries:
        for name, index in indexes.items():  # alternate backends: same machine load for both
            t0 = time.perf_counter()
            hits = index.query(load_image(data), k=1).hits
            times[name].append((time.perf_counter() - t0) * 1000)
            recall[name].setdefault(transform, []).append(bool(hits) and hits[0].title == title)
    false = {name: sum(bool(index.query(path, k=1).hits) for path, _ in held_out)
             for name, index in indexes.items()}

    names = list(backends)
    print(f"\n| transform | {' | '.join(f'recall@1 {n}' for n in names)} |")
    print("|---|" + "---|" * len(names))
    for transform in TRANSFORMS:
        print(f"| {transform} | " + " | ".join(f"{np.mean(recall[n][transform]):.3f}"
                                                for n in names) + " |")
    overall = {n: statistics.mean(v for hits in recall[n].values() for v in hits) for n in names}
    print(f"| **all ({len(queries)} queries)** | "
          + " | ".join(f"**{overall[n]:.3f}**" for n in names) + " |")
    base = statistics.median(times[names[0]])
    print("\n| backend | write images/s | query p50 ms | query p95 ms | p50 vs sqlite | "
          "false matches |")
    print("|---|---|---|---|---|---|")
    for n in names:
        p50 = statistics.median(times[n])
        print(f"| {n} | {write_rate[n]:.0f} | {p50:.1f} | {np.percentile(times[n], 95):.1f} | "
              f"{p50 / base:.2f}x | {false[n]}/{len(held_out)} |")
    for backend in backends.values():
        backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

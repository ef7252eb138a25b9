"""Benchmark the embedded local engine on real news photographs.

Measures, in one run:

* recall@1 per transform (resize, JPEG, crops, mirror, rotation, light, grey,
  caption band, watermark) on ``../shared/images/news``, for the local engine
  and for a pHash-like baseline (nearest global DCT descriptor, no keypoints);
* false matches: how many photos that are *not* indexed still get a hit;
* index build speed (images/s) with 1 and 2 worker processes;
* at 1,000,000 entries (the real photos plus synthetic filler built from real
  photos' keypoints), beside the previous engine (exported from git at
  ``--legacy-commit``) at ``--legacy-large`` entries: open + first query in a
  fresh process, the same through the CLI, warm p50/p95, recall@1 under every
  transform, false matches and disk per entry (``benchmarks/local_scale.py``
  builds the large files once under ``--cache`` and reuses them).

    python benchmarks/local_index.py [--queries 60] [--large 1000000] [--cache DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.transforms import TRANSFORMS
from benchmarks.versions import rir_at
from rir.engines.local import LocalIndex
from rir.engines.local import features as F
from rir.inputs.images import load_image

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "images" / "news"
SCALE = ROOT / "benchmarks" / "local_scale.py"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def split(folder: Path, indexed: int, seed: int) -> tuple[list[Path], list[Path]]:
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    random.Random(seed).shuffle(photos)
    return photos[:indexed], photos[indexed:]


def quality(indexed: list[Path], held_out: list[Path], queries: int) -> None:
    index = LocalIndex(":memory:")
    for path in indexed:
        index.add(path, title=path.stem)
    # pHash-like baseline: the nearest global DCT descriptor, no keypoints.
    descriptors = np.stack([F.extract_index_features(F.load_for_features(p.read_bytes()))
                            .global_desc for p in indexed])
    sample = indexed[:queries]
    rows, all_ours, all_base, latencies = [], [], [], []
    for name, transform in TRANSFORMS.items():
        ours = base = 0
        for path in sample:
            image = load_image(encoded(transform(Image.open(path).convert("RGB"))))
            started = time.perf_counter()
            result = index.query(image, k=1)
            latencies.append((time.perf_counter() - started) * 1000)
            ours += bool(result.hits) and result.hits[0].title == path.stem
            query = F.extract_query_features(F.load_for_features(image.data))
            nearest = int(np.argmax((descriptors @ query.global_descs.T).max(axis=1)))
            base += indexed[nearest] == path
        rows.append((name, ours / len(sample), base / len(sample)))
        all_ours.append(ours / len(sample))
        all_base.append(base / len(sample))
    false = sum(bool(index.query(path, k=1).hits) for path in held_out)
    print("\n| transform | recall@1 local engine | recall@1 pHash-like baseline |")
    print("|---|---|---|")
    for name, ours, base in rows:
        print(f"| {name} | {ours:.3f} | {base:.3f} |")
    print(f"| **all ({len(sample)} queries each)** | **{statistics.mean(all_ours):.3f}** | "
          f"**{statistics.mean(all_base):.3f}** |")
    print(f"\nno-match queries with a hit (false matches): {false}/{len(held_out)}")
    print(f"query time at {len(indexed)} photos: p50 {percentile(latencies, 50):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms")


def build_speed(indexed: list[Path]) -> None:
    """add_folder on the indexed photos with 1 and 2 worker processes (fresh index each)."""
    with tempfile.TemporaryDirectory() as folder:
        for path in indexed:
            os.symlink(path, Path(folder) / path.name)
        rates = {}
        for workers in (1, 2):
            started = time.perf_counter()
            report = LocalIndex(":memory:").add_folder(folder, workers=workers)
            rates[workers] = len(report.added) / (time.perf_counter() - started)
    print(f"\nbuild ({len(indexed)} photos, add_folder): 1 worker {rates[1]:.1f} images/s, "
          f"2 workers {rates[2]:.1f} images/s ({rates[2] / rates[1]:.2f}x)")


def run_scale(python_path: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": python_path}
    done = subprocess.run([sys.executable, str(SCALE), *args], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_ms(python_path: str, index: Path, query: Path) -> float:
    """Wall time of ``rir index search`` in a fresh process (interpreter start included)."""
    env = {**os.environ, "PYTHONPATH": python_path}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from rir.cli import main; sys.exit(main())",
                    "index", "search", str(query), "--index", str(index), "-k", "5", "--json"],
                   env=env, check=True, capture_output=True, cwd=index.parent)  # not a rir tree
    return (time.perf_counter() - started) * 1000


def large(args: argparse.Namespace, sample: list[Path]) -> None:
    query = args.cache / "probe_query.jpg"
    query.write_bytes(encoded(TRANSFORMS["crop_offcenter_70"](Image.open(sample[0])
                                                              .convert("RGB"))))
    legacy = rir_at(args.legacy_commit, args.cache)
    # The previous engine first: its file is quick to build, this version's may still be.
    engines = [(f"previous ({args.legacy_commit})", f"{legacy}{os.pathsep}{ROOT}",
                args.cache / f"v1-{args.legacy_large}.rir", args.legacy_large),
               ("this version", f"{ROOT}", args.cache / f"v2-{args.large}.rir", args.large)]
    common = ["--folder", str(args.folder), "--indexed", str(args.indexed),
              "--queries", str(args.queries), "--seed", str(args.seed)]
    rows = []
    for label, path, index, entries in engines:
        built = run_scale(path, "build", "--index", str(index), "--entries", str(entries),
                          *common)
        print(f"{label}: {entries:,} entries {'built' if built['built'] else 'reused'} {built}")
        probes = [run_scale(path, "probe", "--index", str(index), "--query", str(query), *common)
                  for _ in range(3)]
        cli = [cli_ms(path, index, query) for _ in range(3)]
        measured = run_scale(path, "measure", "--index", str(index), *common)
        rows.append((label, probes, cli, measured))
    print("\n| engine | entries | open + first query (fresh process) | `rir index search` "
          "wall time | warm p50 | warm p95 | recall@1, all transforms | false matches | "
          "disk per entry |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, probes, cli, m in rows:
        first = statistics.median(p["open_first_query_ms"] for p in probes)
        print(f"| {label} | {m['entries']:,} | {first:,.0f} ms | {statistics.median(cli):,.0f} ms"
              f" | {m['p50_ms']} ms | {m['p95_ms']} ms | {m['recall_all']:.3f} "
              f"({m['queries']} queries) | {m['false_matches']}/{m['held_out']} | "
              f"{m['bytes_per_entry'] / 1024:.1f} KB |")
    for label, _, _, m in rows:
        worst = sorted(m["recall"].items(), key=lambda item: item[1])[:3]
        print(f"{label}: lowest recall@1 {', '.join(f'{n} {r:.3f}' for n, r in worst)}")
    previous, ours = rows[0][3], rows[1][3]
    print(f"\nwarm p50 ratio this/previous: {ours['p50_ms'] / previous['p50_ms']:.2f} "
          f"(at {ours['entries']:,} vs {previous['entries']:,} entries)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=NEWS)
    parser.add_argument("--indexed", type=int, default=250, help="photos to index")
    parser.add_argument("--queries", type=int, default=60, help="queries per transform")
    parser.add_argument("--large", type=int, default=1_000_000, help="entries, this version")
    parser.add_argument("--legacy-large", type=int, default=100_000,
                        help="entries for the previous engine (it loads all into memory)")
    parser.add_argument("--legacy-commit", default="528f7c8")
    parser.add_argument("--cache", type=Path, default=ROOT.parent / "bench-cache")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-small", action="store_true", help="only the large indexes")
    parser.add_argument("--skip-large", action="store_true", help="only the 250-photo index")
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"{args.folder} not found: this benchmark needs ../shared/images/news")
        return 1
    args.cache.mkdir(parents=True, exist_ok=True)
    indexed, held_out = split(args.folder, args.indexed, args.seed)
    print(f"{len(indexed) + len(held_out)} photos in {args.folder}: indexing {len(indexed)}, "
          f"{len(held_out)} held out as no-match queries")
    if not args.skip_small:
        quality(indexed, held_out, args.queries)
        build_speed(indexed)
    if not args.skip_large:
        large(args, indexed[: args.queries])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

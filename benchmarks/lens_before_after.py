"""Benchmark: the google_lens default read on a complete page, this tree against another.

Answers "did a change cost the fast path anything?" on a noisy shared machine:
each round measures the other tree (``--before``, e.g. a ``git archive`` of an
older commit) and this one, alternately, each in a fresh process with its own
``PYTHONPATH``, against the fake Lens in a process of its own serving the real
1.7 MB page after a 0.5 s delay (k=10: the page is complete, so it is read off
the network and never rendered). Per tree: median latency at concurrency 1,
throughput at concurrency 8, and CPU-seconds per query of the measuring process
and its children (Playwright's driver, Chromium, the parse helper), which other
work on the machine does not inflate. Medians over the rounds, and ratios
this / before.

    git archive OLD_COMMIT | tar -x -C /tmp/before
    python benchmarks/lens_before_after.py --before /tmp/before --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_QUERIES_C1 = 8
_QUERIES_C8 = 32


def _tree_cpu() -> float:
    import psutil

    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:  # a child that exited meanwhile
            continue
        total += times.user + times.system
    return total


async def _measure() -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from lens_engine import fake_lens_process, query_jpeg  # this tree's fake server

    from rir.engines.google_lens import GoogleLensEngine  # the tree on PYTHONPATH
    from rir.inputs.images import aload_image

    with fake_lens_process({"q.jpg": query_jpeg()}) as root:
        query = await aload_image(f"{root}/img/q.jpg", allow_private_urls=True)
        engine = GoogleLensEngine(base_url=f"{root}/s/ab+delay=0.5+page=real",
                                  max_concurrency=8, timeout_s=60)
        try:
            await engine.asearch(query, k=10)  # warm the pool
            latencies = []
            for _ in range(_QUERIES_C1):
                started = time.perf_counter()
                await engine.asearch(query, k=10)
                latencies.append(time.perf_counter() - started)
            gate = asyncio.Semaphore(8)

            async def one() -> None:
                async with gate:
                    result = await engine.asearch(query, k=10)
                    assert result.metadata["read_from"] == "network"

            cpu, started = _tree_cpu(), time.perf_counter()
            await asyncio.gather(*(one() for _ in range(_QUERIES_C8)))
            wall, cpu = time.perf_counter() - started, _tree_cpu() - cpu
        finally:
            await engine.aclose()
    return {"latency": statistics.median(latencies), "c8": _QUERIES_C8 / wall,
            "cpu": cpu / _QUERIES_C8}


def _run(tree: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree),
           "RIR_SHARED_DIR": os.environ.get("RIR_SHARED_DIR", str(ROOT.parent / "shared"))}
    done = subprocess.run([sys.executable, __file__, "--measure"], env=env, cwd=tree,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(args: argparse.Namespace) -> int:
    trees = {"before": Path(args.before).resolve(), "this": ROOT}
    rows: dict[str, list[dict[str, float]]] = {"before": [], "this": []}
    for round_ in range(1, args.rounds + 1):
        for label, tree in trees.items():
            rows[label].append(_run(tree))
            print(f"round {round_} {label}: {rows[label][-1]}", flush=True)
    print()
    print(f"| metric (real page, k=10, {args.rounds} rounds, medians) | before | this | "
          "this / before |")
    print("|---|---:|---:|---:|")
    for key, name in (("latency", "median latency, c=1 (s)"),
                      ("c8", "throughput, c=8 (queries/s)"),
                      ("cpu", "own CPU-s per query, c=8")):
        before = statistics.median(r[key] for r in rows["before"])
        this = statistics.median(r[key] for r in rows["this"])
        print(f"| {name} | {before:.3f} | {this:.3f} | {this / before:.2f}x |")
    return 0


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(json.dumps(asyncio.run(_measure())))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    sys.exit(main(parser.parse_args()))

"""Benchmark: the google_lens engine (warm browser pool) against the prototype's way.

Both run in the same process against the project's fake Lens server on
127.0.0.1, which serves the real saved 1.7 MB Lens results page after a fixed
delay. The baseline does what the original prototype did for every query: start
Playwright, launch a new Chromium, open the upload-by-URL page, sleep a fixed
2 s, take a full-page screenshot, close everything. Ours reuses one browser,
opens a fresh context per query, waits for the results instead of sleeping and
parses the page.

    python benchmarks/lens_engine.py                 # default: delay 0.5 s
    python benchmarks/lens_engine.py --delay 1.0 --queries 12

Reported: median latency at concurrency 1 (and minus the server delay), and
throughput (queries per second) at concurrency 1, 4 and 8, with ratios.
Targets: (baseline latency - delay) / (ours - delay) >= 5, throughput ratio at
concurrency 8 >= 10. Needs Chromium (see the engine's browser discovery) and the
real page in ../shared/fixtures/lens (falls back to a small synthetic page).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from PIL import Image
from playwright.async_api import Route, async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lens"))

from fake_lens import REAL_PAGE, FakeLens  # noqa: E402

from rir.engines.google_lens import GoogleLensEngine  # noqa: E402
from rir.engines.google_lens.browser import LAUNCH_ARGS, find_browser  # noqa: E402
from rir.images import QueryImage, aload_image  # noqa: E402

PROTOTYPE_SLEEP_S = 2.0
_OFFLINE = re.compile(r"^(?!https?://127\.0\.0\.1(:\d+)?/)[a-z]+://")


def query_jpeg() -> bytes:
    image = Image.new("RGB", (640, 480), (40, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def prototype_search(base_url: str, image_url: str, executable: str | None) -> bytes:
    """The prototype's query: fresh Playwright + browser, fixed sleep, full-page PNG."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable,
                                                   args=[*LAUNCH_ARGS, "--no-sandbox"])
        try:
            page = await browser.new_page()

            async def offline(route: Route) -> None:  # the benchmark never leaves 127.0.0.1
                await route.abort()

            await page.route(_OFFLINE, offline)
            await page.goto(f"{base_url}/uploadbyurl?url={quote(image_url, safe='')}",
                            timeout=60_000)
            await asyncio.sleep(PROTOTYPE_SLEEP_S)
            return await page.screenshot(full_page=True)
        finally:
            await browser.close()


async def timed(n: int, concurrency: int, run: Callable[[], Awaitable[object]]) -> tuple[
        list[float], float]:
    """Run ``n`` queries, at most ``concurrency`` at once: per-query seconds, wall time."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one() -> None:
        async with gate:
            started = time.perf_counter()
            await run()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return latencies, time.perf_counter() - started


async def main(args: argparse.Namespace) -> int:
    page = "real" if REAL_PAGE.is_file() else "few-cards"
    executable = find_browser()
    with FakeLens() as fake:
        base = fake.base_url(f"bench+delay={args.delay:g}+page={page}")
        image_url = fake.add_image("query.jpg", query_jpeg())
        query: QueryImage = await aload_image(image_url, allow_private_urls=True)
        rows: dict[str, dict[str, float]] = {"ours": {}, "baseline": {}}

        engine = GoogleLensEngine(base_url=base, max_concurrency=8, timeout_s=60)
        try:
            hits = len((await engine.asearch(query, k=100)).hits)  # warm the pool
            print(f"page: {page}, server delay {args.delay:g}s, ours finds {hits} hits",
                  flush=True)

            async def ours() -> object:
                return await engine.asearch(query, k=10)

            latencies, wall = await timed(args.queries, 1, ours)
            rows["ours"]["median"] = statistics.median(latencies)
            rows["ours"]["c1"] = args.queries / wall
            for concurrency in (4, 8):
                n = max(args.queries, 2 * concurrency)
                _, wall = await timed(n, concurrency, ours)
                rows["ours"][f"c{concurrency}"] = n / wall
                print(f"ours c={concurrency} done", flush=True)
        finally:
            await engine.aclose()

        async def baseline() -> object:
            return await prototype_search(base, image_url, executable)

        latencies, wall = await timed(args.baseline_queries, 1, baseline)
        rows["baseline"]["median"] = statistics.median(latencies)
        rows["baseline"]["c1"] = args.baseline_queries / wall
        for concurrency in (4, 8):
            _, wall = await timed(concurrency, concurrency, baseline)
            rows["baseline"][f"c{concurrency}"] = concurrency / wall
            print(f"baseline c={concurrency} done", flush=True)

    report(rows, args.delay)
    ours_net = rows["ours"]["median"] - args.delay
    base_net = rows["baseline"]["median"] - args.delay
    ok = base_net / ours_net >= 5 and rows["ours"]["c8"] / rows["baseline"]["c8"] >= 10
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


def report(rows: dict[str, dict[str, float]], delay: float) -> None:
    ours, base = rows["ours"], rows["baseline"]
    lines = [
        ("median latency, c=1 (s)", ours["median"], base["median"],
         base["median"] / ours["median"]),
        ("median latency - delay (s)", ours["median"] - delay, base["median"] - delay,
         (base["median"] - delay) / (ours["median"] - delay)),
    ]
    lines += [(f"throughput, c={c} (queries/s)", ours[f"c{c}"], base[f"c{c}"],
               ours[f"c{c}"] / base[f"c{c}"]) for c in (1, 4, 8)]
    print()
    print(f"| {'metric':<31} | {'ours (warm pool)':>16} | {'prototype':>10} | {'ratio':>6} |")
    print(f"|{'-' * 33}|{'-' * 18}:|{'-' * 11}:|{'-' * 7}:|")
    for name, mine, theirs, ratio in lines:
        print(f"| {name:<31} | {mine:>16.3f} | {theirs:>10.3f} | {ratio:>5.1f}x |")
    print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.5, help="server delay per results page")
    parser.add_argument("--queries", type=int, default=10, help="queries per run for ours")
    parser.add_argument("--baseline-queries", type=int, default=3,
                        help="sequential queries for the (slow) baseline")
    sys.exit(asyncio.run(main(parser.parse_args())))

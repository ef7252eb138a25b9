"""Benchmark: the google_lens engine (warm browser pool) against the prototype's way.

Both run in this process against the project's fake Lens server on
127.0.0.1 (in a process of its own, as a real server would be: it shares the
machine's two cores but not this interpreter's lock), which serves the real
saved 1.7 MB Lens results page after a fixed delay. The baseline does what
the original prototype did for every query: start Playwright, launch a new
Chromium, open the upload-by-URL page, sleep a fixed 2 s, take a full-page
screenshot, close everything. Ours reuses one browser,
opens a fresh context per query, waits for the results instead of sleeping and
parses the page: by default straight off the network, never rendering it
("ours"), and for comparison with ``render_results=True`` ("ours, rendered":
the page renders and its live DOM is read, as screenshot mode needs).

    python benchmarks/lens_engine.py                 # default: delay 0.5 s
    python benchmarks/lens_engine.py --delay 1.0 --queries 12

Reported: median latency at concurrency 1 (and minus the server delay),
throughput (queries per second) at concurrency 1, 4 and 8, and the machine's
busy CPU-seconds per query at concurrency 8 (all processes: browser, driver,
this one with the server; Linux only), with ratios against the baseline.
Targets: (baseline latency - delay) / (ours - delay) >= 5, throughput ratio at
concurrency 8 >= 10. Needs Chromium (see the engine's browser discovery) and the
real page in ../shared/fixtures/lens (falls back to a small synthetic page).

A second table covers a page whose cards arrive by script as it is scrolled (the
fake's ``scroll`` scenario: the Visual matches view, 12 of its 60 cards sent by the
server): hits returned for k=60, whether the result says it is complete, median
latency and CPU per query, sequentially. A network read alone would return the
12 the server sent; the adaptive read hands the page over to the renderer, which
scrolls for the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import quote

from PIL import Image
from playwright.async_api import Route, async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lens"))

from fake_lens import REAL_PAGE, FakeLens  # noqa: E402

from rir.engines.google_lens import GoogleLensEngine  # noqa: E402
from rir.engines.google_lens.browser import LAUNCH_ARGS, find_browser  # noqa: E402
from rir.inputs.images import QueryImage, aload_image  # noqa: E402

PROTOTYPE_SLEEP_S = 2.0
_OFFLINE = re.compile(r"^(?!https?://127\.0\.0\.1(:\d+)?/)[a-z]+://")


def _serve(conn: Connection, images: dict[str, bytes]) -> None:
    with FakeLens() as fake:
        for name, data in images.items():
            fake.add_image(name, data)
        conn.send(fake.port)
        conn.recv()  # until the benchmark is done


@contextmanager
def fake_lens_process(images: dict[str, bytes]) -> Iterator[str]:
    """The fake Lens serving in a child process; yields its root URL."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(theirs, images), daemon=True)
    process.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the fake Lens server did not start")
        yield f"http://127.0.0.1:{ours.recv()}"
    finally:
        ours.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()


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


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy so far (nan where /proc is missing)."""
    try:
        with open("/proc/stat") as handle:
            ticks = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


async def timed(n: int, concurrency: int, run: Callable[[], Awaitable[object]]) -> tuple[
        list[float], float, float]:
    """Run ``n`` queries, at most ``concurrency`` at once.

    Returns per-query seconds, wall time and busy CPU-seconds per query.
    """
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one() -> None:
        async with gate:
            started = time.perf_counter()
            await run()
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), busy_cpu_seconds()
    await asyncio.gather(*(one() for _ in range(n)))
    return latencies, time.perf_counter() - started, (busy_cpu_seconds() - cpu) / n


async def measure_engine(engine: GoogleLensEngine, query: QueryImage, n: int,
                         row: dict[str, float], label: str) -> None:
    async def ours() -> object:
        return await engine.asearch(query, k=10)

    latencies, wall, _ = await timed(n, 1, ours)
    row["median"] = statistics.median(latencies)
    row["c1"] = n / wall
    for concurrency in (4, 8):
        count = max(n, 4 * concurrency)  # long enough to measure a steady state
        _, wall, row[f"cpu{concurrency}"] = await timed(count, concurrency, ours)
        row[f"c{concurrency}"] = count / wall
        print(f"{label} c={concurrency} done", flush=True)


async def main(args: argparse.Namespace) -> int:
    page = "real" if REAL_PAGE.is_file() else "few-cards"
    executable = find_browser(headless=True)  # the browser ours launches, headless
    with fake_lens_process({"query.jpg": query_jpeg()}) as root:
        base = f"{root}/s/bench+delay={args.delay:g}+page={page}"
        image_url = f"{root}/img/query.jpg"
        query: QueryImage = await aload_image(image_url, allow_private_urls=True)
        rows: dict[str, dict[str, float]] = {"ours": {}, "rendered": {}, "baseline": {}}

        for label, render in (("ours", False), ("rendered", True)):
            engine = GoogleLensEngine(base_url=base, max_concurrency=8, timeout_s=60,
                                      render_results=render)
            try:
                result = await engine.asearch(query, k=10)  # warm the pool
                print(f"{label}: page {page}, server delay {args.delay:g}s, "
                      f"{len(result.hits)} hits read from the {result.metadata['read_from']}",
                      flush=True)
                await measure_engine(engine, query, args.queries, rows[label], label)
            finally:
                await engine.aclose()

        scroll_rows = {label: await measure_scroll_page(
                           f"{root}/s/scroll+delay={args.delay:g}", query, render,
                           args.scroll_queries)
                       for label, render in (("ours", False), ("rendered", True))}

        async def baseline() -> object:
            return await prototype_search(base, image_url, executable)

        latencies, wall, _ = await timed(args.baseline_queries, 1, baseline)
        rows["baseline"]["median"] = statistics.median(latencies)
        rows["baseline"]["c1"] = args.baseline_queries / wall
        for concurrency in (4, 8):
            _, wall, rows["baseline"][f"cpu{concurrency}"] = await timed(concurrency, concurrency,
                                                                         baseline)
            rows["baseline"][f"c{concurrency}"] = concurrency / wall
            print(f"baseline c={concurrency} done", flush=True)

    report(rows, args.delay)
    report_scroll(scroll_rows, args.scroll_queries)
    ours_net = rows["ours"]["median"] - args.delay
    base_net = rows["baseline"]["median"] - args.delay
    ok = base_net / ours_net >= 5 and rows["ours"]["c8"] / rows["baseline"]["c8"] >= 10
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


async def measure_scroll_page(base: str, query: QueryImage, render: bool,
                              n: int) -> dict[str, float]:
    """k=60 on the page whose cards arrive on scroll: hits, completeness, latency, CPU."""
    engine = GoogleLensEngine(base_url=base, max_concurrency=1, timeout_s=60,
                              render_results=render)
    try:
        results: list[object] = []

        async def one() -> object:
            result = await engine.asearch(query, k=60)
            results.append(result)
            return result

        await one()  # warm the pool
        latencies, _, cpu = await timed(n, 1, one)
    finally:
        await engine.aclose()
    last = results[-1]
    hits = [len(r.hits) for r in results]  # type: ignore[attr-defined]
    print(f"scroll page, rendered={render}: hits {hits}, card counts "
          f"{last.metadata['card_counts']}", flush=True)  # type: ignore[attr-defined]
    return {"hits": statistics.median(hits), "complete": float(all(
        r.metadata["complete"] for r in results)),  # type: ignore[attr-defined]
        "median": statistics.median(latencies), "cpu": cpu}


def report_scroll(rows: dict[str, dict[str, float]], n: int) -> None:
    ours, rendered = rows["ours"], rows["rendered"]
    print(f"Cards added by script on scroll (12 of 60 sent), k=60, {n} sequential queries:")
    print()
    print(f"| {'metric':<30} | {'ours':>7} | {'ours, rendered':>14} |")
    print(f"|{'-' * 32}|{'-' * 8}:|{'-' * 15}:|")
    print(f"| {'hits returned (median)':<30} | {ours['hits']:>7.0f} | {rendered['hits']:>14.0f} |")
    complete = {label: "yes" if row["complete"] == 1 else "no" for label, row in rows.items()}
    print(f"| {'every result complete':<30} | {complete['ours']:>7} "
          f"| {complete['rendered']:>14} |")
    print(f"| {'median latency (s)':<30} | {ours['median']:>7.3f} | {rendered['median']:>14.3f} |")
    print(f"| {'busy CPU-s per query, c=1':<30} | {ours['cpu']:>7.3f} | {rendered['cpu']:>14.3f} |")
    print()


def report(rows: dict[str, dict[str, float]], delay: float) -> None:
    """The table: each metric for ours, ours rendered and the baseline, with ratios.

    Ratios are "times better than the prototype": baseline / ours for seconds,
    ours / baseline for throughput.
    """
    ours, rendered, base = rows["ours"], rows["rendered"], rows["baseline"]
    lines: list[tuple[str, float, float, float, bool]] = [
        ("median latency, c=1 (s)", ours["median"], rendered["median"], base["median"], False),
        ("median latency - delay (s)", ours["median"] - delay, rendered["median"] - delay,
         base["median"] - delay, False),
        *((f"throughput, c={c} (queries/s)", ours[f"c{c}"], rendered[f"c{c}"], base[f"c{c}"],
           True) for c in (1, 4, 8)),
        ("busy CPU-s per query, c=8", ours["cpu8"], rendered["cpu8"], base["cpu8"], False),
    ]
    print()
    print(f"| {'metric':<30} | {'ours':>7} | {'ours, rendered':>14} | {'prototype':>9} "
          f"| {'ratio':>6} | {'ratio, rendered':>15} |")
    print(f"|{'-' * 32}|{'-' * 8}:|{'-' * 15}:|{'-' * 10}:|{'-' * 7}:|{'-' * 16}:|")
    for name, mine, mine_rendered, theirs, higher_is_better in lines:
        ratio, ratio_rendered = ((mine / theirs, mine_rendered / theirs) if higher_is_better
                                 else (theirs / mine, theirs / mine_rendered))
        print(f"| {name:<30} | {mine:>7.3f} | {mine_rendered:>14.3f} | {theirs:>9.3f} "
              f"| {ratio:>5.1f}x | {ratio_rendered:>14.1f}x |")
    print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.5, help="server delay per results page")
    parser.add_argument("--queries", type=int, default=10, help="queries per run for ours")
    parser.add_argument("--scroll-queries", type=int, default=4,
                        help="sequential queries per mode on the scroll page")
    parser.add_argument("--baseline-queries", type=int, default=3,
                        help="sequential queries for the (slow) baseline")
    sys.exit(asyncio.run(main(parser.parse_args())))

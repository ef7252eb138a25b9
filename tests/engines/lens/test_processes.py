"""The browser pool's lifecycle: crash recovery, no Chromium left behind, 200 queries."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from rir.engines.google_lens import GoogleLensEngine
from rir.engines.google_lens.browser import SCRATCH_PREFIX
from rir.errors import EngineBlockedError, EngineError, EngineTimeoutError
from tests.engines.lens.fake_lens import FakeLens
from tests.engines.lens.helpers import run
from tests.images import jpeg_bytes

psutil = pytest.importorskip("psutil")
pytestmark = pytest.mark.browser


def our_chromium() -> dict[int, float]:
    """Chromium processes this test process started: its descendants, plus helpers
    (the crash handler is re-parented to init) whose command line names our scratch dirs."""
    found: dict[int, float] = {}
    for process in psutil.Process().children(recursive=True):
        try:
            if "chrom" in process.name().lower():
                found[process.pid] = process.create_time()
        except psutil.NoSuchProcess:
            continue
    for process in psutil.process_iter(["cmdline", "create_time"]):
        if SCRATCH_PREFIX in " ".join(process.info["cmdline"] or []):
            found[process.pid] = process.info["create_time"]
    return found


def parse_helpers() -> list[int]:
    """The engine's page-parsing helper processes among our descendants."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "google_lens.parse_worker" in " ".join(process.cmdline()):
                found.append(process.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def alive(processes: dict[int, float]) -> list[int]:
    living = []
    for pid, created in processes.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                living.append(pid)
        except psutil.NoSuchProcess:
            continue
    return living


def gone_within(processes: dict[int, float], seconds: float) -> list[int]:
    """The processes still alive after up to ``seconds`` (polled with a deadline)."""
    deadline = time.monotonic() + seconds
    while (living := alive(processes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return living


@contextmanager
def sampling() -> Iterator[tuple[dict[int, float], list[int]]]:
    """Record every Chromium process seen (and the peak count) while the block runs."""
    seen: dict[int, float] = {}
    peaks: list[int] = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            current = our_chromium()
            seen.update(current)
            peaks[0] = max(peaks[0], len(current))
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen, peaks
    finally:
        stop.set()
        thread.join()
        seen.update(our_chromium())


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(call())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


async def _launches(engine: GoogleLensEngine) -> int:
    return engine.browser_launches


def _browser_main_pid() -> int:
    for process in psutil.Process().children(recursive=True):
        command = " ".join(process.cmdline())
        name = process.name().lower()
        # Not a helper: renderers etc. carry --type=, the crash handler is its own binary.
        if "chrom" in name and "--type=" not in command and "crashpad" not in name \
                and not command.startswith("/bin/sh"):  # a launcher script, not the browser
            return process.pid
    raise AssertionError("no browser process found")


def test_crash_mid_query_then_a_new_browser_then_nothing_left(
        browser_path: str | None, fake: FakeLens, scenario) -> None:
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=20)
    with sampling() as (seen, _):
        name = scenario("results+delay=3+tag=crash")
        thread, outcome = _in_thread(lambda: engine.search(jpeg_bytes()))
        deadline = time.monotonic() + 15
        while not [r for r in fake.requests_for(name) if r.path == "/search"]:
            assert time.monotonic() < deadline, "the query never reached the server"
            time.sleep(0.05)
        started = time.monotonic()
        os.kill(_browser_main_pid(), signal.SIGKILL)
        thread.join(timeout=20)
        assert len(outcome) == 1 and isinstance(outcome[0], EngineError)
        assert not isinstance(outcome[0], EngineTimeoutError)
        assert "crashed or was closed" in str(outcome[0])
        assert time.monotonic() - started < 5

        scenario("results")
        assert len(engine.search(jpeg_bytes()).hits) == 3  # a fresh browser took over
        assert run(_launches(engine)) == 2
        scenario("sorry")
        with pytest.raises(EngineBlockedError):  # an error path before closing
            engine.search(jpeg_bytes())
        engine.close()
    assert len(seen) >= 4  # two browsers with their helpers were really seen
    assert gone_within(seen, 5) == []


# The count. Each query costs a fresh browser context; with results read off
# the network and a headless shell, 200 take about 20 s on a 2-core machine.
QUERIES = 200


def test_many_queries_one_browser_nothing_left(browser_path: str | None, fake: FakeLens,
                                               scenario) -> None:
    scenario("results+tag=many")
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=60, max_concurrency=8)

    async def many() -> list[int]:
        results = await asyncio.gather(*(engine.asearch(jpeg_bytes(), k=3)
                                         for _ in range(QUERIES)))
        return [len(r.hits) for r in results]

    with sampling() as (seen, peaks):
        started = time.perf_counter()
        counts = run(many())
        elapsed = time.perf_counter() - started
        assert counts == [3] * QUERIES
        assert run(_launches(engine)) == 1
        # Contexts close in the background after their query: let them finish.
        deadline = time.monotonic() + 5
        while (left_running := len(our_chromium())) > 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        helpers = parse_helpers()
        engine.close()
    print(f"{QUERIES} queries in {elapsed:.1f}s, peak {peaks[0]} Chromium processes")
    # One browser: 8 service processes (browser, 2 crash handlers, 2 zygotes, network,
    # storage, GPU), renderers of at most 8 open or closing contexts (two each while a
    # page moves from about:blank to the site) and one spare context prepared ahead:
    # bounded, whatever the number of queries.
    assert peaks[0] <= 8 + 2 * 8 + 2
    assert left_running <= 10  # idle again: the service processes and one spare context
    assert len(seen) > QUERIES  # a renderer per query came and went
    assert gone_within(seen, 5) == []
    assert len(helpers) == 1  # one parse helper served every query ...
    assert parse_helpers() == []  # ... and left with the engine



_NEVER_CLOSED = """
import json, sys
import psutil
from PIL import Image
from rir.engines.google_lens import GoogleLensEngine
from rir.engines.google_lens.browser import SCRATCH_PREFIX
engine = GoogleLensEngine(base_url=sys.argv[1])  # never closed: interpreter exit must
assert len(engine.search(Image.new("RGB", (64, 48), (40, 90, 160)), k=3).hits) == 3
processes = []
for p in psutil.Process().children(recursive=True):
    try:
        processes.append([p.pid, p.create_time(), " ".join(p.cmdline())])
    except psutil.NoSuchProcess:  # a helper that exited meanwhile is not left behind
        continue
print(json.dumps({"scratch": SCRATCH_PREFIX, "processes": processes}))
"""


def test_sync_engine_never_closed_leaves_nothing_at_exit(browser_path: str | None,
                                                         fake: FakeLens, scenario) -> None:
    import json
    import subprocess
    import sys

    scenario("results")
    done = subprocess.run([sys.executable, "-c", _NEVER_CLOSED, fake.base_url()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    commands = " ".join(command for _, _, command in report["processes"])
    assert "parse_worker" in commands and "chrom" in commands  # both were really running
    started = {pid: created for pid, created, _ in report["processes"]}
    # Chromium's crash handler is re-parented to init: found by the child's scratch dir.
    started |= {p.pid: p.info["create_time"]
                for p in psutil.process_iter(["cmdline", "create_time"])
                if report["scratch"] in " ".join(p.info["cmdline"] or [])}
    assert gone_within(started, 5) == []

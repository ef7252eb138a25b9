"""Benchmark ``rir serve``: what the HTTP and MCP layers add to a search, and load behaviour.

Measures, in one run, on the demo index (local engine, no network):

* p50/p95 of one search (a disguised Grace Hopper portrait as a data: URI, k=5) called
  in-process (``ReverseImageSearch.asearch``, the baseline), over ``POST /v1/search``, and
  over MCP streamable HTTP (``tools/call reverse_image_search``) both as raw JSON-RPC posts
  (the server's cost) and through the official ``mcp`` client (which also validates the
  structured output against the tool's schema on the client side), and the overhead of each
  against the baseline (target: p50 overhead < 5 ms);
* 200 concurrent HTTP searches with the default queue: errors (target 0) and throughput;
* the same 200 against a server limited to 2 searches at once and 8 waiting: how many are
  answered 503 with Retry-After, and that all the others succeed.

The servers are real ``rir serve`` processes on 127.0.0.1 (a free port each).

    python benchmarks/serve.py [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from rir.demo import build_demo_index, demo_query
from rir.search import ReverseImageSearch

REPO = Path(__file__).resolve().parents[1]


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def rir_serve(index: Path, *extra: str):
    port = free_port()
    code = "import sys; from rir.cli import main; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RIR_API_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--index", str(index),
         "--no-cache", "--rate-limit", "0", *extra],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                up = httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:  # not listening yet
                up = False
            if up:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rir serve did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(20)


async def interleaved(calls: dict[str, object], n: int, warmup: int = 10
                      ) -> dict[str, list[float]]:
    """Time each path ``n`` times, taking turns: load from other processes on this machine
    then falls on every path alike instead of on whichever ran during a busy spell."""
    for call in calls.values():
        for _ in range(warmup):
            await call()  # type: ignore[operator]
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            start = time.perf_counter()
            await call()  # type: ignore[operator]
            times[name].append(time.perf_counter() - start)
    return times


async def measure(index: Path, url: str, uri: str, n: int) -> dict[str, list[float]]:
    async with ReverseImageSearch("local", path=str(index), cache=False,
                                  allow_local_files=False) as searcher, \
            httpx.AsyncClient(base_url=url, timeout=60) as client, \
            httpx.AsyncClient(timeout=60) as http, \
            streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()

        async def in_process() -> None:
            result = await searcher.asearch(uri, k=5)
            assert result.hits, "the baseline found nothing"

        async def over_http() -> None:
            response = await client.post("/v1/search", json={"data_uri": uri, "k": 5})
            assert response.status_code == 200 and response.json()["hits"], response.text

        rpc = await _raw_mcp_session(client)

        async def over_mcp_raw() -> None:
            response = await client.post("/mcp", headers=rpc, json={
                "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "reverse_image_search",
                           "arguments": {"image": uri, "max_results": 5}}})
            assert response.status_code == 200 and '"isError":false' in response.text

        async def over_mcp() -> None:
            result = await session.call_tool("reverse_image_search",
                                             {"image": uri, "max_results": 5})
            assert not result.isError and result.structuredContent["hits"], result

        return await interleaved({"base": in_process, "http": over_http, "mcp_raw": over_mcp_raw,
                                  "mcp": over_mcp}, n)


async def _raw_mcp_session(client: httpx.AsyncClient) -> dict[str, str]:
    """Open an MCP session by hand: the headers for JSON-RPC posts without the SDK client
    (whose output-schema validation runs on the client, not in the server)."""
    headers = {"Accept": "application/json, text/event-stream"}
    opened = await client.post("/mcp", headers=headers, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "0"}}})
    headers = {**headers, "mcp-session-id": opened.headers["mcp-session-id"],
               "mcp-protocol-version": "2025-06-18"}
    await client.post("/mcp", headers=headers,
                      json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    return headers


async def burst(url: str, uri: str, count: int) -> tuple[Counter, list[str], float]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        start = time.perf_counter()
        responses = await asyncio.gather(
            *(client.post("/v1/search", json={"data_uri": uri, "k": 5}) for _ in range(count)),
            return_exceptions=True)
        elapsed = time.perf_counter() - start
    statuses = Counter(r.status_code if isinstance(r, httpx.Response) else type(r).__name__
                       for r in responses)
    retry_after = sorted({r.headers["retry-after"] for r in responses
                          if isinstance(r, httpx.Response) and r.status_code == 503})
    return statuses, retry_after, elapsed


def line(name: str, times: list[float], base: list[float] | None = None) -> str:
    text = f"{name:<22} p50 {p(times, 50):7.2f} ms   p95 {p(times, 95):7.2f} ms"
    if base is not None:
        over50 = p(times, 50) - p(base, 50)
        text += (f"   overhead p50 {over50:+6.2f} ms  p95 {p(times, 95) - p(base, 95):+6.2f} ms"
                 f"   ratio {statistics.median(times) / statistics.median(base):.2f}x")
    return text


async def run(n: int, concurrent: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "demo.rir"
        build_demo_index(index).close()
        uri = demo_query("Grace Hopper")[0].as_data_uri()
        print(f"query: {len(uri):,}-character data URI; {n} sequential calls per path, "
              "taking turns (after 10 warm-up calls each)\n")
        with rir_serve(index) as url:
            times = await measure(index, url, uri, n)
            print(line("in-process (baseline)", times["base"]))
            print(line("HTTP POST /v1/search", times["http"], times["base"]))
            print(line("MCP JSON-RPC (raw)", times["mcp_raw"], times["base"]))
            print(line("MCP via mcp client", times["mcp"], times["base"]))
            statuses, _, elapsed = await burst(url, uri, concurrent)
            errors = concurrent - statuses.get(200, 0)
            print(f"\n{concurrent} concurrent searches, default limits (8 at once, 256 "
                  f"waiting): {dict(statuses)}, {errors} errors, {elapsed:.2f} s "
                  f"({concurrent / elapsed:.0f} searches/s)")
        with rir_serve(index, "--concurrency", "2", "--max-queue", "8") as url:
            statuses, retry_after, elapsed = await burst(url, uri, concurrent)
            print(f"{concurrent} concurrent searches, 2 at once and 8 waiting: "
                  f"{dict(statuses)} in {elapsed:.2f} s; 503s carried Retry-After "
                  f"{', '.join(retry_after) or '-'} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="sequential calls per path")
    parser.add_argument("--concurrent", type=int, default=200, help="requests in the burst")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrent))


if __name__ == "__main__":
    main()

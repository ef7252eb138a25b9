"""rir._runtime: sync twins work everywhere, per-loop resources stay per loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rir._runtime import LoopLocal, in_thread, run_inline, run_sync


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


def test_run_sync_from_plain_code_and_threads() -> None:
    assert run_sync(_answer()) == 42
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(run_sync(_answer())))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8


async def test_run_sync_inside_a_running_loop() -> None:
    assert run_sync(_answer()) == 42  # as in a Jupyter cell


def test_run_sync_refuses_to_deadlock_its_own_loop() -> None:
    async def nested() -> int:
        return run_sync(_answer())

    with pytest.raises(RuntimeError, match="await the async twin"):
        run_sync(nested())


def test_exceptions_propagate() -> None:
    async def boom() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        run_sync(boom())


def test_loop_local_gives_one_resource_per_loop() -> None:
    created: list[object] = []

    async def factory() -> object:
        item = object()
        created.append(item)
        return item

    holder: LoopLocal[object] = LoopLocal(factory)

    async def twice() -> tuple[object, object]:
        return await holder.get(), await holder.get()

    a, b = asyncio.run(twice())
    c = run_sync(holder.get())
    assert a is b and c is not a and len(created) == 2


def test_a_sync_search_leaves_no_unclosed_loop_warning_at_exit() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = ("from rir.engines.local import LocalIndex; from rir.search import "
            "ReverseImageSearch; from tests.images import noisy_jpeg; image = noisy_jpeg(96, 72);"
            " index = LocalIndex(':memory:'); index.add(image, title='one'); "
            "print(ReverseImageSearch(index, cache=False).search(image, k=1).hits[0].title)")
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-X", "dev", "-W", "always::ResourceWarning", "-c",
                           code], capture_output=True, text=True, timeout=120, cwd=repo)
    assert done.returncode == 0 and done.stdout.strip() == "one", done.stderr
    assert "unclosed event loop" not in done.stderr and "ResourceWarning" not in done.stderr


def test_run_inline_runs_thread_steps_here_without_a_loop() -> None:
    async def steps() -> list[str]:
        first = await in_thread(lambda: threading.current_thread().name)
        second = await in_thread(str.upper, "done")
        return [first, second]

    assert run_inline(steps()) == [threading.current_thread().name, "DONE"]


async def test_in_thread_leaves_the_loop_free_outside_run_inline() -> None:
    loop_thread = threading.current_thread().name
    assert await in_thread(lambda: threading.current_thread().name) != loop_thread


def test_run_inline_refuses_code_that_waits_on_the_loop() -> None:
    with pytest.raises(RuntimeError, match="use run_sync"):
        run_inline(_answer())


def test_run_inline_passes_errors_through() -> None:
    async def failing() -> None:
        await in_thread(int, "not a number")

    with pytest.raises(ValueError, match="not a number"):
        run_inline(failing())

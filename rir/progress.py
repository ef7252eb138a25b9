"""A progress bar on stderr (count, rate, time left), or nothing: one for every long loop.

``ReverseImageSearch.search_many`` and ``rir index add`` use it; it is shown only
when asked for (callers pass ``enabled=sys.stderr.isatty()`` by default, so piped
output and logs never get bar redraws).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Task
    from rich.text import Text

__all__ = ["ProgressBar"]


class ProgressBar:
    """``label``, a bar, done/total, items per second, elapsed and time left.

    ``count_failures=True`` adds "N failed" (fed by ``advance(ok=False)``).
    ``unit`` names the items in the rate ("12.3 images/s").
    """

    def __init__(self, total: int, *, label: str, enabled: bool, unit: str = "items",
                 count_failures: bool = False) -> None:
        self._progress: Any = None
        self._failed = 0
        if not (enabled and total):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
                return Text("" if speed is None else f"{speed:.1f} {unit}/s")

        columns: list[Any] = [TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                              RateColumn()]
        if count_failures:
            columns.append(TextColumn("{task.fields[failed]} failed"))
        columns += [TimeElapsedColumn(), TextColumn("elapsed,"), TimeRemainingColumn(),
                    TextColumn("left")]
        self._progress = Progress(*columns, console=Console(stderr=True), transient=False)
        self._task = self._progress.add_task(label, total=total, failed=0)

    def advance(self, *, ok: bool = True) -> None:
        """One more item done (``ok=False``: it failed)."""
        if self._progress is not None:
            self._failed += 0 if ok else 1
            self._progress.update(self._task, advance=1, failed=self._failed)

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` items finished (the ``progress(done, total)`` callback shape)."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done,
                                  **({} if total is None else {"total": total}))

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

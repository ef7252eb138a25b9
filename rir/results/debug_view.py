"""Debug view of a search: the query image beside a grid of the top hits.

The prototype's debug mode, done right: each hit's thumbnail (``data:`` URIs
decoded locally, http(s) thumbnails fetched through the SSRF guard; failures
are drawn as empty tiles), its title and site. It opens a window when there
is a display, shows inline in Jupyter, and otherwise writes a PNG and returns
its path.

Region searches are drawn on the query: each searched region as a numbered box
(a :class:`~rir.results.region_parts.RegionsResult`'s parts, or the one region of
``search(region=...)``), every hit's caption starting with the regions that found it
(``R2``), and, for local hits that say where they matched (``metadata["query_box"]``),
that box dashed, marked with the hit's number.

    >>> from rir.results.debug_view import show_result
    >>> show_result(query_image, result)            # doctest: +SKIP
    PosixPath('rir-show-3f5a9c0b1d2e.png')
"""

from __future__ import annotations

import io
import logging
import math
import os
import sys
import textwrap
import threading
import webbrowser
from pathlib import Path

from PIL import Image

from rir._runtime import missing_extra, run_sync

try:
    import matplotlib
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
except ImportError:  # an optional extra: say which, in one line
    raise missing_extra("matplotlib", extra="viz",
                        feature="Drawing results (show_result=True, rir search --show)") from None
from rir.inputs.images import QueryImage
from rir.prompting.thumbnail_fetch import afetch_thumbnails
from rir.results.models import SearchHit, SearchResult
from rir.results.region_parts import RegionsResult

__all__ = ["render_result", "show_result"]

logger = logging.getLogger(__name__)

_COLUMNS = 4
_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}
_TITLE_WIDTH = 30
_REGION_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4",
                   "#f032e6", "#9a6324")


def _thumbnails(hits: list[SearchHit], allow_private_urls: bool) -> dict[int, Image.Image]:
    fetched = run_sync(afetch_thumbnails(hits, max_n=len(hits), max_side=320,
                                         allow_private_urls=allow_private_urls))
    images: dict[int, Image.Image] = {}
    for thumbnail in fetched:
        try:
            images[id(thumbnail.hit)] = Image.open(io.BytesIO(thumbnail.data)).convert("RGB")
        except OSError as exc:  # validated on fetch; a decoder hiccup only loses this tile
            logger.info("cannot draw the thumbnail of hit %d: %s", thumbnail.hit.position, exc)
    return images


def _drawable(text: str) -> str:
    # Emoji and other astral characters are missing from matplotlib's default font.
    return "".join(c for c in text if ord(c) < 0x10000)


def _region_tag(hit: SearchHit) -> str:
    numbers = hit.metadata.get("regions")
    if not isinstance(numbers, list) or not numbers:
        return ""
    return ",".join(f"R{n + 1}" for n in numbers) + " "


def _caption(hit: SearchHit) -> str:
    title = textwrap.shorten(_drawable(hit.title) or "(untitled)", width=_TITLE_WIDTH * 2,
                             placeholder="…")
    lines = textwrap.wrap(_region_tag(hit) + title, width=_TITLE_WIDTH)[:2]
    if hit.source:
        lines.append(textwrap.shorten(_drawable(hit.source), width=_TITLE_WIDTH, placeholder="…"))
    return "\n".join(lines)


def _layout(count: int) -> tuple[int, int, tuple[float, float]]:
    columns = max(1, min(_COLUMNS, count))
    rows = max(1, math.ceil(count / columns))
    return columns, rows, (3.2 * (columns + 2), 3.0 * rows + 0.8)


def _searched_boxes(result: SearchResult | RegionsResult) -> list[tuple[str, list[int]]]:
    """(label, box) of each region searched: a region search's parts, or the one region."""
    if isinstance(result, RegionsResult):
        return [(str(n), p.region.as_list()) for n, p in enumerate(result.parts, 1)]
    region = result.metadata.get("region")
    return [("1", list(region))] if isinstance(region, list) and len(region) == 4 else []


def _draw_boxes(axes: Axes, result: SearchResult | RegionsResult,
                hits: list[SearchHit]) -> None:
    for number, (label, (x1, y1, x2, y2)) in enumerate(_searched_boxes(result)):
        colour = _REGION_COLOURS[number % len(_REGION_COLOURS)]
        axes.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                 edgecolor=colour, linewidth=2.5))
        whole = (x1, y1) == (0, 0) and number == 0  # the whole image: label its lower corner
        axes.text(x1 + 4, y2 - 4 if whole else y1 + 4, label, color="white", fontsize=10,
                  va="bottom" if whole else "top", fontweight="bold",
                  bbox={"facecolor": colour, "pad": 2, "linewidth": 0})
    for hit in hits:
        box = hit.metadata.get("query_box")
        if isinstance(box, list) and len(box) == 4:
            x1, y1, x2, y2 = box
            axes.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                     edgecolor="yellow", linewidth=1.5, linestyle="--"))
            axes.text(x2 - 4, y2 - 4, f"#{hit.position}", color="black", fontsize=8,
                      ha="right", va="bottom", bbox={"facecolor": "yellow", "pad": 1,
                                                     "linewidth": 0})


def render_result(query: QueryImage, result: SearchResult | RegionsResult, *, k: int = 8,
                  allow_private_urls: bool = False, figure: Figure | None = None) -> Figure:
    """Draw query and top ``k`` hits into ``figure`` (a new one by default) and return it.

    ``result`` may be a region search's :class:`~rir.results.region_parts.RegionsResult`:
    its regions are drawn on the query and its merged hits beside it.
    """
    hits = result.hits[:k]
    pictures = _thumbnails(hits, allow_private_urls) if hits else {}
    columns, rows, size = _layout(len(hits))
    if figure is None:
        figure = Figure(figsize=size, dpi=100)
    grid = figure.add_gridspec(rows, columns + 2, wspace=0.25, hspace=0.55)

    query_axes = figure.add_subplot(grid[:, :2])
    query_axes.imshow(query.to_pil().convert("RGB"))
    query_axes.set_title(f"query ({query.width}×{query.height})", fontsize=11)
    _draw_boxes(query_axes, result, hits)
    query_axes.axis("off")

    for index, hit in enumerate(hits):
        axes = figure.add_subplot(grid[index // columns, 2 + index % columns])
        picture = pictures.get(id(hit))
        if picture is not None:
            axes.imshow(picture)
        else:
            axes.set_facecolor("#e6e6e6")
            axes.text(0.5, 0.5, "no thumbnail", ha="center", va="center", fontsize=8,
                      color="#777777", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(f"{hit.position}. {_caption(hit)}", fontsize=8, loc="left")

    heading = f"{result.engine or 'search'}: {len(result.hits)} hits"
    if isinstance(result, RegionsResult):
        heading += f" from {len(result.parts)} regions"
    if result.best_guess:
        heading += f" — best guess: {result.best_guess}"
    if not hits:
        heading += " (nothing found)"
    figure.suptitle(heading, fontsize=12)
    return figure


def _display_mode() -> str | None:
    """How to show a figure here: "jupyter", "window", "viewer" or None (save only)."""
    backend = matplotlib.get_backend().lower()
    if "inline" in backend or "ipympl" in backend or "widget" in backend:
        return "jupyter"
    has_display = not sys.platform.startswith("linux") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not has_display:
        return None
    # GUI toolkits only run on the main thread (ReverseImageSearch draws from a worker
    # thread): elsewhere the saved PNG is handed to the system's image viewer.
    if backend not in _NON_INTERACTIVE and threading.current_thread() is threading.main_thread():
        return "window"
    return "viewer"


def show_result(query: QueryImage, result: SearchResult | RegionsResult, *, k: int = 8,
                save_to: str | os.PathLike[str] | None = None,
                allow_private_urls: bool = False) -> Path | None:
    """Draw ``query`` beside the top ``k`` hits of ``result`` (a search, or a region search
    with its regions drawn on the query).

    With ``save_to`` the picture is written there. Otherwise it is shown (a window,
    or inline in Jupyter) when a display is available and None is returned; without
    a display it is saved as ``rir-show-<sha12>.png`` in the current directory.
    Returns the PNG's path when one was written.
    """
    mode = None if save_to is not None else _display_mode()
    if mode == "window":
        import matplotlib.pyplot as plt

        window = plt.figure(figsize=_layout(len(result.hits[:k]))[2])
        render_result(query, result, k=k, allow_private_urls=allow_private_urls, figure=window)
        plt.show()
        return None
    figure = render_result(query, result, k=k, allow_private_urls=allow_private_urls)
    if mode == "jupyter":
        from IPython.display import Image as IPythonImage
        from IPython.display import display

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        display(IPythonImage(data=buffer.getvalue()))
        return None
    default = Path.cwd() / f"rir-show-{query.sha256[:12]}.png"
    path = Path(save_to) if save_to is not None else default
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", bbox_inches="tight")
    logger.info("Saved the result view to %s", path)
    if mode == "viewer":
        webbrowser.open(path.resolve().as_uri())
    return path

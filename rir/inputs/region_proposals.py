"""Automatic regions: the parts of a picture worth searching on their own, from pixels alone.

A photo inside a larger picture (a screenshot, a web page, a collage, a print pinned on
a wall, a photo pasted into another) is a rectangle whose sides are *straight
discontinuities*: along each side, what lies on one side has nothing to do with what
lies on the other. Texture inside a photo makes edges too, but at scattered places:
few of them line up over a long straight run. No model weights are involved; on a copy
about :data:`WORK_SIDE` pixels a side:

1. **Edges.** Between two columns (rows), colours averaged along the boundary over a few
   pixels jump; an edge is a local maximum of that jump that stands out from the
   texture on at least one side of it (between two pictures, one side is plainer).
2. **Support.** The share of a straight segment lying on edges (running sums along
   every column and row answer it for any segment at once).
3. **Layout cells.** Lines running right across the picture (a collage's seams and
   gutters, a page's panels) cut it into cells, recursively.
4. **Framed rectangles.** Every rectangle formed by the supported lines (and the points
   where they end) is scored by the support of its sides; one that a line runs right
   across is two parts, each a candidate of its own.
5. **Things on a plain ground.** A flood from the border through gradually changing
   pixels is the ground (a page, a wall, a gutter); each solid patch it does not reach
   is a thing on it, a photo turned a few degrees included.

Regions need content of their own (a flat panel is not searched), near-identical boxes
count once, the whole picture is never proposed, and the best supported come first.
When nothing rectangular is found, a bounded fallback proposes the four overlapping
quarters, two thirds of each side, then the centre, those with content (none on a blank
picture): any part up to a ninth of the picture lies whole inside one quarter. Which
boxes are kept: :mod:`.region_choice`.
"""

from __future__ import annotations

import io
import itertools

import cv2
import numpy as np
from PIL import Image, ImageOps

from rir._runtime import beside
from rir.errors import InvalidImageError, check_number
from rir.inputs.images import QueryImage
from rir.inputs.region_choice import DUPLICATE_IOU, Box, choose, fallback, iou

__all__ = ["DEFAULT_MAX_AUTO_REGIONS", "MIN_SPLIT_SIDE", "WORK_SIDE", "propose_regions"]


#: At most this many automatic regions by default (besides the whole image): a 2x2
#: collage's four photos, and few enough that a web engine's paid calls stay bounded.
DEFAULT_MAX_AUTO_REGIONS = 4
#: An image must be at least this many pixels on each side to be split into regions.
MIN_SPLIT_SIDE = 64
#: Proposals are computed on a copy at most this many pixels a side (bounded time).
WORK_SIDE = 512

# Edges
_ALONG = 9  # pixels averaged along a boundary before measuring the jump across it
_EDGE_FLOOR = 10.0  # colour jump (0-255, largest channel) an edge must exceed...
_FLANK = 4  # ...and texture is looked for this many pixels either side of it...
_SALIENCE = 1.5  # ...where the jump must stand out this much from the plainer side
# Lines: runs of edges
_RUN = 0.1  # at least this share of the picture's extent...
_MIN_RUN_PIXELS = 12
_GAP = 0.02  # ...with gaps no longer than this share...
_RUN_SUPPORT = 0.7  # ...and at least this share of it on edges
_MAX_LINES = 80  # lines kept per direction, most supported first
_MAX_POSITIONS = 28  # candidate sides per direction
# Regions
_CUT_SUPPORT = 0.8  # a line running right across a part this well splits it in two
_CUT_DEPTH = 3
_ALIGNED_SUPPORT = 0.5  # a line lined up with a layout cut elsewhere cuts at this support
_CUT_MARGIN = 0.1  # ...and at most this much less than the best line across it
_CROSSING = 0.8  # a line this well supported right across a framed rectangle splits it
_LAYOUT_FIRST = 10.0  # added to a layout cell's evidence: cells rank first...
_FLAT = 0.85  # ...unless this share of it is one flat colour (text on a page, a toolbar):
_FLAT_WEIGHT = 0.25  # those rank after photos (their evidence times this)
_HOLDER_FLAT = 0.4  # a box this much one flat colour is a page or a panel: it may hold photos
_SIDE_SUPPORT = 0.65  # mean support of a framed rectangle's inner sides...
_WEAK_SIDE = 0.3  # ...none of them below this (dark on dark, a side can be faint)
_MAX_FRAMED = 60  # best framed rectangles checked further
_GROUND_STEP = 3  # colour change (0-255) between neighbours still within the ground
_MIN_GROUND = 0.1  # share of the picture a plain ground must cover
_OPENING = 0.018  # of the longer side: thinner strokes on the ground (text, rules, the
# gap between a photo and its caption) are not things on it
_RECTANGULAR = 0.85  # share of its minimum-area rectangle a thing on the ground fills
_SOLID = 0.5  # share of its box a thing of another shape fills (not a ring of strokes)
_CHANCE = 0.2  # share of a line that texture puts on edges by chance
_MIN_EVIDENCE = 0.5  # a region says at least this much (see _evidence) to be proposed
_MAX_ASPECT = 4.0
_MIN_SIDE = 0.08  # of the picture's width (height)
_MIN_AREA = 0.02  # of the picture's area
_MIN_CONTENT_STD = 6.0  # grey-level spread (0-255) inside a region with content of its own


def propose_regions(image: QueryImage, *, max_regions: int = DEFAULT_MAX_AUTO_REGIONS
                    ) -> list[Box]:
    """Parts worth searching besides the whole image, from the pixels alone (OpenCV).

    Photos inside a larger frame (screenshot, web page, printed photo on a wall, collage
    cells) come back as rectangular regions ``(x1, y1, x2, y2)`` in pixels of ``image`` as
    loaded (x2/y2 exclusive), largest first, never the whole image, never two
    near-identical boxes, at most ``max_regions``; when nothing rectangular is found, the
    four overlapping quarters and the centre (bounded by ``max_regions`` too), those of
    them that are not one flat colour: none for a blank picture.
    Deterministic. Raises :class:`~rir.errors.InvalidImageError` for an image smaller
    than :data:`MIN_SPLIT_SIDE` pixels on a side.
    """
    check_number("max_regions", max_regions, integer=True, minimum=1)
    if min(image.width, image.height) < MIN_SPLIT_SIDE:
        raise InvalidImageError(
            f"The image is {image.width}x{image.height} pixels, too small to split into "
            f"regions (at least {MIN_SPLIT_SIDE} pixels a side); search it whole.")
    picture = _Picture(_work_copy(image))
    boxes = choose(_candidates(picture), picture.width, picture.height, max_regions)
    if not boxes:  # the quarters that show something (a blank picture has no parts)
        boxes = [box for box in fallback(picture.width, picture.height)
                 if picture.has_content(box)][:max_regions]
    scale_x, scale_y = image.width / picture.width, image.height / picture.height
    return [_to_image(box, scale_x, scale_y, image.width, image.height) for box in boxes]


# -- the working copy ---------------------------------------------------------------------------


def _work_copy(image: QueryImage) -> np.ndarray:
    """RGB float32, at most WORK_SIDE a side, EXIF orientation applied (a large JPEG is
    decoded at 1/2, 1/4 or 1/8 scale directly: draft mode)."""
    pil = Image.open(io.BytesIO(image.data))
    scale = _work_scale(*pil.size)
    if scale < 1 and pil.format == "JPEG":
        pil.draft("RGB", (max(1, round(pil.width * scale)), max(1, round(pil.height * scale))))
    pil = ImageOps.exif_transpose(pil)
    if pil.mode in ("RGBA", "LA", "PA") or (pil.mode == "P" and "transparency" in pil.info):
        rgba = pil.convert("RGBA")
        pil = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    rgb = np.asarray(pil.convert("RGB"), dtype=np.float32)
    scale = _work_scale(rgb.shape[1], rgb.shape[0])
    if scale < 1:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(rgb, (0, 0), 0.7)


def _work_scale(width: int, height: int) -> float:
    return WORK_SIDE / max(width, height)


def _to_image(box: Box, sx: float, sy: float, width: int, height: int) -> Box:
    x1, y1, x2, y2 = box
    left, top = min(width - 1, max(0, round(x1 * sx))), min(height - 1, max(0, round(y1 * sy)))
    return (left, top, max(left + 1, min(width, round(x2 * sx))),
            max(top + 1, min(height, round(y2 * sy))))


def _largest_channel(values: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(values[..., 0], values[..., 1]), values[..., 2])


# -- edges and lines ----------------------------------------------------------------------------


def _edges(rgb: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """Boundaries between columns ``x-1`` and ``x`` (index ``x``) where a straight vertical
    line may run, as a boolean map ``[h, w+1]`` (columns 0 and w, the border, are False).

    The colour jump across each boundary is measured on colours averaged along the
    columns over a few pixels: texture evens out, while two different pictures meeting
    at a straight boundary stay apart. An edge is a local maximum of the jump above a
    small floor that stands out from the texture on at least one side: between two
    pictures, at any one place, one side is the plainer. One pixel of slack either way:
    a boundary between two pixels of the working copy shows on one or the other.
    ``texture``: the mean jump between neighbouring pixels around each pixel.
    """
    smooth = cv2.blur(rgb, (1, _ALONG), borderType=cv2.BORDER_REPLICATE)
    jumps = _largest_channel(cv2.absdiff(smooth[:, 1:], smooth[:, :-1]))  # [h, w-1]
    padded = np.pad(jumps, ((0, 0), (1, 1)))
    centre = padded[:, 1:-1]
    peak = (centre >= padded[:, :-2]) & (centre > padded[:, 2:]) & (centre > _EDGE_FLOOR)
    flank = np.pad(texture[:, :-1], ((0, 0), (_FLANK, _FLANK)), mode="edge")
    peak &= jumps > _SALIENCE * np.minimum(flank[:, :-2 * _FLANK], flank[:, 2 * _FLANK:])
    out = np.zeros((rgb.shape[0], rgb.shape[1] + 1), bool)
    out[:, 1:-1] = peak
    out[:, 2:-1] |= peak[:, :-1]
    out[:, 1:-2] |= peak[:, 1:]
    return out


class _Sides:
    """The straight vertical boundaries of a picture (its rows: build it on the transpose).

    :meth:`support` is the share of a vertical segment lying on edges (columns 0 and
    ``width`` are the picture's border: fully supported); :attr:`lines` are the long,
    well supported runs ``(x, y1, y2)``, most supported first.
    """

    def __init__(self, rgb: np.ndarray, texture: np.ndarray) -> None:
        edges = _edges(rgb, texture)
        self.height, self.width = rgb.shape[0], rgb.shape[1]
        self._cumulative = np.zeros((self.height + 1, self.width + 1), np.int32)
        self._cumulative[1:] = np.cumsum(edges, axis=0)
        self.lines = self._runs(edges)

    def support(self, x: np.ndarray, y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
        on = self._cumulative[y2, x] - self._cumulative[y1, x]
        return np.where((x == 0) | (x == self.width), 1.0, on / np.maximum(y2 - y1, 1))

    def _runs(self, edges: np.ndarray) -> list[tuple[int, int, int]]:
        gap = max(3, round(_GAP * self.height))
        closed = cv2.morphologyEx(edges.astype(np.uint8), cv2.MORPH_CLOSE,
                                  np.ones((gap, 1), np.uint8), borderType=cv2.BORDER_CONSTANT,
                                  borderValue=0)
        steps = np.diff(np.pad(closed, ((1, 1), (0, 0))).astype(np.int8), axis=0).T
        start_x, start_y = np.nonzero(steps == 1)
        _, end_y = np.nonzero(steps == -1)  # same order: runs alternate start, end
        length = end_y - start_y
        on = self._cumulative[end_y, start_x] - self._cumulative[start_y, start_x]
        keep = np.flatnonzero((length >= max(_MIN_RUN_PIXELS, _RUN * self.height))
                              & (on >= _RUN_SUPPORT * length))
        keep = keep[np.argsort(-on[keep], kind="stable")]
        kept: list[tuple[int, int, int]] = []
        for x, y1, y2 in zip(start_x[keep].tolist(), start_y[keep].tolist(),
                             end_y[keep].tolist(), strict=True):
            # the same line, seen in the neighbouring columns (the edges' slack): once
            if not any(abs(x - kx) <= 2 and min(y2, ky2) - max(y1, ky1) > 0.5 * (y2 - y1)
                       for kx, ky1, ky2 in kept):
                kept.append((x, y1, y2))
                if len(kept) == _MAX_LINES:
                    break
        return kept

    def across(self, low: int, high: int, start: int, end: int, *,
               at: np.ndarray | None = None, support: float = 0.0) -> list[int]:
        """Positions strictly inside ``low..high`` (away from its ends) where a supported
        line runs right across ``start..end``: one per line, at least 3 pixels apart.
        ``at``: look only there (else at every position)."""
        margin = max(2, round(_MIN_SIDE * (high - low)))
        positions = np.arange(low + margin, high - margin + 1) if at is None else \
            at[(at >= low + margin) & (at <= high - margin)]
        if len(positions) == 0 or end - start < _MIN_RUN_PIXELS:
            return []
        found = self.support(positions, np.full_like(positions, start),
                             np.full_like(positions, end))
        # Several lines across: a collage's seams are the cleanest (the edge of a
        # photo's own content, a pole or a horizon, is rarely as straight and whole).
        floor = max(support or _CUT_SUPPORT, float(found.max()) - _CUT_MARGIN)
        chosen: list[int] = []
        for n in np.argsort(-found, kind="stable").tolist():
            if found[n] < floor:
                break
            if all(abs(int(positions[n]) - c) > 3 for c in chosen):
                chosen.append(int(positions[n]))
        return sorted(chosen)


class _Picture:
    """The working copy, its lines in both directions and what regions of it hold."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self.height, self.width = rgb.shape[:2]
        detail = np.zeros(rgb.shape[:2], np.float32)  # the jump to the next pixel, any way
        detail[:, :-1] = _largest_channel(cv2.absdiff(rgb[:, 1:], rgb[:, :-1]))
        detail[:-1] = np.maximum(detail[:-1], _largest_channel(cv2.absdiff(rgb[1:], rgb[:-1])))
        # the two directions side by side (OpenCV and numpy release the GIL)
        rows = beside(_Sides, np.ascontiguousarray(rgb.transpose(1, 0, 2)), cv2.blur(
            np.ascontiguousarray(detail.T), (3, _ALONG), borderType=cv2.BORDER_REPLICATE))
        self.columns = _Sides(rgb, cv2.blur(detail, (3, _ALONG), borderType=cv2.BORDER_REPLICATE))
        self.rows = rows.result()
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        self._sums = cv2.integral2(grey, sdepth=cv2.CV_64F)  # grey spread of any box at once
        self.levels = np.minimum(grey / 4, 63).astype(np.uint8)  # 64 grey levels

    def big_enough(self, box: Box) -> bool:
        w, h = box[2] - box[0], box[3] - box[1]
        return w >= _MIN_SIDE * self.width and h >= _MIN_SIDE * self.height and \
            w * h >= _MIN_AREA * self.width * self.height

    def has_content(self, box: Box) -> bool:
        """Whether the grey levels inside ``box`` spread (not a flat panel or gutter)."""
        x1, y1, x2, y2 = box
        total, squares = (float(s[y2, x2] - s[y1, x2] - s[y2, x1] + s[y1, x1])
                          for s in self._sums)
        n = max(1, (x2 - x1) * (y2 - y1))
        return (squares / n - (total / n) ** 2) >= _MIN_CONTENT_STD ** 2

    def flat_share(self, box: Box) -> float:
        """The share of ``box`` in its commonest grey level (within a few levels): high
        for text on a page or a toolbar, low for a photograph's continuous tones."""
        x1, y1, x2, y2 = box
        counts = np.bincount(self.levels[y1:y2, x1:x2].ravel(), minlength=64)
        return float((counts[:-1] + counts[1:]).max() / max(1, counts.sum()))

    def crossed(self, box: Box, xs: np.ndarray, ys: np.ndarray) -> bool:
        """Whether a supported line at one of ``xs`` (``ys``) runs right across ``box``:
        then it is two parts."""
        x1, y1, x2, y2 = box
        return bool(self.columns.across(x1, x2, y1, y2, at=xs, support=_CROSSING)
                    or self.rows.across(y1, y2, x1, x2, at=ys, support=_CROSSING))


# -- where regions come from --------------------------------------------------------------------


def _candidates(picture: _Picture) -> list[tuple[Box, float, bool]]:
    """Every region with content: (box, evidence, whether it may hold other parts).

    Layout cells come first (lines right across a picture are the strongest sign of
    parts). Cells and things on a plain ground may hold other parts (a page and the
    photo on it, a print and its picture); a framed photo's own slices are not parts.
    """
    cells = [(box, score + _LAYOUT_FIRST) for box, score in _cells(picture)]
    holders = cells + _on_plain_ground(picture)
    found = [(box, score, True) for box, score in holders] + [
        (box, score, any(iou(box, other) >= DUPLICATE_IOU for other, _ in holders))
        for box, score in _framed(picture)]
    out = []
    for box, score, holds_parts in found:
        if picture.has_content(box) and _plausible_shape(box):
            flat = picture.flat_share(box)
            # Mostly one flat colour: a page's text, a toolbar, a margin; after the photos.
            if flat >= _FLAT:
                score = score % _LAYOUT_FIRST * _FLAT_WEIGHT
            if score >= _MIN_EVIDENCE:
                out.append((box, score, holds_parts or flat >= _HOLDER_FLAT))
    return out


def _plausible_shape(box: Box) -> bool:
    """Not a strip: photos are rarely more than four times as wide as high (or high as
    wide); a toolbar or a line of text is."""
    width, height = box[2] - box[0], box[3] - box[1]
    return max(width, height) <= _MAX_ASPECT * min(width, height)


def _cells(picture: _Picture) -> list[tuple[Box, float]]:
    """The picture's layout: recursive cuts along lines running right across it.

    A collage is a grid: a seam found in one row (column) of cells runs on through the
    others, where it may be faint (two dark photos meeting). So a cell left whole is cut
    again where a cut of another cell lines up with it, if the line there is half
    supported (``_ALIGNED_SUPPORT``).
    """
    cuts: tuple[set[int], set[int]] = (set(), set())

    def cut(box: Box, depth: int, aligned: bool = False) -> list[Box]:
        x1, y1, x2, y2 = box
        at = (np.array(sorted(cuts[0])), np.array(sorted(cuts[1]))) if aligned else (None, None)
        floor = _ALIGNED_SUPPORT if aligned else 0.0
        vertical = picture.columns.across(x1, x2, y1, y2, at=at[0], support=floor)
        horizontal = [] if vertical else picture.rows.across(y1, y2, x1, x2, at=at[1],
                                                               support=floor)
        if depth == 0 or not (vertical or horizontal):
            return [box]
        if vertical:
            cuts[0].update(vertical)
            parts = [(a, y1, b, y2) for a, b in itertools.pairwise([x1, *vertical, x2])]
        else:
            cuts[1].update(horizontal)
            parts = [(x1, a, x2, b) for a, b in itertools.pairwise([y1, *horizontal, y2])]
        return [cell for part in parts for cell in cut(part, depth - 1, aligned)]

    whole = (0, 0, picture.width, picture.height)
    cells = cut(whole, _CUT_DEPTH)
    if len(cells) > 1:
        cells = [piece for cell in cells for piece in cut(cell, 1, aligned=True)]
    return [(cell, float(_evidence(*_sides_of(cell, picture), picture)))
            for cell in cells if cell != whole and picture.big_enough(cell)]


def _sides_of(box: Box, picture: _Picture) -> tuple[np.ndarray, np.ndarray]:
    """Support and length of the sides of ``box`` inside the picture (the border's: 0)."""
    x1, y1, x2, y2 = box
    xs, ys = np.array([x1, x2]), np.array([y1, y2])
    support = np.concatenate([picture.columns.support(xs, np.full(2, y1), np.full(2, y2)),
                              picture.rows.support(ys, np.full(2, x1), np.full(2, x2))])
    length = np.array([y2 - y1, y2 - y1, x2 - x1, x2 - x1], np.float64)
    inner = np.array([x1 > 0, x2 < picture.width, y1 > 0, y2 < picture.height])
    return support, np.where(inner, length, 0.0)


def _evidence(support: np.ndarray, length: np.ndarray, picture: _Picture) -> np.ndarray:
    """How unlikely sides this long and this well supported are by chance, summed over
    the sides given (axis 0), per unit of the picture's width plus height.

    Each side counts its length times the divergence of its support from the share of
    a line that texture puts on edges by chance: a long, fully supported side says much,
    a short or half-supported one little (an a-contrario measure, as in line detectors).
    So a photo outranks a slice of it cut along a line inside it, and a frame drawn
    round a photo and some text around it.
    """
    q = np.clip(support, 1e-3, 1 - 1e-3)
    divergence = q * np.log(q / _CHANCE) + (1 - q) * np.log((1 - q) / (1 - _CHANCE))
    return (np.maximum(divergence, 0) * length).sum(axis=0) / (picture.width + picture.height)


def _framed(picture: _Picture) -> list[tuple[Box, float]]:
    """Rectangles whose inner sides are supported straight boundaries, best first."""
    columns, rows, width, height = picture.columns, picture.rows, picture.width, picture.height
    # sides: where lines run, and where lines across end (the corners of a faint side)
    xs = _positions([x for x, _, _ in columns.lines]
                    + [v for _, y1, y2 in rows.lines for v in (y1, y2)], width)
    ys = _positions([y for y, _, _ in rows.lines]
                    + [v for _, x1, x2 in columns.lines for v in (x1, x2)], height)
    # Every pair of sides across, every pair down (long enough), and each side's support
    # looked up in two small tables rather than measured again for every rectangle.
    i1, i2 = _pairs(xs, _MIN_SIDE * width)
    j1, j2 = _pairs(ys, _MIN_SIDE * height)
    down = columns.support(xs[:, None], ys[j1][None, :], ys[j2][None, :])  # [x, y pair]
    across = rows.support(ys[:, None], xs[i1][None, :], xs[i2][None, :])  # [y, x pair]
    sides = np.stack([down[i1], down[i2], across[j1].T, across[j2].T])  # [4, x pair, y pair]
    inner = np.stack(np.broadcast_arrays((xs[i1] > 0)[:, None], (xs[i2] < width)[:, None],
                                         (ys[j1] > 0)[None, :], (ys[j2] < height)[None, :]))
    count = inner.sum(axis=0)
    area = (xs[i2] - xs[i1])[:, None] * (ys[j2] - ys[j1])[None, :]
    quality = np.where(inner, sides, 0).sum(axis=0) / np.maximum(count, 1)
    weakest = np.where(inner, sides, 1).min(axis=0)
    ok = (area >= _MIN_AREA * width * height) & (count >= 2) & (quality >= _SIDE_SUPPORT) & \
        (weakest >= _WEAK_SIDE)
    pi, pj = np.nonzero(ok)
    x1, x2, y1, y2 = xs[i1][pi], xs[i2][pi], ys[j1][pj], ys[j2][pj]
    lengths = np.stack([y2 - y1, y2 - y1, x2 - x1, x2 - x1]) * inner[:, pi, pj]
    evidence = _evidence(sides[:, pi, pj], lengths, picture)
    out = []
    for n in np.argsort(-evidence, kind="stable")[:_MAX_FRAMED].tolist():
        box = (int(x1[n]), int(y1[n]), int(x2[n]), int(y2[n]))
        if not picture.crossed(box, xs, ys):
            out.append((box, float(evidence[n])))
    return out


def _pairs(positions: np.ndarray, shortest: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices (first, second) of the position pairs at least ``shortest`` apart."""
    first, second = np.triu_indices(len(positions), 1)
    far = positions[second] - positions[first] >= shortest
    return first[far], second[far]


def _positions(values: list[int], extent: int) -> np.ndarray:
    """Distinct positions (within 2 pixels count as one), first given first, plus the
    border: at most _MAX_POSITIONS, in order."""
    out: list[int] = []
    for value in values:
        if 0 < value < extent and all(abs(value - v) > 2 for v in out):
            out.append(value)
            if len(out) == _MAX_POSITIONS:
                break
    return np.array(sorted([0, *out, extent]), np.int64)


def _on_plain_ground(picture: _Picture) -> list[tuple[Box, float]]:
    """Things lying on a plain ground (a page, a wall, a gutter), by their bounding boxes.

    The ground is what a flood from the picture's border reaches through pixels that
    change only gradually (a wall under uneven light included); each solid patch it does
    not reach is a thing on it: a photo on a page, a print on a wall, turned or not.
    Lines of text are patches too thin to count.
    """
    width, height = picture.width, picture.height
    soft = cv2.GaussianBlur(picture.rgb, (0, 0), 1.5).astype(np.uint8)
    mask = np.zeros((height + 2, width + 2), np.uint8)
    step = max(1, min(width, height) // 32)
    seeds = [(x, y) for x in range(0, width, step) for y in (0, height - 1)] + \
        [(x, y) for y in range(0, height, step) for x in (0, width - 1)]
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    tolerance = (_GROUND_STEP,) * 3
    for x, y in seeds:
        if mask[y + 1, x + 1] == 0:
            cv2.floodFill(soft, mask, (x, y), 0, tolerance, tolerance, flags)
    ground = mask[1:-1, 1:-1]
    borders = (ground[0].mean(), ground[-1].mean(), ground[:, 0].mean(), ground[:, -1].mean())
    if ground.mean() < _MIN_GROUND or sum(share >= 0.5 for share in borders) < 3:
        return []  # no ground round the picture: a sky or a dark corner of a photo
    # Opening drops lines of text and the thin bridges (a caption under a photo, text
    # right above it) that would join a thing to its neighbours into no rectangle at all.
    opening = max(3, round(_OPENING * max(width, height)))
    things = cv2.morphologyEx(1 - ground, cv2.MORPH_OPEN, np.ones((opening, opening), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(things, connectivity=8)
    out = []
    for label, (left, top, w, h, area) in enumerate(stats[1:count].tolist(), start=1):
        box = (left, top, left + w, top + h)
        if not picture.big_enough(box):
            continue
        patch = (labels[top:top + h, left:left + w] == label).astype(np.uint8)
        outlines, _ = cv2.findContours(patch, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(np.concatenate(outlines))
        if area >= _RECTANGULAR * side_a * side_b:  # a rectangle, perhaps turned
            length = np.array([2 * (side_a + side_b)], np.float64)
            out.append((box, float(_evidence(np.ones(1), length, picture))))
        elif area >= _SOLID * w * h:
            # A photo whose plain parts (a white sky on a white page) the ground took in,
            # or a thing of its own shape: its box, on the evidence a rectangle that size
            # would give, times the square of the share of the box it fills (its box is
            # a guess: a framed rectangle found at the same place says more).
            length = np.array([2 * (w + h)], np.float64)
            fill = area / (w * h)
            out.append((box, float(_evidence(np.ones(1), length, picture)) * fill * fill))
    return out

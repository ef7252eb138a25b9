"""The offline demo: a local index of real photographs that ship inside installed packages.

Matplotlib carries the U.S. Navy portrait of Grace Hopper and scikit-image a
set of photographs (astronaut Eileen Collins, a Falcon 9 launch, Chelsea the
cat, ...). :func:`build_demo_index` indexes whichever are installed, with
captions written for this project; :func:`demo_query` makes a cropped,
rescaled, re-encoded copy of one to search with, and :func:`demo_collage` lays
several side by side (a query for region search) and says where each one is. Both
packages come with the ``demo`` extra (``pip install 'reverse-image-rag[demo]'``);
without them the functions here say so in one line.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageEnhance

from rir._runtime import missing_extra
from rir.engines.local import MEMORY, LocalIndex
from rir.errors import ConfigurationError
from rir.inputs.images import QueryImage, load_image
from rir.inputs.region import Region

__all__ = ["DEMO_PHOTOS", "DemoPhoto", "available_demo_photos", "build_demo_index",
           "demo_collage", "demo_query"]


@dataclass(frozen=True)
class DemoPhoto:
    package: str
    relative_path: str
    title: str
    caption: str
    url: str | None = None

    def path(self) -> Path | None:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.relative_path
        return candidate if candidate.is_file() else None


DEMO_PHOTOS: tuple[DemoPhoto, ...] = (
    DemoPhoto("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "Grace Hopper",
              "Official U.S. Navy portrait of Rear Admiral Grace Hopper (1906-1992), computer "
              "scientist, inventor of the first compiler and a creator of COBOL.",
              "https://en.wikipedia.org/wiki/Grace_Hopper"),
    DemoPhoto("skimage", "data/astronaut.png", "Eileen Collins",
              "NASA portrait of astronaut Eileen Collins, the first woman to pilot and later "
              "command a Space Shuttle.", "https://en.wikipedia.org/wiki/Eileen_Collins"),
    DemoPhoto("skimage", "data/rocket.jpg", "Falcon 9 launching DSCOVR",
              "A SpaceX Falcon 9 rocket lifts off carrying NOAA's Deep Space Climate "
              "Observatory (DSCOVR), February 2015.",
              "https://en.wikipedia.org/wiki/Deep_Space_Climate_Observatory"),
    DemoPhoto("skimage", "data/chelsea.png", "Chelsea the cat",
              "Chelsea, a tabby cat, a sample photograph of the scikit-image project."),
    DemoPhoto("skimage", "data/coffee.png", "Cup of coffee",
              "A cup of coffee on a saucer, photograph courtesy of Pikolo Espresso Bar."),
    DemoPhoto("skimage", "data/coins.png", "Greek coins from Pompeii",
              "Ancient Greek coins found at Pompeii, from the Brooklyn Museum collection.",
              "https://en.wikipedia.org/wiki/Pompeii"),
    DemoPhoto("skimage", "data/camera.png", "The Cameraman",
              "A man with a camera on a tripod: the classic 'cameraman' test photograph of "
              "image processing."),
    DemoPhoto("skimage", "data/hubble_deep_field.jpg", "Hubble eXtreme Deep Field",
              "The Hubble Space Telescope's farthest view of the universe, thousands of "
              "galaxies in a tiny patch of sky.",
              "https://en.wikipedia.org/wiki/Hubble_eXtreme_Deep_Field"),
    DemoPhoto("skimage", "data/retina.jpg", "Human retina",
              "Fundus photograph of a human retina with the optic disc and blood vessels.",
              "https://en.wikipedia.org/wiki/Retina"),
    DemoPhoto("skimage", "data/moon.png", "Surface of the Moon",
              "Grayscale photograph of the cratered surface of the Moon.",
              "https://en.wikipedia.org/wiki/Moon"),
    DemoPhoto("skimage", "data/motorcycle_left.png", "Motorcycle in a workshop",
              "A motorcycle in a workshop, the left view of a stereo image pair."),
)


def available_demo_photos() -> list[tuple[DemoPhoto, Path]]:
    return [(photo, path) for photo in DEMO_PHOTOS if (path := photo.path()) is not None]


def build_demo_index(path: str | Path | None = None, **options: object) -> LocalIndex:
    """A LocalIndex of every demo photograph installed (in memory unless ``path``)."""
    photos = available_demo_photos()
    if not photos:
        raise missing_extra("matplotlib and scikit-image", extra="demo",
                            feature="The demo photographs")
    index = LocalIndex(MEMORY if path is None else path, **options)  # type: ignore[arg-type]
    for photo, file in photos:
        index.add(file, title=photo.title, caption=photo.caption, url=photo.url,
                  metadata={"source": f"{photo.package} sample data", "file": file.name})
    return index


def demo_query(title: str = "Grace Hopper") -> tuple[QueryImage, str]:
    """A disguised copy of a demo photo: cropped to ~72%, scaled to 60%, brighter, JPEG q35."""
    match = next((p for p, _ in available_demo_photos() if p.title == title), None)
    if match is None:
        known = [photo.title for photo in DEMO_PHOTOS]
        if title in known:
            raise missing_extra("matplotlib and scikit-image", extra="demo",
                                feature=f"The demo photo {title!r}")
        raise ConfigurationError(f"There is no demo photo {title!r}; choose one of "
                                 f"{', '.join(known)}.")
    image = Image.open(match.path()).convert("RGB")  # type: ignore[arg-type]
    w, h = image.size
    image = image.crop((int(0.06 * w), int(0.04 * h), int(0.92 * w), int(0.88 * h)))
    image = image.resize((int(image.width * 0.6), int(image.height * 0.6)), Image.LANCZOS)
    image = ImageEnhance.Brightness(image).enhance(1.15)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=35)
    description = (f"{match.relative_path.rsplit('/', 1)[-1]} cropped to 72% of its area, "
                   "scaled to 60%, brightened 15% and re-encoded as JPEG quality 35")
    return load_image(buffer.getvalue()), description


def demo_collage(titles: Sequence[str] = ("Grace Hopper", "Falcon 9 launching DSCOVR"), *,
                 columns: int | None = None, cell: int = 360, gap: int = 24
                 ) -> tuple[QueryImage, list[Region]]:
    """The demo photos ``titles`` side by side on a white page (a JPEG, quality 85), and
    the pixel region each one occupies, in order.

    ``columns``: photos per row (default: all in one row up to 3, else 2); each photo is
    scaled to fit a ``cell`` x ``cell`` square, with ``gap`` pixels around them.
    """
    known = [photo.title for photo in DEMO_PHOTOS]
    unknown = [title for title in titles if title not in known]
    if unknown or not titles:
        raise ConfigurationError(f"There is no demo photo {unknown[0] if unknown else ''!r}; "
                                 f"choose from {', '.join(known)}.")
    photos = {photo.title: path for photo, path in available_demo_photos()}
    if any(title not in photos for title in titles):
        raise missing_extra("matplotlib and scikit-image", extra="demo",
                            feature="The demo collage")
    per_row = columns or (len(titles) if len(titles) <= 3 else 2)
    rows = math.ceil(len(titles) / per_row)
    page = Image.new("RGB", (gap + per_row * (cell + gap), gap + rows * (cell + gap)), "white")
    regions = []
    for number, title in enumerate(titles):
        photo = Image.open(photos[title]).convert("RGB")
        photo.thumbnail((cell, cell), Image.LANCZOS)
        left = gap + (number % per_row) * (cell + gap) + (cell - photo.width) // 2
        top = gap + (number // per_row) * (cell + gap) + (cell - photo.height) // 2
        page.paste(photo, (left, top))
        regions.append(Region(left, top, left + photo.width, top + photo.height))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=85)
    return load_image(buffer.getvalue()), regions

"""A small offline evaluation set built from the demo photographs (no network needed).

:func:`build_demo_dataset` writes disguised copies of the photos that ship with
matplotlib and scikit-image (cropped, rescaled, mirrored, re-encoded), a
dataset JSONL of questions about them, and the local index to search them in
(:func:`rir.demo.build_demo_index`). With the local engine and a fake model it
exercises the whole harness; with a real model it is a tiny, honest check.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from rir._runtime import missing_extra
from rir.demo import available_demo_photos, build_demo_index
from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem, write_dataset

__all__ = ["DEMO_QUESTIONS", "DemoDataset", "build_demo_dataset"]

# (photo title, category, question, answers, aliases); no question contains its answer.
DEMO_QUESTIONS: tuple[tuple[str, str, str, list[str], list[str]], ...] = (
    ("Grace Hopper", "people", "Who is the person in this portrait?", ["Grace Hopper"],
     ["Grace Brewster Hopper", "Amazing Grace"]),
    ("Grace Hopper", "people", "Which programming language did this person help create?",
     ["COBOL"], []),
    ("Eileen Collins", "people", "Who is this astronaut?", ["Eileen Collins"],
     ["Eileen Marie Collins"]),
    ("Eileen Collins", "people", "Which spacecraft did this astronaut pilot and command?",
     ["Space Shuttle"], ["Shuttle"]),
    ("Falcon 9 launching DSCOVR", "space", "Which rocket is launching in this photo?",
     ["Falcon 9"], ["SpaceX Falcon 9"]),
    ("Falcon 9 launching DSCOVR", "space", "Which observatory did this launch carry?",
     ["DSCOVR"], ["Deep Space Climate Observatory"]),
    ("Hubble eXtreme Deep Field", "space", "Which telescope took this image?", ["Hubble"],
     ["HST"]),
    ("Hubble eXtreme Deep Field", "space", "What is the name of this image of the sky?",
     ["Hubble eXtreme Deep Field"], ["XDF", "eXtreme Deep Field"]),
    ("Surface of the Moon", "space", "Which celestial body's surface is shown?", ["Moon"],
     ["Luna"]),
    ("Cup of coffee", "objects", "What drink is in the cup?", ["coffee"], ["espresso"]),
    ("Greek coins from Pompeii", "objects", "In which ancient city were these found?",
     ["Pompeii"], ["Pompei"]),
    ("Greek coins from Pompeii", "objects", "What are the round objects in this photo?",
     ["coins"], ["coin"]),
    ("The Cameraman", "objects", "What device is the man in this photo operating?",
     ["camera"], []),
    ("Motorcycle in a workshop", "objects", "What vehicle is shown?", ["motorcycle"],
     ["motorbike"]),
    ("Motorcycle in a workshop", "objects", "Where is the vehicle standing?", ["workshop"],
     ["garage"]),
    ("The Cameraman", "objects", "What is this classic test photograph called?",
     ["The Cameraman"], ["cameraman"]),
    ("Chelsea the cat", "nature", "What kind of animal is this?", ["cat"], ["tabby"]),
    ("Chelsea the cat", "nature", "What is this animal's name?", ["Chelsea"], []),
    ("Human retina", "nature", "Which part of the body is shown in this photograph?",
     ["retina"], ["fundus", "eye"]),
    ("Human retina", "nature", "What is the bright round spot in this photo called?",
     ["optic disc"], ["optic disk", "blind spot"]),
)


@dataclass(frozen=True)
class DemoDataset:
    dataset: Path
    index: Path
    images: Path
    items: list[EvalItem]


def _disguise(image: Image.Image, variant: int) -> bytes:
    """A recognisable but altered copy: crop, rescale, light change, maybe mirror, JPEG."""
    image = image.convert("RGB")
    w, h = image.size
    left, top = (0.06, 0.04) if variant % 2 == 0 else (0.1, 0.08)
    image = image.crop((int(left * w), int(top * h), int((0.92 + left / 2) * w),
                        int((0.88 + top / 2) * h)))
    scale = 0.6 if variant % 2 == 0 else 0.5
    image = image.resize((max(64, int(image.width * scale)), max(64, int(image.height * scale))),
                         Image.LANCZOS)
    image = ImageEnhance.Brightness(image).enhance(1.15 if variant % 2 == 0 else 0.9)
    if variant % 2 == 1:
        image = ImageOps.mirror(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=40 if variant % 2 == 0 else 60)
    return buffer.getvalue()


def build_demo_dataset(folder: str | os.PathLike[str], *, n: int = 20) -> DemoDataset:
    """Write ``n`` (at most 20) items, their images and the local index into ``folder``.

    Files: ``dataset.jsonl``, ``images/demo-XX.jpg`` and ``demo-index.rir``. Photos
    that are not installed are skipped, so fewer items may be written.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(DEMO_QUESTIONS):
        raise ConfigurationError(f"n must be between 1 and {len(DEMO_QUESTIONS)}, got {n!r}.")
    root = Path(folder)
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    photos = {photo.title: path for photo, path in available_demo_photos()}
    if not photos:
        raise missing_extra("matplotlib and scikit-image", extra="demo",
                            feature="The demo dataset's photographs")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for title, category, question, answers, aliases in DEMO_QUESTIONS[:n]:
        if title not in photos:
            continue
        variant = seen.get(title, 0)
        seen[title] = variant + 1
        number = len(items) + 1
        file = images / f"demo-{number:02d}.jpg"
        with Image.open(photos[title]) as original:
            file.write_bytes(_disguise(original, variant))
        items.append(EvalItem(id=f"demo-{number:02d}", image=f"images/{file.name}",
                              question=question, answers=answers, aliases=aliases,
                              category=category, meta={"photo": title}))
    dataset = write_dataset(items, root / "dataset.jsonl")
    index_path = root / "demo-index.rir"
    if index_path.exists():
        index_path.unlink()
    build_demo_index(index_path).close()
    return DemoDataset(dataset=dataset, index=index_path, images=images, items=items)

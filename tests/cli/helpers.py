"""Shared helpers of the CLI tests: running ``rir`` in process, demo photos as files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from rir.cli import main
from rir.demo import available_demo_photos


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rir ARGV...`` in this process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_demo_photos(folder: Path, count: int = 3) -> list[Path]:
    """``count`` demo photos saved as JPEGs in ``folder`` (skips when they are not installed)."""
    paths = []
    for _, path in available_demo_photos()[:count]:
        target = folder / f"{path.stem}.jpg"
        Image.open(path).convert("RGB").save(target, quality=90)
        paths.append(target)
    if len(paths) < count:
        pytest.skip("the demo photos (matplotlib, scikit-image) are not installed")
    return paths

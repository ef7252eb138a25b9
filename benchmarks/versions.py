"""The ``rir`` package as it was at a git commit, for benchmarks that compare against it.

Imports nothing of ``rir``: a benchmark's baseline run puts the folder this returns first
on ``PYTHONPATH`` and imports the old version from there.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rir_at(commit: str, cache: Path) -> Path:
    """A folder under ``cache`` holding the ``rir`` package at ``commit`` (exported from
    git once, then reused)."""
    target = cache / f"rir-{commit}"
    if not (target / "rir").is_dir():
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "rir"],
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target

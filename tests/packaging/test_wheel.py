"""The wheel, installed alone in a fresh virtualenv, is a working product (issue 22).

No editable install and no extras: ``python -m build`` makes the wheel and sdist (which
``twine check`` accepts), pip installs the wheel (from its cache where it can), and the
installed ``rir`` answers ``--version``, every public package imports, the canary image
is found on an in-memory local index, and the optional extras are really optional:
matplotlib and scikit-image are absent and the demo photos say which extra brings them.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.packaging

CHECK = r'''
import importlib.util

import langchain_rir
import llama_index_rir
import rir
from rir.engines.local import LocalIndex
from rir.errors import ConfigurationError
from PIL import Image, ImageEnhance
import io

canary = rir.__file__.replace("__init__.py", "data/canary.jpg")
index = LocalIndex(":memory:")
index.add(canary, title="Grace Hopper", url="https://en.wikipedia.org/wiki/Grace_Hopper")
image = Image.open(canary).convert("RGB")
w, h = image.size
image = ImageEnhance.Brightness(image.crop((w // 10, h // 10, w, h))).enhance(1.2)
copy = io.BytesIO()
image.save(copy, "JPEG", quality=40)
result = rir.ReverseImageSearch(engine=index, cache=False).search(copy.getvalue(), k=3)
assert result.best_guess == "Grace Hopper", result
for optional in ("matplotlib", "skimage", "langchain_openai"):
    assert importlib.util.find_spec(optional) is None, optional
from rir.demo import build_demo_index
try:
    build_demo_index()
except ConfigurationError as exc:
    assert "reverse-image-rag[demo]" in str(exc), exc
else:
    raise AssertionError("the demo photos need the demo extra")
print("ok", result.hits[0].title, round(result.hits[0].score, 2))
'''


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def test_the_wheel_installs_alone_and_works(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, sdist = next(dist.glob("*.whl")), next(dist.glob("*.tar.gz"))
    checked = _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                   timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]

    version = _run([str(env_dir / "bin" / "rir"), "--version"], timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("rir "), version
    checked = _run([str(python), "-c", CHECK], timeout=300, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert checked.stdout.startswith("ok Grace Hopper")

"""Reading the documentation's code blocks, and running a page as the user would copy it.

A page's ```` ```python ```` blocks, in order, are one script: names defined by an
earlier block count in a later one. A block whose fence follows the line
``<!-- docs: live -->`` needs a key, live Google or a real model: it is only compiled
and checked for undefined names. The others (the offline blocks) are also executed, as
one script, in a fresh temporary directory, with no network (see :data:`NETWORK_GUARD`)
and no keys in the environment.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIVE_MARKER = "<!-- docs: live -->"
PAGE_TIMEOUT_S = 240
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
# Keys and settings a page must not see: it runs as a user without any configured.
_UNSET = ("OPENAI_API_KEY", "SERPAPI_API_KEY", "GOOGLE_CLOUD_VISION_API_KEY",
          "GOOGLE_APPLICATION_CREDENTIALS", "QDRANT_API_KEY", "RIR_API_KEY", "RAY_ADDRESS",
          "RIR_LIVE_TESTS", "ANTHROPIC_API_KEY")

# Imported first by every Python process a page starts (sitecustomize), children included:
# connections to anything but loopback or a Unix socket fail at once.
NETWORK_GUARD = '''\
import ipaddress
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise OSError(101, f"network blocked by the docs tests: {address!r}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
'''


@dataclass(frozen=True)
class Block:
    """One ```` ```python ```` block: where it starts (1-based line of its code) and its code."""

    page: Path
    line: int
    code: str
    live: bool


def documentation_pages() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def python_blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence, info = match.group("fence"), match.group("info").lower()
        indent = len(match.group("indent"))
        previous = next((lines[i].strip() for i in range(index - 1, -1, -1)
                         if lines[i].strip()), "")
        end = index + 1
        while end < len(lines) and not lines[end].lstrip().startswith(fence):
            end += 1
        if info in ("python", "py"):
            code = "\n".join(line[indent:] for line in lines[index + 1:end])
            blocks.append(Block(page, index + 2, code, live=previous == LIVE_MARKER))
        index = end + 1
    return blocks


def where(page: Path) -> str:
    """``page`` as the repository names it (its full path when it is elsewhere)."""
    return str(page.relative_to(REPO)) if page.is_relative_to(REPO) else str(page)


def script(blocks: list[Block]) -> tuple[str, list[tuple[int, Block]]]:
    """The blocks as one script, and where each block starts in it (0-based line)."""
    parts, starts, line = [], [], 0
    for block in blocks:
        starts.append((line, block))
        parts.append(block.code)
        line += block.code.count("\n") + 2  # the code, then a blank separator line
    return "\n\n".join(parts) + "\n", starts


def page_line(starts: list[tuple[int, Block]], script_line: int) -> str:
    """``page.md:LINE`` for a 1-based line of :func:`script`'s output."""
    for start, block in reversed(starts):
        if script_line - 1 >= start:
            return f"{where(block.page)}:{block.line + script_line - 1 - start}"
    return f"line {script_line}"


def compile_errors(blocks: list[Block]) -> list[str]:
    """Syntax errors, per block, with the page line they are on."""
    errors = []
    for block in blocks:
        try:
            ast.parse(block.code)
        except SyntaxError as exc:
            errors.append(f"{where(block.page)}:{block.line + (exc.lineno or 1) - 1}:"
                          f" {exc.msg}")
    return errors


def undefined_names(blocks: list[Block]) -> list[str]:
    """Every name the blocks, read as one script, use without defining or importing it."""
    if not blocks:
        return []
    source, starts = script(blocks)
    ruff = Path(sys.executable).with_name("ruff")
    found = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "F821", "--output-format", "json",
         "--stdin-filename", "page.py", "-"],
        input=source, capture_output=True, text=True, timeout=60, check=False)
    if found.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed: {found.stderr}")
    return [f"{page_line(starts, item['location']['row'])}: {item['message']}"
            for item in json.loads(found.stdout or "[]")]


def run_environment(work: Path) -> dict[str, str]:
    """The environment a page runs in: this venv first on PATH, the network guard, no keys."""
    guard = work / ".guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    env = {name: value for name, value in os.environ.items()
           if name not in _UNSET and not name.startswith("PYTEST")}
    env.update({
        "PYTHONPATH": str(guard),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "RIR_CACHE_DIR": str(work / ".cache"),
        "RIR_INDEX": str(work / ".index.rir"),
        "XDG_CONFIG_HOME": str(work / ".config"),
        "MPLBACKEND": "Agg",
        "NO_COLOR": "1",
    })
    return env


def run_page(blocks: list[Block], work: Path) -> subprocess.CompletedProcess[str]:
    """Run the offline blocks of one page as one script in ``work`` (a fresh directory)."""
    source, _ = script(blocks)
    path = work / "page.py"
    path.write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, str(path)], cwd=work, env=run_environment(work),
                          capture_output=True, text=True, timeout=PAGE_TIMEOUT_S, check=False)


def failure_report(result: subprocess.CompletedProcess[str],
                   starts: list[tuple[int, Block]]) -> str:
    """The traceback with each ``page.py`` line pointed back at its Markdown page."""
    def relink(match: re.Match[str]) -> str:
        return f'"{page_line(starts, int(match.group(1)))}"'

    stderr = re.sub(r'"[^"]*page\.py", line (\d+)', relink, result.stderr)
    return f"exit {result.returncode}\n--- stdout (end)\n{result.stdout[-3000:]}\n" \
           f"--- stderr (end)\n{stderr[-6000:]}"

"""Start-up: how long ``import rir`` and ``rir`` commands take in a fresh process.

Each command runs ``--runs`` times as a new process, beside a bare interpreter
(``python -c pass``) in the same run, and the table shows medians: wall time, the time
above the bare interpreter (what the library costs), and CPU time (user + system, which
other work on a shared machine inflates far less than wall time). With ``--baseline DIR`` (another
checkout, e.g. ``git worktree add /tmp/rir-main main``) every command also runs
against that version, interleaved run by run with this one so both see the same
machine load, and the last column is the ratio of the two medians.

``--index`` adds a search of a big local index (a cold process: imports, opening the
index, one query); when the file does not exist it is built first with
``benchmarks/local_scale.py build`` (``--entries``, default 200,000; a few minutes).

    python benchmarks/startup.py --runs 21 --baseline /tmp/rir-main \\
        --index /tmp/rir-200k.rir --entries 200000

Targets (issue 20): ``rir --version`` under 80 ms above the bare interpreter; the
200k-entry ``rir index search`` under 300 ms wall.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEWS = REPO.parent / "shared" / "images" / "news"
RIR = Path(sys.executable).with_name("rir")  # the console script users run

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import rir'": [sys.executable, "-c", "import rir"],
    "rir --version": [str(RIR), "--version"],
    "rir --help": [str(RIR), "--help"],
    "rir index search --help": [str(RIR), "index", "search", "--help"],
}


def run_once(command: list[str], checkout: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh process of ``command``, importing rir from ``checkout``.

    The process runs in a neutral folder (``python -c`` puts the current one first on
    sys.path) and may write bytecode caches, as an installed package has them.
    """
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=tempfile.gettempdir(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with {checkout}: "
                         f"{done.stderr.decode(errors='replace')[-500:]}")
    return elapsed, cpu


def ensure_index(index: Path, entries: int) -> None:
    if index.exists():
        return
    print(f"building {index} ({entries:,} entries) with benchmarks/local_scale.py ...",
          flush=True)
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "local_scale.py"), "build",
                    "--index", str(index), "--entries", str(entries)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="fresh processes per command")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                        help="another checkout to compare against (e.g. main)")
    parser.add_argument("--index", type=Path, default=None, metavar="PATH",
                        help="also time 'rir index search' on this index (built if missing)")
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--query", type=Path, default=None,
                        help="the image searched (default: the first news photo of ../shared)")
    args = parser.parse_args()

    commands = dict(COMMANDS)
    if args.index is not None:
        ensure_index(args.index, args.entries)
        query = args.query or sorted(NEWS.glob("*.jpg"))[0]
        search = [str(RIR), "index", "search", str(query), "--index", str(args.index)]
        commands[f"rir index search --json (index of {args.entries:,})"] = [*search, "--json"]
        commands["rir index search, as a table"] = search
    versions = {"this": REPO}
    if args.baseline is not None:
        versions["baseline"] = args.baseline.resolve()

    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for command in commands.values():  # one untimed run each: page cache, .pyc files
        for checkout in versions.values():
            run_once(command, checkout)
    for _ in range(args.runs):
        for name, command in commands.items():
            for version, checkout in versions.items():
                times.setdefault((version, name), []).append(run_once(command, checkout))

    def median_ms(version: str, name: str, cpu: bool = False) -> float:
        return statistics.median(run[cpu] for run in times[(version, name)]) * 1000

    header = "| command | wall ms | above bare | CPU ms |"
    rule = "| --- | ---: | ---: | ---: |"
    if "baseline" in versions:
        header += " baseline wall ms | above bare | CPU ms | wall: this / baseline |"
        rule += " ---: | ---: | ---: | ---: |"
    load = os.getloadavg()[0]
    print(f"\n{args.runs} fresh processes per command (medians), {time.strftime('%Y-%m-%d')}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{load:.1f} at the end\n")
    print(header)
    print(rule)
    bare = {version: median_ms(version, "python -c pass") for version in versions}
    for name in commands:
        wall = median_ms("this", name)
        row = f"| `{name}` | {wall:.1f} | {wall - bare['this']:+.1f} | " \
              f"{median_ms('this', name, cpu=True):.1f} |"
        if "baseline" in versions:
            before = median_ms("baseline", name)
            row += f" {before:.1f} | {before - bare['baseline']:+.1f} | " \
                   f"{median_ms('baseline', name, cpu=True):.1f} | {wall / before:.2f} |"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())

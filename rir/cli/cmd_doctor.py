"""``rir doctor``: check, on this machine and network, which engines work and why not."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rir.cli._common import escape, parse_engine_options, stdout

if TYPE_CHECKING:
    from rir.engines.doctor import DoctorReport

_STYLE = {"ok": "green", "found": "green", "set": "green", "not set": "dim", "missing": "red"}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Search the canary image that ships with reverse-image-rag on every "
        "engine that can run here (google_lens with a browser; serpapi and cloud_vision with "
        "their keys) and report what works: the browser found, the saved Google session, "
        "which API keys are set (never their values), and for Google Lens the page state, "
        "view, hits by network read / render / render+scroll, effective hl/gl and consent "
        "clicks. Exit 0 when every engine works, 1 when one fails (each failure names its fix)."
    )
    parser.add_argument("--engine", action="append", default=None, metavar="NAME",
                        help="check this engine (repeatable; default: every engine that can "
                             "run here)")
    parser.add_argument("--url", default=None, metavar="IMAGE_URL",
                        help="also search Google Lens by this image URL (its /uploadbyurl path)")
    parser.add_argument("-k", type=int, default=20, help="hits to ask each engine for")
    parser.add_argument("-o", "--option", action="append", default=None, metavar="[ENGINE.]KEY=V",
                        help="engine option, for all engines or one (google_lens.hl=de, "
                             "serpapi.base_url=...)")
    parser.add_argument("--save-html", type=Path, default=None, metavar="DIR",
                        help="save every Lens page the checks saw in DIR")
    parser.add_argument("--allow-private-urls", action="store_true",
                        help="let --url point at a private or local address")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def _engine_options(pairs: list[str] | None, engines: list[str]) -> dict[str, dict[str, Any]]:
    """``-o hl=de -o serpapi.timeout_s=5`` -> {engine: options}."""
    shared: dict[str, Any] = {}
    own: dict[str, dict[str, Any]] = defaultdict(dict)
    for key, value in parse_engine_options(pairs).items():
        engine, dot, option = key.partition(".")
        if dot:
            own[engine][option] = value
        else:
            shared[key] = value
    names = set(engines) | set(own) | {"google_lens", "serpapi", "cloud_vision"}
    return {name: {**shared, **own.get(name, {})} for name in names}


def run(args: argparse.Namespace) -> int:
    from rir._runtime import run_sync
    from rir.engines.doctor import adiagnose

    engines = args.engine or []
    report = run_sync(adiagnose(
        engines=engines or None, engine_options=_engine_options(args.option, engines),
        image_url=args.url, k=args.k, save_html=args.save_html,
        allow_private_urls=args.allow_private_urls))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print(report)
    return 0 if report.ok else 1


def _print(report: DoctorReport) -> None:
    from rich.table import Table

    table = Table(title="rir doctor", show_lines=True, expand=False)
    table.add_column("check", overflow="fold")
    table.add_column("status")
    table.add_column("detail", overflow="fold", max_width=70)
    table.add_column("fix", overflow="fold", max_width=40)
    for check in report.checks:
        style = _STYLE.get(check.status, "red" if check.failed else "")
        status = f"[{style}]{check.status}[/{style}]" if style else check.status
        table.add_row(escape(check.name), status, escape(check.detail), escape(check.fix))
    stdout.print(table)
    if report.ok:
        stdout.print("[green]Every engine checked works.[/green]")
    else:
        failed = [c.name for c in report.engine_checks if c.failed] or ["no engine"]
        stdout.print(f"[red]Not working: {escape(', '.join(failed))}.[/red] See the fix column.")

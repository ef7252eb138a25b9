"""``rir login``: save a Google session (consent, sign-in) for the google_lens engine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rir.engines.google_lens.options import DEFAULT_BASE_URL
from rir.engines.google_lens.session import default_storage_state_path


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Open Google Lens in a visible browser. Accept or reject the cookie "
        "dialog (and sign in if you like), then press Enter or close the window: the session "
        f"is saved to {default_storage_state_path()} and the google_lens engine uses it by "
        "default (option storage_state=false to opt out)."
    )
    parser.add_argument("--output", type=Path, default=None, metavar="PATH",
                        help="where to save the session (default: the path above)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="Lens' address")
    parser.add_argument("--browser-path", default=None, metavar="PATH",
                        help="a Chromium/Chrome executable (default: discovered)")
    parser.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS",
                        help="stop waiting after this long and save what there is")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rir._runtime import run_sync
    from rir.engines.google_lens.login import alogin  # Playwright only when logging in

    path = run_sync(alogin(output=args.output, base_url=args.base_url,
                           browser_path=args.browser_path, timeout_s=args.timeout))
    print(f"Saved the Google session to {path}; the google_lens engine now uses it.",
          file=sys.stderr)
    return 0

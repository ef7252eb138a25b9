"""mkdocs hook: the site's home page is the README.

``README.md`` links into the site as ``docs/<page>.md`` so that its links work on the
repository page; here those links lose the ``docs/`` prefix, and links to files at the
repository's root that the site carries (``CHANGELOG.md``) point at their page, so the
same links work in the built site (``mkdocs build --strict`` checks them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

HOME = "index.md"
ROOT_FILES = {"CHANGELOG.md": "changelog.md"}
_LINK = re.compile(r"\]\((?!https?://|#)([^)\s]+)\)")


def on_page_read_source(page: Any, config: Any, **kwargs: Any) -> str | None:
    if page.file.src_uri != HOME:
        return None
    readme = Path(config["config_file_path"]).parent / "README.md"
    return readme_for_site(readme.read_text(encoding="utf-8"))


def readme_for_site(text: str) -> str:
    def relink(match: re.Match[str]) -> str:
        target = match.group(1)
        path, _, anchor = target.partition("#")
        if path.startswith("docs/"):
            path = path.removeprefix("docs/")
        elif path in ROOT_FILES:
            path = ROOT_FILES[path]
        return f"]({path}{'#' + anchor if anchor else ''})"

    return _LINK.sub(relink, text)

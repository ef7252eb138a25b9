"""A headless Chromium that presents itself as the regular Chrome it is.

Headless Chromium says "HeadlessChrome" twice: in its user agent and in its
client hints (``Sec-CH-UA`` and ``navigator.userAgentData``), which overriding
the user agent alone leaves untouched; Google treats either as a bot. So the
engine overrides both, consistently: the user agent string of a regular Chrome
of the same version and platform, and client hints with the brands that
Chromium itself sends (its "Not A Brand" entry computed by Chromium's own
greasing rule for that major version), set

* per page through CDP ``Emulation.setUserAgentOverride`` with
  ``userAgentMetadata`` (the page's requests and its scripts see the same), and
* as the context's extra headers for the low-entropy hints, so requests made
  outside a page (the upload POST through the context's request client) carry
  them too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from playwright.async_api import CDPSession

__all__ = ["ClientHints"]

_UA_PLATFORM = {"darwin": "Macintosh; Intel Mac OS X 10_15_7",
                "win32": "Windows NT 10.0; Win64; x64"}
_CH_PLATFORM = {"darwin": ("macOS", "14.0.0"), "win32": ("Windows", "15.0.0")}
# Chromium's GREASE brand: components/embedder_support/user_agent_utils.cc.
_GREASEY_CHARS = (" ", "(", ":", "-", ".", "/", ")", ";", "=", "?", "_")
_GREASED_VERSIONS = ("8", "99", "24")


def _brands(major: str, version: str) -> list[dict[str, str]]:
    """Chromium's brand list for ``major``: its GREASE brand and "Chromium", ordered as
    Chromium orders a two-brand list (``version`` fills the full-version list)."""
    seed = int(major) if major.isdigit() else 0
    grease = {"brand": f"Not{_GREASEY_CHARS[seed % 11]}A{_GREASEY_CHARS[(seed + 1) % 11]}Brand",
              "version": _GREASED_VERSIONS[seed % 3] + (".0.0.0" if "." in version else "")}
    chromium = {"brand": "Chromium", "version": version}
    return [grease, chromium] if seed % 2 == 0 else [chromium, grease]


@dataclass(frozen=True)
class ClientHints:
    """User agent and client hints for one Chromium version on this platform."""

    user_agent: str
    metadata: dict[str, Any]

    @classmethod
    def for_version(cls, version: str, platform: str = sys.platform) -> ClientHints:
        major = version.split(".")[0]
        ua_platform = _UA_PLATFORM.get(platform, "X11; Linux x86_64")
        ch_platform, platform_version = _CH_PLATFORM.get(platform, ("Linux", "6.1.0"))
        user_agent = (f"Mozilla/5.0 ({ua_platform}) AppleWebKit/537.36 (KHTML, like Gecko) "
                      f"Chrome/{major}.0.0.0 Safari/537.36")
        metadata = {
            "brands": _brands(major, major),
            "fullVersionList": _brands(major, version),
            "fullVersion": version,
            "platform": ch_platform,
            "platformVersion": platform_version,
            "architecture": "arm" if platform == "darwin" else "x86",
            "model": "",
            "mobile": False,
            "bitness": "64",
            "wow64": False,
        }
        return cls(user_agent, metadata)

    @property
    def platform_name(self) -> str:
        """``navigator.platform`` for this platform."""
        return {"macOS": "MacIntel", "Windows": "Win32"}.get(self.metadata["platform"],
                                                              "Linux x86_64")

    def headers(self) -> dict[str, str]:
        """The low-entropy hints every Chrome request carries."""
        brands = ", ".join(f'"{b["brand"]}";v="{b["version"]}"' for b in self.metadata["brands"])
        return {"Sec-CH-UA": brands, "Sec-CH-UA-Mobile": "?0",
                "Sec-CH-UA-Platform": f'"{self.metadata["platform"]}"'}

    async def apply(self, session: CDPSession, accept_language: str) -> None:
        """Override the user agent and client hints of the page ``session`` is attached
        to (CDP, that page only).

        The session must stay attached: Chromium drops a session's emulation when it
        detaches. It goes away with the page.
        """
        await session.send("Emulation.setUserAgentOverride", {
            "userAgent": self.user_agent, "acceptLanguage": accept_language,
            "platform": self.platform_name, "userAgentMetadata": self.metadata})

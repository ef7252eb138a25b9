"""How the CLI reports errors: one line on stderr and an exit code.

Exit codes (also in ``rir --help``): 0 everything worked; 1 something failed
(an engine, or some of the images or files a command was given); 2 bad arguments,
input or configuration (nothing was searched, created or changed).
"""

from __future__ import annotations

import re

from rir.errors import (
    ConfigurationError,
    EngineError,
    ImageFetchError,
    InvalidImageError,
    RIRError,
    UnsafeURLError,
    one_line,
)

__all__ = ["EXIT_BAD_INPUT", "EXIT_CODES_HELP", "EXIT_FAILURE", "EXIT_OK", "error_line",
           "exit_code_for", "for_cli"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
_BAD_INPUT = (InvalidImageError, ImageFetchError, UnsafeURLError, ConfigurationError)

EXIT_CODES_HELP = (
    "exit status: 0 all went well; 1 something failed (an engine, or some of the images "
    "or files given; the others were still done and each failure is a line on stderr); "
    "2 bad arguments, input or configuration (nothing was searched, created or changed)."
)

# The library's messages name Python options ("raise max_bytes", "allow_private_urls=True",
# "pass api_key=..."); at the command line the fix is a flag. Python name -> CLI flag.
_FLAGS = {
    "max_bytes": "--max-bytes",
    "max_pixels": "--max-pixels",
    "allow_private_urls": "--allow-private-urls",
    "allow_local_files": None,  # the CLI always reads the local files you name
    "max_paid_calls": "--max-paid-calls",
}
_RAISE = re.compile(r"(?:,\s*|\s+)or raise (max_bytes|max_pixels|max_paid_calls)\b"
                    r"|\braise (max_bytes|max_pixels|max_paid_calls)\b")
_PASS_TRUE = re.compile(r"\b(?:[Pp]ass|enable|set) (allow_private_urls|allow_local_files)=True\b")
_ENGINE_OPTION = re.compile(r"\b([Pp]ass|set) ([a-z][a-z0-9_]*)=")


def exit_code_for(exc: BaseException) -> int:
    return EXIT_BAD_INPUT if isinstance(exc, _BAD_INPUT) else EXIT_FAILURE


def for_cli(message: str, flags: frozenset[str]) -> str:
    """``message`` with every Python-option hint turned into a flag the command has.

    ``flags`` are the command's option strings; a hint naming an option this command
    lacks is dropped rather than shown (a hint must name something the user can do).
    """

    def raise_hint(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        flag = _FLAGS[name]
        if flag in flags:
            return match.group(0).replace(name, flag)
        return ""

    def true_hint(match: re.Match[str]) -> str:
        flag = _FLAGS[match.group(1)]
        if flag in flags:
            return match.group(0).replace(f"{match.group(1)}=True", flag)
        return match.group(0)

    def engine_hint(match: re.Match[str]) -> str:
        if "-o" in flags and match.group(2) not in _FLAGS:
            return f"{match.group(1)} -o {match.group(2)}="
        return match.group(0)

    message = _RAISE.sub(raise_hint, message)
    message = _PASS_TRUE.sub(true_hint, message)
    return _ENGINE_OPTION.sub(engine_hint, message)


def error_line(exc: BaseException, flags: frozenset[str], *, about: str | None = None) -> str:
    """``rir: [ABOUT: ]error: MESSAGE`` for stderr."""
    if isinstance(exc, EngineError):
        kind = "engine error"
    elif isinstance(exc, RIRError):
        kind = "error"
    else:  # a bug, not bad input: say what it was; --debug shows the traceback
        kind = f"unexpected {type(exc).__name__}"
    where = f"{about}: " if about else ""
    return f"rir: {where}{kind}: {for_cli(one_line(exc), flags)}"

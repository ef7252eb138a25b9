"""What a JSON request body may hold, checked before anything parses it deeper.

A client controls every byte of a body, and the parsers behind the routes (Python's
``json``, pydantic, MCP's JSON-RPC models) each have a way to fail that is not a
client error: a RecursionError on ``[[[[...]]]]``, a ValueError on an integer of
100,000 digits, an unpaired surrogate that cannot be encoded back. So the server
checks a JSON body once, cheaply, at the door (REST and ``/mcp`` alike):

* at most :data:`MAX_CONTAINERS` arrays and objects, nested at most
  :data:`MAX_DEPTH` deep (counted on the body with its strings blanked out, so the
  count never recurses);
* no number literal longer than :data:`MAX_NUMBER_CHARS` characters;
* UTF-8, valid JSON, no ``NaN``/``Infinity``, no key given twice in one object, at
  most :data:`MAX_KEYS` keys per object, no unpaired surrogate in any string.

Each refusal is a :class:`BadRequestBodyError` (a 400 with the usual
``{error, detail, hint}`` body) that names the limit, never the offending text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rir.serve.error_replies import BadRequestBodyError

__all__ = ["MAX_CONTAINERS", "MAX_DEPTH", "MAX_KEYS", "MAX_NUMBER_CHARS", "is_json_content_type",
           "parse_json_body"]

MAX_DEPTH = 32
MAX_CONTAINERS = 1000
MAX_KEYS = 64
MAX_NUMBER_CHARS = 64

# A JSON string literal, written so that the regex engine never backtracks into it.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_LONG_NUMBER = re.compile(rb"[-+0-9.eE]{%d,}" % (MAX_NUMBER_CHARS + 1))
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def is_json_content_type(value: str) -> bool:
    """``application/json`` and the ``+json`` types (parameters and case ignored)."""
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


def parse_json_body(body: bytes) -> Any:
    """The JSON value of ``body`` once it passes every limit above; BadRequestBodyError else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestBodyError("The body is not UTF-8 text; send UTF-8 JSON.") from None
    _check_shape(body)
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except BadRequestBodyError:
        raise
    except json.JSONDecodeError as exc:
        raise BadRequestBodyError(f"The body is not valid JSON ({exc.msg} at character "
                                  f"{exc.pos}); send a JSON object.") from None
    except (RecursionError, ValueError) as exc:  # the limits above should make these unreachable
        raise BadRequestBodyError(f"The body is JSON this server cannot read "
                                  f"({type(exc).__name__}).") from None
    _check_strings(value)
    return value


def _check_shape(body: bytes) -> None:
    """Depth, container count and number length, on the body with its strings blanked."""
    skeleton = _STRING.sub(b'""', body)
    if _LONG_NUMBER.search(skeleton):
        raise BadRequestBodyError(f"The body holds a number longer than {MAX_NUMBER_CHARS} "
                                  "characters; send numbers of ordinary size.")
    containers = skeleton.count(b"[") + skeleton.count(b"{")
    if containers > MAX_CONTAINERS:
        raise BadRequestBodyError(f"The body holds {containers:,} JSON arrays and objects, over "
                                  f"this server's {MAX_CONTAINERS:,}; send a smaller request.")
    depth = 0
    for match in _BRACKETS.finditer(skeleton):
        depth += 1 if match.group() in (b"[", b"{") else -1
        if depth > MAX_DEPTH:
            raise BadRequestBodyError(f"The body nests JSON more than {MAX_DEPTH} levels deep; "
                                      "send a flatter request.")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_KEYS:
        raise BadRequestBodyError(f"A JSON object in the body has {len(pairs):,} keys, over "
                                  f"this server's {MAX_KEYS}; send only the documented fields.")
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BadRequestBodyError("A JSON object in the body gives the same key twice; "
                                      "send each field once.")
        out[key] = value
    return out


def _check_strings(value: Any) -> None:
    """No string (key or value, at any depth) holds a lone surrogate: it cannot be encoded
    back into a response, a log line or a URL. Iterative: the depth is bounded already."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise BadRequestBodyError("A string in the body holds an unpaired UTF-16 surrogate "
                                      "(\\ud800-\\udfff); send valid Unicode.")


def _no_constant(name: str) -> Any:
    raise BadRequestBodyError(f"The body holds {name}, which is not JSON; send a number.")

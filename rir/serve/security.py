"""The one security middleware in front of the REST routes and ``/mcp`` alike.

In order: the Host header must be one the server was started for (DNS rebinding: a
web page on evil.example resolving to 127.0.0.1 sends ``Host: evil.example``); a
browser's Origin must be the server's own or a ``--cors-origin``; the
API key must match (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``, compared in
constant time; ``$RIR_API_KEY`` may hold several keys separated by commas, each with
its own rate limit); the client must be under its rate limit; a Content-Length over
the body cap is answered 413 before a byte is read (a streamed body is cut by the
framework's limiter inside, which answers 413 through the app's error handler); a
JSON body (REST or ``/mcp``) is read up to the cap and must pass
:func:`~rir.serve.request_guard.parse_json_body` (nesting depth, number length,
duplicate keys, ...) before any route or the MCP SDK parses it.
``/healthz`` needs no key so a supervisor can probe it. Keys never
reach a log line or an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rir.serve.error_replies import (
    BadRequestBodyError,
    ErrorReply,
    RequestRateLimitedError,
    error_reply,
)
from rir.serve.limits import RateLimiter
from rir.serve.request_guard import is_json_content_type, parse_json_body

__all__ = ["SecurityMiddleware", "send_error"]

_OPEN_PATHS = ("/healthz",)
_BODY_METHODS = ("POST", "PUT", "PATCH")
# Bodies above this are checked in a worker thread, so one big request never stalls the loop.
_CHECK_IN_THREAD_ABOVE = 256 * 1024


async def send_error(send: Send, reply: ErrorReply, extra: dict[str, str] | None = None) -> None:
    body = json.dumps(reply.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in {**reply.headers(),
                                                              **(extra or {})}.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, api_keys: Sequence[str], allowed_hosts: Sequence[str],
                 allowed_origins: Sequence[str], max_body_bytes: int,
                 rate_limit_per_minute: int) -> None:
        self._max_body = max_body_bytes
        self.app = app
        self._keys = [key.encode() for key in api_keys if key]
        self._hosts = frozenset(host.lower() for host in allowed_hosts)
        # A browser page of another origin must not drive the server (CSRF from a web page
        # to a loopback server): its Origin header has to be ours or a --cors-origin.
        self._origins = frozenset(origin.lower().rstrip("/") for origin in allowed_origins)
        self._rates = RateLimiter(rate_limit_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "").lower()
        if "*" not in self._hosts and host not in self._hosts:
            await send_error(send, ErrorReply(
                421, "InvalidHost", "This server does not answer for that Host header.",
                "Connect with the address the server was started on (--host/--port)."))
            return
        origin = headers.get("origin", "").lower().rstrip("/")
        if origin and origin not in self._origins:
            await send_error(send, ErrorReply(
                403, "ForbiddenOrigin", "Requests from this web origin are not allowed.",
                "Start the server with --cors-origin ORIGIN to allow a web app."))
            return
        client = self._client(scope, headers)
        if client is None:
            await send_error(send, ErrorReply(
                401, "Unauthorized", "A valid API key is required.",
                "Send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'."),
                {"WWW-Authenticate": "Bearer"})
            return
        try:
            self._rates.check(client)
        except RequestRateLimitedError as exc:
            await send_error(send, error_reply(exc))
            return
        length = headers.get("content-length", "").strip()
        # Compared as text first: int() of a 10,000-digit header would itself fail.
        if length.isdigit() and (len(length) > 18 or int(length) > self._max_body):
            await send_error(send, self._too_large())
            return
        if scope.get("method") in _BODY_METHODS \
                and is_json_content_type(headers.get("content-type", "")):
            body = await self._read_body(receive)
            if body is None:
                await send_error(send, self._too_large())
                return
            try:
                if len(body) > _CHECK_IN_THREAD_ABOVE:
                    await asyncio.to_thread(parse_json_body, body)
                else:
                    parse_json_body(body)
            except BadRequestBodyError as exc:
                await send_error(send, error_reply(exc))
                return
            receive = _replay(body, receive)
        if scope.get("path", "").startswith("/mcp"):
            send = _shaped_plain_errors(send)
        await self.app(scope, receive, send)

    def _too_large(self) -> ErrorReply:
        return ErrorReply(413, "RequestTooLarge",
                          f"The request body is over this server's {self._max_body:,}-byte "
                          "limit.", "Send a smaller image (at most the server's max image "
                          "bytes).")

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the cap (the rest is never read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _client(self, scope: Scope, headers: dict[str, str]) -> str | None:
        """Who is asking (for the rate limit), or None when the key is missing or wrong."""
        if not self._keys or scope.get("path") in _OPEN_PATHS:
            peer = scope.get("client") or ("?", 0)
            return f"peer:{peer[0]}"
        given = headers.get("x-api-key", "")
        auth = headers.get("authorization", "")
        if not given and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        candidate = given.encode("latin-1", "replace")
        matched = None
        for key in self._keys:  # every key compared: the time does not say which one matched
            if hmac.compare_digest(candidate, key):
                matched = key
        if matched is None:
            return None
        return "key:" + hashlib.sha256(matched).hexdigest()[:16]


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that hands the already-read body over once, then the client's own."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _shaped_plain_errors(send: Send) -> Send:
    """``send`` for ``/mcp``: the SDK answers some client errors in plain text ("Invalid
    Content-Type header"); those leave as ``{error, detail, hint}`` like every other error.
    Its JSON-RPC error bodies stay as they are: MCP clients read those."""
    held: Message | None = None

    async def shaped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and message["status"] >= 400:
            types = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
            if not any(b"json" in v or b"event-stream" in v for v in types):
                held = message
                return
        if held is not None and message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # a plain-text error is short: its text is not needed, only its end
            text = message.get("body", b"").decode("utf-8", "replace")
            status = held["status"]
            held = None
            await send_error(send, ErrorReply(
                status, "MCPTransportError", " ".join(text.split())[:200] or "Bad request.",
                "Send JSON-RPC as application/json, accepting application/json and "
                "text/event-stream (any MCP client library does this)."))
            return
        await send(message)

    return shaped

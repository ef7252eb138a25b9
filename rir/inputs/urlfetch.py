"""Fetching untrusted URLs safely: an SSRF guard and a bounded, streaming GET.

Every hop of a request (the first URL and each redirect) is resolved with DNS,
and refused unless every address it resolves to is a public one. The
connection is then pinned to the address we checked (the ``Host`` header and
TLS server name stay those of the URL), so a DNS answer that changes between
the check and the connection cannot smuggle us onto a private network.
``allow_private_urls=True`` turns the guard off, for trusted intranets and for
tests that serve from 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from rir._runtime import LoopLocal
from rir.errors import ImageFetchError, ImageTooLargeError, UnsafeURLError
from rir.urls import redact_url

__all__ = [
    "USER_AGENT",
    "FetchedResponse",
    "ResponseTooLargeError",
    "check_url_is_public",
    "fetch_url",
]

USER_AGENT = "Mozilla/5.0 (compatible; reverse-image-rag/0.1; +https://pypi.org/project/reverse-image-rag/)"
_REDIRECT_CODES = {301, 302, 303, 307, 308}
# Cloud metadata endpoints that are not covered by "not global" (all the others are).
_EXTRA_BLOCKED = {ipaddress.ip_address("fd00:ec2::254")}


class ResponseTooLargeError(ImageFetchError, ImageTooLargeError):
    """The response body exceeded the byte cap."""


@dataclass
class FetchedResponse:
    url: str
    status_code: int
    content_type: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _EXTRA_BLOCKED:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private:
        return "a private network address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a non-public address"
    return None


async def _resolve(host: str, port: int) -> list[str]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        return [str(literal)]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


async def check_url_is_public(url: str) -> str:
    """Resolve ``url``'s host and return a public address to connect to.

    Raises :class:`UnsafeURLError` if the scheme is not http(s) or any address the
    host resolves to is loopback, private, link-local, metadata or otherwise not
    public; :class:`ImageFetchError` if the host does not resolve.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError(
            f"Refusing URL '{redact_url(url)}': only http(s) URLs with a host are fetched."
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await _resolve(parts.hostname, port)
    except OSError as exc:
        raise ImageFetchError(
            f"Could not resolve the host of URL '{redact_url(url)}' ({exc.strerror or exc}); "
            "check the URL and your network connection."
        ) from None
    for address in addresses:
        reason = _blocked_reason(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            raise UnsafeURLError(
                f"Refusing URL '{redact_url(url)}': its host resolves to {address}, {reason}. "
                "Pass allow_private_urls=True if you trust this network."
            )
    return addresses[0]


def _pinned_request_url(url: str, address: str) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


async def _make_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
    )


async def _close_client(client: httpx.AsyncClient) -> None:
    await client.aclose()


_clients: LoopLocal[httpx.AsyncClient] = LoopLocal(_make_client, _close_client)


async def fetch_url(
    url: str,
    *,
    max_bytes: int,
    timeout_s: float = 20.0,
    max_redirects: int = 5,
    allow_private_urls: bool = False,
    accept: Callable[[str], str | None] | None = None,
    headers: dict[str, str] | None = None,
    client: httpx.AsyncClient | None = None,
) -> FetchedResponse:
    """GET ``url`` with the SSRF guard, bounded redirects, a deadline and a byte cap.

    ``accept(content_type)`` may return an error text to reject a response before
    its body is read (e.g. an HTML page where an image was expected).
    Raises :class:`ImageFetchError` (or :class:`ResponseTooLargeError`) and
    :class:`UnsafeURLError`; never returns a non-2xx response.
    """
    try:
        return await asyncio.wait_for(
            _fetch(url, max_bytes, timeout_s, max_redirects, allow_private_urls, accept,
                   headers or {}, client),
            timeout=timeout_s,
        )
    except asyncio.TimeoutError:
        raise ImageFetchError(
            f"Timed out after {timeout_s:g}s fetching URL '{redact_url(url)}'; "
            "the server is slow or unreachable. Retry later or raise timeout_s."
        ) from None


async def _fetch(
    url: str,
    max_bytes: int,
    timeout_s: float,
    max_redirects: int,
    allow_private_urls: bool,
    accept: Callable[[str], str | None] | None,
    headers: dict[str, str],
    client: httpx.AsyncClient | None,
) -> FetchedResponse:
    client = client or await _clients.get()
    current = url
    for _hop in range(max_redirects + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnsafeURLError(
                f"Refusing URL '{redact_url(current)}': only http(s) URLs with a host are fetched."
            )
        request_url, extensions = current, {}
        hop_headers = dict(headers)
        if not allow_private_urls:
            address = await check_url_is_public(current)
            request_url = _pinned_request_url(current, address)
            hop_headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            if parts.scheme == "https":
                extensions["sni_hostname"] = parts.hostname
        request = client.build_request(
            "GET", request_url, headers=hop_headers, timeout=timeout_s, extensions=extensions
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise ImageFetchError(
                f"Timed out after {timeout_s:g}s fetching URL '{redact_url(current)}'; "
                "retry later or raise timeout_s."
            ) from None
        except httpx.HTTPError as exc:
            raise ImageFetchError(
                f"Could not fetch URL '{redact_url(current)}': {type(exc).__name__}. "
                "Check the URL and your network connection."
            ) from None
        try:
            if response.status_code in _REDIRECT_CODES and "location" in response.headers:
                current = urljoin(current, response.headers["location"])
                continue
            return await _read_body(response, current, max_bytes, accept)
        finally:
            await response.aclose()
    raise ImageFetchError(
        f"URL '{redact_url(url)}' redirected more than {max_redirects} times; "
        "pass the final URL instead."
    )


async def _read_body(
    response: httpx.Response,
    url: str,
    max_bytes: int,
    accept: Callable[[str], str | None] | None,
) -> FetchedResponse:
    shown = redact_url(url)
    if response.status_code >= 400:
        raise ImageFetchError(
            f"URL '{shown}' answered HTTP {response.status_code}"
            f"{' ' + response.reason_phrase if response.reason_phrase else ''}; "
            "check that the address is right and publicly reachable."
        )
    if not 200 <= response.status_code < 300:
        raise ImageFetchError(
            f"URL '{shown}' answered HTTP {response.status_code} without content; "
            "pass a direct link to the file."
        )
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if accept is not None and (problem := accept(content_type)):
        raise ImageFetchError(f"URL '{shown}' {problem}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(
            f"URL '{shown}' is {int(declared):,} bytes, over the {max_bytes:,}-byte limit; "
            "pass a smaller file or raise max_bytes."
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLargeError(
                    f"URL '{shown}' sent more than the {max_bytes:,}-byte limit; "
                    "pass a smaller file or raise max_bytes."
                )
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise ImageFetchError(
            f"Timed out reading URL '{shown}'; the server stalled. Retry later."
        ) from None
    except httpx.HTTPError as exc:
        raise ImageFetchError(
            f"The connection broke while reading URL '{shown}' ({type(exc).__name__}); retry later."
        ) from None
    return FetchedResponse(
        url=url,
        status_code=response.status_code,
        content_type=content_type,
        content=b"".join(chunks),
        headers=dict(response.headers),
    )

"""Fetching untrusted URLs safely: an SSRF guard and a bounded, streaming GET.

Every hop of a request (the first URL and each redirect) is resolved with DNS,
and refused unless every address it resolves to is a public one. The
connection is then pinned to the address we checked (the ``Host`` header and
TLS server name stay those of the URL), so a DNS answer that changes between
the check and the connection cannot smuggle us onto a private network.
``allow_private_urls=True`` turns the guard off, for trusted intranets and for
tests that serve from 127.0.0.1.

An IPv6 address that carries an IPv4 address inside it is judged by both: IPv4-mapped
(``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), 6to4 (``2002::/16``), Teredo
(``2001::/32``, whose client address is XOR-obfuscated), NAT64 (``64:ff9b::/96`` and
the local-use ``64:ff9b:1::/48``): ``http://[2002:7f00:1::]/`` is 127.0.0.1. Numeric
IPv4 spellings (``2130706433``, ``0177.1``, ``0x7f.1``) are resolved by the system
like any name, and the address they resolve to is what is checked and connected to.
A URL that cannot be parsed (port 99999, a broken IPv6 literal) is refused with
:class:`UnsafeURLError` before anything is resolved.
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
from rir.urls import host_in_url, redact_url

__all__ = [
    "USER_AGENT",
    "FetchedResponse",
    "ResponseTooLargeError",
    "check_url_is_public",
    "embedded_ipv4",
    "fetch_url",
]

USER_AGENT = "Mozilla/5.0 (compatible; reverse-image-rag/0.1; +https://pypi.org/project/reverse-image-rag/)"
_REDIRECT_CODES = {301, 302, 303, 307, 308}
# Refused whatever this Python's ipaddress tables say (they differ between releases):
# a cloud metadata endpoint, IETF protocol assignments (192.0.0.0/24: some Pythons call
# parts of it global), and local-use NAT64, which by definition reaches a private network.
_EXTRA_BLOCKED = tuple(ipaddress.ip_network(n) for n in ("fd00:ec2::254/128", "192.0.0.0/24",
                                                           "64:ff9b:1::/48"))


class ResponseTooLargeError(ImageFetchError, ImageTooLargeError):
    """The response body exceeded the byte cap."""


@dataclass
class FetchedResponse:
    url: str
    status_code: int
    content_type: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# IPv4 addresses written in IPv6: an IPv6 socket to ::ffff:a.b.c.d talks IPv4 to a.b.c.d,
# and a DNS64 resolver answers 64:ff9b::a.b.c.d for every IPv4-only site (IPv6-only
# networks), so these are judged by the IPv4 address alone.
_IPV4_SPELLED_IN_IPV6 = (ipaddress.ip_network("::ffff:0:0/96"), _NAT64_WELL_KNOWN)


def embedded_ipv4(ip: _Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 transition address carries (none for other addresses)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    value = int(ip)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _IPV4_COMPATIBLE and value > 1:  # not :: and ::1, which are themselves
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client), the client already de-obfuscated
    if ip in _NAT64_WELL_KNOWN:
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if ip in _NAT64_LOCAL:
        # RFC 6052 lets the operator pick the prefix length: the /48 layout (bits 48-63
        # and 72-87, around the zero "u" octet) and the /96 layout (the last 32 bits).
        high, low = (value >> 64) & 0xFFFF, (value >> 40) & 0xFFFF
        found += [ipaddress.IPv4Address(high << 16 | low),
                  ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    return found


def _own_reason(ip: _Address) -> str | None:
    if any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED):
        return "a cloud metadata or special-purpose address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private:
        return "a private network address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a non-public address"
    return None


def _blocked_reason(ip: _Address) -> str | None:
    """Why connecting to ``ip`` is refused (None: a public address)."""
    inner_addresses = embedded_ipv4(ip)
    for inner in inner_addresses:
        reason = _own_reason(inner)
        if reason:
            return f"which embeds {inner}, {reason}"
    if inner_addresses and any(ip in network for network in _IPV4_SPELLED_IN_IPV6):
        return None
    return _own_reason(ip)


def _split_http_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; UnsafeURLError for anything else.

    Every way ``urlsplit`` or the port can fail (port 99999 or 0, ``[::1``, a NUL in
    the host) is a refusal in the error tree, never a bare ValueError.
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError as exc:
        raise UnsafeURLError(
            f"Refusing URL '{shown}': it is not a valid URL ({exc}); check the URL."
        ) from None
    if scheme not in ("http", "https") or not host:
        raise UnsafeURLError(
            f"Refusing URL '{shown}': only http(s) URLs with a host are fetched."
        )
    if port == 0:
        raise UnsafeURLError(f"Refusing URL '{shown}': port 0 is not a port to connect to.")
    if any(ord(c) < 0x21 or c in "\\%" for c in host.split("%", 1)[0]):
        raise UnsafeURLError(
            f"Refusing URL '{shown}': its host holds spaces, control characters or "
            "backslashes; check the URL."
        )
    return scheme, host, port or (443 if scheme == "https" else 80)


async def _resolve(host: str, port: int) -> list[str]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        return [str(literal)]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, ValueError) as exc:  # IDNA: an empty or 64+ character label, ...
        raise OSError(f"the host name cannot be looked up ({type(exc).__name__})") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


async def check_url_is_public(url: str) -> str:
    """Resolve ``url``'s host and return a public address to connect to.

    Raises :class:`UnsafeURLError` if the scheme is not http(s) or any address the
    host resolves to is loopback, private, link-local, metadata or otherwise not
    public; :class:`ImageFetchError` if the host does not resolve.
    """
    _scheme, host, port = _split_http_url(url)
    try:
        addresses = await _resolve(host, port)
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
    parts = urlsplit(url)  # already checked by _split_http_url
    host = host_in_url(address)
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
        scheme, hostname, _port = _split_http_url(current)
        parts = urlsplit(current)
        request_url, extensions = current, {}
        hop_headers = dict(headers)
        if not allow_private_urls:
            address = await check_url_is_public(current)
            request_url = _pinned_request_url(current, address)
            hop_headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            if scheme == "https":
                extensions["sni_hostname"] = hostname
        try:
            request = client.build_request(
                "GET", request_url, headers=hop_headers, timeout=timeout_s, extensions=extensions
            )
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise UnsafeURLError(
                f"Refusing URL '{redact_url(current)}': it is not a valid URL "
                f"({type(exc).__name__}); check the URL."
            ) from None
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
                try:
                    current = urljoin(current, response.headers["location"])
                except ValueError:
                    raise ImageFetchError(
                        f"URL '{redact_url(current)}' redirected to an address that is not a "
                        "valid URL; pass the final URL instead."
                    ) from None
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

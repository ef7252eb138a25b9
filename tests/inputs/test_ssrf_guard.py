"""The SSRF guard against every spelling of a private address (issue 21).

Generated addresses from every non-public range, in every encoding a URL can carry
them: dotted, decimal, octal, hex and short IPv4; IPv4-mapped, IPv4-compatible, 6to4,
Teredo (XOR-obfuscated client), NAT64 (well-known /96 and local-use /48 layouts); with
userinfo in front. Each must be refused before any connection is made. And a URL that
does not parse (port 99999, a broken IPv6 literal) is an error of the library's tree
everywhere a URL is taken: load_image, caption enrichment, thumbnails.
"""

from __future__ import annotations

import ipaddress
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rir
from rir.errors import RIRError, UnsafeURLError
from rir.inputs.urlfetch import check_url_is_public, embedded_ipv4
from rir.prompting.thumbnail_fetch import afetch_thumbnails
from rir.results.enrich import aenrich_hit
from rir.results.models import SearchHit

EXAMPLES = int(os.environ.get("RIR_FUZZ_EXAMPLES", "0")) or None  # make fuzz: many more
PRIVATE_V4 = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
    "100.64.0.0/10", "0.0.0.0/8", "192.0.0.0/24", "198.18.0.0/15", "224.0.0.0/4",
    "240.0.0.0/4")]
PRIVATE_V6 = [ipaddress.ip_network(n) for n in ("::1/128", "fe80::/10", "fc00::/7", "ff00::/8")]


def _v4(network: ipaddress.IPv4Network) -> st.SearchStrategy[ipaddress.IPv4Address]:
    base = int(network.network_address)
    return st.integers(0, network.num_addresses - 1).map(
        lambda offset: ipaddress.IPv4Address(base + offset))


private_v4 = st.sampled_from(PRIVATE_V4).flatmap(_v4)


def _ipv4_spellings(ip: ipaddress.IPv4Address) -> list[str]:
    a, b, c, d = ip.packed
    value = int(ip)
    return [str(ip), str(value), f"0{a:o}.0{b:o}.0{c:o}.0{d:o}", f"{value:#x}",
            f"0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}", f"{a}.{b}.{c * 256 + d}",
            f"{a}.{b * 65536 + c * 256 + d}"]


def _ipv6_carriers(ip: ipaddress.IPv4Address) -> list[str]:
    value = int(ip)
    high, low = value >> 16, value & 0xFFFF
    teredo_client = value ^ 0xFFFFFFFF
    nat64_local_48 = (0x0064_FF9B_0001 << 80) | (high << 64) | (low << 40)
    return [
        f"::ffff:{ip}", f"::{ip}", f"::ffff:{high:x}:{low:x}",          # mapped, compatible
        str(ipaddress.IPv6Address((0x2002 << 112) | (value << 80))),     # 6to4
        str(ipaddress.IPv6Address((0x2001_0000 << 96) | (0x0808_0808 << 64)  # Teredo
                                  | teredo_client)),
        f"64:ff9b::{ip}", str(ipaddress.IPv6Address(nat64_local_48)),    # NAT64
        str(ipaddress.IPv6Address((0x0064_FF9B_0001 << 80) | value)),
    ]


def _refused(url: str) -> None:
    async def check() -> None:
        await check_url_is_public(url)

    import asyncio

    with pytest.raises(UnsafeURLError):
        asyncio.run(check())


@pytest.mark.fuzz
@given(ip=private_v4, which=st.integers(0, 6), userinfo=st.booleans())
@settings(max_examples=EXAMPLES or 150, deadline=None, database=None)
def test_every_ipv4_spelling_of_a_private_address_is_refused(ip, which, userinfo) -> None:
    host = _ipv4_spellings(ip)[which]
    _refused(f"http://{'public.example.org@' if userinfo else ''}{host}/latest/meta-data")


@pytest.mark.fuzz
@given(ip=private_v4, which=st.integers(0, 7))
@settings(max_examples=EXAMPLES or 150, deadline=None, database=None)
def test_every_ipv6_form_that_carries_a_private_ipv4_address_is_refused(ip, which) -> None:
    carrier = _ipv6_carriers(ip)[which]
    if int(ipaddress.IPv6Address(carrier)) > 1:  # "::0.0.0.0" and "::0.0.0.1" are :: and ::1
        assert ip in embedded_ipv4(ipaddress.IPv6Address(carrier))
    _refused(f"http://[{carrier}]:8080/")


@pytest.mark.fuzz
@given(network=st.sampled_from(PRIVATE_V6), offset=st.integers(0, 2**64))
@settings(max_examples=EXAMPLES or 60, deadline=None, database=None)
def test_private_ipv6_addresses_are_refused(network, offset) -> None:
    ip = ipaddress.IPv6Address(int(network.network_address) + offset % network.num_addresses)
    _refused(f"http://[{ip}]/")


@pytest.mark.parametrize("url", [
    "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::]/latest",      # the cases
    "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",                     # Teredo -> 127.0.0.1
    "http://[fe80::1%25eth0]/", "http://[fd00:ec2::254]/",
    "http://0177.0.0.1/", "http://0x7f.1/", "http://2130706433/", "http://127.1/",
    "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",   # IDNA: 'localhost'
    "http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/",  # full-width 127.0.0.1
    "http://user@127.0.0.1/", "http://127.0.0.1:80@127.0.0.1/",
])
def test_known_tricks_are_refused(url: str) -> None:
    _refused(url)


def test_a_public_address_inside_6to4_is_judged_by_both() -> None:
    public = ipaddress.IPv4Address("93.184.216.34")
    carrier = ipaddress.IPv6Address((0x2002 << 112) | (int(public) << 80))
    assert embedded_ipv4(carrier) == [public]
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1111")) == []


@pytest.mark.parametrize("host", ["[::ffff:93.184.216.34]", "[64:ff9b::93.184.216.34]",
                                  "[64:ff9b::5db8:d822]", "93.184.216.34"])
def test_a_public_ipv4_address_spelled_in_ipv6_is_fetched(host: str) -> None:
    """A DNS64 resolver (IPv6-only networks) answers 64:ff9b::a.b.c.d for every IPv4-only
    site: the guard judges those, and IPv4-mapped addresses, by the IPv4 address."""
    import asyncio

    address = asyncio.run(check_url_is_public(f"http://{host}/a.jpg"))
    assert ipaddress.ip_address(address) in (ipaddress.ip_address("93.184.216.34"),
                                             ipaddress.ip_address(host.strip("[]")))


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/a.jpg", "http://[::1/a.jpg",
                                 "http://example.org:0/a.jpg", "http://a\x00b/x.jpg",
                                 "http://a..b/x.jpg", f"http://{'a' * 70}.org/x.jpg"])
def test_a_url_that_does_not_parse_is_an_error_of_the_tree_everywhere(url: str) -> None:
    with pytest.raises(RIRError) as loaded:
        rir.load_image(url)
    assert "Traceback" not in str(loaded.value) and url.split("/")[2][:20] in str(loaded.value)
    import asyncio

    with pytest.raises(RIRError):
        asyncio.run(aenrich_hit(SearchHit(title="t", url=url)))
    fetched = asyncio.run(afetch_thumbnails([SearchHit(title="t", url="https://e.org/",
                                                       thumbnail_url=url)]))
    assert fetched == []  # skipped (and logged), never an exception

"""Decoding a results page read off the network (the browser-free parts)."""

from __future__ import annotations

import base64

from rir.engines.google_lens.network_read import _decode

PAGE = "<html><body><p>Caf\u00e9 \u00b7 \u2014 Stra\u00dfe</p></body></html>"


def body(data: bytes) -> dict[str, object]:
    return {"body": base64.b64encode(data).decode("ascii"), "base64Encoded": True}


def test_text_bodies_pass_through() -> None:
    assert _decode({"body": PAGE, "base64Encoded": False}, {}) == PAGE


def test_charset_of_the_content_type_is_used() -> None:
    headers = {"content-type": 'text/html; charset="windows-1252"'}
    assert _decode(body(PAGE.encode("cp1252")), headers) == PAGE


def test_utf8_without_a_charset() -> None:
    assert _decode(body(PAGE.encode("utf-8")), {"content-type": "text/html"}) == PAGE


def test_unknown_charset_falls_back_to_utf8() -> None:
    headers = {"content-type": "text/html; charset=x-no-such-charset"}
    assert _decode(body(PAGE.encode("utf-8")), headers) == PAGE


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    decoded = _decode(body(b"<p>ok \xff\xfe</p>"), {"content-type": "text/html; charset=utf-8"})
    assert decoded.startswith("<p>ok ") and "\ufffd" in decoded

"""rir.inputs.images: every input kind, every rejection, and URL fetching with the SSRF guard."""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import itertools
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image

import rir.inputs.urlfetch as urlfetch
from rir import QueryImage, aload_image, load_image
from rir.errors import ImageFetchError, InvalidImageError, RIRError, UnsafeURLError
from tests.helpers import LocalServer, Route
from tests.images import jpeg_with_orientation, photo, png_header_only

JPEG = photo(64, 48)


# -- every input kind ---------------------------------------------------------------------------


def _check(image: QueryImage, data: bytes | None = None) -> None:
    assert image.width == 64 and image.height == 48
    assert image.mime_type in ("image/jpeg", "image/png")
    assert image.sha256 == hashlib.sha256(image.data).hexdigest()
    if data is not None:
        assert image.data == data


def test_bytes_bytearray_memoryview() -> None:
    for source in (JPEG, bytearray(JPEG), memoryview(JPEG)):
        _check(load_image(source), JPEG)


def test_path_as_str_and_pathlib(tmp_path: Path) -> None:
    file = tmp_path / "photo.jpg"
    file.write_bytes(JPEG)
    for source in (str(file), file):
        image = load_image(source)
        _check(image, JPEG)
        assert image.path == file
        assert image.filename == "photo.jpg"


def test_file_url_is_a_local_path(tmp_path: Path) -> None:
    file = tmp_path / "with space.jpg"
    file.write_bytes(JPEG)
    _check(load_image("file://" + quote(str(file))), JPEG)


def test_file_object() -> None:
    _check(load_image(io.BytesIO(JPEG)), JPEG)


def test_pil_image_and_numpy_array() -> None:
    pil = Image.open(io.BytesIO(JPEG))
    _check(load_image(pil))
    array = np.asarray(pil)
    _check(load_image(array))
    rgba = Image.new("RGBA", (64, 48), (255, 0, 0, 128))
    assert load_image(rgba).mime_type == "image/png"  # transparency stays lossless


def test_data_uri_base64_and_percent_encoded() -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    image = load_image(uri)
    _check(image, JPEG)
    assert image.as_data_uri() == uri
    png = photo(64, 48, "PNG")
    _check(load_image("data:image/png," + quote(png)), png)
    urlsafe = "data:image/png;base64," + base64.urlsafe_b64encode(png).decode().rstrip("=")
    _check(load_image(urlsafe), png)


def test_query_image_passes_through() -> None:
    image = load_image(JPEG)
    assert load_image(image) is image


def test_every_supported_format() -> None:
    for fmt, mime in [("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif"),
                      ("BMP", "image/bmp"), ("TIFF", "image/tiff"), ("JPEG", "image/jpeg")]:
        assert load_image(photo(64, 48, fmt)).mime_type == mime


def test_exif_orientation_is_applied() -> None:
    image = load_image(jpeg_with_orientation(80, 40, orientation=6))  # rotate 90 degrees
    assert (image.width, image.height) == (40, 80)
    assert image.to_pil().getexif().get(0x0112, 1) == 1


def test_downscaled_copy_for_upload() -> None:
    big = load_image(photo(3000, 2000, "PNG"))
    small = big.downscaled(1000, max_bytes=200_000)
    assert max(small.width, small.height) == 1000
    assert small.mime_type == "image/jpeg" and len(small.data) <= 200_000
    assert load_image(JPEG).downscaled(1000) is not None


def test_repr_has_no_bytes() -> None:
    text = repr(load_image(JPEG))
    assert "image/jpeg" in text and "64x48" in text and len(text) < 200


async def test_async_twin_and_sync_inside_a_running_loop() -> None:
    image = await aload_image(JPEG)
    _check(image, JPEG)
    _check(load_image(JPEG), JPEG)  # the sync twin works where a loop is running (Jupyter)


# -- rejections ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (b"hello, this is text", "not an image"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML page"),
        (b"", "holds no data"),
        (JPEG[: len(JPEG) // 2], "truncated"),
        (png_header_only(60_000, 60_000), "decompression bomb"),
        ("data:image/png;base64,@@not-base64@@", "not valid base64"),
        ("data:image/png;base64", "no ','"),
        ("data:text/plain;base64,aGVsbG8=", "not an image type"),
        ("ftp://example.com/a.jpg", "Unsupported URL scheme"),
        ("", "empty string"),
        (12345, "Unsupported image input"),
    ],
)
def test_rejections_are_typed_and_explain(source: object, words: str) -> None:
    with pytest.raises(InvalidImageError) as info:
        load_image(source)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_unsupported_formats_are_named() -> None:
    for fmt in ("ICO", "PPM"):
        with pytest.raises(InvalidImageError, match=f"{fmt}.*not supported"):
            load_image(photo(32, 32, fmt))


def test_pixel_cap() -> None:
    with pytest.raises(InvalidImageError, match="megapixels"):
        load_image(photo(2000, 1000, "PNG"), max_pixels=1_000_000)


def test_byte_cap_for_bytes_paths_and_data_uris(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match="limit"):
        load_image(JPEG, max_bytes=100)
    file = tmp_path / "a.jpg"
    file.write_bytes(JPEG)
    with pytest.raises(InvalidImageError, match="limit"):
        load_image(file, max_bytes=100)
    with pytest.raises(InvalidImageError, match="limit"):
        load_image("data:image/jpeg;base64," + base64.b64encode(JPEG).decode(), max_bytes=100)


def test_missing_file_directory_and_disallowed_local_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match="No such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(InvalidImageError, match="not a regular file"):
        load_image(tmp_path)
    file = tmp_path / "a.jpg"
    file.write_bytes(JPEG)
    with pytest.raises(InvalidImageError, match="Local files are not allowed"):
        load_image(str(file), allow_local_files=False)


def test_an_image_extension_does_not_make_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_text("I am not a JPEG")
    with pytest.raises(InvalidImageError, match="not an image"):
        load_image(fake)


# -- URLs ---------------------------------------------------------------------------------------


def test_url_fetch(local_server: LocalServer) -> None:
    url = local_server.route("/a.jpg", Route(body=JPEG, headers={"Content-Type": "image/jpeg"}))
    image = load_image(url, allow_private_urls=True)
    _check(image, JPEG)
    assert image.url == url
    octet = local_server.route("/b", Route(body=JPEG,
                                           headers={"Content-Type": "application/octet-stream"}))
    _check(load_image(octet, allow_private_urls=True), JPEG)


def test_url_failures(local_server: LocalServer) -> None:
    html = local_server.route("/page", Route(body=b"<html>hi</html>",
                                             headers={"Content-Type": "text/html"}))
    with pytest.raises(ImageFetchError, match="HTML page"):
        load_image(html, allow_private_urls=True)
    with pytest.raises(ImageFetchError, match="HTTP 404"):
        load_image(local_server.url("/missing.jpg"), allow_private_urls=True)
    slow = local_server.route("/slow.jpg", Route(body=JPEG, delay_s=3,
                                                 headers={"Content-Type": "image/jpeg"}))
    with pytest.raises(ImageFetchError, match="Timed out"):
        load_image(slow, allow_private_urls=True, timeout_s=0.5)
    loop = local_server.route("/loop", Route(status=302, headers={"Location": "/loop"}))
    with pytest.raises(ImageFetchError, match="redirected more than"):
        load_image(loop, allow_private_urls=True)


def test_url_byte_cap_while_streaming(local_server: LocalServer) -> None:
    declared = local_server.route("/declared.jpg", Route(body=b"x" * 5000,
                                                         headers={"Content-Type": "image/jpeg"}))
    with pytest.raises(ImageFetchError, match="over the 1,000-byte limit"):
        load_image(declared, allow_private_urls=True, max_bytes=1000)
    chunks = (b"y" * 1024 for _ in range(1000))  # 1 MB with no Content-Length
    streamed = local_server.route("/stream.jpg", Route(body=chunks, send_length=False,
                                                       headers={"Content-Type": "image/jpeg"}))
    with pytest.raises(ImageFetchError, match="more than the 10,000-byte limit"):
        load_image(streamed, allow_private_urls=True, max_bytes=10_000)


def test_loopback_urls_are_refused_by_default(local_server: LocalServer) -> None:
    url = local_server.route("/a.jpg", Route(body=JPEG, headers={"Content-Type": "image/jpeg"}))
    with pytest.raises(UnsafeURLError, match="loopback") as info:
        load_image(url)
    assert "allow_private_urls=True" in str(info.value)
    with pytest.raises(UnsafeURLError):
        load_image(local_server.url("/a.jpg", host="localhost"))
    assert not local_server.requests  # refused before connecting


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.9", True), ("192.168.1.1", True),
        ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True),
        ("fe80::1", True), ("fd00:ec2::254", True), ("::ffff:127.0.0.1", True),
        ("224.0.0.1", True), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
    ],
)
def test_address_classification(address: str, blocked: bool) -> None:
    assert (urlfetch._blocked_reason(ipaddress.ip_address(address)) is not None) is blocked


@pytest.fixture
def fake_public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """'public.example' resolves to the test server (treated as public); others as given."""
    names = {"public.example": ["127.0.0.1"], "internal.example": ["192.168.7.7"]}
    real_resolve, real_reason = urlfetch._resolve, urlfetch._blocked_reason

    async def resolve(host: str, port: int) -> list[str]:
        return names.get(host) or await real_resolve(host, port)

    def reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        return None if str(ip) == "127.0.0.1" else real_reason(ip)

    monkeypatch.setattr(urlfetch, "_resolve", resolve)
    monkeypatch.setattr(urlfetch, "_blocked_reason", reason)


@pytest.mark.usefixtures("fake_public_dns")
def test_connection_is_pinned_to_the_checked_address(local_server: LocalServer) -> None:
    local_server.route("/a.jpg", Route(body=JPEG, headers={"Content-Type": "image/jpeg"}))
    url = local_server.url("/a.jpg", host="public.example")
    _check(load_image(url), JPEG)
    request = local_server.requests[-1]
    assert request.path == "/a.jpg"
    assert request.headers["host"] == f"public.example:{local_server.port}"


@pytest.mark.usefixtures("fake_public_dns")
@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/",
                                    "http://10.0.0.7/a.jpg", "http://internal.example/a.jpg",
                                    "http://[::1]/a.jpg", "file:///etc/passwd"])
def test_every_redirect_hop_is_checked(local_server: LocalServer, target: str) -> None:
    local_server.route("/hop", Route(status=302, headers={"Location": target}))
    with pytest.raises(UnsafeURLError, match="Refusing URL"):
        load_image(local_server.url("/hop", host="public.example"))
    assert [r.path for r in local_server.requests] == ["/hop"]


def test_errors_share_one_base() -> None:
    for cls in (InvalidImageError, ImageFetchError, UnsafeURLError):
        assert issubclass(cls, RIRError)


def test_each_input_kind_is_named_with_a_singular_noun_and_no_doubled_word() -> None:
    messages = []
    for bad in (b"12345678", bytearray(b"not an image"), "file://other-host/x.jpg",
                "data:image/png;base64,AAAA", io.BytesIO(b"garbage")):
        with pytest.raises(InvalidImageError) as caught:
            load_image(bad)
        messages.append(str(caught.value))
    assert messages[0].startswith("The byte string (8 bytes) is not an image")
    assert "URL URL" not in messages[2] and messages[2].startswith("The URL 'file://other-host")
    for message in messages:
        words = message.split()
        assert not any(a == b for a, b in itertools.pairwise(words)), message
        assert " are not an image" not in message

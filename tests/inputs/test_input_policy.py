"""The input policy: one frozen object says which image inputs are read, and the limits.

Local files are read, refused, or read only under allowed folders (symlinks and ``..``
resolved first); the same rule covers a ``str`` path, a ``Path`` and a ``file://`` URL;
private URLs are refused unless allowed; bytes and pixel caps and the keywords of 0.1
(``allow_local_files=...``) build a policy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rir import InputPolicy, load_image
from rir.errors import ConfigurationError, ImageTooLargeError, InvalidImageError, UnsafeURLError
from rir.inputs.policy import DEFAULT_MAX_BYTES, input_policy
from tests.images import photo

REFUSED = "Local files are not allowed here"
OUTSIDE = "outside the folders local images may be read from"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """(an allowed folder holding a.jpg, a folder beside it holding secret.jpg)."""
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (allowed / "a.jpg").write_bytes(photo())
    (other / "secret.jpg").write_bytes(photo(32, 32))
    return allowed, other


def forms(path: Path) -> list[object]:
    return [str(path), path, path.as_uri()]


def test_the_default_reads_local_files_and_refuses_private_urls() -> None:
    policy = InputPolicy()
    assert policy.allow_local_files is True and policy.reads_local_files
    assert policy.allow_private_urls is False and policy.max_bytes == DEFAULT_MAX_BYTES
    with pytest.raises(UnsafeURLError):
        load_image("http://127.0.0.1:9/a.jpg", policy=policy)


def test_untrusted_refuses_every_form_of_a_local_file(folders: tuple[Path, Path]) -> None:
    allowed, _ = folders
    policy = InputPolicy.untrusted()
    assert policy.allow_local_files is False and not policy.reads_local_files
    for form in forms(allowed / "a.jpg"):
        with pytest.raises(InvalidImageError, match=REFUSED):
            load_image(form, policy=policy)
    assert load_image(photo(), policy=policy).width == 64  # bytes are not files


def test_allowed_folders_read_inside_and_refuse_outside(folders: tuple[Path, Path]) -> None:
    allowed, other = folders
    policy = InputPolicy.untrusted(allowed_folders=[allowed])
    assert policy.allowed_folders == (allowed.resolve(),) and policy.reads_local_files
    for form in forms(allowed / "a.jpg"):
        assert load_image(form, policy=policy).path == (allowed / "a.jpg").resolve()
    for form in forms(other / "secret.jpg"):
        with pytest.raises(InvalidImageError, match=OUTSIDE) as refused:
            load_image(form, policy=policy)
        assert str(allowed.resolve()) in str(refused.value)


def test_dot_dot_and_symlinks_are_resolved_before_the_check(folders: tuple[Path, Path]) -> None:
    allowed, other = folders
    policy = InputPolicy.untrusted(allowed_folders=allowed)
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        load_image(f"{allowed}/../other/secret.jpg", policy=policy)
    (allowed / "link.jpg").symlink_to(other / "secret.jpg")
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        load_image(allowed / "link.jpg", policy=policy)
    (allowed / "sub").symlink_to(other, target_is_directory=True)
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        load_image(allowed / "sub" / "secret.jpg", policy=policy)
    # a link from outside into the folder is what it points at: allowed
    (other / "in.jpg").symlink_to(allowed / "a.jpg")
    assert load_image(other / "in.jpg", policy=policy).width == 64


def test_a_folder_prefix_is_not_the_folder(tmp_path: Path) -> None:
    allowed, sibling = tmp_path / "photos", tmp_path / "photos-private"
    sibling.mkdir()
    (sibling / "x.jpg").write_bytes(photo())
    with pytest.raises(InvalidImageError, match=OUTSIDE):
        load_image(sibling / "x.jpg", policy=InputPolicy(allow_local_files=[allowed]))


def test_caps_apply_to_every_input(folders: tuple[Path, Path]) -> None:
    allowed, _ = folders
    small = InputPolicy(max_bytes=100)
    for form in (allowed / "a.jpg", photo()):
        with pytest.raises(ImageTooLargeError):
            load_image(form, policy=small)
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        load_image(photo(200, 200), policy=InputPolicy(max_pixels=1000))


def test_keywords_override_the_policy_and_none_means_not_given() -> None:
    base = InputPolicy.untrusted(max_bytes=1000)
    assert input_policy(None, base) is base
    assert input_policy(base, InputPolicy(), allow_local_files=None) is base
    changed = input_policy(base, InputPolicy(), allow_private_urls=True, timeout_s=3)
    assert (changed.allow_private_urls, changed.timeout_s, changed.max_bytes) == (True, 3, 1000)
    assert changed.allow_local_files is False and base.allow_private_urls is False
    # the 0.1 keywords of the loader still work, and override the policy given with them
    with pytest.raises(ImageTooLargeError):
        load_image(photo(), max_bytes=100)
    with pytest.raises(ImageTooLargeError):
        load_image(photo(), policy=InputPolicy(), max_bytes=100)


def test_bad_settings_are_configuration_errors_naming_the_setting() -> None:
    for settings, named in (({"max_bytes": 0}, "max_bytes"), ({"timeout_s": -1}, "timeout_s"),
                            ({"max_redirects": -1}, "max_redirects"),
                            ({"allow_private_urls": "yes"}, "allow_private_urls"),
                            ({"allow_local_files": 3}, "allow_local_files"),
                            ({"allow_local_files": [""]}, "folders")):
        with pytest.raises(ConfigurationError, match=named):
            InputPolicy(**settings)
    with pytest.raises(ConfigurationError, match="Unknown input policy setting"):
        InputPolicy().updated({"allow_urls": True})
    with pytest.raises(ConfigurationError, match="folders"):
        InputPolicy.untrusted(allowed_folders=True)
    with pytest.raises(ConfigurationError, match=r"policy must be an rir\.InputPolicy"):
        input_policy({"allow_local_files": False}, InputPolicy())  # type: ignore[arg-type]


def test_frozen_with_a_readable_repr(tmp_path: Path) -> None:
    policy = InputPolicy.untrusted(allowed_folders=[tmp_path, tmp_path], max_bytes=2_000_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_bytes = 1  # type: ignore[misc]
    assert repr(policy) == (
        f"InputPolicy(allow_local_files=[{str(tmp_path.resolve())!r}], "
        "allow_private_urls=False, max_bytes=2_000_000, max_pixels=50_000_000, "
        "timeout_s=20.0, max_redirects=5)")
    assert policy == InputPolicy(allow_local_files=str(tmp_path), max_bytes=2_000_000)
    assert hash(policy) == hash(InputPolicy(allow_local_files=[tmp_path], max_bytes=2_000_000))

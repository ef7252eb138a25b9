"""Issue 13 items 3-5: the CLI as a new user meets it.

Failed commands create nothing; diagnostics go to stderr, one unwrapped line each;
exit codes say whether anything failed; hints name flags that exist; several images
per search; help for every option.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from rir.cli import build_parser
from rir.cli._error_lines import for_cli
from tests.cli.helpers import run, write_demo_photos

LONG = "a-rather-long-folder-name-that-a-terminal-would-wrap-" * 2


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("photos") / LONG
    folder.mkdir()
    return write_demo_photos(folder)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- item 3: a command that fails on its arguments creates or changes nothing ------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["index", "add", "{tmp}/nope_dir", "--index", "{tmp}/x.rir"],
        ["index", "add", "{tmp}/empty", "--index", "{tmp}/sub/deeper/x.rir"],
        ["index", "add", "{folder}", "--title", "One title", "--index", "{tmp}/x.rir"],
        ["index", "add", "{photo}", "--captions", "{tmp}/c.jsonl", "--index", "{tmp}/x.rir"],
        ["index", "add", "{folder}", "--captions", "{tmp}/none.jsonl", "--index", "{tmp}/x.rir"],
        ["index", "add", "{tmp}/notimage.jpg", "--index", "{tmp}/x.rir"],
        ["index", "add", "{photo}", "--title", " ", "--index", "{tmp}/x.rir"],
        ["index", "search", "{photo}", "--index", "{tmp}/x.rir"],
        ["index", "stats", "--index", "{tmp}/x.rir"],
        ["search", "{photo}", "--index", "{tmp}/x.rir"],
    ],
)
def test_failed_command_leaves_no_file(capsys, tmp_path: Path, photos: list[Path],
                                       argv: list[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "c.jsonl").write_text('{"file": "a.jpg", "title": "A"}\n')
    (tmp_path / "notimage.jpg").write_text("not an image")
    before = files_in(tmp_path)
    values = {"tmp": tmp_path, "folder": photos[0].parent, "photo": photos[0]}
    code, out, err = run(capsys, *[a.format(**values) for a in argv])
    assert code == 2, err
    assert err.startswith("rir: ") and err.count("\n") == 1 and out == ""
    assert files_in(tmp_path) == before
    assert not (tmp_path / "empty").joinpath("x.rir").exists()


def test_failed_add_leaves_an_existing_index_unchanged(capsys, tmp_path: Path,
                                                       photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    assert run(capsys, "index", "add", str(photos[0]), "--index", str(index))[0] == 0
    stats = run(capsys, "index", "stats", "--index", str(index))[1]
    (tmp_path / "empty").mkdir()
    for bad in (tmp_path / "nope", tmp_path / "empty"):
        assert run(capsys, "index", "add", str(bad), "--index", str(index))[0] == 2
    assert index.is_file() and run(capsys, "index", "stats", "--index", str(index))[1] == stats


# -- item 4: stderr, exit codes, hints, plurals ---------------------------------------------------


def test_add_folder_with_failures(capsys, tmp_path: Path, photos: list[Path]) -> None:
    folder = tmp_path / LONG
    folder.mkdir()
    for photo in photos:
        (folder / photo.name).write_bytes(photo.read_bytes())
    (folder / "broken.jpg").write_text("this is not a JPEG")
    code, out, err = run(capsys, "index", "add", str(folder), "--index", str(tmp_path / "i.rir"))
    assert code == 1  # something failed, the rest was indexed
    assert "3 images indexed, 1 failed" in out and "holds 3 images" in out
    assert "skipped" not in out and "broken.jpg" not in out
    skipped = [line for line in err.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and str(folder / "broken.jpg") in skipped[0]  # whole, unwrapped
    assert len(skipped[0]) > 120


def test_add_all_ok_and_one_image_plural(capsys, tmp_path: Path, photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    code, out, err = run(capsys, "index", "add", str(photos[0]), "--index", str(index),
                         "--title", "A photo", "--url", "https://example.org/a?id=1")
    assert code == 0 and err == ""
    assert "1 image indexed, 0 failed" in out and "now holds 1 image." in out
    code, out, _ = run(capsys, "index", "search", str(photos[0]), "--index", str(index), "--json")
    hit = json.loads(out)["hits"][0]
    assert code == 0 and hit["title"] == "A photo" and hit["url"] == "https://example.org/a?id=1"


def test_one_image_title_defaults_to_its_sidecar_then_its_name(capsys, tmp_path: Path,
                                                               photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    photo = tmp_path / "eiffel_at_dusk.jpg"
    photo.write_bytes(photos[0].read_bytes())
    assert run(capsys, "index", "add", str(photo), "--index", str(index))[0] == 0
    title = json.loads(run(capsys, "index", "search", str(photo), "--index", str(index),
                           "--json")[1])["hits"][0]["title"]
    assert "eiffel" in title.lower()
    photo.with_suffix(".txt").write_text("The Eiffel Tower\nParis, at dusk")
    assert run(capsys, "index", "add", str(photo), "--index", str(index))[0] == 0
    hits = json.loads(run(capsys, "index", "search", str(photo), "--index", str(index),
                          "--json")[1])["hits"]
    # No url: one page per (image, title), so the image is now on two pages.
    assert {(h["title"], h["snippet"]) for h in hits} == {
        (title, None), ("The Eiffel Tower", "Paris, at dusk")}


def test_size_hint_names_the_flag_that_fixes_it(capsys, tmp_path: Path,
                                                photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    run(capsys, "index", "add", str(photos[0]), "--index", str(index))
    size = photos[0].stat().st_size
    for command in (["search"], ["index", "search"]):
        code, _, err = run(capsys, *command, str(photos[0]), "--index", str(index),
                           "--max-bytes", "1000")
        assert code == 2 and "raise --max-bytes" in err and "max_bytes" not in err
        code, out, _ = run(capsys, *command, str(photos[0]), "--index", str(index),
                           "--max-bytes", str(size), "--json")
        assert code == 0 and json.loads(out)["hits"]


def test_for_cli_turns_every_python_hint_into_an_existing_flag() -> None:
    """Grep the library for hints naming Python options; each must read right at the CLI."""
    root = Path(__file__).resolve().parents[2] / "rir"
    hint = re.compile(r"raise (max_bytes|max_pixels)|allow_private_urls=True")
    messages = [line for file in root.rglob("*.py") if "cli" not in file.parts
                for line in file.read_text().splitlines()
                if hint.search(line) and '"' in line and "def " not in line]
    assert len(messages) >= 5  # the grep itself still finds them
    parser = build_parser()
    search_flags = _flags(parser, "search")
    add_flags = _flags(parser, "index", "add")
    for message in messages:
        for_search = for_cli(message, search_flags)
        assert not hint.search(for_search), for_search
        for flag in re.findall(r"--[a-z-]+", for_search):
            assert flag in search_flags, (flag, message)
        assert not re.search(r"raise (max_bytes|max_pixels|--max)", for_cli(message, add_flags))
    assert for_cli("pass a smaller image or raise max_bytes.", add_flags) == \
        "pass a smaller image."
    assert for_cli("pass api_key=... or set SERPAPI_API_KEY", search_flags) == \
        "pass -o api_key=... or set SERPAPI_API_KEY"


def _flags(parser: argparse.ArgumentParser, *command: str) -> frozenset[str]:
    return parser.parse_args([*command, "x"] if command[-1] != "stats" else list(command)).flags


def test_argument_errors_are_one_line_exit_2(capsys) -> None:
    for argv in (["index", "search"], ["search", "x.jpg", "-k", "abc"], ["nope"],
                 ["index", "add", "x", "--bogus"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith("rir: error: ") and "--help" in err


# -- item 5: --version, help for every option, several images, long URLs -------------------------


def test_version(capsys) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and re.fullmatch(r"rir \d+\.\d+\S*\n", out)


def _all_parsers(parser: argparse.ArgumentParser, name: str = "rir"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child_name, child in action.choices.items():
                yield from _all_parsers(child, f"{name} {child_name}")


def test_every_option_of_every_command_has_help(capsys) -> None:
    parsers = dict(_all_parsers(build_parser()))
    for name, parser in parsers.items():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
        assert "exit status: 0" in (parser.epilog or ""), name
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--version" in out and "2 bad arguments" in out


def test_several_images_one_block_each(capsys, tmp_path: Path, photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    run(capsys, "index", "add", str(photos[0].parent), "--index", str(index))
    images = [str(photos[0]), str(tmp_path / "missing.jpg"), str(photos[2])]
    for command in (["index", "search"], ["search", "--no-cache"]):
        code, out, err = run(capsys, *command, *images, "--index", str(index), "--json")
        lines = [json.loads(line) for line in out.splitlines()]
        assert code == 1 and [line["query"] for line in lines] == images
        assert lines[0]["hits"][0]["metadata"]["file"] == photos[0].name
        assert lines[1]["error"]["type"] == "InvalidImageError" and "hits" not in lines[1]
        assert lines[2]["hits"][0]["metadata"]["file"] == photos[2].name
        assert f"rir: {images[1]}: error: No such file" in err
        assert "2 of 3 images searched, 1 failed" in err
        code, out, _ = run(capsys, *command, images[0], images[2], "--index", str(index))
        assert code == 0 and "1/2" in out and "2/2" in out and out.count("Best guess") == 2
    code, _, err = run(capsys, "index", "search", images[1], images[1], "--index", str(index))
    assert code == 2  # nothing could be searched, all of it bad input
    code, _, err = run(capsys, "search", *images, "--index", str(index), "--screenshot",
                       str(tmp_path / "s.png"))
    assert code == 2 and "one IMAGE" in err


def test_long_urls_are_cut_in_the_middle_in_tables_whole_in_json(
        capsys, tmp_path: Path, photos: list[Path]) -> None:
    index = tmp_path / "i.rir"
    url = "https://news.example.org/" + "/".join(["section"] * 30) + "/story?id=2&page=7"
    run(capsys, "index", "add", str(photos[0]), "--index", str(index), "--url", url,
        "--title", "A story")
    code, out, _ = run(capsys, "index", "search", str(photos[0]), "--index", str(index))
    row = [line for line in out.splitlines() if "A story" in line and "│" in line]
    assert code == 0 and len(row) == 1
    cell = re.search(r"https://\S+", row[0])
    assert cell and "…" in cell.group(0) and cell.group(0).endswith("page=7")
    assert sum("https://" in line for line in out.splitlines()) == 1  # never wrapped
    code, out, _ = run(capsys, "index", "search", str(photos[0]), "--index", str(index), "--json")
    assert json.loads(out)["hits"][0]["url"] == url


def test_add_where_every_file_fails_creates_no_index(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_text("not a JPEG")
    code, out, err = run(capsys, "index", "add", str(folder), "--index",
                         str(tmp_path / "new" / "x.rir"))
    assert code == 1 and "0 images indexed, 1 failed; no index was created" in out
    assert "a.jpg" in err and not (tmp_path / "new").exists()


def test_an_argument_error_names_its_command_once(capsys) -> None:
    for argv, command in ((["--bogus"], "rir"), (["search", "--bogus", "x.jpg"], "rir search"),
                          (["index", "stats", "--bogus"], "rir index stats"),
                          (["index", "search"], "rir index search")):
        code, _, err = run(capsys, *argv)
        assert code == 2 and err.count("\n") == 1, err
        assert not err.startswith("rir: error: rir"), err  # never "rir: error: rir: ..."
        assert err.rstrip().endswith(f"(see '{command} --help')"), err

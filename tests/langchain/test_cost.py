"""Context size per mode: OpenAI image tokens, tiktoken or characters, the benchmark."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import rir.prompting.cost as cost
from rir.prompting.build import PromptOptions, abuild_context_prompt
from rir.prompting.cost import ameasure_modes, image_tokens, measure_prompt
from rir.results.extract import postprocess
from tests.langchain.helpers import web_index

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("size", "model", "expected"), [
    ((1024, 1024), "gpt-4o", 765),            # OpenAI's worked example
    ((2048, 4096), "openai:gpt-4o", 1105),    # 768x1536 -> 6 tiles
    ((264, 302), "gpt-4o", 255),              # small images are not upscaled
    ((1024, 1024), "gpt-4o-mini", 2833 + 4 * 5667),
    ((1024, 1024), "anthropic:claude-sonnet-4-5", None),  # unknown pricing stays unknown
])
def test_openai_image_tokens(size, model, expected) -> None:
    assert image_tokens(*size, model) == expected


def test_low_detail_costs_the_base() -> None:
    assert image_tokens(4000, 3000, "gpt-4o", detail="low") == 85


class _WordEncoding:
    name = "fake_words"

    def encode(self, text: str, disallowed_special: object = ()) -> list[str]:
        return text.split()


async def test_modes_compared_for_one_result(query_image, monkeypatch) -> None:
    monkeypatch.setattr(cost, "_encoding", lambda name, download=False: _WordEncoding())
    result = postprocess(await web_index().asearch(query_image, k=5))
    sizes = await ameasure_modes("Who is this?", image=query_image, result=result, max_hits=5)
    assert list(sizes) == ["text", "screenshot", "thumbnails", "none"]
    assert [sizes[m].images for m in sizes] == [1, 2, 1 + len(result.hits), 1]
    assert sizes["none"].context_chars == 0
    assert sizes["text"].context_chars > sizes["thumbnails"].context_chars > 0
    for size in sizes.values():
        assert size.tokenizer == "fake_words" and size.text_tokens and size.text_tokens > 0
        assert size.total_tokens == size.text_tokens + size.image_tokens
    assert sizes["thumbnails"].image_tokens > sizes["text"].image_tokens
    assert "tokens of text (fake_words)" in sizes["text"].describe()


async def test_characters_when_no_tokenizer_loads(query_image, monkeypatch) -> None:
    monkeypatch.setattr(cost, "_encoding", lambda name, download=False: None)
    spec = await abuild_context_prompt("Who?", image=query_image, result=None,
                                       options=PromptOptions(context="none"))
    size = measure_prompt(spec, "gpt-4o")
    assert size.text_tokens is None and size.tokenizer == "characters"
    assert size.total_tokens is None and size.image_tokens == 255
    assert size.describe() == f"none: {size.text_chars:,} characters of text + 1 image " \
                              "(~255 tokens)"


def test_unknown_models_and_uncached_encodings_count_characters(monkeypatch,
                                                                 tmp_path: Path) -> None:
    cost._encoding.cache_clear()
    assert cost.count_text_tokens("hi there", "claude-sonnet-4-5") == (None, "characters")
    # an empty tiktoken cache: the chain never downloads; it counts characters
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert cost.count_text_tokens("hi there", "gpt-4o") == (None, "characters")
    cost._encoding.cache_clear()


def test_a_cached_encoding_is_used_without_network(monkeypatch, tmp_path: Path) -> None:
    import hashlib

    tiktoken = pytest.importorskip("tiktoken")
    # the lookup mirrors tiktoken's cache: sha1(blob URL) under TIKTOKEN_CACHE_DIR
    blob = cost._TIKTOKEN_BLOBS["o200k_base"]
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert not cost._tiktoken_cached("o200k_base")
    (tmp_path / hashlib.sha1(blob.encode()).hexdigest()).write_bytes(b"cached")
    assert cost._tiktoken_cached("o200k_base")
    assert tiktoken.encoding_name_for_model("gpt-4o") == "o200k_base"


def test_benchmark_prints_a_row_per_mode(monkeypatch, capsys) -> None:
    # in-process, so the socket guard also covers tiktoken's first-use download
    spec = importlib.util.spec_from_file_location(
        "context_tokens", ROOT / "benchmarks" / "context_tokens.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    monkeypatch.setattr(sys, "argv", ["context_tokens.py", "-k", "4", "--thumbnails", "3"])
    assert benchmark.main() == 0
    table = capsys.readouterr().out.splitlines()[-5:]
    assert table[0].split()[:2] == ["mode", "text"]
    assert [row.split()[0] for row in table[1:]] == ["text", "screenshot", "thumbnails", "none"]
    images = {row.split()[0]: int(row.split()[3]) for row in table[1:]}
    # the saved Lens page (../shared) has thumbnails for every hit; the demo index has 1 hit
    thumbnails = 4 if benchmark.SAVED_LENS_PAGE.is_file() else 2
    assert images == {"text": 1, "screenshot": 2, "thumbnails": thumbnails, "none": 1}

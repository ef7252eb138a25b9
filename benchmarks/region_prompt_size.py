"""What a region search adds to the prompt, and what attaching the crops costs on top.

    python benchmarks/region_prompt_size.py                  # offline: demo collages
    python benchmarks/region_prompt_size.py --model openai:gpt-4o-mini --json

For collages of the demo photos (two side by side, three in a row, a 2x2 grid), searched on
the local demo index, it builds the ``text`` prompt three ways: the whole image only, the
whole image plus each photo's region (hits grouped by region), and the same with
``attach_crops=True`` (each region's crop, at most 512 px a side, after the query image).
It prints the text characters (tokens too, when tiktoken's encoding is cached), the images
and their token cost under OpenAI's tile formula, and the ratio to the whole-image prompt.
The figures decide ``PromptOptions.attach_crops``'s default (see
docs/benchmarks/region-prompt-size.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from rir.prompting.build import PromptOptions, abuild_context_prompt
from rir.prompting.cost import measure_prompt

LAYOUTS = {
    "2 side by side": ["Grace Hopper", "Falcon 9 launching DSCOVR"],
    "3 in a row": ["Grace Hopper", "Falcon 9 launching DSCOVR", "Chelsea the cat"],
    "2x2 grid": ["Grace Hopper", "Falcon 9 launching DSCOVR", "Chelsea the cat",
                 "Cup of coffee"],
}
QUESTION = "Who is the person in the top-left photo, and what is she known for?"


async def measure(model: str, k: int) -> list[dict[str, object]]:
    from rir.demo import build_demo_index, demo_collage
    from rir.search import ReverseImageSearch

    rows: list[dict[str, object]] = []
    async with ReverseImageSearch(build_demo_index(), cache=False) as searcher:
        for layout, titles in LAYOUTS.items():
            image, boxes = demo_collage(titles)
            whole = await searcher.asearch(image, k=k)
            found = await searcher.asearch_regions(image, boxes, k=k)
            variants = [("whole image", whole, None, False), ("regions", None, found, False),
                        ("regions + crops", None, found, True)]
            base = None
            for name, result, regions, crops in variants:
                spec = await abuild_context_prompt(
                    QUESTION, image=image, result=result, regions=regions,
                    options=PromptOptions(context="text", max_hits=k, attach_crops=crops))
                size = measure_prompt(spec, model)
                images = size.image_tokens
                base = base or size
                rows.append({
                    "layout": layout, "prompt": name, "text_chars": size.text_chars,
                    "text_tokens": size.text_tokens, "images": size.images,
                    "image_tokens": images,
                    "chars_vs_whole": round(size.text_chars / base.text_chars, 2),
                    "image_tokens_vs_whole": None if images is None or not base.image_tokens
                    else round(images / base.image_tokens, 2)})
    return rows


def table(rows: list[dict[str, object]]) -> str:
    header = ("layout", "prompt", "text chars", "text tokens", "images", "image tokens",
              "chars x", "image tokens x")
    keys = ("layout", "prompt", "text_chars", "text_tokens", "images", "image_tokens",
            "chars_vs_whole", "image_tokens_vs_whole")
    cells = [header] + [tuple("n/a" if row[k] is None else f"{row[k]:,}" if isinstance(
        row[k], int) else str(row[k]) for k in keys) for row in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(line, widths, strict=True)))
                     for line in cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="openai:gpt-4o", help="whose image prices to use")
    parser.add_argument("-k", type=int, default=5, help="hits per search (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args(argv)
    rows = asyncio.run(measure(args.model, args.k))
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How much each context mode costs, for the same search result.

    python benchmarks/context_tokens.py                      # offline, see below
    python benchmarks/context_tokens.py --image photo.jpg --engine google_lens -k 10
    python benchmarks/context_tokens.py --model openai:gpt-4o-mini --json

Prints, per mode (``none``, ``text``, ``screenshot``, ``thumbnails``), the text
tokens (tiktoken, for OpenAI models, when its encoding can be loaded; else
characters), the number of images and their token cost under OpenAI's tile
formula. Images dominate: choose ``text`` when the titles suffice.

Offline, the result is a real Google Lens results page saved in May 2026
(``../shared/fixtures/lens/lens-visual-matches-2026-05.html``: 60 visual matches
with their thumbnails; ``--lens-html`` picks another saved page), cleaned like
every search result, with the demo portrait standing in for the query image
(the query image costs the same in every mode). Without that file it falls back
to the local demo index. Screenshot mode then uses the rendered results sheet,
as it does for every engine that takes no screenshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from rir.inputs.images import aload_image
from rir.prompting.cost import ameasure_modes, format_table
from rir.prompting.spec import CONTEXT_MODES
from rir.results.extract import postprocess
from rir.results.models import SearchResult

DEMO_QUESTION = "Who is the person in this photo, and what is she known for?"
SAVED_LENS_PAGE = (Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "lens"
                   / "lens-visual-matches-2026-05.html")


def saved_lens_result(path: Path) -> SearchResult:
    """A real Lens results page, parsed and cleaned as a search would."""
    from rir.engines.google_lens import parse_lens_html

    result = parse_lens_html(path.read_text(encoding="utf-8"))
    return postprocess(result.model_copy(update={"engine": "google_lens (saved page)"}))


async def run(args: argparse.Namespace) -> int:
    from rir.demo import build_demo_index, demo_query
    from rir.search import ReverseImageSearch

    lens_html = Path(args.lens_html) if args.lens_html else SAVED_LENS_PAGE
    if args.image:
        query = await aload_image(args.image)
        question = args.question or "What does this image show?"
        async with ReverseImageSearch(args.engine or "auto", cache=not args.no_cache) as searcher:
            result = await searcher.asearch(query, k=args.k)
    elif lens_html.is_file():
        query, question = demo_query()[0], args.question or DEMO_QUESTION
        result = saved_lens_result(lens_html).top(args.k)
    else:
        query, question = demo_query()[0], args.question or DEMO_QUESTION
        async with ReverseImageSearch(build_demo_index(), cache=False) as searcher:
            result = await searcher.asearch(query, k=args.k)
    sizes = await ameasure_modes(question, image=query, result=result, modes=CONTEXT_MODES,
                                 model=args.model, max_hits=args.k, allow_download=True,
                                 max_thumbnails=args.thumbnails)
    if args.json:
        print(json.dumps({mode: size.as_dict() for mode, size in sizes.items()}, indent=2))
        return 0
    print(f"query: {query!r}")
    print(f"engine: {result.engine}, {len(result.hits)} hits, best guess: {result.best_guess!r}")
    tokenizer = next(iter(sizes.values())).tokenizer
    print(f"model: {args.model} (text counted with {tokenizer})\n")
    print(format_table(list(sizes.values())))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", help="query image (path or URL); default: the offline demo")
    parser.add_argument("--engine", help="engine name for --image (default auto)")
    parser.add_argument("--lens-html", help="a saved Google Lens results page to size instead")
    parser.add_argument("--question", help="the question to size the prompt with")
    parser.add_argument("--model", default="openai:gpt-4o", help="model to count tokens for")
    parser.add_argument("-k", type=int, default=10, help="hits in the context (default 10)")
    parser.add_argument("--thumbnails", type=int, default=6,
                        help="thumbnails in thumbnails mode (default 6)")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

"""``rir demo``: the whole reverse-image-RAG pipeline, offline, on the embedded engine."""

from __future__ import annotations

import argparse
import os
import time

from rir.cli._adapters import require_langchain_adapter
from rir.cli._common import escape, plural, positive_int, print_result, stdout
from rir.errors import EngineError
from rir.prompting.spec import CONTEXT_MODES


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Index sample photographs that ship with matplotlib and scikit-image, "
        "search a disguised copy of one (or --image), and show the documents, the best guess "
        "and the exact multimodal prompt. With OPENAI_API_KEY or --model, also ask the model."
    )
    parser.add_argument("--image", default=None, help="search this image instead (path or URL)")
    parser.add_argument("--question", "-q", default=None,
                        help="the question to ask about the image")
    parser.add_argument("--context", choices=CONTEXT_MODES, default="text",
                        help="how search results reach the model (default: text)")
    parser.add_argument("--model", "-m", default=None,
                        help="chat model, e.g. openai:gpt-4o (default when OPENAI_API_KEY is set)")
    parser.add_argument("-k", type=positive_int, default=5, metavar="N",
                        help="number of documents (default 5)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.panel import Panel

    from rir.demo import available_demo_photos, build_demo_index, demo_query
    from rir.inputs.images import load_image
    from rir.prompting.build import build_prompt
    from rir.search import ReverseImageSearch

    started = time.perf_counter()
    index = build_demo_index(screenshot=args.context == "screenshot")
    packages = sorted({photo.package for photo, _ in available_demo_photos()})
    stdout.rule("[bold]1. A local reverse image index")
    stdout.print(f"Indexed {len(index)} real photographs shipped with {', '.join(packages)} "
                 f"in {time.perf_counter() - started:.2f}s (no network, no model weights).")

    if args.image:
        query, described = load_image(args.image), f"{args.image}"
        question = args.question or "What does this image show?"
    else:
        query, described = demo_query()
        question = args.question or "Who is the person in this photo, and what are they known for?"
    stdout.rule("[bold]2. Reverse image search")
    stdout.print(f"Query: {described} ({query.width}x{query.height}, {len(query.data):,} bytes)")
    searcher = ReverseImageSearch(index, cache=False)
    result = searcher.search(query, k=args.k)
    print_result(result, title="Ranked documents")
    for hit in result.hits:
        stdout.print(f"[bold]\\[{hit.position}][/bold] {escape(hit.title)}: "
                     f"{escape(hit.snippet or '')}")

    stdout.rule(f"[bold]3. The multimodal prompt (context mode: {args.context})")
    spec = build_prompt(question, image=query, result=result, mode=args.context)
    # soft_wrap=False: the console's default soft wrap would crop each line at the panel's
    # edge (the system prompt is one long line); the exact prompt is shown whole, wrapped.
    stdout.print(Panel(spec.render_text(), title="exact prompt sent to the model",
                       subtitle=f"{plural(len(spec.images), 'image')}, "
                       f"{plural(spec.context_chars, 'character')} "
                       "of context", expand=False), markup=False, soft_wrap=False)

    stdout.rule("[bold]4. The answer")
    model_name = args.model or ("openai:gpt-4o" if os.environ.get("OPENAI_API_KEY") else None)
    if model_name is None:
        stdout.print("No chat model configured, so the prompt above was not sent. To get an "
                     "answer, set OPENAI_API_KEY (or pass --model provider:name, e.g. "
                     "--model anthropic:claude-sonnet-4-5 with that provider's package and key) "
                     "and run 'rir demo' again.")
        return 0
    require_langchain_adapter("demo")
    from langchain_rir.chat_models import resolve_chat_model
    from langchain_rir.messages import to_langchain_messages

    model = resolve_chat_model(model_name)
    try:
        answer = model.invoke(to_langchain_messages(spec))
    except Exception as exc:  # noqa: BLE001 - provider SDKs raise their own error types
        raise EngineError(f"The model {model_name} failed: {type(exc).__name__}: {exc}",
                          engine=model_name) from None
    stdout.print(Panel(escape(str(answer.content)), title=f"{model_name} answers", expand=False))
    return 0

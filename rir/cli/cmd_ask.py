"""``rir ask IMAGE "QUESTION"``: answer a question about an image with search context."""

from __future__ import annotations

import argparse
import os
import re

from rir.cli._adapters import require_langchain_adapter
from rir.cli._common import (
    add_index_argument,
    parse_engine_options,
    policy_from_args,
    positive_int,
)
from rir.errors import ConfigurationError, EngineError, RIRError
from rir.prompting.spec import CONTEXT_MODES

DEFAULT_MODEL = "openai:gpt-4o"  # langchain_rir.DEFAULT_MODEL, without importing LangChain here


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Search IMAGE, then ask a multimodal chat model QUESTION with the results "
        "as context (the prototype's query_with_image). Needs a chat model: set "
        "OPENAI_API_KEY or pass --model provider:name; --dry-run prints the prompt instead."
    )
    parser.add_argument("image", metavar="IMAGE", help="a local path, http(s) URL or data: URI")
    parser.add_argument("question", metavar="QUESTION", help="what to ask about the image")
    parser.add_argument("--model", "-m", default=None,
                        help="chat model as provider:name (default openai:gpt-4o when "
                        "OPENAI_API_KEY is set)")
    parser.add_argument("--engine", "-e", default=None,
                        help="engine name (default: local with --index, else auto)")
    parser.add_argument("--context", "-c", choices=CONTEXT_MODES, default="text",
                        help="how the results reach the model (default: text)")
    parser.add_argument("-k", type=positive_int, default=10, metavar="N",
                        help="number of results (default 10)")
    parser.add_argument("--show", action="store_true",
                        help="draw the query beside the top hits (PNG when there is no display)")
    parser.add_argument("--headful", action="store_true",
                        help="browser engines: show the browser window")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the exact prompt and its size; call no model. It searches "
                        "only --index or the engine named with --engine (never the web unless "
                        "asked)")
    parser.add_argument("--sources", action="store_true",
                        help="print the numbered sources after the answer")
    parser.add_argument("--enrich", type=int, default=0, metavar="N",
                        help="fetch the top N result pages for image captions")
    parser.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                        help="engine option, repeatable (e.g. -o hl=en)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--allow-private-urls", action="store_true",
                        help="allow image URLs on private networks / localhost")
    add_index_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    model = args.model or (DEFAULT_MODEL if os.environ.get("OPENAI_API_KEY") else None)
    if model is None and not args.dry_run:
        raise ConfigurationError(
            "no chat model configured: set OPENAI_API_KEY, or pass --model provider:name "
            "(e.g. anthropic:claude-sonnet-4-5 with its package and key), or use --dry-run "
            "to print the prompt without calling a model."
        )
    require_langchain_adapter("ask")
    from langchain_rir.chain import aprepare_prompt, create_rir_chain
    from langchain_rir.chat_models import resolve_chat_model
    from langchain_rir.documents import format_documents
    from langchain_rir.retriever import ReverseImageRetriever
    from rir._runtime import run_sync
    from rir.engines import display_options
    from rir.prompting.cost import measure_prompt

    llm = resolve_chat_model(model) if model is not None else None  # fail before searching
    engine = args.engine or ("local" if args.index else "auto")
    options = parse_engine_options(args.option)
    if args.index is not None:
        options.setdefault("path", str(args.index))
    retriever = ReverseImageRetriever(
        engine=engine, k=args.k, policy=policy_from_args(args), cache=not args.no_cache,
        enrich_captions=args.enrich,
        engine_options=display_options(engine, headless=not args.headful,
                                       screenshot=args.context == "screenshot", options=options),
    )
    try:
        if llm is None:
            # A dry run searches only what was asked for: an index, or a named engine.
            searches = args.index is not None or args.engine is not None
            prepared = run_sync(aprepare_prompt(
                retriever, args.image, args.question,
                context=args.context if searches else "none", k=args.k,
                search_options={"show_result": args.show}))
            if not searches and args.context != "none":
                print(f"# --dry-run did not search: the default engine ('{engine}') would "
                      "query the web. Pass --engine NAME (e.g. --engine google_lens) or "
                      "--index PATH to include search results; the prompt without them is:\n")
            print(prepared.spec.render_text())  # plain print: the exact text, unwrapped
            size = measure_prompt(prepared.spec, model or DEFAULT_MODEL, allow_download=True)
            print(f"\n# context size as {model or DEFAULT_MODEL} would count it: "
                  f"{size.describe()}")
            print("# --dry-run: no model was called.")
            return 0
        chain = create_rir_chain(llm, retriever, context=args.context, k=args.k).with_sources()
        try:
            output = chain.invoke({"image": args.image, "question": args.question,
                                   "search": {"show_result": args.show}})
        except RIRError:
            raise
        except Exception as exc:  # noqa: BLE001 - provider SDKs raise their own error types
            raise EngineError(f"The model {model} failed: {type(exc).__name__}: "
                              f"{_redact_secrets(str(exc))}", engine=model) from None
    finally:
        retriever.close()
    print(output["answer"])
    if args.sources:
        print()
        print(format_documents(output["documents"], best_guess=output["best_guess"]))
    return 0


_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{3,}|\bAIza[0-9A-Za-z_-]{10,}")


def _redact_secrets(text: str) -> str:
    """Provider errors can echo the API key ("Incorrect API key provided: sk-..."): mask it."""
    for name, value in os.environ.items():
        if value and len(value) >= 8 and name.endswith(("_API_KEY", "_TOKEN", "_SECRET")):
            text = text.replace(value, "***")
    return _KEY_LIKE.sub("***", text)

"""``rir eval``: run a dataset through reverse-image RAG, score it, compare two runs.

    rir eval make-demo demo/                       # 20 offline items + a local index
    rir eval run demo/dataset.jsonl --model fake:best-guess --engine local \\
        --index demo/demo-index.rir --context none --out demo/base.jsonl
    rir eval run demo/dataset.jsonl --model fake:best-guess --engine local \\
        --index demo/demo-index.rir --context text --out demo/rir.jsonl
    rir eval score demo/rir.jsonl --metric answer_in_pred
    rir eval compare demo/base.jsonl demo/rir.jsonl --metric answer_in_pred --plot lift.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rir.cli._common import parse_engine_options, plural
from rir.errors import ConfigurationError

EXIT_INTERRUPTED = 130


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Measure what reverse image RAG buys on your data, the way the paper did."
    )
    commands = parser.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")
    _register_run(commands)
    _register_score(commands)
    _register_compare(commands)
    _register_convert(commands)
    _register_paper(commands)
    demo = commands.add_parser("make-demo", help="write a small offline dataset of demo photos",
                               description="Write disguised copies of the demo photographs, a "
                               "dataset.jsonl of questions about them and a local index.")
    demo.add_argument("folder", type=Path, metavar="FOLDER",
                      help="where to write the images, dataset.jsonl and the index")
    demo.add_argument("-n", type=int, default=20, help="number of items (1-20, default 20)")
    demo.set_defaults(handler=make_demo)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _add_metric(parser: argparse.ArgumentParser) -> None:
    from rir.eval.metrics import metric_names

    parser.add_argument("--metric", "-m", required=True, choices=metric_names(),
                        help="answer_in_pred (INFOSEEK), answer_in_pred_aliases, em "
                        "(SnakeCLEF species), genus_em (SnakeCLEF genus) or judge (an LLM)")
    parser.add_argument("--judge-model", default=None, metavar="MODEL",
                        help="the judge for --metric judge, e.g. openai:gpt-4-turbo")
    parser.add_argument("--judge-concurrency", type=int, default=4, metavar="N",
                        help="judge calls in flight (default 4)")
    parser.add_argument("--exclude-errors", action="store_true",
                        help="leave failed items out instead of counting them as wrong")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")


# -- run ---------------------------------------------------------------------------------------

def _register_run(commands: argparse._SubParsersAction) -> None:
    from rir.prompting.spec import CONTEXT_MODES

    run = commands.add_parser(
        "run", help="answer every item of DATASET; results are appended line by line",
        description="Run the reverse-image-RAG chain over DATASET (JSONL). Rerunning with the "
        "same --out resumes: finished items are skipped, failed ones retried.",
    )
    run.add_argument("dataset", type=Path, metavar="DATASET",
                     help="dataset JSONL: one question with its image per line")
    run.add_argument("--out", "-O", type=Path, required=True, metavar="RESULTS.jsonl",
                     help="results JSONL to write (a rerun resumes it)")
    run.add_argument("--model", required=True,
                     help="provider:name (openai:gpt-4o) or a fake for offline plumbing tests: "
                     "fake:parrot (echoes the prompt text), fake:best-guess (answers the "
                     "context's best guess)")
    run.add_argument("--model-option", action="append", metavar="KEY=VALUE",
                     help="chat model option, repeatable (temperature=0, delay_s=0.2 for fakes)")
    run.add_argument("--engine", "-e", default=None,
                     help="search engine (local, google_lens, serpapi, auto, ...); default "
                     "local with --index, else auto")
    run.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                     help="engine option, repeatable")
    run.add_argument("--index", type=Path, default=None, metavar="PATH",
                     help="the local engine's index file")
    run.add_argument("--context", "-c", choices=CONTEXT_MODES, default="text",
                     help="how results reach the model; none = the baseline (default text)")
    run.add_argument("-k", type=int, default=10, help="hits per item (default 10)")
    run.add_argument("--regions", choices=("auto",), default=None,
                     help="auto: also search the parts of each image worth searching (photos "
                     "in a screenshot, page or collage) and group the hits by region; compare "
                     "with a run without it (rir eval compare)")
    run.add_argument("--image-root", default=None, metavar="DIR_OR_URL",
                     help="resolve relative image paths here (default: the dataset's folder)")
    run.add_argument("--concurrency", "-j", type=int, default=4, metavar="N",
                     help="items in flight (default 4; Ray: tasks in flight)")
    run.add_argument("--rate-limit", type=float, default=None, metavar="PER_SECOND",
                     help="at most this many engine searches per second")
    run.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                     help="deadline per item (default 300)")
    cache = run.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", action="store_true", help="do not use the result cache")
    cache.add_argument("--cache", default=None, metavar="PATH", help="result cache file")
    run.add_argument("--limit", type=int, default=None, metavar="N",
                     help="only the first N items of the dataset")
    run.add_argument("--overwrite", action="store_true", help="empty --out first")
    run.add_argument("--skip-failed", action="store_true",
                     help="on resume, do not retry items that failed before")
    run.add_argument("--executor", choices=("asyncio", "ray"), default="asyncio",
                     help="asyncio (one machine, default) or ray (pip install "
                     "'reverse-image-rag[eval]')")
    run.add_argument("--ray-address", default=None, metavar="ADDRESS",
                     help="Ray cluster address (default $RAY_ADDRESS, else a local Ray)")
    run.add_argument("--allow-private-urls", action="store_true",
                     help="allow image URLs on private networks / localhost")
    progress = run.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="always show the progress bar")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show the progress bar")
    run.set_defaults(handler=run_command)


def _run_config(args: argparse.Namespace) -> Any:
    from rir.eval.run_config import RunConfig

    engine_options = parse_engine_options(args.option)
    engine = args.engine or ("local" if args.index else "auto")
    if args.index is not None:
        engine_options.setdefault("path", str(args.index))
    if engine == "local" and "path" not in engine_options:
        raise ConfigurationError("The local engine needs its index: pass --index PATH (build "
                                 "one with 'rir index add' or 'rir eval make-demo').")
    cache: bool | str = False if args.no_cache else (args.cache or True)
    return RunConfig(model=args.model, model_options=parse_engine_options(args.model_option),
                     engine=engine, engine_options=engine_options, context=args.context,
                     k=args.k, cache=cache, rate_limit=args.rate_limit,
                     timeout_s=args.timeout, allow_private_urls=args.allow_private_urls,
                     regions=args.regions)


def run_command(args: argparse.Namespace) -> int:
    from rir.eval.datasets import load_dataset
    from rir.eval.results import load_results

    items = load_dataset(args.dataset, image_root=args.image_root)
    if args.limit is not None:
        if args.limit < 1:
            raise ConfigurationError(f"--limit must be >= 1, got {args.limit}.")
        items = items[: args.limit]
    config = _run_config(args)
    options = {"overwrite": args.overwrite, "retry_failed": not args.skip_failed,
               "progress": args.progress}
    try:
        if args.executor == "ray":
            from rir.eval.ray_executor import run_eval_ray

            summary = run_eval_ray(items, args.out, config, max_in_flight=args.concurrency,
                                   address=args.ray_address, **options)
        else:
            import asyncio

            from rir.eval.runner import arun_eval

            summary = asyncio.run(arun_eval(items, args.out, config,
                                            concurrency=args.concurrency, **options))
    except KeyboardInterrupt:
        done = len(load_results(args.out)) if args.out.exists() else 0
        print(f"rir: interrupted; {done} of {plural(len(items), 'item')} are in {args.out}. Run "
              "the same "
              "command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(summary)
    if summary.failed:
        print(f"{summary.failed} item(s) failed (see their 'error' field); run the same command "
              "again to retry them.", file=sys.stderr)
    print(f"Score it: rir eval score {args.out} --metric answer_in_pred", file=sys.stderr)
    ran = summary.ok + summary.failed
    return 1 if ran and summary.ok == 0 else 0


# -- score and compare ---------------------------------------------------------------------------

def _register_score(commands: argparse._SubParsersAction) -> None:
    score = commands.add_parser(
        "score", help="accuracy of a results file, overall and per category",
        description="Score RESULTS.jsonl. The last line of the output is exactly "
        "'METRIC: XX.XX% (hits/total)'.",
    )
    score.add_argument("results", type=Path, metavar="RESULTS.jsonl",
                       help="a results file written by 'rir eval run'")
    _add_metric(score)
    score.set_defaults(handler=score_command)


def _score(path: Path, args: argparse.Namespace) -> Any:
    from rir.eval.results import load_results
    from rir.eval.scoring import score_records, score_with_verdicts

    records = load_results(path)
    if args.metric != "judge":
        return score_records(records, args.metric, exclude_errors=args.exclude_errors,
                             source=str(path))
    if not args.judge_model:
        raise ConfigurationError("--metric judge needs --judge-model (e.g. openai:gpt-4-turbo);"
                                 " the judge's prompt is in the README.")
    import asyncio

    from rir.eval.judge import ajudge_records, judge_cache_path

    verdicts = asyncio.run(ajudge_records(records, args.judge_model,
                                          cache_path=judge_cache_path(path),
                                          concurrency=args.judge_concurrency))
    return score_with_verdicts(records, "judge", verdicts, exclude_errors=args.exclude_errors,
                               source=str(path))


def score_command(args: argparse.Namespace) -> int:
    from rir.eval.scoring import format_score

    score = _score(args.results, args)
    if args.json:
        print(json.dumps(score.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_score(score))
    return 0


def _register_compare(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare", help="lift of one run over another, with a bootstrap interval and flips",
        description="Compare BASELINE and TREATMENT results item by item (paired by id).",
    )
    compare.add_argument("baseline", type=Path, metavar="BASELINE.jsonl",
                         help="results of the run to compare against (e.g. no search)")
    compare.add_argument("treatment", type=Path, metavar="RIR.jsonl",
                         help="results of the run being measured")
    _add_metric(compare)
    compare.add_argument("--plot", type=Path, default=None, metavar="OUT.png",
                         help="draw per-category bars into this file")
    compare.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    compare.add_argument("--resamples", type=int, default=10_000,
                         help="bootstrap resamples (default 10000)")
    compare.add_argument("--labels", default="baseline,rir", metavar="A,B",
                         help="names of the two runs (default baseline,rir)")
    compare.add_argument("--show-flips", type=int, default=10, metavar="N",
                         help="flipped items listed per direction (default 10)")
    compare.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    from rir.eval.compare import compare_scores, format_comparison
    from rir.eval.results import load_results

    labels = tuple(part.strip() for part in args.labels.split(","))
    if len(labels) != 2 or not all(labels):
        raise ConfigurationError(f"--labels takes two names separated by a comma, got "
                                 f"{args.labels!r}.")
    comparison = compare_scores(_score(args.baseline, args), _score(args.treatment, args),
                                labels=labels, n_resamples=args.resamples,  # type: ignore[arg-type]
                                seed=args.seed)
    if args.plot is not None:
        from rir.eval.plot import plot_comparison

        plot_comparison(comparison, args.plot)
    if args.json:
        data = comparison.as_dict()
        data["plot"] = str(args.plot) if args.plot else None
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    questions = {r.id: r.question for r in load_results(args.treatment)}
    print(format_comparison(comparison, show_flips=args.show_flips, questions=questions))
    if args.plot is not None:
        print(f"plot: {args.plot}")
    return 0


# -- conversions ---------------------------------------------------------------------------------

def _register_convert(commands: argparse._SubParsersAction) -> None:
    convert = commands.add_parser(
        "convert", help="the paper's INFOSEEK or SnakeCLEF question file -> dataset JSONL",
        description="Convert the paper's question files (images are not included: point "
        "--image-root at the folder or URL prefix holding them).",
    )
    convert.add_argument("kind", choices=("infoseek", "snakeclef"),
                         help="which paper file QUESTIONS is")
    convert.add_argument("questions", type=Path, metavar="QUESTIONS.json",
                         help="the paper's question file")
    convert.add_argument("--out", "-O", type=Path, required=True, metavar="DATASET.jsonl",
                         help="dataset JSONL to write")
    convert.add_argument("--image-root", default=None, metavar="DIR_OR_URL",
                         help="prefix image names with this folder or URL")
    convert.set_defaults(handler=convert_command)


def convert_command(args: argparse.Namespace) -> int:
    from rir.eval.datasets import convert_infoseek, convert_snakeclef, write_dataset

    convert = convert_infoseek if args.kind == "infoseek" else convert_snakeclef
    items = convert(args.questions, image_root=args.image_root)
    write_dataset(items, args.out)
    categories = sorted({item.category for item in items if item.category})
    print(f"{plural(len(items), 'item')} written to {args.out}"
          + (f" ({plural(len(categories), 'category', 'categories')})" if categories else ""))
    return 0


def _register_paper(commands: argparse._SubParsersAction) -> None:
    paper = commands.add_parser(
        "convert-paper-logs", help="the paper's released per-item logs -> results JSONL",
        description="Convert the logs of one run of the paper (records/*/logs_*.json; pass "
        "all files of a split run) to results JSONL, and check our metrics agree with the "
        "paper's logged verdicts item by item.",
    )
    paper.add_argument("logs", type=Path, nargs="+", metavar="LOG.json",
                       help="the run's log files (all parts of a split run)")
    paper.add_argument("--out", "-O", type=Path, required=True, metavar="RESULTS.jsonl",
                       help="results JSONL to write")
    paper.add_argument("--questions", type=Path, default=None, metavar="INFOSEEK.json",
                       help="the paper's INFOSEEK question file: recovers ids and categories")
    paper.add_argument("--context", default=None,
                       help="context mode to record (default: screenshot for *_rir_* files, "
                       "else none)")
    paper.add_argument("--engine", default=None, help="engine to record (default google_lens "
                       "for retrieval runs)")
    paper.add_argument("--force", action="store_true", help="overwrite --out")
    paper.set_defaults(handler=paper_command)


def paper_command(args: argparse.Namespace) -> int:
    from rir.eval.paper import convert_paper_logs
    from rir.eval.results import ResultsWriter

    if args.out.exists() and args.out.stat().st_size and not args.force:
        raise ConfigurationError(f"'{args.out}' exists; choose another --out or pass --force.")
    conversion = convert_paper_logs(args.logs, questions=args.questions, context=args.context,
                                    engine=args.engine)
    if args.out.exists():
        args.out.write_bytes(b"")
    with ResultsWriter(args.out) as writer:
        writer.write_all(conversion.records)
    print(conversion.report())
    print(f"written to {args.out}")
    disagreements = sum(len(v) for v in conversion.disagreements.values())
    return 1 if disagreements else 0


def make_demo(args: argparse.Namespace) -> int:
    from rir.eval.demo_dataset import build_demo_dataset

    demo = build_demo_dataset(args.folder, n=args.n)
    folder = args.folder
    print(f"{plural(len(demo.items), 'item')} in {demo.dataset}, images in {demo.images}, index "
          f"{demo.index}\nTry (offline, fake model):")
    for context, name in (("none", "base"), ("text", "rir")):
        print(f"  rir eval run {demo.dataset} --model fake:best-guess --index {demo.index} "
              f"--context {context} --out {folder / (name + '.jsonl')}")
    print(f"  rir eval compare {folder / 'base.jsonl'} {folder / 'rir.jsonl'} --metric "
          f"answer_in_pred --plot {folder / 'lift.png'}")
    return 0

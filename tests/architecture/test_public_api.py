"""The public API is pinned: changing what users import is a deliberate diff of this file.

Like httpx's ``tests/test_exported_members.py``: each public module's ``__all__`` is
written out below, every name in it resolves (the packages import them on first use),
nothing else in a package looks public, type checkers see every lazy name (its
``if TYPE_CHECKING:`` import), and the code in the README, the docs and the notebooks
imports only these names. docs/architecture.md says which modules are public and what
their stability means.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Adding or removing a name here is a change of the public API: say so in CHANGELOG.md.
PUBLIC: dict[str, list[str]] = {
    "rir": [
        "ConfigurationError", "Engine", "EngineBlockedError", "EngineError", "EngineFailure",
        "EngineRateLimitedError", "EngineTimeoutError", "Entity", "ExtractOptions",
        "ImageFetchError", "InputPolicy", "InvalidImageError", "InvalidRegionError",
        "QueryImage", "RIRError", "Region", "RegionPart", "RegionsResult", "ResultCache",
        "ReverseImageSearch", "SearchHit", "SearchOutcome", "SearchResult", "UnsafeURLError",
        "__version__", "aload_image", "available_engines", "errors", "get_engine",
        "load_image", "register_engine",
    ],
    "rir.errors": [
        "AllEnginesFailedError", "ConfigurationError", "EngineAuthenticationError",
        "EngineBlockedError", "EngineConnectionError", "EngineError", "EngineQuotaExceededError",
        "EngineRateLimitedError", "EngineRequestError", "EngineResponseError",
        "EngineServerError", "EngineTimeoutError", "EngineUnavailableError",
        "EngineUnsupportedInputError", "ImageFetchError", "ImageTooLargeError",
        "InvalidImageError", "InvalidRegionError", "RIRError", "UnsafeURLError", "check_number",
    ],
    "rir.inputs": [
        "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "SUPPORTED_FORMATS", "ImageInput",
        "InputPolicy", "QueryImage", "Region", "aload_image", "describe_source", "load_image",
        "upscale_factor",
    ],
    "rir.engines": [
        "Engine", "available_engines", "check_k", "display_options", "get_engine",
        "register_engine",
    ],
    "rir.engines.local": [
        "MEMORY", "AddReport", "IndexedPage", "LocalIndex", "default_index_path", "open_index",
        "resolve_index_path",
    ],
    "rir.engines.http": [
        "ApiHttp", "EngineAuthenticationError", "EngineConnectionError",
        "EngineQuotaExceededError", "EngineRequestError", "EngineResponseError",
        "EngineServerError", "EngineUnsupportedInputError", "HttpKwargs", "HttpOptions",
        "RateLimit", "RetryPolicy", "check_base_url", "error_for_status", "parse_json",
        "parse_retry_after", "protect_logger", "protected_logger", "redact_text",
        "register_secret", "resolve_secret", "scrub", "scrub_result",
    ],
    "rir.engines.google_lens": [
        "BrowserPool", "GoogleLensEngine", "PageAnalysis", "PageKind", "PageState", "alogin",
        "analyse_lens_html", "default_storage_state_path", "find_browser", "parse_lens_html",
    ],
    "rir.results": [
        "EngineFailure", "Entity", "ExtractOptions", "MatchType", "RegionPart", "RegionsResult",
        "ResultCache", "SearchHit", "SearchResult", "apostprocess", "enrich_captions",
        "postprocess", "show_result",
    ],
    "rir.prompting": [
        "CONTEXT_MODES", "ContextSize", "ImagePart", "PromptOptions", "PromptSpec", "TextPart",
        "Thumbnail", "abuild_context_prompt", "ameasure_modes", "build_prompt", "format_hits",
        "format_regions_tool_result", "format_table", "format_tool_result", "measure_prompt",
        "sanitize_untrusted",
    ],
    "rir.eval": [
        "METRICS", "SNAKECLEF_QUESTION", "Accuracy", "Comparison", "EvalItem", "ItemRunner",
        "ResultRecord", "ResultsWriter", "RunConfig", "RunSummary", "Score", "answer_in_pred",
        "answer_in_pred_aliases", "arun_eval", "build_demo_dataset", "compare_scores",
        "convert_infoseek", "convert_snakeclef", "em", "format_comparison", "format_score",
        "genus_em", "load_dataset", "load_results", "metric_names", "paired_bootstrap",
        "plot_comparison", "run_eval", "score_records", "summary_line", "write_dataset",
    ],
    "rir.serve": [
        "Asker", "SearchService", "ServeConfig", "api_key_from_env", "build_mcp", "create_app",
    ],
    "rir.demo": [
        "DEMO_PHOTOS", "DemoPhoto", "available_demo_photos", "build_demo_index",
        "demo_collage", "demo_query",
    ],
    "langchain_rir": [
        "DEFAULT_MODEL", "ImageRetrieval", "RIRChain", "ReverseImageRetriever",
        "ReverseImageSearchInput", "ReverseImageSearchTool", "aask", "aprepare_prompt", "ask",
        "create_rir_chain", "format_documents", "hits_to_documents", "latest_image_in_messages",
        "resolve_chat_model", "to_langchain_messages",
    ],
    "langchain_rir.testing": [
        "FAKE_MODELS", "EvalFakeChatModel", "FakeMultimodalChatModel",
        "ScriptedToolCallingModel", "fake_model",
    ],
    "llama_index_rir": [
        "DEFAULT_QUESTION", "ImageRetrieval", "PreparedQuery", "ReverseImageQueryEngine",
        "ReverseImageRetriever", "ReverseImageSearchOutput", "ReverseImageSearchToolSpec",
        "default_llm", "hits_to_nodes", "normalized_scores", "to_chat_messages",
    ],
    "llama_index_rir.testing": ["MOCK_LABEL", "RecordingMultimodalLLM",
                                "scripted_tool_calling_llm"],
}
# Packages whose __init__ only gathers names: nothing else in them may look public.
FACADES = ("rir", "rir.inputs", "rir.engines.local", "rir.engines.http",
           "rir.engines.google_lens", "rir.results", "rir.prompting", "rir.eval", "rir.serve",
           "langchain_rir", "llama_index_rir")
# Lazy packages: every name in __all__ must be visible to type checkers without running.
LAZY = ("rir", "rir.inputs", "rir.engines", "rir.engines.local", "rir.engines.http",
        "rir.engines.google_lens", "rir.results", "rir.prompting", "rir.eval", "rir.serve")
NOT_EXPORTS = {"TYPE_CHECKING", "annotations"}  # typing and __future__ plumbing


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_public_names_are_pinned(module: str) -> None:
    exported = importlib.import_module(module).__all__
    assert sorted(exported) == sorted(PUBLIC[module]), "update PUBLIC (and CHANGELOG.md)"
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_name_resolves_and_is_listed_by_dir(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in loaded.__all__:
        assert getattr(loaded, name) is not None, name
    assert set(loaded.__all__) <= set(dir(loaded))


@pytest.mark.parametrize("module", FACADES)
def test_nothing_else_in_a_package_looks_public(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in loaded.__all__:
        getattr(loaded, name)
    extra = {name for name, value in vars(loaded).items()
             if not name.startswith("_") and name not in NOT_EXPORTS
             and not isinstance(value, types.ModuleType)} - set(loaded.__all__)
    assert extra == set(), f"{module} shows names outside __all__"


def _package_file(module: str) -> Path:
    return REPO.joinpath(*module.split("."), "__init__.py")


def _type_checking_imports(module: str) -> dict[str, str]:
    """``{name: home module}`` of the package's imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(_package_file(module).read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for child in node.body:
                if isinstance(child, ast.ImportFrom) and child.module:
                    found.update({alias.asname or alias.name: child.module
                                  for alias in child.names})
    return found


def _defined_at_top(module: str) -> set[str]:
    """Names the package's own top level binds (imports, assignments, defs, classes)."""
    names: set[str] = set()
    for node in ast.parse(_package_file(module).read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            names |= {target.id for target in ast.walk(node) if isinstance(target, ast.Name)
                      and isinstance(target.ctx, ast.Store)}
    return names


@pytest.mark.parametrize("module", LAZY)
def test_type_checkers_see_every_lazy_name(module: str) -> None:
    loaded = importlib.import_module(module)
    typed = _type_checking_imports(module)
    for name, home in typed.items():
        assert getattr(loaded, name) is getattr(importlib.import_module(home), name), name
    unseen = set(loaded.__all__) - set(typed) - _defined_at_top(module)
    assert unseen == set(), f"{module}: add these to its `if TYPE_CHECKING:` imports"


# -- the docs import only public names ----------------------------------------------------------


def _code_blocks() -> Iterator[tuple[str, str]]:
    """(where, code) of every Python block of the README, the docs pages and the notebooks."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for page in pages:
        if page.exists():
            for number, block in enumerate(re.findall(r"```python\n(.*?)```",
                                                      page.read_text(encoding="utf-8"), re.S)):
                yield f"{page.relative_to(REPO)} block {number + 1}", textwrap.dedent(block)
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                yield f"{notebook.relative_to(REPO)} cell {number + 1}", "".join(cell["source"])


def _imports(where: str, code: str) -> Iterator[tuple[str, str | None]]:
    """(module, name or None) of every import of ours in ``code``."""
    tree = compile(code, where, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from ((node.module, alias.name) for alias in node.names)


def test_the_docs_readme_and_notebooks_import_only_public_names() -> None:
    ours = ("rir", "langchain_rir", "llama_index_rir")
    wrong = []
    for where, code in _code_blocks():
        for module, name in _imports(where, code):
            if module.split(".")[0] not in ours:
                continue
            if module not in PUBLIC or (name is not None and name not in PUBLIC[module]
                                        and f"{module}.{name}" not in PUBLIC):
                wrong.append(f"{where}: {module}{'' if name is None else ' import ' + name}")
    assert wrong == [], "import these from a public module (see PUBLIC)"


def test_the_docs_check_finds_a_private_import() -> None:
    found = list(_imports("page", "from rir.eval.plot import plot_comparison\nimport rir.urls"))
    assert found == [("rir.eval.plot", "plot_comparison"), ("rir.urls", None)]
    assert all(module not in PUBLIC for module, _ in found)


# -- renamed names, the version -----------------------------------------------------------------


def test_renamed_adapter_names_still_work_with_a_warning() -> None:
    code = """
import warnings, asyncio
warnings.simplefilter("error")
import langchain_rir, llama_index_rir
from langchain_rir.retriever import ImageRetrieval
from llama_index_rir import ReverseImageRetriever
from rir.demo import build_demo_index, demo_query
for module in (langchain_rir, langchain_rir.retriever):
    try:
        module.RetrievalResult
    except DeprecationWarning as warning:
        assert "is now" in str(warning) and "ImageRetrieval" in str(warning), warning
    else:
        raise AssertionError("no warning")
warnings.simplefilter("ignore")
assert langchain_rir.RetrievalResult is ImageRetrieval is langchain_rir.ImageRetrieval
retriever = ReverseImageRetriever(build_demo_index(), cache=False)
query, _ = demo_query()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    loaded = asyncio.run(retriever.aload_image(query.data))
assert loaded.sha256 == query.sha256
assert any("aload_image is now aload" in str(w.message) for w in caught), caught
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_the_version_is_the_installed_distributions() -> None:
    from importlib.metadata import PackageNotFoundError, version

    import rir

    try:
        installed = version("reverse-image-rag")
    except PackageNotFoundError:
        pytest.skip("reverse-image-rag is not installed (a bare source checkout)")
    assert rir.__version__ == installed

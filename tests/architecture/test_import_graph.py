"""Architecture checks: no import cycles, and the core never imports a model framework.

DESIGN.md: ``rir/`` is framework-free (only ``rir/cli`` may load an adapter, lazily, for the
commands that call a model), and the import graph has no cycles. The checks read the source
(lazy imports inside functions and type-only imports under ``if TYPE_CHECKING:`` count); the
fixture tests show that each check fails when its rule is broken.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.helpers import find_cycles, imports_of, module_files

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("rir", "langchain_rir", "llama_index_rir")
FRAMEWORKS = ("langchain", "langchain_core", "langchain_openai", "langgraph", "llama_index")
ADAPTERS = ("langchain_rir", "llama_index_rir")


def framework_violations(root: Path, core: str = "rir") -> list[str]:
    """Imports of a framework (or, outside the CLI's functions, an adapter) from ``core``."""
    found = []
    for module, path in module_files(root, [core]).items():
        in_cli = module == f"{core}.cli" or module.startswith(f"{core}.cli.")
        for imported in imports_of(module, path):
            top = imported.imported.split(".")[0]
            if top in FRAMEWORKS or (top in ADAPTERS and not (in_cli and imported.lazy)):
                found.append(f"{path.relative_to(root)}:{imported.line} imports "
                             f"{imported.imported}")
    return sorted(set(found))


def test_no_import_cycles() -> None:
    cycles = find_cycles(module_files(REPO, PACKAGES))
    assert cycles == [], "import cycles (break them with a shared module): " + "; ".join(
        " <-> ".join(group) for group in cycles)


def test_core_imports_no_framework() -> None:
    assert framework_violations(REPO) == []


# -- the checks themselves fail when the rules are broken ---------------------------------------


@pytest.fixture
def broken_tree(tmp_path: Path) -> Path:
    core = tmp_path / "rir"
    (core / "cli").mkdir(parents=True)
    (core / "__init__.py").write_text("")
    (core / "extract.py").write_text("def f():\n    from rir.enrich import g\n")
    (core / "enrich.py").write_text("from rir.extract import f\n")
    (core / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rir.extract import f\n")
    (core / "judge.py").write_text("def ask():\n    from langchain_core.messages import Human\n")
    (core / "models.py").write_text("import langchain_rir.chat_models\n")
    (core / "cli" / "__init__.py").write_text("")
    (core / "cli" / "ask.py").write_text("def run():\n    from langchain_rir.ask import ask\n")
    (core / "cli" / "eager.py").write_text("from llama_index_rir import Retriever\n")
    return tmp_path


def test_the_cycle_check_finds_a_lazy_cycle(broken_tree: Path) -> None:
    assert find_cycles(module_files(broken_tree, ["rir"])) == [["rir.enrich", "rir.extract"]]


def test_type_only_imports_are_dependencies_too(broken_tree: Path) -> None:
    (broken_tree / "rir" / "extract.py").write_text("import rir.typed\n")
    assert find_cycles(module_files(broken_tree, ["rir"])) == [
        ["rir.extract", "rir.typed"]]


def test_the_framework_check_finds_lazy_and_adapter_imports(broken_tree: Path) -> None:
    assert framework_violations(broken_tree) == [
        "rir/cli/eager.py:1 imports llama_index_rir.Retriever",
        "rir/judge.py:2 imports langchain_core.messages.Human",
        "rir/models.py:1 imports langchain_rir.chat_models",
    ]

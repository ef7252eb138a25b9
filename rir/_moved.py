"""Names that live in another module: lazy package attributes, and the 0.1 paths that moved.

:func:`lazy_exports` gives a package PEP 562 attributes: ``import rir`` imports no
submodule, and ``rir.ReverseImageSearch`` imports :mod:`rir.search` the first time it is
used, so a command that needs none of them (``rir --version``) never pays for numpy,
Pillow, httpx or pydantic.

Module paths of reverse-image-rag 0.1 that moved in 0.2 stay importable for one more
release. 0.2 grouped the core by the stages of the data flow (``rir.inputs``, ``rir.engines``,
``rir.results``, ``rir.prompting``). Importing an old path still works: it gives a module
that forwards every attribute to its new home (``rir.prompts`` to the four modules it was
split into) and warns once with a :class:`DeprecationWarning` naming the new path.
:data:`MOVED` is the whole list (CHANGELOG.md has it too); the aliases go in the next
release.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["MOVED", "install", "lazy_exports", "renamed_names"]

#: old module -> the module(s) that hold its names now, searched in order.
MOVED: dict[str, tuple[str, ...]] = {
    "rir._aio": ("rir._runtime",),
    "rir.best_guess": ("rir.results.best_guess",),
    "rir.cache": ("rir.results.cache",),
    "rir.cli._errors": ("rir.cli._error_lines",),
    "rir.cli.ask": ("rir.cli.cmd_ask",),
    "rir.cli.cache": ("rir.cli.cmd_cache",),
    "rir.cli.demo": ("rir.cli.cmd_demo",),
    "rir.cli.doctor": ("rir.cli.cmd_doctor",),
    "rir.cli.eval": ("rir.cli.cmd_eval",),
    "rir.cli.index": ("rir.cli.cmd_index",),
    "rir.cli.index_copy": ("rir.cli.cmd_index_copy",),
    "rir.cli.index_pages": ("rir.cli.cmd_index_pages",),
    "rir.cli.index_where": ("rir.cli.cmd_index_where",),
    "rir.cli.login": ("rir.cli.cmd_login",),
    "rir.cli.search": ("rir.cli.cmd_search",),
    "rir.cli.serve": ("rir.cli.cmd_serve",),
    "rir.cost": ("rir.prompting.cost",),
    "rir.doctor": ("rir.engines.doctor",),
    "rir.documents": ("rir.prompting.hit_documents",),
    "rir.engines.http.errors": ("rir.engines.http.error_mapping",),
    "rir.engines.local.backend": ("rir.engines.local.backends",),
    "rir.engines.local.qdrant_backend": ("rir.engines.local.qdrant.backend",),
    "rir.engines.local.qdrant_collection": ("rir.engines.local.qdrant.collection",),
    "rir.engines.local.qdrant_points": ("rir.engines.local.qdrant.points",),
    "rir.enrich": ("rir.results.enrich",),
    "rir.eval.backends": ("rir.eval.model_backend",),
    "rir.extract": ("rir.results.extract",),
    "rir.images": ("rir.inputs.images",),
    "rir.jsonl": ("rir.inputs.jsonl",),
    "rir.models": ("rir.results.models",),
    "rir.pacing": ("rir.engines.pacing",),
    "rir.progress": ("rir._runtime",),
    "rir.prompt_builder": ("rir.prompting.build",),
    "rir.prompts": ("rir.prompting.spec", "rir.prompting.texts", "rir.prompting.listing",
                    "rir.prompting.build"),
    "rir.ray_session": ("rir._ray",),
    "rir.render": ("rir.prompting.results_sheet",),
    "rir.serve.errors": ("rir.serve.error_replies",),
    "rir.thumbnails": ("rir.prompting.thumbnail_fetch",),
    "rir.urlfetch": ("rir.inputs.urlfetch",),
    "rir.user_image": ("rir.inputs.user_image",),
    "rir.viz": ("rir.results.debug_view",),
}


class _ForwardingModule(types.ModuleType):
    """An old module path: every attribute comes from the new module(s)."""

    _targets: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        for target in self._targets:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {self.__name__!r} (now {', '.join(self._targets)}) has "
                             f"no attribute {name!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self._targets:
            names.update(dir(importlib.import_module(target)))
        return sorted(names)


class _MovedModuleFinder:
    """Finder and loader of the old paths (the import protocol's methods, without the
    ``importlib.abc`` bases: importing those costs more than the rest of ``import rir``)."""

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _ForwardingModule(spec.name)
        module._targets = MOVED[spec.name]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        targets = MOVED[module.__name__]
        exported: list[str] = []
        for target in targets:
            exported += getattr(importlib.import_module(target), "__all__", [])
        module.__all__ = sorted(set(exported))
        # stacklevel 2 skips importlib's own frames and lands on the user's import line.
        warnings.warn(f"{module.__name__} is now {' and '.join(targets)}; import from there "
                      "(the old path goes in the next release).", DeprecationWarning,
                      stacklevel=2)


def install() -> None:
    """Make the old paths importable (idempotent; ``import rir`` calls it)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())


def lazy_exports(package: str, homes: Mapping[str, Iterable[str]]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` (PEP 562) for ``package``, whose public names live in
    the modules ``homes`` maps to them (``{"rir.search": ["ReverseImageSearch"]}``; a
    package's own submodule is named by itself: ``{"rir.errors": ["errors"]}``).

    A name is imported from its home on first use and then kept on the package, so later
    uses cost a plain attribute lookup. The package lists the same imports under
    ``if TYPE_CHECKING:`` for type checkers and IDEs (a test checks the two agree).
    """
    where = {name: home for home, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        home = where.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home)
        value = module if home == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__


def renamed_names(module: str, renamed: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """``__getattr__`` for ``module`` serving names that were renamed in 0.2, for one more
    release, with a DeprecationWarning: ``{"OldName": ("new.module", "NewName")}``."""

    def __getattr__(name: str) -> Any:
        if name not in renamed:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        home, new_name = renamed[name]
        warnings.warn(f"{module}.{name} is now {home}.{new_name}; import that (the old name "
                      "goes in the next release).", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(home), new_name)

    return __getattr__

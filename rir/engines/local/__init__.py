"""The embedded local engine: a reverse image index of your own images."""

from rir.engines.local.index import AddReport, IndexedPage, LocalIndex

__all__ = ["AddReport", "IndexedPage", "LocalIndex"]

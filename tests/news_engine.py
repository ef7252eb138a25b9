"""An engine whose hits carry URLs with query strings, tracking parameters and fragments.

Every entry point that shows hits to a model (the LangChain chain and tool, the
LlamaIndex query engine and tool spec) is tested with it: the model must read
``https://news.example.org/story?id=2`` whole, and never a tracking parameter.
"""

from __future__ import annotations

from rir.engines.base import Engine
from rir.images import QueryImage
from rir.models import SearchHit, SearchResult

#: What the model must see for the first hit.
STORY_URL = "https://news.example.org/story?id=2"
#: What the engine returned for it.
TRACKED_STORY_URL = f"{STORY_URL}&utm_source=rss&utm_medium=feed&fbclid=IwAR0abc"
#: A second page: a query string with two parameters and a fragment, nothing to drop.
GALLERY_URL = "https://photos.example.com/gallery.php?album=7&photo=31#caption"


def news_hits() -> list[SearchHit]:
    return [
        SearchHit(title="Flood waters reach the old town", url=TRACKED_STORY_URL,
                  source="news.example.org", snippet="Residents wade through the square.",
                  position=1, score=0.9),
        SearchHit(title="Gallery: the flood in pictures", url=GALLERY_URL,
                  source="photos.example.com", position=2, score=0.7),
    ]


class NewsEngine(Engine):
    """Returns :func:`news_hits` for any image, and the images it was asked to search."""

    name = "news"
    cacheable = False

    def __init__(self) -> None:
        self.searched: list[QueryImage] = []

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        self.searched.append(image)
        return SearchResult(hits=news_hits()[:k], best_guess="flood in the old town")

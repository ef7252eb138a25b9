"""Search hits as LlamaIndex nodes: text, metadata, stable ids and scores in [0, 1].

One :class:`~rir.results.models.SearchHit` becomes one ``NodeWithScore``:

* text: the hit's title and caption (web text, stripped of control characters);
* metadata: ``source`` (the page URL), ``title``, ``site``, ``thumbnail_url``,
  ``image_url``, ``position``, ``match_type``, ``engine``, ``best_guess``,
  ``query_image_sha256`` and ``engine_score`` (keys whose value is unknown are left
  out, since several vector stores reject ``None``); the same keys as the LangChain
  retriever's Documents;
* URL-ish keys are excluded from the text the LLM and the embedding model see
  (a thumbnail can be a long ``data:`` URI);
* the id is derived from the query image's hash and the hit's canonical page URL, so
  it is the same across runs (and in ``langchain_rir``);
* the score is the engine's, normalised to [0, 1] (see :func:`normalized_scores`).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import ImageNode, NodeWithScore, TextNode

from rir.prompting.hit_documents import hit_id, hit_metadata, hit_text
from rir.prompting.spec import Thumbnail
from rir.results.models import SearchHit, SearchResult

__all__ = [
    "EMBED_EXCLUDED_KEYS",
    "LLM_EXCLUDED_KEYS",
    "hit_node_id",
    "hits_to_nodes",
    "normalized_scores",
]

URL_KEYS = ["source", "thumbnail_url", "image_url"]
# The title is already the first line of the text; hashes and raw scores mean nothing
# to a model.
LLM_EXCLUDED_KEYS: list[str] = [*URL_KEYS, "title", "query_image_sha256", "engine_score"]
EMBED_EXCLUDED_KEYS: list[str] = [*LLM_EXCLUDED_KEYS, "position", "match_type", "engine",
                                  "best_guess"]



def normalized_scores(hits: Sequence[SearchHit]) -> list[float]:
    """One score in [0, 1] per hit, higher is better.

    Engines that score in [0, 1] (the local index, fusion) keep their scores;
    scores outside it are divided by the largest one and clipped at 0; hits without
    a score get ``1 / position``, the reciprocal of their rank.
    """
    present = [h.score for h in hits if h.score is not None]
    scale = 1.0
    if present and (max(present) > 1.0 or min(present) < 0.0):
        scale = max(present) if max(present) > 0 else 1.0
    scores = []
    for hit in hits:
        if hit.score is None:
            scores.append(round(1.0 / max(hit.position, 1), 6))
        else:
            scores.append(round(min(1.0, max(0.0, hit.score / scale)), 6))
    return scores


def hit_node_id(hit: SearchHit, query_sha256: str) -> str:
    """A UUID that is the same for the same hit of the same query image on every run,
    and the same as ``langchain_rir``'s Document id
    (see :func:`rir.prompting.hit_documents.hit_id`)."""
    return hit_id(query_sha256, hit)


def _hit_metadata(hit: SearchHit, result: SearchResult, query_sha256: str) -> dict[str, Any]:
    metadata = {**hit_metadata(hit, result, query_sha256), "engine_score": hit.score}
    # Several vector stores reject None values: unknown keys are left out.
    return {key: value for key, value in metadata.items() if value is not None}


def hits_to_nodes(
    result: SearchResult,
    *,
    query_sha256: str = "",
    thumbnails: Sequence[Thumbnail] | None = None,
) -> list[NodeWithScore]:
    """The result's hits as scored nodes, best first.

    With ``thumbnails`` (downloaded by the caller), hits that have one become
    ``ImageNode``s carrying the thumbnail bytes; the others stay ``TextNode``s, so no
    node ever points at an image LlamaIndex would have to download itself.
    """
    by_position = {t.hit.position: t for t in thumbnails or ()}
    query_sha256 = query_sha256 or result.query_sha256
    nodes = []
    for hit, score in zip(result.hits, normalized_scores(result.hits), strict=True):
        fields: dict[str, Any] = {
            "id_": hit_node_id(hit, query_sha256),
            "text": hit_text(hit),
            "metadata": _hit_metadata(hit, result, query_sha256),
            "excluded_llm_metadata_keys": list(LLM_EXCLUDED_KEYS),
            "excluded_embed_metadata_keys": list(EMBED_EXCLUDED_KEYS),
        }
        thumbnail = by_position.get(hit.position) if thumbnails is not None else None
        if thumbnail is not None:
            node: TextNode = ImageNode(image=base64.b64encode(thumbnail.data).decode("ascii"),
                                       image_mimetype=thumbnail.mime_type, **fields)
        else:
            node = TextNode(**fields)
        nodes.append(NodeWithScore(node=node, score=score))
    return nodes

"""LlamaIndex components for reverse-image-rag.

* :class:`ReverseImageRetriever`: reverse image search as a ``BaseRetriever``
  (the image from ``QueryBundle.image_path`` or a URL/data URI query string).
* :class:`ReverseImageQueryEngine`: searches the query image and sends it, with the
  results as context, to a multimodal LLM (``text``, ``screenshot``, ``thumbnails``
  or ``none`` context).
* :class:`ReverseImageSearchToolSpec`: the search as an agent tool.

Offline stand-ins for LLMs live in :mod:`llama_index_rir.testing`.
"""

from llama_index_rir.messages import to_chat_messages
from llama_index_rir.nodes import hits_to_nodes, normalized_scores
from llama_index_rir.query_engine import (
    DEFAULT_QUESTION,
    PreparedQuery,
    ReverseImageQueryEngine,
    default_llm,
)
from llama_index_rir.retriever import ImageRetrieval, ReverseImageRetriever
from llama_index_rir.tool_spec import ReverseImageSearchOutput, ReverseImageSearchToolSpec

__all__ = [
    "DEFAULT_QUESTION",
    "ImageRetrieval",
    "PreparedQuery",
    "ReverseImageQueryEngine",
    "ReverseImageRetriever",
    "ReverseImageSearchOutput",
    "ReverseImageSearchToolSpec",
    "default_llm",
    "hits_to_nodes",
    "normalized_scores",
    "to_chat_messages",
]

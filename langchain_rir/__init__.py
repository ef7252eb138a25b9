"""LangChain components for reverse-image-rag.

    >>> from langchain_rir import ReverseImageRetriever, ReverseImageSearchTool, create_rir_chain
    >>> from langchain_rir import ask
    >>> ask("photo.jpg", "Who is this?")  # doctest: +SKIP

* :class:`ReverseImageRetriever`: a ``BaseRetriever`` whose query is an image;
* :class:`ReverseImageSearchTool`: the ``reverse_image_search`` agent tool;
* :func:`create_rir_chain`: search + multimodal model as one LCEL Runnable;
* :func:`ask` / :func:`aask`: the one-call convenience.
"""

from langchain_rir.ask import aask, ask
from langchain_rir.attachments import latest_image_in_messages
from langchain_rir.chain import RIRChain, aprepare_prompt, create_rir_chain
from langchain_rir.chat_models import DEFAULT_MODEL, resolve_chat_model
from langchain_rir.documents import format_documents, hits_to_documents
from langchain_rir.messages import to_langchain_messages
from langchain_rir.retriever import ImageRetrieval, ReverseImageRetriever
from langchain_rir.tool import ReverseImageSearchInput, ReverseImageSearchTool
from rir import _moved

__all__ = [
    "DEFAULT_MODEL",
    "ImageRetrieval",
    "RIRChain",
    "ReverseImageRetriever",
    "ReverseImageSearchInput",
    "ReverseImageSearchTool",
    "aask",
    "aprepare_prompt",
    "ask",
    "create_rir_chain",
    "format_documents",
    "hits_to_documents",
    "latest_image_in_messages",
    "resolve_chat_model",
    "to_langchain_messages",
]

# RetrievalResult (0.1) is ImageRetrieval now, the name both adapters use.
__getattr__ = _moved.renamed_names(__name__, {
    "RetrievalResult": ("langchain_rir", "ImageRetrieval")})

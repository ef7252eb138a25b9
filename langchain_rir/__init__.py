"""LangChain components for reverse-image-rag."""

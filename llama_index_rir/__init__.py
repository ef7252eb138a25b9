"""LlamaIndex components for reverse-image-rag."""

"""The Qdrant backend of the local index: an archive that outgrows one machine.

:class:`~rir.engines.local.qdrant.backend.QdrantBackend` implements
:class:`~rir.engines.local.backends.IndexBackend` on a Qdrant collection
(:mod:`~rir.engines.local.qdrant.collection`), storing each image as points
(:mod:`~rir.engines.local.qdrant.points`).
"""

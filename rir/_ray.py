"""Starting Ray the one way the project does (the eval executor, bulk indexing).

``address`` (or ``$RAY_ADDRESS``) joins a running cluster; otherwise a local Ray
is started for the run, bound to ``$RAY_NODE_IP`` or 127.0.0.1 and without the
dashboard, and the caller stops it afterwards.
"""

from __future__ import annotations

import os
from typing import Any

from rir.errors import ConfigurationError

__all__ = ["import_ray", "start_ray"]


def import_ray(instead: str) -> Any:
    """The ``ray`` module, or a ConfigurationError saying how to install it (or ``instead``)."""
    try:
        import ray
    except ImportError:
        raise ConfigurationError(
            "The Ray executor needs Ray: pip install 'reverse-image-rag[eval]' (or "
            f"pip install 'ray[default]'), or {instead}."
        ) from None
    return ray


def start_ray(ray: Any, address: str | None = None,
              init_options: dict[str, Any] | None = None) -> bool:
    """Connect to (or start) Ray unless already initialised; whether this call started it."""
    if ray.is_initialized():
        return False
    options = dict(init_options or {})
    target = address or os.environ.get("RAY_ADDRESS")
    if target:
        options["address"] = target
    else:
        options.setdefault("_node_ip_address", os.environ.get("RAY_NODE_IP", "127.0.0.1"))
        options.setdefault("include_dashboard", False)
    ray.init(**options)
    return True

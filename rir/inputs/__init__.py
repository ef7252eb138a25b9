"""Inputs: what the user hands us, loaded and checked before anything is searched.

* :mod:`rir.inputs.policy`: :class:`InputPolicy`, what an entry point accepts (local
  files, private URLs) and the limits (bytes, pixels, timeout, redirects);
* :mod:`rir.inputs.images`: one loader for URLs, data URIs, paths, bytes, files and PIL
  images, giving a validated :class:`QueryImage`;
* :mod:`rir.inputs.urlfetch`: fetching untrusted URLs (the SSRF guard, a bounded GET);
* :mod:`rir.inputs.region`: ``Region``, the part of an image a search is about, and reading
  the boxes users and models write; :mod:`rir.inputs.region_plan`: which parts a region
  search covers; :mod:`rir.inputs.crops`: cutting them out, and the upscale rule;
* :mod:`rir.inputs.user_image`: the image the user attached, as agent tools name it;
* :mod:`rir.inputs.describe`: naming an input in a message without leaking secrets;
* :mod:`rir.inputs.jsonl`: reading JSON Lines files (datasets, page lists).

Public names: ``__all__`` (imported on first use).
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.inputs.crops import upscale_factor
    from rir.inputs.describe import describe_source
    from rir.inputs.images import (
        SUPPORTED_FORMATS,
        ImageInput,
        QueryImage,
        aload_image,
        load_image,
    )
    from rir.inputs.policy import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, InputPolicy
    from rir.inputs.region import Region

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "ImageInput",
    "InputPolicy",
    "QueryImage",
    "Region",
    "aload_image",
    "describe_source",
    "load_image",
    "upscale_factor",
]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.inputs.crops": ["upscale_factor"],
    "rir.inputs.describe": ["describe_source"],
    "rir.inputs.images": ["SUPPORTED_FORMATS", "ImageInput", "QueryImage", "aload_image",
                          "load_image"],
    "rir.inputs.policy": ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "InputPolicy"],
    "rir.inputs.region": ["Region"],
})

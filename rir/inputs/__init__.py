"""Inputs: what the user hands us, loaded and checked before anything is searched.

* :mod:`rir.inputs.images`: one loader for URLs, data URIs, paths, bytes, files and PIL
  images, giving a validated :class:`~rir.inputs.images.QueryImage`;
* :mod:`rir.inputs.urlfetch`: fetching untrusted URLs (the SSRF guard, a bounded GET);
* :mod:`rir.inputs.region`: ``Region``, the part of an image a search is about, and reading
  the boxes users and models write; :mod:`rir.inputs.region_plan`: which parts a region
  search covers; :mod:`rir.inputs.crops`: cutting them out, and the upscale rule;
* :mod:`rir.inputs.user_image`: the image the user attached, as agent tools name it;
* :mod:`rir.inputs.describe`: naming an input in a message without leaking secrets;
* :mod:`rir.inputs.jsonl`: reading JSON Lines files (datasets, page lists).
"""

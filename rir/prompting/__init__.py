"""Prompting: from a search result to what a multimodal model is shown.

* :mod:`rir.prompting.spec`: the framework-neutral prompt (context modes, parts);
* :mod:`rir.prompting.texts`: system prompts, and web text made safe to show a model;
* :mod:`rir.prompting.listing`: hits as a numbered listing (text context, tool replies);
* :mod:`rir.prompting.build`: ``build_prompt`` and ``PromptOptions``, every context mode;
* :mod:`rir.prompting.thumbnail_fetch` and :mod:`rir.prompting.results_sheet`: the images
  of the ``thumbnails`` and ``screenshot`` modes;
* :mod:`rir.prompting.hit_documents`: a hit as a retrieved document (id, text, metadata);
* :mod:`rir.prompting.cost`: how big a prompt is, per context mode.
"""

"""The one table of page-specific hints the Lens parser consults.

Google renames its CSS classes every few months, so nothing here is required
for parsing: the parser works from structure (links holding a heading and a
site label, thumbnails, ARIA roles, script image maps). The class names are
*hints* that only add confidence to a decision the structure already makes,
and the text labels name sections whose headings are the same words on every
visit (they change with ``hl``, so the common languages are listed).
Update this file, not the parser, when Google changes a label.
"""

from __future__ import annotations

import re

__all__ = [
    "AI_OVERVIEW_LABELS",
    "BLOCK_PHRASES",
    "CONSENT_PHRASES",
    "CONSENT_REJECT_LABELS",
    "DEGRADED_PHRASES",
    "END_OF_LIST_PHRASES",
    "HINTS",
    "MORE_RESULTS_LABELS",
    "NO_RESULTS_PHRASES",
    "SECTION_LABELS",
    "URL_FAILURE_PHRASES",
    "VERIFYING_PHRASES",
    "section_kind",
]

# Class names / ids seen on Lens pages (2024-2026). They only break ties (a link with
# a single line of text counts as a card when it carries one); nothing depends on them.
HINTS: dict[str, tuple[str, ...]] = {
    "visual_card_link": ("LBcIee", "GZrdsf"),
    "exact_card_link": ("ngTNl",),
    "ai_overview": ("m-x-content",),  # an id, kept here for the same reason
}

# Section headings -> the kind of section they start. Lower-case, compared after
# whitespace normalisation. Unknown headings ("Save to Google Drive") are ignored.
_SECTION_LABELS: dict[str, tuple[str, ...]] = {
    "ai_overview": (
        "ai overview", "übersicht mit ki", "aperçu ia", "aperçu généré par l'ia",
        "vista creada con ia", "resumen creado con ia", "panoramica ai",
        "panoramica creata con l'ia",
        "visão geral criada por ia", "ai-overzicht", "przegląd od ai", "ai による概要",
        "ai 摘要", "ai 개요", "обзор от ии",
    ),
    "visual": (
        "visual matches", "similar images", "visuell ähnliche bilder", "visuelle übereinstimmungen",
        "correspondances visuelles", "coincidencias visuales", "corrispondenze visive",
        "correspondências visuais", "visuele overeenkomsten",
    ),
    "exact": (
        "exact matches", "genaue übereinstimmungen", "correspondances exactes",
        "coincidencias exactas", "corrispondenze esatte", "correspondências exatas",
        "exacte overeenkomsten", "pages that include matching images",
        "pages with matching images",
    ),
    "product": ("products", "shopping", "produkte", "produits", "productos", "prodotti"),
    "video": ("videos", "short videos", "vidéos", "vídeos", "video"),
    "related": (
        "related searches", "related search", "ähnliche suchanfragen", "recherches associées",
        "búsquedas relacionadas", "ricerche correlate", "pesquisas relacionadas",
    ),
    "web": ("web results", "search results", "top stories", "people also ask"),
}
SECTION_LABELS = _SECTION_LABELS
_LABEL_TO_KIND = {label: kind for kind, labels in _SECTION_LABELS.items() for label in labels}

AI_OVERVIEW_LABELS = _SECTION_LABELS["ai_overview"]

# Phrases of a genuine "nothing found" page (visible text, lower-case).
NO_RESULTS_PHRASES: tuple[str, ...] = (
    "no matches for your search",
    "no results found",
    "did not match any",
    "didn't match any",
    "aren't any matches",
    "aren’t any matches",
    "no exact matches",
    "no visual matches",
    "no matching images",
    "keine übereinstimmungen",
    "aucun résultat",
    "no se han encontrado resultados",
)

# Phrases of block pages (visible text, lower-case). Element signals come first;
# these catch block pages whose markup is unfamiliar.
BLOCK_PHRASES: tuple[str, ...] = (
    "unusual traffic from your computer network",
    "our systems have detected unusual traffic",
    "to continue, please type the characters",
    "not a robot",
    "automated queries",
    "please enable javascript to continue",
    "enable javascript to continue",
    "if you're having trouble accessing google search",
    "if you’re having trouble accessing google search",
    "ungewöhnlichen datenverkehr",
    "trafic exceptionnel",
    "tráfico inusual",
)

# The bot check's holding page; it usually clears itself like the JavaScript interstitial.
VERIFYING_PHRASES: tuple[str, ...] = (
    "verifying your request",
    "verifying you are human",
    "anfrage wird überprüft",
    "vérification de votre requête",
    "verificando tu solicitud",
)

# /uploadbyurl could not use the image URL (Google could not fetch it, the site
# blocks Google, or Lens failed on it): the engine uploads the bytes instead.
URL_FAILURE_PHRASES: tuple[str, ...] = (
    "no image at the url",
    "no image at this url",
    "couldn't find an image at",
    "couldn’t find an image at",
    "the url doesn't point to an image",
    "couldn't load the image",
    "something went wrong",
    "etwas ist schiefgelaufen",
    "une erreur s'est produite",
    "algo salió mal",
)

# A page holding only these (and no matches) is a degraded Lens answer, not "no results".
DEGRADED_PHRASES: tuple[str, ...] = (
    "an ai overview is not available for this search",
    "can't generate an ai overview right now",
    "can’t generate an ai overview right now",
    "für diese suche ist keine übersicht mit ki verfügbar",
)

CONSENT_PHRASES: tuple[str, ...] = (
    "before you continue to google",
    "bevor sie zu google weitergehen",
    "avant d'accéder à google",
    "antes de ir a google",
    "prima di continuare su google",
)

# Controls after a results list that lead to more of it (lower-case, the whole label
# or its start: "See more", "More results"). The real All view ends its 60-card
# visual-matches preview with "See more" when the Visual matches view holds more.
MORE_RESULTS_LABELS: tuple[str, ...] = (
    "see more", "more results", "show more results", "more visual matches",
    "more exact matches", "more products", "mehr anzeigen", "weitere ergebnisse",
    "voir plus", "plus de résultats", "ver más", "más resultados", "mostra altro",
    "ver mais", "meer weergeven",
)

# Messages that end a scrolling results list (visible text, lower-case).
END_OF_LIST_PHRASES: tuple[str, ...] = (
    "looks like you've reached the end",
    "looks like you’ve reached the end",
    "you've reached the end of the results",
    "you’ve reached the end of the results",
    "no more results",
    "that's all the results",
    "keine weiteren ergebnisse",
    "il n'y a plus de résultats",
    "no hay más resultados",
)

# Buttons that decline non-essential cookies on Google's consent page.
CONSENT_REJECT_LABELS: tuple[str, ...] = (
    "Reject all", "Alle ablehnen", "Tout refuser", "Rechazar todo", "Rifiuta tutto",
    "Alles afwijzen", "Rejeitar tudo", "Odrzuć wszystko", "Avvisa alla", "Afvis alle",
    "Hylkää kaikki", "Alle avvisen",
)

_SPACE = re.compile(r"\s+")


def section_kind(heading_text: str) -> str | None:
    """The section kind a heading starts (``"visual"``, ``"ai_overview"``, ...), or None."""
    text = _SPACE.sub(" ", heading_text).strip().lower()
    if not text or len(text) > 60:
        return None
    return _LABEL_TO_KIND.get(text)

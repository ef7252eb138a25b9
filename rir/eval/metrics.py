"""String metrics over a prediction and the acceptable answers (framework-free).

``answer_in_pred``
    any answer appears, case-insensitively, inside the prediction: the paper's
    INFOSEEK metric (``any(a.lower() in pred.lower() for a in answer)``).
``answer_in_pred_aliases``
    the same over ``answers + aliases`` (INFOSEEK's ``answer_eval``).
``em``
    the prediction equals an answer after trimming and lowercasing: the paper's
    SnakeCLEF binomial-name match.
``genus_em``
    the first words are equal, lowercased: the paper's SnakeCLEF genus match.

Both sides are Unicode-normalised (NFC) and lowercased with ``str.lower``, as
the paper did; punctuation is kept, so ``"Washington, D.C."`` must appear with
its commas and dots. Blank answers never match (an empty string is "in" every
text), and an empty or missing prediction matches nothing. The LLM judge is in
:mod:`rir.eval.judge`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rir.errors import ConfigurationError

__all__ = [
    "METRICS",
    "MetricFn",
    "answer_in_pred",
    "answer_in_pred_aliases",
    "check_metric",
    "em",
    "genus_em",
    "metric_names",
]

MetricFn = Callable[[str | None, Sequence[str], Sequence[str]], bool]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _candidates(answers: Iterable[str]) -> list[str]:
    return [_norm(answer) for answer in answers if isinstance(answer, str) and answer.strip()]


def answer_in_pred(prediction: str | None, answers: Sequence[str],
                   aliases: Sequence[str] = ()) -> bool:
    """Any of ``answers`` appears in ``prediction``, ignoring case (aliases are not used)."""
    if not prediction:
        return False
    text = _norm(prediction)
    return any(answer in text for answer in _candidates(answers))


def answer_in_pred_aliases(prediction: str | None, answers: Sequence[str],
                           aliases: Sequence[str] = ()) -> bool:
    """Any of ``answers`` or ``aliases`` appears in ``prediction``, ignoring case."""
    return answer_in_pred(prediction, [*answers, *aliases])


def em(prediction: str | None, answers: Sequence[str], aliases: Sequence[str] = ()) -> bool:
    """``prediction`` equals one of ``answers`` after trimming and lowercasing."""
    if not prediction or not prediction.strip():
        return False
    text = _norm(prediction.strip())
    return any(text == answer.strip() for answer in _candidates(answers))


def _first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else ""


def genus_em(prediction: str | None, answers: Sequence[str],
             aliases: Sequence[str] = ()) -> bool:
    """The first word of ``prediction`` equals the first word of an answer, lowercased."""
    if not prediction:
        return False
    genus = _first_word(_norm(prediction))
    return bool(genus) and any(genus == _first_word(answer) for answer in _candidates(answers))


METRICS: dict[str, MetricFn] = {
    "answer_in_pred": answer_in_pred,
    "answer_in_pred_aliases": answer_in_pred_aliases,
    "em": em,
    "genus_em": genus_em,
}
# The judge is asynchronous and needs a model, so it is not in METRICS.
JUDGE = "judge"


def metric_names() -> list[str]:
    return [*METRICS, JUDGE]


def check_metric(name: Any) -> str:
    if name not in METRICS and name != JUDGE:
        raise ConfigurationError(f"Unknown metric {name!r}; choose one of "
                                 f"{', '.join(metric_names())}.")
    return name

"""The string metrics on hand-made edge cases."""

from __future__ import annotations

import unicodedata

import pytest

from rir.errors import ConfigurationError
from rir.eval.metrics import (
    METRICS,
    answer_in_pred,
    answer_in_pred_aliases,
    check_metric,
    em,
    genus_em,
    metric_names,
)


class TestAnswerInPred:
    def test_case_insensitive_substring(self) -> None:
        assert answer_in_pred("This building belongs to BULGARIA.", ["Bulgaria"])
        assert answer_in_pred("It was opened by Queen Elizabeth II in 1986.", ["Elizabeth II"])

    def test_absent_answer(self) -> None:
        assert not answer_in_pred("It is somewhere in Central Europe.", ["Czech Republic"])

    def test_any_of_multiple_answers(self) -> None:
        answers = ["gin", "tonic water"]
        assert answer_in_pred("It is named after tonic water.", answers)
        assert answer_in_pred("Named after GIN", answers)
        assert not answer_in_pred("Named after lemons.", answers)

    def test_substring_semantics_follow_the_paper(self) -> None:
        # The paper's metric is a plain substring test: "Rhodiola" is in "Rhodiola integrifolia"
        # and the answer "de" is in "Germany's cathedral is made of stone" (it counts).
        assert answer_in_pred("labeled as Rhodiola integrifolia", ["Rhodiola"])
        assert answer_in_pred("a cathedral made of stone", ["de"])

    def test_unicode(self) -> None:
        assert answer_in_pred("Das ist in MÜNCHEN, Bayern.", ["München"])
        assert answer_in_pred("Located in São Paulo", ["SÃO PAULO"])
        assert answer_in_pred("Η χώρα είναι η ΕΛΛΑΔΑ", ["Ελλαδα"])
        assert answer_in_pred("Flag: 🇧🇬 Bulgaria", ["🇧🇬"])
        assert not answer_in_pred("Located in Sao Paulo", ["São Paulo"])  # accents matter

    def test_unicode_normalisation_composed_and_decomposed(self) -> None:
        composed = "C\u1ed9ng h\u00f2a Bulgaria"
        decomposed = unicodedata.normalize("NFD", composed)
        assert composed != decomposed
        assert answer_in_pred(f"Tên: {decomposed}", [composed])

    def test_punctuation_is_kept(self) -> None:
        assert answer_in_pred("It is in Washington, D.C., USA", ["Washington, D.C."])
        assert not answer_in_pred("It is in Washington DC", ["Washington, D.C."])
        assert answer_in_pred("Height: 4,415 mm (4415)", ["4415"])

    def test_empty_prediction_and_blank_answers(self) -> None:
        assert not answer_in_pred("", ["Bulgaria"])
        assert not answer_in_pred(None, ["Bulgaria"])
        assert not answer_in_pred("anything at all", [""])
        assert not answer_in_pred("anything at all", ["   "])
        assert not answer_in_pred("anything at all", [])

    def test_aliases_are_not_used(self) -> None:
        assert not answer_in_pred("The country is the BRD.", ["Germany"], ["BRD"])


class TestAnswerInPredAliases:
    def test_aliases_count(self) -> None:
        assert answer_in_pred_aliases("The country is the BRD.", ["Germany"], ["BRD"])
        assert answer_in_pred_aliases("Germany", ["Germany"], [])
        assert not answer_in_pred_aliases("France", ["Germany"], ["BRD", "Deutschland"])

    def test_empty(self) -> None:
        assert not answer_in_pred_aliases("", ["Germany"], ["BRD"])
        assert not answer_in_pred_aliases("text", [""], [""])


class TestExactMatch:
    def test_trimmed_lowercased_equality(self) -> None:
        assert em("Liasis olivaceus", ["Liasis olivaceus"])
        assert em("  python BIVITTATUS \n", ["Python bivittatus"])

    def test_extra_text_or_punctuation_is_wrong(self) -> None:
        assert not em("Erythrolamprus bizona.", ["Erythrolamprus bizona"])
        assert not em("**Ophiophagus hannah**", ["Ophiophagus hannah"])
        assert not em("The snake is Python bivittatus", ["Python bivittatus"])
        assert not em("Oreocryptophis porphyraceus coxi", ["Oreocryptophis porphyraceus"])

    def test_multiple_answers_and_unicode(self) -> None:
        assert em("Natrix helvetica", ["Natrix natrix", "Natrix helvetica"])
        assert em("ÉLAPHE TAENIURA", ["élaphe taeniura"])

    def test_empty(self) -> None:
        assert not em("", ["Elaphe taeniura"])
        assert not em("   ", ["Elaphe taeniura"])
        assert not em(None, ["Elaphe taeniura"])
        assert not em("", [""])


class TestGenusMatch:
    def test_first_word_equal(self) -> None:
        assert genus_em("Crotalus atrox", ["Crotalus scutulatus"])
        assert genus_em("crotalus", ["Crotalus scutulatus"])
        assert genus_em("Crotalus spp.", ["Crotalus simus"])
        assert not genus_em("Sistrurus tergeminus", ["Crotalus scutulatus"])

    def test_punctuation_on_the_first_word_is_wrong(self) -> None:
        assert not genus_em("**Ophiophagus hannah**", ["Ophiophagus hannah"])
        assert not genus_em("Crotalus, probably", ["Crotalus atrox"])

    def test_sentence_is_wrong(self) -> None:
        assert not genus_em("The snake is a Crotalus atrox", ["Crotalus atrox"])

    def test_empty(self) -> None:
        assert not genus_em("", ["Crotalus atrox"])
        assert not genus_em(None, ["Crotalus atrox"])
        assert not genus_em("Crotalus atrox", [""])


def test_registry_and_names() -> None:
    assert set(METRICS) == {"answer_in_pred", "answer_in_pred_aliases", "em", "genus_em"}
    assert metric_names()[-1] == "judge"
    assert check_metric("em") == "em"
    with pytest.raises(ConfigurationError, match=r"Unknown metric 'exact'.*answer_in_pred"):
        check_metric("exact")

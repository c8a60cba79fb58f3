"""The language pipeline on the kind of text telephone ASR produces, in English and Russian."""

from __future__ import annotations

import pytest

from analysis.language import pipeline
from callqa.errors import InputError


def test_english_lemmas_sentences_and_questions() -> None:
    text = "I'm calling from Brightline Logistics. how many parcels do you send in a week"
    analysed = pipeline("en").analyse(text)
    assert [s.text for s in analysed.sentences] == [
        "I'm calling from Brightline Logistics.",
        "how many parcels do you send in a week",
    ]
    assert analysed.sentences[0].lemmas[:3] == ("i", "be", "call")
    assert "parcel" in analysed.sentences[1].lemmas
    # no question mark (ASR dropped it), but it opens with a question word
    assert [s.is_question for s in analysed.sentences] == [False, True]
    assert analysed.questions == 1


def test_russian_lemmas_and_questions() -> None:
    analysed = pipeline("ru").analyse(
        "Добрый день, меня зовут Иван. Я звоню из компании. Удобно ли вам говорить. Как вы доставляете заказы?"
    )
    assert analysed.sentences[0].lemmas == ("добрый", "день", "я", "звать", "иван")
    assert ("звонить", "компания") == tuple(
        l for l in analysed.sentences[1].lemmas if l in {"звонить", "компания"}
    )
    assert [s.is_question for s in analysed.sentences] == [False, False, True, True]


def test_pipeline_is_built_once_and_unknown_language_is_refused() -> None:
    assert pipeline("en") is pipeline("en")
    with pytest.raises(InputError, match="language 'de': not supported"):
        pipeline("de")

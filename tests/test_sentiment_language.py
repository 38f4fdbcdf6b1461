"""Language detection: the right lexicon for the message, "und" when it cannot tell."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment import detect_language
from sentiment import language as language_module

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("This is the worst flight I have ever had, the crew was rude", "en"),
        ("@united my bag did not arrive, can you help me please?", "en"),
        ("thank you", "en"),
        ("Der Zug hat schon wieder 20 Minuten Verspätung", "de"),
        ("@DB_Bahn warum fährt heute kein Zug nach Hamburg?", "de"),
        ("Danke, super Service!", "de"),
        ("Le train est encore en retard, c'est vraiment inadmissible", "fr"),
        ("El vuelo fue cancelado y nadie responde a mis correos", "es"),
        ("Il treno è di nuovo in ritardo e nessuno ci informa", "it"),
        ("De trein is weer te laat en niemand weet waarom", "nl"),
        ("O voo foi cancelado e ninguém responde às minhas mensagens", "pt"),
    ],
)
def test_detects_supported_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ok",
        "👍👍",
        "12345 67",
        "@united http://t.co/abc #",
        "ありがとうございます、とても助かりました",
        "شكرا جزيلا على المساعدة السريعة",
    ],
)
def test_undetermined_when_too_short_or_unsupported_script(text: str) -> None:
    assert detect_language(text) == "und"


def test_french_is_not_called_german() -> None:
    assert detect_language("Merci beaucoup pour votre aide rapide et efficace") == "fr"


def test_detector_is_built_once() -> None:
    detect_language("Der Zug ist pünktlich, das ist wirklich schön")
    first = language_module._get_detector()
    detect_language("Le train est à l'heure, c'est vraiment agréable")
    assert language_module._get_detector() is first


def test_detector_is_built_lazily() -> None:
    code = (
        "import sentiment, sentiment.language as l; "
        "assert l._detector is None; "
        "sentiment.detect_language('Le train est encore en retard aujourd hui'); "
        "assert l._detector is not None"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_always_returns_a_known_code(text: str) -> None:
    assert detect_language(text) in (*language_module.SUPPORTED_LANGUAGES, "und")

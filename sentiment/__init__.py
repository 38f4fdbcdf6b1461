"""Sentiment of customer messages: ``analyze(text) -> Sentiment``.

Pure Python, no Django models; see ``analyzer`` for the engine and ``lexicons/README.md``
for the data it uses.
"""

from .analyzer import Sentiment, analyze
from .language import detect_language

__all__ = ["Sentiment", "analyze", "detect_language"]

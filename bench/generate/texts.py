"""Texts of generated messages and their sentiment, computed by our own analyzer.

A text is a real one from the pools in `sources`, varied by who it is addressed to: a public
customer message starts with the brand's handle, as on X or in a comment. So every account
has its own variant of a text, and the number of distinct texts stays bounded (pool size x
accounts). Each distinct text is analyzed once by `sentiment.analyze`, exactly as the
intake would, and the result is cached: every stored message carries the label, polarity,
subjectivity and language the product itself gives that text.
"""

import time

from sentiment import analyze


class ScoredTexts:
    """`score(text)` = `sentiment.analyze(text)`, once per distinct text."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[str, float, float, str]] = {}
        self.seconds = 0.0

    def score(self, text: str) -> tuple[str, float, float, str]:
        found = self.cache.get(text)
        if found is None:
            began = time.process_time()
            mood = analyze(text)
            self.seconds += time.process_time() - began
            found = self.cache[text] = (mood.label, mood.polarity, mood.subjectivity, mood.language)
        return found

    def languages(self) -> dict[str, int]:
        """How many distinct texts per detected language (the data set's language mix is
        these weighted by use; the generator counts that separately)."""
        counts: dict[str, int] = {}
        for _, _, _, language in self.cache.values():
            counts[language] = counts.get(language, 0) + 1
        return counts


def addressed(text: str, handle: str, is_public: bool) -> str:
    """A public message names whom it is for; a private one does not."""
    return f"@{handle} {text}" if is_public and handle else text

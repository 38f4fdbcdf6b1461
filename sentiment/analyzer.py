"""Public entry point: text in, :class:`Sentiment` out.

``analyze`` detects the language (unless the caller knows it), tokenizes once, and scores
with that language's lexicon: English (TextBlob's pattern lexicon + care lexicon), German
(German polarity lexicon + care lexicon); other languages and "und" are handled as noted
on :func:`analyze`.  The label comes from fixed polarity thresholds, see ``NEGATIVE_BELOW``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .language import UNDETERMINED, detect_language
from .lexicon import get_lexicon
from .scorer import score
from .tokens import tokenize

__all__ = ["Sentiment", "analyze", "label_for", "NEGATIVE_BELOW", "POSITIVE_ABOVE"]

# Label thresholds on polarity.  A single mild cue ("late", "thanks") squashes to about
# +-0.3..0.4, a weak one (a lone "?!" or a hedge) to about +-0.1..0.2: the neutral band is
# set so that one weak cue stays neutral and one clear cue decides.  The band is slightly
# narrower on the negative side because in a support queue a faint complaint is the
# costlier one to miss.
NEGATIVE_BELOW = -0.25
POSITIVE_ABOVE = 0.35

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class Sentiment:
    """Result of :func:`analyze`.

    label: "negative" | "neutral" | "positive"; polarity: -1.0..1.0;
    subjectivity: 0.0..1.0; language: ISO 639-1 code or "und".
    """

    label: str
    polarity: float
    subjectivity: float
    language: str


def label_for(polarity: float) -> str:
    """Map a polarity to its label with the module thresholds."""
    if polarity < NEGATIVE_BELOW:
        return "negative"
    if polarity > POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def analyze(text: str, language: str | None = None) -> Sentiment:
    """Score ``text``; never raises for any ``str`` input.

    ``language`` given (e.g. "de") skips detection.  Texts detected as "und" (too short or
    no letters) are scored with the English lexicon; languages without a word lexicon
    (fr, es, ...) are scored by emoji, emoticons and punctuation only.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    code = (language or "").strip().lower()[:2] if language else detect_language(text)
    if not code:
        code = UNDETERMINED
    lexicon = get_lexicon("en" if code == UNDETERMINED else code)
    polarity, subjectivity = score(tokenize(text), lexicon)
    polarity = round(polarity, 4)
    return Sentiment(label_for(polarity), polarity, round(subjectivity, 4), code)

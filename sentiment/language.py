"""Language detection for short customer-care messages.

lingua does the work, restricted to a fixed list of languages so that it stays fast and
a French or Dutch message is not forced into English or German. Two things are added
because customer messages are short and noisy:

* the text is cleaned first (URLs, @mentions, ``#``, digits, emoji removed) so that
  handles and links do not vote;
* lingua's n-gram models are unreliable on a handful of words ("thank you" comes out
  German, "DM sent" French).  A small list of English and German function words and
  courtesy words is counted as well and decides when lingua is unsure or the text is
  very short.  Nothing is decided from one content word alone.
* when three or more of those words of one language and none of the other occur, the
  message is that language without asking lingua: support queues are mostly English or
  German, and this keeps detection cheap (lingua costs ~0.1-0.2 ms a message).

The detector is built lazily, once per process: building it costs ~0.1 s and ~20 MB.
Low-accuracy mode (trigrams only) is used because it is ~5x faster than the full
models and the function-word check covers its weak spot, short texts.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

__all__ = ["SUPPORTED_LANGUAGES", "UNDETERMINED", "clean_for_detection", "detect_language"]

UNDETERMINED = "und"

#: ISO 639-1 codes the detector chooses between.  Anything else comes out as one of these
#: or as "und"; keep the list short, every language costs speed and memory.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl", "pt")

# Only the first characters are looked at: language does not change mid-message often
# enough to pay for scanning a 10 kB text.
_SAMPLE_CHARS = 400
# Below this many letter-words nothing reliable can be said without a marker word.
_MIN_WORDS = 3
# lingua's top confidence below which the function-word count is asked instead.
_MIN_CONFIDENCE = 0.55
# This many marker words of one language and none of the other decide without lingua: a
# message with "the", "my", "flight" is English.  Most support messages take this path,
# which keeps detection at a few microseconds.
_DECISIVE = 3
# Under this, lingua is not trusted at all for languages other than en/de, because a
# couple of words are not enough to tell e.g. Dutch from German.
_SHORT_WORDS = 5

_NOISE_RE = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"
    r"|[@#]\w*|&[a-z]+;|&#\d+;|[\d_]+",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

_MARKERS_FILE = Path(__file__).resolve().parent / "lexicons" / "language-markers.tsv"


def _load_markers() -> dict[str, frozenset[str]]:
    """Marker words per language, from ``lexicons/language-markers.tsv``."""
    words: dict[str, set[str]] = {}
    with _MARKERS_FILE.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                code, _, text = line.partition("\t")
                words.setdefault(code.strip(), set()).update(text.split())
    return {code: frozenset(ws) for code, ws in words.items()}


_MARKERS = _load_markers()
_EN_MARKERS = _MARKERS["en"]
_DE_MARKERS = _MARKERS["de"]
_UMLAUT_RE = re.compile(r"[äöüß]", re.IGNORECASE)
# Letters of the Latin script (basic, Latin-1, Latin Extended-A/B).  A sample whose letters
# are mostly something else (Arabic, CJK, Cyrillic, ...) is in no supported language.
_LATIN_LETTER_RE = re.compile(r"[a-zA-Z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")

_detector: LanguageDetector | None = None
_lock = threading.Lock()


def _get_detector() -> LanguageDetector:
    """Build the lingua detector on first use; later calls return the same object."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

                languages = [
                    Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
                    for code in SUPPORTED_LANGUAGES
                ]
                _detector = (
                    LanguageDetectorBuilder.from_languages(*languages)
                    .with_low_accuracy_mode()
                    .build()
                )
    return _detector


def clean_for_detection(text: str) -> str:
    """Drop what carries no language signal: URLs, handles, hashtag signs, numbers."""
    return " ".join(_NOISE_RE.sub(" ", text[:_SAMPLE_CHARS]).split())


def _marker_vote(words: list[str], sample: str) -> tuple[int, int]:
    """Count English and German marker words; umlauts and ß count once for German."""
    en = de = 0
    for word in words:
        if word in _EN_MARKERS:
            en += 1
        elif word in _DE_MARKERS:
            de += 1
    if _UMLAUT_RE.search(sample):
        de += 1
    return en, de


def detect_language(text: str) -> str:
    """Return the ISO 639-1 code of ``text`` ("en", "de", ...) or "und" when unsure.

    Texts with fewer than three words and no marker word, texts without letters and texts
    mostly in a non-Latin script come back as "und"; callers score those as English.
    """
    if not isinstance(text, str) or not text:
        return UNDETERMINED
    sample = clean_for_detection(text)
    words = _WORD_RE.findall(sample.lower())
    if not words:
        return UNDETERMINED
    letters = sum(map(len, words))
    if len(_LATIN_LETTER_RE.findall(sample)) * 2 < letters:
        return UNDETERMINED
    en, de = _marker_vote(words, sample)
    marker_choice = "en" if en > de else "de" if de > en else UNDETERMINED
    if len(words) < _MIN_WORDS:
        return marker_choice
    if (en >= _DECISIVE and not de) or (de >= _DECISIVE and not en):
        return marker_choice

    confidences = _get_detector().compute_language_confidence_values(sample)
    if not confidences:
        return marker_choice
    top = confidences[0]
    code = top.language.iso_code_639_1.name.lower()
    if marker_choice != UNDETERMINED and code != marker_choice:
        # Function words disagree with the n-gram model.  Trust them when the text is
        # short or lingua itself is unsure; otherwise a long foreign text quoting a few
        # English words would be mislabelled.
        unsure = len(words) < _SHORT_WORDS or top.value < _MIN_CONFIDENCE
        if unsure or (code in ("en", "de") and abs(en - de) >= 3):
            return marker_choice
    if top.value < _MIN_CONFIDENCE and len(words) < _SHORT_WORDS:
        return marker_choice
    return code

"""Lexicons per language, loaded once per process and kept in plain dicts.

English starts from TextBlob's pattern lexicon (``textblob/en/en-sentiment.xml``, the data
behind ``PatternAnalyzer``) read through TextBlob's own ``Sentiment`` loader; German starts
from the German polarity lexicon shipped by textblob-de (``lexicons/de-sentiment.xml``)
read through the same loader.  On top of each come the customer-care entries
(``lexicons/<lang>-care.tsv``), the shared emoji/emoticon table and the modifiers
(negators, intensifiers, contrast words).

Everything ends up in dicts keyed by lower-case word so that scoring is a handful of dict
look-ups per token; the lexicon objects are built lazily and cached.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entry", "Lexicon", "emoji_table", "emoticon_table", "get_lexicon"]

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

# Entry flags (bit mask).
NO_FLIP = 1  # negation does not turn it around ("no refund" is still a complaint)
HEAD = 2  # German: also counts as the last part of a compound noun
ADJECTIVE = 4  # may appear with inflection endings ("schlecht" -> "schlechten")
COURTESY = 8  # "thanks", "danke": praise only when nothing in the message complains


@dataclass(frozen=True, slots=True)
class Entry:
    """One scored word or phrase: polarity -1..1, subjectivity 0..1, flag bits."""

    polarity: float
    subjectivity: float
    flags: int = 0


@dataclass(slots=True)
class Lexicon:
    """Everything the scorer needs for one language."""

    code: str
    words: dict[str, Entry] = field(default_factory=dict)
    # first word -> [(following words, entry)], longest phrase first
    phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = field(default_factory=dict)
    negators: frozenset[str] = frozenset()
    intensifiers: dict[str, float] = field(default_factory=dict)
    contrast: frozenset[str] = frozenset()
    absence: frozenset[str] = frozenset()  # "no", "kein": may name a missing thing
    absence_fillers: frozenset[str] = frozenset()  # "no one", "keine Ahnung": they do not
    compound_heads: re.Pattern[str] | None = None
    inflected: bool = False  # try stripping adjective endings (German) on a miss
    neutral: frozenset[str] = frozenset()  # words declared to carry no sentiment

    def lookup(self, word: str) -> Entry | None:
        """Entry for one lower-case word, with the language's fallbacks for misses.

        German only: an inflected adjective ("schlechten") is found by its stem, if that
        stem is an adjective or participle (so "Krieger" does not become "Krieg"), and a
        compound noun ("Weichenstörung") by its last part.
        """
        entry = self.words.get(word)
        if entry is not None or not self.inflected or len(word) < 4 or word in self.neutral:
            return entry
        for ending in _DE_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                entry = self.words.get(word[: -len(ending)])
                if entry is not None and entry.flags & ADJECTIVE:
                    return entry
        if self.compound_heads is not None and len(word) > 6:
            match = self.compound_heads.search(word)
            if match is not None and match.start() >= 3:
                return self.words.get(match.group(1))
        return None


# The German polarity lexicon only knows +-0.7 and +-1.0 (mean |polarity| 0.88); pattern's
# English lexicon averages 0.41.  Scaling German by their ratio puts one German word on the
# same footing as one English word, so both share the label thresholds.
DE_SCALE = 0.46

# German adjective/participle endings, longest first, tried when a word is not found.
_DE_ENDINGS = ("sten", "ster", "stes", "stem", "ste", "en", "er", "es", "em", "e")


def _read_tsv(path: Path) -> list[list[str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            rows.append(line.split("\t"))
    return rows


def _pattern_words(xml_path: Path | None, scale: float = 1.0) -> dict[str, Entry]:
    """Read a pattern-format XML lexicon with TextBlob's loader; average senses per word.

    ``None`` means TextBlob's own English lexicon (``textblob.en.sentiment``), which also
    adds the "-ly" adverbs derived from adjectives.  Polarities are multiplied by ``scale``.
    Lexicons without subjectivity (the German one has 0 everywhere) get 0.8 x |polarity|:
    a strongly polar word is a subjective one.
    """
    if xml_path is None:
        from textblob.en import sentiment as source

        source.load()
    else:
        from textblob._text import Sentiment as PatternSentiment

        source = PatternSentiment(path=str(xml_path))
        source.load()
    words: dict[str, Entry] = {}
    for form, by_pos in dict.items(source):
        if not form or "_" in form or " " in form:
            continue  # multi-word forms ("gut_gelaunt") cannot match single tokens
        polarity, subjectivity, _intensity = by_pos[None]
        key = form.lower()
        flags = ADJECTIVE if "JJ" in by_pos and not form[:1].isupper() else 0
        previous = words.get(key)
        if previous is not None:  # "Arm" (noun) and "arm" (adjective): average them
            polarity = (polarity + previous.polarity / scale) / 2
            subjectivity = (subjectivity + previous.subjectivity) / 2
            flags |= previous.flags
        if not subjectivity:
            subjectivity = 0.8 * abs(polarity)
        words[key] = Entry(float(polarity) * scale, float(subjectivity), flags)
    return words


def _parse_flags(text: str) -> int:
    return (
        (NO_FLIP if "n" in text else 0)
        | (HEAD if "h" in text else 0)
        | (COURTESY if "c" in text else 0)
    )


def _add_care_entries(lexicon: Lexicon, path: Path) -> None:
    heads: list[str] = []
    phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
    for row in _read_tsv(path):
        phrase, polarity = row[0].strip().lower(), float(row[1])
        flags = _parse_flags(row[2]) if len(row) > 2 else 0
        if not flags & HEAD:  # care words without the noun flag may be inflected
            flags |= ADJECTIVE
        entry = Entry(polarity, min(1.0, abs(polarity) + 0.2) if polarity else 0.0, flags)
        parts = tuple(phrase.split())
        if len(parts) == 1:
            lexicon.words[phrase] = entry
            if flags & HEAD:
                heads.append(phrase)
        else:
            phrases.setdefault(parts[0], []).append((parts[1:], entry))
    for candidates in phrases.values():
        candidates.sort(key=lambda item: len(item[0]), reverse=True)
    lexicon.phrases = phrases
    if heads:
        alternatives = "|".join(sorted(map(re.escape, heads), key=len, reverse=True))
        lexicon.compound_heads = re.compile(rf"({alternatives})$")
    # Polarity 0 means "not a sentiment word here": drop it so it neither scores nor
    # dilutes subjectivity, and remember it so the German fallbacks do not find the
    # entry again by its stem ("links" -> "link").
    neutral = [w for w, e in lexicon.words.items() if e.polarity == 0.0]
    for word in neutral:
        del lexicon.words[word]
    lexicon.neutral = frozenset(neutral)


def _add_modifiers(lexicon: Lexicon) -> None:
    negators, contrast, absence, fillers = set(), set(), set(), set()
    intensifiers: dict[str, float] = {}
    for language, kind, word, factor in _read_tsv(LEXICON_DIR / "modifiers.tsv"):
        if language != lexicon.code:
            continue
        if kind == "neg":
            negators.add(word)
        elif kind == "int":
            intensifiers[word] = float(factor)
        elif kind == "but":
            contrast.add(word)
        elif kind == "absence":
            absence.add(word)
        elif kind == "filler":
            fillers.add(word)
    lexicon.negators = frozenset(negators)
    lexicon.intensifiers = intensifiers
    lexicon.contrast = frozenset(contrast)
    lexicon.absence = frozenset(absence & negators)
    lexicon.absence_fillers = frozenset(fillers)


def _build(code: str) -> Lexicon:
    if code == "en":
        lexicon = Lexicon(code, words=_pattern_words(None))
    elif code == "de":
        lexicon = Lexicon(
            code, words=_pattern_words(LEXICON_DIR / "de-sentiment.xml", DE_SCALE), inflected=True
        )
    else:
        return Lexicon(code)  # no word lexicon: only emoji, emoticons and punctuation
    _add_care_entries(lexicon, LEXICON_DIR / f"{code}-care.tsv")
    _add_modifiers(lexicon)
    return lexicon


_cache: dict[str, Lexicon] = {}
_lock = threading.Lock()


def get_lexicon(code: str) -> Lexicon:
    """The lexicon for "en", "de", or an empty one (symbols only) for other languages."""
    key = code if code in ("en", "de") else "xx"
    lexicon = _cache.get(key)
    if lexicon is None:
        with _lock:
            lexicon = _cache.get(key)
            if lexicon is None:
                lexicon = _cache[key] = _build(key)
    return lexicon


def _symbol_rows() -> list[tuple[str, float]]:
    return [(row[0], float(row[1])) for row in _read_tsv(LEXICON_DIR / "emoji.tsv")]


_symbols: tuple[dict[str, float], dict[str, float]] | None = None


def _load_symbols() -> tuple[dict[str, float], dict[str, float]]:
    global _symbols
    if _symbols is None:
        emoji: dict[str, float] = {}
        emoticons: dict[str, float] = {}
        for symbol, polarity in _symbol_rows():
            if any(ch.isascii() for ch in symbol):
                emoticons[symbol.lower()] = polarity
            else:
                emoji[symbol] = polarity
        _symbols = (emoji, emoticons)
    return _symbols


def emoji_table() -> dict[str, float]:
    """Emoji code point -> polarity."""
    return _load_symbols()[0]


def emoticon_table() -> dict[str, float]:
    """Lower-case ASCII emoticon -> polarity."""
    return _load_symbols()[1]

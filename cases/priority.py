"""Priority: a 0–100 score for a case, the P1–P4 level it maps to, and why.

The score puts first what hurts most when it waits: an angry customer, a complaint many people
can see, a customer we promised close care, someone who has written again and again or waited
long. It is a sum of points per factor, clamped to 0..100, and every factor that adds at least
2 points is named in the reason, biggest first, so an agent can see why a case is on top.

Points per factor (the cap in brackets):

- negative sentiment: 30 × −polarity; positive polarity adds nothing (30)
- getting worse: 20 × the drop in polarity within the case (10)
- urgency words: 12 for the first, 4 for each further distinct word (20)
- followers: 4 × log10(followers) on a public post, half that in private (24 public, 12 private)
- public post: 5
- tier: tech-touch 0, low-touch 6, mid-touch 12, high-touch 20; a tier an admin added counts
  as mid-touch, the default
- repeat contacts: 5 per further contact (15)
- waiting: 2.5 per hour waited (15, reached at 6 h); `rises_after` says when it lifts the level

Levels: P1 from 60, P2 from 35, P3 from 10, P4 below. With these, an angry (−0.7) public post
from a 48k-follower high-touch customer is P1 on its own (65), a neutral mid-touch message is P3,
and a thank-you on tech-touch is P4. Positive sentiment adds nothing but never subtracts: "thanks,
but where is my refund?" still needs an answer, so politeness must not push it down the queue.
A floor (from a routing rule, or left by an SLA breach) can raise the level, never the
score, and the reason says which.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

PRIORITY_LEVELS = ("P1", "P2", "P3", "P4")
THRESHOLDS = (("P1", 60), ("P2", 35), ("P3", 10))  # the lowest value of each level; P4 below

NEGATIVE_SENTIMENT_POINTS = 30.0
WORSENING_POINTS_PER_UNIT = 20.0
WORSENING_MAX = 10.0
FIRST_WORD_POINTS = 12.0
FURTHER_WORD_POINTS = 4.0
WORDS_MAX = 20.0
FOLLOWER_POINTS_PER_DECADE = 4.0
FOLLOWERS_MAX = 24.0
PRIVATE_FOLLOWER_SHARE = 0.5
PUBLIC_POINTS = 5.0
TIER_POINTS = {"tech": 0.0, "low": 6.0, "mid": 12.0, "high": 20.0}
UNKNOWN_TIER_AS = "mid"  # an admin may add a tier; it counts like the default tier
REPEAT_POINTS = 5.0
REPEAT_MAX = 15.0
WAITING_POINTS_PER_HOUR = 2.5
WAITING_MAX = 15.0
MIN_REASON_POINTS = 2.0

# Each keyword is matched at the start of a word against folded text (lower case, umlauts as
# plain vowels, ß as ss), so "REFUNDS!!!", "Kündigung" and "kuendigen" are all found. A pattern
# must match a whole word; short stems list their forms so "sue" does not find "suede".
_UMLAUT = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_KEYWORDS: tuple[tuple[str, str], ...] = (
    # English
    ("refund", r"refund\w*"),
    ("chargeback", r"chargebacks?"),
    ("cancellation", r"cancell?ations?"),
    ("cancel", r"cancel(?:s|led|ed|ling|ing)?"),
    ("lawyer", r"lawyers?"),
    ("attorney", r"attorneys?"),
    ("lawsuit", r"lawsuits?"),
    ("legal", r"(?:il)?legal(?:ly)?"),
    ("sue", r"su(?:e|es|ed|ing)"),
    ("urgent", r"urgent(?:ly)?|urgency"),
    ("asap", r"asap"),
    ("immediately", r"immediate(?:ly)?"),
    ("emergency", r"emergenc(?:y|ies)"),
    ("fraud", r"fraud\w*"),
    ("scam", r"scam(?:s|med|mer|mers)?"),
    ("hacked", r"hack(?:ed|er|ers)?"),
    ("stolen", r"stolen"),
    ("unauthorized", r"unauthori[sz]ed"),
    ("complaint", r"complain(?:t|ts|ed|ing)?"),
    ("escalate", r"escalat(?:e|ed|ing|ion)"),
    # German
    ("rückerstattung", r"ru(?:e)?ckerstatt\w*"),
    ("erstattung", r"erstatt\w*"),
    ("kündigung", r"ku(?:e)?ndigung\w*"),
    ("kündigen", r"(?:ge)?ku(?:e)?ndig(?:e|en|st|t|te|ten)?"),
    ("stornieren", r"storn\w*"),
    ("widerruf", r"widerruf\w*"),
    ("anwalt", r"(?:rechts)?anwa(?:e)?lt\w*"),
    ("klage", r"(?:ver)?klag(?:e|en|t)"),
    ("dringend", r"dringend\w*|dringlich\w*"),
    ("sofort", r"sofort\w*"),
    ("notfall", r"notfa(?:e)?ll\w*"),
    ("betrug", r"betrug\w*|betrog\w*|betrueg\w*"),
    ("gehackt", r"gehackt\w*"),
    ("beschwerde", r"beschwer(?:de|den|en|e|t)"),
    ("verbraucherzentrale", r"verbraucherzentrale\w*"),
    ("schadensersatz", r"schadens?ersatz\w*"),
    ("verstoß", r"verstoss\w*"),
)
# One alternation, tried in table order: a token is matched once instead of once per keyword.
_WORDS_BY_GROUP = {f"k{i}": word for i, (word, _) in enumerate(_KEYWORDS)}
_ANY_KEYWORD = re.compile(
    "|".join(f"(?P<k{i}>{pattern})" for i, (_, pattern) in enumerate(_KEYWORDS))
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class PriorityInputs:
    """What the score looks at, as plain values (see the module docstring for the weights)."""

    polarity: float = 0.0  # sentiment of the case now, -1..1
    trend: float = 0.0  # latest minus earlier polarity within the case; negative = worse
    text: str = ""  # recent inbound text, scanned for urgency words
    words: tuple[str, ...] | None = None  # the urgency words of `text`, when found already
    followers: int = 0
    is_public: bool = False
    tier: str = "mid"  # "tech" | "low" | "mid" | "high"
    repeat_contacts: int = 0  # further inbound messages in the case + recent earlier cases
    waiting_seconds: float = 0.0  # how long the customer has waited for a response
    floor: str = ""  # a minimum priority, "P1".."P4" or ""
    floor_source: str = "routing"  # what set the floor, named in the reason

    def __post_init__(self) -> None:
        if self.floor and self.floor not in PRIORITY_LEVELS:
            raise ValueError(f"unknown priority floor {self.floor!r}")


@dataclass(frozen=True, slots=True)
class Score:
    value: int  # 0..100
    priority: str  # "P1".."P4"
    reasons: tuple[str, ...]  # biggest contribution first

    @property
    def reason(self) -> str:
        """The reasons as one line, e.g. "negative sentiment −0.70; 48k followers; public post"."""
        return "; ".join(self.reasons)


def score(inputs: PriorityInputs) -> Score:
    """Score a case from plain values, and say which factors made the score."""
    factors = _factors(inputs)
    total = sum(points for points, _ in factors)
    value = _value(total)
    # sorted() is stable, so equal contributions keep the table's order.
    ranked = sorted((f for f in factors if f[0] >= MIN_REASON_POINTS), key=lambda f: -f[0])
    reasons = [text for _, text in ranked]
    level = level_for(value)
    priority = raise_level(level, inputs.floor)
    if priority != level:
        reasons.insert(0, f"{inputs.floor_source} floor {inputs.floor}")
    return Score(value=value, priority=priority, reasons=tuple(reasons))


def rises_after(inputs: PriorityInputs) -> float | None:
    """The waiting time, in whole seconds and later than `inputs.waiting_seconds`, at which
    waiting alone next lifts the score into a higher level; None when it never will (the
    waiting points are capped, or the score is P1 already)."""
    waited = max(0.0, _finite(inputs.waiting_seconds))
    factors = _factors(inputs)
    rest = sum(points for points, _ in factors[:-1])  # all but the waiting points
    value = _value(rest + factors[-1][0])
    for _, lowest in reversed(THRESHOLDS):
        if lowest <= value:
            continue
        points = lowest - 0.5 - rest  # the score rounds half up
        if points > WAITING_MAX:
            return None
        # Whole seconds, one past the exact moment, so float rounding cannot fall short.
        seconds = math.floor(points / WAITING_POINTS_PER_HOUR * 3600) + 1
        if seconds > waited:
            return float(seconds)
    return None


def _factors(inputs: PriorityInputs) -> list[tuple[float, str]]:
    """Points and reason of each factor, in the table's order; waiting last."""
    polarity = _finite(inputs.polarity)
    worsening = max(0.0, -_finite(inputs.trend))
    words = urgency_words(inputs.text) if inputs.words is None else inputs.words
    followers = max(0, inputs.followers)
    repeats = max(0, inputs.repeat_contacts)
    waited = max(0.0, _finite(inputs.waiting_seconds))

    follower_points = min(FOLLOWERS_MAX, FOLLOWER_POINTS_PER_DECADE * math.log10(max(1, followers)))
    if not inputs.is_public:
        follower_points *= PRIVATE_FOLLOWER_SHARE
    return [
        (
            NEGATIVE_SENTIMENT_POINTS * max(0.0, -polarity),
            f"negative sentiment {_signed(polarity)}",
        ),
        (min(WORSENING_MAX, WORSENING_POINTS_PER_UNIT * worsening), "getting worse"),
        (_word_points(len(words)), ", ".join(f"'{word}'" for word in words)),
        (follower_points, _followers(followers)),
        (PUBLIC_POINTS if inputs.is_public else 0.0, "public post"),
        _tier(inputs.tier),
        (min(REPEAT_MAX, REPEAT_POINTS * repeats), f"{_ordinal(repeats + 1)} contact"),
        (min(WAITING_MAX, WAITING_POINTS_PER_HOUR * waited / 3600), _waiting(waited)),
    ]


def _value(total: float) -> int:
    return max(0, min(100, math.floor(total + 0.5)))


def urgency_words(text: str) -> tuple[str, ...]:
    """The urgency keywords in `text`, each once, in order of first appearance, lower case."""
    found: dict[str, None] = {}
    for token in _WORD.findall(_fold(text)):
        word = _keyword_of(token)
        if word is not None:
            found.setdefault(word)
    return tuple(found)


# Text → its urgency words, for texts whose words were found ahead (an import's scoring
# workers find them beside the sentiment); bounded like the token memo below.
_WORDS_OF_TEXT: dict[str, tuple[str, ...]] = {}


def words_found_ahead(texts: Sequence[str], words: Sequence[tuple[str, ...]]) -> None:
    """Remember each text's urgency words, found by `urgency_words` elsewhere."""
    if len(_WORDS_OF_TEXT) + len(texts) > _MAX_REMEMBERED_TOKENS:
        _WORDS_OF_TEXT.clear()
    _WORDS_OF_TEXT.update(zip(texts, words, strict=True))


def urgency_words_of(texts: Sequence[str]) -> tuple[str, ...]:
    """`urgency_words(" ".join(texts))`, from each text's own words where they are known:
    a word never spans two texts joined by a space, so the words of the whole are each
    text's words in turn, each kept once."""
    found: dict[str, None] = {}
    for text in texts:
        words = _WORDS_OF_TEXT.get(text)
        found.update(dict.fromkeys(urgency_words(text) if words is None else words))
    return tuple(found)


# Token → its keyword or None. The same few thousand words make up most texts, so a bulk
# import rescoring thousands of cases matches each one once, not once per occurrence.
_KEYWORD_OF_TOKEN: dict[str, str | None] = {}
_MAX_REMEMBERED_TOKENS = 50_000


def _keyword_of(token: str) -> str | None:
    try:
        return _KEYWORD_OF_TOKEN[token]
    except KeyError:
        pass
    match = _ANY_KEYWORD.fullmatch(token)
    word = _WORDS_BY_GROUP[match.lastgroup] if match is not None else None
    if len(_KEYWORD_OF_TOKEN) >= _MAX_REMEMBERED_TOKENS:
        _KEYWORD_OF_TOKEN.clear()
    _KEYWORD_OF_TOKEN[token] = word
    return word


def level_for(value: int) -> str:
    """P1 from 60, P2 from 35, P3 from 10, otherwise P4."""
    for level, lowest in THRESHOLDS:
        if value >= lowest:
            return level
    return "P4"


def raise_level(priority: str, floor: str) -> str:
    """The more urgent of a priority and a floor ("" = no floor)."""
    if priority not in PRIORITY_LEVELS:
        raise ValueError(f"unknown priority {priority!r}")
    if not floor:
        return priority
    if floor not in PRIORITY_LEVELS:
        raise ValueError(f"unknown priority floor {floor!r}")
    return min(priority, floor, key=PRIORITY_LEVELS.index)


def _tier(tier: str) -> tuple[float, str]:
    if tier in TIER_POINTS:
        return TIER_POINTS[tier], f"{tier}-touch tier"
    return TIER_POINTS[UNKNOWN_TIER_AS], f"{tier} tier"


def _word_points(count: int) -> float:
    if not count:
        return 0.0
    return min(WORDS_MAX, FIRST_WORD_POINTS + FURTHER_WORD_POINTS * (count - 1))


def _fold(text: str) -> str:
    # NFC first: text pasted from macOS often spells "ü" as "u" plus a combining diaeresis.
    if text.isascii():
        return text.lower()  # already NFC, and nothing to translate
    return unicodedata.normalize("NFC", text).lower().translate(_UMLAUT)


def _finite(number: float) -> float:
    return number if math.isfinite(number) else 0.0


def _signed(polarity: float) -> str:
    return f"−{abs(polarity):.2f}" if polarity < 0 else f"{polarity:.2f}"


def _followers(count: int) -> str:
    """Follower count as people read it on a profile: 950, 1.2k, 48k, 1.2M (never rounded up)."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if count >= size:
            tenths = count * 10 // size
            number = str(tenths // 10) if tenths >= 100 or tenths % 10 == 0 else f"{tenths / 10}"
            return f"{number}{suffix} followers"
    return f"{count} followers"


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _waiting(seconds: float) -> str:
    if seconds < 3600:
        return f"waiting {int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"waiting {int(seconds // 3600)} h"
    return f"waiting {int(seconds // 86400)} d"

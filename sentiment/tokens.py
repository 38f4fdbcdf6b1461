"""Turn a raw social-media / e-mail message into scoring tokens.

One precompiled regex walks the text once.  What it does and why:

* URLs, e-mail addresses and @mentions are dropped: they carry no sentiment and handles
  such as ``@united`` or ``@DB_Bahn`` would otherwise be looked up as words.
* ``#hashtags`` lose the ``#`` and CamelCase tags are split (``#NeverAgain`` -> "never
  again"), because tags like ``#fail`` are often the only opinion in a tweet.
* Emoticons (``:-(``, ``<3``) and emoji become symbol tokens with their polarity.
* Words keep a weight: ALL CAPS words (3+ letters) and elongated words ("soooo") are
  emphasised.  Elongated words are normalised to two and one repeated letters so that
  both "goood" -> "good" and "soooo" -> "so" can be found.
* Delay notation as used by rail and airline passengers ("+25 min", "+2h") becomes a
  negative symbol: it is how a late train is reported in a few characters.
* Runs of ``!`` and ``?`` become punctuation tokens (emphasis, frustration); ``, . ; :``
  and line breaks become clause breaks that end negation scope.
* HTML entities are decoded and tags removed first, because messages arrive from web
  forms and e-mail as well as from social media.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from .lexicon import emoji_table, emoticon_table

__all__ = ["BREAK", "EXCLAIM", "QUESTION", "SYMBOL", "WORD", "Token", "tokenize"]

WORD, SYMBOL, EXCLAIM, QUESTION, BREAK = range(5)

CAPS_WEIGHT = 1.3
DELAY_POLARITY = -0.4
ELONGATED_WEIGHT = 1.2
# Longer texts are cut: sentiment of a 10 kB e-mail is decided by its first pages, and the
# cut keeps the cost of one message bounded.
MAX_CHARS = 5000


class Token(NamedTuple):
    """kind; text (lower case, elongation folded to two letters); weight or polarity; alt.

    ``alt`` is the word with elongation folded to one letter, or "" when not elongated.
    """

    kind: int
    text: str
    value: float
    alt: str


def _emoticon_pattern() -> str:
    # Longest first so that ":((" wins over ":(".  Not preceded by ':', '/', '=' or a
    # digit (times like 10:30, URLs) and not followed by a word character (":so").
    alternatives = sorted(emoticon_table(), key=len, reverse=True)
    body = "|".join(re.escape(e) for e in alternatives)
    return rf"(?<![:/=\d])(?:{body})(?!\w)"


# Emoji blocks plus the older symbol blocks that hold hearts, suns, check marks.
_EMOJI_CHARS = (
    "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff"
    "\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299"
)

# Every repetition that could meet a long run of the same characters is bounded or
# unambiguous, so hostile input ("@" * 5000, "a." * 5000) is tokenized in linear time.
_EMAIL = r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"

_TOKEN_RE = re.compile(
    rf"(?P<url>(?:https?://|www\.)\S+|{_EMAIL})"
    r"|(?P<mention>@\w+)"
    r"|(?P<delay>\+\s?\d{1,3}\s?(?:min(?:uten|utes|s)?|std|stunden|hrs?|hours?|h)\b)"
    r"|\#(?P<tag>\w+)"
    rf"|(?P<emoticon>{_emoticon_pattern()})"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<punct>[!?¡¿]+)"
    r"|(?P<brk>[.,;:()\[\]\n\"“”„]|\s[-–—]\s)"
    rf"|(?P<emoji>[{_EMOJI_CHARS}])",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,300}>")
_CAMEL_RE = re.compile(r"[A-ZÄÖÜ]?[a-zäöüß]+|[A-ZÄÖÜ]+(?![a-zäöüß])")
_ELONGATED_RE = re.compile(r"([^\W\d_])\1{2,}")

# English contractions typed without the apostrophe, so that they work as negators and in
# phrases ("isnt working" = "isn't working").  None of these is a common German word.
_CONTRACTIONS = (
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "aren't",
    "wasn't",
    "weren't",
    "won't",
    "can't",
    "couldn't",
    "wouldn't",
    "shouldn't",
    "haven't",
    "hasn't",
    "hadn't",
    "ain't",
)
_BARE_CONTRACTIONS = {word.replace("'", ""): word for word in _CONTRACTIONS}

_EMOJI = emoji_table()
_EMOTICONS = emoticon_table()


_BREAK = Token(BREAK, "", 0.0, "")


def _word_token(raw: str, emphasis: bool, elongated: bool) -> Token:
    lower = raw.lower()
    if "’" in lower:
        lower = lower.replace("’", "'")
    weight = 1.0
    alt = ""
    if elongated and _ELONGATED_RE.search(lower) is not None:
        alt = _ELONGATED_RE.sub(r"\1", lower)
        lower = _ELONGATED_RE.sub(r"\1\1", lower)
        weight = ELONGATED_WEIGHT
    if emphasis and len(raw) >= 3 and raw.isupper():
        weight *= CAPS_WEIGHT
    return Token(WORD, _BARE_CONTRACTIONS.get(lower, lower), weight, alt)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into scoring tokens (see module docstring)."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    # One search over the whole text spares a per-word check in the common case.
    elongated = _ELONGATED_RE.search(text) is not None
    tokens: list[Token] = []
    append = tokens.append
    for match in _TOKEN_RE.finditer(text):
        group = match.lastgroup
        if group == "word":
            raw = match.group()
            if not elongated and (len(raw) < 3 or not raw.isupper()):
                # Fast path for the usual plain word: no emphasis, no folding.
                lower = raw.lower()
                if "’" in lower:
                    lower = lower.replace("’", "'")
                append(Token(WORD, _BARE_CONTRACTIONS.get(lower, lower), 1.0, ""))
            else:
                append(_word_token(raw, True, elongated))
        elif group == "brk":
            append(_BREAK)
        elif group == "punct":
            run = match.group()
            kind = EXCLAIM if "?" not in run and "¿" not in run else QUESTION
            append(Token(kind, run, 0.0, ""))
        elif group == "tag":
            tag = match.group("tag")
            parts = _CAMEL_RE.findall(tag) if not tag.islower() else [tag]
            for part in parts or [tag]:
                # Capitals inside a tag are spelling ("#UA"), not shouting.
                append(_word_token(part, False, elongated))
        elif group == "delay":
            append(Token(SYMBOL, match.group(), DELAY_POLARITY, ""))
        elif group == "emoji":
            polarity = _EMOJI.get(match.group())
            if polarity is not None:
                append(Token(SYMBOL, match.group(), polarity, ""))
        elif group == "emoticon":
            polarity = _EMOTICONS.get(match.group().lower())
            if polarity is not None:
                append(Token(SYMBOL, match.group(), polarity, ""))
        # url / mention: dropped
    return tokens

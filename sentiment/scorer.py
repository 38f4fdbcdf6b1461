"""Score a token list against a lexicon: the rule-based core of the engine.

The word values come from TextBlob's pattern lexicon (English) or the German polarity
lexicon plus the care lexicons; the rules around them follow pattern and VADER:

* negation ("not good", "nicht gut", "kein Problem") turns the next sentiment word within
  three words around and weakens it (x -0.74, VADER's factor: pattern's -0.5 leaves "nicht
  gut" too faint to count as a complaint); a clause break ends the scope.
  Care entries flagged NO_FLIP keep their sign ("no refund" is still a complaint).
* "no"/"kein" before a word without polarity marks an absence ("no wifi", "kein WLAN"),
  which in a support message is a complaint; a negation with nothing to negate ("they
  won't", "kommt nicht") leans negative for the same reason.
* intensifiers multiply the next sentiment word ("very", "sehr", "extrem"); an
  intensifier that has its own polarity and modifies nothing counts on its own
  ("super Service").
* after a contrast word ("but", "aber") the second part counts 1.5x, the first 0.5x.
* "!" runs amplify the overall sign; "??" and "?!" runs mark frustration.
* German adds a trailing "nicht" rule ("das gefällt mir nicht").

Values are summed (not averaged, unlike pattern) so that several complaint cues add up; a
text longer than 15 words is scored by cue density instead (the sum per 15 words), so that
a long article or e-mail needs proportionally more evidence than a tweet; the result is
squashed into -1..1 with x / sqrt(x^2 + alpha) as VADER does.
"""

from __future__ import annotations

import math

from .lexicon import COURTESY, NO_FLIP, Entry, Lexicon
from .tokens import EXCLAIM, QUESTION, SYMBOL, WORD, Token

__all__ = ["score"]

NEGATION_FACTOR = -0.74
NEGATION_SCOPE = 3
ABSENCE_VALUE = -0.3
DANGLING_NEGATION_VALUE = -0.3
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.5
EXCLAIM_STEP = 0.1
EXCLAIM_MAX = 3
FRUSTRATION_VALUE = -0.2
LENGTH_UNIT = 15.0
LENGTH_EXPONENT = 1.0
ALPHA = 1.0


def _find_phrase(lexicon: Lexicon, tokens: list[Token], i: int) -> tuple[Entry | None, int]:
    """The longest care phrase starting at token ``i`` and its length in tokens."""
    candidates = lexicon.phrases.get(tokens[i].text)
    if candidates:
        n = len(tokens)
        for rest, entry in candidates:
            k = len(rest)
            if i + k >= n:
                continue
            for j in range(k):
                token = tokens[i + 1 + j]
                if token.kind != WORD or token.text != rest[j]:
                    break
            else:
                return entry, k + 1
    return None, 1


def score(
    tokens: list[Token], lexicon: Lexicon, trace: list[tuple[str, float]] | None = None
) -> tuple[float, float]:
    """Return (polarity -1..1, subjectivity 0..1) for ``tokens``.

    ``trace``, when given, receives (token text, value) for every scored cue, to explain a
    result.
    """
    values: list[float] = []
    subjectivities: list[float] = []
    courtesy: list[int] = []  # indexes in values of "thanks"-like entries
    negators, intensifiers, contrast = lexicon.negators, lexicon.intensifiers, lexicon.contrast
    phrases = lexicon.phrases
    absence_words, absence_fillers = lexicon.absence, lexicon.absence_fillers
    german = lexicon.code == "de"
    negate = 0  # words left in the current negation scope
    absence = False  # the last word was "no"/"kein"
    dangling = False  # a negator that has not found a sentiment word yet
    boost, boost_left, boost_own = 1.0, 0, 0.0
    contrast_at = -1
    clause_start = 0  # index in values where the current clause began
    last_word = -1  # index in values of the last word (not emoji) scored
    words = exclaims = frustration = 0
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        kind = token.kind
        if kind == WORD:
            words += 1
            text = token.text
            entry, span = _find_phrase(lexicon, tokens, i) if text in phrases else (None, 1)
            if entry is None:
                if text in negators or text.endswith("n't"):
                    negate, dangling = NEGATION_SCOPE, True
                    absence = text in absence_words
                    i += 1
                    continue
                factor = intensifiers.get(text)
                if factor is not None:
                    own = lexicon.words.get(text)
                    boost, boost_left = factor, 2
                    boost_own = own.polarity * token.value if own is not None else 0.0
                    i += 1
                    continue
                if text in contrast:
                    contrast_at = len(values)
                    negate, dangling, absence, boost_left = 0, False, False, 0
                    i += 1
                    continue
                entry = lexicon.lookup(text)
                if entry is None and token.alt:
                    entry = lexicon.lookup(token.alt)
            if entry is not None:
                value = entry.polarity * token.value
                if boost_left:
                    value *= boost
                    boost_left = 0
                if negate and not entry.flags & NO_FLIP:
                    value *= NEGATION_FACTOR
                negate, dangling, absence = 0, False, False
                if value:  # a zero phrase ("guten Morgen") only consumes its words
                    if trace is not None:
                        trace.append((" ".join(t.text for t in tokens[i : i + span]), value))
                    if entry.flags & COURTESY:
                        courtesy.append(len(values))
                    last_word = len(values)
                    values.append(value)
                    subjectivities.append(entry.subjectivity)
            else:
                if absence and text not in absence_fillers and len(text) > 2:
                    if trace is not None:
                        trace.append(("no " + text, ABSENCE_VALUE))
                    values.append(ABSENCE_VALUE)
                    subjectivities.append(0.3)
                    dangling = False
                absence = False
                if negate:
                    negate -= 1
                if boost_left:
                    boost_left -= 1
                    if not boost_left and boost_own:
                        values.append(boost_own)
                        subjectivities.append(0.6)
            i += span
            continue
        if kind == SYMBOL:
            if trace is not None:
                trace.append((token.text, token.value))
            values.append(token.value)
            subjectivities.append(1.0)
        elif kind == EXCLAIM:
            exclaims += len(token.text)
        elif kind == QUESTION and len(token.text) >= 2:
            frustration += 1
        if kind != SYMBOL:
            # End of clause: close negation and intensifier scopes.
            if german and dangling and negate and last_word >= clause_start:
                # "das gefällt mir nicht": negation after the word it negates.
                values[last_word] *= NEGATION_FACTOR
                dangling = False
            if dangling:
                if trace is not None:
                    trace.append(("(negation)", DANGLING_NEGATION_VALUE))
                values.append(DANGLING_NEGATION_VALUE)
                subjectivities.append(0.3)
            if boost_left and boost_own:
                values.append(boost_own)
                subjectivities.append(0.6)
            negate, dangling, absence, boost_left = 0, False, False, 0
            clause_start = len(values)
        i += 1
    if dangling:
        if german and negate and last_word >= clause_start:
            values[last_word] *= NEGATION_FACTOR
        else:
            if trace is not None:
                trace.append(("(negation)", DANGLING_NEGATION_VALUE))
            values.append(DANGLING_NEGATION_VALUE)
            subjectivities.append(0.3)
    if boost_left and boost_own:
        values.append(boost_own)
        subjectivities.append(0.6)

    if not values and not frustration:
        return 0.0, 0.0
    if courtesy and (frustration or min(values) < 0):
        for index in courtesy:  # thanks inside a complaint: politeness or sarcasm
            values[index] = 0.0
    if 0 < contrast_at < len(values):
        total = CONTRAST_BEFORE * sum(values[:contrast_at])
        total += CONTRAST_AFTER * sum(values[contrast_at:])
    else:
        total = sum(values)
    if exclaims and total:
        total += math.copysign(EXCLAIM_STEP * min(exclaims, EXCLAIM_MAX), total)
    total += FRUSTRATION_VALUE * min(frustration, 2)
    if words > LENGTH_UNIT:
        total /= (words / LENGTH_UNIT) ** LENGTH_EXPONENT
    polarity = total / math.sqrt(total * total + ALPHA)
    subjectivity = sum(subjectivities) / len(subjectivities) if subjectivities else 0.0
    return max(-1.0, min(1.0, polarity)), max(0.0, min(1.0, subjectivity))

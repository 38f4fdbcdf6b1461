"""Priority score: what an agent sees on top of the queue, and why."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.priority import (
    PRIORITY_LEVELS,
    PriorityInputs,
    Score,
    level_for,
    raise_level,
    rises_after,
    score,
    urgency_words,
)

TIERS = ("tech", "low", "mid", "high")
URGENT = ("refund", "lawyer", "urgent", "kündigen", "sofort", "Betrug", "ASAP", "chargeback")
FILLER = ("hello", "my", "order", "is", "late", "thanks", "bitte", "Paket", "where", "why", "!!!")

texts = st.lists(st.sampled_from(URGENT + FILLER), max_size=12).map(" ".join)
inputs = st.builds(
    PriorityInputs,
    polarity=st.floats(-1, 1),
    trend=st.floats(-2, 2),
    text=texts,
    followers=st.integers(0, 10**9),
    is_public=st.booleans(),
    tier=st.sampled_from(TIERS),
    repeat_contacts=st.integers(0, 50),
    waiting_seconds=st.floats(0, 30 * 86400),
    floor=st.sampled_from(("", *PRIORITY_LEVELS)),
)


def urgency(level: str) -> int:
    """0 for P1 (most urgent) … 3 for P4."""
    return PRIORITY_LEVELS.index(level)


# Behaviour


def test_an_angry_public_tweet_from_a_48k_follower_high_touch_customer_is_p1():
    result = score(
        PriorityInputs(
            polarity=-0.7,
            text="Still no REFUND!!! I'm talking to my lawyer",
            followers=48_213,
            is_public=True,
            tier="high",
        )
    )
    assert result.priority == "P1"
    assert result.reasons == (
        "negative sentiment −0.70",
        "high-touch tier",
        "48k followers",
        "'refund', 'lawyer'",
        "public post",
    )
    assert result.reason == (
        "negative sentiment −0.70; high-touch tier; 48k followers; 'refund', 'lawyer'; public post"
    )


def test_an_angry_public_post_from_a_48k_follower_high_touch_customer_is_p1_without_keywords():
    angry = PriorityInputs(polarity=-0.7, followers=48_000, is_public=True, tier="high")
    assert score(angry).priority == "P1"


def test_a_thank_you_dm_on_tech_touch_is_p4():
    thanks = PriorityInputs(polarity=0.9, text="Thank you so much!", followers=300, tier="tech")
    assert score(thanks).priority == "P4"


def test_a_neutral_mid_touch_question_is_p3():
    question = PriorityInputs(text="Where is my parcel?", followers=200, tier="mid")
    assert score(question).priority == "P3"


def test_an_angry_refund_dm_on_mid_touch_is_p2():
    angry = PriorityInputs(polarity=-0.6, text="I want my refund", followers=150, tier="mid")
    assert score(angry).priority == "P2"


def test_nothing_to_say_gives_zero_and_no_reasons():
    assert score(PriorityInputs(tier="tech")) == Score(value=0, priority="P4", reasons=())


def test_positive_sentiment_adds_nothing_and_takes_nothing_away():
    neutral = PriorityInputs(text="where is my refund", tier="mid", followers=40)
    happy = replace(neutral, polarity=0.9, trend=0.5)
    assert score(happy) == score(neutral)


def test_german_ich_will_sofort_kuendigen_counts_sofort_and_kuendigen():
    assert urgency_words("Ich will sofort kündigen") == ("sofort", "kündigen")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("REFUND!!!", ("refund",)),
        ("two refunds and a refunded order", ("refund",)),
        ("Kündigung zum Monatsende", ("kündigung",)),
        ("KÜNDIGUNG", ("kündigung",)),
        ("ich habe gekündigt", ("kündigen",)),
        ("kuendigen", ("kündigen",)),
        ("ku\u0308ndigen", ("kündigen",)),  # ü as u plus a combining diaeresis
        ("Mein Rechtsanwalt und die Anwälte", ("anwalt",)),
        ("Das ist Betrug, ihr Betrüger", ("betrug",)),
        ("Rückerstattung, Ruckerstattung", ("rückerstattung",)),
        ("Verstoß gegen die DSGVO", ("verstoß",)),
        ("VERSTOSS", ("verstoß",)),
        ("please cancel, I want a cancellation", ("cancel", "cancellation")),
        ("I will sue you, suing is next", ("sue",)),
        ("my suede shoes arrived in Suez", ()),
        ("this is URGENT, fix it asap, immediately", ("urgent", "asap", "immediately")),
        ("", ()),
    ],
)
def test_urgency_words_match_word_starts_and_inflections_in_any_case(text, words):
    assert urgency_words(text) == words


def test_urgency_words_are_listed_once_in_order_of_first_appearance():
    text = "Dringend! I was hacked, this is fraud. DRINGEND. hacked again"
    assert urgency_words(text) == ("dringend", "hacked", "fraud")


@pytest.mark.parametrize(
    ("followers", "shown"),
    [
        (12, "12 followers"),
        (950, "950 followers"),
        (1_000, "1k followers"),
        (1_299, "1.2k followers"),
        (48_900, "48k followers"),
        (999_999, "999k followers"),
        (1_250_000, "1.2M followers"),
        (2_000_000_000, "2B followers"),
    ],
)
def test_follower_counts_read_as_on_a_profile(followers, shown):
    assert shown in score(PriorityInputs(followers=followers, is_public=True)).reasons


def test_reason_names_trend_repeats_and_waiting():
    result = score(
        PriorityInputs(trend=-0.4, repeat_contacts=2, waiting_seconds=5 * 3600 + 1200, tier="low")
    )
    assert result.reasons == ("waiting 5 h", "3rd contact", "getting worse", "low-touch tier")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(50 * 60, "waiting 50 min"), (3 * 3600, "waiting 3 h"), (3 * 86400, "waiting 3 d")],
)
def test_waiting_time_reads_in_minutes_hours_or_days(seconds, shown):
    assert shown in score(PriorityInputs(waiting_seconds=seconds)).reasons


@pytest.mark.parametrize(("repeats", "shown"), [(1, "2nd contact"), (10, "11th contact")])
def test_repeat_contacts_read_as_ordinals(repeats, shown):
    assert shown in score(PriorityInputs(repeat_contacts=repeats)).reasons


def test_a_routing_floor_raises_the_level_but_not_the_value_and_says_so():
    plain = score(PriorityInputs(tier="low"))
    floored = score(PriorityInputs(tier="low", floor="P2"))
    assert (plain.priority, floored.priority) == ("P4", "P2")
    assert floored.value == plain.value
    assert floored.reasons == ("routing floor P2", *plain.reasons)


def test_a_floor_below_the_score_changes_nothing():
    urgent = PriorityInputs(polarity=-1, text="lawyer", followers=10**6, is_public=True)
    assert score(replace(urgent, floor="P4")) == score(urgent)


def test_levels_have_documented_thresholds():
    assert [level_for(v) for v in (100, 60, 59, 35, 34, 10, 9, 0)] == [
        "P1",
        "P1",
        "P2",
        "P2",
        "P3",
        "P3",
        "P4",
        "P4",
    ]


def test_raise_level_takes_the_more_urgent():
    assert raise_level("P3", "P2") == "P2"
    assert raise_level("P1", "P4") == "P1"
    assert raise_level("P3", "") == "P3"


def test_an_unknown_floor_is_refused():
    with pytest.raises(ValueError):
        PriorityInputs(floor="P5")
    with pytest.raises(ValueError):
        raise_level("P3", "urgent")


def test_a_tier_added_by_an_admin_counts_like_mid_touch_and_is_named():
    vip = score(PriorityInputs(tier="vip", polarity=-0.5))
    assert vip.value == score(PriorityInputs(tier="mid", polarity=-0.5)).value
    assert "vip tier" in vip.reasons


def test_out_of_range_numbers_are_read_sensibly():
    odd = PriorityInputs(
        polarity=float("nan"), followers=-5, repeat_contacts=-1, waiting_seconds=-9
    )
    assert score(odd) == score(PriorityInputs())


# Properties


@given(inputs)
def test_value_is_an_integer_from_0_to_100_and_the_level_follows_it(case):
    result = score(case)
    assert isinstance(result.value, int)
    assert 0 <= result.value <= 100
    assert result.priority == raise_level(level_for(result.value), case.floor)
    assert all(result.reasons) and len(set(result.reasons)) == len(result.reasons)


@given(inputs)
def test_the_floor_is_respected(case):
    result = score(case)
    if case.floor:
        assert urgency(result.priority) <= urgency(case.floor)
    assert urgency(result.priority) <= urgency(level_for(result.value))


@given(inputs, st.integers(0, 10**9), st.integers(0, 10**9))
def test_more_followers_never_lower_the_score(case, a, b):
    low, high = sorted((a, b))
    assert score(replace(case, followers=low)).value <= score(replace(case, followers=high)).value


@given(inputs, st.floats(-1, 1), st.floats(-1, 1))
def test_more_negative_sentiment_never_lowers_the_score(case, a, b):
    worse, better = sorted((a, b))
    assert score(replace(case, polarity=worse)).value >= score(replace(case, polarity=better)).value


@given(inputs, st.floats(-2, 2), st.floats(-2, 2))
def test_a_worsening_trend_never_lowers_the_score(case, a, b):
    worse, better = sorted((a, b))
    assert score(replace(case, trend=worse)).value >= score(replace(case, trend=better)).value


@given(inputs, st.floats(0, 30 * 86400), st.floats(0, 30 * 86400))
def test_waiting_longer_never_lowers_the_score(case, a, b):
    short, long = sorted((a, b))
    assert (
        score(replace(case, waiting_seconds=short)).value
        <= score(replace(case, waiting_seconds=long)).value
    )


@given(inputs, st.integers(0, 50), st.integers(0, 50))
def test_more_repeat_contacts_never_lower_the_score(case, a, b):
    few, many = sorted((a, b))
    assert (
        score(replace(case, repeat_contacts=few)).value
        <= score(replace(case, repeat_contacts=many)).value
    )


@given(inputs)
def test_a_public_post_weighs_at_least_as_much_as_a_private_message(case):
    assert score(replace(case, is_public=True)).value >= score(replace(case, is_public=False)).value


@given(inputs)
def test_tiers_order_the_score_high_over_mid_over_low_over_tech(case):
    values = [score(replace(case, tier=tier)).value for tier in TIERS]
    assert values == sorted(values)


@given(inputs, st.sampled_from(URGENT))
def test_adding_an_urgency_word_never_lowers_the_score(case, word):
    more = replace(case, text=f"{case.text} {word}")
    assert score(more).value >= score(case).value
    assert set(urgency_words(case.text)) <= set(urgency_words(more.text))
    assert urgency_words(word)


@given(st.integers(-50, 150), st.integers(-50, 150))
def test_level_for_is_monotonic_in_the_value(a, b):
    low, high = sorted((a, b))
    assert urgency(level_for(high)) <= urgency(level_for(low))


@settings(max_examples=50)
@given(st.sampled_from(PRIORITY_LEVELS), st.sampled_from(("", *PRIORITY_LEVELS)))
def test_raise_level_never_lowers_and_meets_the_floor(level, floor):
    raised = raise_level(level, floor)
    assert urgency(raised) <= urgency(level)
    assert raised in (level, floor)
    if floor:
        assert urgency(raised) <= urgency(floor)


# Pieces of text: letters, umlauts (precomposed and combining), punctuation, urgency words.
PIECES = [*"abcdeklnorsuwyzäöüß ÄÖÜ!?.,@#'-\u0308\u00a0", "urgent", "kündigen", "refund"]
PIECES += ["lawyer", "sofort", "delayed", "Ku\u0308ndigen"]


@given(
    st.lists(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), max_size=4),
    st.lists(st.booleans(), max_size=4),
)
def test_urgency_words_found_text_by_text_are_those_of_the_texts_joined(texts, known):
    """A case is rescored from its last texts joined; the words an import's workers found for
    each text, put together, must be exactly the words of the joined text."""
    from cases.priority import urgency_words_of, words_found_ahead

    ahead = [text for text, is_known in zip(texts, known, strict=False) if is_known]
    words_found_ahead(ahead, [urgency_words(text) for text in ahead])
    assert urgency_words_of(texts) == urgency_words(" ".join(texts))


def level_after(case: PriorityInputs, seconds: float) -> str:
    return level_for(score(replace(case, waiting_seconds=seconds)).value)


@given(inputs, st.floats(0, 8 * 3600))
def test_waiting_lifts_the_level_exactly_when_rises_after_says(case, waited):
    """The moment the monitor looks at a waiting case again is the moment its level moves:
    not a second late (the case would sit too low), nor early (nothing would change)."""
    case = replace(case, waiting_seconds=waited)
    now = level_after(case, waited)
    rises = rises_after(case)
    if rises is None:
        assert level_after(case, 10**7) == now  # however long it waits
        return
    assert rises > waited
    assert urgency(level_after(case, rises)) < urgency(now)
    assert level_after(case, max(waited, rises - 2)) == now

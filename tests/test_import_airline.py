"""import_messages --format airline: the Twitter US Airline Sentiment file."""

import csv
from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inbox.models import Message
from tests.conftest import make_account, shared_data

HEADER = ["tweet_id", "airline_sentiment", "airline", "name", "text", "tweet_created"]


def run_import(path, **options) -> str:
    out = StringIO()
    call_command(
        "import_messages", str(path), format="airline", account="acme", stdout=out, **options
    )
    return out.getvalue()


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.mark.django_db
def test_every_tweet_is_an_inbound_public_post_by_its_screen_name():
    path = shared_data("airline-sentiment", "Tweets.csv")
    make_account("x", "acme")
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unique = {row["tweet_id"] for row in rows}

    summary = run_import(path, batch_size=2000)

    # The file repeats 155 tweets under the same id: they count as already known.
    assert len(rows) == 14640 and len(unique) == 14485
    assert "imported 14485 new messages, 155 already known" in summary
    assert Message.objects.count() == len(unique)
    assert set(Message.objects.values_list("direction", "kind", "is_public", "channel")) == {
        ("in", "post", True, "x")
    }
    first = Message.objects.select_related("contact").get(external_id=rows[0]["tweet_id"])
    assert first.text == rows[0]["text"]
    assert first.contact.handle == rows[0]["name"]
    assert first.created_at == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)


@pytest.mark.django_db
def test_brand_option_keeps_one_airline_whatever_its_spacing():
    path = shared_data("airline-sentiment", "Tweets.csv")
    make_account("x", "acme")

    run_import(path, brand="usairways")

    airlines = Counter(m.raw["airline"] for m in Message.objects.only("raw"))
    assert airlines == {"US Airways": 2913}


@pytest.mark.django_db
def test_offsets_become_utc_and_a_second_run_adds_nothing(tmp_path):
    make_account("x", "acme")
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["1", "negative", "United", "dana", "@united lost my bag", "2015-02-24 11:35:52 -0800"],
            [
                "2",
                "neutral",
                "Delta",
                "eli",
                '@Delta, "gate"\nchange?',
                "2015-02-24 20:00:00 +0100",
            ],
        ],
    )

    run_import(path)
    summary = run_import(path)

    assert "imported 0 new messages, 2 already known" in summary
    times = dict(Message.objects.values_list("external_id", "created_at"))
    assert times == {
        "1": datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC),
        "2": datetime(2015, 2, 24, 19, 0, 0, tzinfo=UTC),
    }
    assert Message.objects.get(external_id="2").text == '@Delta, "gate"\nchange?'


@pytest.mark.django_db
def test_unreadable_time_names_its_line(tmp_path):
    make_account("x", "acme")
    path = write_csv(tmp_path / "a.csv", [["1", "neutral", "United", "dana", "hi", "24/02/2015"]])

    with pytest.raises(CommandError, match=r"line 2: tweet_created '24/02/2015'"):
        run_import(path)


@pytest.mark.django_db
def test_row_with_too_many_fields_is_skipped_with_skip_bad(tmp_path):
    make_account("x", "acme")
    path = tmp_path / "a.csv"
    path.write_text(
        ",".join(HEADER) + "\n"
        "1,neutral,United,dana,hi,2015-02-24 11:35:52 -0800,extra\n"
        "2,neutral,United,dana,hi,2015-02-24 11:35:52 -0800\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError, match="line 2: 7 fields where the header has 6"):
        run_import(path)
    summary = run_import(path, skip_bad=True)

    assert list(Message.objects.values_list("external_id", flat=True)) == ["2"]
    assert "skipped 1 bad records" in summary

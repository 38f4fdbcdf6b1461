"""import_messages --format airline: the Twitter US Airline Sentiment file."""

import csv
from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inbox.importers import airline
from inbox.importers.common import Tally
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


def test_whole_file_reads_as_inbound_public_posts_with_utc_times():
    path = shared_data("airline-sentiment", "Tweets.csv")
    tally = Tally()

    parsed = [message for batch in airline.read(path, tally=tally) for message in batch]

    assert len(parsed) == tally.rows == 14640
    assert tally.bad == tally.filtered == 0
    # The file repeats 155 tweets under the same id; the store counts them as known.
    assert len({m.external_id for m in parsed}) == 14485
    assert {(m.direction, m.kind, m.is_public, m.channel) for m in parsed} == {
        ("in", "post", True, "x")
    }
    assert all(m.customer == m.author and m.author.handle for m in parsed)
    assert parsed[0].created_at == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)


def test_brand_option_keeps_one_airline_whatever_its_spacing():
    path = shared_data("airline-sentiment", "Tweets.csv")
    tally = Tally()

    parsed = [m for batch in airline.read(path, brand="usairways", tally=tally) for m in batch]

    assert Counter(m.raw["airline"] for m in parsed) == {"US Airways": 2913}
    assert tally.filtered == 14640 - 2913


@pytest.mark.django_db
def test_first_500_tweets_are_stored_with_author_text_and_time(tmp_path):
    source = shared_data("airline-sentiment", "Tweets.csv")
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        rows = [next(reader) for _ in range(501)]  # the header and 500 tweets
    path = tmp_path / "head.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    make_account("x", "acme")
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))

    summary = run_import(path, batch_size=200)

    unique = {dict(zip(header, row, strict=True))["tweet_id"] for row in rows[1:]}
    assert f"imported {len(unique)} new messages" in summary
    assert Message.objects.count() == len(unique)
    message = Message.objects.select_related("contact").get(external_id=first["tweet_id"])
    assert message.text == first["text"]
    assert message.contact.handle == first["name"]
    assert message.created_at == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)
    assert message.raw["airline_sentiment"] == first["airline_sentiment"]


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

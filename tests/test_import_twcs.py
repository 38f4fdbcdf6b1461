"""import_messages --format twcs: the Customer Support on Twitter file, and its edge cases."""

import csv
from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from inbox.importers.twcs import parse_time
from inbox.models import Message
from tests.conftest import make_account, shared_data

HEADER = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]


def run_import(path, account="acme", **options) -> str:
    out = StringIO()
    call_command(
        "import_messages", str(path), format="twcs", account=account, stdout=out, **options
    )
    return out.getvalue()


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def messages(slug="acme"):
    """Messages of one account: head5000 stays imported into "head" while this module runs."""
    return Message.objects.filter(account__slug=slug)


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def head5000():
    return shared_data("twcs", "twcs_head5000.csv")


@pytest.fixture(scope="module")
def imported(head5000, django_db_setup, django_db_blocker):
    """head5000 imported once into account "head" for the tests of this module.

    The import runs the whole intake on 5,000 messages, so it is done once, inside a
    transaction that is rolled back when the module's tests are done; each test runs in a
    savepoint within it.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        make_account("x", "head")
        summary = run_import(head5000, account="head")
        yield summary
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_head5000_stores_every_row_with_its_direction_and_time(head5000, imported):
    rows = read_csv(head5000)

    assert "imported 5000 new messages, 0 already known" in imported
    stored = {m.external_id: m for m in messages("head").all()}
    assert len(stored) == len(rows) == 5000
    expected = Counter("in" if row["inbound"] == "True" else "out" for row in rows)
    assert Counter(m.direction for m in stored.values()) == expected
    for row in rows:
        message = stored[row["tweet_id"]]
        assert message.created_at == datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
        assert message.text == row["text"]
        assert message.channel == "x"
        assert message.is_public


@pytest.mark.django_db
def test_head5000_brand_replies_belong_to_the_customer_they_answer(head5000, imported):
    rows = {row["tweet_id"]: row for row in read_csv(head5000)}

    checked = 0
    for message in messages("head").filter(direction="out").select_related("contact"):
        parent = rows.get(message.in_reply_to)
        if parent is None or parent["inbound"] != "True":
            continue
        assert message.contact.external_id == parent["author_id"]
        assert message.author_external_id == rows[message.external_id]["author_id"]
        checked += 1
    assert checked > 2000


@pytest.mark.django_db
def test_head5000_replies_share_the_conversation_of_their_first_tweet(imported):
    chain = messages("head").get(external_id="1")  # sprintcare's reply, 3 replies below tweet 8
    assert chain.conversation_id == "8"
    assert chain.kind == "comment"
    first = messages("head").get(external_id="8")
    assert first.conversation_id == "8"
    assert first.kind == "post"


@pytest.mark.django_db
def test_head5000_imported_twice_adds_nothing(head5000, imported):
    summary = run_import(head5000, account="head")

    assert "imported 0 new messages, 5000 already known" in summary
    assert messages("head").count() == 5000


@pytest.mark.django_db
def test_brand_option_keeps_only_that_brands_threads(head5000):
    make_account("x", "sprint")

    summary = run_import(head5000, account="sprint", brand="sprintcare")

    stored = messages("sprint")
    assert stored.exists()
    assert {m.author_external_id for m in stored if m.direction == "out"} == {"sprintcare"}
    for message in stored.filter(direction="in"):
        assert "@sprintcare" in message.text.lower() or message.conversation_id
    assert "records of other brands" in summary


def test_twitter_time_is_read_as_utc_whatever_the_offset():
    assert parse_time("Tue Oct 31 22:10:47 +0000 2017") == datetime(
        2017, 10, 31, 22, 10, 47, tzinfo=UTC
    )
    assert parse_time("Tue Oct 31 23:10:47 +0100 2017") == datetime(
        2017, 10, 31, 22, 10, 47, tzinfo=UTC
    )


@pytest.mark.django_db
def test_quotes_commas_and_newlines_in_text_survive(tmp_path):
    make_account("x", "acme")
    text = 'He said "no refund", then\nhung up,\r\nagain'
    path = write_csv(
        tmp_path / "t.csv",
        [["10", "5001", "True", "Wed Nov 01 10:00:00 +0000 2017", text, "", ""]],
    )

    run_import(path)

    assert messages().get(external_id="10").text == text


@pytest.mark.django_db
def test_reply_to_a_tweet_missing_from_the_file_uses_the_leading_mention(tmp_path):
    make_account("x", "acme")
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["20", "AcmeCare", "False", "Wed Nov 01 10:05:00 +0000 2017", "@777 Sorry!", "", "19"],
            ["21", "AcmeCare", "False", "Wed Nov 01 10:06:00 +0000 2017", "Big news!", "", ""],
        ],
    )

    run_import(path)

    reply = messages().select_related("contact").get(external_id="20")
    assert reply.direction == "out"
    assert reply.contact.external_id == "777"
    assert reply.in_reply_to == "19"
    assert reply.conversation_id == ""  # the thread's first tweet is not known
    broadcast = messages().select_related("contact").get(external_id="21")
    assert broadcast.kind == "post"
    assert broadcast.contact.external_id == "AcmeCare"


@pytest.mark.django_db
def test_brand_answering_its_own_reply_still_belongs_to_the_customer(tmp_path):
    make_account("x", "acme")
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["30", "555", "True", "Wed Nov 01 10:00:00 +0000 2017", "@AcmeCare help", "31", ""],
            ["31", "AcmeCare", "False", "Wed Nov 01 10:01:00 +0000 2017", "@555 On it", "32", "30"],
            ["32", "AcmeCare", "False", "Wed Nov 01 10:02:00 +0000 2017", "Also: DM us", "", "31"],
        ],
    )

    run_import(path)

    follow_up = messages().select_related("contact").get(external_id="32")
    assert follow_up.contact.external_id == "555"
    assert follow_up.conversation_id == "30"


@pytest.mark.django_db
def test_bad_row_stops_the_import_naming_its_line(tmp_path):
    make_account("x", "acme")
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["40", "555", "True", "Wed Nov 01 10:00:00 +0000 2017", "two\nlines", "", ""],
            ["41", "555", "maybe", "Wed Nov 01 10:00:00 +0000 2017", "hi", "", ""],
        ],
    )

    with pytest.raises(CommandError, match=r"line 4: inbound 'maybe'"):
        run_import(path)


@pytest.mark.django_db
def test_skip_bad_imports_the_rest_and_counts_the_bad_rows(tmp_path):
    make_account("x", "acme")
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["50", "555", "True", "yesterday", "hi", "", ""],
            ["51", "555", "True", "Wed Nov 01 10:00:00 +0000 2017", "hello", "", ""],
        ],
    )

    summary = run_import(path, skip_bad=True)

    assert list(messages().values_list("external_id", flat=True)) == ["51"]
    assert "skipped 1 bad records" in summary


@pytest.mark.django_db
def test_file_without_the_twcs_columns_is_refused(tmp_path):
    make_account("x", "acme")
    path = tmp_path / "t.csv"
    path.write_text("id,text\n1,hi\n", encoding="utf-8")

    with pytest.raises(CommandError, match="line 1: the header lacks the column"):
        run_import(path)

"""import_messages --filers: a batch's independent parts filed at once file the same cases,
commit together, and a part that meets another is filed again on its own."""

from unittest import mock

import pytest
from django.core.management import CommandError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from cases.independent import independent_parts
from inbox.filed_in_parts import PartFilers
from inbox.models import Message
from tests.conftest import customer_message, make_account, shared_data
from tests.test_import_workers import head_of, run_import, what_an_agent_sees

BATCHES = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob", "cy", "dee", "eve", "fay"]),
        st.one_of(st.just(""), st.integers(0, 40).map(lambda n: f"m{n}")),
        st.sampled_from(["", "", "t1", "t2"]),
    ),
    max_size=40,
)


@given(BATCHES, st.integers(1, 4))
def test_no_customer_reply_or_conversation_links_two_parts(rows, most):
    batch = [
        customer_message(f"m{n}", customer, minutes=n, in_reply_to=reply, conversation_id=thread)
        for n, (customer, reply, thread) in enumerate(rows)
    ]

    parts = independent_parts(batch, most)

    assert sorted(i for part in parts for i in part) == list(range(len(batch)))
    assert all(part == sorted(part) and part for part in parts)
    assert len(parts) <= most
    keys = []
    for part in parts:
        own = set()
        for i in part:
            m = batch[i]
            own |= {("c", m.customer.external_id), ("m", m.external_id)}
            own |= {("m", m.in_reply_to)} if m.in_reply_to else set()
            own |= {("v", m.conversation_id)} if m.conversation_id else set()
        keys.append(own)
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            assert not keys[a] & keys[b]


def test_unlinked_groups_are_spread_evenly():
    batch = [customer_message(f"m{n}", f"customer-{n % 10}") for n in range(100)]
    assert [len(part) for part in independent_parts(batch, 2)] == [50, 50]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["twcs_head5000.csv", "twcs_random5000.csv"])
def test_parts_filed_at_once_file_the_same_cases_as_one_filer(
    tmp_path, monkeypatch, name, needs_postgres
):
    path = head_of(shared_data("twcs", name), tmp_path / "head.csv", 800)
    make_account("x", "one")
    make_account("x", "parts")

    run_import(path, "one", workers=1, batch_size=100, filers=1)
    alone = filed_alone(monkeypatch)
    summary = run_import(path, "parts", workers=1, batch_size=100, filers=2)

    assert "imported 800 new messages" in summary
    assert alone == []  # every batch split, and no part met another
    one, parts = what_an_agent_sees("one"), what_an_agent_sees("parts")
    assert len(one[1]) > 100
    assert parts == one


def filed_alone(monkeypatch) -> list:
    """The parts (or batches) filed on their own from now on."""
    calls = []
    real = PartFilers._alone

    def alone(self, messages, sentiments):
        calls.append([m.external_id for m in messages])
        return real(self, messages, sentiments)

    monkeypatch.setattr(PartFilers, "_alone", alone)
    return calls


def halves(messages, most):
    """A split that puts a customer's messages in both parts when they span the middle."""
    middle = len(messages) // 2
    return [list(range(middle)), list(range(middle, len(messages)))]


@pytest.mark.django_db(transaction=True)
def test_parts_that_meet_on_a_customer_are_filed_again_one_after_the_other(
    tmp_path, monkeypatch, needs_postgres
):
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 300)
    make_account("x", "one")
    make_account("x", "parts")

    run_import(path, "one", workers=1, batch_size=100, filers=1)
    alone = filed_alone(monkeypatch)
    monkeypatch.setattr("inbox.filed_in_parts.independent_parts", halves)
    summary = run_import(path, "parts", workers=1, batch_size=100, filers=2)

    assert "imported 300 new messages" in summary
    assert alone  # a part waited on the other's customer, then went again, in order
    # The same cases in the same state. Their timelines may differ: a case filed in two
    # transactions is rescored in each, and may log a priority step between.
    (one_moods, one), (parts_moods, parts) = what_an_agent_sees("one"), what_an_agent_sees("parts")
    assert parts_moods == one_moods
    assert {thread: seen[:-1] for thread, seen in parts.items()} == {
        thread: seen[:-1] for thread, seen in one.items()
    }


@pytest.mark.django_db(transaction=True)
def test_a_part_that_fails_rolls_back_every_part_of_its_batch(tmp_path, needs_postgres):
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 300)
    account = make_account("x", "parts")
    batches = []
    real = PartFilers.file_batch

    def spy(self, messages, sentiments):
        batches.append([m.external_id for m in messages])
        return real(self, messages, sentiments)

    def fails_in_the_second_batch(account, messages, **options):
        from cases.intake import intake_messages

        if len(batches) == 2 and batches[1][-1] in {m.external_id for m in messages}:
            raise RuntimeError("the disk is full")
        return intake_messages(account, messages, **options)

    with (
        mock.patch.object(PartFilers, "file_batch", spy),
        mock.patch("inbox.management.commands.import_messages.batch_handler") as handler,
    ):
        handler.return_value = fails_in_the_second_batch
        with pytest.raises(RuntimeError, match="the disk is full"):
            run_import(path, "parts", workers=1, batch_size=100, filers=2)

    stored = set(Message.objects.filter(account=account).values_list("external_id", flat=True))
    assert stored == set(batches[0])  # the first batch, and nothing of the second


@pytest.mark.django_db
def test_more_than_one_filer_needs_postgresql(tmp_path):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite refuses it")
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 10)
    make_account("x", "acme")
    with pytest.raises(CommandError, match="--filers above 1 needs PostgreSQL"):
        run_import(path, "acme", filers=2)


@pytest.mark.django_db
def test_more_than_one_filer_cannot_run_inside_a_transaction(tmp_path, needs_postgres):
    """The other filers' connections would not see the account made in it."""
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 10)
    make_account("x", "acme")
    with pytest.raises(CommandError, match="cannot run inside a transaction"):
        run_import(path, "acme", filers=2)
    assert "imported 10 new messages" in run_import(path, "acme")  # one filer, by default

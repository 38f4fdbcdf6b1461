"""The intake stays fast as data grows and leaves nothing half-written when it fails."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext

from cases import filing
from cases.intake import intake_messages, process_delivery
from cases.models import AgentProfile, Case, CaseEvent, KnowledgeArticle, RoutingRule, Team
from inbox import store
from inbox.connectors.generic import parse_item
from inbox.models import Contact, Delivery, Message
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def live_events(monkeypatch):
    """What reaches the channel layer, as (group, event type)."""
    sent = []

    class Layer:
        async def group_send(self, group, frame):
            sent.append((group, frame["event"]["type"]))

    monkeypatch.setattr("cases.events.get_channel_layer", lambda: Layer())
    return sent


def message(external_id, author, *, minutes=0, text="Where is my parcel?", **fields):
    return generic_message(
        external_id,
        text,
        created_at=(T0 + timedelta(minutes=minutes)).isoformat(),
        author={"id": author, "handle": author, "followers": 100},
        **fields,
    )


def populated_account(slug, existing):
    """An account with a team, agents online, rules, articles and `existing` open cases."""
    team = Team.objects.create(name=f"Team {slug}", slug=f"team-{slug}")
    account = make_account(slug=slug, default_team=team)
    for name in ("a", "b"):
        make_user(f"{slug}-{name}", teams=[team], presence="online", capacity=10_000)
    RoutingRule.objects.create(name=f"{slug} refunds", keywords="refund", add_tag="refund")
    batch = [message(f"old{n}", f"{slug}-c{n}", minutes=-n - 1) for n in range(existing)]
    batch += [message("mine", f"{slug}-dana", minutes=-1000)]
    with transaction.atomic():
        intake_messages(account, [parse_item(m, "[0]") for m in batch], live=False)
    return account


def queries_to_process(account, payload):
    delivery = Delivery.objects.create(account=account, body=json.dumps(payload).encode())
    with CaptureQueriesContext(connection) as captured:
        assert process_delivery(delivery.pk) == "processed"
    return len(captured)


def deliveries(slug):
    """A new customer; an existing customer writing again; a reply in that thread."""
    return [
        message("new1", f"{slug}-newcomer", minutes=5),
        message("again1", f"{slug}-dana", minutes=6, text="Any news on my refund?"),
        message("reply1", f"{slug}-dana", minutes=7, in_reply_to="again1"),
        [message("new2", f"{slug}-x", minutes=8), message("new3", f"{slug}-y", minutes=8)],
    ]


def test_a_failure_mid_way_leaves_nothing_written_and_the_delivery_failed(
    client, account, django_capture_on_commit_callbacks, live_events
):
    payload = [message("m1", "dana"), message("m2", "eve", minutes=1)]
    calls = {"n": 0}
    real = filing.apply_message

    def second_one_fails(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    with (
        mock.patch("cases.filing.apply_message", second_one_fails),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert post_generic(client, account, payload).status_code == 200
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error, delivery.attempts) == (
        "failed",
        "RuntimeError: boom",
        1,
    )
    assert Message.objects.count() == Case.objects.count() == CaseEvent.objects.count() == 0
    assert not Contact.objects.exists()
    assert live_events == []

    with django_capture_on_commit_callbacks(execute=True):
        assert process_delivery(delivery.pk) == "processed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.attempts) == ("processed", "", 2)
    assert delivery.message_count == 2
    assert Message.objects.filter(delivery=delivery, case__isnull=False).count() == 2
    assert Case.objects.count() == 2
    assert ("supervisors", "case.created") in live_events


@pytest.mark.parametrize(
    "where",
    ["cases.filing.rescore_logged", "cases.intake.assignment.route", "cases.intake.automation.run"],
)
def test_a_failure_at_any_step_rolls_back_every_step(where):
    team = Team.objects.create(name="Care", slug="care")
    account = make_account(default_team=team)
    make_user("alex", teams=[team], presence="online")
    delivery = Delivery.objects.create(
        account=account, body=json.dumps(message("m1", "dana")).encode()
    )
    with mock.patch(where, side_effect=ValueError("no")):
        assert process_delivery(delivery.pk) == "failed"
    assert not Message.objects.exists() and not Case.objects.exists()
    assert AgentProfile.objects.get().last_assigned_at is None
    assert Delivery.objects.get().error == "ValueError: no"
    assert process_delivery(delivery.pk) == "processed"
    assert Case.objects.get().assignee.username == "alex"


def test_processing_a_delivery_again_adds_nothing(account):
    delivery = Delivery.objects.create(
        account=account, body=json.dumps(message("m1", "d")).encode()
    )
    assert process_delivery(delivery.pk) == "processed"
    assert process_delivery(delivery.pk) == "processed"
    Delivery.objects.filter(pk=delivery.pk).update(status="received")
    assert process_delivery(delivery.pk) == "processed"
    assert Message.objects.count() == Case.objects.count() == 1
    assert Case.objects.get().message_count == 1


def test_each_new_message_is_written_once_already_in_its_case(account):
    """No INSERT then UPDATE of the same rows: on PostgreSQL that wrote every index twice."""
    batch = [message("q1", "dana"), message("a1", "dana", minutes=1, direction="out")]
    batch[1]["in_reply_to"] = "q1"
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        intake_messages(account, [parse_item(m, "[0]") for m in batch], live=False)
    writes = [q["sql"] for q in captured if "inbox_message" in q["sql"].split("(")[0]]
    assert [sql.split()[0] for sql in writes if not sql.startswith("SELECT")] == ["INSERT"]
    case = Case.objects.get()
    assert list(Message.objects.values_list("external_id", "case")) == [
        ("q1", case.pk),
        ("a1", case.pk),
    ]
    assert list(
        case.events.filter(message__isnull=False).values_list("message__external_id", flat=True)
    ) == [
        "q1",
        "a1",
    ]


def test_a_message_a_concurrent_copy_stored_after_the_check_counts_as_known(account):
    """The copy committed between our duplicate check and our INSERT: ours are stored one
    by one, the copy's message is known, and nothing is filed twice."""
    with transaction.atomic():
        intake_messages(account, [parse_item(message("m1", "dana"), "[0]")], live=False)
    real = store.prepare_messages

    def checked_before_the_copy_committed(*args, **kwargs):
        with mock.patch("inbox.store.existing_external_ids", return_value=set()):
            return real(*args, **kwargs)

    batch = [message("m1", "dana"), message("m2", "dana", minutes=1, text="Any news?")]
    with (
        mock.patch("cases.intake.prepare_messages", checked_before_the_copy_committed),
        transaction.atomic(),
    ):
        result = intake_messages(account, [parse_item(m, "[0]") for m in batch], live=False)
    assert ([m.external_id for m in result.new], result.duplicates) == (["m2"], 1)
    case = Case.objects.get()
    assert case.message_count == 2
    assert Message.objects.filter(case=case).count() == 2
    assert case.events.filter(kind="message.in").count() == 2


def queries_of_webhook(account, payload) -> int:
    """The whole POST: signature check, storing the delivery and, inline after commit, the
    intake."""
    with (
        CaptureQueriesContext(connection) as captured,
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        assert post_generic(Client(), account, payload).status_code == 200
    assert Delivery.objects.latest("pk").status == "processed"
    return len(captured)


# (how, ceiling): processing a stored delivery, or the whole webhook request around it; the
# ceiling makes a slow creep show up too.
MEASURES = {"processing": (queries_to_process, 45), "webhook request": (queries_of_webhook, 50)}


@pytest.mark.parametrize("how", MEASURES)
def test_a_delivery_costs_the_same_queries_with_10_or_200_cases(how):
    measure, ceiling = MEASURES[how]
    KnowledgeArticle.objects.create(title="Parcel", body="Tracking.", keywords="parcel")
    warm = populated_account("warm", 3)
    measure(warm, message("w", "warm-w"))
    counts = {}
    for existing in (10, 200):
        slug = f"size{existing}"
        account = populated_account(slug, existing)
        assert Case.objects.filter(account=account).count() == existing + 1
        counts[existing] = [measure(account, p) for p in deliveries(slug)]
    assert counts[10] == counts[200], counts
    assert max(counts[200]) <= ceiling, counts


def import_file(tmp_path, slug: str, customers: int) -> Path:
    """A JSON Lines export: each customer writes, then writes again in the same thread."""
    lines = []
    for n in range(customers):
        author = f"{slug}-c{n}"
        lines.append(message(f"{author}-1", author, minutes=n))
        lines.append(message(f"{author}-2", author, minutes=n + 1, in_reply_to=f"{author}-1"))
    path = tmp_path / f"{slug}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def queries_of_import(path: Path, slug: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        call_command(
            "import_messages",
            str(path),
            format="jsonl",
            account=slug,
            workers=1,
            stdout=StringIO(),
            stderr=StringIO(),
        )
    return len(captured)


def test_an_import_batch_costs_the_same_queries_with_60_or_400_messages(tmp_path):
    """Both above `CHECKED_TOGETHER_FROM`: on PostgreSQL a large batch's keys are checked
    with a few statements of their own, which a webhook's few messages do not run."""
    counts = {}
    for customers in (30, 200):
        slug = f"import{customers}"
        populated_account(slug, 0)
        path = import_file(tmp_path, slug, customers)
        first = queries_of_import(path, slug)
        assert Message.objects.filter(account__slug=slug).count() == 2 * customers + 1
        again = queries_of_import(path, slug)  # idempotent: adds nothing, costs no more
        assert Message.objects.filter(account__slug=slug).count() == 2 * customers + 1
        counts[customers] = (first, again)
    assert counts[30] == counts[200], counts


def brand_posts_to_customers_with_closed_cases(tmp_path, slug: str, customers: int) -> Path:
    """Customers whose only case is closed, and a file of one brand post to each of them."""
    account = populated_account(slug, 0)
    questions = [
        message(f"{slug}-q{n}", f"{slug}-c{n}", minutes=-5000 - n) for n in range(customers)
    ]
    with transaction.atomic():
        intake_messages(account, [parse_item(m, "[0]") for m in questions], live=False)
    Case.objects.filter(account=account, contact__external_id__startswith=f"{slug}-c").update(
        status="closed"
    )
    posts = [
        message(
            f"{slug}-p{n}",
            f"{slug}-brand",
            minutes=n,
            text="We have news about your order.",
            direction="out",
            recipient={"id": f"{slug}-c{n}", "handle": f"{slug}-c{n}"},
        )
        for n in range(customers)
    ]
    path = tmp_path / f"{slug}-posts.jsonl"
    path.write_text("".join(json.dumps(post) + "\n" for post in posts), encoding="utf-8")
    return path


def test_brand_posts_join_each_customers_latest_case_at_the_same_queries_for_50_or_100(tmp_path):
    counts = {}
    for customers in (50, 100):
        slug = f"posts{customers}"
        path = brand_posts_to_customers_with_closed_cases(tmp_path, slug, customers)
        counts[customers] = queries_of_import(path, slug)
        for n in (0, customers - 1):
            post = Message.objects.get(external_id=f"{slug}-p{n}")
            assert post.case is not None
            assert post.case.contact.external_id == f"{slug}-c{n}"
            assert post.case.messages.count() == 2  # the old question and the post
    assert counts[50] == counts[100], counts

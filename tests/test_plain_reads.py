"""The intake reads its configuration and each delivery with plain SQL: what it reads must be
what the ORM reads, field for field, and the rules must come in the order they run."""

import json

import pytest
from django.db import transaction

from cases.intake import _locked_delivery, process_delivery
from cases.models import RoutingRule, Team, Tier
from cases.routing import active_rules
from inbox.lookups import in_bulk, instances, instances_in
from inbox.models import Account, Delivery, DeliveryStatus
from tests.conftest import generic_message, make_account

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_active_rules_come_in_position_order_as_the_orm_reads_them():
    team = Team.objects.create(name="Billing")
    high = Tier.objects.get(slug="high")
    account = make_account(slug="shop")
    RoutingRule.objects.create(
        name="late",
        position=50,
        keywords="refund, Erstattung",
        required_skills=["billing", "de"],
        is_public=False,
        min_followers=1000,
        set_team=team,
        account=account,
    )
    RoutingRule.objects.create(name="first", position=10, set_tier=high, is_public=True)
    RoutingRule.objects.create(name="off", position=1, is_active=False)
    RoutingRule.objects.create(name="tie", position=50, auto_reply="Thanks <b>&amp;</b> 🙂")

    read = active_rules()

    assert [r.name for r in read] == ["first", "late", "tie"]
    expected = RoutingRule.objects.filter(is_active=True).order_by("position", "id")
    assert [fields_of(r) for r in read] == [fields_of(r) for r in expected]
    assert read[1].set_team == team  # relations load on demand, as from the ORM
    assert read[1].required_skills == ["billing", "de"]


def test_every_tier_reads_as_the_orm_reads_it():
    Tier.objects.filter(slug="mid").update(first_response_minutes=45)

    read = {t.slug: fields_of(t) for t in instances(Tier)}

    assert read == {t.slug: fields_of(t) for t in Tier.objects.all()}
    assert read["mid"]["first_response_minutes"] == 45


def test_a_delivery_reads_with_its_account_and_decrypted_credentials():
    account = make_account(slug="shop", access_token="page-token-ü")
    body = json.dumps(generic_message("m1", "Hallo, wo bleibt meine Bestellung?")).encode()
    delivery = Delivery.objects.create(account=account, body=body)

    with transaction.atomic():
        read = _locked_delivery(delivery.pk)

    assert fields_of(read) == fields_of(Delivery.objects.get(pk=delivery.pk))
    assert bytes(read.body) == body
    assert fields_of(read.account) == fields_of(Account.objects.get(pk=account.pk))
    assert read.account.secret == "s3cret"
    assert read.account.access_token == "page-token-ü"


def test_a_processed_delivery_records_what_it_did_and_a_missing_one_is_reported():
    account = make_account(slug="shop")
    delivery = Delivery.objects.create(
        account=account, body=json.dumps(generic_message("m1", "Hello?")).encode()
    )

    assert process_delivery(delivery.pk) == DeliveryStatus.PROCESSED
    assert process_delivery(delivery.pk) == DeliveryStatus.PROCESSED  # again: nothing new

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.message_count, delivery.error) == (
        DeliveryStatus.PROCESSED,
        1,
        1,
        "",
    )
    assert delivery.processed_at is not None
    assert process_delivery(delivery.pk + 1000) == "missing"


def test_rows_by_key_read_as_the_orm_reads_them(django_user_model):
    ana = django_user_model.objects.create_user("ana", password="pw-ana-123", first_name="Ana")
    bo = django_user_model.objects.create_user("bo", password="pw-bo-123", is_active=False)
    keys = {ana.pk, bo.pk, bo.pk + 100}

    read = in_bulk(django_user_model, keys)

    expected = django_user_model.objects.in_bulk(keys)
    assert {pk: fields_of(u) for pk, u in read.items()} == {
        pk: fields_of(u) for pk, u in expected.items()
    }
    assert set(read) == {ana.pk, bo.pk}
    assert in_bulk(Tier, set()) == {}


def test_a_deferred_field_is_left_unread_and_loads_when_used(django_assert_num_queries):
    account = make_account(slug="shop")
    body = json.dumps(generic_message("m1", "Where is my parcel? <script>x</script>")).encode()
    delivery = Delivery.objects.create(account=account, body=body)

    with django_assert_num_queries(1):
        [read] = instances_in(Delivery, "id IN ({keys})", [], [delivery.pk], defer=("body",))

    assert "body" not in read.__dict__
    expected = fields_of(Delivery.objects.defer("body").get(pk=delivery.pk))
    with django_assert_num_queries(1):  # the body, on first use, as QuerySet.defer does
        assert fields_of(read) == expected
    assert bytes(read.body) == body

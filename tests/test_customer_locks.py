"""Two deliveries of one customer at once never both open a case, also when the customer is
new: the second waits for the first to commit, then joins its case."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from cases.intake import intake_messages
from cases.models import Case
from tests.conftest import customer_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_customers_second_delivery_waits_and_joins_the_first_ones_case(
    account, needs_postgres
):
    first_filed, second_began = threading.Event(), threading.Event()
    moments: dict[str, float] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                intake_messages(account, [customer_message("m1", "new-customer")], live=False)
                first_filed.set()
                second_began.wait(10)
                time.sleep(0.3)  # the second is waiting on this customer by now
                moments["first committed"] = time.monotonic()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_filed.wait(10)
            second_began.set()
            with transaction.atomic():
                intake_messages(
                    account, [customer_message("m2", "new-customer", minutes=5)], live=False
                )
            moments["second done"] = time.monotonic()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert moments["second done"] > moments["first committed"]
    [case] = Case.objects.filter(contact__external_id="new-customer")
    assert sorted(case.messages.values_list("external_id", flat=True)) == ["m1", "m2"]


def test_customers_stored_by_the_delivery_itself_are_not_locked_again(account, needs_postgres):
    messages = [customer_message(f"m{n}", f"customer-{n}", minutes=n) for n in range(3)]
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        intake_messages(account, messages, live=False)
    assert not [q for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    assert Case.objects.count() == 3

"""import_messages --workers: sentiment scored in worker processes files the same cases."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import Case
from inbox.models import Message
from tests.conftest import make_account, shared_data

pytestmark = pytest.mark.django_db


def run_import(path, account, **options) -> str:
    out = StringIO()
    call_command(
        "import_messages", str(path), format="twcs", account=account, stdout=out, **options
    )
    return out.getvalue()


def head_of(source, path, rows):
    """The first `rows` records of a twcs file, as a file of their own."""
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        records = [next(reader) for _ in range(rows + 1)]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)
    return path


def what_an_agent_sees(slug):
    """Every case of the account as its messages, state, priority, clocks and timeline."""
    messages = Message.objects.filter(account__slug=slug)
    moods = {m.external_id: (m.sentiment_label, m.sentiment_polarity, m.language) for m in messages}
    cases = {}
    for case in Case.objects.filter(account__slug=slug).prefetch_related("messages", "events"):
        thread = tuple(sorted(m.external_id for m in case.messages.all()))
        cases[thread] = (
            case.status,
            case.priority,
            case.priority_score,
            case.sentiment,
            case.message_count,
            case.first_response_at,
            case.resolution_due,
            # A priority change is stamped with the time of filing, not of a message.
            sorted((e.kind, e.kind != "priority" and e.at, e.after) for e in case.events.all()),
        )
    return moods, cases


def test_scoring_in_worker_processes_files_the_same_cases_as_scoring_here(tmp_path):
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 600)
    make_account("x", "here")
    make_account("x", "pool")

    run_import(path, "here", workers=1, batch_size=100)
    summary = run_import(path, "pool", workers=2, batch_size=100)

    assert "imported 600 new messages" in summary
    here, pool = what_an_agent_sees("here"), what_an_agent_sees("pool")
    assert len(here[0]) == 600 and len(here[1]) > 100
    assert pool == here
    assert "0 new messages, 600 already known" in run_import(path, "pool", workers=2)


def test_a_bad_row_behind_batches_scored_ahead_keeps_the_batches_before_it(tmp_path):
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 300)
    bad_line = path.read_text(encoding="utf-8").count("\n") + 1
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write("999999,someone,maybe,not a date,broken,,\n")
    make_account("x", "acme")

    with pytest.raises(CommandError, match=f"line {bad_line}: inbound 'maybe'"):
        run_import(path, "acme", workers=2, batch_size=50)

    # Every batch read before the bad one was filed, though later ones were being scored.
    assert Message.objects.filter(account__slug="acme").count() == 300
    assert "0 new messages, 300 already known" in run_import(path, "acme", skip_bad=True)


def test_workers_must_be_at_least_one(tmp_path):
    make_account("x", "acme")
    path = head_of(shared_data("twcs", "twcs_head5000.csv"), tmp_path / "head.csv", 5)
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        run_import(path, "acme", workers=0)


def test_scoring_workers_yield_the_cpu_to_the_filing_and_the_server():
    """The workers score at a lower priority than the process that files (and than a server
    on the same machine), so an import does not take the cores from them."""
    import os

    from sentiment.pool import WORKER_NICENESS, _pool

    pool = _pool(2)
    try:
        worker_niceness = {pool.submit(os.nice, 0).result() for _ in range(4)}
    finally:
        pool.shutdown()
    assert worker_niceness == {min(19, os.nice(0) + WORKER_NICENESS)}

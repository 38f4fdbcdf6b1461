"""import_messages --format jsonl: one generic webhook item per line."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inbox.models import Message
from tests.conftest import generic_message, make_account


def run_import(path, **options) -> str:
    out = StringIO()
    call_command(
        "import_messages", str(path), format="jsonl", account="acme", stdout=out, **options
    )
    return out.getvalue()


def write_lines(path, lines):
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


@pytest.mark.django_db
def test_each_line_becomes_a_message_read_like_a_webhook_item(tmp_path):
    make_account()
    path = write_lines(
        tmp_path / "m.jsonl",
        [
            generic_message("m1"),
            "",
            generic_message(
                "m2",
                text="Thanks, sorted!",
                direction="out",
                author={"id": "brand", "handle": "acme"},
                recipient={"id": "u1", "handle": "dana"},
                in_reply_to="m1",
                created_at="2026-11-20T11:30:00+01:00",
            ),
        ],
    )

    summary = run_import(path)

    assert "imported 2 new messages, 0 already known" in summary
    reply = Message.objects.select_related("contact").get(external_id="m2")
    assert reply.direction == "out"
    assert reply.contact.external_id == "u1"
    assert reply.in_reply_to == "m1"
    assert reply.created_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert Message.objects.get(external_id="m1").channel == "generic"


@pytest.mark.django_db
def test_second_run_adds_nothing(tmp_path):
    make_account()
    path = write_lines(tmp_path / "m.jsonl", [generic_message("m1"), generic_message("m2")])
    run_import(path)

    summary = run_import(path)

    assert "imported 0 new messages, 2 already known" in summary
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_invalid_json_stops_with_its_line_number(tmp_path):
    make_account()
    path = write_lines(
        tmp_path / "m.jsonl", [generic_message("m1"), "{not json", generic_message()]
    )

    with pytest.raises(CommandError, match=r"line 2: not valid JSON"):
        run_import(path)


@pytest.mark.django_db
def test_item_missing_a_field_stops_with_its_line_number_and_the_field(tmp_path):
    make_account()
    broken = generic_message("m2")
    del broken["author"]
    path = write_lines(tmp_path / "m.jsonl", [generic_message("m1"), "", broken])

    with pytest.raises(CommandError, match=r"line 3: item\.author is missing"):
        run_import(path, batch_size=1)

    # Batches before the bad line are kept; a fixed file then finishes the import.
    assert list(Message.objects.values_list("external_id", flat=True)) == ["m1"]


@pytest.mark.django_db
def test_skip_bad_imports_the_good_lines_and_counts_the_bad_ones(tmp_path):
    make_account()
    path = write_lines(
        tmp_path / "m.jsonl",
        [generic_message("m1"), "[1, 2", {"external_id": "x"}, '"text"', generic_message("m2")],
    )

    summary = run_import(path, skip_bad=True)

    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["m1", "m2"]
    assert "skipped 3 bad records" in summary


@pytest.mark.django_db
def test_invalid_utf8_names_its_line(tmp_path):
    make_account()
    path = tmp_path / "m.jsonl"
    path.write_bytes(json.dumps(generic_message("m1")).encode() + b'\n{"text": "\xff"}\n')

    with pytest.raises(CommandError, match=r"line 2: not valid UTF-8"):
        run_import(path)


@pytest.mark.django_db
def test_brand_option_is_refused_for_jsonl(tmp_path):
    make_account()
    path = write_lines(tmp_path / "m.jsonl", [generic_message("m1")])

    with pytest.raises(CommandError, match="--brand does not apply to --format jsonl"):
        run_import(path, brand="acme")


@pytest.mark.django_db
def test_unknown_account_is_a_clear_error(tmp_path):
    path = write_lines(tmp_path / "m.jsonl", [generic_message("m1")])

    with pytest.raises(CommandError, match="no account with slug 'acme'"):
        run_import(path)


@pytest.mark.django_db
def test_missing_file_is_a_clear_error(tmp_path):
    make_account()

    with pytest.raises(CommandError, match="no such file"):
        run_import(tmp_path / "absent.jsonl")


@pytest.mark.django_db
def test_batch_size_below_one_is_refused(tmp_path):
    make_account()
    path = write_lines(tmp_path / "m.jsonl", [generic_message("m1")])

    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        run_import(path, batch_size=0)


@pytest.mark.django_db
def test_byte_order_mark_and_small_batches_import_every_line(tmp_path):
    make_account()
    lines = [json.dumps(generic_message(f"m{n}")) for n in range(5)]
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())  # no final newline

    summary = run_import(path, batch_size=2)

    assert "imported 5 new messages, 0 already known" in summary
    assert Message.objects.count() == 5

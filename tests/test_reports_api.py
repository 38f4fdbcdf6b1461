"""The report endpoints: JSON, both CSV exports, parameters, roles and formula-safe cells."""

import csv
import io
from datetime import datetime

import pytest

from cases.models import Case, Team
from cases.reports_export import CASE_COLUMNS, SLA_COLUMNS, safe_cell
from inbox.models import Contact
from tests.conftest import make_account, make_user
from tests.test_reports_sla import DAY, build_world, deliver, said

pytestmark = pytest.mark.django_db

SLA = "/api/v1/reports/sla/"
SLA_CSV = "/api/v1/reports/sla.csv"
CASES_CSV = "/api/v1/reports/cases.csv"
NOVEMBER_3 = {"from": "2026-11-03", "to": "2026-11-03"}


@pytest.fixture
def world(monkeypatch):
    return build_world(monkeypatch)


@pytest.fixture
def supervisor_client(client, world):
    client.force_login(world["supervisor"])
    return client


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def number(cell: str):
    return None if cell == "" else float(cell)


def test_json_report_has_the_spec_shape(supervisor_client):
    response = supervisor_client.get(SLA, {**NOVEMBER_3, "group_by": "tier"})

    assert response.status_code == 200
    data = response.json()
    assert data["from"] == DAY[0].isoformat() and data["to"] == DAY[1].isoformat()
    assert data["group_by"] == "tier"
    mid = next(g for g in data["groups"] if g["key"] == "mid")
    assert set(mid) >= {
        "key",
        "cases",
        "responded",
        "first_response",
        "resolution",
        "attainment",
        "breaches",
    }
    assert (mid["cases"], mid["first_response"], mid["attainment"]) == (
        4,
        {"median": 1800.0, "p90": 4680.0},
        50.0,
    )


def test_datetimes_with_a_zone_are_read_as_instants(supervisor_client):
    """11:00+01:00 is 10:00 UTC, when u1 and u5 wrote: they and u6 (10:30) are in, u2
    (11:00 UTC) is not."""
    response = supervisor_client.get(
        SLA, {"from": "2026-11-03T11:00:00+01:00", "to": "2026-11-03T11:00:00Z"}
    )
    assert response.status_code == 200
    assert sum(g["cases"] for g in response.json()["groups"]) == 3


def test_without_a_period_the_last_30_days_are_reported(supervisor_client):
    data = supervisor_client.get(SLA).json()
    span = datetime.fromisoformat(data["to"]) - datetime.fromisoformat(data["from"])
    assert span.days == 30 and data["group_by"] == "tier"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-40"}, "to"),
        ({"from": "2026-11-04", "to": "2026-11-03"}, "to"),
        ({"group_by": "colour"}, "group_by"),
    ],
)
@pytest.mark.parametrize("path", [SLA, SLA_CSV, CASES_CSV])
def test_a_bad_parameter_is_a_400_naming_it(supervisor_client, path, query, parameter):
    if path == CASES_CSV and parameter == "group_by":
        return  # the case export has no grouping
    response = supervisor_client.get(path, query, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["parameter"] == parameter
    assert parameter in response.json()["error"]


@pytest.mark.parametrize("group_by", ["tier", "account", "team", "agent", "platform"])
def test_sla_csv_holds_the_same_figures_as_the_json(supervisor_client, group_by):
    query = {**NOVEMBER_3, "group_by": group_by}
    groups = supervisor_client.get(SLA, query).json()["groups"]
    response = supervisor_client.get(SLA_CSV, query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == SLA_COLUMNS
    assert [r["key"] for r in rows] == [g["key"] for g in groups]
    for row, group in zip(rows, groups, strict=True):
        assert int(row["cases"]) == group["cases"]
        assert int(row["responded"]) == group["responded"]
        assert number(row["first_response_median"]) == group["first_response"]["median"]
        assert number(row["first_response_p90"]) == group["first_response"]["p90"]
        assert number(row["resolution_median"]) == group["resolution"]["median"]
        assert number(row["resolution_p90"]) == group["resolution"]["p90"]
        assert number(row["attainment"]) == group["attainment"]
        assert int(row["breaches"]) == group["breaches"]


def test_sla_csv_routes_before_the_json_report(supervisor_client):
    assert supervisor_client.get(SLA_CSV, NOVEMBER_3)["Content-Type"].startswith("text/csv")


def test_cases_csv_has_one_row_per_case_streamed(supervisor_client, world):
    response = supervisor_client.get(CASES_CSV, NOVEMBER_3)

    assert response.status_code == 200 and response.streaming
    rows = read_csv(response)
    assert list(rows[0]) == CASE_COLUMNS
    assert len(rows) == 6
    u1 = Case.objects.get(contact__external_id="u1")
    first = next(r for r in rows if r["id"] == str(u1.pk))
    assert first["number"] == str(u1.pk)
    assert first["created_at"] == "2026-11-03T10:00:00+00:00"
    assert (first["account"], first["platform"], first["tier"]) == ("acme", "generic", "mid")
    assert (first["team"], first["assignee"], first["status"]) == ("Care", "alex", "resolved")
    assert float(first["first_response_seconds"]) == 600
    assert float(first["resolution_seconds"]) == 7200
    assert first["contact_handle"] == "u1"
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)


def test_cases_csv_leaves_out_other_periods(supervisor_client):
    rows = read_csv(supervisor_client.get(CASES_CSV, {"from": "2026-11-04", "to": "2026-11-05"}))
    assert rows == []


def test_csv_cells_cannot_run_as_formulas(supervisor_client, world):
    hostile = '=HYPERLINK("http://evil.example","x")'
    deliver(world["acme"], said("evil", "qe", DAY[0]))
    Contact.objects.filter(external_id="evil").update(handle=hostile)
    Case.objects.filter(contact__external_id="evil").update(
        team=Team.objects.create(name="+SUM(A1:A9)", slug="sum")
    )

    rows = read_csv(supervisor_client.get(CASES_CSV, NOVEMBER_3))
    evil = next(r for r in rows if r["contact_handle"].endswith(hostile))  # quoted, not run
    assert evil["contact_handle"] == "'" + hostile
    assert evil["team"] == "'+SUM(A1:A9)"
    assert evil["id"].isdigit() and not evil["breaches"].startswith("'")

    teams = read_csv(supervisor_client.get(SLA_CSV, {**NOVEMBER_3, "group_by": "team"}))
    assert "'+SUM(A1:A9)" in [r["key"] for r in teams]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2", "'-2"),
        ("@handle", "'@handle"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-5, -5),
        (-1.5, -1.5),
        (None, ""),
    ],
)
def test_safe_cell_prefixes_text_only(value, cell):
    assert safe_cell(value) == cell


@pytest.mark.parametrize("path", [SLA, SLA_CSV, CASES_CSV])
def test_agents_get_403(client, path):
    client.force_login(make_user("alex", "agent"))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", [SLA, SLA_CSV, CASES_CSV])
def test_anonymous_gets_401(client, path):
    assert client.get(path).status_code == 401


def test_admins_may_read_reports(client):
    make_account(slug="acme")
    client.force_login(make_user("ada", "admin"))
    assert client.get(SLA).status_code == 200


def test_cases_csv_streams_chunk_by_chunk_under_asgi(world):
    """Under daphne the rows go out as an async iterator, read in the database's thread."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient()
    async_to_sync(client.aforce_login)(world["supervisor"])
    response = async_to_sync(client.get)(CASES_CSV, NOVEMBER_3)

    assert response.status_code == 200 and response.is_async

    async def body():
        return b"".join([chunk async for chunk in response.streaming_content])

    rows = list(csv.DictReader(io.StringIO(async_to_sync(body)().decode())))
    assert len(rows) == 6 and list(rows[0]) == CASE_COLUMNS

"""The reports page: who may see it, its table and charts, and that names stay text."""

import re

import pytest

from cases.models import Case, Team
from cases.reports_charts import Bar, Chart, Series, human_duration
from tests.conftest import make_account, make_user
from tests.test_reports_sla import T0, build_world, deliver, said

pytestmark = pytest.mark.django_db

PAGE = "/reports/"
NOVEMBER_3 = {"from": "2026-11-03", "to": "2026-11-03"}
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def world(monkeypatch):
    return build_world(monkeypatch)


@pytest.fixture
def supervisor_client(client, world):
    client.force_login(world["supervisor"])
    return client


def test_supervisor_sees_table_and_four_accessible_charts(supervisor_client):
    response = supervisor_client.get(PAGE, NOVEMBER_3)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 4
    assert html.count('role="img"') == 4
    for slug in ("volume", "first-response", "sentiment", "backlog"):
        assert f'<title id="chart-{slug}-title">' in html
        assert f'<desc id="chart-{slug}-desc">' in html
    assert "<rect" in html and 'class="target"' in html  # bars and the tier target markers
    assert "30 min" in html and "1 h 18 min" in html  # mid median 30 min, p90 4680 s
    assert "50.0 %" in html


def test_rows_and_bars_link_to_the_inbox_filtered_to_their_cases(supervisor_client):
    html = supervisor_client.get(PAGE, NOVEMBER_3).content.decode()

    period = "created_after=2026-11-03T00%3A00%3A00Z&amp;created_before=2026-11-04T00%3A00%3A00Z"
    assert f'href="/?view=all&amp;tier=mid&amp;{period}"' in html
    assert f'href="/?view=all&amp;sentiment=negative&amp;{period}"' in html
    assert "/?view=all&amp;status=new&amp;status=open&amp;status=pending" in html


def test_group_tabs_keep_the_period_and_team_links_use_ids(supervisor_client, world):
    html = supervisor_client.get(PAGE, {**NOVEMBER_3, "group_by": "team"}).content.decode()

    assert "from=2026-11-03&amp;to=2026-11-03&amp;group_by=agent" in html
    assert f"team={world['care'].pk}&amp;" in html
    assert "team=none&amp;" in html


def test_page_links_both_csv_exports_for_its_period(supervisor_client):
    html = supervisor_client.get(PAGE, {**NOVEMBER_3, "group_by": "account"}).content.decode()
    assert re.search(r'href="/api/v1/reports/sla\.csv\?from=[^"]+&amp;group_by=account"', html)
    assert 'href="/api/v1/reports/cases.csv?from=2026-11-03T00%3A00%3A00Z' in html


@pytest.mark.parametrize("days", ["7", "30", "90"])
def test_presets_are_offered_and_marked(supervisor_client, days):
    html = supervisor_client.get(PAGE, {"days": days}).content.decode()
    assert f'href="?days={days}&amp;group_by=tier" aria-current="page"' in html


def test_a_bad_period_shows_a_message_not_an_error(supervisor_client):
    response = supervisor_client.get(PAGE, {"from": "soon"})
    assert response.status_code == 200
    assert "The period was not understood" in response.content.decode()


def test_hostile_names_are_escaped_everywhere(supervisor_client, world):
    account = make_account(slug=HOSTILE, name=HOSTILE)
    deliver(account, said("mallory", "qm", T0))
    Case.objects.filter(contact__external_id="mallory").update(
        team=Team.objects.create(name=HOSTILE, slug="hostile")
    )
    for group_by in ("account", "team"):
        html = supervisor_client.get(PAGE, {**NOVEMBER_3, "group_by": group_by}).content.decode()
        assert HOSTILE not in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_agents_get_403(client):
    client.force_login(make_user("alex", "agent"))
    assert client.get(PAGE).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/reports/")


def test_empty_period_renders_empty_charts(client):
    client.force_login(make_user("sam", "supervisor"))
    html = client.get(PAGE, {"from": "2020-01-01", "to": "2020-01-07"}).content.decode()
    assert "No cases in this period." in html
    assert html.count("<svg") == 4


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (45, "45 s"),
        (720, "12 min"),
        (3600, "1 h"),
        (21900, "6 h 5 min"),
        (2 * 86400 + 3 * 3600 + 59, "2 d 3 h"),
    ],
)
def test_durations_read_like_a_person_would_say_them(seconds, text):
    assert human_duration(seconds) == text


def test_stacked_bars_sit_on_each_other_and_scale_to_the_tallest():
    chart = Chart(
        slug="t",
        title="t",
        description="d",
        y_label="y",
        x_label="x",
        series=[Series("a", "s-ok"), Series("b", "s-breach")],
        bars=[Bar("one", [3, 1]), Bar("two", [0, 0])],
    )
    layout = chart.layout()
    lower, upper = layout["bars"][0]["segments"]
    assert lower["y"] == pytest.approx(upper["y"] + upper["height"])
    assert upper["y"] >= layout["top"] and lower["y"] + lower["height"] == layout["bottom"]
    assert layout["bars"][1]["segments"] == []
    assert layout["ticks"][0]["label"] == "0"

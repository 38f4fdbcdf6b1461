"""The reports page in a real browser against a real server: charts, drill-down, exports."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.live_server import Server, launch_chromium, need_browser

pytestmark = pytest.mark.browser
SECRET = "reports-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    srv = Server(tmp_path_factory.mktemp("reports"))
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("create_agent", "sam", "--role", "supervisor", "--password", "sam-pass-1")
    srv.manage("create_account", "generic", "shop", "--secret", SECRET, "--tier", "mid")
    srv.start()
    wrote = datetime.now(UTC) - timedelta(hours=2)
    srv.deliver(
        "shop",
        SECRET,
        [
            {
                "external_id": "q1",
                "author": {"id": "u1", "handle": "mara"},
                "text": "My refund never arrived, this is terrible",
                "created_at": wrote.isoformat(),
            },
            {
                "external_id": "r1",
                "direction": "out",
                "author": {"id": "shop", "handle": "shop"},
                "recipient": {"id": "u1", "handle": "mara"},
                "in_reply_to": "q1",
                "text": "Sorry Mara, we are on it.",
                "created_at": (wrote + timedelta(minutes=12)).isoformat(),
            },
        ],
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/accounts/login/?next=/reports/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("sam-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/reports/")
    yield page
    context.close()


def test_supervisor_reads_the_figures_and_charts(page):
    assert page.locator("svg[role=img]").count() == 4
    row = page.get_by_role("row", name="mid")
    assert "12 min" in row.inner_text()
    assert "100.0 %" in row.inner_text()
    assert page.locator("#live-status").inner_text().startswith("figures as of")


def test_a_bar_opens_the_inbox_filtered_to_its_cases(page, server):
    page.locator("#chart-first-response svg a").first.click()
    page.wait_for_url("**/?view=all&tier=mid&created_after=*")
    assert page.url.startswith(server.url + "/?view=all&tier=mid")


def test_the_chart_data_is_reachable_without_a_mouse(page):
    details = page.locator("#chart-volume details")
    details.locator("summary").click()
    links = details.get_by_role("link")
    assert links.count() >= 2  # each day's cases: within targets and breached


def test_group_tabs_and_presets_reload_the_page(page, server):
    page.get_by_role("link", name="Account").click()
    page.wait_for_url("**group_by=account")
    assert page.get_by_role("row", name="shop").is_visible()
    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_url("**days=7&group_by=account")
    assert page.get_by_role("row", name="shop").is_visible()

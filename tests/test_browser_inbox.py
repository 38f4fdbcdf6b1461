"""The agent workspace in a real browser against a real server (daphne, WebSocket)."""

import re
from datetime import UTC, datetime

import pytest

from tests.live_server import ARTIFACTS, Server, launch_chromium, need_browser

pytestmark = pytest.mark.browser
SECRET = "browser-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    srv = Server(tmp_path_factory.mktemp("browser"))
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage(
        "create_agent",
        "dana",
        "--role",
        "agent",
        "--team",
        "care",
        "--password",
        "dana-pass-1",
        "--first-name",
        "Dana",
    )
    srv.manage(
        "create_agent",
        "lee",
        "--role",
        "agent",
        "--team",
        "care",
        "--password",
        "lee-pass-1",
        "--first-name",
        "Lee",
    )
    srv.manage(
        "create_account", "generic", "shop", "--secret", SECRET, "--team", "care", "--tier", "mid"
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def login(browser, server, username, password):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    page.locator("#live-status[data-state=live]").wait_for(timeout=10_000)
    return page


def message(external_id, text, handle="mara", followers=1200):
    return {
        "external_id": external_id,
        "author": {
            "id": f"id-{handle}",
            "handle": handle,
            "name": handle.title(),
            "followers": followers,
        },
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
        "public": True,
    }


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_new_case_appears_live_and_a_reply_stops_the_sla_clock(server, browser):
    page = login(browser, server, "dana", "dana-pass-1")
    server.deliver("shop", SECRET, message("b-1", "My parcel is two weeks late, I want a refund!"))
    row = page.locator("tr.case-row", has_text="@mara")
    row.wait_for(timeout=10_000)
    assert "late" in row.inner_text()
    shot(page, "inbox-live-case")

    row.locator("a.case-link").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.get_by_label(re.compile("Reply to")).fill("Sorry Mara, we are on it: refund started.")
    page.get_by_role("button", name="Send reply").click()
    page.locator(".message.out", has_text="refund started").wait_for(timeout=10_000)
    shot(page, "case-after-reply")

    token = server.token("dana", "dana-pass-1")
    case = server.api(f"/api/v1/cases/{case_id}/", token)
    assert case["first_response_at"] is not None
    assert case["status"] == "open"
    assert [m["direction"] for m in case["messages"]] == ["in", "out"]


def test_hostile_message_shows_as_text(server, browser):
    page = login(browser, server, "dana", "dana-pass-1")
    hostile = (
        '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> <b>bold</b>'
    )
    server.deliver("shop", SECRET, message("b-2", hostile, handle="eve"))
    row = page.locator("tr.case-row", has_text="@eve")
    row.wait_for(timeout=10_000)
    assert "<script>" in row.inner_text()
    assert page.evaluate("window.__pwned") is None
    row.locator("a.case-link").click()
    page.locator(".message.in .text").first.wait_for()
    assert "<img src=x" in page.locator(".message.in .text").first.inner_text()
    assert page.locator(".message img").count() == 0
    assert page.evaluate("window.__pwned") is None
    shot(page, "case-hostile-text")


def test_two_agents_see_each_others_presence(server, browser):
    server.deliver("shop", SECRET, message("b-3", "Can someone call me back?", handle="otto"))
    dana = login(browser, server, "dana", "dana-pass-1")
    dana.locator("tr.case-row", has_text="@otto").locator("a.case-link").click()
    dana.wait_for_url(re.compile(r"/cases/\d+/$"))
    lee = login(browser, server, "lee", "lee-pass-1")
    lee.goto(dana.url)
    lee.locator("#presence", has_text="Dana is viewing").wait_for(timeout=10_000)
    dana.locator("#presence", has_text="Lee is viewing").wait_for(timeout=10_000)
    dana.get_by_label(re.compile("Reply to")).type("We will call you")
    lee.locator("#presence", has_text="Dana is typing").wait_for(timeout=10_000)
    assert lee.locator("#typing-guard").is_visible()
    shot(lee, "case-presence-typing")


def test_keyboard_moves_through_the_list_and_opens_a_case(server, browser):
    for n in range(3):
        server.deliver("shop", SECRET, message(f"k-{n}", f"Question number {n}", handle=f"kb{n}"))
    page = login(browser, server, "dana", "dana-pass-1")
    page.locator("tr.case-row").nth(2).wait_for()
    page.keyboard.press("j")
    first = page.locator("tr.case-row[aria-selected=true]")
    first_id = first.get_attribute("data-id")
    page.keyboard.press("j")
    second_id = page.locator("tr.case-row[aria-selected=true]").get_attribute("data-id")
    assert first_id != second_id
    page.keyboard.press("k")
    assert page.locator("tr.case-row[aria-selected=true]").get_attribute("data-id") == first_id
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/cases/{first_id}/$"))

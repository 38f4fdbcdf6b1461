"""The Content-Security-Policy in a real browser: every page works under it without one
violation, and markup injected into a page cannot run code."""

import re

import pytest

from tests.live_server import Server, launch_chromium, need_browser

pytestmark = pytest.mark.browser

# Collects what the browser reports; Playwright's init scripts are not subject to the page's CSP.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    srv = Server(tmp_path_factory.mktemp("csp"))
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("demo", "--messages", "60")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server):
    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(WATCH_VIOLATIONS)
        page = context.new_page()
        page.console_messages = []
        page.on(
            "console",
            lambda m: (
                page.console_messages.append(m.text)
                if "Content Security Policy" in m.text
                else None
            ),
        )
        yield page


def visit(page, url: str) -> list[str]:
    """Open a page, let its scripts run, and return the violations it reported."""
    page.console_messages.clear()
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp") + page.console_messages


def test_every_page_works_under_the_policy_without_a_violation(server, page):
    assert visit(page, server.url + "/accounts/login/") == []
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    page.locator("#live-status[data-state=live]").wait_for(timeout=10_000)

    case_link = page.locator("tr.case-row a.case-link").first
    case_link.wait_for(timeout=10_000)
    case_url = server.url + case_link.get_attribute("href")
    pages = [
        "/",
        case_url.removeprefix(server.url),
        "/reports/",
        "/reports/at-risk/",
        "/admin/",
        "/admin/inbox/account/",
        "/admin/inbox/account/1/change/",
        "/admin/cases/case/",
        "/admin/cases/routingrule/",
        "/admin/cases/routingrule/test/",
        "/admin/security/auditentry/",
        "/api/docs/",
    ]
    found = {path: visit(page, server.url + path) for path in pages}
    assert {path: v for path, v in found.items() if v} == {}

    # The pages still do their work under the policy: the case page shows its messages, the
    # reports page draws its charts, the API documentation renders its operations.
    page.goto(case_url)
    page.locator(".message").first.wait_for(timeout=10_000)
    page.goto(server.url + "/reports/")
    assert page.locator(".chart svg").count() > 0
    page.goto(server.url + "/api/docs/")
    page.locator(".opblock").first.wait_for(timeout=15_000)


def test_markup_injected_into_a_page_cannot_run_code(server, page):
    page.goto(server.url + "/accounts/login/")
    page.evaluate(
        """document.body.insertAdjacentHTML("beforeend",
             '<img src="/missing.png" onerror="window.__pwned = 1">' +
             '<a id="js-link" href="javascript:window.__pwned = 2">x</a>');
           const s = document.createElement("script");
           s.textContent = "window.__pwned = 3";
           document.body.append(s);"""
    )
    page.locator("#js-link").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    violations = page.evaluate("window.__csp")
    assert any(re.match(r"script-src", v) for v in violations), violations

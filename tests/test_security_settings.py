"""Production settings pass Django's deployment check, and what a browser receives follows
them: HTTPS only with HSTS, cookies that scripts and plain HTTP never see, a strict policy."""

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.live_server import NoRedirect, Server

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "care.example.com",
    "CAREMGR_PUBLIC_URL": "https://care.example.com",
}


def deploy_check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "CAREMGR_PUBLIC_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "caremgr.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deployment_check_is_clean_with_production_settings():
    done = deploy_check(**PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_the_deployment_check_names_what_a_plain_http_setup_lacks():
    done = deploy_check(**{**PRODUCTION, "CAREMGR_PUBLIC_URL": "http://care.example.com"})
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr + done.stdout


def fetch(url: str, **headers: str):
    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(urllib.request.Request(url, headers=headers), timeout=10)
    except urllib.error.HTTPError as answer:
        return answer


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A server as behind a TLS-ending proxy that says so in X-Forwarded-Proto."""
    srv = Server(
        tmp_path_factory.mktemp("tls"),
        **{**PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1"},
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto,https",
    )
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.start()
    yield srv
    srv.stop()


def test_plain_http_is_redirected_to_https(tls_server):
    answer = fetch(tls_server.url + "/accounts/login/")
    assert answer.status == 301
    assert answer.headers["Location"].startswith("https://127.0.0.1")


def test_over_https_browsers_get_hsts_secure_cookies_and_the_policy(tls_server):
    answer = fetch(tls_server.url + "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert answer.status == 200
    headers = answer.headers
    assert headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csrf_cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("csrftoken="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in csrf_cookie


def test_webhooks_are_not_redirected_when_the_proxy_says_https(tls_server):
    answer = fetch(tls_server.url + "/webhooks/generic/nobody/", **{"X-Forwarded-Proto": "https"})
    assert answer.status == 404  # reached the view: an unknown account, not a redirect


@pytest.mark.django_db
def test_a_session_lasts_a_working_day_and_cookies_stay_out_of_scripts(client):
    from tests.conftest import make_user

    make_user("dana")
    page = client.get("/accounts/login/")
    assert page.cookies["csrftoken"]["httponly"]
    assert "script-src 'self'" in page["Content-Security-Policy"]
    client.post("/accounts/login/", {"username": "dana", "password": "pw-dana"})
    session = client.cookies["sessionid"]
    assert session["httponly"]
    assert int(session["max-age"]) == 12 * 3600

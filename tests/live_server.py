"""A real caremgr in its own process (daphne via `manage.py serve`) for tests that speak only
the external contract: HTTP, WebSocket and a real browser (Chromium driven by Playwright)."""

import contextlib
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CAREMGR_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Show a redirect as it is (e.g. to HTTPS) instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One server process; several may share a database and a Redis channel layer."""

    def __init__(self, workdir: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DATABASE_URL": f"sqlite:///{workdir / 'live.sqlite3'}",
            "SECRET_KEY": "live-server-tests",
            "DJANGO_SETTINGS_MODULE": "caremgr.settings",
            "CAREMGR_GENERIC_API_BASE": "http://127.0.0.1:9/unreachable",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.process = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port), "--interval", "1"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                opener = urllib.request.build_opener(NoRedirect)
                opener.open(self.url + "/accounts/login/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers (with TLS on, a redirect to HTTPS)
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        self.process.stdout.read().decode(errors="replace")
                    ) from None
                time.sleep(0.2)
        raise RuntimeError("caremgr did not start within 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def deliver(self, slug: str, secret: str, payload) -> dict:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            f"{self.url}/webhooks/generic/{slug}/",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Caremgr-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def api(self, path: str, token: str) -> dict:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def token(self, username: str, password: str) -> str:
        body = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(
            self.url + "/api/v1/auth/token/",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())["token"]

    def session_cookie(self, username: str, password: str) -> str:
        """Log in through the login form, as a browser does; returns the session cookie."""
        import httpx

        with httpx.Client(base_url=self.url, follow_redirects=False, timeout=10) as client:
            client.get("/accounts/login/")
            csrf = client.cookies["csrftoken"]
            answer = client.post(
                "/accounts/login/",
                data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
                headers={"Referer": self.url + "/accounts/login/"},
            )
            assert answer.status_code == 302, answer.text
            return client.cookies["sessionid"]

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/inbox/"


def need_browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}: install Debian's package with "
            "`apt-get install chromium` (or set CAREMGR_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need Playwright for Python: pip install playwright")


@contextlib.contextmanager
def launch_chromium():
    """Debian's Chromium driven by Playwright (its own browser download cannot work here);
    skips the test where either is missing."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

"""API authentication: token and session; anonymous requests answer 401 everywhere."""

import pytest
from django.test import Client

from cases.models import Case, Team
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made per test; the production hasher would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent(db):
    team = Team.objects.create(name="Care", slug="care")
    account = make_account(slug="acme", default_team=team)
    user = make_user("ann", teams=[team])
    return user, account


@pytest.fixture
def case(agent, django_capture_on_commit_callbacks):
    _, account = agent
    with django_capture_on_commit_callbacks(execute=True):
        assert post_generic(Client(), account, generic_message()).status_code == 200
    return Case.objects.get()


def token_for(client, username, password):
    return client.post(TOKEN_URL, {"username": username, "password": password})


def test_token_is_issued_for_username_and_password(client, agent):
    answer = token_for(client, "ann", "pw-ann")
    assert answer.status_code == 200
    assert set(answer.json()) == {"token"} and answer.json()["token"]


def test_token_is_also_issued_for_a_json_body(client, agent):
    body = {"username": "ann", "password": "pw-ann"}
    answer = client.post(TOKEN_URL, body, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["token"]


def test_the_same_user_gets_the_same_token_again(client, agent):
    assert token_for(client, "ann", "pw-ann").json() == token_for(client, "ann", "pw-ann").json()


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "ann", "password": "wrong"},
        {"username": "nobody", "password": "pw-nobody"},
        {"username": "ann"},
        {},
    ],
)
def test_bad_credentials_get_a_400_with_a_json_error_and_no_token(client, agent, credentials):
    answer = client.post(TOKEN_URL, credentials)
    assert answer.status_code == 400
    assert "token" not in answer.json() and answer.json()


def test_token_header_authenticates_api_requests(client, case):
    token = token_for(client, "ann", "pw-ann").json()["token"]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    answer = api.get("/api/v1/cases/")
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [case.pk]
    note = api.post(
        f"/api/v1/cases/{case.pk}/notes/", {"text": "by token"}, content_type="application/json"
    )
    assert note.status_code == 201


@pytest.mark.parametrize(
    "header", ["Token not-a-token", "Token", "Bearer abc", "Basic Zm9vOmJhcg=="]
)
def test_a_bad_authorization_header_is_401(case, header):
    assert Client(HTTP_AUTHORIZATION=header).get("/api/v1/cases/").status_code == 401


def test_a_token_of_a_deactivated_user_is_401(client, agent):
    token = token_for(client, "ann", "pw-ann").json()["token"]
    user, _ = agent
    user.is_active = False
    user.save()
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/cases/").status_code == 401


def test_session_login_authenticates_api_requests(client, case):
    assert client.login(username="ann", password="pw-ann")
    answer = client.get(f"/api/v1/cases/{case.pk}/")
    assert answer.status_code == 200 and answer.json()["id"] == case.pk


def test_login_page_sets_a_session_the_api_accepts(client, case):
    answer = client.post("/accounts/login/", {"username": "ann", "password": "pw-ann"})
    assert answer.status_code == 302
    assert client.get("/api/v1/cases/").status_code == 200


ENDPOINTS = [
    ("get", "/api/v1/cases/"),
    ("get", "/api/v1/cases/{case}/"),
    ("post", "/api/v1/cases/{case}/reply/"),
    ("post", "/api/v1/cases/{case}/assign/"),
    ("post", "/api/v1/cases/{case}/status/"),
    ("post", "/api/v1/cases/{case}/priority/"),
    ("post", "/api/v1/cases/{case}/notes/"),
    ("post", "/api/v1/cases/{case}/merge/"),
    ("get", "/api/v1/messages/"),
    ("get", "/api/v1/messages/{message}/"),
    ("get", "/api/v1/contacts/{contact}/"),
    ("get", "/api/v1/cases/999999/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_no_credentials_is_401_on_every_endpoint(client, case, method, url):
    url = url.format(case=case.pk, message=case.messages.get().pk, contact=case.contact_id)
    answer = getattr(client, method)(url, {}, content_type="application/json")
    assert answer.status_code == 401, (url, answer.status_code)
    assert answer.json()["detail"]
    assert answer["WWW-Authenticate"].startswith("Token")
    assert Case.objects.get().events.filter(actor__isnull=False).count() == 0


@pytest.mark.parametrize(("method", "url"), ENDPOINTS[:3] + ENDPOINTS[-3:-1])
def test_a_logged_in_user_without_a_role_is_403(client, case, method, url):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("visitor", password="pw"))
    url = url.format(case=case.pk, message=case.messages.get().pk, contact=case.contact_id)
    answer = getattr(client, method)(url, {"text": "hi"}, content_type="application/json")
    assert answer.status_code == 403, (url, answer.status_code)
    assert answer.json()["detail"]

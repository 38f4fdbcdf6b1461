"""Who may open which URL: every route of the project, asked by every role.

The routes come from walking the URL resolver, so a new endpoint without a row here fails
`test_every_route_has_a_row`. Roles: anonymous, an agent of the case's team, an agent of
another team, a login without a role, a supervisor and an admin. Pages send anonymous
visitors to the login page; the API answers 401 without login and 403 without the role; a
case of another team does not exist for an agent (404, on pages and in the API alike).
Each role asks inside a transaction that is rolled back, so every role sees the same world.
"""

import re
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cases.models import Case

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "agent", "other", "visitor", "supervisor", "admin")
LOGIN = "→ /accounts/login/"
ADMIN_LOGIN = "→ /admin/login/"


def roles(anonymous, agent, other, visitor, supervisor, admin) -> dict:
    return dict(zip(ROLES, (anonymous, agent, other, visitor, supervisor, admin), strict=True))


def everyone(status) -> dict:
    return dict.fromkeys(ROLES, status)


# The usual answers: `agent` works the case, `other` is of another team.
PAGE = roles(LOGIN, 200, 404, 403, 200, 200)
API = roles(401, 200, 404, 403, 200, 200)
API_CREATED = roles(401, 201, 404, 403, 201, 201)
API_LIST = roles(401, 200, 200, 403, 200, 200)  # another team's agent sees their own rows
SUPERVISOR_PAGE = roles(LOGIN, 403, 403, 403, 200, 200)
SUPERVISOR_API = roles(401, 403, 403, 403, 200, 200)
LOGGED_IN = roles(LOGIN, 200, 200, 200, 200, 200)


@dataclass(frozen=True)
class Row:
    url: str
    expect: dict
    method: str = "get"
    data: dict = field(default_factory=dict)


ROWS: dict[str, Row] = {
    # pages
    "": Row("/", LOGGED_IN | {"visitor": 403}),
    "cases/<int:pk>/": Row("/cases/{case}/", PAGE),
    "reports/": Row("/reports/", SUPERVISOR_PAGE),
    "reports/at-risk/": Row("/reports/at-risk/", SUPERVISOR_PAGE),
    "reports/at-risk/<int:pk>/follow-up/": Row(
        "/reports/at-risk/{contact}/follow-up/",
        roles(LOGIN, 403, 403, 403, 302, 302),
        "post",
    ),
    # public: the signed link or the signature is the only key, a login adds nothing
    "survey/<str:token>/": Row("/survey/{survey}/", everyone(200)),
    "webhooks/<str:platform>/<slug:slug>/": Row(
        "/webhooks/generic/acme/", everyone(403), "post", {"text": "unsigned"}
    ),
    "api/v1/auth/token/": Row(
        "/api/v1/auth/token/", everyone(400), "post", {"username": "{nobody}", "password": "x"}
    ),
    "api/v1/schema/": Row("/api/v1/schema/", everyone(200)),
    "api/docs/": Row("/api/docs/", everyone(200)),
    # login and password pages of django.contrib.auth
    "accounts/login/": Row("/accounts/login/", everyone(200)),
    "accounts/logout/": Row("/accounts/logout/", everyone(LOGIN), "post"),
    "accounts/password_change/": Row("/accounts/password_change/", LOGGED_IN),
    "accounts/password_change/done/": Row("/accounts/password_change/done/", LOGGED_IN),
    "accounts/password_reset/": Row("/accounts/password_reset/", everyone(200)),
    "accounts/password_reset/done/": Row("/accounts/password_reset/done/", everyone(200)),
    "accounts/reset/<uidb64>/<token>/": Row("/accounts/reset/{uid}/not-a-token/", everyone(200)),
    "accounts/reset/done/": Row("/accounts/reset/done/", everyone(200)),
    # reports API
    "api/v1/reports/sla/": Row("/api/v1/reports/sla/", SUPERVISOR_API),
    "api/v1/reports/sla.csv": Row("/api/v1/reports/sla.csv", SUPERVISOR_API),
    "api/v1/reports/cases.csv": Row("/api/v1/reports/cases.csv", SUPERVISOR_API),
    "api/v1/reports/at-risk/": Row("/api/v1/reports/at-risk/", SUPERVISOR_API),
    "api/v1/reports/retention/": Row("/api/v1/reports/retention/", SUPERVISOR_API),
    # cases, messages and contacts API
    "api/v1/": Row("/api/v1/", API_LIST),
    "api/v1/cases/": Row("/api/v1/cases/", API_LIST),
    "api/v1/cases/<pk>/": Row("/api/v1/cases/{case}/", API),
    "api/v1/cases/<pk>/reply/": Row(
        "/api/v1/cases/{case}/reply/", API_CREATED, "post", {"text": "We will help."}
    ),
    "api/v1/cases/<pk>/notes/": Row(
        "/api/v1/cases/{case}/notes/", API_CREATED, "post", {"text": "looked at it"}
    ),
    "api/v1/cases/<pk>/assign/": Row("/api/v1/cases/{case}/assign/", API, "post", {"agent": "me"}),
    "api/v1/cases/<pk>/status/": Row(
        "/api/v1/cases/{case}/status/", API, "post", {"status": "pending"}
    ),
    "api/v1/cases/<pk>/priority/": Row(
        "/api/v1/cases/{case}/priority/", API, "post", {"priority": "P1"}
    ),
    "api/v1/cases/<pk>/tier/": Row(
        "/api/v1/cases/{case}/tier/", API | {"agent": 403}, "post", {"tier": "high"}
    ),
    "api/v1/cases/<pk>/merge/": Row(
        "/api/v1/cases/{case}/merge/", API, "post", {"into": "{sibling}"}
    ),
    "api/v1/cases/<pk>/suggestions/": Row("/api/v1/cases/{case}/suggestions/", API),
    "api/v1/messages/": Row("/api/v1/messages/", API_LIST),
    "api/v1/messages/<pk>/": Row("/api/v1/messages/{message}/", API),
    "api/v1/messages/<pk>/split/": Row("/api/v1/messages/{second}/split/", API_CREATED, "post"),
    "api/v1/messages/<pk>/resend/": Row("/api/v1/messages/{failed}/resend/", API, "post"),
    "api/v1/contacts/<pk>/": Row("/api/v1/contacts/{contact}/", API),
}

# /admin/: admins only; everyone else is sent to the admin's own login page.
NOT_ADMIN = dict.fromkeys(ROLES[:-1], ADMIN_LOGIN)
ADMIN_SITE = {
    "admin/": Row("/admin/", NOT_ADMIN | {"admin": 200}),
    "admin/login/": Row("/admin/login/", everyone(200) | {"admin": 302}),
    # logging out of the admin needs a login to the admin; others are sent to its index
    "admin/logout/": Row("/admin/logout/", everyone(302) | {"admin": LOGIN}, "post"),
    "admin/password_change/": Row("/admin/password_change/", NOT_ADMIN | {"admin": 200}),
    "admin/password_change/done/": Row("/admin/password_change/done/", NOT_ADMIN | {"admin": 200}),
    "admin/autocomplete/": Row("/admin/autocomplete/", NOT_ADMIN | {"admin": 403}),
    "admin/jsi18n/": Row("/admin/jsi18n/", NOT_ADMIN | {"admin": 200}),
    "admin/r/<path:content_type_id>/<path:object_id>/": Row(
        "/admin/r/{content_type}/{case}/", NOT_ADMIN | {"admin": 404}
    ),
    "admin/<app_label>/": Row("/admin/cases/", NOT_ADMIN | {"admin": 200}),
    "admin/<url>": Row("/admin/no-such-page/", NOT_ADMIN | {"admin": 404}),
    "admin/auth/user/<id>/password/": Row(
        "/admin/auth/user/{user}/password/", NOT_ADMIN | {"admin": 200}
    ),
    "admin/cases/routingrule/test/": Row(
        "/admin/cases/routingrule/test/", NOT_ADMIN | {"admin": 200}
    ),
}
# What an admin gets from each page of a registered model (by the end of its route), when
# the model admin allows it (else 403); an object page of a model with no rows redirects to
# the admin index saying so.
MODEL_PAGES = {
    "": 200,
    "add/": 200,
    "<path:object_id>/change/": 200,
    "<path:object_id>/history/": 200,
    "<path:object_id>/delete/": 200,
    "<path:object_id>/": 302,
}
SUPERUSER = SimpleNamespace(user=SimpleNamespace(has_perm=lambda *args: True, is_active=True))


def admin_row(key: str) -> Row | None:
    """The row of an /admin/ route: the site's own pages, or a page of a registered model."""
    if key in ADMIN_SITE:
        return ADMIN_SITE[key]
    match = re.fullmatch(r"admin/(\w+)/(\w+)/(.*)", key)
    if match is None or match.group(3) not in MODEL_PAGES:
        return None
    app_label, model_name, page = match.groups()
    model_admin = admin.site._registry.get(apps.get_model(app_label, model_name))
    if model_admin is None:
        return None
    status = MODEL_PAGES[page]
    if page == "add/" and not model_admin.has_add_permission(SUPERUSER):
        status = 403
    if page.endswith("delete/") and not model_admin.has_delete_permission(SUPERUSER):
        status = 403
    url = f"/admin/{app_label}/{model_name}/{page.replace('<path:object_id>', '{object}')}"
    return Row(url, NOT_ADMIN | {"admin": status})


def walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def route_key(route: str) -> str:
    """A route as written in the rows: regex groups as `<name>`, anchors dropped."""
    key = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    return key.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "")


ROUTES = sorted({route_key(route) for route in walk(get_resolver().url_patterns)})


def row_of(key: str) -> Row | None:
    return admin_row(key) if key.startswith("admin/") else ROWS.get(key)


def test_every_route_has_a_row():
    missing = [key for key in ROUTES if row_of(key) is None]
    assert not missing, f"routes without a row in the permission matrix: {missing}"
    stale = sorted(set(ROWS) - set(ROUTES))
    assert not stale, f"rows of routes that no longer exist: {stale}"


def first_object(url: str):
    """The first object of the model an /admin/<app>/<model>/ URL names, if any."""
    app_label, model_name = url.split("/")[2:4]
    return apps.get_model(app_label, model_name)._default_manager.first()


def concrete(row: Row, values: dict) -> tuple[str, dict]:
    url = row.url
    if "{object}" in url:
        first = first_object(url)
        url = url.replace("{object}", "0" if first is None else str(first.pk))
    data = {k: v.format(**values) if isinstance(v, str) else v for k, v in row.data.items()}
    return url.format(**values), data


def outcome(answer) -> int | str:
    """The status, or where a redirect to a login page leads."""
    if answer.status_code == 302:
        location = answer["Location"]
        if location.startswith("/accounts/login/"):
            return LOGIN
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
    return answer.status_code


def ask(role_world, role: str, row: Row) -> int | str:
    """One role's answer, in a transaction rolled back afterwards."""
    # an unknown user per request: failed sign-ins are counted per username (and address)
    url, data = concrete(row, role_world["values"] | {"nobody": f"nobody-{uuid.uuid4().hex}"})
    with transaction.atomic():
        client = Client()
        if role != "anonymous":
            client.cookies["sessionid"] = role_world["sessions"][role]
        if row.method == "get":
            answer = client.get(url)
        else:
            answer = client.post(url, data, content_type="application/json")
        transaction.set_rollback(True)
    return outcome(answer)


@pytest.mark.parametrize("key", [key for key in ROUTES if row_of(key) is not None])
def test_each_role_gets_the_expected_answer(role_world, key):
    row = row_of(key)
    expect = row.expect
    if "{object}" in row.url and expect["admin"] == 200 and first_object(row.url) is None:
        expect = expect | {"admin": 302}  # "no such object", back to the admin index
    got = {role: ask(role_world, role, row) for role in ROLES}
    assert got == expect, f"{row.method.upper()} {row.url}"


def case_state(pk: int) -> tuple:
    case = Case.objects.get(pk=pk)
    return case.assignee_id, case.tier_id, case.message_count, case.merged_into_id


# Writes across the lines: who may hand a case to whom, override a tier, merge where.
WRITES = [
    # an agent gives her team's case only to a teammate, not to an agent of another team
    ("agent", "{case}/assign/", {"agent": "{bob}"}, 403),
    ("agent", "{case}/assign/", {"agent": "{ada}"}, 200),
    # nor takes (or requeues) a case a teammate already holds; a supervisor may
    ("agent", "{teammates}/assign/", {"agent": "me"}, 403),
    ("agent", "{teammates}/assign/", {"agent": None}, 403),
    ("supervisor", "{teammates}/assign/", {"agent": "{bob}"}, 200),
    # the tier (and so the SLA targets) is overridden by supervisors only
    ("agent", "{case}/tier/", {"tier": "tech"}, 403),
    ("supervisor", "{case}/tier/", {"tier": "tech"}, 200),
    # another team's case is neither merged into nor worked
    ("agent", "{case}/merge/", {"into": "{team_b}"}, 400),
    ("agent", "{team_b}/merge/", {"into": "{case}"}, 404),
    ("other", "{case}/reply/", {"text": "not mine"}, 404),
    ("other", "{case}/notes/", {"text": "not mine"}, 404),
]


@pytest.mark.parametrize(("role", "path", "data", "status"), WRITES)
def test_writes_across_teams_and_roles(role_world, role, path, data, status):
    values = role_world["values"]
    url = "/api/v1/cases/" + path.format(**values)
    data = {k: v.format(**values) if isinstance(v, str) else v for k, v in data.items()}
    touched = int(url.split("/")[4])
    before = case_state(touched)
    with transaction.atomic():
        client = Client()
        client.cookies["sessionid"] = role_world["sessions"][role]
        answer = client.post(url, data, content_type="application/json")
        after = case_state(touched)
        transaction.set_rollback(True)
    assert answer.status_code == status, answer.content
    if status == 200:
        assert after != before
    else:
        assert after == before

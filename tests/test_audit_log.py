"""The audit log: sign-ins and their failures, report exports and replays are recorded, and
an admin finds them, with supervisors' case actions and admin changes, read-only in /admin/."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from cases import actions
from cases.models import Case
from inbox.models import Delivery, DeliveryStatus
from security.models import AuditEntry
from tests.conftest import (
    account_change_form,
    generic_message,
    make_account,
    make_user,
    post_generic,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]


@pytest.fixture
def admin_client(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root-1"))
    return client


def test_failed_and_locked_sign_ins_are_recorded_with_name_and_address(settings, admin_client):
    settings.CAREMGR_LOGIN_RATE_LIMIT = (2, 900)
    make_user("dana")
    browser = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        browser.post("/accounts/login/", {"username": "dana", "password": "guess"})
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "username", "ip"))
    assert entries == [
        ("login.failed", "dana", "203.0.113.9"),
        ("login.failed", "dana", "203.0.113.9"),
        ("login.locked", "dana", "203.0.113.9"),
    ]

    page = admin_client.get("/admin/security/auditentry/?action=login.locked").content.decode()
    assert "203.0.113.9" in page and "dana" in page


def test_a_sign_in_is_recorded_with_its_user(client):
    user = make_user("dana")
    client.post("/accounts/login/", {"username": "dana", "password": "pw-dana"})
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.path) == ("login.succeeded", user, "/accounts/login/")


def test_a_supervisors_csv_exports_are_recorded_and_an_agents_refused_one_is_not():
    make_account()
    supervisor, agent = make_user("sue", "supervisor"), make_user("ann")
    sue, ann = Client(), Client()
    sue.force_login(supervisor)
    ann.force_login(agent)

    assert ann.get("/api/v1/reports/sla.csv").status_code == 403
    answer = sue.get("/api/v1/reports/sla.csv?from=2026-11-01&to=2026-11-20&group_by=team")
    assert answer.status_code == 200
    cases = sue.get("/api/v1/reports/cases.csv?from=2026-11-01&to=2026-11-20")
    b"".join(cases.streaming_content)

    exports = AuditEntry.objects.filter(action="report.exported").order_by("id")
    assert [(e.actor, e.detail["report"]) for e in exports] == [
        (supervisor, "sla.csv"),
        (supervisor, "cases.csv"),
    ]
    assert exports[0].detail["group_by"] == "team"
    assert exports[0].detail["start"].startswith("2026-11-01")


def test_the_audit_log_cannot_be_changed_or_deleted_even_by_a_superuser(admin_client):
    entry = AuditEntry.objects.create(action="login.failed", username="mallory")
    assert admin_client.get("/admin/security/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/security/auditentry/{entry.pk}/delete/").status_code == 403
    admin_client.post(f"/admin/security/auditentry/{entry.pk}/change/", {"username": "x"})
    assert AuditEntry.objects.get(pk=entry.pk).username == "mallory"


def test_admin_changes_are_listed_in_the_admins_own_log(admin_client):
    account = make_account(name="Acme")
    answer = admin_client.post(
        f"/admin/inbox/account/{account.pk}/change/",
        account_change_form(account, name="Acme Renamed"),
    )
    assert answer.status_code == 302
    assert LogEntry.objects.get().object_repr.startswith("acme")
    page = admin_client.get("/admin/admin/logentry/").content.decode()
    assert "Changed" in page or "Change" in page
    assert "acme (generic)" in page
    assert (
        admin_client.get(f"/admin/admin/logentry/{LogEntry.objects.get().pk}/delete/").status_code
        == 403
    )


def test_a_supervisors_case_actions_are_findable_by_person(
    admin_client, django_capture_on_commit_callbacks
):
    account = make_account()
    supervisor, agent = make_user("sue", "supervisor"), make_user("ann")
    with django_capture_on_commit_callbacks(execute=True):
        post_generic(Client(), account, generic_message("a1"))
    case = Case.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        actions.assign_case(case, agent, actor=supervisor)
        actions.set_priority(case, "P1", actor=supervisor)

    page = admin_client.get(f"/admin/cases/caseevent/?actor__id__exact={supervisor.pk}")
    assert page.status_code == 200
    rows = page.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    assert "assigned" in rows and "priority" in rows
    assert "created" not in rows and "message.in" not in rows


def test_replaying_deliveries_is_recorded(admin_client):
    account = make_account()
    answer = post_generic(Client(), account, b"{not json")
    assert answer.status_code == 400
    failed = Delivery.objects.get(status=DeliveryStatus.FAILED)
    admin_client.post(
        "/admin/inbox/delivery/", {"action": "replay", "_selected_action": [failed.pk]}
    )
    entry = AuditEntry.objects.get(action="deliveries.replayed")
    assert entry.detail == {"deliveries": [failed.pk], "processed": 0}
    assert entry.username == "root"


def test_a_hostile_username_shows_as_text_in_the_audit_log(client, admin_client):
    hostile = '<script>window.__pwned=1</script><img src=x onerror="alert(1)">'
    client.post("/accounts/login/", {"username": hostile, "password": "x"})
    page = admin_client.get("/admin/security/auditentry/").content.decode()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert hostile not in page

"""create_agent: a user with a role, a profile and teams, from the command line."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cases.models import AgentProfile, Team


def create_agent(username, **options) -> str:
    out = StringIO()
    call_command("create_agent", username, stdout=out, **options)
    return out.getvalue()


def profile_of(username):
    return AgentProfile.objects.select_related("user").get(user__username=username)


@pytest.mark.django_db
def test_creates_an_agent_with_profile_team_skills_and_languages():
    output = create_agent(
        "ana",
        role="agent",
        team=["Billing"],
        password="a-long-passphrase-42",
        capacity=5,
        skills="billing, refunds,billing",
        languages="EN,de",
    )

    profile = profile_of("ana")
    assert profile.role == "agent"
    assert profile.capacity == 5
    assert profile.skills == ["billing", "refunds"]
    assert profile.languages == ["en", "de"]
    assert list(profile.teams.values_list("name", "slug")) == [("Billing", "billing")]
    assert profile.user.check_password("a-long-passphrase-42")
    assert not profile.user.is_staff
    assert "created team Billing (billing)" in output
    assert "created agent ana" in output


@pytest.mark.django_db
def test_admin_gets_the_admin_site_and_supervisor_does_not():
    create_agent("root", role="admin", password="a-long-passphrase-42")
    create_agent("sue", role="supervisor", password="a-long-passphrase-42")

    admin, supervisor = profile_of("root").user, profile_of("sue").user
    assert admin.is_staff and admin.is_superuser
    assert not supervisor.is_staff and not supervisor.is_superuser
    assert profile_of("sue").is_supervisor


@pytest.mark.django_db
def test_without_password_the_user_cannot_log_in_and_is_told():
    output = create_agent("nopw", role="agent")

    assert not profile_of("nopw").user.has_usable_password()
    assert "has no password" in output
    assert "changepassword nopw" in output


@pytest.mark.django_db
def test_running_again_updates_role_and_teams_and_keeps_the_password():
    create_agent("bo", role="admin", team=["Billing"], password="a-long-passphrase-42")

    output = create_agent("bo", role="agent", team=["billing", "Social Care"])

    profile = profile_of("bo")
    assert profile.role == "agent"
    assert not profile.user.is_staff and not profile.user.is_superuser
    assert profile.user.check_password("a-long-passphrase-42")
    assert sorted(profile.teams.values_list("slug", flat=True)) == ["billing", "social-care"]
    assert Team.objects.count() == 2
    assert get_user_model().objects.filter(username="bo").count() == 1
    assert "updated agent bo" in output


@pytest.mark.django_db
def test_existing_team_is_found_by_slug():
    team = Team.objects.create(name="Social Care", slug="social-care")

    create_agent("cy", role="agent", team=["social-care"])

    assert list(profile_of("cy").teams.all()) == [team]
    assert Team.objects.count() == 1


@pytest.mark.django_db
def test_weak_password_is_set_with_a_warning():
    output = create_agent("dee", role="agent", password="demo")

    assert profile_of("dee").user.check_password("demo")
    assert "warning: weak password" in output


@pytest.mark.django_db
def test_unknown_role_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'boss'"):
        create_agent("eve", role="boss")
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_negative_capacity_is_refused():
    with pytest.raises(CommandError, match="--capacity must be between 0"):
        create_agent("eve", role="agent", capacity=-1)
    assert not get_user_model().objects.exists()

"""`create_agent USERNAME --role agent|supervisor|admin`: a user who works cases, or an update.

The role decides the Django flags too: admins get the admin site (staff and superuser);
supervisors and agents work in the app (supervisors on /reports/), never in /admin/.
Running it again updates what is given and keeps the rest, including the password.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from cases.models import AgentProfile, Role, Team

MAX_CAPACITY = 32767


def comma_list(value: str, *, lower: bool = False) -> list[str]:
    """ "billing, refunds,,billing" → ["billing", "refunds"] (order kept, duplicates dropped)."""
    items = [item.strip() for item in value.split(",")]
    if lower:
        items = [item.lower() for item in items]
    return list(dict.fromkeys(item for item in items if item))


def team_named(slug_or_name: str) -> tuple[Team, bool]:
    """The team with this slug or name, created when there is none; and whether it was."""
    slug = slugify(slug_or_name)
    if not slug:
        raise CommandError(f"{slug_or_name!r} cannot name a team")
    team = Team.objects.filter(Q(slug=slug) | Q(name__iexact=slug_or_name.strip())).first()
    if team is not None:
        return team, False
    return Team.objects.create(name=slug_or_name.strip(), slug=slug), True


class Command(BaseCommand):
    help = "Create a user with a role (agent, supervisor or admin), or update one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--team",
            action="append",
            dest="teams",
            help="team slug or name, created if missing (repeatable); replaces the user's teams",
        )
        parser.add_argument("--password", help="without it a new user cannot log in yet")
        parser.add_argument("--capacity", type=int, help="open cases assigned at most at once")
        parser.add_argument("--skills", help="comma-separated, e.g. billing,refunds")
        parser.add_argument("--languages", help="comma-separated codes, e.g. en,de")
        parser.add_argument("--first-name", help="shown to colleagues, e.g. in presence")
        parser.add_argument("--last-name")

    def handle(self, *args, **options) -> None:
        username, role = options["username"].strip(), options["role"]
        if not username:
            raise CommandError("the username must not be empty")
        capacity = options["capacity"]
        if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
            raise CommandError(f"--capacity must be between 0 and {MAX_CAPACITY}")

        with transaction.atomic():
            notes = self._save(username, role, options)
        for note in notes:
            self.stdout.write(note)

    def _save(self, username: str, role: str, options: dict) -> list[str]:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        is_new = user is None
        if is_new:
            user = User(username=username)
        user.is_staff = user.is_superuser = role == Role.ADMIN
        for name in ("first_name", "last_name"):
            if options.get(name) is not None:
                setattr(user, name, options[name].strip()[:150])
        notes = []
        password = options["password"]
        if password:
            notes.extend(self._password_warnings(password, user))
            user.set_password(password)
        elif is_new:
            user.set_unusable_password()
        user.save()

        profile, _ = AgentProfile.objects.get_or_create(user=user)
        profile.role = role
        if options["capacity"] is not None:
            profile.capacity = options["capacity"]
        if options["skills"] is not None:
            profile.skills = comma_list(options["skills"])
        if options["languages"] is not None:
            profile.languages = comma_list(options["languages"], lower=True)
        profile.save()
        if options["teams"] is not None:
            teams = []
            for name in options["teams"]:
                team, created = team_named(name)
                if created:
                    notes.append(f"created team {team.name} ({team.slug})")
                teams.append(team)
            profile.teams.set(teams)

        team_names = ", ".join(profile.teams.values_list("name", flat=True)) or "none"
        flags = "staff, superuser" if user.is_superuser else "no admin site"
        notes.append(
            f"{'created' if is_new else 'updated'} {role} {username} ({flags}); "
            f"teams: {team_names}; capacity {profile.capacity}; "
            f"skills: {', '.join(profile.skills) or 'none'}; "
            f"languages: {', '.join(profile.languages) or 'none'}"
        )
        if not user.has_usable_password():
            notes.append(
                f"note: {username} has no password and cannot log in; "
                f"set one with: manage.py changepassword {username}"
            )
        return notes

    @staticmethod
    def _password_warnings(password: str, user) -> list[str]:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return [f"warning: weak password ({' '.join(exc.messages)})"]
        return []

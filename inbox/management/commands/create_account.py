"""`create_account PLATFORM SLUG --secret S`: connect a social account, or update it.

Running it again for the same slug updates what is given and keeps the rest, so a deploy
script can run it every time.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db.models import Q

from inbox.models import Account, Platform, TierSlug


class Command(BaseCommand):
    help = "Connect a social account (meta, x, telegram or generic), or update an existing one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", help="one of " + ", ".join(Platform.values))
        parser.add_argument("slug", help="the account's name in webhook URLs")
        parser.add_argument("--secret", help="signing secret of webhook deliveries")
        parser.add_argument("--verify-token", help="token of the platform's GET handshake")
        parser.add_argument("--tier", help="default tier: " + ", ".join(TierSlug.values))
        parser.add_argument("--name", help="display name")
        parser.add_argument(
            "--own-id",
            action="append",
            dest="own_ids",
            help="the brand's own id on the platform (repeatable); replaces the stored list",
        )
        parser.add_argument("--access-token", help="token for outbound API calls")
        parser.add_argument("--team", help="slug or name of the default team")

    def handle(self, *args, **options) -> None:
        platform, slug = options["platform"], options["slug"]
        if platform not in Platform.values:
            raise CommandError(
                f"unknown platform {platform!r}: use one of {', '.join(Platform.values)}"
            )
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(
                f"{slug!r} is not a slug (letters, digits, hyphens, underscores)"
            ) from None
        if options["tier"] is not None and options["tier"] not in TierSlug.values:
            raise CommandError(
                f"unknown tier {options['tier']!r}: use one of {', '.join(TierSlug.values)}"
            )
        if options["secret"] is not None and not options["secret"]:
            raise CommandError("--secret must not be empty")

        account = Account.objects.filter(slug=slug).first()
        if account is not None and account.platform != platform:
            raise CommandError(
                f"account {slug!r} is already connected to {account.platform}; choose another slug"
            )
        if account is None and not options["secret"]:
            raise CommandError("a new account needs --secret")
        is_new = account is None
        if is_new:
            account = Account(platform=platform, slug=slug)

        changed = self._apply(account, options)
        if is_new or changed:
            account.full_clean()
            account.save()
        url = f"{settings.CAREMGR_PUBLIC_URL}/webhooks/{platform}/{slug}/"
        if is_new:
            self.stdout.write(f"created {platform} account {slug}; webhook URL {url}")
        elif changed:
            self.stdout.write(
                f"updated {platform} account {slug} ({', '.join(changed)}); webhook URL {url}"
            )
        else:
            self.stdout.write(f"{platform} account {slug} already up to date; webhook URL {url}")

    def _apply(self, account: Account, options: dict) -> list[str]:
        """Set what the options give; return the names of the fields that changed."""
        wanted = {
            "secret": options["secret"],
            "verify_token": options["verify_token"],
            "default_tier": options["tier"],
            "name": options["name"],
            "access_token": options["access_token"],
            "own_ids": options["own_ids"],
        }
        if options["team"] is not None:
            wanted["default_team"] = self._team(options["team"])
        changed = []
        for field, value in wanted.items():
            if value is not None and getattr(account, field) != value:
                setattr(account, field, value)
                changed.append(field)
        return changed

    @staticmethod
    def _team(slug_or_name: str):
        # The team model is reached through the foreign key: inbox does not import cases.
        team_model = Account._meta.get_field("default_team").related_model
        team = team_model.objects.filter(
            Q(slug=slug_or_name) | Q(name__iexact=slug_or_name)
        ).first()
        if team is None:
            raise CommandError(
                f"no team {slug_or_name!r}; create it first (create_agent --team creates teams)"
            )
        return team

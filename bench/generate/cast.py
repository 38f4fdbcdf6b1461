"""The fixed cast of a generated data set: accounts on every platform, teams, agents.

The mix is an assumption, not measured (the shared files are all from X): about half of
the traffic on X, four in ten on Meta (Facebook comments, Messenger, Instagram, WhatsApp),
the rest Telegram and the generic JSON source; a German brand on X, Meta and Telegram
carries a sixth of it.
"""

from dataclasses import dataclass, field

# slug, platform, language pool, traffic weight, channels (weights), default team
ACCOUNTS = (
    ("shop-meta", "meta", "en", 18, {"facebook": 40, "messenger": 30, "instagram": 30}, "shop"),
    ("shop-whatsapp", "meta", "en", 12, {"whatsapp": 1}, "shop"),
    ("shop-x", "x", "en", 20, {"x": 1}, "shop"),
    ("air-x", "x", "en", 12, {"x": 1}, "air"),
    ("air-meta", "meta", "en", 8, {"facebook": 50, "messenger": 30, "instagram": 20}, "air"),
    ("telco-telegram", "telegram", "en", 6, {"telegram": 1}, "telco"),
    ("telco-x", "x", "en", 8, {"x": 1}, "telco"),
    ("web-generic", "generic", "en", 4, {"generic": 1}, "web"),
    ("bahn-x", "x", "de", 6, {"x": 1}, "bahn"),
    ("bahn-meta", "meta", "de", 4, {"facebook": 50, "messenger": 20, "whatsapp": 30}, "bahn"),
    ("bahn-telegram", "telegram", "de", 2, {"telegram": 1}, "bahn"),
)
TEAMS = ("shop", "billing", "air", "telco", "web", "bahn", "vip", "escalations")
AGENTS_PER_TEAM = 6
# Share of messages on a channel that are public posts or comments (the rest are private).
PUBLIC_SHARE = {
    "x": 0.7,
    "facebook": 0.85,
    "instagram": 0.7,
    "messenger": 0.0,
    "whatsapp": 0.0,
    "telegram": 0.0,
    "generic": 0.3,
}


@dataclass
class Cast:
    accounts: list = field(default_factory=list)  # Account rows
    account_weights: list[int] = field(default_factory=list)
    language: dict[int, str] = field(default_factory=dict)  # account id → text pool
    channels: dict[int, tuple[list[str], list[int]]] = field(default_factory=dict)
    home_team: dict[int, int] = field(default_factory=dict)  # account id → team id
    teams: dict[str, int] = field(default_factory=dict)  # slug → id
    agents: dict[int, list] = field(default_factory=dict)  # team id → users
    tiers: dict = field(default_factory=dict)  # slug → Tier


def create_cast() -> Cast:
    """Accounts, teams and agents through the ORM (a few dozen rows)."""
    from django.contrib.auth import get_user_model

    from cases.models import AgentProfile, Role, Team, Tier
    from inbox.models import Account

    cast = Cast(tiers={tier.slug: tier for tier in Tier.objects.all()})
    for slug in TEAMS:
        team = Team.objects.create(name=slug.title(), slug=slug)
        cast.teams[slug] = team.pk
        cast.agents[team.pk] = []
        for number in range(1, AGENTS_PER_TEAM + 1):
            user = get_user_model().objects.create(username=f"{slug}-agent{number}", password="!")
            profile = AgentProfile.objects.create(
                user=user,
                role=Role.AGENT,
                capacity=25,
                languages=["de", "en"] if slug == "bahn" else ["en"],
            )
            profile.teams.add(team)
            cast.agents[team.pk].append(user)
    for slug, platform, language, weight, channels, team in ACCOUNTS:
        account = Account.objects.create(
            platform=platform,
            slug=slug,
            name=slug.replace("-", " ").title(),
            secret=f"{slug}-secret",
            handle=slug.split("-")[0] + "care",
            default_team_id=cast.teams[team],
        )
        cast.accounts.append(account)
        cast.account_weights.append(weight)
        cast.language[account.pk] = language
        cast.channels[account.pk] = (list(channels), list(channels.values()))
        cast.home_team[account.pk] = cast.teams[team]
    return cast

"""Routing rules → tier, team, priority floor, skills, tag, automatic reply.

Rules are looked at in order; each set condition must match; a matching rule's actions
apply and, unless it says otherwise, later rules are not looked at. What no rule decides
comes from the contact (their tier) and the account (default tier and team).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cases.models import RoutingRule
from inbox.lookups import instances
from inbox.models import Account, Contact, Message


@dataclass
class Decision:
    tier: str
    team_id: int | None
    priority_floor: str = ""
    required_skills: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    auto_reply: str = ""
    rules: list[str] = field(default_factory=list)


def active_rules() -> list[RoutingRule]:
    return instances(RoutingRule, "is_active = %s ORDER BY position, id", [True])


@lru_cache(maxsize=512)
def _keyword_pattern(keywords: str) -> re.Pattern | None:
    words = [w.strip() for w in keywords.split(",") if w.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)


def matches(rule: RoutingRule, account: Account, contact: Contact, message: Message) -> bool:
    """Whether every condition the rule sets holds for this message."""
    checks = (
        rule.account_id is None or rule.account_id == account.pk,
        not rule.channel or rule.channel == message.channel,
        not rule.language or rule.language == message.language,
        not rule.contact_tier or rule.contact_tier == contact.tier,
        not rule.lifecycle_stage or rule.lifecycle_stage == contact.lifecycle_stage,
        not rule.sentiment or rule.sentiment == message.sentiment_label,
        rule.min_followers is None or contact.followers >= rule.min_followers,
        rule.is_public is None or rule.is_public == message.is_public,
    )
    if not all(checks):
        return False
    pattern = _keyword_pattern(rule.keywords)
    return pattern is None or bool(pattern.search(message.text))


def decide(
    account: Account, contact: Contact, message: Message, rules: Sequence[RoutingRule]
) -> Decision:
    decision = Decision(tier=contact.tier or account.default_tier, team_id=account.default_team_id)
    for rule in rules:
        if not matches(rule, account, contact, message):
            continue
        decision.rules.append(rule.name)
        if rule.set_tier_id:
            decision.tier = rule.set_tier_id
        if rule.set_team_id:
            decision.team_id = rule.set_team_id
        if rule.priority_floor and (
            not decision.priority_floor or rule.priority_floor < decision.priority_floor
        ):
            decision.priority_floor = rule.priority_floor
        decision.required_skills.extend(
            s for s in rule.required_skills if s not in decision.required_skills
        )
        if rule.add_tag and rule.add_tag not in decision.tags:
            decision.tags.append(rule.add_tag)
        if rule.auto_reply and not decision.auto_reply:
            decision.auto_reply = rule.auto_reply
        if rule.stop_processing:
            break
    return decision

"""Tech- and low-touch automation: acknowledgements, knowledge-base answers, escalation.

Tech-touch is answered by automation alone (an acknowledgement with the best matching
knowledge-base answer) and reaches a person only on escalation: negative sentiment, a
request for a person, no answer found, or the customer writing again. Low-touch gets an
acknowledgement with a self-service suggestion, then agents. Every automatic message is
marked so on the timeline and never counts as a human response in the figures.
"""

import re

from django.db import transaction

from cases import actions, assignment, events
from cases.knowledge import best_answer
from cases.models import Case
from cases.timeline import event

ASKS_FOR_PERSON = re.compile(
    r"\b(human|real person|a person|an agent|representative|someone real|speak to|talk to|"
    r"call me|mitarbeiter\w*|mensch|berater\w*|jemand\w*|sprechen|rückruf)\b",
    re.IGNORECASE,
)

ACKNOWLEDGEMENT = {
    "en": "Thanks for getting in touch, we have your message.",
    "de": "Danke für Ihre Nachricht, wir haben sie erhalten.",
}
HANDOVER = {
    "en": "A member of our team will get back to you shortly.",
    "de": "Eine Kollegin oder ein Kollege meldet sich in Kürze bei Ihnen.",
}
SUGGESTION = {
    "en": "This may already help: {title} {url}",
    "de": "Das hilft vielleicht schon: {title} {url}",
}


def _lang(case: Case) -> str:
    return case.language if case.language in ACKNOWLEDGEMENT else "en"


def run(filer) -> None:
    """After filing: answer new automated cases and escalate where a person is needed."""
    created = {c.pk for c in filer.created}
    for case in filer.created:
        texts = " ".join(filer.texts.get(case.pk, ()))
        if not filer.texts.get(case.pk):
            continue
        auto_reply = getattr(case, "_auto_reply", "")
        if case.tier.is_automated:
            _tech_touch(case, texts, auto_reply)
        elif auto_reply:
            actions.record_reply(case, auto_reply, actor=None, automatic=True)
        elif case.tier.sends_acknowledgement:
            _low_touch(case, texts)
    for pk, case in filer.touched.items():
        if pk in created or not case.tier.is_automated or case.is_escalated:
            continue
        if filer.texts.get(pk):
            escalate(case, "the customer wrote again")


def _tech_touch(case: Case, text: str, auto_reply: str) -> None:
    lang = _lang(case)
    if case.sentiment == "negative":
        reason = "negative sentiment"
    elif ASKS_FOR_PERSON.search(text):
        reason = "asked for a person"
    else:
        article = best_answer(text, case.language)
        if article is not None:
            body = f"{ACKNOWLEDGEMENT[lang]} {article.body}".strip()
            if article.url:
                body += f" {article.url}"
            actions.record_reply(case, auto_reply or body, actor=None, automatic=True)
            return
        reason = "no answer found"
    actions.record_reply(
        case,
        auto_reply or f"{ACKNOWLEDGEMENT[lang]} {HANDOVER[lang]}",
        actor=None,
        automatic=True,
    )
    escalate(case, reason)


def _low_touch(case: Case, text: str) -> None:
    lang = _lang(case)
    body = ACKNOWLEDGEMENT[lang]
    article = best_answer(text, case.language)
    if article is not None:
        body += " " + SUGGESTION[lang].format(title=article.title, url=article.url).strip()
    body += " " + HANDOVER[lang]
    actions.record_reply(case, body, actor=None, automatic=True)


def escalate(case: Case, reason: str) -> None:
    """Hand an automated case to people: marked escalated, then routed like any other."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("tier", "team", "contact", "account")
            .get(pk=case.pk)
        )
        if case.is_escalated:
            return
        case.is_escalated = True
        case.save(update_fields=["is_escalated"])
        entry = event(case, "escalated", text=reason, automatic=True)
        entry.save()
        assigned = assignment.route(case)
        if assigned is not None:
            case.save(update_fields=["assignee", "previous_assignee"])
            assigned.save()
            entry = assigned
        events.case_event(case, "case.updated", entry.pk)

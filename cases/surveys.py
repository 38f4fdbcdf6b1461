"""Satisfaction surveys after resolution: NPS, CSAT or CES, chosen per tier.

The customer gets a signed link through the case's platform; the public page records one
answer per case, and `scores` aggregates the answers for the reports.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone

from cases import health
from cases.models import Case, CaseEvent, SurveyResponse
from cases.timeline import record

SALT = "caremgr.survey"
MAX_AGE = timedelta(days=14)
MAX_COMMENT = 2000

# kind: (lowest, highest) score
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

QUESTIONS = {
    "en": {
        "nps": "How likely are you to recommend us to a friend or colleague?",
        "csat": "How satisfied are you with how we handled your request?",
        "ces": "How easy was it to get your issue resolved?",
    },
    "de": {
        "nps": "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
        "csat": "Wie zufrieden sind Sie mit der Bearbeitung Ihres Anliegens?",
        "ces": "Wie einfach war es, Ihr Anliegen zu lösen?",
    },
}

# The words at the two ends of each scale.
SCALE_LABELS = {
    "en": {
        "nps": ("Not at all likely", "Extremely likely"),
        "csat": ("Very dissatisfied", "Very satisfied"),
        "ces": ("Very difficult", "Very easy"),
    },
    "de": {
        "nps": ("Sehr unwahrscheinlich", "Sehr wahrscheinlich"),
        "csat": ("Sehr unzufrieden", "Sehr zufrieden"),
        "ces": ("Sehr schwierig", "Sehr einfach"),
    },
}

INVITATIONS = {
    "en": "Your request has been resolved. Would you tell us how we did? {link}",
    "de": "Ihr Anliegen ist gelöst. Wie zufrieden waren Sie mit uns? {link}",
}


class SurveyError(Exception):
    """A survey link that is invalid or expired, or an answer that cannot be stored."""


class AlreadyAnswered(SurveyError):
    pass


def language_of(case: Case) -> str:
    return "de" if (case.language or "").lower().startswith("de") else "en"


def make_token(case_id: int, kind: str) -> str:
    return signing.dumps({"c": case_id, "k": kind}, salt=SALT, compress=True)


def survey_link(case: Case) -> str | None:
    """The public survey URL for the case, or None when its tier asks no survey."""
    kind = case.tier.survey
    if kind not in RANGES:
        return None
    return f"{settings.CAREMGR_PUBLIC_URL}/survey/{make_token(case.pk, kind)}/"


def read_token(token: str, max_age: timedelta | int | None = MAX_AGE) -> tuple[int, str]:
    """(case id, kind) from a survey token; SurveyError when tampered with or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise SurveyError("this survey link has expired") from exc
    except signing.BadSignature as exc:
        raise SurveyError("this survey link is invalid") from exc
    try:
        case_id, kind = int(data["c"]), str(data["k"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SurveyError("this survey link is invalid") from exc
    if kind not in RANGES:
        raise SurveyError("this survey link is invalid")
    return case_id, kind


def send_survey(case: Case):
    """Send the tier's survey to the customer once per case; the queued message or None."""
    from cases.actions import record_reply

    link = survey_link(case)
    if link is None or CaseEvent.objects.filter(case=case, kind="survey.sent").exists():
        return None
    with transaction.atomic():
        text = INVITATIONS[language_of(case)].format(link=link)
        message = record_reply(case, text, actor=None, automatic=True, responds=False)
        record(case, "survey.sent", automatic=True, after=case.tier.survey, message=message)
    return message


def validate_score(kind: str, score) -> int:
    if kind not in RANGES:
        raise SurveyError(f"unknown survey kind {kind!r}")
    try:
        value = int(score)
    except (TypeError, ValueError) as exc:
        raise SurveyError("please choose a score") from exc
    low, high = RANGES[kind]
    if not low <= value <= high:
        raise SurveyError(f"the score must be between {low} and {high}")
    return value


def record_answer(case: Case, kind: str, score, comment: str = "") -> SurveyResponse:
    """Store the customer's one answer for the case, on its timeline; a CSAT of 2 or less
    is a bad experience for the customer's health."""
    value = validate_score(kind, score)
    comment = (comment or "").strip()[:MAX_COMMENT]
    try:
        with transaction.atomic():
            answer = SurveyResponse.objects.create(
                case=case, kind=kind, score=value, comment=comment, answered_at=timezone.now()
            )
            record(
                case,
                "survey.answered",
                automatic=True,
                before=kind,
                after=value,
                text=comment,
                data={"kind": kind, "score": value},
            )
            if kind == "csat" and value <= 2:
                health.count_bad_experience(case, "low CSAT")
    except IntegrityError as exc:
        raise AlreadyAnswered("this survey has already been answered") from exc
    return answer


def scores(cases) -> dict:
    """NPS, CSAT and CES of the answers to the given cases, each one SQL aggregation."""
    answers = SurveyResponse.objects.filter(case__in=cases.values("pk"))
    row = answers.aggregate(
        csat_n=Count("pk", filter=Q(kind="csat")),
        csat_ok=Count("pk", filter=Q(kind="csat", score__gte=4)),
        nps_n=Count("pk", filter=Q(kind="nps")),
        promoters=Count("pk", filter=Q(kind="nps", score__gte=9)),
        detractors=Count("pk", filter=Q(kind="nps", score__lte=6)),
        ces_n=Count("pk", filter=Q(kind="ces")),
        ces_mean=Avg("score", filter=Q(kind="ces")),
    )

    def share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    nps = None
    if row["nps_n"]:
        nps = round(100 * (row["promoters"] - row["detractors"]) / row["nps_n"], 1)
    return {
        "csat": {
            "responses": row["csat_n"],
            "percent_satisfied": share(row["csat_ok"], row["csat_n"]),
        },
        "nps": {"responses": row["nps_n"], "nps": nps},
        "ces": {
            "responses": row["ces_n"],
            "mean": round(row["ces_mean"], 2) if row["ces_mean"] is not None else None,
        },
    }

"""Surveys after resolution: the link through the platform, the public page, the scores."""

import time

import pytest
from django.core import signing
from django.db import transaction

from cases import actions, surveys
from cases.intake import intake_messages
from cases.models import Case, CaseEvent, SurveyResponse, Tier
from inbox.connectors.generic import parse_item
from inbox.models import Contact, Direction, Health, Message
from tests.conftest import generic_message, make_account, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The outbox hands nothing to a platform; the ids it was given are kept here."""
    queued: list[int] = []
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", queued.append)
    return queued


def new_case(account, external_id="m1", author="u1", **fields) -> Case:
    data = generic_message(external_id, author={"id": author, "handle": author}, **fields)
    with transaction.atomic():
        intake_messages(account, [parse_item(data, "[0]")])
    return Case.objects.filter(account=account, contact__external_id=author).latest("id")


def token_of(text: str) -> str:
    return text.split("/survey/", 1)[1].split("/", 1)[0]


def survey_messages(case):
    return Message.objects.filter(
        case=case, direction=Direction.OUT, is_automatic=True, text__contains="/survey/"
    )


@pytest.fixture
def agent():
    return make_user("sam", "supervisor")


@pytest.fixture
def mid_case(sent):
    account = make_account()
    case = new_case(account)
    assert case.tier_id == "mid"
    return case


def test_resolving_sends_the_tier_survey_link_once(mid_case, agent, sent, settings):
    actions.set_status(mid_case, "resolved", actor=agent)
    messages = list(survey_messages(mid_case))
    assert len(messages) == 1
    assert messages[0].pk in sent
    assert f"{settings.CAREMGR_PUBLIC_URL}/survey/" in messages[0].text
    assert surveys.read_token(token_of(messages[0].text)) == (mid_case.pk, "nps")
    assert CaseEvent.objects.filter(case=mid_case, kind="survey.sent").count() == 1
    mid_case.refresh_from_db()
    assert mid_case.status == "resolved"

    actions.set_status(mid_case, "open", actor=agent)
    actions.set_status(mid_case, "resolved", actor=agent)
    assert survey_messages(mid_case).count() == 1
    assert CaseEvent.objects.filter(case=mid_case, kind="survey.sent").count() == 1


def test_german_case_gets_german_text(sent, agent):
    case = new_case(make_account(), text="Wo bleibt meine Erstattung? Ich warte seit Tagen.")
    Case.objects.filter(pk=case.pk).update(language="de")
    actions.set_status(case, "resolved", actor=agent)
    assert "Anliegen" in survey_messages(case).get().text


def test_tier_without_survey_sends_none(mid_case, agent, sent):
    Tier.objects.filter(slug="mid").update(survey="")
    actions.set_status(mid_case, "resolved", actor=agent)
    assert survey_messages(mid_case).count() == 0
    assert not CaseEvent.objects.filter(case=mid_case, kind="survey.sent").exists()
    assert sent == []


def test_public_page_records_one_answer_without_login(client, mid_case):
    url = surveys.survey_link(mid_case).split("127.0.0.1:8000", 1)[-1]
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'type="radio" name="score" value="0"' in body
    assert 'value="10"' in body and 'value="11"' not in body
    assert "csrfmiddlewaretoken" in body and "<legend>" in body

    done = client.post(url, {"score": "9", "comment": " Quick and kind. "})
    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    answer = SurveyResponse.objects.get(case=mid_case)
    assert (answer.kind, answer.score, answer.comment) == ("nps", 9, "Quick and kind.")
    assert CaseEvent.objects.filter(case=mid_case, kind="survey.answered").count() == 1

    again = client.post(url, {"score": "0"})
    assert again.status_code == 200
    assert "already answered" in again.content.decode()
    assert SurveyResponse.objects.get(case=mid_case).score == 9
    assert client.get(url).status_code == 200


def test_out_of_range_score_is_a_form_error(client, mid_case):
    url = f"/survey/{surveys.make_token(mid_case.pk, 'csat')}/"
    for bad in ("0", "6", "", "five"):
        page = client.post(url, {"score": bad})
        assert page.status_code == 400
        assert 'role="alert"' in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_tampered_or_expired_link_is_404(client, mid_case, monkeypatch):
    token = surveys.make_token(mid_case.pk, "nps")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    page = client.get(f"/survey/{tampered}/")
    assert page.status_code == 404
    assert "invalid or has expired" in page.content.decode()
    assert client.get("/survey/nonsense/").status_code == 404

    old = int(time.time()) - 15 * 24 * 3600
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(old))
    expired = surveys.make_token(mid_case.pk, "nps")
    monkeypatch.undo()
    with pytest.raises(surveys.SurveyError, match="expired"):
        surveys.read_token(expired)
    assert client.get(f"/survey/{expired}/").status_code == 404
    assert client.post(f"/survey/{expired}/", {"score": "9"}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_low_csat_marks_the_contact_at_risk(mid_case):
    surveys.record_answer(mid_case, "csat", 1, "")
    contact = Contact.objects.get(pk=mid_case.contact_id)
    assert contact.health == Health.AT_RISK
    assert contact.bad_experiences == 1
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.record_answer(mid_case, "csat", 5, "")


def test_good_csat_keeps_the_contact_healthy(mid_case):
    surveys.record_answer(mid_case, "csat", 4, "")
    assert Contact.objects.get(pk=mid_case.contact_id).health == Health.HEALTHY


@pytest.mark.parametrize(("kind", "score"), [("nps", 11), ("nps", -1), ("csat", 0), ("ces", 8)])
def test_record_answer_checks_the_range(mid_case, kind, score):
    with pytest.raises(surveys.SurveyError):
        surveys.record_answer(mid_case, kind, score)


def test_scores(sent):
    account = make_account()
    answers = [
        ("nps", 10),
        ("nps", 9),
        ("nps", 8),
        ("nps", 6),
        ("nps", 0),
        ("csat", 5),
        ("csat", 4),
        ("csat", 2),
        ("ces", 7),
        ("ces", 4),
        ("ces", 2),
    ]
    for n, (kind, score) in enumerate(answers):
        case = new_case(account, external_id=f"m{n}", author=f"u{n}")
        surveys.record_answer(case, kind, score)
    result = surveys.scores(Case.objects.all())
    assert result["nps"] == {"responses": 5, "nps": 0.0}  # 40 % promoters − 40 % detractors
    assert result["csat"] == {"responses": 3, "percent_satisfied": 66.7}
    assert result["ces"] == {"responses": 3, "mean": 4.33}

    empty = surveys.scores(Case.objects.none())
    assert empty["nps"] == {"responses": 0, "nps": None}
    assert empty["csat"]["percent_satisfied"] is None and empty["ces"]["mean"] is None

    promoters_only = Case.objects.filter(survey_response__score__gte=9, survey_response__kind="nps")
    assert surveys.scores(promoters_only)["nps"] == {"responses": 2, "nps": 100.0}

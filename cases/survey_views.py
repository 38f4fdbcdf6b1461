"""The public survey page: no login, the signed token in the link is the only key."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases import surveys
from cases.models import Case, SurveyResponse

TEXT = {
    "en": {
        "title": "Your feedback",
        "comment": "Anything you would like to add? (optional)",
        "submit": "Send",
        "thanks": "Thank you for your feedback!",
        "thanks_body": "Your answer helps us get better.",
        "already": "You have already answered this survey. Thank you!",
        "invalid": "This survey link is invalid or has expired.",
    },
    "de": {
        "title": "Ihre Meinung",
        "comment": "Möchten Sie noch etwas ergänzen? (optional)",
        "submit": "Senden",
        "thanks": "Vielen Dank für Ihr Feedback!",
        "thanks_body": "Ihre Antwort hilft uns, besser zu werden.",
        "already": "Sie haben diese Umfrage bereits beantwortet. Vielen Dank!",
        "invalid": "Dieser Umfragelink ist ungültig oder abgelaufen.",
    },
}


def _invalid(request, lang: str = "en"):
    return render(
        request, "surveys/thanks.html", {"t": TEXT[lang], "lang": lang, "invalid": True}, status=404
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    try:
        case_id, kind = surveys.read_token(token)
    except surveys.SurveyError:
        return _invalid(request)
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return _invalid(request)
    lang = surveys.language_of(case)
    t = TEXT[lang]
    if SurveyResponse.objects.filter(case=case).exists():
        return render(request, "surveys/thanks.html", {"t": t, "lang": lang, "already": True})

    error, selected, comment = "", None, ""
    if request.method == "POST":
        selected = request.POST.get("score", "")
        comment = request.POST.get("comment", "")
        try:
            surveys.record_answer(case, kind, selected, comment)
        except surveys.AlreadyAnswered:
            return render(request, "surveys/thanks.html", {"t": t, "lang": lang, "already": True})
        except surveys.SurveyError as exc:
            error = str(exc)
        else:
            return render(request, "surveys/thanks.html", {"t": t, "lang": lang})

    low, high = surveys.RANGES[kind]
    low_label, high_label = surveys.SCALE_LABELS[lang][kind]
    choices = [
        {
            "value": value,
            "label": low_label if value == low else high_label if value == high else "",
            "checked": str(value) == str(selected),
        }
        for value in range(low, high + 1)
    ]
    context = {
        "t": t,
        "lang": lang,
        "kind": kind,
        "question": surveys.QUESTIONS[lang][kind],
        "choices": choices,
        "low_label": low_label,
        "high_label": high_label,
        "comment": comment,
        "error": error,
        "max_comment": surveys.MAX_COMMENT,
    }
    return render(request, "surveys/form.html", context, status=400 if error else 200)

"""The admin's "which rule matches this message?" tester: a sample message run through the
routing rules exactly as the intake would, without storing anything."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from cases.routing import active_rules, decide, matches
from inbox.models import Account, Channel, Contact, LifecycleStage, Message, TierSlug
from sentiment import analyze


class SampleMessageForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.all())
    channel = forms.ChoiceField(choices=Channel.choices)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)
    followers = forms.IntegerField(min_value=0, initial=0)
    is_public = forms.BooleanField(required=False, label="public post")
    contact_tier = forms.ChoiceField(
        choices=[("", "account default"), *TierSlug.choices], required=False
    )
    lifecycle_stage = forms.ChoiceField(choices=LifecycleStage.choices)


def test_rules(request):
    """Admin view: every active rule with whether it matches, and the resulting decision."""
    form = SampleMessageForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        mood = analyze(data["text"])
        contact = Contact(
            channel=data["channel"],
            followers=data["followers"],
            tier=data["contact_tier"],
            lifecycle_stage=data["lifecycle_stage"],
        )
        message = Message(
            channel=data["channel"],
            text=data["text"],
            is_public=data["is_public"],
            language=mood.language,
            sentiment_label=mood.label,
        )
        rules = active_rules()
        result = {
            "sentiment": mood,
            "rules": [(rule, matches(rule, data["account"], contact, message)) for rule in rules],
            "decision": decide(data["account"], contact, message, rules),
        }
    context = {
        **admin.site.each_context(request),
        "title": "Which rule matches this message?",
        "form": form,
        "result": result,
    }
    return TemplateResponse(request, "admin/cases/rule_tester.html", context)

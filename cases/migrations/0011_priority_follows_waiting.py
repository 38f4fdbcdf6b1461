"""A case's priority follows how long the customer has waited.

Each case keeps the urgency words of its customer's latest messages, so it can be scored
again without reading them (after a reply, or as the wait grows), and the moment waiting
next moves its score, on which the monitor finds it. Existing cases get their words from
their last three customer messages; the cases waiting now are scored again at once.
"""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

from cases.priority import WAITING_MAX, WAITING_POINTS_PER_HOUR, urgency_words_of

CHUNK = 2_000
LATEST = 3  # the scoring looks at the customer's last three messages


def fill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Message = apps.get_model("inbox", "Message")
    ids = list(Case.objects.filter(inbound_count__gt=0).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        latest: dict[int, list[str]] = {}
        rows = (
            Message.objects.filter(case_id__in=chunk, direction="in")
            .order_by("case_id", "-created_at", "-id")
            .values_list("case_id", "text")
        )
        for case_id, text in rows.iterator(chunk_size=CHUNK):
            texts = latest.setdefault(case_id, [])
            if len(texts) < LATEST:
                texts.append(text)
        changed = []
        for case_id, texts in latest.items():
            words = " ".join(urgency_words_of(texts[::-1]))
            if words:
                changed.append(Case(pk=case_id, urgency_words=words))
        Case.objects.bulk_update(changed, ["urgency_words"], batch_size=500)
    now = timezone.now()
    capped = timedelta(hours=WAITING_MAX / WAITING_POINTS_PER_HOUR)
    Case.objects.filter(
        status__in=["new", "open"], paused_at__isnull=True, awaiting_since__gt=now - capped
    ).update(priority_check_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_lean_indexes"),
        ("inbox", "0004_lean_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="priority_check_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When waiting next moves the score: scored again then.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="urgency_words",
            field=models.CharField(
                blank=True,
                help_text="Urgency words of the customer's latest messages.",
                max_length=500,
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("priority_check_at__isnull", False)),
                fields=["priority_check_at"],
                name="case_waiting_check",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]

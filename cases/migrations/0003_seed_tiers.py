"""The SPEC's four engagement tiers with their default SLA targets (editable afterwards)."""

from django.db import migrations

TIERS = [
    # slug, name, position, first, next, resolution (minutes), automated, acknowledges, survey
    ("tech", "Tech-touch", 0, 5, None, 72 * 60, True, True, "csat"),
    ("low", "Low-touch", 1, 4 * 60, 8 * 60, 48 * 60, False, True, "csat"),
    ("mid", "Mid-touch", 2, 60, 4 * 60, 24 * 60, False, False, "nps"),
    ("high", "High-touch", 3, 30, 60, 8 * 60, False, False, "nps"),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("cases", "Tier")
    for slug, name, position, first, nxt, resolution, automated, ack, survey in TIERS:
        Tier.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "position": position,
                "first_response_minutes": first,
                "next_response_minutes": nxt,
                "resolution_minutes": resolution,
                "is_automated": automated,
                "sends_acknowledgement": ack,
                "breach_raises_priority": slug == "high",
                "survey": survey,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

"""The SLA monitor's index holds the cases with a check time, whatever their status.

A status term in a partial index's condition made SQLite's planner read the open cases from
the status index and sort them on every pass; `sla_check_at` is set only while a clock runs.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_priority_follows_waiting")]

    operations = [
        migrations.RemoveIndex(model_name="case", name="case_open_sla_check"),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("sla_check_at__isnull", False)),
                fields=["sla_check_at"],
                name="case_sla_check",
            ),
        ),
    ]

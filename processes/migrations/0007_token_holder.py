"""Tokens record what holds them; the existing rows are filled from their job or task."""

import django_fsm
from django.db import migrations, models

HOLDERS = [
    ("", "nothing"),
    ("job", "Job"),
    ("task", "Task"),
    ("join", "Join"),
    ("timer", "Timer"),
    ("subscription", "Subscription"),
    ("child", "Child"),
]
STATUSES = [
    ("active", "Active"),
    ("waiting", "Waiting"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


def holders_fill(apps, schema_editor):
    """A token with a Job was held by it, one with a Task by that, a waiting one by its join;
    the rest (failed on their way in) by nothing, the column's default."""
    Token = apps.get_model("processes", "Token")
    Job = apps.get_model("processes", "Job")
    Task = apps.get_model("tasks", "Task")
    Token.objects.filter(pk__in=Job.objects.values("token_id")).update(holder="job")
    Token.objects.filter(pk__in=Task.objects.values("token_id")).update(holder="task")
    Token.objects.filter(status="waiting").update(holder="join")


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0006_event_variables_updated"),
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="token",
            name="holder",
            field=models.CharField(blank=True, choices=HOLDERS, default="", max_length=16),
        ),
        migrations.AlterField(
            model_name="token",
            name="status",
            field=django_fsm.FSMField(
                choices=STATUSES, default="active", max_length=16, protected=True
            ),
        ),
        migrations.RunPython(holders_fill, migrations.RunPython.noop, elidable=True),
    ]

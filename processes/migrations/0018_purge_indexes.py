"""Indexes the purge of finished instances needs (processes.services.purge).

* instance_finished: the retention job's candidates, finished top-level instances by when
  they ended (a failed one since it failed: failing sets ended_at now, and the instances
  that failed before get their last change). Partial: a running instance is not in it. Not
  on updated_at, which every step changes: that would make every update non-HOT.
* job_compensates: deleting an event checks that no job's `compensates` points at it; with
  no index on that column each deleted event was a scan of the jobs table. Partial: few jobs
  are compensations.

Made to run beside live workers like 0004 and 0005: built CONCURRENTLY on PostgreSQL,
outside a transaction.
"""

from django.db import migrations, models

INDEXES = (
    (
        "job",
        models.Index(
            condition=models.Q(compensates__isnull=False),
            fields=["compensates"],
            name="job_compensates",
        ),
    ),
    (
        "processinstance",
        models.Index(
            fields=["ended_at"],
            condition=models.Q(
                ("parent__isnull", True), ("status__in", ("completed", "failed", "cancelled"))
            ),
            name="instance_finished",
        ),
    ),
)


def _postgresql(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def _drop(schema_editor, name):
    concurrently = "CONCURRENTLY " if _postgresql(schema_editor) else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")


def failed_ended(apps, schema_editor):
    """Failing now sets `ended_at`; instances that failed before have their last change."""
    instances = apps.get_model("processes", "ProcessInstance")
    instances.objects.filter(status="failed", ended_at__isnull=True).update(
        ended_at=models.F("updated_at")
    )


def forwards(apps, schema_editor):
    options = {"concurrently": True} if _postgresql(schema_editor) else {}
    for model_name, index in INDEXES:
        model = apps.get_model("processes", model_name)
        _drop(schema_editor, index.name)  # an index a failed earlier run left half-built
        schema_editor.execute(index.create_sql(model, schema_editor, **options))


def backwards(apps, schema_editor):
    for _, index in INDEXES:
        _drop(schema_editor, index.name)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("processes", "0017_migration_batch")]

    operations = [
        migrations.RunPython(failed_ended, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddIndex(model_name=model_name, index=index)
                for model_name, index in INDEXES
            ],
        ),
    ]

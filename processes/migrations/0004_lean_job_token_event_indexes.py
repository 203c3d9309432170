"""Leaner indexes on the rows every step writes (the models' Meta says what each serves).

Made to run while workers run: the foreign keys change in Django's state only (changing
db_index through the schema editor would drop each constraint and check every row again
when adding it back), new indexes are built before the old ones go, and on PostgreSQL both
happen CONCURRENTLY, outside a transaction, taking no lock that stops writes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

NEW_INDEXES = (
    (
        "event",
        models.Index(condition=models.Q(actor__isnull=False), fields=["actor"], name="event_actor"),
    ),
    ("job", models.Index(fields=["instance"], name="job_instance")),
    (
        "job",
        models.Index(condition=models.Q(status="scheduled"), fields=["due_at"], name="job_due"),
    ),
    (
        "job",
        models.Index(
            condition=models.Q(status="running"), fields=["lease_expires_at"], name="job_leased"
        ),
    ),
    (
        "job",
        models.Index(
            condition=models.Q(status="failed"), fields=["-finished_at"], name="job_failed_recent"
        ),
    ),
)
OLD_META_INDEXES = ("job_status_due", "job_status_lease")
# The foreign keys whose own indexes go: a composite index, or job_instance, covers them.
OLD_FOREIGN_KEYS = (
    ("event", "actor"),
    ("event", "instance"),
    ("job", "instance"),
    ("token", "instance"),
)


def _create(schema_editor, model, index):
    concurrently = schema_editor.connection.vendor == "postgresql"
    _drop(schema_editor, index.name)  # an index a failed earlier run left half-built
    options = {"concurrently": True} if concurrently else {}
    schema_editor.execute(index.create_sql(model, schema_editor, **options))


def _drop(schema_editor, name):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")


def _foreign_key_indexes(schema_editor, apps, model_name, field_name):
    """The index names the schema editor gives a foreign key (PostgreSQL adds a LIKE one)."""
    model = apps.get_model("processes", model_name)
    field = model._meta.get_field(field_name)
    table, column = model._meta.db_table, field.column
    names = [schema_editor._create_index_name(table, [column])]
    if (
        schema_editor.connection.vendor == "postgresql"
        and field.target_field.get_internal_type() == "CharField"
    ):
        names.append(schema_editor._create_index_name(table, [column], suffix="_like"))
    return names


def forwards(apps, schema_editor):
    for model_name, index in NEW_INDEXES:
        _create(schema_editor, apps.get_model("processes", model_name), index)
    for name in OLD_META_INDEXES:
        _drop(schema_editor, name)
    for model_name, field_name in OLD_FOREIGN_KEYS:
        for name in _foreign_key_indexes(schema_editor, apps, model_name, field_name):
            _drop(schema_editor, name)


def backwards(apps, schema_editor):
    job = apps.get_model("processes", "Job")
    for index in job._meta.indexes:
        _create(schema_editor, job, index)
    for model_name, field_name in OLD_FOREIGN_KEYS:
        model = apps.get_model("processes", model_name)
        field = model._meta.get_field(field_name)
        for name in _foreign_key_indexes(schema_editor, apps, model_name, field_name):
            _drop(schema_editor, name)
        for statement in schema_editor._field_indexes_sql(model, field):
            schema_editor.execute(statement)
    for _model_name, index in NEW_INDEXES:
        _drop(schema_editor, index.name)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("processes", "0003_worker_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(model_name="job", name="job_status_due"),
                migrations.RemoveIndex(model_name="job", name="job_status_lease"),
                migrations.AlterField(
                    model_name="event",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="processes.processinstance",
                    ),
                ),
                migrations.AlterField(
                    model_name="job",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="jobs",
                        to="processes.processinstance",
                    ),
                ),
                migrations.AlterField(
                    model_name="token",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tokens",
                        to="processes.processinstance",
                    ),
                ),
                *(migrations.AddIndex(model_name=name, index=index) for name, index in NEW_INDEXES),
            ],
        ),
    ]

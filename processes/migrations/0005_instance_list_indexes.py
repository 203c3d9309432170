"""Indexes the cases page (/instances/) needs at a million instances; bench/instances_list.py
measured each (bench/README.md has the figures before and after).

* instance_started_by_recent (started_by, created_at, id): the instances a person started,
  read from the index alone (the visibility of a person who is no manager starts there) and
  in page order for "Started by me". It covers what the foreign key's own index served, so
  that one goes.
* instance_business_key_trgm, PostgreSQL only: trigrams of the upper-cased business key, so
  the search (`business_key__icontains`, which Django writes as UPPER(...) LIKE UPPER(...))
  reads an index instead of every instance. It needs the pg_trgm extension (trusted since
  PostgreSQL 13: the database owner may create it). It stays out of the models' state, which
  SQLite (`make run`) must be able to build.

Made to run beside live workers like 0004: built CONCURRENTLY, outside a transaction.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STARTED_BY_RECENT = models.Index(
    fields=["started_by", "created_at", "id"], name="instance_started_by_recent"
)
TRIGRAMS = "instance_business_key_trgm"


def _postgresql(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def _drop(schema_editor, name):
    concurrently = "CONCURRENTLY " if _postgresql(schema_editor) else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")


def _started_by_fk_index(schema_editor, apps):
    model = apps.get_model("processes", "ProcessInstance")
    column = model._meta.get_field("started_by").column
    return schema_editor._create_index_name(model._meta.db_table, [column])


def forwards(apps, schema_editor):
    model = apps.get_model("processes", "ProcessInstance")
    table = schema_editor.quote_name(model._meta.db_table)
    options = {"concurrently": True} if _postgresql(schema_editor) else {}
    _drop(schema_editor, STARTED_BY_RECENT.name)  # an index a failed earlier run left half-built
    schema_editor.execute(STARTED_BY_RECENT.create_sql(model, schema_editor, **options))
    _drop(schema_editor, _started_by_fk_index(schema_editor, apps))
    if _postgresql(schema_editor):
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        _drop(schema_editor, TRIGRAMS)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {schema_editor.quote_name(TRIGRAMS)} ON {table} "
            "USING gin (UPPER(business_key) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    model = apps.get_model("processes", "ProcessInstance")
    field = model._meta.get_field("started_by")
    for statement in schema_editor._field_indexes_sql(model, field):
        schema_editor.execute(statement)
    _drop(schema_editor, STARTED_BY_RECENT.name)
    _drop(schema_editor, TRIGRAMS)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("processes", "0004_lean_job_token_event_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="processinstance",
                    name="started_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddIndex(model_name="processinstance", index=STARTED_BY_RECENT),
            ],
        ),
    ]

"""Managers see the for-each steps' loops (processes 0014), the rollouts (0015) and the
migration batches with their outcomes (0017); admins get every new permission."""

from django.db import migrations

from accounts.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_trigger_permissions"),
        ("processes", "0017_migration_batch"),
    ]

    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]

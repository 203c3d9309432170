"""Admins get the permissions of the outbox and the webhooks (processes 0019): they manage
webhook subscriptions and see deliveries; managers get none of them."""

from django.db import migrations

from accounts.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_migration_permissions"),
        ("processes", "0019_outbox_webhooks"),
    ]

    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]

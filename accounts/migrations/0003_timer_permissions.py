"""Managers see an instance's timers (processes 0008); admins get every new permission."""

from django.db import migrations

from accounts.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_known_device"),
        ("processes", "0008_timer"),
    ]

    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]

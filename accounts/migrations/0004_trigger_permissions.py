"""Managers see the definitions' start triggers (processes 0011), the message and signal
waits and the buffered messages (processes 0010); admins get every new permission."""

from django.db import migrations

from accounts.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_timer_permissions"),
        ("processes", "0011_trigger"),
    ]

    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]

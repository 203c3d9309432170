"""Create the admin, manager and user groups with their model permissions."""

from django.db import migrations

from accounts.roles import ADMIN, MANAGER, USER, roles_migrate


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=(ADMIN, MANAGER, USER)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("processes", "0002_event_task_assigned"),
        ("tasks", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_migrate, drop_roles)]

"""Create the admin, manager and user groups with their model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import ADMIN, MANAGER, USER, roles_install


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_install(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=(ADMIN, MANAGER, USER)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("processes", "0002_event_task_assigned"),
        ("tasks", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]

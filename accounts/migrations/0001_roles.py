"""Create the admin, manager and user groups with their model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import ADMIN, MANAGER, MANAGER_PERMISSIONS, USER


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(
        Permission.objects.filter(content_type__app_label__in=("processes", "tasks", "auth"))
    )
    manager, _ = Group.objects.get_or_create(name=MANAGER)
    manager.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in (p.split(".") for p in MANAGER_PERMISSIONS)
        ]
    )
    Group.objects.get_or_create(name=USER)


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

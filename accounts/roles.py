"""The three roles and what each may do, as Django groups with model permissions.

admin: everything. manager: publish definitions, see and control every instance, start
any definition, see and assign every task. user: no global permission; starts the
definitions granted to them (or their group) with django-guardian's object permission
`start_processdefinition`, sees the instances they started or hold a task in, and works
their own and their candidate tasks.
"""

from django.db.models import Q

ADMIN, MANAGER, USER = "admin", "manager", "user"

MANAGER_PERMISSIONS = (
    "processes.view_processdefinition",
    "processes.add_processdefinition",
    "processes.change_processdefinition",
    "processes.start_processdefinition",
    "processes.view_definitionversion",
    "processes.view_processinstance",
    "processes.change_processinstance",
    "processes.view_event",
    "processes.view_job",
    "processes.change_job",
    "processes.view_token",
    "processes.view_timer",
    "processes.view_subscription",
    "processes.view_message",
    "processes.view_trigger",
    "processes.view_loop",
    "processes.view_rollout",
    "processes.view_migrationbatch",
    "processes.view_migrationoutcome",
    "tasks.view_task",
    "tasks.change_task",
)


def roles_migrate(apps, schema_editor) -> None:
    """A migration's step: `roles_install` with the historical models, once the permissions
    of the models migrated so far exist (Django creates them only after all migrations)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_install(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def roles_install(*, group_model, permission_model) -> None:
    """Create (or complete) the three groups with their permissions; idempotent.

    Takes the model classes so the migration can pass its historical ones.
    """
    admin, _ = group_model.objects.get_or_create(name=ADMIN)
    admin.permissions.set(
        permission_model.objects.filter(content_type__app_label__in=("processes", "tasks", "auth"))
    )
    manager, _ = group_model.objects.get_or_create(name=MANAGER)
    # An early migration runs this before the later models (the Timer) have permissions:
    # the roles step of the migration after them (accounts 0003) grants theirs.
    wanted = Q()
    for app, codename in (p.split(".") for p in MANAGER_PERMISSIONS):
        wanted |= Q(content_type__app_label=app, codename=codename)
    manager.permissions.set(permission_model.objects.filter(wanted))
    group_model.objects.get_or_create(name=USER)

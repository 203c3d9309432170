"""The three roles and what each may do, as Django groups with model permissions.

admin: everything. manager: publish definitions, see and control every instance, start
any definition, see and assign every task. user: no global permission; starts the
definitions granted to them (or their group) with django-guardian's object permission
`start_processdefinition`, sees the instances they started or hold a task in, and works
their own and their candidate tasks.
"""

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
    "tasks.view_task",
    "tasks.change_task",
)

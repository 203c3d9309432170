"""Load the demo: users to log in as, their groups, the example definitions, start rights.

Idempotent: a second run changes nothing (users keep their passwords, identical
definitions are not published again).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from guardian.shortcuts import assign_perm

from accounts.roles import ADMIN, MANAGER, USER
from processes.models import ProcessDefinition

EXAMPLES = Path(settings.BASE_DIR) / "examples"

# username, password, groups, superuser. Demo only: `load_demo` refuses without DEBUG.
DEMO_USERS = (
    ("admin", "admin", (ADMIN,), True),
    ("manager", "manager", (MANAGER, "finance"), False),
    ("hr", "hr", (USER, "hr"), False),
    ("clerk", "clerk", (USER,), False),
    # The examples' approvals escalate to `team-leads` when the managers do not answer.
    ("lead", "lead", (USER, "team-leads"), False),
)


class Command(BaseCommand):
    help = "Create the demo users, groups and example definitions (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="even with DEBUG off")
        parser.add_argument("--quiet-logins", action="store_true", help="don't print logins")

    def handle(self, *args, force: bool, quiet_logins: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("load_demo creates users with known passwords: DEBUG only")
        users = get_user_model().objects
        for username, password, groups, superuser in DEMO_USERS:
            user, created = users.get_or_create(
                username=username,
                defaults={"is_staff": superuser, "is_superuser": superuser},
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(*(Group.objects.get_or_create(name=g)[0] for g in groups))
        call_command("import_definitions", str(EXAMPLES), stdout=self.stdout)
        everyone = Group.objects.get(name=USER)
        for definition in ProcessDefinition.objects.all():
            assign_perm("processes.start_processdefinition", everyone, definition)
        if not quiet_logins:
            self.stdout.write("demo logins (user / password):")
            for username, password, groups, _ in DEMO_USERS:
                self.stdout.write(f"  {username:<8} / {password:<8} ({', '.join(groups)})")

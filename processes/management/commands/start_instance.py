"""Start an instance of a definition from the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from processes.errors import FlowdeskError
from processes.services import instance_start_or_get


def parse_var(text: str) -> tuple[str, object]:
    """`k=v`: v is read as JSON when it is (5000, true, "x", [1]), else kept as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise CommandError(f"--var {text!r}: write it as name=value")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


class Command(BaseCommand):
    help = "Start an instance: start_instance KEY --var amount=5000 --business-key EXP-1"

    def add_arguments(self, parser):
        parser.add_argument("key", help="the definition key")
        parser.add_argument("--var", action="append", default=[], help="name=value (repeat)")
        parser.add_argument("--business-key", default=None)
        parser.add_argument("--id", default=None, help="a caller-chosen instance id")

    def handle(self, *args, key: str, var: list[str], business_key, id, **options):
        variables = dict(parse_var(item) for item in var)
        try:
            instance, created = instance_start_or_get(
                definition_key=key, variables=variables, business_key=business_key, instance_id=id
            )
        except FlowdeskError as exc:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.field_errors.items())
            raise CommandError(f"{exc.message}{' (' + details + ')' if details else ''}") from exc
        verb = "started" if created else "already exists"
        self.stdout.write(f"{instance.pk} {verb} ({instance.status})")

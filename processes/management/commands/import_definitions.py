"""Publish definition files (JSON or YAML); report every problem with its file and line."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from processes.dsl import DefinitionError, format_of_file
from processes.errors import InvalidInput
from processes.services import definition_publish


def definition_files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if format_of_file(p.name)))
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return found


class Command(BaseCommand):
    help = "Publish JSON/YAML definition files (or every such file in a folder)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files or folders")

    def handle(self, *args, paths: list[str], **options):
        failed = 0
        for path in definition_files(paths):
            fmt = format_of_file(path.name)
            if fmt is None:
                self.stderr.write(f"{path}: not a .json, .yaml or .yml file")
                failed += 1
                continue
            try:
                version = definition_publish(source=path.read_text(encoding="utf-8"), format=fmt)
            except DefinitionError as exc:
                failed += 1
                for problem in exc.problems:
                    line = f":{problem.line}" if problem.line else ""
                    self.stderr.write(f"{path}{line}: {problem.path or '/'}: {problem.message}")
                continue
            except InvalidInput as exc:
                failed += 1
                self.stderr.write(f"{path}: {exc.message}")
                continue
            self.stdout.write(f"{path}: {version.definition.key} v{version.number}")
        if failed:
            raise CommandError(f"{failed} file(s) were not published")

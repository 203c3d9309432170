"""The engine's modules import on their own in a fresh interpreter (no import cycles), the
pure ones (graph, readers, node kinds, walk, BPMN picture) load without the ORM, and the
services send the Celery task by name instead of importing the tasks that import them."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE = ("processes/dsl", "processes/engine", "processes/nodes", "processes/bpmn")
WITH_ORM = ("processes/services",)
READS_VERSIONS = "processes.bpmn.versions"  # the picture of a stored version: a query
ORM_LOADED = (
    "import sys\n"
    "print(*[m for m in sys.modules if m.startswith(('django.db', 'processes.models'))])\n"
)
TASKS = "processes.jobs"  # the Celery tasks: they import the services
TASKS_LOADED = f"import sys\nprint('{TASKS} loaded' if '{TASKS}' in sys.modules else '')\n"
DJANGO_SETUP = (
    "import os, django\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
    "django.setup()\n"
)


def modules(*folders: str) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).glob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def each_alone(names: list[str], *, setup: str, check: str) -> str:
    """Import each module in an interpreter of its own; what went wrong, one line each."""
    script = (
        "import subprocess, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        f"    code = {setup!r} + 'import ' + name + '\\n' + {check!r}\n"
        "    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)\n"
        "    if r.returncode or r.stdout.strip():\n"
        "        failed.append(name + ': ' + (r.stdout + r.stderr).strip().splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() + result.stderr.strip()


def test_pure_modules__import_alone_without_the_orm():
    pure = [name for name in modules(*PURE) if name != READS_VERSIONS]
    assert each_alone(pure, setup="", check=ORM_LOADED) == ""


def test_service_modules__import_alone():
    names = [*modules(*WITH_ORM), READS_VERSIONS]
    assert each_alone(names, setup=DJANGO_SETUP, check=TASKS_LOADED) == ""


def test_engine_modules__never_import_the_celery_tasks():
    """Not even inside a function, where importing them alone would not notice."""
    importing = []
    for folder in (*PURE, *WITH_ORM):
        for path in sorted((ROOT / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
                else:
                    continue
                if TASKS in names:
                    importing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert importing == []

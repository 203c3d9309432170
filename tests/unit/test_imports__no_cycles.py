"""The engine's modules import on their own in a fresh interpreter (no import cycles), and
the pure ones (graph, readers, node kinds, walk, BPMN picture) load without the ORM."""

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
    assert each_alone(names, setup=DJANGO_SETUP, check="") == ""

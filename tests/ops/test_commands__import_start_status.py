"""Management commands: import_definitions, start_instance, engine_status, load_demo."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from processes.models import DefinitionVersion, ProcessInstance

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_import_definitions__publishes_files_and_folders(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"name": "good", "steps": [{"id": "a", "type": "end"}]}))
    output = run("import_definitions", str(tmp_path))
    assert f"{good}: good v1" in output
    assert DefinitionVersion.objects.get().definition.key == "good"


def test_import_definitions__reports_every_error_with_the_file_name(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: WorkflowDefinition\nmetadata: {name: bad}\n"
        "spec:\n  startAt: a\n  states:\n    - {name: a, type: task, resource: nope, next: b}\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_definitions", str(bad), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{bad}:6:") for line in lines)
    assert any("'b'" in line for line in lines) and any("nope" in line for line in lines)
    assert not DefinitionVersion.objects.exists()


def test_start_instance__with_typed_vars_and_business_key(tmp_path):
    source = {
        "name": "svc",
        "variables": {"amount": "number"},
        "steps": [{"id": "a", "type": "end"}],
    }
    (tmp_path / "svc.json").write_text(json.dumps(source))
    run("import_definitions", str(tmp_path))
    output = run(
        "start_instance",
        "svc",
        "--var",
        "amount=5000",
        "--var",
        "note=hi there",
        "--business-key",
        "EXP-1",
        "--id",
        "exp-1",
    )
    assert output.strip() == "exp-1 started (completed)"
    instance = ProcessInstance.objects.get(pk="exp-1")
    assert instance.variables == {"amount": 5000, "note": "hi there"}
    assert instance.business_key == "EXP-1"
    with pytest.raises(CommandError, match="amount"):
        run("start_instance", "svc", "--var", "amount=lots")


def test_engine_status__counts_instances_and_jobs():
    output = run("engine_status")
    assert "running    0" in output
    assert "jobs: 0 due" in output
    assert "workers seen in the last minute: 0" in output


@override_settings(DEBUG=True)
def test_load_demo__is_idempotent():
    run("load_demo")
    first = (User.objects.count(), DefinitionVersion.objects.count())
    run("load_demo")
    assert (User.objects.count(), DefinitionVersion.objects.count()) == first
    assert User.objects.get(username="clerk").check_password("clerk")
    assert DefinitionVersion.objects.filter(definition__key="leave-request").exists()


def test_load_demo__refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG"):
        run("load_demo")

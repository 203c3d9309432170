"""A stored graph carries its format number, and versions stored before it had one (or in
older shapes still) load and run: a published version keeps running for years.

The fixtures are `DefinitionVersion.graph` of two examples as published before the format
number, read back from PostgreSQL (jsonb's key order included), frozen as they were.
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from processes.dsl import compile_definition, format_of_file
from processes.dsl.graph import FORMAT, FormField, Graph, VariableSpec
from processes.models import _GRAPH_CACHE, DefinitionVersion
from processes.services import definition_publish, instance_start
from processes.statuses import TaskState
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.engine import fresh, run_due_jobs

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNNUMBERED = {
    "expense-approval.json": {"amount": 5000, "description": "conference trip"},
    "leave-request.yaml": {"employee": "ann", "days": 3, "first_day": "2026-12-01"},
}
FORM_VALUES = {"boolean": True, "text": "fine", "string": "ok", "date": "2026-12-01"}


def unnumbered(example: str) -> dict:
    return json.loads((FIXTURES / f"graph_unnumbered__{Path(example).stem}.json").read_text())


def test_to_dict__writes_the_format_number():
    graph = compile_definition((ROOT / "examples/expense-approval.json").read_text(), "json")
    stored = json.loads(json.dumps(graph.to_dict()))
    assert stored["format"] == FORMAT == 2
    assert Graph.from_dict(stored) == graph


@pytest.mark.parametrize("example", UNNUMBERED)
def test_from_dict__reads_a_graph_stored_without_a_number(example):
    stored = unnumbered(example)
    assert "format" not in stored
    graph = Graph.from_dict(stored)
    assert graph.to_dict()["format"] == FORMAT
    assert Graph.from_dict(json.loads(json.dumps(graph.to_dict()))) == graph


def test_from_dict__reads_the_oldest_shapes_variables_and_forms_as_objects():
    stored = unnumbered("expense-approval.json")
    stored["variables"] = {"amount": "number", "description": {"type": "string", "label": "W"}}
    form = dict(stored["nodes"]["manager_approval"]["form"])
    stored["nodes"]["manager_approval"]["form"] = form
    graph = Graph.from_dict(stored)
    assert graph.variables == {
        "amount": VariableSpec(type="number"),
        "description": VariableSpec(type="string", label="W"),
    }
    assert list(graph.node("manager_approval").form) == list(form)
    assert isinstance(graph.node("manager_approval").form["approved"], FormField)


def test_from_dict__refuses_a_format_newer_than_the_code():
    with pytest.raises(ValueError, match="format 99"):
        Graph.from_dict({**unnumbered("expense-approval.json"), "format": 99})


@pytest.mark.django_db
@pytest.mark.parametrize("example", UNNUMBERED)
def test_version_stored_without_a_number__runs_to_completion(example):
    path = ROOT / "examples" / example
    version = definition_publish(source=path.read_text(), format=format_of_file(path.name))
    DefinitionVersion.objects.filter(pk=version.pk).update(graph=unnumbered(example))
    _GRAPH_CACHE.pop(version.pk, None)
    operator = User.objects.create_superuser("operator")
    instance = instance_start(definition_key=version.definition.key, variables=UNNUMBERED[example])
    for _ in range(10):
        run_due_jobs()
        open_tasks = Task.objects.filter(
            instance=instance, state__in=(TaskState.OPEN, TaskState.ASSIGNED)
        )
        if not open_tasks:
            break
        for task in open_tasks:
            claimed = task_claim(task=task, user=operator) if task.state == TaskState.OPEN else task
            values = {name: FORM_VALUES[field["type"]] for name, field in task.form.items()}
            task_complete(task=claimed, user=claimed.assignee, variables=values)
    assert fresh(instance).status == "completed", fresh(instance).error

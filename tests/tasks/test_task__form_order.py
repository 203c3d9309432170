"""Form fields and declared variables keep the order the definition gives them."""

import json

import pytest

from processes.models import DefinitionVersion
from processes.services import definition_publish, instance_start
from tasks.models import Task
from tasks.selectors import task_form_schema

pytestmark = pytest.mark.django_db

NAMES = ["zeta", "a", "middle_name", "bb"]


def test_form_and_variables__keep_the_authors_order():
    definition = {
        "name": "ordered",
        "variables": {name: "string" for name in NAMES},
        "steps": [
            {"id": "s", "type": "user_task", "config": {"form": {n: "string" for n in NAMES}}}
        ],
    }
    version = definition_publish(source=json.dumps(definition), format="json")
    fresh_version = DefinitionVersion.objects.get(pk=version.pk)  # jsonb re-sorts object keys
    assert list(fresh_version.graph["variables"]) == [[n, "string"] for n in NAMES]
    instance = instance_start(definition_key="ordered")
    task = Task.objects.get(instance=instance)
    assert list(task_form_schema(task=task)) == NAMES
    assert list(instance.graph.variables) == NAMES


def test_a_form_field_named_like_a_declared_variable_keeps_its_type():
    from processes.dsl.graph import VariableSpec
    from processes.errors import InvalidInput
    from tasks.form_validation import form_clean

    declared = {"amount": VariableSpec(type="integer")}
    form = {"amount": {"type": "number"}}
    assert form_clean(form=form, values={"amount": 5}, declared=declared) == {"amount": 5}
    with pytest.raises(InvalidInput) as caught:
        form_clean(form=form, values={"amount": 2.5}, declared=declared)
    assert set(caught.value.field_errors) == {"amount"}

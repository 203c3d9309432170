"""A definition whose custom step breaks its type's JSON Schema is refused at publish, every
problem at its pointer (through the service and the REST API), and nothing is stored; a
template whose rendered value breaks it fails the step with StepConfigInvalid."""

import json

import pytest
from rest_framework.test import APIClient

from processes.dsl import DefinitionError
from processes.models import ProcessDefinition
from processes.services import definition_publish, instance_start
from tests.support.definitions import publish
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db


def mailer(config: dict) -> dict:
    return {
        "name": "mailer",
        "steps": [{"id": "mail", "type": "custom_email", "config": config}],
    }


BROKEN = mailer({"to": "not an address", "subject": "", "colour": "red"})
EXPECTED = [
    ("/steps/0/config/colour", "'colour' is not a config key of step type 'custom_email'"),
    ("/steps/0/config/subject", "'' should be non-empty"),
    ("/steps/0/config/to", "'not an address' does not match '^[^@\\\\s]+@[^@\\\\s]+$'"),
]


def test_custom_step__schema_violation_is_refused_at_publish():
    with pytest.raises(DefinitionError) as caught:
        definition_publish(source=json.dumps(BROKEN), format="json")
    assert [(p.path, p.message) for p in caught.value.problems] == EXPECTED
    assert all(p.step == "mail" for p in caught.value.problems)
    assert not ProcessDefinition.objects.exists()


def test_custom_step__schema_violation_is_a_400_with_its_pointers(django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser("root-schema"))
    response = client.post("/api/v1/process-definitions", BROKEN, format="json")
    assert response.status_code == 400
    assert [(e["path"], e["message"]) for e in response.json()["errors"]] == EXPECTED
    assert not ProcessDefinition.objects.exists()


def test_custom_step__rendered_value_breaking_the_schema_fails_the_step():
    publish("mailer", mailer({"to": "${address}", "subject": "Hi"})["steps"])
    instance = instance_start(definition_key="mailer", variables={"address": "nobody"})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "StepConfigInvalid"
    assert instance.error["message"].startswith("config/to: 'nobody' does not match")

"""Publishing: versions numbered per key, identical re-publish is a no-op, versions immutable."""

import json

import pytest

from processes.dsl import DefinitionError
from processes.models import DefinitionVersion
from processes.services import definition_publish, instance_start
from tests.support.definitions import publish, service_step

pytestmark = pytest.mark.django_db


def test_publish__same_key_again_makes_the_next_version():
    first = publish("orders", [service_step("a", "test.noop")])
    second = publish(
        "orders", [service_step("a", "test.noop", next=["b"]), service_step("b", "test.noop")]
    )
    assert (first.number, second.number) == (1, 2)
    assert first.definition_id == second.definition_id
    assert second.checksum != first.checksum


def test_publish__identical_source_returns_the_existing_version():
    first = publish("orders", [service_step("a", "test.noop")])
    again = publish("orders", [service_step("a", "test.noop")])
    assert again.pk == first.pk
    assert DefinitionVersion.objects.count() == 1


def test_publish__stores_source_format_graph_and_checksum():
    version = publish("orders", [service_step("a", "test.noop")])
    assert version.format == "json"
    assert json.loads(version.source)["name"] == "orders"
    assert version.graph["start"] == "a"
    assert len(version.checksum) == 64


def test_version__is_immutable():
    version = publish("orders", [service_step("a", "test.noop")])
    version.source = "changed"
    with pytest.raises(ValueError, match="immutable"):
        version.save()


def test_instances_keep_the_version_they_started_on():
    publish("orders", [service_step("a", "test.noop")])
    old = instance_start(definition_key="orders")
    publish("orders", [service_step("b", "test.noop")])
    new = instance_start(definition_key="orders")
    assert old.definition_version.number == 1
    assert new.definition_version.number == 2
    assert list(old.jobs.values_list("step_id", flat=True)) == ["a"]
    assert list(new.jobs.values_list("step_id", flat=True)) == ["b"]


def test_publish__invalid_definition_writes_nothing():
    source = json.dumps({"name": "bad", "steps": [{"id": "a", "type": "nope", "next": ["x"]}]})
    with pytest.raises(DefinitionError) as caught:
        definition_publish(source=source, format="json")
    assert len(caught.value.problems) >= 2
    assert not DefinitionVersion.objects.exists()


def test_publish__unknown_service_is_a_problem():
    source = json.dumps(
        {
            "name": "svc",
            "steps": [
                {
                    "id": "a",
                    "type": "service_task",
                    "config": {"service_name": "Nobody", "method": "home"},
                }
            ],
        }
    )
    with pytest.raises(DefinitionError) as caught:
        definition_publish(source=source, format="json")
    assert any("Nobody.home" in p.message for p in caught.value.problems)


def test_publish__non_ascii_name_is_a_valid_key():
    version = publish("订单处理流程", [service_step("a", "test.noop")])
    assert version.definition.key == "订单处理流程"

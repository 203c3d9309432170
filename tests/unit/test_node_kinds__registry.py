"""Node kinds are plug-ins: one registry, and a kind that leaves a part out never loads."""

import pytest

from processes.dsl import compile_definition
from processes.nodes import JSON_KINDS, KINDS, YAML_KINDS, NodeType, kinds_register, node_kind
from processes.nodes.base import NodeKind, PassingKind
from processes.nodes.end import EndKind
from processes.nodes.service import ServiceKind

PURE_PARTS = ("type", "json_type", "yaml_type", "fields", "bpmn")


def test_registry__every_kind_by_its_type_and_its_names_in_each_format():
    assert list(KINDS) == [
        "service",
        "user",
        "subprocess",
        "map",
        "timer",
        "message_catch",
        "signal_catch",
        "exclusive",
        "inclusive",
        "parallel",
        "event_gateway",
        "compensate",
        "end",
        "fail",
    ]
    assert list(JSON_KINDS) == [
        "service_task",
        "user_task",
        "subprocess",
        "map",
        "timer",
        "message_catch",
        "signal_catch",
        "exclusive_gateway",
        "inclusive_gateway",
        "parallel_gateway",
        "event_gateway",
        "compensate",
        "end",
        "fail",
    ]
    assert list(YAML_KINDS) == [
        "task",
        "user",
        "subprocess",
        "map",
        "wait",
        "event",
        "signal",
        "choice",
        "inclusive",
        "parallel",
        "event_gateway",
        "compensate",
        "succeed",
        "fail",
    ]
    assert NodeType.SERVICE == "service" and list(NodeType) == list(KINDS)


def test_registry__a_compiled_node_goes_to_its_kind():
    graph = compile_definition(
        '{"name": "n", "steps": [{"id": "a", "type": "service_task",'
        ' "config": {"service_name": "s"}}]}',
        "json",
    )
    assert isinstance(node_kind(graph.node("a")), ServiceKind)


@pytest.mark.parametrize("hook", ["enter", "cancel", "resume", "retry", "walk", "read_yaml"])
def test_kind__that_forgets_a_hook_fails_when_its_class_is_made(hook):
    parts = {part: getattr(ServiceKind, part) for part in PURE_PARTS}
    hooks = ("read_json", "read_yaml", "walk", "enter", "cancel", "resume", "retry")
    parts.update({name: getattr(ServiceKind, name) for name in hooks if name != hook})
    with pytest.raises(TypeError, match=hook):
        type("Forgetful", (NodeKind,), parts)


def test_kind__that_forgets_its_spec_fails_when_its_class_is_made():
    with pytest.raises(TypeError, match="json_type"):
        type("Nameless", (PassingKind,), {"type": "x", "yaml_type": "x", "fields": ()})


def test_kind__that_reads_a_field_nodes_do_not_have_fails():
    with pytest.raises(TypeError, match="colour"):

        class Colourful(EndKind):
            fields = ("colour",)


def test_registry__refuses_two_kinds_with_one_name():
    class Another(EndKind):
        type = "another"
        yaml_type = "another"

    with pytest.raises(TypeError, match="json_type end"):
        kinds_register([EndKind(), Another()])

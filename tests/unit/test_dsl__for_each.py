"""For-each steps as written: JSON `config.for_each` on service, user and subprocess steps
and the YAML `map` state; their problems with JSON pointers; the stored graph keeps them,
the iterator as a graph of its own; the BPMN export marks them multi-instance. Pure: no
database."""

import json

import pytest

from processes.bpmn.export import graph_bpmn
from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import ForEach, Graph


def json_graph(for_each, *, step_type="service_task") -> Graph:
    config = {"service_name": "s"} if step_type == "service_task" else {"assignee": "${who}"}
    document = {
        "name": "fe",
        "steps": [{"id": "each", "type": step_type, "config": {**config, "for_each": for_each}}],
    }
    return compile_definition(json.dumps(document), "json")


def problems_of(compile) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile()
    return [(p.path, p.message) for p in caught.value.problems]


MAP = """
kind: WorkflowDefinition
metadata: {name: mapper}
spec:
  states:
    - name: each
      type: map
      itemsPath: "${orders}"
      itemName: order
      maxConcurrency: 2
      resultPath: "$.checked"
      iterator:
        startAt: check
        states:
          - {name: check, type: task, resource: s, next: done}
          - {name: done, type: succeed}
      next: after
    - {name: after, type: succeed}
"""


def test_json__for_each_reads_every_key_with_its_defaults():
    node = json_graph({"items": "${people}"}).node("each")
    assert node.for_each == ForEach(items="${people}")
    node = json_graph(
        {
            "items": "${approvers}",
            "as": "approver",
            "parallel": False,
            "complete_when": "${loop.completed >= 2}",
            "collect": "approvals",
        },
        step_type="user_task",
    ).node("each")
    assert node.for_each == ForEach(
        items="${approvers}",
        as_name="approver",
        max_concurrency=1,
        complete_when="${loop.completed >= 2}",
        collect="approvals",
    )


@pytest.mark.parametrize(
    ("for_each", "path", "says"),
    [
        ({}, "/steps/0/config/for_each/items", "missing required field 'items'"),
        ({"items": "${a +}"}, "/steps/0/config/for_each/items", "bad expression"),
        ({"items": "${a}", "as": "loop"}, "/steps/0/config/for_each/as", "cannot be 'loop'"),
        ({"items": "${a}", "as": "a b"}, "/steps/0/config/for_each/as", "variable name"),
        ({"items": "${a}", "collect": "__x y"}, "/steps/0/config/for_each/collect", "name"),
        ({"items": "${a}", "complete_when": "${("}, "/steps/0/config/for_each/complete_when", ""),
        ({"items": "${a}", "parallel": "no"}, "/steps/0/config/for_each/parallel", "true or"),
        (
            {"items": "${a}", "parallel": False, "max_concurrency": 3},
            "/steps/0/config/for_each/max_concurrency",
            "one item at a time",
        ),
    ],
)
def test_json__a_bad_for_each_is_refused_naming_the_place(for_each, path, says):
    found = problems_of(lambda: json_graph(for_each))
    assert any(p == path and says in message for p, message in found), found


def test_yaml__map_reads_its_items_and_its_iterator_as_a_graph_of_its_own():
    graph = compile_definition(MAP, "yaml")
    node = graph.node("each")
    assert node.type == "map" and node.next == ("after",)
    assert node.for_each == ForEach(
        items="${orders}", as_name="order", max_concurrency=2, collect="checked"
    )
    assert node.iterator.start == "check" and set(node.iterator.nodes) == {"check", "done"}
    assert graph.scope("each") is node.iterator and graph.scope("") is graph
    stored = Graph.from_dict(json.loads(json.dumps(graph.to_dict())))
    assert stored.node("each").iterator.node("check").service == "s"
    assert stored.node("each").for_each == node.for_each


def test_yaml__a_map_without_iterator_or_naming_a_state_outside_it_is_refused():
    without = MAP.replace("      iterator:", "      other:")
    assert ("/spec/states/0/iterator", "missing required field 'iterator'") in problems_of(
        lambda: compile_definition(without, "yaml")
    )
    outside = MAP.replace("next: done}", "next: after}")
    found = problems_of(lambda: compile_definition(outside, "yaml"))
    assert ("/spec/states/0/iterator/states/0/next", "unknown step 'after'") in found


def test_yaml__the_iterators_services_must_exist():
    found = problems_of(lambda: compile_definition(MAP, "yaml", service_exists=lambda s: False))
    assert any(
        path == "/spec/states/0/iterator/states/0/resource" and "unknown service 's'" in message
        for path, message in found
    ), found


def test_json__map_is_a_yaml_state_and_says_what_json_writes_instead():
    document = {"name": "m", "steps": [{"id": "each", "type": "map"}]}
    found = problems_of(lambda: compile_definition(json.dumps(document), "json"))
    assert any("for_each" in message for _, message in found), found


def test_bpmn__a_for_each_step_is_a_multi_instance_activity():
    xml = graph_bpmn(json_graph({"items": "${xs}", "parallel": False, "complete_when": "${x}"}))
    assert '<bpmn:multiInstanceLoopCharacteristics isSequential="true"' in xml
    assert "flowdesk:collection=\"${xs}\"" in xml and "<bpmn:completionCondition" in xml
    xml = graph_bpmn(compile_definition(MAP, "yaml"))
    assert "<bpmn:subProcess" in xml and 'isSequential="false"' in xml

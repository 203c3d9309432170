"""How long finished instances are kept, as written: JSON `retention`, YAML `spec.retention`,
any duration the parser takes; a bad or zero one is a problem at its pointer (and line); the
stored graph keeps it, and one stored without it reads as none. Pure: no database."""

import json

import pytest

from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import Graph


def compile_json(**extra) -> Graph:
    document = {"name": "kept", "steps": [{"id": "done", "type": "end"}], **extra}
    return compile_definition(json.dumps(document), "json")


def compile_yaml(retention: str) -> Graph:
    source = (
        "kind: WorkflowDefinition\n"
        "metadata: {name: kept}\n"
        "spec:\n"
        f"  retention: {retention}\n"
        "  startAt: done\n"
        "  states:\n"
        "    - {name: done, type: succeed}\n"
    )
    return compile_definition(source, "yaml")


@pytest.mark.parametrize(
    ("written", "seconds"), [("30d", 2_592_000), ("P30D", 2_592_000), ("12h", 43_200), (3600, 3600)]
)
def test_retention__json_any_duration(written, seconds):
    assert compile_json(retention=written).retention == seconds


def test_retention__yaml_under_spec():
    assert compile_yaml('"30d"').retention == 2_592_000


def test_retention__none_written_is_none():
    assert compile_json().retention is None


@pytest.mark.parametrize("written", ["5 parsecs", 0, -1, [30], True])
def test_retention__a_bad_one_is_a_problem_at_its_pointer(written):
    with pytest.raises(DefinitionError) as caught:
        compile_json(retention=written)
    [problem] = caught.value.problems
    assert problem.path == "/retention"
    assert "retention" in problem.message


def test_retention__a_bad_yaml_one_names_its_line():
    with pytest.raises(DefinitionError) as caught:
        compile_yaml("forever")
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("/spec/retention", 4)


def test_retention__the_stored_graph_keeps_it_and_an_old_one_has_none():
    graph = compile_json(retention="30d")
    assert Graph.from_dict(json.loads(json.dumps(graph.to_dict()))).retention == 2_592_000
    stored = graph.to_dict()
    del stored["retention"]  # a graph stored before retention existed
    assert Graph.from_dict(stored).retention is None

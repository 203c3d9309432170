"""Every kind of problem is reported with its JSON pointer and step, all at once."""

import json

import pytest

from processes.dsl import DefinitionError, Problem, compile_definition


def service(step_id: str, *next_ids: str, **config) -> dict:
    return {
        "id": step_id,
        "type": "service_task",
        "config": {"service_name": "Svc", **config},
        "next": list(next_ids),
    }


def end(step_id: str = "done") -> dict:
    return {"id": step_id, "type": "end"}


def problems_of(document: dict | str, fmt: str = "json", **options) -> list[Problem]:
    source = json.dumps(document) if isinstance(document, dict) else document
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, fmt, **options)
    return caught.value.problems


def found(document: dict | str, fmt: str = "json", **options) -> list[tuple[str, str | None, str]]:
    return [(p.path, p.step, p.message) for p in problems_of(document, fmt, **options)]


def one(document: dict | str, fmt: str = "json", **options) -> tuple[str, str | None, str]:
    problems = found(document, fmt, **options)
    assert len(problems) == 1, problems
    return problems[0]


def doc(*steps: dict, **extra) -> dict:
    return {"name": "p", "steps": list(steps), **extra}


# ------------------------------------------------------------------ document shape


def test_missing_name_and_steps():
    assert found({}) == [
        ("/name", None, "missing required field 'name'"),
        ("/steps", None, "missing required field 'steps'"),
    ]


def test_empty_steps():
    assert one(doc()) == ("/steps", None, "a definition needs at least one step")


def test_steps_must_be_a_list_of_objects():
    assert one({"name": "p", "steps": {"a": 1}}) == (
        "/steps",
        None,
        "must be a list, not an object",
    )
    assert found(doc(end("a"), 3)) == [("/steps/1", None, "must be an object, not an integer")]


def test_wrong_top_level_types():
    assert one({"name": 5, "steps": [end()]})[::2] == (
        "/name",
        "'name' must be a string, not an integer",
    )
    assert one(doc(end(), key=""))[::2] == ("/key", "'key' must not be empty")


def test_a_document_that_is_not_an_object():
    assert found("[1, 2]") == [("", None, "a definition must be a JSON object, not a list")]


def test_unknown_format_and_non_text_source_are_definition_errors():
    with pytest.raises(DefinitionError) as caught:
        compile_definition("{}", "xml")
    assert caught.value.problems[0].message == "unknown format 'xml': use json or yaml"
    with pytest.raises(DefinitionError) as caught:
        compile_definition(b"{}", "json")  # type: ignore[arg-type]
    assert caught.value.problems[0].message == "the definition must be text"


# ------------------------------------------------------------------ step fields


def test_missing_step_id_and_type():
    assert found(doc(end("a"), {"name": "nameless"})) == [
        ("/steps/1/id", None, "missing required field 'id'"),
        ("/steps/1/type", None, "missing required field 'type'"),
    ]


def test_unknown_step_type():
    path, step, message = one(doc({"id": "a", "type": "script_task"}))
    assert (path, step) == ("/steps/0/type", "a")
    assert message.startswith("unknown step type 'script_task' (expected one of: service_task,")


def test_next_must_be_a_string_or_list_of_strings():
    assert one(doc({"id": "a", "type": "end", "next": 5})) == (
        "/steps/0/next",
        "a",
        "'next' must be a string or a list of strings, not an integer",
    )
    assert one(doc({"id": "a", "type": "parallel_gateway", "next": ["done", 7]}, end())) == (
        "/steps/0/next/1",
        "a",
        "'next' must hold non-empty strings",
    )


def test_an_end_step_takes_no_next():
    assert one(doc({"id": "a", "type": "end", "next": ["b"]}, end("b")))[::2] == (
        "/steps/0/next",
        "an end step has no 'next'",
    )


def test_service_task_fields():
    bad = {
        "id": "a",
        "type": "service_task",
        "config": {
            "timeout": "soon",
            "input": ["not", "an", "object"],
            "retry_policy": {"max_attempts": 0, "backoff": "random", "interval": -1},
        },
    }
    messages = found(doc(bad))
    assert [(path, message.split(":")[0]) for path, _, message in messages] == [
        ("/steps/0/config/service_name", "missing required field 'service_name'"),
        ("/steps/0/config/input", "'input' must be an object, not a list"),
        ("/steps/0/config/timeout", "'timeout'"),
        ("/steps/0/config/retry_policy/backoff", "'backoff' must be one of"),
        ("/steps/0/config/retry_policy/interval", "'interval'"),
        ("/steps/0/config/retry_policy/max_attempts", "'max_attempts' must be at least 1"),
    ]
    assert all(step == "a" for _, step, _ in messages)


@pytest.mark.parametrize("attempts", [0, -1, 1.5, "3", True])
def test_max_attempts_must_be_a_positive_whole_number(attempts):
    step = service("a", retry_policy={"max_attempts": attempts})
    assert one(doc(step))[0] == "/steps/0/config/retry_policy/max_attempts"


def test_config_must_be_an_object():
    assert one(doc({"id": "a", "type": "parallel_gateway", "config": "x"})) == (
        "/steps/0/config",
        "a",
        "'config' must be an object, not a string",
    )


def test_user_task_fields():
    step = {
        "id": "u",
        "type": "user_task",
        "config": {
            "candidate_groups": "single-group-is-fine",
            "candidate_users": [1],
            "due_date": "tomorrow",
            "priority": "high",
            "form": {
                "a": "colour",
                "b": {"type": "choice"},
                "c": {"type": "number", "min": 5, "max": 1},
                "d": {"required": True},
                "e": {"type": "choice", "choices": ["x", "y"], "default": "z"},
                "f": "choice",
                "g": {"type": "string", "required": "yes"},
            },
        },
    }
    assert [(path, message.split(" (")[0]) for path, _, message in found(doc(step))] == [
        ("/steps/0/config/candidate_users/0", "'candidate_users' must hold non-empty strings"),
        ("/steps/0/config/form/a", "unknown type 'colour' for 'a'"),
        ("/steps/0/config/form/b/choices", "a choice field needs a non-empty list of 'choices'"),
        ("/steps/0/config/form/c/max", "'max' must not be less than 'min'"),
        ("/steps/0/config/form/d/type", "missing required field 'type'"),
        ("/steps/0/config/form/e/default", "'default' must be one of the choices"),
        ("/steps/0/config/form/f", "a choice field needs 'choices'; write it as an object"),
        ("/steps/0/config/form/g/required", "'required' must be true or false, not a string"),
        ("/steps/0/config/due_date", "'due_date': 'tomorrow' is not a duration"),
        ("/steps/0/config/priority", "'priority' must be a whole number, not a string"),
    ]


def test_variables_with_unknown_types():
    document = doc(end(), variables={"a": "decimal", "b": {"type": "timestamp"}, "c": 5, "d": {}})
    assert [(path, message.split(" (")[0]) for path, _, message in found(document)] == [
        ("/variables/a", "unknown type 'decimal' for 'a'"),
        ("/variables/b/type", "unknown type 'timestamp' for 'b'"),
        ("/variables/c", "'c' must be a type name or an object, not an integer"),
        ("/variables/d/type", "missing required field 'type'"),
    ]


def test_exclusive_gateway_needs_conditions():
    assert one(doc({"id": "g", "type": "exclusive_gateway", "config": {}})) == (
        "/steps/0/config/conditions",
        "g",
        "missing required field 'conditions'",
    )
    gateway = {"id": "g", "type": "exclusive_gateway", "config": {"conditions": []}}
    assert one(doc(gateway))[2] == "an exclusive gateway needs at least one condition"


def test_exclusive_gateway_with_several_next():
    gateway = {
        "id": "g",
        "type": "exclusive_gateway",
        "config": {"conditions": [{"expression": "x", "next": "a"}]},
        "next": ["a", "b"],
    }
    path, _, message = one(doc(gateway, end("a"), end("b")))
    assert path == "/steps/0/next"
    assert "give at most one 'next'" in message


# ------------------------------------------------------------------ graph


def test_duplicate_step_id():
    assert one(doc(service("a", "done"), service("a", "done"), end())) == (
        "/steps/1",
        "a",
        "duplicate step id 'a' (first declared at /steps/0)",
    )


def test_unknown_targets_everywhere_a_target_can_be_named():
    gateway = {
        "id": "g",
        "type": "exclusive_gateway",
        "config": {
            "conditions": [{"expression": "${x > 1}", "next": "nowhere1"}],
            "default": "nowhere2",
        },
    }
    failing = service("s", "g", catch=[{"error_equals": ["Boom"], "next": "nowhere3"}])
    assert found(doc(failing, gateway, service("t", "nowhere4"))) == [
        ("/steps/0/config/catch/0/next", "s", "unknown step 'nowhere3'"),
        ("/steps/1/config/conditions/0/next", "g", "unknown step 'nowhere1'"),
        ("/steps/1/config/default", "g", "unknown step 'nowhere2'"),
        ("/steps/2/next/0", "t", "unknown step 'nowhere4'"),
        ("/steps/2", "t", "step 't' cannot be reached from the start step 's'"),
    ]


def test_unknown_start():
    assert one(doc(end("a"), start="b")) == ("/start", None, "unknown start step 'b'")


def test_unreachable_step():
    assert one(doc(service("a", "done"), end(), service("orphan", "done"))) == (
        "/steps/2",
        "orphan",
        "step 'orphan' cannot be reached from the start step 'a'",
    )


def test_a_loop_without_exit_has_no_path_to_an_end():
    assert found(doc(service("a", "b"), service("b", "a"))) == [
        ("/steps/0", "a", "step 'a' has no path to an end: every way on from it loops forever"),
        ("/steps/1", "b", "step 'b' has no path to an end: every way on from it loops forever"),
    ]


def test_a_loop_with_an_exit_is_fine():
    retry_loop = {
        "id": "check",
        "type": "exclusive_gateway",
        "config": {"conditions": [{"expression": "ok", "next": "done"}], "default": "work"},
    }
    graph = compile_definition(json.dumps(doc(service("work", "check"), retry_loop, end())), "json")
    assert graph.node("check").default == "work"


def test_a_catch_is_a_way_out_of_a_loop():
    looping = service("a", "b", catch=[{"errorEquals": ["Stop"], "next": "done"}])
    compile_definition(json.dumps(doc(looping, service("b", "a"), end())), "json")


def test_unknown_target_is_not_also_a_dead_end():
    # b's only way on is an unknown step: one problem, not a cascade of dead ends.
    assert found(doc(service("a", "b"), service("b", "a", "missing"))) == [
        ("/steps/1/next/1", "b", "unknown step 'missing'"),
    ]


def test_a_broken_step_does_not_make_its_successors_unreachable():
    broken = {"id": "b", "type": "mystery", "next": ["c"]}
    problems = found(doc(service("a", "b"), broken, service("c", "done"), end()))
    assert [path for path, _, _ in problems] == ["/steps/1/type"]


@pytest.mark.parametrize(
    ("step", "path"),
    [
        (
            {
                "id": "g",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "${amount > }", "next": "done"}]},
            },
            "/steps/0/config/conditions/0/expression",
        ),
        (
            {
                "id": "g",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "amount >", "next": "done"}]},
            },
            "/steps/0/config/conditions/0/expression",
        ),
        (
            service("s", "done", input={"to": {"list": ["ok", "${user.}"]}}),
            "/steps/0/config/input/to/list/1",
        ),
        (
            {"id": "u", "type": "user_task", "config": {"assignee": "${"}, "next": "done"},
            "/steps/0/config/assignee",
        ),
        (
            {
                "id": "u",
                "type": "user_task",
                "config": {"candidate_groups": ["ok", "${__x}"]},
                "next": "done",
            },
            "/steps/0/config/candidate_groups/1",
        ),
    ],
)
def test_bad_expression_syntax(step, path):
    problem_path, _, message = one(doc(step, end()))
    assert problem_path == path
    assert message.startswith("bad expression: cannot evaluate ")


def test_unknown_service_only_when_a_registry_is_given():
    document = doc(service("a", "done", method="run"), end())
    assert one(document, service_exists=lambda name: False) == (
        "/steps/0/config/service_name",
        "a",
        "unknown service 'Svc.run'",
    )
    compile_definition(json.dumps(document), "json")
    seen = []
    compile_definition(
        json.dumps(document), "json", service_exists=lambda n: seen.append(n) or True
    )
    assert seen == ["Svc.run"]


def test_every_problem_is_reported_at_once():
    document = {
        "steps": [
            service("a", "ghost", timeout="never"),
            {"id": "a", "type": "end"},
            {"id": "z", "type": "nope"},
        ],
        "variables": {"v": "blob"},
    }
    paths = [path for path, _, _ in found(document)]
    assert paths == [
        "/name",
        "/variables/v",
        "/steps/0/config/timeout",
        "/steps/2/type",
        "/steps/1",
        "/steps/0/next/0",
        "/steps/2",
    ]


# ------------------------------------------------------------------ YAML-only checks


def test_yaml_state_in_a_branch_cannot_leave_its_branch():
    source = """
metadata: {name: p}
spec:
  states:
    - name: fork
      type: parallel
      branches:
        - - {name: a, type: task, resource: s, next: after}
        - - {name: b, type: task, resource: s}
      next: after
    - {name: after, type: succeed}
"""
    assert one(source, "yaml") == (
        "/spec/states/0/branches/0/0/next",
        "a",
        "step 'after' is in another parallel branch: a state can only go to states of its"
        " own branch",
    )


def test_yaml_names_are_unique_across_branches():
    source = """
metadata: {name: p}
spec:
  states:
    - name: fork
      type: parallel
      branches:
        - - {name: same, type: task, resource: s}
        - - {name: same, type: task, resource: s}
"""
    assert one(source, "yaml") == (
        "/spec/states/0/branches/1/0",
        "same",
        "duplicate step id 'same' (first declared at /spec/states/0/branches/0/0)",
    )


def test_yaml_wrong_field_types():
    source = """
metadata: {name: p}
spec:
  variables: {v: text}
  states:
    - name: a
      type: task
      resource: s
      timeout: forever
      retry: [{maxAttempts: 0, backoffRate: 0.5, intervalSeconds: soon, errorEquals: []}]
      next: [b]
    - {name: b, type: teleport}
"""
    assert [
        (path, message.split(" (")[0].split(":")[0]) for path, _, message in found(source, "yaml")
    ] == [
        ("/spec/variables/v", "unknown type 'text' for 'v'"),
        ("/spec/states/0/timeout", "'timeout'"),
        ("/spec/states/0/retry/0/errorEquals", "'errorEquals' must name at least one error"),
        ("/spec/states/0/retry/0/intervalSeconds", "'intervalSeconds'"),
        ("/spec/states/0/retry/0/maxAttempts", "'maxAttempts' must be at least 1"),
        ("/spec/states/0/retry/0/backoffRate", "'backoffRate' must be at least 1"),
        ("/spec/states/0/next", "'next' must be a string, not a list"),
        ("/spec/states/1/type", "unknown state type 'teleport'"),
    ]


def test_yaml_parallel_without_a_name_is_one_problem():
    source = """
metadata: {name: p}
spec:
  states:
    - type: parallel
      branches:
        - - {name: a, type: task, resource: s}
"""
    assert found(source, "yaml") == [
        ("/spec/states/0/name", None, "missing required field 'name'"),
    ]


def test_yaml_unknown_service_and_bad_condition_paths():
    source = """
metadata: {name: p}
spec:
  states:
    - name: pick
      type: choice
      choices: [{condition: "${amount >}", next: work}]
    - {name: work, type: task, resource: "arn:aws:lambda:x:1:function:nope"}
"""
    problems = found(source, "yaml", service_exists=lambda name: name != "nope")
    assert [(path, step) for path, step, _ in problems] == [
        ("/spec/states/0/choices/0/condition", "pick"),
        ("/spec/states/1/resource", "work"),
    ]
    assert problems[0][2] == "bad expression: cannot evaluate ${amount >}: invalid syntax"
    assert problems[1][2] == "unknown service 'nope'"


def test_definition_error_lists_every_problem_in_its_message():
    with pytest.raises(DefinitionError) as caught:
        compile_definition('{"steps": []}', "json")
    assert str(caught.value) == (
        "2 problems in the definition; line 1, /name: missing required field 'name';"
        " line 1, /steps: a definition needs at least one step"
    )


def test_condition_with_text_around_its_template_is_a_problem():
    import json as _json

    from processes.dsl import DefinitionError, compile_definition

    source = {
        "name": "g",
        "steps": [
            {
                "id": "gw",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "${a} and ${b}", "next": "e"}]},
            },
            {"id": "e", "type": "end"},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        compile_definition(_json.dumps(source), "json")
    [problem] = caught.value.problems
    assert problem.path == "/steps/0/config/conditions/0/expression"
    assert "single" in problem.message

"""The YAML format compiles to the graph: states, parallel branches, user config, lines."""

import pytest

from processes.dsl import DefinitionError, Problem, compile_definition
from processes.dsl.graph import (
    ALL_ERRORS,
    CatchRule,
    Condition,
    FormField,
    Graph,
    RetryRule,
)
from processes.nodes import NodeType


def compile_yaml(source: str) -> Graph:
    return compile_definition(source, "yaml")


def problems_of(source: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "yaml")
    return caught.value.problems


def test_document_fields_and_task_states():
    graph = compile_yaml("""
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata:
  name: Refunds
  key: refunds
spec:
  version: 3
  description: Pay refunds
  variables: {amount: number, when: {type: date}}
  startAt: pay
  states:
    - name: pay
      type: task
      resource: arn:aws:lambda:eu-west-1:1:function:pay-refund:live
      input: {amount: "${amount}"}
      timeout: 5m
      retry:
        - errorEquals: [Busy]
      catch:
        - {errorEquals: [States.ALL], next: failed}
      next: notify
    - {name: notify, type: task, resource: Mailer.send, end: true}
    - {name: failed, type: fail, error: RefundFailed, cause: the bank said no}
""")
    assert (graph.key, graph.name, graph.start) == ("refunds", "Refunds", "pay")
    assert (graph.version_label, graph.description) == ("3", "Pay refunds")
    declared = {name: spec.type for name, spec in graph.variables.items()}
    assert declared == {"amount": "number", "when": "date"}
    pay = graph.node("pay")
    assert (pay.type, pay.service, pay.timeout_seconds) == (NodeType.SERVICE, "pay-refund", 300.0)
    assert pay.input == {"amount": "${amount}"}
    assert pay.retry == (
        RetryRule(("Busy",), interval_seconds=1.0, max_attempts=3, backoff_rate=2.0),
    )
    assert pay.catch == (CatchRule((ALL_ERRORS,), "failed"),)
    assert pay.next == ("notify",)
    assert (graph.node("notify").service, graph.node("notify").next) == ("Mailer.send", ())
    failed = graph.node("failed")
    assert (failed.type, failed.error, failed.cause) == (
        NodeType.FAIL,
        "RefundFailed",
        "the bank said no",
    )


def test_key_defaults_to_the_name_and_start_to_the_first_state():
    graph = compile_yaml("""
metadata: {name: 退款}
spec:
  states:
    - {name: only, type: task, resource: s}
""")
    assert (graph.key, graph.start) == ("退款", "only")


def test_choice_state():
    graph = compile_yaml("""
metadata: {name: p}
spec:
  states:
    - name: pick
      type: choice
      choices:
        - {condition: "${amount > 1000}", next: big}
        - {condition: "amount < 0", next: bad}
      default: small
    - {name: big, type: succeed}
    - {name: small, type: succeed}
    - {name: bad, type: fail}
""")
    pick = graph.node("pick")
    assert pick.type == NodeType.EXCLUSIVE
    assert pick.conditions == (Condition("${amount > 1000}", "big"), Condition("amount < 0", "bad"))
    assert pick.default == "small"
    assert graph.node("big").type == NodeType.END


USER_ON_STATE = """
metadata: {name: p}
spec:
  states:
    - name: approve
      type: user
      assignee: "${manager}"
      candidate_groups: [finance]
      due_date: 1d
      priority: 2
      form:
        ok: boolean
        why: {type: text, required: true}
"""

USER_UNDER_CONFIG = """
metadata: {name: p}
spec:
  states:
    - name: approve
      type: user
      config:
        assignee: "${manager}"
        candidate_groups: [finance]
        due_date: 1d
        priority: 2
        form:
          ok: boolean
          why: {type: text, required: true}
"""


@pytest.mark.parametrize("source", [USER_ON_STATE, USER_UNDER_CONFIG])
def test_user_fields_on_the_state_or_under_config(source):
    node = compile_yaml(source).node("approve")
    assert node.type == NodeType.USER
    assert (node.assignee, node.candidate_groups) == ("${manager}", ("finance",))
    assert (node.due_in_seconds, node.priority) == (86400.0, 2)
    assert node.form == {"ok": FormField("boolean"), "why": FormField("text", required=True)}


def test_user_fields_in_both_places_is_a_problem():
    source = USER_UNDER_CONFIG.replace("      config:\n", "      priority: 1\n      config:\n")
    [problem] = problems_of(source)
    assert (problem.path, problem.step) == ("/spec/states/0/config", "approve")
    assert problem.message == "write the user fields either under 'config' or on the state"


PARALLEL = """
metadata: {name: p}
spec:
  states:
    - name: split
      type: parallel
      branches:
        - - {name: a1, type: task, resource: s, next: a2}
          - {name: a2, type: task, resource: s}
        - startAt: b2
          states:
            - {name: b1, type: task, resource: s, end: true}
            - {name: b2, type: task, resource: s, next: b1}
      next: after
    - {name: after, type: task, resource: s}
"""


def test_parallel_compiles_to_a_fork_and_a_join():
    graph = compile_yaml(PARALLEL)
    assert list(graph.nodes) == ["split", "a1", "a2", "b1", "b2", "split.join", "after"]
    fork, join = graph.node("split"), graph.node("split.join")
    assert (fork.type, fork.next) == (NodeType.PARALLEL, ("a1", "b2"))
    assert (join.type, join.next) == (NodeType.PARALLEL, ("after",))
    assert graph.node("a2").next == ("split.join",)
    assert graph.node("b1").next == ("split.join",)
    assert graph.predecessors("split.join") == ("a2", "b1")
    assert graph.is_join("split.join")


def test_a_parallel_that_ends_has_a_join_without_next():
    source = PARALLEL.replace("      next: after\n", "      end: true\n")
    graph = compile_yaml(source.replace("    - {name: after, type: task, resource: s}\n", ""))
    assert graph.node("split.join").next == ()


def test_succeed_inside_a_branch_leads_to_the_join():
    graph = compile_yaml("""
metadata: {name: p}
spec:
  states:
    - name: split
      type: parallel
      branches:
        - - {name: a, type: task, resource: s, next: a_done}
          - {name: a_done, type: succeed}
        - - {name: b_done, type: succeed}
""")
    assert "a_done" not in graph.nodes and "b_done" not in graph.nodes
    assert graph.node("a").next == ("split.join",)
    assert graph.node("split").next == ("a", "split.join")


def test_a_branch_with_several_ends_merges_them_before_the_join():
    graph = compile_yaml("""
metadata: {name: p}
spec:
  states:
    - name: split
      type: parallel
      branches:
        - - name: pick
            type: choice
            choices: [{condition: "x > 1", next: big}]
            default: small
          - {name: big, type: task, resource: s}
          - {name: small, type: task, resource: s}
        - - {name: other, type: task, resource: s}
""")
    merge = graph.node("split.merge0")
    assert (merge.type, merge.default) == (NodeType.EXCLUSIVE, "split.join")
    assert graph.node("big").next == ("split.merge0",)
    assert graph.node("small").next == ("split.merge0",)
    assert graph.predecessors("split.join") == ("split.merge0", "other")


def test_nested_parallels():
    graph = compile_yaml("""
metadata: {name: p}
spec:
  states:
    - name: outer
      type: parallel
      branches:
        - - name: inner
            type: parallel
            branches:
              - [{name: x, type: task, resource: s}]
              - [{name: y, type: task, resource: s}]
        - [{name: z, type: task, resource: s}]
""")
    assert graph.node("outer").next == ("inner", "z")
    assert graph.node("inner.join").next == ("outer.join",)
    assert graph.predecessors("inner.join") == ("x", "y")
    assert graph.predecessors("outer.join") == ("inner.join", "z")


def test_dates_stay_strings():
    graph = compile_yaml("""
metadata: {name: p}
spec:
  states:
    - {name: a, type: task, resource: s, input: {since: 2024-01-31}}
""")
    assert graph.node("a").input == {"since": "2024-01-31"}


def test_problems_carry_yaml_line_numbers():
    problems = problems_of("""metadata:
  name: p
spec:
  states:
    - name: a
      type: task
      resource: s
      timeout: soon
      retry:
        - errorEquals: [States.ALL]
          maxAttempts: 0
      next: ghost
    - name: b
      type: task
""")
    assert [(p.path, p.line, p.step) for p in problems] == [
        ("/spec/states/0/timeout", 8, "a"),
        ("/spec/states/0/retry/0/maxAttempts", 11, "a"),
        ("/spec/states/1/resource", 13, "b"),
        ("/spec/states/0/next", 12, "a"),
        ("/spec/states/1", 13, "b"),
    ]


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        (
            "metadata: {name: p\nspec: 1\n",
            "invalid YAML: while parsing a flow mapping, expected ',' or '}', but got ':'"
            " (line 2, column 5)",
            2,
        ),
        (
            "a: 1\n  b: 2\n",
            "invalid YAML: mapping values are not allowed here (line 2, column 4)",
            2,
        ),
        (
            "a: 1\n---\nb: 2\n",
            "invalid YAML: expected a single document in the stream, but found another document"
            " (line 2, column 1)",
            2,
        ),
        (
            "a: !!python/object:os.system x\n",
            "invalid YAML: could not determine a constructor for the tag"
            " 'tag:yaml.org,2002:python/object:os.system' (line 1, column 4)",
            1,
        ),
    ],
)
def test_malformed_yaml_is_one_problem_with_its_position(source, message, line):
    [problem] = problems_of(source)
    assert (problem.path, problem.message, problem.line) == ("", message, line)


def test_an_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    [problem] = problems_of("\n".join(lines) + "\n")
    assert problem.message == "the document holds more than 100000 values"


def test_non_json_values_are_problems():
    problems = problems_of("""
metadata: {name: p}
spec:
  states:
    - {name: a, type: task, resource: s, input: {blob: !!binary aGk=, 1: one, n: .nan}}
""")
    assert sorted((p.path, p.message) for p in problems) == [
        ("/spec/states/0/input/1", "keys must be strings, not an integer"),
        ("/spec/states/0/input/blob", "a bytes cannot be used here; write it as a string"),
        ("/spec/states/0/input/n", "numbers must be finite"),
    ]


def test_wrong_kind_and_missing_metadata():
    problems = problems_of("kind: Pod\nspec: {states: [{name: a, type: succeed}]}\n")
    assert [(p.path, p.message) for p in problems] == [
        ("/kind", "'kind' must be WorkflowDefinition, not 'Pod'"),
        ("/metadata/name", "missing required field 'name'"),
    ]

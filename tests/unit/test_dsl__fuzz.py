"""Whatever the text, compile_definition returns a Graph or raises DefinitionError."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import Graph

WORDS = st.sampled_from(
    [
        "name", "key", "steps", "id", "type", "config", "next", "start", "variables", "form",
        "service_task", "user_task", "exclusive_gateway", "parallel_gateway", "end", "fail",
        "service_name", "method", "timeout", "retry_policy", "max_attempts", "backoff", "catch",
        "conditions", "expression", "default", "assignee", "choice", "choices", "a", "b",
        "${x > 1}", "${", "30s", "spec", "states", "metadata", "branches", "task", "parallel",
        "startAt", "resource", "retry", "maxAttempts", "end", "succeed", "choice", "condition",
    ]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | WORDS
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(WORDS | st.text(max_size=5), inner, max_size=6)
    ),
    max_leaves=40,
)


def outcome(source: str, fmt: str) -> Graph | DefinitionError:
    try:
        return compile_definition(source, fmt, service_exists=lambda name: name != "b")
    except DefinitionError as error:
        assert error.problems, "a DefinitionError always says what is wrong"
        return error


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(JSONISH)
def test_json_documents(document):
    outcome(json.dumps(document), "json")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.fixed_dictionaries({"name": WORDS, "steps": st.lists(JSONISH, max_size=5)}))
def test_json_definitions_with_steps(document):
    outcome(json.dumps(document), "json")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(JSONISH)
def test_yaml_documents(document):
    outcome(json.dumps(document), "yaml")  # JSON text is YAML too


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "metadata": st.fixed_dictionaries({"name": WORDS}),
            "spec": st.fixed_dictionaries({"states": st.lists(JSONISH, max_size=5)}),
        }
    )
)
def test_yaml_definitions_with_states(document):
    outcome(json.dumps(document), "yaml")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["json", "yaml"]))
def test_arbitrary_text(text, fmt):
    outcome(text, fmt)


def test_deep_nesting():
    for fmt in ("json", "yaml"):
        for depth in (50, 3000):
            assert isinstance(outcome("[" * depth + "]" * depth, fmt), DefinitionError)
            assert isinstance(outcome('{"a":' * depth + "1" + "}" * depth, fmt), DefinitionError)

"""Steps of a registered step type (custom_email from tests/support/services.py, and the
built-in http and publish): read in JSON and YAML as service steps running the type's
service, their config checked against the type's JSON Schema with a pointer and line per
problem."""

import json

import pytest

from processes.dsl import DefinitionError, compile_definition
from processes.nodes import NodeType
from processes.nodes.step_types import config_errors
from processes.registry import get_step_type, service_exists, step_type

EMAIL = {"to": "ann@example.com", "subject": "Your order ${order_id}"}


def email_definition(config: dict, **engine_keys) -> dict:
    engine_keys.setdefault("catch", [{"error_equals": ["States.ALL"], "next": "bounced"}])
    return {
        "name": "mailer",
        "steps": [
            {
                "id": "mail",
                "type": "custom_email",
                "config": {**config, **engine_keys},
                "next": ["done"],
            },
            {"id": "done", "type": "end"},
            {"id": "bounced", "type": "end"},
        ],
    }


def problems(source: str, fmt: str = "json") -> list[tuple[str, str, int | None]]:
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, fmt, service_exists=service_exists)
    return [(p.path, p.message, p.line) for p in caught.value.problems]


def test_custom_step__json_reads_as_a_service_step_of_its_type():
    document = email_definition(
        EMAIL,
        timeout="30s",
        retry_policy={"max_attempts": 3, "interval": "0s", "errors": ["EmailBounced"]},
        catch=[{"error_equals": ["States.ALL"], "next": "bounced"}],
    )
    graph = compile_definition(json.dumps(document), "json", service_exists=service_exists)
    node = graph.node("mail")
    assert node.type == NodeType.SERVICE
    assert node.service == "flowdesk:step:custom_email"
    # The step type's own config (templates unrendered) and its timeout; the engine's keys
    # are read as a service step's.
    assert node.input == {**EMAIL, "timeout": "30s"}
    assert node.timeout_seconds == 30
    assert node.retry[0].error_equals == ("EmailBounced",)
    assert node.retry[0].max_attempts == 3
    assert [rule.next for rule in node.catch] == ["bounced"]


def test_custom_step__schema_violations_each_at_their_pointer_and_line():
    document = email_definition(
        {"to": "not an address", "priority": "urgent", "cc": "bob@example.com"},
        retry_policy={"max_attempts": 2},
    )
    source = json.dumps(document, indent=2)
    found = problems(source)
    assert [(path, message) for path, message, _ in found] == [
        ("/steps/0/config/cc", "'cc' is not a config key of step type 'custom_email'"),
        ("/steps/0/config/priority", "'urgent' is not one of ['low', 'normal', 'high']"),
        ("/steps/0/config/subject", "'subject' is a required property"),
        ("/steps/0/config/to", "'not an address' does not match '^[^@\\\\s]+@[^@\\\\s]+$'"),
    ]
    lines = source.splitlines()
    cc, priority, _, to = (line for _, _, line in found)
    assert '"cc"' in lines[cc - 1]
    assert '"priority"' in lines[priority - 1]
    assert '"to"' in lines[to - 1]


def test_custom_step__nested_values_are_pointed_at_inside_the_config():
    found = problems(json.dumps(email_definition({**EMAIL, "fail_times": [1]})))
    assert [(path, message) for path, message, _ in found] == [
        ("/steps/0/config/fail_times", "[1] is not of type 'integer'"),
    ]


def test_custom_step__a_templated_value_is_checked_when_rendered():
    config = {"to": "${customer.email}", "subject": "Hello", "fail_times": "${times}"}
    graph = compile_definition(
        json.dumps(email_definition(config)), "json", service_exists=service_exists
    )
    registered = get_step_type("custom_email")
    assert config_errors(registered, graph.node("mail").input, rendered=False) == []
    rendered = {"to": "nobody", "subject": "Hello", "fail_times": 0}
    assert config_errors(registered, rendered, rendered=True) == [
        ("/to", "'nobody' does not match '^[^@\\\\s]+@[^@\\\\s]+$'")
    ]


YAML = """\
kind: WorkflowDefinition
metadata:
  name: mailer
spec:
  startAt: mail
  states:
    - name: mail
      type: task
      resource: "flowdesk:step:custom_email"
      timeout: 20s
      retry:
        - errorEquals: [EmailBounced]
          maxAttempts: 2
      config:
{config}
      end: true
"""


def test_custom_step__yaml_task_with_its_resource_and_config():
    config = '        to: "ann@example.com"\n        subject: "Order ${order_id}"'
    graph = compile_definition(YAML.format(config=config), "yaml", service_exists=service_exists)
    node = graph.node("mail")
    assert node.type == NodeType.SERVICE
    assert node.service == "flowdesk:step:custom_email"
    assert node.input == {"to": "ann@example.com", "subject": "Order ${order_id}", "timeout": "20s"}
    assert node.timeout_seconds == 20
    assert node.retry[0].error_equals == ("EmailBounced",)


def test_custom_step__yaml_schema_violation_at_its_pointer_and_line():
    config = '        to: "ann@example.com"\n        priority: 7'
    source = YAML.format(config=config)
    found = problems(source, "yaml")
    assert [(path, message) for path, message, _ in found] == [
        ("/spec/states/0/config/priority", "7 is not one of ['low', 'normal', 'high']"),
        ("/spec/states/0/config/subject", "'subject' is a required property"),
    ]
    assert "priority: 7" in source.splitlines()[found[0][2] - 1]


def test_custom_step__unknown_step_type_is_the_usual_problem():
    document = email_definition(EMAIL)
    document["steps"][0]["type"] = "custom_sms"
    del document["steps"][0]["config"]["catch"], document["steps"][2]
    [(path, message, _)] = problems(json.dumps(document))
    assert path == "/steps/0/type"
    assert message.startswith("unknown step type 'custom_sms' (expected one of: service_task,")
    assert message.endswith("custom_email, http, publish)")
    yaml_source = YAML.format(config="        to: a@b").replace("custom_email", "custom_sms")
    assert problems(yaml_source, "yaml") == [
        ("/spec/states/0/resource", "unknown step type 'custom_sms'", 9)
    ]


def test_http_step__config_is_checked_by_its_schema():
    document = {
        "name": "caller",
        "steps": [
            {
                "id": "call",
                "type": "http",
                "config": {
                    "method": "FETCH",
                    "headers": {"Authorization": {"secret": "TOKEN", "value": "x"}},
                    "expect_status": [200, 999],
                    "timeout": "soon",
                },
            }
        ],
    }
    found = [(path, message) for path, message, _ in problems(json.dumps(document))]
    paths = sorted(path for path, _ in found)
    assert paths == [
        "/steps/0/config/expect_status/1",
        "/steps/0/config/headers/Authorization",
        "/steps/0/config/method",
        "/steps/0/config/timeout",
        "/steps/0/config/url",
    ]


def test_publish_step__needs_exchange_routing_key_and_message():
    document = {
        "name": "announcer",
        "steps": [{"id": "tell", "type": "publish", "config": {"exchange": "orders"}}],
    }
    assert [(p, m) for p, m, _ in problems(json.dumps(document))] == [
        ("/steps/0/config/message", "'message' is a required property"),
        ("/steps/0/config/routing_key", "'routing_key' is a required property"),
    ]


def test_step_type__refuses_an_invalid_schema_and_a_kind_name():
    with pytest.raises(ValueError, match="config_schema is invalid"):
        step_type("broken", config_schema={"type": "no-such-type"})
    with pytest.raises(ValueError, match="would hide the built-in step type 'end'"):
        step_type("end")(lambda ctx, config: None)


def test_http_step__a_secret_name_cannot_be_a_template():
    document = {
        "name": "caller",
        "steps": [
            {
                "id": "call",
                "type": "http",
                "config": {
                    "url": "https://api.example.com/${path}",
                    "headers": {"Authorization": {"secret": "${which}"}, "X-Case": "${case}"},
                },
            }
        ],
    }
    [(path, message, _)] = problems(json.dumps(document))
    assert path == "/steps/0/config/headers/Authorization"
    assert "is not valid under any of the given schemas" in message

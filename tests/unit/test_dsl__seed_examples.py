"""The two definitions the product was conceived from, copied verbatim from the seeds."""

from pathlib import Path

import pytest

from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import RetryRule
from processes.nodes import NodeType

FIXTURES = Path(__file__).parent / "fixtures"


def test_seed_000_yaml_compiles():
    source = (FIXTURES / "seed_000_order_processing.yaml").read_text(encoding="utf-8")
    known = {"validate-order", "check-inventory", "create-payment"}
    graph = compile_definition(source, "yaml", service_exists=known.__contains__)

    assert (graph.key, graph.name, graph.start) == (
        "order-processing-workflow",
        "order-processing-workflow",
        "validate_order",
    )
    assert (graph.version_label, graph.description) == ("1.0", "Order processing workflow")
    assert [(n.id, n.type, n.service, n.next) for n in graph.nodes.values()] == [
        ("validate_order", NodeType.SERVICE, "validate-order", ("check_inventory",)),
        ("check_inventory", NodeType.SERVICE, "check-inventory", ("create_payment",)),
        ("create_payment", NodeType.SERVICE, "create-payment", ()),
    ]
    assert all(node.timeout_seconds == 30 for node in graph.nodes.values())
    assert graph.node("validate_order").retry == (
        RetryRule(("States.ALL",), interval_seconds=2, max_attempts=3, backoff_rate=2.0),
    )
    assert graph.node("check_inventory").retry == ()


def test_seed_001_json_is_rejected_for_exactly_its_two_unknown_targets():
    source = (FIXTURES / "seed_001_order_process.json").read_text(encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        compile_definition(
            source, "json", service_exists={"OrderValidationService.validate"}.__contains__
        )
    assert [(p.path, p.step, p.message, p.line) for p in caught.value.problems] == [
        ("/steps/1/next/0", "payment_check", "unknown step 'fulfill_order'", 38),
        ("/steps/1/next/1", "payment_check", "unknown step 'cancel_order'", 38),
    ]


def test_seed_001_json_compiles_once_its_targets_exist():
    source = (FIXTURES / "seed_001_order_process.json").read_text(encoding="utf-8")
    completed = source.replace(
        "  ]\n}",
        '  ,{"id": "fulfill_order", "type": "end"}, {"id": "cancel_order", "type": "end"}]\n}',
    )
    graph = compile_definition(completed, "json")
    assert graph.key == "订单处理流程"
    validate = graph.node("validate_order")
    assert (validate.name, validate.service, validate.timeout_seconds) == (
        "验证订单",
        "OrderValidationService.validate",
        30.0,
    )
    assert validate.retry == (RetryRule(("States.ALL",), 1.0, 3, 2.0),)
    payment = graph.node("payment_check")
    assert (payment.assignee, set(payment.form)) == ("finance_team", {"payment_verified", "notes"})
    assert payment.next == ("fulfill_order", "cancel_order")
    assert {name: spec.type for name, spec in graph.variables.items()} == {
        "order_id": "string",
        "customer_id": "string",
        "total_amount": "number",
        "status": "string",
    }

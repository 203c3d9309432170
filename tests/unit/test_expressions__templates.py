"""Templates render against the variables: a lone ${expr} keeps its type, text interpolates."""

import pytest

from processes.engine.expressions import (
    FUNCTIONS,
    ExpressionError,
    condition,
    evaluate,
    parse,
    render,
)

VARIABLES = {
    "amount": 1500,
    "rate": 0.5,
    "approved": True,
    "name": "Ann",
    "nothing": None,
    "user": {"email": "ann@example.com", "address": {"city": "Lyon"}, "roles": ["a", "b"]},
    "items": [{"sku": "X1", "qty": 2}, {"sku": "Y2", "qty": 3}],
    "e-mail": "not reachable as a name",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${amount}", 1500),
        ("${rate}", 0.5),
        ("${approved}", True),
        ("${nothing}", None),
        ("${user}", VARIABLES["user"]),
        ("${user.roles}", ["a", "b"]),
        ("${amount > 1000}", True),
        ("${[amount, name]}", [1500, "Ann"]),
        ("${{'total': amount * 2}}", {"total": 3000}),
    ],
)
def test_a_lone_expression_keeps_the_value_type(template, expected):
    assert render(template, VARIABLES) == expected
    assert type(render(template, VARIABLES)) is type(expected)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi ${name}", "Hi Ann"),
        ("${name} owes ${amount}", "Ann owes 1500"),
        ("[${nothing}]", "[]"),
        ("${approved}!", "True!"),
        (" ${amount}", " 1500"),
        ("${'}'} and ${'${'}", "} and ${"),
        ("${ {'a': 1}['a'] }", 1),
    ],
)
def test_text_around_expressions_interpolates(template, expected):
    assert render(template, VARIABLES) == expected


def test_strings_without_templates_are_returned_unchanged():
    assert render("no templates, not even $amount or {amount}", VARIABLES) == (
        "no templates, not even $amount or {amount}"
    )
    assert render("", VARIABLES) == ""


def test_render_walks_dicts_and_lists():
    value = {"to": "${user.email}", "lines": ["${items[0].sku}", 7, None], "n": "${amount}"}
    assert render(value, VARIABLES) == {
        "to": "ann@example.com",
        "lines": ["X1", 7, None],
        "n": 1500,
    }


def test_dotted_paths_and_subscripts_reach_into_nested_data():
    assert evaluate("user.address.city", VARIABLES) == "Lyon"
    assert evaluate("user['address']['city']", VARIABLES) == "Lyon"
    assert evaluate("items[1].qty", VARIABLES) == 3
    assert evaluate("items[-1].sku", VARIABLES) == "Y2"
    assert evaluate("user.roles[amount - 1499]", VARIABLES) == "b"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 4", 3),
        ("-amount", -1500),
        ("'a' + 'b'", "ab"),
        ("[1] + [2]", [1, 2]),
        ("1 < amount <= 1500", True),
        ("amount != 1500", False),
        ("'b' in user.roles", True),
        ("'c' not in user.roles", True),
        ("'email' in user", True),
        ("'nn' in name", True),
        ("'x' in name", False),
        ("approved and amount > 1000", True),
        ("approved && amount < 1000", False),
        ("!approved || amount > 1", True),
        ("not approved", False),
        ("amount != 1 && name == 'Ann'", True),
        ("'a && b || !c'", "a && b || !c"),
        ("nothing or 'fallback'", "fallback"),
        ("'big' if amount > 1000 else 'small'", "big"),
        ("true", True),
        ("false or null", None),
        ("True and not False", True),
        ("None", None),
    ],
)
def test_operators(expression, expected):
    assert evaluate(expression, VARIABLES) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("len(user.roles)", 2),
        ("len(name)", 3),
        ("lower(name)", "ann"),
        ("upper(name)", "ANN"),
        ("str(amount)", "1500"),
        ("str(nothing)", ""),
        ("int('42')", 42),
        ("int(2.9)", 2),
        ("float('2.5')", 2.5),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("abs(-3)", 3),
        ("min(3, 1, 2)", 1),
        ("max([3, 1, 2])", 3),
        ("contains(user.roles, 'a')", True),
        ("contains(name, 'x')", False),
    ],
)
def test_whitelisted_functions(expression, expected):
    assert evaluate(expression, VARIABLES) == expected


def test_the_function_set_is_small_and_documented():
    assert set(FUNCTIONS) == {
        "len", "lower", "upper", "str", "int", "float", "round", "abs", "min", "max", "contains",
    }  # fmt: skip


def test_short_circuit_skips_the_side_that_would_fail():
    assert evaluate("false and missing", {}) is False
    assert evaluate("true or missing", {}) is True
    assert evaluate("1 if true else missing", {}) == 1


def test_expressions_may_span_lines():
    assert render("${amount > 1000\n  and approved}", VARIABLES) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${amount > 1000}", True),
        ("${amount <= 1000}", False),
        ("amount > 1000", True),
        ("name", True),
        ("${nothing}", False),
        ("${user.roles}", True),
        ("len(user.roles) == 3", False),
    ],
)
def test_condition_takes_templates_or_bare_expressions(text, expected):
    assert condition(text, VARIABLES) is expected


def test_condition_raises_expression_error_for_a_bad_condition():
    with pytest.raises(ExpressionError):
        condition("${amount >}", VARIABLES)
    with pytest.raises(ExpressionError):
        condition("missing > 1", VARIABLES)


def test_parse_is_cached():
    assert parse("Hi ${name}") is parse("Hi ${name}")


def test_condition__text_around_a_template_is_an_error_not_always_true():
    from processes.engine.expressions import ExpressionError, condition

    assert condition(" ${a > 1} ", {"a": 2}) is True
    with pytest.raises(ExpressionError, match="single"):
        condition("${a} and ${b}", {"a": False, "b": False})

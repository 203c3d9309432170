"""The expression evaluator refuses everything outside its small language, with a reason."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processes.engine.expressions import (
    MAX_LENGTH,
    ExpressionError,
    evaluate,
    parse,
    parse_expression,
    render,
)

VARIABLES = {"amount": 1500, "name": "Ann", "user": {"email": "ann@example.com"}, "items": [1, 2]}


def reason(expression: str, variables: dict | None = None) -> str:
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, VARIABLES if variables is None else variables)
    return caught.value.reason


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("().__class__", "names starting with '__' are not allowed"),
        ("().__class__.__bases__", "names starting with '__' are not allowed"),
        ("user.__class__", "names starting with '__' are not allowed"),
        ("__builtins__", "names starting with '__' are not allowed"),
        ("__import__('os')", "unknown function '__import__'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("'a'.upper()", "only these functions can be called"),
        ("name.upper()", "only these functions can be called"),
        ("(lambda: 1)()", "only these functions can be called"),
        ("lambda: 1", "lambda is not allowed"),
        ("[x for x in items]", "comprehensions are not allowed"),
        ("{x: 1 for x in items}", "comprehensions are not allowed"),
        ("(y := 1)", "assignment (:=) is not allowed"),
        ("f'{amount}'", "f-strings are not allowed"),
        ("9**9**9", "the power operator '**' is not allowed"),
        ("'a' * 10**9", "the power operator '**' is not allowed"),
        ("amount is None", "'is' is not allowed"),
        ("amount << 2", "bitwise operators are not allowed"),
        ("~amount", "bitwise operators are not allowed"),
        ("items[0:1]", "slices are not allowed"),
        ("{1, 2}", "set literals are not allowed"),
        ("[*items]", "unpacking with '*' is not allowed"),
        ("{**user}", "unpacking with '**' is not allowed"),
        ("b'bytes'", "only numbers, strings, true, false and null are allowed"),
        ("1j", "only numbers, strings, true, false and null are allowed"),
        ("len(items, key=1)", "len() takes no keyword arguments"),
        ("len()", "len() takes 1 argument(s), not 0"),
        ("contains(items)", "contains() takes 2 argument(s), not 1"),
    ],
)
def test_constructs_outside_the_language_are_rejected_when_parsed(expression, expected):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(expression)
    assert expected in caught.value.reason


def test_attribute_access_on_a_string_is_not_python_attribute_access():
    assert "cannot read '.upper' of a string" in reason("'a'.upper")
    assert "cannot read '.real' of an integer" in reason("amount.real")


def test_dotted_paths_read_only_dict_keys_not_dict_methods():
    assert reason("user.keys") == "user has no key 'keys'"


def test_huge_string_repetition_is_capped():
    assert "longer than 10000" in reason("'a' * 1000000000")
    assert "longer than 10000" in reason("[1] * 20000")
    assert "longer than 10000" in reason("s + s", {"s": "x" * 6000})
    assert evaluate("'ab' * 3", {}) == "ababab"


def test_huge_integers_are_capped():
    assert "too large" in reason("n * n * n * n * n", {"n": 10**300})


def test_deep_nesting_is_rejected_not_a_crash():
    assert "nested parentheses" in reason("(" * 300 + "1" + ")" * 300)
    assert "more than 200 parts" in reason("+".join(["1"] * 300))
    assert "more than 200 parts" in reason("-" * 500 + "1")


def test_long_expressions_are_rejected():
    too_long = "1 + " * (MAX_LENGTH // 4) + "1"
    assert f"longer than {MAX_LENGTH} characters" in reason(too_long)


def test_runtime_errors_are_expression_errors():
    assert reason("amount > 'a'") == "cannot compare an integer with a string using '>'"
    assert reason("'a' > 1") == "cannot compare a string with an integer using '>'"
    assert reason("amount / 0") == "division by zero"
    assert reason("amount // 0") == "division by zero"
    assert reason("amount % 0") == "division by zero"
    assert reason("missing + 1") == "unknown variable 'missing'"
    assert reason("user.phone") == "user has no key 'phone'"
    assert reason("items[5]") == "index 5 is out of range for a list of length 2"
    assert reason("items['a']") == "an index into a list must be an integer, not a string"
    assert reason("'a' - 1") == "cannot apply '-' to a string and an integer"
    assert reason("-name") == "cannot apply unary '-' to a string"
    assert reason("1 in amount") == "cannot look for a value in an integer"
    assert reason("1 in name") == "cannot look for an integer in a string"
    assert reason("int('abc')") == "cannot convert a string 'abc' to an integer"
    assert reason("lower(1)") == "lower() needs a string, not an integer"
    assert reason("min([])") == "min() needs a non-empty list or several values"
    assert reason("max(1, 'a')") == "max() cannot compare values of different types"
    assert reason("len(amount)") == "len() needs a string, list or object, not an integer"
    assert reason("round(1.5, 100)") == "round() takes a whole number of digits between -15 and 15"
    assert reason("{[1]: 2}") == "object keys must be strings or numbers, not a list"


def test_error_message_names_the_expression_and_the_reason():
    with pytest.raises(ExpressionError) as caught:
        parse("${amount > }")
    assert str(caught.value) == "cannot evaluate ${amount > }: invalid syntax"
    assert caught.value.expression == "${amount > }"
    assert caught.value.reason == "invalid syntax"
    assert isinstance(caught.value, ValueError)


def test_a_runtime_error_in_a_template_quotes_the_template_part():
    with pytest.raises(ExpressionError) as caught:
        render("Total: ${amount / 0}", VARIABLES)
    assert str(caught.value) == "cannot evaluate ${amount / 0}: division by zero"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${amount > }", "invalid syntax"),
        ("${}", "the expression is empty"),
        ("${amount", "missing the closing '}'"),
        ("ok ${a} then ${b +}", "invalid syntax"),
    ],
)
def test_parse_reports_syntax_errors_in_any_part(template, expected):
    with pytest.raises(ExpressionError) as caught:
        parse(template)
    assert caught.value.reason == expected


def test_variables_are_the_only_names():
    assert reason("amount", {}) == "unknown variable 'amount'"
    assert evaluate("len", {"len": 3}) == 3


TOKENS = st.sampled_from(
    [
        "amount", "name", "user", "items", ".", "email", "[", "]", "(", ")", "{", "}", ":", ",",
        "0", "1", "-1", "2.5", "'a'", '"}"', "true", "null", "+", "-", "*", "/", "//", "%", "**",
        "==", "<", ">=", "in", "not", "and", "or", "&&", "||", "!", "if", "else", "len", "min",
        "max", "int", "str", "round", "contains", "__class__", "lambda", "x", "for",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(TOKENS, max_size=12).map(" ".join) | st.text(max_size=40))
def test_any_text_evaluates_or_raises_expression_error(text):
    try:
        evaluate(text, VARIABLES)
    except ExpressionError as error:
        assert error.reason
    try:
        render("${" + text + "}", VARIABLES)
    except ExpressionError as error:
        assert error.reason

"""Safe expressions over instance variables: ``${amount > 1000}``, ``"Hi ${user.name}"``.

Definitions are written by process authors and run on the server, so expressions are never
handed to ``eval``: the text is parsed with :mod:`ast`, every node is checked against a
whitelist, and a small tree walker computes the value over a mapping of variables.

The language, in short:

* literals: numbers, strings, ``true``/``false``/``null`` (and ``True``/``False``/``None``),
  lists ``[1, 2]``, objects ``{"a": 1}``;
* names are top-level variables; ``user.email`` reads the key ``email`` of the object
  ``user`` (only object keys, never Python attributes); ``items[0]``, ``user["e-mail"]``;
* ``== != < <= > >= in, not in``, ``and or not`` (also ``&& || !``),
  ``+ - * / // %`` and unary ``-``, parentheses, ``a if condition else b``;
* the functions in :data:`FUNCTIONS`: ``len lower upper str int float round abs min max
  contains``.

Cost is bounded: at most :data:`MAX_LENGTH` characters and :data:`MAX_NODES` operands and
operators per expression, no ``**``, and strings/lists built by ``+`` or ``*`` stay under
:data:`MAX_SIZE` items. Every failure, at parse or at run time, is an :class:`ExpressionError`.
There is no escape for a literal ``${`` in a template.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from processes.engine.kinds import kind_of

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_SIZE = 10_000
MAX_INT_BITS = 4096


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; `reason` says why in plain words."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(expression, reason)
        self.expression = expression
        self.reason = reason

    def __str__(self) -> str:
        shown = self.expression if len(self.expression) <= 80 else self.expression[:77] + "..."
        return f"cannot evaluate {shown}: {self.reason}"


class _EvalError(Exception):
    """Raised inside the walker; the public entry points add the expression text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Expression:
    """A parsed bare expression; `shown` is how errors quote it (``${...}`` in templates)."""

    shown: str
    tree: ast.expr

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        try:
            return _evaluate(self.tree, variables)
        except _EvalError as error:
            raise ExpressionError(self.shown, error.reason) from None
        # A safety net: every expected failure is an _EvalError already.
        except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as error:
            raise ExpressionError(self.shown, str(error) or type(error).__name__) from None


@dataclass(frozen=True)
class Template:
    """A string with ``${...}`` parts; a lone ``${expr}`` keeps the value's own type."""

    parts: tuple[str | Expression, ...]

    def render(self, variables: Mapping[str, Any]) -> Any:
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0].evaluate(variables)
        return "".join(
            part if isinstance(part, str) else _to_text(part.evaluate(variables))
            for part in self.parts
        )


@lru_cache(maxsize=2048)
def parse(text: str) -> Template:
    """Compile a template; raise ExpressionError when a ``${...}`` part is malformed."""
    parts: list[str | Expression] = []
    position = 0
    while (start := text.find("${", position)) != -1:
        end = _closing_brace(text, start + 2)
        if end is None:
            raise ExpressionError(text[start:], "missing the closing '}'")
        if start > position:
            parts.append(text[position:start])
        parts.append(_compile(text[start + 2 : end], shown=text[start : end + 1]))
        position = end + 1
    if position < len(text) or not parts:
        parts.append(text[position:])
    return Template(tuple(parts))


@lru_cache(maxsize=2048)
def parse_expression(text: str) -> Expression:
    """Compile a bare expression (no ``${}``); raise ExpressionError when it is malformed."""
    return _compile(text, shown=text)


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render every template inside `value` (strings, and dicts/lists of them)."""
    if isinstance(value, str):
        return parse(value).render(variables) if "${" in value else value
    if isinstance(value, dict):
        return {key: render(item, variables) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(item, variables) for item in value]
    return value


def evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    return parse_expression(expression).evaluate(variables)


def parse_condition(text: str) -> Expression:
    """A gateway condition: one ``${a > 1}`` or a bare ``a > 1``.

    Text around or between ``${...}`` parts would make a string, and any string is true:
    such a condition is an error, not a branch always taken.
    """
    if "${" not in text:
        return parse_expression(text)
    parts = parse(text.strip()).parts
    if len(parts) != 1 or not isinstance(parts[0], Expression):
        raise ExpressionError(
            text, "a condition is a single ${...} expression, with no text around it"
        )
    return parts[0]


def condition(text: str, variables: Mapping[str, Any]) -> bool:
    """Truth of a gateway condition written as a template (``${a > 1}``) or bare (``a > 1``)."""
    return bool(parse_condition(text).evaluate(variables))


# --------------------------------------------------------------------------- parsing


def _closing_brace(text: str, start: int) -> int | None:
    """Index of the ``}`` closing a ``${`` whose body starts at `start`, skipping strings."""
    depth, quote, index = 0, "", start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return None


def _pythonize(source: str) -> str:
    """Spell ``&& || !`` as Python and drop line breaks, leaving string literals alone."""
    out: list[str] = []
    quote, index = "", 0
    while index < len(source):
        char, pair = source[index], source[index : index + 2]
        if quote:
            if char == "\\":
                out.append(pair)
                index += 2
                continue
            if char == quote:
                quote = ""
            out.append(char)
        elif char in "'\"":
            quote = char
            out.append(char)
        elif pair in ("&&", "||"):
            out.append(" and " if pair == "&&" else " or ")
            index += 2
            continue
        elif char == "!" and pair != "!=":
            out.append(" not ")
        elif char in "\r\n\t":
            out.append(" ")
        else:
            out.append(char)
        index += 1
    return "".join(out).strip()


def _compile(source: str, *, shown: str) -> Expression:
    if len(source) > MAX_LENGTH:
        raise ExpressionError(shown, f"the expression is longer than {MAX_LENGTH} characters")
    if not source.strip():
        raise ExpressionError(shown, "the expression is empty")
    try:
        tree = ast.parse(_pythonize(source), mode="eval").body
    except SyntaxError as error:
        raise ExpressionError(shown, error.msg or "invalid syntax") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(shown, "invalid syntax") from None
    if sum(isinstance(node, ast.expr) for node in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(shown, f"the expression has more than {MAX_NODES} parts")
    for node in ast.walk(tree):
        reason = _rejection(node)
        if reason:
            raise ExpressionError(shown, reason)
    return Expression(shown=shown, tree=tree)


_ALLOWED_NODES = (
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Compare, ast.Call, ast.Constant,
    ast.Name, ast.Attribute, ast.Subscript, ast.List, ast.Tuple, ast.Dict,
    ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)  # fmt: skip

_REJECTED = {
    ast.Pow: "the power operator '**' is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Set: "set literals are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Starred: "unpacking with '*' is not allowed",
    ast.Is: "'is' is not allowed, use == or !=",
    ast.IsNot: "'is not' is not allowed, use !=",
}


def _rejection(node: ast.AST) -> str:
    """Why `node` may not appear in an expression, or "" when it may."""
    if not isinstance(node, _ALLOWED_NODES):
        if isinstance(node, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift,
                             ast.Invert, ast.MatMult)):  # fmt: skip
            return "bitwise operators are not allowed"
        return _REJECTED.get(type(node), f"'{type(node).__name__}' is not allowed here")
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, type(None))):
        return "only numbers, strings, true, false and null are allowed as literals"
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        return f"names starting with '__' are not allowed ({node.id})"
    if isinstance(node, ast.Attribute) and node.attr.startswith("__"):
        return f"names starting with '__' are not allowed ({node.attr})"
    if isinstance(node, ast.Dict) and None in node.keys:
        return "unpacking with '**' is not allowed"
    if isinstance(node, ast.Call):
        return _call_rejection(node)
    return ""


def _call_rejection(node: ast.Call) -> str:
    allowed = ", ".join(FUNCTIONS)
    if not isinstance(node.func, ast.Name):
        return f"only these functions can be called: {allowed}"
    name = node.func.id
    if name not in FUNCTIONS:
        return f"unknown function '{name}' (available: {allowed})"
    if node.keywords:
        return f"{name}() takes no keyword arguments"
    low, high = FUNCTIONS[name].arity
    count = len(node.args)
    if count < low or (high is not None and count > high):
        expected = f"{low}" if low == high else f"{low} to {high}" if high else f"at least {low}"
        return f"{name}() takes {expected} argument(s), not {count}"
    return ""


# --------------------------------------------------------------------------- evaluation

_LITERAL_NAMES = {"true": True, "false": False, "null": None}


def _evaluate(node: ast.expr, variables: Mapping[str, Any]) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name in _LITERAL_NAMES:
                return _LITERAL_NAMES[name]
            if name not in variables:
                raise _EvalError(f"unknown variable '{name}'")
            return variables[name]
        case ast.Attribute(value=owner, attr=key):
            return _read_key(_evaluate(owner, variables), key, owner)
        case ast.Subscript(value=owner, slice=index):
            return _index(_evaluate(owner, variables), _evaluate(index, variables))
        case ast.BoolOp(op=op, values=operands):
            result: Any = None
            for operand in operands:
                result = _evaluate(operand, variables)
                if bool(result) is isinstance(op, ast.Or):
                    return result
            return result
        case ast.UnaryOp(op=op, operand=operand):
            return _unary(op, _evaluate(operand, variables))
        case ast.BinOp(left=left, op=op, right=right):
            return _binary(op, _evaluate(left, variables), _evaluate(right, variables))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _evaluate(left, variables)
            for op, comparator in zip(ops, comparators, strict=True):
                other = _evaluate(comparator, variables)
                if not _compare(op, current, other):
                    return False
                current = other
            return True
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _evaluate(body if _evaluate(test, variables) else orelse, variables)
        case ast.List(elts=items):
            return [_evaluate(item, variables) for item in items]
        case ast.Tuple(elts=items):
            return tuple(_evaluate(item, variables) for item in items)
        case ast.Dict(keys=keys, values=values):
            return _build_object(keys, values, variables)
        case ast.Call(func=ast.Name(id=name), args=args):
            return FUNCTIONS[name].call(*(_evaluate(arg, variables) for arg in args))
    raise _EvalError(f"'{type(node).__name__}' is not allowed here")  # unreachable after _compile


def _read_key(owner: Any, key: str, owner_node: ast.expr) -> Any:
    if not isinstance(owner, Mapping):
        raise _EvalError(
            f"cannot read '.{key}' of {kind_of(owner)}: dotted paths only read keys of objects"
        )
    if key not in owner:
        raise _EvalError(f"{ast.unparse(owner_node)} has no key '{key}'")
    return owner[key]


def _index(owner: Any, index: Any) -> Any:
    if isinstance(owner, Mapping):
        try:
            return owner[index]
        except (KeyError, TypeError):
            raise _EvalError(f"the object has no key {index!r}") from None
    if isinstance(owner, (list, tuple, str)):
        if isinstance(index, bool) or not isinstance(index, int):
            raise _EvalError(
                f"an index into {kind_of(owner)} must be an integer, not {kind_of(index)}"
            )
        if not -len(owner) <= index < len(owner):
            raise _EvalError(
                f"index {index} is out of range for {kind_of(owner)} of length {len(owner)}"
            )
        return owner[index]
    raise _EvalError(f"cannot index {kind_of(owner)}")


def _build_object(
    keys: list[ast.expr | None], values: list[ast.expr], variables: Mapping[str, Any]
) -> dict[Any, Any]:
    built: dict[Any, Any] = {}
    for key_node, value_node in zip(keys, values, strict=True):
        # A None key is '**' unpacking, which _compile rejects.
        key = _evaluate(cast(ast.expr, key_node), variables)
        if not isinstance(key, (str, int, float, type(None))):
            raise _EvalError(f"object keys must be strings or numbers, not {kind_of(key)}")
        built[key] = _evaluate(value_node, variables)
    return built


def _unary(op: ast.unaryop, value: Any) -> Any:
    if isinstance(op, ast.Not):
        return not value
    if not _is_number(value):
        raise _EvalError(f"cannot apply unary '{_SYMBOLS[type(op)]}' to {kind_of(value)}")
    return -value if isinstance(op, ast.USub) else +value


def _binary(op: ast.operator, left: Any, right: Any) -> Any:
    symbol = _SYMBOLS[type(op)]
    if _is_number(left) and _is_number(right):
        return _arithmetic(op, symbol, left, right)
    if isinstance(op, ast.Add) and type(left) is type(right) and isinstance(left, (str, list)):
        _check_size(len(left) + len(right))
        return left + right
    if isinstance(op, ast.Mult):
        sequence, count = (left, right) if _is_number(right) else (right, left)
        if isinstance(sequence, (str, list)) and isinstance(count, int):
            _check_size(len(sequence) * max(count, 0))
            return sequence * count
    raise _EvalError(f"cannot apply '{symbol}' to {kind_of(left)} and {kind_of(right)}")


def _arithmetic(op: ast.operator, symbol: str, left: float, right: float) -> Any:
    if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
        raise _EvalError("division by zero")
    try:
        result = _OPERATIONS[type(op)](left, right)
    except OverflowError:
        raise _EvalError(f"the result of '{symbol}' is too large") from None
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise _EvalError(f"the result of '{symbol}' is too large")
    return result


def _check_size(size: int) -> None:
    if size > MAX_SIZE:
        raise _EvalError(f"the result would be longer than {MAX_SIZE} items or characters")


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, (ast.In, ast.NotIn)):
        return _contains(right, left) is isinstance(op, ast.In)
    try:
        return bool(_COMPARISONS[type(op)](left, right))
    except TypeError:
        raise _EvalError(
            f"cannot compare {kind_of(left)} with {kind_of(right)} using '{_SYMBOLS[type(op)]}'"
        ) from None


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        if not isinstance(item, str):
            raise _EvalError(f"cannot look for {kind_of(item)} in a string")
        return item in container
    if isinstance(container, (list, tuple, Mapping)):
        try:
            return item in container
        except TypeError:
            raise _EvalError(f"cannot look for {kind_of(item)} in an object") from None
    raise _EvalError(f"cannot look for a value in {kind_of(container)}")


_OPERATIONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}
_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.USub: "-", ast.UAdd: "+", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=",
    ast.Gt: ">", ast.GtE: ">=",
}  # fmt: skip


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))


def _to_text(value: Any) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class Function:
    call: Callable[..., Any]
    arity: tuple[int, int | None]  # (fewest, most) arguments; None = no upper bound


def _length(value: Any) -> int:
    if not isinstance(value, (str, list, tuple, Mapping)):
        raise _EvalError(f"len() needs a string, list or object, not {kind_of(value)}")
    return len(value)


def _text_function(name: str, method: Callable[[str], str]) -> Callable[[Any], str]:
    def call(value: Any) -> str:
        if not isinstance(value, str):
            raise _EvalError(f"{name}() needs a string, not {kind_of(value)}")
        return method(value)

    return call


def _to_int(value: Any) -> int:
    try:
        if isinstance(value, str):
            return int(value.strip())
        if _is_number(value):
            return int(value)
    except (ValueError, OverflowError):
        pass
    raise _EvalError(f"cannot convert {kind_of(value)} {value!r:.40} to an integer")


def _to_float(value: Any) -> float:
    try:
        if isinstance(value, str) or _is_number(value):
            return float(value)
    except (ValueError, OverflowError):
        pass
    raise _EvalError(f"cannot convert {kind_of(value)} {value!r:.40} to a number")


def _round(value: Any, digits: Any = None) -> float:
    if not _is_number(value):
        raise _EvalError(f"round() needs a number, not {kind_of(value)}")
    if digits is None:
        return round(value)
    if isinstance(digits, bool) or not isinstance(digits, int) or abs(digits) > 15:
        raise _EvalError("round() takes a whole number of digits between -15 and 15")
    return round(value, digits)


def _abs(value: Any) -> float:
    if not _is_number(value):
        raise _EvalError(f"abs() needs a number, not {kind_of(value)}")
    return abs(value)


def _extreme(name: str, pick: Callable[[Any], Any]) -> Callable[..., Any]:
    def call(*values: Any) -> Any:
        items = values[0] if len(values) == 1 else values
        if not isinstance(items, (list, tuple)) or not items:
            raise _EvalError(f"{name}() needs a non-empty list or several values")
        try:
            return pick(items)
        except TypeError:
            raise _EvalError(f"{name}() cannot compare values of different types") from None

    return call


FUNCTIONS: dict[str, Function] = {
    "len": Function(_length, (1, 1)),
    "lower": Function(_text_function("lower", str.lower), (1, 1)),
    "upper": Function(_text_function("upper", str.upper), (1, 1)),
    "str": Function(_to_text, (1, 1)),
    "int": Function(_to_int, (1, 1)),
    "float": Function(_to_float, (1, 1)),
    "round": Function(_round, (1, 2)),
    "abs": Function(_abs, (1, 1)),
    "min": Function(_extreme("min", min), (1, None)),
    "max": Function(_extreme("max", max), (1, None)),
    "contains": Function(lambda container, item: _contains(container, item), (2, 2)),
}

"""Filter expressions (`[?(...)]`): the JavaScript subset Spectral rulesets use, compiled once.

Spectral evaluates filters as JavaScript, so apigov keeps JavaScript's meaning where rulesets
depend on it: `undefined` is distinct from `null`, `===` does not coerce, `&&`/`||` return an
operand, reading a property of `undefined` or `null` is an error, and an error makes the filter
reject the node (as Spectral's engines do).

Supported: `@` (the candidate), `@property` / `@key` (its key), `@parent`, `@parentProperty`,
`@path`, member access (`.name`, `['name']`, `[0]`), `.length`, `.constructor.name`, method
calls `includes`, `match`, `test`, `startsWith`, `endsWith`, `indexOf`, `toLowerCase`,
`toUpperCase`, literals (strings, numbers, `true`, `false`, `null`, `undefined`, `void 0`,
`/regex/flags`), `typeof`, `!`, `===`, `!==`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`,
and parentheses.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class _Undefined:
    """JavaScript's `undefined`: what a missing property reads as."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = _Undefined()


@dataclass(slots=True)  # not frozen: one is made per filter evaluation, and a frozen
class FilterContext:  # dataclass's __init__ sets each field through object.__setattr__
    """What a filter sees: the candidate node, its key, its parent and its path."""

    value: Any
    key: str | int
    parent: Any
    path: tuple[str | int, ...]


class JsError(Exception):
    """What JavaScript would throw (reading a property of undefined, calling a non-function)."""


Expression = Callable[[FilterContext], Any]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<at>@[A-Za-z]*)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[<>!().,\[\]/])
    )""",
    re.VERBOSE,
)


def truthy(value: Any) -> bool:
    """JavaScript truthiness (an empty list or object is truthy; NaN is not)."""
    if value is UNDEFINED or value is None or value is False:
        return False
    kind = type(value)
    if kind is dict or kind is list or value is True:  # what filters test most (`@ && ...`)
        return True
    if isinstance(value, int | float):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


class Predicate:
    """A compiled filter. `containers_only`: it can only hold for objects and arrays (it reads
    a property of `@` that a string, number, boolean or null does not have), so the walker need
    not evaluate it on scalars, which are most of a document's nodes."""

    __slots__ = ("containers_only", "expression", "keys", "source")

    def __init__(
        self,
        source: str,
        expression: Expression,
        containers_only: bool,
        keys: frozenset[str] | None = None,
    ) -> None:
        self.source = source
        self.expression = expression
        self.containers_only = containers_only
        self.keys = keys
        """When set: the filter can only hold for an object that has one of these keys."""

    def __call__(self, context: FilterContext) -> bool:
        keys = self.keys
        if keys is not None and (
            not isinstance(context.value, dict) or keys.isdisjoint(context.value)
        ):
            return False
        try:
            return truthy(self.expression(context))
        except (JsError, TypeError, ValueError, re.error, RecursionError):
            return False


@functools.lru_cache(maxsize=1024)
def compile_filter(source: str) -> Predicate:
    """Compile a filter body (without `?(` and `)`); the same text gives the same predicate."""
    parser = _Parser(source)
    expression = parser.parse()
    return Predicate(
        source,
        expression,
        parser.fact(expression) in _NEEDS_CONTAINER,
        parser.keys.get(id(expression)),
    )


# What the parser knows about an expression when `@` is a scalar (string, number, ...):
_AT_ITSELF = "at"  # it is `@`
_UNDEFINED_ON_SCALAR = "undefined"  # `@.name`: undefined for a scalar
_THROWS_ON_SCALAR = "throws"  # `@.name.more`, `@.name(...)`: reading a property of undefined
_FALSE_ON_SCALAR = "false"  # falsy (or throws) whenever `@` is a scalar
_LITERAL = "literal"  # a literal that is neither null nor undefined
_NULLISH = "nullish"  # null, undefined, void 0
_NEEDS_CONTAINER = frozenset({_UNDEFINED_ON_SCALAR, _THROWS_ON_SCALAR, _FALSE_ON_SCALAR})
_SCALAR_MEMBERS = frozenset({"length", "constructor"})  # what scalars do have


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.position = 0
        self.peeked: tuple[str, str] | None = None
        self.facts: dict[int, str] = {}
        # id(expression) -> it is falsy unless `@` is an object with one of these keys
        self.keys: dict[int, frozenset[str]] = {}

    def fact(self, expression: Expression) -> str | None:
        return self.facts.get(id(expression))

    def note(self, expression: Expression, fact: str | None) -> Expression:
        if fact is not None:
            self.facts[id(expression)] = fact
        return expression

    # ---- tokens --------------------------------------------------------------------------

    def peek(self) -> tuple[str, str]:
        if self.peeked is None:
            self.peeked = self._next()
        return self.peeked

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.peeked = None
        return token

    def expect(self, text: str) -> None:
        _kind, value = self.take()
        if value != text:
            raise ValueError(f"expected {text!r}, found {value or 'the end'!r} in filter")

    def _next(self) -> tuple[str, str]:
        rest = self.source[self.position :]
        if not rest.strip():
            self.position = len(self.source)
            return ("end", "")
        match = _TOKEN.match(self.source, self.position)
        if not match or match.lastgroup is None:
            raise ValueError(f"cannot read filter expression at {rest.strip()[:20]!r}")
        self.position = match.end()
        return (match.lastgroup, match.group(match.lastgroup))

    def regex_literal(self) -> Expression:
        # The opening '/' was consumed; read up to the closing unescaped '/', then the flags.
        end = self.position
        escaped = in_class = False
        while end < len(self.source):
            char = self.source[end]
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                break
            end += 1
        else:
            raise ValueError("unterminated regular expression in filter")
        body = self.source[self.position : end]
        flags_match = re.compile(r"[a-z]*").match(self.source, end + 1)
        assert flags_match is not None
        self.position = flags_match.end()
        pattern = compile_js_regex(body, flags_match.group())
        return lambda _context: pattern

    # ---- grammar (precedence climbing) ---------------------------------------------------

    def parse(self) -> Expression:
        expression = self.parse_or()
        if self.peek()[0] != "end":
            raise ValueError(f"unexpected {self.peek()[1]!r} in filter {self.source!r}")
        return expression

    def parse_or(self) -> Expression:
        left = self.parse_and()
        while self.peek()[1] == "||":
            self.take()
            right = self.parse_and()
            both = self.fact(left) in _NEEDS_CONTAINER and self.fact(right) in _NEEDS_CONTAINER
            keys_left, keys_right = self.keys.get(id(left)), self.keys.get(id(right))
            combined = _or(left, right)
            if keys_left is not None and keys_right is not None:
                self.keys[id(combined)] = keys_left | keys_right
            left = self.note(combined, _FALSE_ON_SCALAR if both else None)
        return left

    def parse_and(self) -> Expression:
        left = self.parse_comparison()
        while self.peek()[1] == "&&":
            self.take()
            right = self.parse_comparison()
            either = self.fact(left) in _NEEDS_CONTAINER or self.fact(right) in _NEEDS_CONTAINER
            known = [k for k in (self.keys.get(id(left)), self.keys.get(id(right))) if k]
            combined = _and(left, right)
            if known:
                self.keys[id(combined)] = min(known, key=len)
            left = self.note(combined, _FALSE_ON_SCALAR if either else None)
        return left

    def parse_comparison(self) -> Expression:
        left = self.parse_unary()
        while self.peek()[1] in _COMPARISONS:
            symbol = self.take()[1]
            right = self.parse_unary()
            facts = {self.fact(left), self.fact(right)}
            false_on_scalar = _THROWS_ON_SCALAR in facts or (
                _UNDEFINED_ON_SCALAR in facts
                and (
                    (symbol in ("===", "==") and _LITERAL in facts)
                    or (symbol in ("!==", "!=") and _NULLISH in facts)
                )
            )
            combined = _binary(_COMPARISONS[symbol], left, right)
            if false_on_scalar:
                member = self.keys.get(id(left)) or self.keys.get(id(right))
                if member is not None:
                    self.keys[id(combined)] = member
            left = self.note(combined, _FALSE_ON_SCALAR if false_on_scalar else None)
        return left

    def parse_unary(self) -> Expression:
        kind, value = self.peek()
        if value == "!":
            self.take()
            operand = self.parse_unary()
            return lambda context: not truthy(operand(context))
        if kind == "name" and value == "typeof":
            self.take()
            operand = self.parse_unary()
            return lambda context: _typeof(operand(context))
        if kind == "name" and value == "void":
            self.take()
            self.parse_unary()
            return self.note(_constant(UNDEFINED), _NULLISH)
        return self.parse_postfix(self.parse_primary())

    def parse_primary(self) -> Expression:
        kind, value = self.take()
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return self.note(_constant(number), _LITERAL)
        if kind == "string":
            return self.note(_constant(_unquote(value)), _LITERAL)
        if kind == "at":
            found = _AT.get(value)
            if found is None:
                raise ValueError(f"unknown {value!r} in filter")
            return self.note(_wrap(found), _AT_ITSELF if value == "@" else None)
        if kind == "name":
            if value in _CONSTANTS:
                constant = _CONSTANTS[value]
                nullish = constant is None or constant is UNDEFINED
                return self.note(_constant(constant), _NULLISH if nullish else _LITERAL)
            raise ValueError(f"unknown name {value!r} in filter")
        if value == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if value == "/":
            self.peeked = None
            return self.regex_literal()
        raise ValueError(f"unexpected {value or 'end'!r} in filter {self.source!r}")

    def parse_postfix(self, target: Expression) -> Expression:
        while True:
            value = self.peek()[1]
            before = self.fact(target)
            before_target = target
            if value == ".":
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise ValueError(f"expected a property name after '.', found {name!r}")
                is_call = self.peek()[1] == "("
                target = self.call(target, name) if is_call else _member(target, _constant(name))
                if before == _AT_ITSELF and not is_call and name not in _SCALAR_MEMBERS:
                    self.note(target, _UNDEFINED_ON_SCALAR)
                    # `@.name` is undefined unless @ has the key: an array has no such key
                    # either (numeric names are not identifiers, so never end up here).
                    self.keys[id(target)] = frozenset({name})
                elif before in (_UNDEFINED_ON_SCALAR, _THROWS_ON_SCALAR):
                    previous = self.keys.get(id(before_target))
                    self.note(target, _THROWS_ON_SCALAR)
                    if previous is not None:
                        self.keys[id(target)] = previous
            elif value == "[":
                self.take()
                index = self.parse_or()
                self.expect("]")
                target = _member(target, index)
                if before in (_UNDEFINED_ON_SCALAR, _THROWS_ON_SCALAR):
                    self.note(target, _THROWS_ON_SCALAR)
                    previous = self.keys.get(id(before_target))
                    if previous is not None:
                        self.keys[id(target)] = previous
            else:
                return target

    def call(self, target: Expression, method: str) -> Expression:
        self.expect("(")
        arguments: list[Expression] = []
        if self.peek()[1] != ")":
            arguments.append(self.parse_or())
            while self.peek()[1] == ",":
                self.take()
                arguments.append(self.parse_or())
        self.expect(")")
        if method not in _METHODS:
            raise ValueError(f"method {method!r} is not supported in filters")
        implementation = _METHODS[method]

        def invoke(context: FilterContext) -> Any:
            receiver = target(context)
            return implementation(receiver, [argument(context) for argument in arguments])

        return invoke


def _constant(value: Any) -> Expression:
    return lambda _context: value


def _wrap(expression: Expression) -> Expression:
    # A fresh function object, so facts noted about this occurrence stay with it.
    return lambda context: expression(context)


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body)


def compile_js_regex(body: str, flags: str = "") -> re.Pattern[str]:
    """A JavaScript regular expression as a Python one (the syntax rulesets use is shared)."""
    options = 0
    if "i" in flags:
        options |= re.IGNORECASE
    if "m" in flags:
        options |= re.MULTILINE
    if "s" in flags:
        options |= re.DOTALL
    # JavaScript's named groups `(?<n>...)` are Python's `(?P<n>...)`; `\d` is ASCII-only there.
    body = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", body)
    return re.compile(body, options | re.ASCII if "u" not in flags else options)


class _Constructor:
    def __init__(self, name: str) -> None:
        self.name = name


def _constructor(value: Any) -> _Constructor:
    if isinstance(value, bool):
        return _Constructor("Boolean")
    if isinstance(value, int | float):
        return _Constructor("Number")
    if isinstance(value, str):
        return _Constructor("String")
    if isinstance(value, list):
        return _Constructor("Array")
    if isinstance(value, re.Pattern):
        return _Constructor("RegExp")
    return _Constructor("Object")


def get_property(target: Any, name: Any) -> Any:
    """`target[name]` with JavaScript's rules for the value kinds JSON has."""
    if target is UNDEFINED or target is None:
        raise JsError(f"cannot read property {name!r} of {target!r}")
    if name == "constructor":
        return _constructor(target)
    if isinstance(target, _Constructor):
        return target.name if name == "name" else UNDEFINED
    if isinstance(target, dict):
        return target.get(str(name) if not isinstance(name, str) else name, UNDEFINED)
    if isinstance(target, list | str):
        if name == "length":
            return len(target)
        index = _index(name)
        if index is not None and 0 <= index < len(target):
            return target[index]
        return UNDEFINED
    return UNDEFINED


def _index(name: Any) -> int | None:
    if isinstance(name, bool):
        return None
    if isinstance(name, int):
        return name
    if isinstance(name, float) and name.is_integer():
        return int(name)
    if isinstance(name, str) and name.isdigit():
        return int(name)
    return None


def _member(target: Expression, name: Expression) -> Expression:
    return lambda context: get_property(target(context), name(context))


def _or(left: Expression, right: Expression) -> Expression:
    def evaluate(context: FilterContext) -> Any:
        value = left(context)
        return value if truthy(value) else right(context)

    return evaluate


def _and(left: Expression, right: Expression) -> Expression:
    def evaluate(context: FilterContext) -> Any:
        value = left(context)
        return right(context) if truthy(value) else value

    return evaluate


def _binary(
    operator: Callable[[Any, Any], bool], left: Expression, right: Expression
) -> Expression:
    return lambda context: operator(left(context), right(context))


def strict_equal(left: Any, right: Any) -> bool:
    """`===`: same kind and same value; objects are equal only to themselves."""
    if left is UNDEFINED or right is UNDEFINED:
        return left is right
    if left is None or right is None:
        return left is right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return left is right


def loose_equal(left: Any, right: Any) -> bool:
    """`==`: null and undefined equal each other; numbers and strings compare as numbers."""
    nullish = (None, UNDEFINED)
    if left in nullish or right in nullish:
        return left in nullish and right in nullish
    if type(left) is type(right) or (_is_number(left) and _is_number(right)):
        return strict_equal(left, right)
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    return _to_number(left) == _to_number(right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        if isinstance(left, str) and isinstance(right, str):
            return test(left, right)
        a, b = _to_number(left), _to_number(right)
        return not (math.isnan(a) or math.isnan(b)) and test(a, b)

    return compare


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "===": strict_equal,
    "!==": lambda a, b: not strict_equal(a, b),
    "==": loose_equal,
    "!=": lambda a, b: not loose_equal(a, b),
    "<": _compare(lambda a, b: a < b),
    "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b),
    ">=": _compare(lambda a, b: a >= b),
}


def _typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _js_string(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _includes(receiver: Any, arguments: list[Any]) -> bool:
    needle = arguments[0] if arguments else UNDEFINED
    if isinstance(receiver, list):
        return any(strict_equal(item, needle) for item in receiver)
    if isinstance(receiver, str):
        return _js_string(needle) in receiver
    raise JsError("includes is not a function")


def _match(receiver: Any, arguments: list[Any]) -> Any:
    if not isinstance(receiver, str):
        raise JsError("match is not a function")
    pattern = arguments[0] if arguments else ""
    compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(_js_string(pattern))
    found = compiled.search(receiver)
    return [found.group()] if found else None


def _test(receiver: Any, arguments: list[Any]) -> bool:
    if not isinstance(receiver, re.Pattern):
        raise JsError("test is not a function")
    return receiver.search(_js_string(arguments[0] if arguments else UNDEFINED)) is not None


def _string_method(name: str, action: Callable[[str, list[Any]], Any]) -> Callable[..., Any]:
    def method(receiver: Any, arguments: list[Any]) -> Any:
        if not isinstance(receiver, str):
            raise JsError(f"{name} is not a function")
        return action(receiver, arguments)

    return method


def _index_of(receiver: Any, arguments: list[Any]) -> int:
    needle = arguments[0] if arguments else UNDEFINED
    if isinstance(receiver, list):
        return next((i for i, item in enumerate(receiver) if strict_equal(item, needle)), -1)
    if isinstance(receiver, str):
        return receiver.find(_js_string(needle))
    raise JsError("indexOf is not a function")


_METHODS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "includes": _includes,
    "match": _match,
    "test": _test,
    "indexOf": _index_of,
    "startsWith": _string_method("startsWith", lambda s, a: s.startswith(_js_string(a[0]))),
    "endsWith": _string_method("endsWith", lambda s, a: s.endswith(_js_string(a[0]))),
    "toLowerCase": _string_method("toLowerCase", lambda s, _a: s.lower()),
    "toUpperCase": _string_method("toUpperCase", lambda s, _a: s.upper()),
}

_CONSTANTS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "undefined": UNDEFINED,
}

_AT: dict[str, Expression] = {
    "@": lambda context: context.value,
    "@property": lambda context: context.key,
    "@key": lambda context: context.key,
    "@parent": lambda context: context.parent,
    "@parentProperty": lambda context: context.path[-2] if len(context.path) > 1 else UNDEFINED,
    "@path": lambda context: "$" + "".join(f"[{k!r}]" for k in context.path),
}

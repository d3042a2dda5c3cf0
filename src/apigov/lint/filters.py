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
from typing import Any

from msgspec import Struct


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


class FilterContext(Struct):
    """What a filter sees: the candidate node, its key, its parent and its path."""

    value: Any
    key: str | int
    parent: Any
    path: tuple[str | int, ...]


class JsError(Exception):
    """What JavaScript would throw (reading a property of undefined, calling a non-function)."""


FILTER_ERRORS = (JsError, TypeError, ValueError, re.error, RecursionError)
"""What a compiled filter may raise: the filter then rejects the node (as Spectral's engines do)."""


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

    __slots__ = ("constants", "containers_only", "function", "keys", "reads_path", "source", "text")

    def __init__(
        self,
        source: str,
        text: str,
        constants: dict[str, Any],
        containers_only: bool,
        keys: frozenset[str] | None = None,
        reads_path: bool = True,
    ) -> None:
        self.source = source
        self.text = text
        """The expression as the text of one Python function of (`@`, `@property`, `@parent`,
        path), whose literals are `constants`."""
        self.constants = constants
        self.function: Callable[[Any, str | int, Any, Any], bool] | None = None
        """`text` compiled, once it is needed: the filter's verdict as a bool. When `keys` is
        set it may only be called for an object with one of them (it takes `@` to be one),
        and it may raise `FILTER_ERRORS`."""
        self.containers_only = containers_only
        self.keys = keys
        """When set: the filter can only hold for an object that has one of these keys."""
        self.reads_path = reads_path
        """It reads `@path` or `@parentProperty` (else `test` needs no path)."""

    def __call__(self, context: FilterContext) -> bool:
        return self.test(context.value, context.key, context.parent, context.path)

    def test(self, value: Any, key: str | int, parent: Any, path: Any) -> bool:
        """Whether the filter holds for `value`, at `key` of `parent`; `path` (the path of
        `value`) is read only when `reads_path`."""
        keys = self.keys
        if keys is not None and (not isinstance(value, dict) or keys.isdisjoint(value)):
            return False
        function = self.function or self.compiled()
        try:
            return function(value, key, parent, path)
        except FILTER_ERRORS:
            return False

    def compiled(self) -> Callable[[Any, str | int, Any, Any], bool]:
        namespace = {**_NAMESPACE, **self.constants}
        try:
            # The text is built from parsed tokens only; every literal is a namespace constant.
            exec(compile(self.text, "<filter>", "exec"), namespace)
        except (SyntaxError, RecursionError, MemoryError):
            raise ValueError(f"filter expression nested too deeply: {self.source[:40]!r}") from None
        self.function = namespace["_filter"]
        return self.function


@functools.lru_cache(maxsize=1024)
def compile_filter(source: str) -> Predicate:
    """Compile a filter body (without `?(` and `)`); the same text gives the same predicate.

    The expression becomes the text of one Python function: a tree of closures (one call per
    operator and operand) cost several times as much per evaluation, and filters are evaluated
    at most nodes of a document. The text is compiled when the filter is first evaluated (most
    filters of a ruleset never are on a small document).
    """
    parser = _Parser(source)
    expression = parser.parse()
    if expression.keys is not None:
        # The function is only called for an object with one of `keys` (see `Predicate`): the
        # text may read `@`'s members directly and take `@` itself to be truthy.
        parser = _Parser(source, at_is_object=True)
        expression = parser.parse()
    verdict = expression.code if expression.boolean else _truth(expression)
    predicate = Predicate(
        source,
        f"def _filter(v, k, p, path):\n    return {verdict}\n",
        parser.constants,
        expression.fact in _NEEDS_CONTAINER,
        expression.keys,
        parser.reads_path,
    )
    if verdict.count("(") > _LAZY_PARENTHESES:
        # Python's parser refuses text nested past a limit: such a filter is compiled now, so
        # that its ruleset is refused, rather than the filter failing at every node.
        predicate.compiled()
    return predicate


# Every group in a filter's text opens a parenthesis, so a text with fewer than this many
# cannot be nested past Python's limit (200) and is safely compiled on first use.
_LAZY_PARENTHESES = 150


# What the parser knows about an expression when `@` is a scalar (string, number, ...):
_AT_ITSELF = "at"  # it is `@`
_UNDEFINED_ON_SCALAR = "undefined"  # `@.name`: undefined for a scalar
_THROWS_ON_SCALAR = "throws"  # `@.name.more`, `@.name(...)`: reading a property of undefined
_FALSE_ON_SCALAR = "false"  # falsy (or throws) whenever `@` is a scalar
_LITERAL = "literal"  # a literal that is neither null nor undefined
_NULLISH = "nullish"  # null, undefined, void 0
_NEEDS_CONTAINER = frozenset({_UNDEFINED_ON_SCALAR, _THROWS_ON_SCALAR, _FALSE_ON_SCALAR})
_SCALAR_MEMBERS = frozenset({"length", "constructor"})  # what scalars do have


_NOT_LITERAL: Any = object()


class _Node:
    """A parsed (sub)expression: its Python text, and what is known about it (`fact`; `keys`:
    it is falsy unless `@` is an object with one of these keys; `boolean`: its value is always
    True or False, so it needs no `truthy()`; `literal`: the value of a literal)."""

    __slots__ = ("boolean", "code", "fact", "falsy_false", "keys", "literal", "truth")

    def __init__(
        self,
        code: str,
        fact: str | None = None,
        keys: frozenset[str] | None = None,
        boolean: bool = False,
        literal: Any = _NOT_LITERAL,
    ) -> None:
        self.code = code
        self.fact = fact
        self.keys = keys
        self.boolean = boolean
        self.literal = literal
        self.truth: str | None = code if boolean else None
        """A text whose value is the truthiness of `code` (the same operands evaluated in the
        same order), where that saves calls of `truthy()`; `_ALWAYS` when it is truthy."""
        self.falsy_false = boolean
        """When falsy, the value is `False` (so `&&` need not keep it)."""


_ALWAYS = "True"


def _truth(node: _Node) -> str:
    """The text of `node`'s truthiness (JavaScript's)."""
    return node.truth if node.truth is not None else f"truthy({node.code})"


class _Parser:
    def __init__(self, source: str, at_is_object: bool = False) -> None:
        self.source = source
        self.at_is_object = at_is_object
        """`@` is known to be an object (a dict) whenever the function runs."""
        self.position = 0
        self.peeked: tuple[str, str] | None = None
        self.constants: dict[str, Any] = {}
        self.temporaries = 0
        self.reads_path = False

    def constant(self, value: Any) -> str:
        """The Python text of a literal value (a name in the function's namespace)."""
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def hold(self, node: _Node) -> tuple[str, str]:
        """The text of an operand used twice (`a && b` gives `a` when it is falsy): where it
        is first evaluated (into a fresh local name), and where it is read again."""
        if node.code.isidentifier():  # `@`, `@property`, a constant: nothing to evaluate
            return node.code, node.code
        self.temporaries += 1
        name = f"_t{self.temporaries}"
        # Unparenthesized: it is only ever a call's argument (each level of parentheses counts
        # toward Python's limit on nesting).
        return f"{name} := {node.code}", name

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

    def regex_literal(self) -> _Node:
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
        flags_end = end + 1
        while flags_end < len(self.source) and "a" <= self.source[flags_end] <= "z":
            flags_end += 1
        flags = self.source[end + 1 : flags_end]
        self.position = flags_end
        return _Node(self.constant(compile_js_regex(body, flags)))

    # ---- grammar (precedence climbing) ---------------------------------------------------

    def parse(self) -> _Node:
        expression = self.parse_or()
        if self.peek()[0] != "end":
            raise ValueError(f"unexpected {self.peek()[1]!r} in filter {self.source!r}")
        return expression

    def parse_or(self) -> _Node:
        left = self.parse_and()
        while self.peek()[1] == "||":
            self.take()
            right = self.parse_and()
            both = left.fact in _NEEDS_CONTAINER and right.fact in _NEEDS_CONTAINER
            fact = _FALSE_ON_SCALAR if both else None
            if left.boolean:  # Python's `or` on a bool gives what JavaScript's `||` gives
                code = f"({left.code} or {_grouped(right.code)})"
            else:
                first, again = self.hold(left)
                # JavaScript's `||` gives the left operand when it is truthy, else the right one.
                code = f"({again} if truthy({first}) else {_grouped(right.code)})"
            combined = _Node(code, fact, boolean=left.boolean and right.boolean)
            combined.truth = f"({_truth(left)} or {_truth(right)})"
            combined.falsy_false = right.falsy_false
            if left.keys is not None and right.keys is not None:
                combined.keys = left.keys | right.keys
            left = combined
        return left

    def parse_and(self) -> _Node:
        left = self.parse_comparison()
        while self.peek()[1] == "&&":
            self.take()
            right = self.parse_comparison()
            either = left.fact in _NEEDS_CONTAINER or right.fact in _NEEDS_CONTAINER
            known = [k for k in (left.keys, right.keys) if k]
            fact = _FALSE_ON_SCALAR if either else None
            if left.truth == _ALWAYS:  # `@ && ...` where `@` is known to be an object
                combined = _Node(right.code, fact, boolean=right.boolean)
                combined.truth = right.truth
                combined.falsy_false = right.falsy_false
            else:
                if left.boolean:  # Python's `and` on a bool gives what JavaScript's `&&` gives
                    code = f"({left.code} and {_grouped(right.code)})"
                elif left.falsy_false:  # no need to keep the left operand: it is false
                    code = f"({_grouped(right.code)} if {left.truth} else False)"
                else:
                    first, again = self.hold(left)
                    code = f"({_grouped(right.code)} if truthy({first}) else {again})"
                combined = _Node(code, fact, boolean=left.boolean and right.boolean)
                combined.truth = (
                    left.truth
                    if right.truth == _ALWAYS
                    else f"({_truth(left)} and {_truth(right)})"
                )
                combined.falsy_false = left.falsy_false and right.falsy_false
            if known:
                combined.keys = min(known, key=len)
            left = combined
        return left

    def parse_comparison(self) -> _Node:
        left = self.parse_unary()
        while self.peek()[1] in _COMPARISONS:
            symbol = self.take()[1]
            right = self.parse_unary()
            facts = {left.fact, right.fact}
            false_on_scalar = _THROWS_ON_SCALAR in facts or (
                _UNDEFINED_ON_SCALAR in facts
                and (
                    (symbol in ("===", "==") and _LITERAL in facts)
                    or (symbol in ("!==", "!=") and _NULLISH in facts)
                )
            )
            combined = _Node(
                self.comparison(symbol, left, right),
                _FALSE_ON_SCALAR if false_on_scalar else None,
                boolean=True,
            )
            if false_on_scalar:
                combined.keys = left.keys or right.keys
            left = combined
        return left

    def comparison(self, symbol: str, left: _Node, right: _Node) -> str:
        """The text of `left symbol right`; against a string, `null` or `undefined` (what
        rulesets compare with) without a call, with the meaning of `_COMPARISONS`."""
        literal = right.literal
        general = f"{_COMPARISON_NAMES[symbol]}({left.code}, {right.code})"
        if symbol in ("===", "!=="):
            if literal is UNDEFINED or literal is None:
                test = "is" if symbol == "===" else "is not"
                return f"({_grouped(left.code)} {test} {right.code})"
            if type(literal) is str:
                first, again = self.hold(left)
                if symbol == "===":
                    return f"(type({first}) is str and {again} == {right.code})"
                return f"(type({first}) is not str or {again} != {right.code})"
        elif symbol in ("==", "!="):
            if literal is UNDEFINED or literal is None:  # null == undefined, and nothing else
                first, again = self.hold(left)
                if symbol == "==":
                    return f"(({first}) is None or {again} is UNDEFINED)"
                return f"(({first}) is not None and {again} is not UNDEFINED)"
            if type(literal) is str:  # a string against a string: no coercion
                first, again = self.hold(left)
                test = "==" if symbol == "==" else "!="
                slow = f"{_COMPARISON_NAMES[symbol]}({again}, {right.code})"
                return f"({again} {test} {right.code} if type({first}) is str else {slow})"
        return general

    def parse_unary(self) -> _Node:
        kind, value = self.peek()
        if value == "!":
            self.take()
            operand = self.parse_unary()
            return _Node(f"(not {_truth(operand)})", boolean=True)
        if kind == "name" and value == "typeof":
            self.take()
            operand = self.parse_unary()
            return _Node(f"_typeof({operand.code})")
        if kind == "name" and value == "void":
            self.take()
            self.parse_unary()  # never evaluated: `void x` is undefined whatever x is
            return _Node("UNDEFINED", _NULLISH, literal=UNDEFINED)
        return self.parse_postfix(self.parse_primary())

    def parse_primary(self) -> _Node:
        kind, value = self.take()
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return _Node(repr(number), _LITERAL)
        if kind == "string":
            text = _unquote(value)
            return _Node(self.constant(text), _LITERAL, literal=text)
        if kind == "at":
            code = _AT.get(value)
            if code is None:
                raise ValueError(f"unknown {value!r} in filter")
            if "path" in code:
                self.reads_path = True
            node = _Node(code, _AT_ITSELF if value == "@" else None)
            if value == "@" and self.at_is_object:
                node.truth = _ALWAYS
                node.falsy_false = True
            return node
        if kind == "name":
            if value in _CONSTANTS:
                constant = _CONSTANTS[value]
                nullish = constant is None or constant is UNDEFINED
                return _Node(
                    self.constant(constant), _NULLISH if nullish else _LITERAL, literal=constant
                )
            raise ValueError(f"unknown name {value!r} in filter")
        if value == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if value == "/":
            self.peeked = None
            return self.regex_literal()
        raise ValueError(f"unexpected {value or 'end'!r} in filter {self.source!r}")

    def parse_postfix(self, target: _Node) -> _Node:
        while True:
            value = self.peek()[1]
            before = target
            if value == ".":
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise ValueError(f"expected a property name after '.', found {name!r}")
                is_call = self.peek()[1] == "("
                target = self.call(target, name) if is_call else self.member(target, name)
                if before.fact == _AT_ITSELF and not is_call and name not in _SCALAR_MEMBERS:
                    target.fact = _UNDEFINED_ON_SCALAR
                    # `@.name` is undefined unless @ has the key: an array has no such key
                    # either (numeric names are not identifiers, so never end up here).
                    target.keys = frozenset({name})
                elif before.fact in (_UNDEFINED_ON_SCALAR, _THROWS_ON_SCALAR):
                    target.fact = _THROWS_ON_SCALAR
                    if before.keys is not None:
                        target.keys = before.keys
            elif value == "[":
                self.take()
                index = self.parse_or()
                self.expect("]")
                target = _Node(f"_get({target.code}, {index.code})")
                if before.fact in (_UNDEFINED_ON_SCALAR, _THROWS_ON_SCALAR):
                    target.fact = _THROWS_ON_SCALAR
                    if before.keys is not None:
                        target.keys = before.keys
            else:
                return target

    def member(self, target: _Node, name: str) -> _Node:
        """`target.name`: an object's own key read directly, anything else by the rules of
        `get_property`."""
        key = self.constant(name)
        if name == "constructor":
            return _Node(f"_get({target.code}, {key})")
        if target.truth == _ALWAYS:  # `@`, known to be an object
            return _Node(f"v.get({key}, UNDEFINED)")
        first, again = self.hold(target)
        return _Node(
            f"({again}.get({key}, UNDEFINED) if type({first}) is dict else _get({again}, {key}))"
        )

    def call(self, target: _Node, method: str) -> _Node:
        self.expect("(")
        arguments: list[_Node] = []
        if self.peek()[1] != ")":
            arguments.append(self.parse_or())
            while self.peek()[1] == ",":
                self.take()
                arguments.append(self.parse_or())
        self.expect(")")
        if method not in _METHODS:
            raise ValueError(f"method {method!r} is not supported in filters")
        # The receiver is evaluated before the arguments, as in JavaScript.
        listed = ", ".join(argument.code for argument in arguments)
        return _Node(f"{self.constant(_METHODS[method])}({target.code}, [{listed}])")


def _grouped(code: str) -> str:
    return code if code.isidentifier() else f"({code})"


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

# What each `@` name is in a compiled filter's function `(v, k, p, path)`.
_AT: dict[str, str] = {
    "@": "v",
    "@property": "k",
    "@key": "k",
    "@parent": "p",
    "@parentProperty": "(path[-2] if len(path) > 1 else UNDEFINED)",
    "@path": "_at_path(path)",
}


def _at_path(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{k!r}]" for k in path)


_COMPARISON_NAMES = {symbol: f"_compare_{index}" for index, symbol in enumerate(_COMPARISONS)}
# Everything a compiled filter's text names, besides its own constants (`_c<n>`).
_NAMESPACE: dict[str, Any] = {
    "__builtins__": {"type": type, "dict": dict, "len": len, "str": str},
    "truthy": truthy,
    "UNDEFINED": UNDEFINED,
    "_get": get_property,
    "_typeof": _typeof,
    "_at_path": _at_path,
    **{_COMPARISON_NAMES[symbol]: test for symbol, test in _COMPARISONS.items()},
}

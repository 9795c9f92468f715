"""CloudWatch Logs filter pattern syntax for the local cloud's FilterLogEvents (and StartLiveTail).

moto 5.2.5 understands only plain terms and one quoted phrase and matches every event for any
other pattern. ``compile_pattern(text)`` turns a pattern into a predicate on a log message, with
CloudWatch's syntax:

- ``""``: every event;
- terms: ``ERROR Exception`` (all must appear, case-sensitive), ``"ERROR 404"`` (an exact
  phrase), ``?ERROR ?WARN`` (any of them), ``-DEBUG`` (must not appear), ``%regex%``;
- JSON: ``{ $.status >= 400 }``, ``{ $.level = "ERROR" }``, ``{ $.path = "/300x*" }`` (``*`` is a
  wildcard), ``{ $.a.b = 1 && $.c != 2 }``, ``{ ($.x = 1) || ($.list[0] = "y") }``, ``{ $.e IS NULL }``,
  ``IS TRUE``, ``IS FALSE``, ``NOT EXISTS``, ``EXISTS``, ``{ $.m = %regex% }``; numbers compare with
  ``= != < <= > >=``, strings and regexes with ``=`` and ``!=`` only. A JSON pattern never matches
  a message that is not a JSON object or array, and a comparison matches only when the selected
  value exists and has the literal's type (``{ $.x != 2 }`` does not match when ``x`` is missing);
- space-delimited: ``[ip, user, ..., status = 404, size > 1000]``, fields split on whitespace
  with ``"..."`` and ``[...]`` as single fields (without their quotes or brackets), ``...`` for any
  number of fields, a field's condition on that field only (``status = 4* || status = 5*``);
  without ``...`` the number of fields must be exactly the pattern's.

An invalid pattern raises ValueError("Invalid filter pattern: ..."). ``install()`` makes moto's
Logs backend use this (an invalid pattern is InvalidParameterException, HTTP 400); ``uninstall()``
puts moto back.
"""

import functools
import inspect
import json
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from localcloud import patching

Predicate = Callable[[str], bool]

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) | (?P<and>&&) | (?P<or>\|\|)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<re>%[^%]*%)
      | (?P<word>[^\s()=!<>&|"%]+)
    )""",
    re.VERBOSE,
)
_FIELDS = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')
_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MISSING = object()


def _invalid(detail: str) -> ValueError:
    return ValueError(f"Invalid filter pattern: {detail}")


@functools.lru_cache(maxsize=512)
def compile_pattern(text: str | None) -> Predicate:
    """A predicate on a log message for a CloudWatch Logs filter pattern (ValueError if invalid)."""
    pattern = (text or "").strip()
    if not pattern:
        return lambda message: True
    if pattern.startswith("{"):
        if not pattern.endswith("}"):
            raise _invalid("a JSON pattern must end with '}'")
        return _json_pattern(pattern[1:-1])
    if pattern.startswith("["):
        if not pattern.endswith("]"):
            raise _invalid("a space-delimited pattern must end with ']'")
        return _delimited_pattern(pattern[1:-1])
    return _terms_pattern(pattern)


# Terms --------------------------------------------------------------------------------------


def _terms_pattern(pattern: str) -> Predicate:
    required: list[Predicate] = []
    optional: list[Predicate] = []
    excluded: list[Predicate] = []
    position = 0
    while position < len(pattern):
        if pattern[position].isspace():
            position += 1
            continue
        target = required
        if pattern[position] in "?-":
            target = optional if pattern[position] == "?" else excluded
            position += 1
            if position == len(pattern) or pattern[position].isspace():
                raise _invalid(f"'{pattern[position - 1]}' must be followed by a term")
        term, position = _term(pattern, position)
        target.append(term)

    def matches(message: str) -> bool:
        return (
            all(term(message) for term in required)
            and not any(term(message) for term in excluded)
            and (not optional or any(term(message) for term in optional))
        )

    return matches


def _term(pattern: str, position: int) -> tuple[Predicate, int]:
    """One term starting at position: a quoted phrase, a %regex% or a bare word."""
    if pattern[position] == '"':
        found = re.compile(r'"((?:[^"\\]|\\.)*)"').match(pattern, position)
        if not found:
            raise _invalid("unterminated quoted phrase")
        phrase = _unquote(found.group(0))
        return (lambda message: phrase in message), found.end()
    if pattern[position] == "%":
        end = pattern.find("%", position + 1)
        if end < 0:
            raise _invalid("unterminated %regex%")
        regex = _regex(pattern[position : end + 1])
        return (lambda message: regex.search(message) is not None), end + 1
    found = re.compile(r"[^\s\"]+").match(pattern, position)
    assert found is not None
    end = found.end()
    if end < len(pattern) and pattern[end] == '"':
        raise _invalid("a quotation mark inside a term (quote the whole phrase)")
    word = found.group(0)
    return (lambda message: word in message), end


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _regex(token: str) -> re.Pattern[str]:
    body = token[1:-1]
    if not body:
        raise _invalid("empty %regex%")
    if "(" in body or ")" in body:
        raise _invalid("( and ) are not supported in a %regex%")
    try:
        return re.compile(body)
    except re.error as exc:
        raise _invalid(f"bad regular expression {token}: {exc}") from None


# Conditions (JSON patterns and the fields of space-delimited patterns) -------------------------

Resolver = Callable[[str], Any]  # selector -> value, or _MISSING
Condition = Callable[[Resolver], bool]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if not found or found.end() == position:
            raise _invalid(f"unexpected {text[position:].strip()[:20]!r}")
        assert found.lastgroup is not None
        tokens.append((found.lastgroup, found.group(found.lastgroup)))
        position = found.end()
    return tokens


class _Parser:
    """Recursive descent over ``a || b``, ``a && b`` (tighter), ``( ... )`` and comparisons."""

    def __init__(self, text: str, selector: Callable[[str], str]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.selector = selector  # validates a selector token, returns its canonical form
        self.fields = selector is not _json_selector

    def parse(self) -> Condition:
        if not self.tokens:
            raise _invalid("empty condition")
        condition = self._or()
        if self.position < len(self.tokens):
            raise _invalid(f"unexpected {self.tokens[self.position][1]!r}")
        return condition

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self, what: str) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _invalid(f"{what} expected at the end")
        self.position += 1
        return token

    def _or(self) -> Condition:
        parts = [self._and()]
        while (token := self._peek()) and token[0] == "or":
            self.position += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda resolve: any(part(resolve) for part in parts)

    def _and(self) -> Condition:
        parts = [self._unary()]
        while (token := self._peek()) and token[0] == "and":
            self.position += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else lambda resolve: all(part(resolve) for part in parts)

    def _unary(self) -> Condition:
        token = self._peek()
        if token and token[0] == "lp":
            self.position += 1
            inner = self._or()
            if self._next("')'")[0] != "rp":
                raise _invalid("')' expected")
            return inner
        return self._comparison()

    def _comparison(self) -> Condition:
        kind, text = self._next("a selector")
        if kind != "word":
            raise _invalid(f"a selector expected, not {text!r}")
        selector = self.selector(text)
        kind, text = self._next("an operator")
        if kind == "op":
            return _compare(selector, text, self._literal(), numeric_text=self.fields)
        keyword = text.upper() if kind == "word" else ""
        if self.fields or keyword not in ("IS", "NOT", "EXISTS"):
            raise _invalid(f"an operator expected after {selector}, not {text!r}")
        if keyword == "EXISTS":
            return lambda resolve: resolve(selector) is not _MISSING
        second = self._next("a keyword")[1].upper()
        if keyword == "NOT" and second == "EXISTS":
            return lambda resolve: resolve(selector) is _MISSING
        constants = {"NULL": None, "TRUE": True, "FALSE": False}
        if keyword == "IS" and second in constants:
            expected = constants[second]
            return lambda resolve: resolve(selector) is expected
        raise _invalid(f"{keyword} {second} is not a condition")

    def _literal(self) -> tuple[str, Any]:
        kind, text = self._next("a value")
        if kind == "str":
            return "string", _wildcard(_unquote(text))
        if kind == "re":
            return "regex", _regex(text)
        if kind == "word":
            if _NUMBER.fullmatch(text):
                return "number", float(text)
            return "string", _wildcard(text)
        raise _invalid(f"a value expected, not {text!r}")


def _wildcard(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)


def _compare(selector: str, op: str, literal: tuple[str, Any], *, numeric_text: bool) -> Condition:
    kind, expected = literal
    compare = _COMPARE[op]
    if kind == "number":

        def number(resolve: Resolver) -> bool:
            value = resolve(selector)
            if numeric_text and isinstance(value, str):  # a space-delimited field is text
                try:
                    value = float(value)
                except ValueError:
                    return False
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                return False
            return compare(value, expected)

        return number
    if op not in ("=", "!="):
        raise _invalid(f"{op} compares numbers only; strings support = and !=")
    want = op == "="
    if kind == "regex":
        return lambda resolve: (
            isinstance(v := resolve(selector), str) and (expected.search(v) is not None) == want
        )
    return lambda resolve: (
        isinstance(v := resolve(selector), str) and (expected.fullmatch(v) is not None) == want
    )


# JSON patterns --------------------------------------------------------------------------------


def _json_selector(text: str) -> str:
    if not text.startswith("$") or not _path(text):
        raise _invalid(f"{text!r} is not a selector like $.name, $.a.b or $.list[0]")
    return text


@functools.lru_cache(maxsize=256)
def _path(selector: str) -> tuple[str | int, ...] | None:
    steps: list[str | int] = []
    position = 1
    while position < len(selector):
        found = _PATH_STEP.match(selector, position)
        if not found:
            return None
        steps.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
        position = found.end()
    return tuple(steps) if steps else None


def _resolve_json(document: Any, selector: str) -> Any:
    value = document
    for step in _path(selector) or ():
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
        elif not isinstance(value, dict) or step not in value:
            return _MISSING
        value = value[step]
    return value


def _json_pattern(inner: str) -> Predicate:
    condition = _Parser(inner, _json_selector).parse()

    def matches(message: str) -> bool:
        text = message.strip()
        if not text.startswith(("{", "[")):
            return False
        try:
            document = json.loads(text)
        except ValueError:
            return False
        return condition(lambda selector: _resolve_json(document, selector))

    return matches


# Space-delimited patterns ---------------------------------------------------------------------


def _split_top_level(inner: str) -> list[str]:
    """The pattern's fields: split on commas outside quotes and %regex%."""
    parts, current, quote = [], "", ""
    escaped = False
    for char in inner:
        if quote:
            current += char
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in '"%':
            quote = char
            current += char
        elif char == ",":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if quote:
        raise _invalid("unterminated quoted string or %regex%")
    parts.append(current.strip())
    return parts


def _delimited_pattern(inner: str) -> Predicate:
    items: list[Condition | None] = []  # None is "..."
    names: set[str] = set()
    for part in _split_top_level(inner):
        if not part:
            raise _invalid("an empty field in a space-delimited pattern")
        if part == "...":
            items.append(None)
            continue
        found = _IDENTIFIER.match(part)
        if not found:
            raise _invalid(f"{part!r} does not start with a field name")
        name = found.group(0)
        if name in names:
            raise _invalid(f"field {name!r} is named twice")
        names.add(name)
        rest = part[found.end() :].strip()
        if not rest:
            items.append(lambda resolve: True)
            continue

        def own_field(text: str, name: str = name) -> str:
            if text != name:
                raise _invalid(f"the condition of field {name!r} names {text!r}")
            return text

        items.append(_Parser(part, own_field).parse())

    def matches(message: str) -> bool:
        fields = [next(g for g in found.groups() if g is not None) for found in _FIELDS.finditer(message)]
        failed: set[tuple[int, int]] = set()

        def match(item: int, field: int) -> bool:
            if item == len(items):
                return field == len(fields)
            if (item, field) in failed:
                return False
            condition = items[item]
            if condition is None:
                ok = any(match(item + 1, start) for start in range(field, len(fields) + 1))
            else:
                value = fields[field] if field < len(fields) else None
                ok = value is not None and condition(lambda _: value) and match(item + 1, field + 1)
            if not ok:
                failed.add((item, field))
            return ok

        return match(0, 0)

    return matches


# moto -----------------------------------------------------------------------------------------

_patches = patching.Patches("log_filter")


def install() -> None:
    """Make moto's Logs backend apply real filter patterns, in this process (idempotent).

    Patched: ``moto.logs.utils.EventMessageFilter`` (``__init__``/``matches``: moto builds one per
    event in ``LogStream.filter_log_events`` and per StartLiveTail, so both get the real syntax;
    patterns are compiled once, cached), and ``LogsBackend.filter_log_events``, which validates the
    pattern first so that an invalid one is InvalidParameterException even on an empty log group.
    Pagination, time range and logStreamNames stay moto's. Also ``LogsBackend._find_live_tail_log_group``:
    moto's answers the last log group created for any ARN (its search never stops at the match), so
    a StartLiveTail over two groups (resize and cleanup) tailed one of them twice; AWS takes each
    group by its ARN and refuses an unknown one (ResourceNotFoundException).
    """
    import re

    from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
    from moto.logs.models import LogsBackend
    from moto.logs.utils import EventMessageFilter

    with _patches.installing():
        if _patches.active:
            return

        def init(self: Any, pattern: str) -> None:
            try:
                self.localcloud_matches = compile_pattern(pattern or "")
            except ValueError as exc:
                raise InvalidParameterException(str(exc)) from None

        def matches(self: Any, message: str) -> bool:
            return self.localcloud_matches(message)

        original = LogsBackend.filter_log_events
        signature = inspect.signature(original)

        def filter_log_events(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            EventMessageFilter(bound.arguments["filter_pattern"])  # InvalidParameterException if invalid
            return original(self, *args, **kwargs)

        def find_live_tail_group(self: Any, log_group_identifier: str) -> Any:
            if not re.fullmatch(r"[\w#+=/:,.@-]*", log_group_identifier):
                raise InvalidParameterException(
                    "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*"
                )
            for group in self.groups.values():
                if group.arn == log_group_identifier:
                    return group
            raise ResourceNotFoundException()

        _patches.set(EventMessageFilter, "__init__", init, expect="self, pattern")
        _patches.set(
            LogsBackend,
            "_find_live_tail_log_group",
            find_live_tail_group,
            expect="self, log_group_identifier",
        )
        _patches.set(EventMessageFilter, "matches", matches, expect="self, message")
        _patches.set(
            LogsBackend,
            "filter_log_events",
            filter_log_events,
            expect="self, log_group_name, log_stream_names, start_time, end_time, limit, next_token, "
            "filter_pattern, interleaved",
        )


def uninstall() -> None:
    """Give moto back its own filter patterns."""
    _patches.undo()

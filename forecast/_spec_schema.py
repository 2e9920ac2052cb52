"""A small typed schema for YAML specs: keys -> type, range and choices, errors with file:line.

A spec is read into a :class:`SpecDocument` (the parsed data plus the line of every key and
list item, from the YAML node marks) and checked against a tree of rules (:class:`Int`,
:class:`Number`, :class:`Str`, :class:`Bool`, :class:`ListOf`, :class:`Mapping`,
:class:`AnyMapping`, :class:`Either`). Every failure is one line in one format::

    <file>:<line>: <key.path>: <constraint>, got <value!r>; valid: <choices or range>; fix: ...
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from forecast._errors import ForecastInputError, input_error

__all__ = [
    "AnyMapping",
    "Bool",
    "Either",
    "Int",
    "ListOf",
    "Mapping",
    "Number",
    "Rule",
    "SpecDocument",
    "Str",
    "closest",
    "compose_yaml",
    "construct_yaml",
    "file_problem",
    "format_path",
    "read_spec_text",
]

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """``('models', 0, 'name')`` -> ``models[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def closest(value: object, choices: Sequence[object]) -> str | None:
    """A ``did you mean`` hint for a misspelt ``value`` among ``choices``."""
    names = [str(c) for c in choices]
    match = difflib.get_close_matches(str(value), names, n=1, cutoff=0.75)
    return f"did you mean {match[0]!r}?" if match else None


def _short(value: object, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable regular file (None when it is one): ``not found``, ``a
    folder``, ``not a regular file`` (a device, pipe or socket) or ``a symlink loop``."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "not found"
    except OSError as error:  # ELOOP, a too long name, a denied folder
        return "a symlink loop" if error.errno == errno.ELOOP else (error.strerror or str(error))
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a device, pipe or socket)"
    return None


def read_spec_text(path: Path) -> str:
    """The text of the spec file ``path``; bytes that are not UTF-8 are an error naming the
    line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise input_error(
            f"not UTF-8 text (byte {data[error.start : error.start + 1]!r})",
            source=f"{path}:{line}",
            fix="save the file as UTF-8",
        ) from None


def yaml_error(error: yaml.YAMLError, text: str, *, source: str) -> ForecastInputError:
    """The one-line error for YAML ``text`` from ``source`` that PyYAML refused."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        context = f" ({error.context})" if error.context else ""
        return input_error(
            f"invalid YAML: {error.problem}{context}",
            source=where,
            fix="fix the YAML syntax at that line and column",
        )
    if isinstance(error, yaml.reader.ReaderError):  # a control character, e.g. NUL
        before = text[: error.position]
        where = f"{source}:{before.count(chr(10)) + 1}:{len(before.rsplit(chr(10), 1)[-1]) + 1}"
        return input_error(
            f"invalid YAML: character {chr(error.character)!r} is not allowed",
            source=where,
            fix="delete that character",
        )
    return input_error(
        f"invalid YAML: {str(error).splitlines()[0]}", source=source, fix="fix the YAML syntax"
    )


def _where(node: yaml.Node, source: str) -> str:
    return f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


#: Most nodes that aliases (``*name``) may add to a YAML document once expanded: far above
#: any real spec, far below an alias bomb (9 levels of 9 aliases expand to 9**9 nodes).
MAX_ALIAS_NODES = 100_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The items, or the keys and values, of a collection node (none of a scalar)."""
    if not isinstance(node, yaml.CollectionNode):
        return []
    return [i for c in node.value for i in (c if isinstance(c, tuple) else (c,))]


def _check_aliases(node: yaml.Node | None, source: str) -> None:
    """Refuse an alias inside the node it refers to (``a: &x [*x]``), which never ends, and
    aliases that expand the document past :data:`MAX_ALIAS_NODES` extra nodes (an alias bomb).

    Each node is visited once (an alias is the same node object as its anchor), so the check
    takes time in the size of the text, not of its expansion.
    """
    if node is None:
        return
    sizes: dict[int, int] = {}  # expanded node count below (and with) each node
    active: set[int] = set()

    def expanded(current: yaml.Node) -> int:
        if id(current) in sizes:
            return sizes[id(current)]
        if id(current) in active:
            raise input_error(
                "invalid YAML: an alias refers to a node that contains it",
                source=_where(current, source),
                fix="do not use an alias (*name) inside the node its anchor (&name) marks",
            )
        active.add(id(current))
        sizes[id(current)] = 1 + sum(expanded(child) for child in _children(current))
        active.discard(id(current))
        return sizes[id(current)]

    if expanded(node) - len(sizes) <= MAX_ALIAS_NODES:
        return
    while True:  # down to the node whose own aliases cross the limit
        bigger = [c for c in _children(node) if sizes[id(c)] > MAX_ALIAS_NODES]
        if not bigger:
            break
        node = bigger[0]
    raise input_error(
        f"invalid YAML: aliases (*name) expand this node to {sizes[id(node)]:_} nodes, more "
        f"than the {MAX_ALIAS_NODES:_} allowed",
        source=_where(node, source),
        fix="write the repeated values out, or repeat them fewer times",
    )


def compose_yaml(text: str, *, source: str) -> yaml.Node | None:
    """The node tree of YAML ``text`` (None when empty); errors name ``source:line:column``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise yaml_error(error, text, source=source) from error
    except RecursionError:
        raise input_error(
            "invalid YAML: nested too deeply",
            source=source,
            fix="flatten the nesting of [ ] and { }",
        ) from None
    _check_aliases(node, source)
    return node


def _scalars(node: yaml.Node) -> list[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        return [node]
    return [scalar for item in _children(node) for scalar in _scalars(item)]


def construct_yaml(node: yaml.Node, *, source: str) -> Any:
    """The Python value of a node of :func:`compose_yaml`; a value YAML cannot build (a bad
    date such as ``2020-02-30``, ``!!int x``, a list as a mapping key) names its line."""
    try:
        return SafeConstructor().construct_document(node)
    except yaml.YAMLError as error:
        raise yaml_error(error, "", source=source) from error
    except Exception as error:  # PyYAML lets ValueError, TypeError, ... through
        bad = node
        for scalar in _scalars(node):
            try:
                SafeConstructor().construct_object(scalar)
            except Exception:
                bad = scalar
                break
        value = f" {bad.value!r}" if isinstance(bad, yaml.ScalarNode) else ""
        raise input_error(
            f"invalid YAML value{value} ({error})",
            source=_where(bad, source),
            fix="quote it to keep it as text, or correct it",
        ) from None


def _node_lines(
    node: yaml.Node | None, path: KeyPath, lines: dict[KeyPath, int], source: str
) -> None:
    """Record the 1-based line of every mapping key and list item below ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise input_error(
                    f"{format_path((*path, key))}: duplicate key, got {key!r}; "
                    f"valid: each key once per mapping",
                    source=f"{source}:{line}",
                    fix="merge the two entries into one",
                )
            seen.add(key)
            lines[(*path, key)] = line
            _node_lines(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _node_lines(item, (*path, index), lines, source)


@dataclass
class SpecDocument:
    """Parsed spec ``data`` from ``source`` and the line of each key path (when from YAML)."""

    data: Any
    source: str = "<dict>"
    lines: dict[KeyPath, int] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, text: str, *, source: str) -> SpecDocument:
        """Parse YAML ``text``; a syntax error names the file, line and column."""
        node = compose_yaml(text, source=source)
        lines: dict[KeyPath, int] = {(): 1}
        _node_lines(node, (), lines, source)
        data = None if node is None else construct_yaml(node, source=source)
        return cls(data, source, lines)

    def line(self, path: KeyPath) -> int | None:
        """Line of ``path``, else of its nearest ancestor with a known line."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def error(
        self, path: KeyPath, constraint: str, value: object, *, valid: str, fix: str
    ) -> ForecastInputError:
        """The one-line error for ``value`` at ``path``."""
        line = self.line(path)
        where = self.source if line is None else f"{self.source}:{line}"
        return input_error(
            f"{format_path(path)}: {constraint}, got {_short(value)}; valid: {valid}",
            source=where,
            fix=fix,
        )


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A value's declared type and constraints; ``check`` returns the value or raises.

    ``nullable`` admits ``null``; ``example`` (YAML text) is offered in the fix; ``valid``
    overrides the generated description of what is accepted.
    """

    nullable: bool = False
    example: str | None = None
    valid: str | None = None

    kind = "a value"

    def describe(self) -> str:
        text = self.valid or self._describe()
        return f"{text} or null" if self.nullable else text

    def _describe(self) -> str:
        return self.kind

    def fix(self, path: KeyPath) -> str:
        key = next((p for p in reversed(path) if isinstance(p, str)), "value")
        return f"e.g. {key}: {self.example}" if self.example else f"set {format_path(path)}"

    def fail(
        self,
        doc: SpecDocument,
        path: KeyPath,
        constraint: str,
        value: object,
        *,
        fix: str | None = None,
    ) -> ForecastInputError:
        return doc.error(path, constraint, value, valid=self.describe(), fix=fix or self.fix(path))

    def check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        if value is None and self.nullable:
            return None
        return self._check(value, path, doc)

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        return value


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return "any value"


@dataclass(frozen=True, kw_only=True)
class Number(Rule):
    """A real number (integers too, booleans not) in a range; ``*_open`` excludes the end."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    kind = "a number"

    def _describe(self) -> str:
        interval = _interval(self.low, self.high, self.low_open, self.high_open)
        return f"numbers {interval}" if interval[0] in "<>" else f"numbers in {interval}"

    def _is_type(self, value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        if not self._is_type(value):
            raise self.fail(doc, path, f"must be {self.kind}", value)
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        if not (above and below):  # NaN fails both comparisons
            raise self.fail(doc, path, "out of range", value)
        return value


@dataclass(frozen=True, kw_only=True)
class Int(Number):
    """An integer (booleans not) in a range."""

    kind = "an integer"

    def _describe(self) -> str:
        interval = _interval(self.low, self.high, self.low_open, self.high_open)
        if interval == "any value":
            return "any integer"
        return f"integers {interval}" if interval[0] in "<>" else f"integers in {interval}"

    def _is_type(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, kw_only=True)
class Bool(Rule):
    kind = "true or false"

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        if not isinstance(value, bool):
            raise self.fail(doc, path, "must be true or false", value)
        return value


@dataclass(frozen=True, kw_only=True)
class Str(Rule):
    """A string, optionally one of ``choices`` (a list, or a callable giving one lazily)."""

    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    what: str = "value"

    kind = "a string"

    def options(self) -> list[str]:
        choices = self.choices() if callable(self.choices) else self.choices
        return list(choices or [])

    def _describe(self) -> str:
        return str(self.options()) if self.choices is not None else "any string"

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        if not isinstance(value, str):
            raise self.fail(
                doc,
                path,
                "must be a string",
                value,
                fix=None if self.choices is None else f"use one of {self.options()}",
            )
        if self.choices is not None and value not in self.options():
            raise self.fail(
                doc,
                path,
                f"unknown {self.what}",
                value,
                fix=closest(value, self.options()) or "use one of the valid names",
            )
        return value


@dataclass(frozen=True, kw_only=True)
class ListOf(Rule):
    """A list of ``item`` values (returned as a tuple)."""

    item: Rule
    min_items: int = 0
    unique: bool = False

    kind = "a list"

    def _describe(self) -> str:
        return f"a list of {self.item.describe()}"

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        if not isinstance(value, list):
            raise self.fail(doc, path, "must be a list", value)
        if len(value) < self.min_items:
            raise self.fail(doc, path, f"needs at least {self.min_items} item(s)", value)
        item = self.item  # an item's fix shows the list's example unless it has its own
        if item.example is None and self.example is not None:
            item = dataclasses.replace(item, example=self.example)
        items = tuple(item.check(v, (*path, i), doc) for i, v in enumerate(value))
        if self.unique:
            for i, v in enumerate(items):
                if v in items[:i]:
                    raise self.fail(doc, (*path, i), "listed twice", v, fix="list each once")
        return items


@dataclass(frozen=True, kw_only=True)
class AnyMapping(Rule):
    """A mapping with string keys and values of any type (e.g. a model's parameters)."""

    kind = "a mapping"

    def _describe(self) -> str:
        return "a mapping of name: value"

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        if not isinstance(value, dict):
            raise self.fail(doc, path, "must be a mapping", value)
        for key in value:
            if not isinstance(key, str):
                raise self.fail(
                    doc, (*path, str(key)), "keys must be strings", key, fix="quote the key"
                )
        return dict(value)


@dataclass(frozen=True, kw_only=True)
class Mapping(AnyMapping):
    """A mapping with declared keys; unknown keys are errors naming the valid ones."""

    fields: dict[str, Rule]
    required: tuple[str, ...] = ()

    def _describe(self) -> str:
        return f"a mapping with keys {sorted(self.fields)}"

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        value = super()._check(value, path, doc)
        for key in value:
            if key not in self.fields:
                raise doc.error(
                    (*path, key),
                    "unknown key",
                    key,
                    valid=str(sorted(self.fields)),
                    fix=closest(key, list(self.fields)) or "remove it",
                )
        for key in self.required:
            if key not in value:
                example = self.fields[key].example
                raise self.fail(
                    doc,
                    path,
                    f"missing key {key!r}",
                    value,
                    fix=f"add {key}: {example}" if example else f"add {key}:",
                )
        return {key: self.fields[key].check(v, (*path, key), doc) for key, v in value.items()}


@dataclass(frozen=True, kw_only=True)
class Either(Rule):
    """One of several rules, chosen by the Python type of the value (first match)."""

    options: tuple[tuple[type | tuple[type, ...], Rule], ...]

    def _describe(self) -> str:
        return " or ".join(rule.describe() for _, rule in self.options)

    def _check(self, value: Any, path: KeyPath, doc: SpecDocument) -> Any:
        for types, rule in self.options:
            if isinstance(value, types):
                return rule.check(value, path, doc)
        kinds = " or ".join(rule.kind for _, rule in self.options)
        raise self.fail(doc, path, f"must be {kinds}", value)

"""Feature-set specs: YAML files validated once into typed, frozen dataclasses.

Every error names the spec file and line (from PyYAML's node marks). See
``docs/features.md`` for the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from forecast._errors import input_error
from forecast._spec_schema import compose_yaml, construct_yaml, file_problem, read_spec_text
from forecast.features._display import Display, parse_display
from forecast.features._transforms import get_transform
from forecast.panel import COUNTRY, UnitNoun

__all__ = [
    "RISK_FACTORS",
    "DatasetDecl",
    "Display",
    "FeatureSet",
    "Indicator",
    "MissingPolicy",
    "SourceRef",
    "TransformStep",
    "parse_feature_set",
]

Kind = Literal["structural", "trigger", "mitigating", "history", "other"]
Role = Literal["feature", "outcome", "helper", "label"]
KINDS: tuple[str, ...] = ("structural", "trigger", "mitigating", "history", "other")
ROLES: tuple[str, ...] = ("feature", "outcome", "helper", "label")
MISSING: tuple[str, ...] = ("leave", "carry_forward", "impute_in_model")

RISK_FACTORS: dict[int, str] = {
    1: "Situations of armed conflict or other forms of instability",
    2: "Record of serious violations of international human rights and humanitarian law",
    3: "Weakness of State structures",
    4: "Motives or incentives",
    5: "Capacity to commit atrocity crimes",
    6: "Absence of mitigating factors",
    7: "Enabling circumstances or preparatory action",
    8: "Triggering factors",
    9: "Intergroup tensions or patterns of discrimination against protected groups",
    10: "Signs of an intent to destroy in whole or in part a protected group",
    11: "Signs of a widespread or systematic attack against any civilian population",
    12: "Signs of a plan or policy to attack any civilian population",
    13: "Serious threats to those protected under international humanitarian law",
    14: "Serious threats to humanitarian or peacekeeping operations",
}
"""Risk factors of the UN Framework of Analysis for Atrocity Crimes (2014), by number."""


@dataclass(frozen=True)
class SourceRef:
    """Where an indicator's raw values come from: ``dataset.column`` or another indicator."""

    dataset: str | None
    column: str | None
    indicator: str | None = None


@dataclass(frozen=True)
class TransformStep:
    """One step of a transform chain, with the spec line it was written on."""

    name: str
    params: dict[str, Any]
    line: int


@dataclass(frozen=True)
class MissingPolicy:
    """``leave`` (keep NaN), ``carry_forward`` (at most ``max_years``) or ``impute_in_model``."""

    policy: str = "leave"
    max_years: int | None = None


@dataclass(frozen=True)
class Indicator:
    """One column of the panel (or a helper used by others)."""

    name: str
    source: SourceRef
    transforms: tuple[TransformStep, ...]
    kind: str
    role: str
    risk_factor: int | None
    description: str
    publication_lag: int
    missing: MissingPolicy
    line: int
    path: Path = Path("<spec>")
    label: str = ""
    display: Display | None = None
    window: tuple[int, int] | None = None

    @property
    def text(self) -> str:
        """What a reader is shown: the ``label``, else the name."""
        return self.label or self.name

    def where(self, line: int | None = None) -> str:
        """``file:line`` of this indicator (or of one of its transform steps)."""
        return f"{self.path}:{self.line if line is None else line}"

    def depends_on(self) -> list[str]:
        """Names of other indicators this one reads (source or transform references)."""
        out = [self.source.indicator] if self.source.indicator else []
        for step in self.transforms:
            out += [str(step.params[r]) for r in get_transform(step.name).refs if r in step.params]
        return out


@dataclass(frozen=True)
class DatasetDecl:
    """A dataset declared in the spec, one of three forms (see ``docs/features.md``):

    - a user file keyed by unit and year: ``{path: panel.csv, unit: country, year: year}``;
    - a neighbour table (no years; read by ``spatial_lag``): ``{path: adjacency.csv,
      unit: cell, neighbour: neighbour_cell}``, one row per (unit, neighbour) pair;
    - a registered dataset of :func:`forecast.data.load_dataset` with its options:
      ``{dataset: synthetic-world, options: {flavour: grid, n_cells: 2500}}``.
    """

    name: str
    path: Path | None
    unit: str
    year: str | None
    line: int
    neighbour: str | None = None
    dataset: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> Literal["table", "neighbours", "dataset"]:
        if self.dataset is not None:
            return "dataset"
        return "neighbours" if self.neighbour is not None else "table"


@dataclass(frozen=True)
class FeatureSet:
    """A validated feature-set spec.

    Attributes
    ----------
    name, description : str
    path : Path
        The YAML file (errors cite ``path:line``).
    replication : bool
        True only for a faithful rebuild of an upstream panel: look-ahead transforms allowed.
    skeleton : str
        Dataset whose (unit, year) rows form the build grid.
    unit, year : str
        Names of the key columns in the output panel.
    first_year, last_year : int or None
        Rows kept in the output (the grid may start earlier so that lags see history).
    unit_system : str or None
        ``'cow'`` to check source units against the COW state system, None for any ids.
    datasets : tuple of DatasetDecl
        User files (bring-your-own data).
    indicators : tuple of Indicator
    unit_label : str or None
        A ``role: label`` indicator holding each unit's display name (risk lists show it).
    unit_noun : UnitNoun
        What the units are called on risk lists and reports (``unit_noun: cell``, or
        ``{singular: district, plural: districts}``); default "country".
    """

    name: str
    description: str
    path: Path
    replication: bool
    skeleton: str
    unit: str
    year: str
    first_year: int | None
    last_year: int | None
    unit_system: str | None
    datasets: tuple[DatasetDecl, ...]
    indicators: tuple[Indicator, ...] = field(default_factory=tuple)
    unit_label: str | None = None
    unit_noun: UnitNoun = COUNTRY

    def where(self, line: int) -> str:
        """``path:line`` for error messages."""
        return f"{self.path}:{line}"

    def by_role(self, role: str) -> list[Indicator]:
        return [i for i in self.indicators if i.role == role]

    @property
    def features(self) -> list[str]:
        return [i.name for i in self.by_role("feature")]

    @property
    def outcomes(self) -> list[str]:
        return [i.name for i in self.by_role("outcome")]

    @property
    def kinds(self) -> dict[str, str]:
        return {i.name: i.kind for i in self.by_role("feature")}

    @property
    def windows(self) -> dict[str, tuple[int, int]]:
        """The outcomes declared as windows (``window: [first, last]`` years ahead)."""
        return {i.name: i.window for i in self.by_role("outcome") if i.window is not None}


# --- YAML with line numbers ---------------------------------------------------------------


class _Map(dict):
    line: int = 0
    key_lines: dict[str, int]


class _List(list):
    line: int = 0
    item_lines: list[int]


def _plain(node: yaml.Node, source: Path) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = _Map()
        out.line, out.key_lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise input_error(
                    "a mapping key must be a name, not a list or mapping",
                    source=f"{source}:{line}",
                    fix="write 'key: value'",
                )
            key = construct_yaml(key_node, source=str(source))
            out[key] = _plain(value_node, source)
            out.key_lines[key] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        items = _List(_plain(v, source) for v in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [v.start_mark.line + 1 for v in node.value]
        return items
    return construct_yaml(node, source=str(source))


def _read_yaml(path: Path) -> _Map:
    node = compose_yaml(read_spec_text(path), source=str(path))
    if not isinstance(node, yaml.MappingNode):
        raise input_error(
            "a feature-set spec must be a YAML mapping",
            source=str(path),
            fix="start the file with 'name: ...' and 'indicators: [...]'",
        )
    return _plain(node, path)


# --- validation ---------------------------------------------------------------------------

_TOP = {
    "extends",
    "name",
    "description",
    "replication",
    "skeleton",
    "unit",
    "year",
    "first_year",
    "last_year",
    "unit_system",
    "datasets",
    "indicators",
    "unit_label",
    "unit_noun",
}
_IND = {
    "name",
    "source",
    "transforms",
    "kind",
    "role",
    "risk_factor",
    "description",
    "publication_lag",
    "missing",
    "label",
    "display",
    "window",
}


def _unknown_keys(mapping: dict, allowed: set[str], where: str, what: str) -> None:
    extra = sorted((key for key in mapping if key not in allowed), key=str)
    if extra:
        raise input_error(
            f"unknown {what} key(s) {extra}; valid keys: {sorted(allowed)}",
            source=where,
            fix="remove or rename them",
        )


def _int(value: Any, where: str, what: str, *, minimum: int = 0, example: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise input_error(
            f"{what} must be an integer >= {minimum}, got {value!r}",
            source=where,
            fix=f"write a whole number such as {minimum if example is None else example}",
        )
    return value


def _name(value: Any, where: str, what: str) -> str:
    """A name the spec gives (a column, dataset, indicator): a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise input_error(
            f"{what} must be non-empty text, got {value!r}",
            source=where,
            fix=f"write {what}: followed by a name",
        )
    return value


def _source(raw: Any, where: str) -> SourceRef:
    if isinstance(raw, str) and "." in raw and not raw.startswith(".") and not raw.endswith("."):
        dataset, column = raw.split(".", 1)
        return SourceRef(dataset, column)
    if isinstance(raw, dict):
        if "indicator" in raw and set(raw) == {"indicator"}:
            return SourceRef(None, None, _name(raw["indicator"], where, "source.indicator"))
        if set(raw) == {"dataset", "column"}:
            return SourceRef(
                _name(raw["dataset"], where, "source.dataset"),
                _name(raw["column"], where, "source.column"),
            )
    raise input_error(
        f"source must be 'dataset.column', {{dataset:, column:}} or "
        f"{{indicator: name}}, got {raw!r}",
        source=where,
        fix="e.g. source: {dataset: wdi, column: wdi.popsize.new}",
    )


def _is_kind(value: Any, kind: type) -> bool:
    """``value`` is of a transform parameter's declared type (an int is a float, a bool is
    neither)."""
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


def _steps(raw: Any, where_line: int, fs_path: Path) -> tuple[TransformStep, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise input_error(
            "transforms must be a list",
            source=f"{fs_path}:{where_line}",
            fix="write '- name: {params}' items",
        )
    steps = []
    lines = getattr(raw, "item_lines", [where_line] * len(raw))
    for item, line in zip(raw, lines):
        where = f"{fs_path}:{line}"
        params: dict[str, Any]
        if isinstance(item, str):
            name, params = item, {}
        elif (
            isinstance(item, dict)
            and len(item) == 1
            and isinstance(next(iter(item.values())), dict | None)
        ):
            name, params = next(iter(item.items()))
            params = dict(params or {})
        else:
            raise input_error(
                f"a transform is a name or a one-key mapping name: {{parameters}}, got {item!r}",
                source=where,
                fix="e.g. '- lag: {years: 1}' or '- log2'",
            )
        transform = get_transform(str(name), source=where)
        extra = sorted((key for key in params if key not in transform.params), key=str)
        if extra:
            raise input_error(
                f"transform {name!r} has no parameter(s) {extra}; valid: "
                f"{sorted(transform.params)}",
                source=where,
                fix="remove or rename them",
            )
        missing = [key for key in transform.required if key not in params]
        if missing:
            raise input_error(
                f"transform {name!r} needs the parameter(s) {missing}",
                source=where,
                fix=f"e.g. '- {name}: {{{missing[0]}: ...}}'",
            )
        for key, kind in transform.params.items():
            if key in params and kind is int:
                params[key] = _int(params[key], where, f"{name}.{key}", example=1)
            elif key in params and not _is_kind(params[key], kind):
                what = {float: "a number", str: "a string", list: "a list", dict: "a mapping"}
                raise input_error(
                    f"{name}.{key} must be {what.get(kind, kind.__name__)}, got {params[key]!r}",
                    source=where,
                    fix=f"write {what.get(kind, kind.__name__)}",
                )
        steps.append(TransformStep(str(name), params, line))
    return tuple(steps)


def _missing(raw: Any, where: str) -> MissingPolicy:
    if raw is None or raw == "leave":
        return MissingPolicy()
    if raw == "impute_in_model":
        return MissingPolicy("impute_in_model")
    if isinstance(raw, dict) and set(raw) == {"carry_forward"}:
        return MissingPolicy(
            "carry_forward", _int(raw["carry_forward"], where, "carry_forward", minimum=1)
        )
    raise input_error(
        f"missing must be one of {list(MISSING)} ('carry_forward' as "
        f"{{carry_forward: k}}), got {raw!r}",
        source=where,
        fix="e.g. missing: {carry_forward: 3}",
    )


def _indicator(raw: Any, line: int, fs: Path) -> Indicator:
    where = f"{fs}:{line}"
    if not isinstance(raw, dict):
        raise input_error(
            "an indicator must be a mapping",
            source=where,
            fix="write name:, source:, kind: ... keys",
        )
    _unknown_keys(raw, _IND, where, "indicator")
    for key in ("name", "source"):
        if key not in raw:
            raise input_error(
                f"indicator is missing {key!r}", source=where, fix=f"add a {key}: entry"
            )
    role = raw.get("role", "feature")
    if role not in ROLES:
        raise input_error(
            f"role must be one of {list(ROLES)}, got {role!r}",
            source=where,
            fix="use feature, outcome, helper or label",
        )
    kind = raw.get("kind", "other")
    if kind not in KINDS:
        raise input_error(
            f"kind must be one of {list(KINDS)}, got {kind!r}",
            source=where,
            fix="pick the closest kind",
        )
    if role == "feature" and "kind" not in raw:
        raise input_error(
            f"feature {raw['name']!r} needs a kind ({', '.join(KINDS)})",
            source=where,
            fix="add kind: structural (or another kind)",
        )
    factor = raw.get("risk_factor")
    if factor is not None and (
        isinstance(factor, bool) or not isinstance(factor, int) or factor not in RISK_FACTORS
    ):
        raise input_error(
            f"risk_factor must be a UN Framework risk factor number 1-14, got {factor!r}",
            source=where,
            fix="see forecast.features.RISK_FACTORS for the list",
        )
    key_lines = getattr(raw, "key_lines", {})
    return Indicator(
        name=_name(raw["name"], where, "name"),
        source=_source(raw["source"], f"{fs}:{key_lines.get('source', line)}"),
        transforms=_steps(raw.get("transforms"), key_lines.get("transforms", line), fs),
        kind=kind,
        role=role,
        risk_factor=factor,
        description=str(raw.get("description", "")),
        publication_lag=_int(raw.get("publication_lag", 0), where, "publication_lag"),
        missing=_missing(raw.get("missing"), where),
        line=line,
        path=fs,
        label=_label(raw.get("label"), f"{fs}:{key_lines.get('label', line)}"),
        display=parse_display(raw.get("display"), f"{fs}:{key_lines.get('display', line)}"),
        window=_window(raw.get("window"), role, f"{fs}:{key_lines.get('window', line)}"),
    )


def _window(raw: Any, role: str, where: str) -> tuple[int, int] | None:
    """An outcome's ``window: [first, last]``: the years ahead it covers (1 <= first <= last)."""
    if raw is None:
        return None
    if role != "outcome":
        raise input_error(
            f"only an outcome can declare a window, not a {role}",
            source=where,
            fix="remove window:, or set role: outcome",
        )
    ok = isinstance(raw, list) and len(raw) == 2
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
    if not (ok and 1 <= raw[0] <= raw[1]):
        raise input_error(
            f"window must be [first, last] years ahead with 1 <= first <= last, got {raw!r}",
            source=where,
            fix="e.g. window: [1, 2] for an onset in t+1 or t+2",
        )
    return int(raw[0]), int(raw[1])


def _label(raw: Any, where: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        raise input_error(
            f"label must be a short text, got {raw!r}",
            source=where,
            fix="e.g. label: share of population politically discriminated",
        )
    return " ".join(raw.split())


def _datasets(raw: Any, fs: Path) -> tuple[DatasetDecl, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise input_error(
            "datasets must be a mapping name -> {path, unit, year}",
            source=str(fs),
            fix="see docs/features.md",
        )
    out = []
    for name, decl in raw.items():
        line = getattr(raw, "key_lines", {}).get(name, 0)
        where = f"{fs}:{line}"
        if isinstance(decl, dict) and "dataset" in decl:
            out.append(_registered(name, decl, line, where))
            continue
        if isinstance(decl, dict) and "neighbour" in decl and "year" not in decl:
            out.append(_neighbour_table(name, decl, line, where, fs))
            continue
        if not isinstance(decl, dict) or not {"path", "unit", "year"} <= set(decl):
            raise input_error(
                f"dataset {name!r} needs path, unit and year (or path, unit and neighbour "
                "for a neighbour table, or dataset and options for a registered dataset)",
                source=where,
                fix="e.g. {path: my_panel.csv, unit: country, year: year}",
            )
        path = Path(_name(decl["path"], where, "path")).expanduser()
        unit, year = _name(decl["unit"], where, "unit"), _name(decl["year"], where, "year")
        if unit == year:
            raise input_error(
                f"dataset {name!r}: unit and year name the same column {unit!r}",
                source=where,
                fix="name the file's unit and year columns",
            )
        out.append(
            DatasetDecl(
                _name(name, where, "dataset"),
                path if path.is_absolute() else fs.parent / path,
                unit,
                year,
                line,
            )
        )
    return tuple(out)


def _neighbour_table(name: str, decl: dict, line: int, where: str, fs: Path) -> DatasetDecl:
    """``{path, unit, neighbour}``: a file of (unit, neighbour) pairs."""
    _unknown_keys(decl, {"path", "unit", "neighbour"}, where, f"dataset {name!r}")
    for key in ("path", "unit"):
        if key not in decl:
            raise input_error(
                f"neighbour table {name!r} needs {key}",
                source=where,
                fix="e.g. {path: neighbours.csv, unit: cell, neighbour: neighbour_cell}",
            )
    path = Path(_name(decl["path"], where, "path")).expanduser()
    unit = _name(decl["unit"], where, "unit")
    neighbour = _name(decl["neighbour"], where, "neighbour")
    if unit == neighbour:
        raise input_error(
            f"dataset {name!r}: unit and neighbour name the same column {unit!r}",
            source=where,
            fix="name the file's two unit columns",
        )
    return DatasetDecl(
        _name(name, where, "dataset"),
        path if path.is_absolute() else fs.parent / path,
        unit,
        None,
        line,
        neighbour=neighbour,
    )


def _registered(name: str, decl: dict, line: int, where: str) -> DatasetDecl:
    """``{dataset, options}``: a dataset of :func:`forecast.data.load_dataset`."""
    from forecast.data import dataset_names, dataset_options

    _unknown_keys(decl, {"dataset", "options"}, where, f"dataset {name!r}")
    dataset = _name(decl["dataset"], where, "dataset")
    if dataset not in dataset_names():
        raise input_error(
            f"dataset {name!r}: unknown registered dataset {dataset!r}; valid: {dataset_names()}",
            source=where,
            fix="name a registered dataset, or declare a file with path, unit and year",
        )
    options = decl.get("options") or {}
    if not isinstance(options, dict):
        raise input_error(
            f"dataset {name!r}: options must be a mapping, got {options!r}",
            source=where,
            fix="e.g. options: {flavour: grid, n_cells: 2500}",
        )
    valid = [key for key in dataset_options(dataset) if key != "root"]
    unknown = sorted((key for key in options if key not in valid), key=str)
    if unknown:
        raise input_error(
            f"dataset {name!r}: unknown option(s) {unknown} of {dataset!r}; valid: {valid}",
            source=where,
            fix="remove or rename them",
        )
    return DatasetDecl(
        _name(name, where, "dataset"),
        None,
        "unit",
        "year",
        line,
        dataset=dataset,
        options=dict(options),
    )


def parse_feature_set(path: str | Path, *, _chain: tuple[Path, ...] | None = None) -> FeatureSet:
    """Read and validate a feature-set YAML file.

    A spec may ``extends: other.yaml`` (relative to its own folder): it inherits the
    other's settings and indicators; its own indicators replace same-named ones in place
    and new ones are appended. ``replication`` is never inherited.
    """
    path = Path(path)
    if problem := file_problem(path):
        raise input_error(
            "feature-set spec not found" if problem == "not found" else f"the spec is {problem}",
            source=str(path),
            fix="check the path or use a name from feature_set_names()",
        )
    raw = _read_yaml(path)
    _unknown_keys(raw, _TOP, f"{path}:{raw.line}", "top-level")
    parent = None
    if "extends" in raw:
        extends_at = f"{path}:{raw.key_lines['extends']}"
        base = Path(_name(raw["extends"], extends_at, "extends"))
        base = base if base.is_absolute() else path.parent / base
        if not base.is_file():
            raise input_error(
                f"extends: the spec {str(base)!r} does not exist",
                source=extends_at,
                fix="give the path of a feature-set YAML file, relative to this spec's folder",
            )
        if _chain is not None and base.resolve() in _chain:
            raise input_error(
                "cyclic 'extends' between specs",
                source=f"{path}:{raw.key_lines['extends']}",
                fix="a spec cannot extend itself",
            )
        parent = parse_feature_set(base, _chain=(_chain or ()) + (path.resolve(),))
        for key in (
            "skeleton",
            "unit",
            "year",
            "first_year",
            "last_year",
            "unit_system",
            "description",
            "unit_label",
            "unit_noun",
        ):
            if key not in raw and getattr(parent, key) is not None:
                raw[key] = getattr(parent, key)
    for key in ("name", "skeleton", "indicators"):
        if key not in raw:
            raise input_error(
                f"spec is missing {key!r}", source=f"{path}:1", fix=f"add a top-level {key}: entry"
            )
    items = raw["indicators"]
    if not isinstance(items, list) or not items:
        raise input_error(
            "indicators must be a non-empty list",
            source=f"{path}:{raw.key_lines['indicators']}",
            fix="list indicators",
        )
    own = [
        _indicator(item, line, path)
        for item, line in zip(items, getattr(items, "item_lines", [raw.line] * len(items)))
    ]
    indicators = tuple(own)
    if parent is not None:
        # Same-named indicators replace the parent's in place; new ones are appended.
        replace = {i.name: i for i in own}
        inherited = [replace.pop(i.name, i) for i in parent.indicators]
        indicators = tuple(inherited + [i for i in own if i.name in replace])

    def where(key: str) -> str:
        return f"{path}:{raw.key_lines.get(key, raw.line)}"

    unit = _name(raw.get("unit", "unit"), where("unit"), "unit")
    year = _name(raw.get("year", "year"), where("year"), "year")
    if unit == year:
        raise input_error(
            f"unit and year name the same column {unit!r}",
            source=where("year"),
            fix="give the key columns of the panel two names",
        )
    seen: dict[str, int] = {}
    for ind in indicators:
        if ind.name in seen:
            raise input_error(
                f"indicator {ind.name!r} is defined twice (first at line {seen[ind.name]})",
                source=f"{path}:{ind.line}",
                fix="rename or remove one",
            )
        if ind.name in (unit, year):
            raise input_error(
                f"indicator {ind.name!r} has the name of a key column of the panel",
                source=ind.where(),
                fix="rename the indicator",
            )
        seen[ind.name] = ind.line
    unit_system = raw.get("unit_system")
    if unit_system not in (None, "cow"):
        raise input_error(
            f"unit_system must be 'cow' or omitted, got {unit_system!r}",
            source=where("unit_system"),
            fix="omit it for your own unit identifiers",
        )
    replication = raw.get("replication", False)
    if not isinstance(replication, bool):
        raise input_error(
            f"replication must be true or false, got {replication!r}",
            source=where("replication"),
            fix="write replication: true or omit it",
        )
    first, last = (
        None if raw.get(key) is None else _int(raw[key], where(key), key)
        for key in ("first_year", "last_year")
    )
    if first is not None and last is not None and first > last:
        raise input_error(
            f"first_year ({first}) is after last_year ({last})",
            source=where("first_year"),
            fix="swap them",
        )
    description = raw.get("description", "")
    return FeatureSet(
        name=_name(raw["name"], where("name"), "name"),
        description="" if description is None else str(description),
        path=path,
        replication=replication,
        skeleton=_name(raw["skeleton"], where("skeleton"), "skeleton"),
        unit=unit,
        year=year,
        first_year=first,
        last_year=last,
        unit_system=unit_system,
        datasets=(parent.datasets if parent else ()) + _datasets(raw.get("datasets"), path),
        indicators=indicators,
        unit_label=_unit_label(raw, indicators, path),
        unit_noun=UnitNoun.parse(raw.get("unit_noun", COUNTRY), source=where("unit_noun")),
    )


def _unit_label(raw: _Map, indicators: tuple[Indicator, ...], path: Path) -> str | None:
    """``unit_label:`` must name a ``role: label`` indicator (kept in the panel as text)."""
    name = raw.get("unit_label")
    if name is None:
        return None
    where = f"{path}:{getattr(raw, 'key_lines', {}).get('unit_label', 1)}"
    labels = [i.name for i in indicators if i.role == "label"]
    if name not in labels:
        raise input_error(
            f"unit_label {name!r} is not a 'role: label' indicator of the spec; "
            f"label indicators: {labels}",
            source=where,
            fix="add {name: NAME, role: label, source: dataset.column} or fix the name",
        )
    return str(name)

"""The experiment specs shipped with the package (``forecast/_data/experiments``), by name.

A spec argument is a path to a YAML file or the name of a shipped spec, so that a user who
installed the wheel runs ``forecast backtest synthetic-default`` without the checkout's
``experiments/`` folder (a link to the package data).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from forecast._errors import input_error

__all__ = ["experiment_dir", "experiment_names", "resolve_experiment"]


def experiment_dir() -> Path:
    """The folder holding the shipped experiment specs (package data)."""
    return Path(str(resources.files("forecast").joinpath("_data", "experiments")))


def experiment_names() -> list[str]:
    """Names of the shipped experiment specs (YAML file stems of :func:`experiment_dir`)."""
    return sorted(p.stem for p in experiment_dir().glob("*.yaml"))


def resolve_experiment(spec: str | Path) -> Path:
    """The YAML file of ``spec``: an existing path, else the shipped spec of that name.

    Raises
    ------
    ForecastInputError
        Not a readable file (a folder, a device, a symlink loop: named) nor a shipped name;
        the message lists the shipped names.
    """
    from forecast._spec_schema import file_problem

    path = Path(spec)
    problem = file_problem(path)
    if problem is None:
        return path
    if problem != "not found":  # a folder, a device, a symlink loop: say which
        raise input_error(
            f"the spec is {problem}",
            source=str(spec),
            fix="pass the path of a YAML file such as experiments/synthetic-default.yaml",
        )
    if path.suffix not in {".yaml", ".yml"} and len(path.parts) == 1:
        shipped = experiment_dir() / f"{path.name}.yaml"
        if shipped.is_file():
            return shipped
    raise input_error(
        "experiment spec not found (neither a file nor a shipped experiment)",
        source=str(spec),
        fix=f"pass a YAML path, or a shipped name ({', '.join(experiment_names())}; "
        "`forecast experiments list`)",
    )

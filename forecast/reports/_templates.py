"""The one Jinja2 environment every page renders through (autoescape on).

Templates live in ``forecast/_data/templates``; data reaches them as values and is
escaped by Jinja2 unless a builder in :mod:`forecast.reports._html` marked it as
markup it escaped itself (:class:`markupsafe.Markup`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

__all__ = ["Markup", "environment", "render"]


@cache
def environment() -> jinja2.Environment:
    """The shared environment: package templates, autoescape, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecast", "_data/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from forecast.reports._html import fmt

    env.filters["fmt"] = fmt
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of ``forecast/_data/templates`` with ``context``."""
    return environment().get_template(template).render(**context)

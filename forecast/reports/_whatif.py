"""A what-if page: a unit's risk on the published list, a scenario, and each trigger alone.

Renders a :class:`forecast.risk.WhatIf` (it computes nothing) through ``whatif.html.j2``:
indicator names and values as a reader sees them (natural units), never column names.
"""

from __future__ import annotations

from pathlib import Path

from forecast.reports._risklist import _pct

__all__ = ["render_whatif"]


def _scenario(s) -> dict[str, str]:
    return {
        "risk": _pct(s.probability),
        "range": f"{_pct(s.lower)} – {_pct(s.upper)}" if s.lower == s.lower else "",
        "rank": str(s.rank),
        "tier": str(s.tier),
    }


def render_whatif(
    result, out_dir: str | Path, *, horizon: int, listed: str = "published list"
) -> Path:
    """Write ``result`` (a :class:`forecast.risk.WhatIf`) as ``whatif.html`` in ``out_dir``.

    ``horizon`` gives the forecast window (``year + 1`` to ``year + horizon``); ``listed``
    names the list the baseline is on. Returns the path written.
    """
    from forecast.reports._templates import render

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    y = result.year
    t = result.triggers
    moves = result.moves.to_dict("records") if result.moves is not None else []
    points = 100 * (result.scenario.probability - result.baseline.probability)
    html = render(
        "whatif.html.j2",
        title=f"{result.name}: what if",
        subtitle=f"Model {result.model}; data up to {y}",
        w=result,
        window=f"{y + 1}-{y + horizon}",
        listed=listed,
        base=_scenario(result.baseline),
        scen=_scenario(result.scenario),
        points=f"{points:+.1f} pts",
        moves=moves,
        triggers=[
            {
                "label": r.label,
                "now": r.current_text,
                "event": r.event_text,
                "risk": _pct(r.probability),
                "change": "already" if r.already else f"{100 * r.change:+.1f} pts",
                "tier": r.tier,
                "why": r.why,
            }
            for r in t.itertuples()
        ],
    )
    path = out / "whatif.html"
    path.write_text(html, encoding="utf-8")
    return path

"""Loader of the ``ewp-2025`` modelling panel (USHMM Early Warning Project, 2025)."""

from __future__ import annotations

from pathlib import Path

from forecast.data._files import read_table
from forecast.data._store import load_manifest, verify_file
from forecast.outcomes import onset_within
from forecast.panel import Panel

__all__ = ["EWP_FEATURE_KINDS", "EWP_PANEL_FILE", "load_ewp_2025"]

EWP_PANEL_FILE = "prepared2024predictors-2025-09-03.csv"

#: The 39 predictors of the 2025 assessment and their kind.
EWP_FEATURE_KINDS: dict[str, str] = {
    "widetargeting": "history",
    "narrowtargeting": "history",
    "v2csgender_binary": "structural",
    "v2mecenefm_binary": "structural",
    "partyban.new.0": "structural",
    "partyban.new.1": "structural",
    "partyban.new.2": "structural",
    "minorityrule": "structural",
    "judicialreform": "mitigating",
    "religiousfreedom": "mitigating",
    "pol_killing_approved": "structural",
    "freediscussion": "mitigating",
    "social_inequality": "structural",
    "even_civilrights": "mitigating",
    "repress_civilsoc": "structural",
    "social_power_dist": "structural",
    "ses_power_dist": "structural",
    "popsize.log2": "structural",
    "gdppcgrowth": "trigger",
    "un_imr_sqrt": "structural",
    "efindex": "structural",
    "discrimpop": "structural",
    "reg.na": "structural",
    "reg.eap": "structural",
    "reg.sca": "structural",
    "reg.mna": "structural",
    "reg.eur": "structural",
    "ios.iccpr1": "mitigating",
    "battledeaths.log2": "trigger",
    "coup.try.5yr": "trigger",
    "mk_ongoing_count_log2": "history",
    "mean_mk_onset_interaction": "history",
    "mk_onset_prev_year": "history",
    "newcountry": "trigger",
    "mk_ever": "history",
    "year": "structural",
    "year_sq": "structural",
    "countryage.new.log2": "structural",
    "includesnonstate": "structural",
}

EWP_OUTCOMES = ["mk_onset", "mk_onset_1", "mk_onset_2", "mk_onset_1or2"]
EWP_WINDOWS = {"mk_onset_1": (1, 1), "mk_onset_2": (2, 2), "mk_onset_1or2": (1, 2)}
"""The outcomes that are windows of ``mk_onset`` (the annual event), with the years ahead."""


def load_ewp_2025(root: Path | None = None) -> Panel:
    """Load the EWP 2025 modelling panel with censored outcome windows.

    The upstream file codes ``mk_onset_1or2`` as 0 in 2023 and 2024, whose outcomes are
    not yet known; this loader recomputes it with :func:`forecast.outcomes.onset_within`
    (horizon 2), so those windows are missing. ``unit`` is the EWP country name; the COW
    code is kept as ``ccode``.

    Parameters
    ----------
    root : Path, optional
        Data root holding ``ewp-2025/``; default :func:`forecast.data.data_dir`.
    """
    manifest = load_manifest("ewp-2025")
    path = verify_file(manifest, EWP_PANEL_FILE, root)
    frame = read_table(path).rename(columns={"ewp_name": "unit"})
    frame["upstream_mk_onset_1or2"] = frame["mk_onset_1or2"]
    frame["mk_onset_1or2"] = onset_within(frame, 2, unit="ccode", onset="mk_onset")
    return Panel.from_frame(
        frame,
        unit="unit",
        year="year",
        features=list(EWP_FEATURE_KINDS),
        outcomes=EWP_OUTCOMES,
        kinds=EWP_FEATURE_KINDS,
        name="ewp-2025",
        extra=["ccode", "upstream_mk_onset_1or2"],
        unit_code="ccode",
        windows=EWP_WINDOWS,
    )

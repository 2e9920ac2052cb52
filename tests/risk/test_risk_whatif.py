"""What-if triggers and country profiles: the list's own fit, bit for bit; names; the CLI."""

from __future__ import annotations

import re

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.cli import main
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.risk import (
    attribute,
    build_risklist,
    country_profile,
    event_values,
    fit_latest,
    indicator_info,
    resolve_unit,
    what_if,
)
from forecast.risk._drivers import log_odds
from forecast.risk._whatif import to_natural

UNIT = "Norvania"
SPEC = """\
name: whatif-smoke
dataset: synthetic-world
outcome: mk_onset
horizon: 2
origins: {first: 2015, last: 2024}
seed: 5
models:
  - name: elastic_net
    params: {n_alphas: 8}
"""


@pytest.fixture(scope="module")
def panel():
    return load_dataset("synthetic-world")


@pytest.fixture(scope="module")
def config():
    return experiment_from_dict(
        {
            "name": "x",
            "seed": 5,
            "horizon": 2,
            "origins": {"first": 2015, "last": 2024},
            "models": [{"name": "elastic_net", "params": {"n_alphas": 8}}],
        }
    )


@pytest.fixture(scope="module")
def latest(config, panel):
    return fit_latest(config, model_label="elastic_net", panel=panel)


@pytest.fixture(scope="module")
def risk(latest):
    return build_risklist(latest).set_index("unit")


def test_baseline_is_the_published_list_bit_for_bit(config, panel, latest, risk):
    own = what_if(config, unit=UNIT.lower(), values={}, panel=panel)  # its own fit
    shared = what_if(config, unit=UNIT, values={}, latest=latest)
    row = risk.loc[UNIT]
    for result in (own, shared):
        assert result.unit == UNIT and result.name == UNIT and result.year == 2024
        assert result.baseline.probability == row["probability"]  # ==, not approx
        assert (result.baseline.rank, result.baseline.tier) == (row["rank"], row["tier"])
        assert result.scenario == result.baseline


def test_setting_the_current_values_changes_nothing(config, latest):
    row = list(latest.current.units).index(UNIT)
    info = indicator_info(config)
    now = {
        f: to_natural(info, f, latest.current.X[row, j])  # values are in natural units
        for j, f in enumerate(latest.features)
        if np.isfinite(latest.current.X[row, j])
    }
    result = what_if(config, unit=UNIT, values=now, latest=latest)
    assert result.scenario.probability == pytest.approx(result.baseline.probability, rel=1e-9)


def test_a_linear_scenario_moves_only_the_changed_contribution(config, latest):
    result = what_if(
        config, unit=UNIT, values={"coup.try.5yr": 1, "Battle-Deaths-Log2": 4095.0}, latest=latest
    )  # names match loosely; 4,095 battle deaths is 12 on the log2(deaths + 1) scale
    assert set(result.scenario.values) == {"coup_try_5yr", "battle_deaths_log2"}
    cur = latest.current
    row = list(cur.units).index(UNIT)
    x = cur.X[[row]].copy()
    before = attribute(cur.estimator, x, reference=cur.train_median).contributions[0]
    for feature, value in result.scenario.values.items():
        x[0, latest.features.index(feature)] = value
    after = attribute(cur.estimator, x, reference=cur.train_median).contributions[0]
    moved = {latest.features[j] for j in np.flatnonzero(np.abs(after - before) > 0)}
    assert moved <= set(result.scenario.values)
    eta = log_odds(cur.estimator, x)[0]  # oracle: the model on the changed row alone
    assert result.scenario.probability == pytest.approx(1 / (1 + np.exp(-eta)), abs=1e-12)
    assert (
        result.current["battle_deaths_log2"]
        == cur.X[row, latest.features.index("battle_deaths_log2")]
    )


def test_a_big_enough_trigger_moves_the_unit_up_the_list(config, latest, risk):
    low = risk[risk["rank"] > 60].index[0]
    result = what_if(config, unit=low, values={"battle_deaths_log2": 2.0**40}, latest=latest)
    assert result.scenario.probability > result.baseline.probability
    assert result.scenario.rank < result.baseline.rank
    assert result.scenario.tier != result.baseline.tier
    higher = (risk["probability"] > result.scenario.probability).sum()
    assert result.scenario.rank == higher + 1  # placed among the others, unchanged


def test_trigger_table_has_one_row_per_trigger_at_its_event_value(config, latest, panel):
    result = what_if(config, unit=UNIT, values={}, latest=latest)
    t = result.triggers
    triggers = [f for f in panel.features if panel.kinds[f] == "trigger"]
    assert sorted(t["feature"]) == sorted(triggers)
    assert list(t["probability"]) == sorted(t["probability"], reverse=True)
    events = event_values(latest, triggers).set_index("feature")
    assert events.loc["coup_try_5yr", "event_value"] == 1.0  # a binary fires at 1
    values = panel.frame.loc[panel.frame["year"] <= 2024, "battle_deaths_log2"].dropna()
    nonzero = values[values != 0]  # mostly 0: the event is among the real ones
    assert (values == 0).mean() >= 0.5
    assert events.loc["battle_deaths_log2", "event_value"] == pytest.approx(
        np.quantile(nonzero, 0.9)
    )
    same = t[t["already"]]
    assert (same["probability"] == result.baseline.probability).all()
    assert np.allclose(t["change"], t["probability"] - result.baseline.probability)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"unit": "Norvanai", "values": {}},
            r"unit 'Norvanai' is not in the panel in 2024; fix: did you mean 'Norvania'",
        ),
        ({"unit": UNIT, "values": {"coup": 1}}, r"unknown indicator 'coup'; fix: use one of \["),
    ],
)
def test_unknown_names_fail_before_any_fit(config, panel, monkeypatch, kwargs, match):
    import forecast.risk._whatif as module

    monkeypatch.setattr(module, "fit_latest", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(ForecastInputError, match=match):
        what_if(config, panel=panel, **kwargs)


def test_resolve_unit_takes_names_and_codes():
    ewp_like = load_dataset("synthetic-world")
    assert resolve_unit(ewp_like, "  norVANIA ") == UNIT
    with pytest.raises(ForecastInputError, match="did you mean"):
        resolve_unit(ewp_like, "Norvana")


@pytest.fixture(scope="module")
def profile(config, panel, latest, tmp_path_factory):
    return country_profile(
        config,
        unit=UNIT,
        panel=panel,
        years=5,
        top=100,
        latest=latest,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


def test_profile_ends_at_the_published_list(profile, risk, panel):
    h = profile.history
    assert list(h["year"]) == [2020, 2021, 2022, 2023, 2024]
    last = h.iloc[-1]
    assert last["probability"] == risk.loc[UNIT, "probability"]  # the backtest at Y is the list
    assert (last["rank"], last["tier"]) == (risk.loc[UNIT, "rank"], risk.loc[UNIT, "tier"])
    frame = panel.frame[panel.frame["unit"] == UNIT].set_index("year")
    assert list(h["onset"]) == list(frame.loc[h["year"], "mk_onset"].astype(float))
    assert h["outcome"].iloc[-2:].isna().all()  # windows not closed yet


def test_profile_drivers_and_change_add_up(profile, latest):
    d = profile.drivers
    assert set(d["year"]) == set(profile.history["year"])
    assert d.groupby("year").size().eq(len(latest.features)).all()
    cur, prev = latest.current, latest.previous
    i, j = list(prev.units).index(UNIT), list(cur.units).index(UNIT)
    total = log_odds(cur.estimator, cur.X[[j]])[0] - log_odds(prev.estimator, prev.X[[i]])[0]
    assert profile.change["log_odds"].sum() == pytest.approx(total, abs=1e-9)
    points = 100 * (cur.probability[j] - prev.probability[i])
    assert profile.change["points"].sum() == pytest.approx(points, abs=1e-9)
    assert profile.change["indicator"].sum() == len(latest.features)


def test_profile_page_is_escaped_and_self_contained(profile, tmp_path):
    import dataclasses

    from forecast.reports import render_profile

    hostile = dataclasses.replace(profile, name="<script>alert(1)</script>")
    html = render_profile(hostile, tmp_path).read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('<img src="data:image/png;base64,') == 2
    assert re.findall(r'(?:src|href)\s*=\s*"(?!data:|#)', html) == []


@pytest.mark.browser
def test_browser_shows_the_profile(profile, tmp_path):
    from matplotlib.image import imread

    from forecast.reports import render_profile
    from forecast.reports._browser import dump_dom, screenshot

    path = render_profile(profile, tmp_path)
    page = dump_dom(path)
    assert page.returncode == 0 and page.console == ()
    assert "Risk over the years" in page.dom and UNIT in page.dom
    shot = imread(screenshot(path, tmp_path / "profile.png", height=1400))
    assert shot[..., :3].std() > 0.05


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "whatif.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.mark.slow
def test_cli_whatif_and_profile_on_the_synthetic_world(spec, tmp_path, capsys):
    assert (
        main(
            [
                "whatif",
                str(spec),
                "--unit",
                "norvania",
                "--set",
                "coup_try_5yr=1",
                "--out",
                str(tmp_path / "wi"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Norvania: risk of a new mass killing in 2025-2026" in out
    assert "published list:" in out and "if coup attempt in the last five years: " in out
    assert "coup_try_5yr" not in out.split("Each trigger alone")[1]  # human names only
    assert "Each trigger alone" in out and (tmp_path / "wi" / "whatif.csv").is_file()
    page = (tmp_path / "wi" / "whatif.html").read_text(encoding="utf-8")
    assert "coup attempt in the last five years" in page and "coup_try_5yr" not in page
    assert not re.search(r"\d\.\d{4,}", page)  # values for people, not raw log2 numbers
    assert (
        main(
            [
                "profile",
                str(spec),
                "--unit",
                "Norvania",
                "--years",
                "3",
                "--out",
                str(tmp_path / "pr"),
                "--cache-dir",
                str(tmp_path / "cache"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert re.search(r"^2024\s+\S+%", out, re.M) and "profile.html" in out
    assert (tmp_path / "pr" / "profile.html").is_file()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (
            ["whatif", "--unit", "Norvanai"],
            "unit 'Norvanai' is not in the panel in 2024; fix: did you mean",
        ),
        (["whatif", "--unit", UNIT, "--set", "coup_try_5yr"], "is not INDICATOR=NUMBER"),
        (["profile", "--unit", "Atlantis"], "unit 'Atlantis' is not in the panel"),
    ],
)
def test_cli_errors_are_one_line(spec, tmp_path, capsys, argv, match):
    assert (
        main(
            [
                argv[0],
                str(spec),
                *argv[1:],
                *(["--out", str(tmp_path / "o")] if argv[0] == "profile" else []),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(match, err)


@pytest.mark.realdata
@pytest.mark.slow
def test_sudan_on_ewp_plus(tmp_path, capsys):
    from forecast.experiment import load_experiment

    config = load_experiment("experiments/ewp-2025-plus.yaml")
    latest = fit_latest(config, model_label="elastic_net")
    listed = latest.table().set_index("unit")
    result = what_if(
        config,
        unit="Sudan",
        values={"coup_try_5yr": 1},
        model_label="elastic_net",
        panel=latest.panel,
    )  # its own fit
    assert result.unit == 625 and result.name == "Sudan"
    assert result.baseline.probability == listed.loc[625, "probability"]
    assert (
        main(
            [
                "whatif",
                "experiments/ewp-2025-plus.yaml",
                "--unit",
                "sudan",
                "--model",
                "elastic_net",
                "--set",
                "coup.try.1yr=1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("model elastic_net; the rule recommends stacked_recal because")
    assert f"list of elastic_net: {100 * listed.loc[625, 'probability']:.1f}%" in out
    assert "coup attempt this year" in out  # triggers by their plain names
    assert (
        main(
            [
                "profile",
                "experiments/ewp-2025-plus.yaml",
                "--unit",
                "Sudan",
                "--model",
                "elastic_net",
                "--years",
                "4",
                "--out",
                str(tmp_path / "pr"),
                "--cache-dir",
                str(tmp_path / "cache"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("model elastic_net; the rule recommends stacked_recal because")
    assert "\nSudan (model elastic_net)" in out and re.search(r"^2023 .* yes$", out, re.M)
    html = (tmp_path / "pr" / "profile.html").read_text(encoding="utf-8")
    assert "Sudan: risk profile" in html and "onset" in html


def test_default_model_is_the_recommended_one_everywhere(panel):
    """whatif, profile and the risk list default to the rule's model (design 0011), so the
    'published list' figure of whatif is the list's own number."""
    from forecast.choice import recommend_model
    from forecast.risk._list import list_metadata

    config = experiment_from_dict(
        {
            "name": "x",
            "seed": 5,
            "origins": {"first": 2015, "last": 2024},
            "models": [{"name": "elastic_net", "params": {"n_alphas": 8}}, {"name": "logit"}],
            "default_model": "logit",
        }
    )
    assert recommend_model(config).recommended == "logit"
    result = what_if(config, unit=UNIT, values={}, panel=panel)
    assert result.model == "logit"
    listed = build_risklist(fit_latest(config, model_label="logit", panel=panel))
    assert result.baseline.probability == listed.set_index("unit").loc[UNIT, "probability"]
    other = fit_latest(config, model_label="elastic_net", panel=panel)
    assert "the rule recommends logit because" in list_metadata(other, "exact")["Model"]


def test_training_summary_counts_onset_events(config, panel, latest):
    """The list's 'Trained on' counts unit-years with an onset that a training window holds,
    recomputed here from the panel's annual outcome by a loop over units."""
    from forecast.risk._list import list_metadata, training_onsets

    cur, h = latest.current, config.horizon
    expected = 0
    for _, g in panel.frame.groupby("unit", observed=True):
        years = set(g.loc[(g["year"] >= cur.train_start) & (g["year"] <= cur.train_end), "year"])
        for t in g.loc[g["mk_onset"] == 1, "year"]:
            expected += any(t - lag in years for lag in range(1, h + 1))
    events, first, last = training_onsets(latest)
    assert (events, first, last) == (expected, cur.train_start + 1, cur.train_end + h)
    assert events < cur.n_train_onsets  # windows count an onset once per window
    assert f"hold {expected} onsets" in list_metadata(latest, "exact")["Trained on"]

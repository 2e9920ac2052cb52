import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastInputError
from forecast.calibration import recalibrate_from_history


def _table(seed=0, units=30, first=1990, last=2010):
    rng = np.random.default_rng(seed)
    rows = []
    for origin in range(first, last + 1):
        for u in range(units):
            p = float(np.clip(rng.beta(0.6, 20), 1e-4, 0.9))
            y = float(rng.random() < min(1, 0.6 * p + 0.004))
            rows.append((f"u{u}", origin, "m", p, y if origin + 2 <= last else np.nan, origin))
    return pd.DataFrame(rows, columns=["unit", "year", "model", "probability", "outcome", "origin"])


def test_matches_a_statsmodels_platt_fit_on_the_history():
    table = _table()
    out = recalibrate_from_history(
        table,
        horizon=2,
        models=["m"],
        half_life=None,
        min_events=5,
        method="platt",
        interval="wald",
    )
    origin = 2005
    hist = table[(table.origin < origin) & (table.year + 2 <= origin) & table.outcome.notna()]
    x = np.log(hist.probability / (1 - hist.probability))
    fit = sm.GLM(hist.outcome, sm.add_constant(x), family=sm.families.Binomial()).fit()
    block = out[out.origin == origin]
    np.testing.assert_allclose(
        block[["recal_a", "recal_b"]].iloc[0], fit.params.to_numpy(), atol=1e-7
    )
    z = np.log(
        table[table.origin == origin].probability / (1 - table[table.origin == origin].probability)
    )
    expected = 1 / (1 + np.exp(-(fit.params.iloc[0] + fit.params.iloc[1] * z)))
    np.testing.assert_allclose(block.probability.to_numpy(), expected.to_numpy(), atol=1e-9)
    assert (block.lower <= block.probability).all() and (block.probability <= block.upper).all()
    assert (out.model == "m_recal").all()


def test_origins_without_enough_history_keep_raw_probabilities():
    table = _table()
    out = recalibrate_from_history(table, horizon=2, models=["m"], min_events=10_000)
    np.testing.assert_array_equal(out.probability.to_numpy(), table.probability.to_numpy())
    assert out.lower.isna().all()


@settings(max_examples=6, deadline=None)
@given(origin=st.integers(1996, 2010), seed=st.integers(0, 1000))
def test_outcomes_unknown_at_the_origin_cannot_change_its_recalibration(origin, seed):
    table = _table()
    before = recalibrate_from_history(table, horizon=2, models=["m"], min_events=3)
    rng = np.random.default_rng(seed)
    altered = table.copy()
    unknown = altered.year + 2 > origin
    altered.loc[unknown, "outcome"] = rng.integers(0, 2, int(unknown.sum())).astype(float)
    later = altered.origin > origin
    altered.loc[later, "probability"] = rng.random(int(later.sum())) * 0.5
    after = recalibrate_from_history(altered, horizon=2, models=["m"], min_events=3)
    cols = ["probability", "lower", "upper"]
    pd.testing.assert_frame_equal(
        before.loc[before.origin == origin, cols],
        after.loc[after.origin == origin, cols],
        check_exact=True,
    )


def test_intercept_keeps_each_origins_ranking_and_conformal_interval_covers_history():
    table = _table()
    out = recalibrate_from_history(table, horizon=2, models=["m"], min_events=5)
    for origin, block in out[out.lower.notna()].groupby("origin"):
        raw = table[table.origin == origin]
        assert (block.probability.rank().to_numpy() == raw.probability.rank().to_numpy()).all()
        assert (block.lower < block.probability).all() and (block.probability < block.upper).all()


def test_unknown_model_is_named():
    with pytest.raises(ForecastInputError, match=r"unknown model\(s\) \['nope'\]"):
        recalibrate_from_history(_table(), horizon=2, models=["nope"])


# ----------------------------------------------------------------------------- the level shift
# (docs/design/0008: a persistent level error with year effects, shrunk toward no change)


def _biased_table(shift=-0.5, years=range(1990, 2011), units=60, seed=3, burst=None):
    """Forecasts whose true log-odds are the forecast's plus ``shift`` (plus ``burst`` in 2000)."""
    rng = np.random.default_rng(seed)
    rows = []
    for year in years:
        p = np.clip(rng.beta(0.8, 25, units), 1e-4, 0.9)
        extra = burst if (burst is not None and year == 2000) else 0.0
        truth = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + shift + extra)))
        y = (rng.random(units) < truth).astype(float)
        y[np.full(units, year + 2 > max(years))] = np.nan
        rows += [(f"u{u}", year, "m", p[u], y[u], year) for u in range(units)]
    return pd.DataFrame(rows, columns=["unit", "year", "model", "probability", "outcome", "origin"])


def _penalised_mode(x, y, years, tau, omega):
    """Independent route: maximise the penalised log-likelihood with a general optimiser."""
    from scipy.optimize import minimize

    levels, codes = np.unique(years, return_inverse=True)

    def negative(theta):
        eta = x + theta[0] + theta[1:][codes]
        return -(
            np.sum(y * eta - np.logaddexp(0, eta))
            - np.sum(theta[1:] ** 2) / (2 * omega**2)
            - theta[0] ** 2 / (2 * tau**2)
        )

    fit = minimize(negative, np.zeros(len(levels) + 1), method="BFGS", options={"gtol": 1e-9})
    return fit.x[0]


@pytest.mark.parametrize(("tau", "omega"), [(0.2, 0.5), (1.0, 0.25), (0.5, 2.0)])
def test_shift_is_the_mode_of_the_penalised_likelihood(tau, omega):
    table = _biased_table()
    origin = 2006
    out = recalibrate_from_history(
        table, horizon=2, models=["m"], min_events=5, prior_sd=tau, year_sd=omega
    )
    hist = table[(table.origin < origin) & (table.year + 2 <= origin) & table.outcome.notna()]
    x = np.log(hist.probability / (1 - hist.probability)).to_numpy()
    expected = _penalised_mode(x, hist.outcome.to_numpy(), hist.year.to_numpy(), tau, omega)
    got = out.loc[out.origin == origin, "recal_a"].iloc[0]
    assert got == pytest.approx(expected, abs=1e-5)
    assert (out.loc[out.origin == origin, "recal_b"] == 1.0).all()


def test_without_prior_and_year_effects_it_is_the_pooled_intercept():
    table = _biased_table()
    origin = 2006
    out = recalibrate_from_history(
        table, horizon=2, models=["m"], min_events=5, prior_sd=np.inf, year_sd=0.0
    )
    hist = table[(table.origin < origin) & (table.year + 2 <= origin) & table.outcome.notna()]
    x = np.log(hist.probability / (1 - hist.probability))
    fit = sm.GLM(
        hist.outcome, np.ones((len(hist), 1)), family=sm.families.Binomial(), offset=x
    ).fit()
    assert out.loc[out.origin == origin, "recal_a"].iloc[0] == pytest.approx(
        fit.params.iloc[0], abs=1e-7
    )


def test_shift_is_shrunk_and_grows_with_the_years_of_evidence():
    """A lasting error is corrected more as years accumulate, never beyond the pooled estimate."""
    table = _biased_table(shift=-0.6, years=range(1980, 2021), units=300)
    shrunk = recalibrate_from_history(table, horizon=2, models=["m"], min_events=5)
    pooled = recalibrate_from_history(
        table, horizon=2, models=["m"], min_events=5, prior_sd=np.inf, year_sd=0.0
    )
    a = shrunk.groupby("origin").recal_a.first().dropna()
    b = pooled.groupby("origin").recal_a.first().dropna()
    assert (a < 0).all() and (a.abs() <= b.abs() + 1e-12).all()
    assert a.iloc[-1] < a.iloc[0]  # more evidence, larger correction
    assert np.abs(np.diff(a)).max() < np.abs(np.diff(b)).max()  # and a steadier path


def test_one_burst_year_moves_the_shift_less_than_the_pooled_intercept():
    """The year is the unit of evidence: a single year of many onsets cannot drive the level."""
    calm = _biased_table(shift=0.0, seed=5, units=300)
    burst = _biased_table(shift=0.0, seed=5, units=300, burst=2.5)  # 2000: odds x 12
    options = {"horizon": 2, "models": ["m"], "min_events": 5}
    moved = {}
    for name, extra in {
        "default": {},
        "pooled": {"prior_sd": np.inf, "year_sd": 0.0},
        "year effects only": {"prior_sd": np.inf},
    }.items():
        before = recalibrate_from_history(calm, **options, **extra)
        after = recalibrate_from_history(burst, **options, **extra)
        at = (before.origin == 2004).to_numpy()
        moved[name] = abs(after.recal_a[at].iloc[0] - before.recal_a[at].iloc[0])
    assert moved["year effects only"] < 0.7 * moved["pooled"]
    assert moved["default"] < 0.5 * moved["pooled"]


def test_issue_from_uses_earlier_origins_only_as_history():
    table = _biased_table()
    full = recalibrate_from_history(table, horizon=2, models=["m"], min_events=5)
    late = recalibrate_from_history(table, horizon=2, models=["m"], min_events=5, issue_from=2000)
    assert late.origin.min() == 2000
    pd.testing.assert_frame_equal(
        late.reset_index(drop=True),
        full[full.origin >= 2000].reset_index(drop=True),
        check_exact=True,
    )


def test_conformal_intervals_cover_the_bin_rates_at_their_level():
    from forecast.calibration import interval_coverage

    table = pd.concat(
        [
            _biased_table(shift=-0.4, seed=s, years=range(1980, 2021)).assign(
                unit=lambda d, s=s: d.unit + f"s{s}"
            )
            for s in range(3)
        ]
    )
    out = recalibrate_from_history(table, horizon=2, models=["m"], min_events=10, level=0.8)
    scored = out[out.lower.notna() & out.outcome.notna()]
    coverage = interval_coverage(scored.outcome, scored.lower, scored.upper, bins=10).coverage
    assert coverage >= 0.8


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prior_sd": 0.0}, r"prior_sd must be > 0 \(inf for no prior\), got 0.0"),
        ({"prior_sd": -1}, r"prior_sd must be > 0"),
        ({"year_sd": -0.5}, r"year_sd must be finite and >= 0, got -0.5"),
        ({"year_sd": np.inf}, r"year_sd must be finite and >= 0, got inf"),
    ],
)
def test_bad_shrinkage_options_are_named(options, message):
    with pytest.raises(ForecastInputError, match=message):
        recalibrate_from_history(_table(), horizon=2, models=["m"], **options)


# ----------------------------------------------------------------------------- in the backtest


def _panel(seed=0, units=40, first=1980, last=2010):
    from forecast.panel import Panel

    rng = np.random.default_rng(seed)
    rows = []
    for u in range(units):
        level = rng.normal(size=2)
        for year in range(first, last + 1):
            x = level + rng.normal(scale=0.5, size=2)
            p = 1 / (1 + np.exp(-(-3.0 + 1.1 * x[0] - 0.7 * x[1] + 0.04 * (year - 1995))))
            rows.append(
                {
                    "unit": f"U{u:02d}",
                    "year": year,
                    "x1": x[0],
                    "x2": x[1],
                    "mk_onset": float(rng.random() < p),
                }
            )
    return Panel.from_frame(
        pd.DataFrame(rows), features=["x1", "x2"], outcomes=["mk_onset"], name="toy"
    )


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000), origin=st.integers(2000, 2008))
def test_backtest_recal_forecasts_use_only_outcomes_known_at_each_origin(seed, origin):
    """Leakage proof through the engine: alter every row after T and every outcome unknown at
    T; the ``_recal`` forecasts, intervals and shifts of every origin up to T are unchanged."""
    from forecast.backtest import run_backtest
    from forecast.experiment import experiment_from_dict
    from forecast.panel import Panel

    logit_model = {
        "name": "sklearn",
        "label": "lr",
        "params": {"class": "sklearn.linear_model.LogisticRegression", "C": 0.5, "max_iter": 1000},
    }
    config = experiment_from_dict(
        {
            "name": "toy",
            "horizon": 2,
            "origins": {"first": 1990, "last": origin},
            "min_train_years": 5,
            "models": [logit_model],
            "history_recalibration": {"models": ["lr"], "min_events": 3},
        }
    )
    panel = _panel()
    before = run_backtest(config, panel=panel).forecasts
    rng = np.random.default_rng(seed)
    frame = panel.frame.copy()
    future = frame["year"] > origin
    frame.loc[future, ["x1", "x2"]] = rng.normal(size=(int(future.sum()), 2)) * 10
    frame.loc[future, "mk_onset"] = rng.integers(0, 2, size=int(future.sum())).astype(float)
    extra = frame[frame["year"] == frame["year"].max()].assign(year=frame["year"].max() + 1)
    altered = Panel.from_frame(
        pd.concat([frame, extra], ignore_index=True),
        features=["x1", "x2"],
        outcomes=["mk_onset"],
        name="toy",
    )
    after = run_backtest(config, panel=altered).forecasts
    recal = before[before.model == "lr_recal"]
    assert recal.recal_a.notna().any() and (recal.recal_a.dropna() != 0).all()
    cols = ["unit", "year", "model", "probability", "lower", "upper", "recal_a"]
    pd.testing.assert_frame_equal(
        recal[cols].reset_index(drop=True),
        after.loc[after.model == "lr_recal", cols].reset_index(drop=True),
        check_exact=True,
    )

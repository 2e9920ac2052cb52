import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score, cross_validate

from forecast import ForecastInputError
from forecast.backtest import RollingOrigin, check_no_lookahead
from forecast.outcomes import onset_within


def _frame(toy_panel):
    frame = toy_panel.frame
    return frame.assign(target=onset_within(frame, 2))


@pytest.mark.parametrize("horizon", [1, 2, 3])
def test_training_windows_are_observed_by_the_origin(toy_panel, horizon):
    frame = toy_panel.frame.assign(target=onset_within(toy_panel.frame, horizon))
    splitter = RollingOrigin(horizon, min_train_years=5)
    splits = list(splitter.split(frame, outcome="target"))
    assert splits[0].origin == 1980 + 5 - 1 + horizon
    for split in splits:
        train_years = frame["year"].to_numpy()[split.train]
        assert train_years.max() == split.origin - horizon
        assert frame["target"].to_numpy()[split.train].tolist().count(np.nan) == 0
        assert not np.isnan(frame["target"].to_numpy()[split.train]).any()
        assert (frame["year"].to_numpy()[split.test] == split.origin).all()


def test_sliding_window_keeps_the_last_years(toy_panel):
    frame = _frame(toy_panel)
    split = list(
        RollingOrigin(
            2, origins=[2005], window="sliding", max_train_years=8, min_train_years=5
        ).split(frame, outcome="target")
    )[0]
    years = frame["year"].to_numpy()[split.train]
    assert years.min() == 1996 and years.max() == 2003


def test_no_trainable_origin_is_a_clear_error(toy_panel):
    frame = _frame(toy_panel)
    with pytest.raises(ForecastInputError, match="no trainable origin"):
        list(RollingOrigin(2, origins=[1982], min_train_years=10).split(frame, outcome="target"))


def test_sliding_needs_a_length():
    with pytest.raises(ForecastInputError, match="sliding window needs max_train_years"):
        RollingOrigin(2, window="sliding").origin_years(np.arange(1990, 2000))


def test_lookahead_check_fails_loudly():
    with pytest.raises(RuntimeError, match="leakage"):
        check_no_lookahead(np.array([2000, 2001]), origin=2002, horizon=2)
    check_no_lookahead(np.array([2000]), origin=2002, horizon=2)


def _sklearn_data(seed=0, n_units=40, years=range(1990, 2015)):
    rng = np.random.default_rng(seed)
    year = np.repeat(np.asarray(years), n_units)
    X = pd.DataFrame(
        {"year": year, "x1": rng.normal(size=len(year)), "x2": rng.normal(size=len(year))}
    )
    y = (rng.random(len(year)) < 1 / (1 + np.exp(1.0 - 1.5 * X.x1))).astype(int)
    return X, y


def test_cross_val_score_with_rolling_origin_equals_a_hand_loop():
    X, y = _sklearn_data()
    cv = RollingOrigin(2, min_train_years=5, window="sliding", max_train_years=8)
    scores = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring="roc_auc")
    expected = []
    for origin in range(1996, 2015):  # first: 1990 + 5 - 1 + 2
        train = (X.year <= origin - 2) & (X.year > origin - 2 - 8)
        test = X.year == origin
        model = LogisticRegression().fit(X[train], y[train])
        expected.append(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]))
    np.testing.assert_array_equal(scores, expected)
    assert cv.get_n_splits(X) == len(expected)
    # the years may come from groups (X without a year column) or another column
    features = X[["x1", "x2"]]
    by_groups = cross_validate(
        LogisticRegression(), features, y, cv=cv, groups=X.year, scoring="roc_auc"
    )
    renamed = RollingOrigin(
        2, min_train_years=5, window="sliding", max_train_years=8, year_column="t"
    )
    by_column = [(train, test) for train, test in renamed.split(X.rename(columns={"year": "t"}), y)]
    assert len(by_groups["test_score"]) == len(by_column) == len(expected)
    assert all(
        isinstance(i, np.ndarray) and i.dtype.kind == "i" for pair in by_column for i in pair
    )


def test_sklearn_split_matches_the_engines_origin_splits(toy_panel):
    frame = _frame(toy_panel)
    splitter = RollingOrigin(2, min_train_years=5)
    splits = list(splitter.origin_splits(frame, outcome="target"))
    pairs = list(splitter.split(frame, frame["target"]))  # unknown outcomes are not trained on
    assert len(pairs) == len(splits) == splitter.get_n_splits(frame)
    for (train, test), split in zip(pairs, splits):
        assert np.array_equal(train, split.train) and np.array_equal(test, split.test)
    # the engine's keyword form still yields Split objects
    again = list(splitter.split(frame, year="year", outcome="target"))
    assert [s.origin for s in again] == [s.origin for s in splits]
    assert splitter.get_n_splits(frame, year="year") == len(splits)


def test_sklearn_split_without_years_is_a_clear_error():
    with pytest.raises(ForecastInputError, match=r"X has no column 'year' and no groups"):
        next(RollingOrigin(2).split(np.zeros((10, 2))))
    with pytest.raises(ForecastInputError, match="needs the data's years"):
        RollingOrigin(2).get_n_splits()

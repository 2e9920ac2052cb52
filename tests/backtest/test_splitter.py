import numpy as np
import pytest

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

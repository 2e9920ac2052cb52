"""The threshold choice as a scikit-learn estimator (kept apart: it imports scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from forecast._errors import input_error
from forecast._validation import check_capacity_groups, check_outcomes_probabilities
from forecast.decision._costloss import CostLoss, expected_cost
from forecast.decision._rules import warn_mask
from forecast.decision._threshold import ThresholdMethod, best_threshold_in_sample

__all__ = ["CostThresholdSelector"]


class CostThresholdSelector(BaseEstimator):
    """Choose a warning threshold from past forecasts and their outcomes.

    ``fit`` must see only forecasts whose outcomes were known at the time the
    threshold is used, e.g. out-of-sample predictions from earlier origins
    (see :func:`rolling_thresholds`, which does this bookkeeping).

    Parameters
    ----------
    cost_ratio : float
        ``r = C / (e L)``, > 0.
    effectiveness : float, default 1.0
        Share ``e`` of the loss prevented by acting, in (0, 1]. It scales the
        reported ``cost_`` (in units of ``L``), not the chosen threshold.
    capacity : int or None, default None
        Most warnings acted on per group (year).
    method : {'empirical', 'bayes'}, default 'empirical'
        ``'empirical'``: the threshold minimising realised cost on the data
        passed to ``fit`` (see :func:`best_threshold_in_sample`).
        ``'bayes'``: ``r``, optimal for calibrated probabilities; ``fit``
        only validates its input.

    Attributes
    ----------
    threshold_ : float
        The chosen threshold; ``predict`` warns when ``p >= threshold_``.
    costloss_ : CostLoss
        Costs with ``L = 1`` and ``C = r e``.
    cost_ : float
        Realised cost per year (per row without groups) on the fitting data at
        ``threshold_``, in units of ``L`` (in-sample, optimistic).
    n_samples_fit_ : int
        Rows seen by ``fit``.
    """

    def __init__(
        self,
        cost_ratio: float,
        *,
        effectiveness: float = 1.0,
        capacity: int | None = None,
        method: ThresholdMethod = "empirical",
    ) -> None:
        self.cost_ratio = cost_ratio
        self.effectiveness = effectiveness
        self.capacity = capacity
        self.method = method

    def fit(
        self, y: object, p: object, groups: object = None, *, sample_weight: object = None
    ) -> CostThresholdSelector:
        """Choose ``threshold_`` from outcomes ``y`` and probabilities ``p``."""
        if self.method not in ("empirical", "bayes"):
            raise input_error(
                f"CostThresholdSelector: method must be 'empirical' or 'bayes', "
                f"got {self.method!r}",
                fix="use method='empirical' or method='bayes'",
            )
        costloss = CostLoss.from_ratio(self.cost_ratio, self.effectiveness, self.capacity)
        y_arr, p_arr, w_arr = check_outcomes_probabilities(
            y, p, sample_weight, caller="CostThresholdSelector.fit", names=("y", "p")
        )
        g_arr = check_capacity_groups(
            groups, p_arr.size, costloss.capacity, caller="CostThresholdSelector.fit"
        )
        if self.method == "bayes":
            threshold = costloss.cost_ratio
        else:
            threshold = best_threshold_in_sample(y_arr, p_arr, costloss, g_arr, sample_weight=w_arr)
        self.costloss_ = costloss
        self.threshold_ = float(threshold)
        self.cost_ = expected_cost(y_arr, p_arr, threshold, costloss, g_arr, sample_weight=w_arr)
        self.n_samples_fit_ = int(p_arr.size)
        return self

    def predict(self, p: object, groups: object = None) -> np.ndarray:
        """Return a boolean warning per row: ``p >= threshold_`` (within capacity)."""
        check_is_fitted(self, "threshold_")
        p_arr = np.asarray(p, dtype=float).ravel()
        bad = ~np.isfinite(p_arr)
        if bad.any():
            raise input_error(
                "CostThresholdSelector.predict: probabilities must be finite",
                rows=np.flatnonzero(bad).tolist(),
                fix="drop rows without a forecast",
            )
        g_arr = check_capacity_groups(
            groups, p_arr.size, self.costloss_.capacity, caller="CostThresholdSelector.predict"
        )
        return warn_mask(p_arr, self.threshold_, self.costloss_.capacity, g_arr)

r"""Honest model choice: member weights at each origin from what that origin knew.

``stacked`` and ``selected`` combine members on the logit scale,

.. math:: p = \sigma\bigl(c + \textstyle\sum_m w_m \,\mathrm{logit}\, p_m\bigr),

with ``(c, w)`` chosen at origin :math:`T` from the members' out-of-sample forecasts of earlier
origins whose outcome windows closed by :math:`T` (``year + horizon <= T``); see
:func:`choose_by_origin` and ``docs/design/0007-honest-model-choice.md``. Member probabilities
are bounded to ``[1e-4, 1 - 1e-4]`` first (``docs/design/0012-bounded-members.md``). The
backtest engine computes the choices; :class:`MetaEnsemble` applies one origin's choice to
fitted members (a risk list, a registered model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from forecast._errors import input_error
from forecast._math import expit
from forecast.models._bounds import bounded_count, bounded_log_odds, bounded_probabilities
from forecast.models._fit import fit_estimator

__all__ = [
    "META_MODELS",
    "MetaChoice",
    "MetaEnsemble",
    "check_meta_options",
    "choose_by_origin",
    "combine_logits",
    "select_member",
    "stacking_weights",
]

META_MODELS: tuple[str, ...] = ("stacked", "selected")
"""Engine-level models whose member weights come from the backtest's own history."""

MetaKind = Literal["stacked", "selected"]

CLIP = 1e-9
"""``selected`` scores members' log loss with probabilities clipped to ``[CLIP, 1 - CLIP]``."""

MIN_EVENTS = 10
"""Default number of onsets a history needs before weights are fitted or a member chosen."""


def combine_logits(probabilities: NDArray, weights: NDArray, intercept: float = 0.0) -> NDArray:
    r"""Combine member probabilities (rows x members) on the logit scale.

    .. math:: p = \sigma\bigl(c + \textstyle\sum_m w_m \,\mathrm{logit}\, p_m\bigr)

    Members with a missing (NaN) weight are left out. Member probabilities are bounded to
    ``[1e-4, 1 - 1e-4]`` first, so one member moves the log-odds by at most
    ``forecast.models.max_shift(w_m)``. A one-hot weight with :math:`c = 0` (a selected
    member) returns that member's bounded probabilities.
    """
    probabilities = np.asarray(probabilities, float)
    weights = np.asarray(weights, float)
    used = ~np.isnan(weights)
    P, w = probabilities[:, used], weights[used]
    if intercept == 0.0 and np.count_nonzero(w) == 1 and w.max() == 1.0:
        return bounded_probabilities(P[:, int(np.argmax(w))])
    return expit(intercept + bounded_log_odds(P) @ w)


def _mean_log_loss(params: NDArray, X: NDArray, y: NDArray) -> tuple[float, NDArray]:
    eta = params[0] + X @ params[1:]
    loss = float(np.mean(np.logaddexp(0.0, eta) - y * eta))
    residual = (expit(eta) - y) / len(y)
    return loss, np.concatenate([[residual.sum()], X.T @ residual])


def stacking_weights(
    probabilities: NDArray, y: NDArray, *, shrinkage: float | None = None
) -> tuple[NDArray, float, float]:
    r"""Non-negative logit weights and an intercept minimising log loss, shrunk toward equal.

    .. math::

        (\hat c, \hat w) = \arg\min_{c,\ w \ge 0} -\frac1n \sum_i \bigl[y_i \eta_i
            - \log(1 + e^{\eta_i})\bigr], \quad \eta_i = c + \sum_m w_m \mathrm{logit}\,p_{im}

        \lambda = \frac{n_1}{n_1 + k}, \quad w = \lambda \hat w + \frac{1 - \lambda}{M},
        \quad c = \lambda \hat c

    where :math:`n_1` is the number of onsets and ``k = shrinkage`` (default
    :math:`10 (M + 1)`: half weight at ten onsets per fitted parameter). The log-odds are those
    of the bounded probabilities (as in :func:`combine_logits`). L-BFGS-B from the equal
    weights; a fit that does not give finite numbers keeps the equal weights.

    Parameters
    ----------
    probabilities : ndarray of shape (n, M)
        Members' past out-of-sample forecasts.
    y : ndarray of shape (n,)
        Their outcomes (0/1).
    shrinkage : float, optional
        ``k`` above.

    Returns
    -------
    weights : ndarray of shape (M,)
    intercept : float
    lambda_ : float
    """
    from scipy.optimize import minimize

    X, y = bounded_log_odds(probabilities), np.asarray(y, float)
    m = X.shape[1]
    equal = np.full(m, 1.0 / m)
    k = 10.0 * (m + 1) if shrinkage is None else float(shrinkage)
    fit = minimize(
        _mean_log_loss,
        np.concatenate([[0.0], equal]),
        args=(X, y),
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None)] + [(0.0, None)] * m,
        options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-9},
    )
    if not np.all(np.isfinite(fit.x)):
        return equal, 0.0, 0.0
    lam = float(y.sum()) / (float(y.sum()) + k)
    return lam * fit.x[1:] + (1.0 - lam) * equal, lam * float(fit.x[0]), lam


def select_member(probabilities: NDArray, y: NDArray) -> int:
    r"""Index of the member with the lowest mean log loss
    :math:`-\frac1n\sum_i [y_i \log p_{im} + (1 - y_i)\log(1 - p_{im})]` (ties: the first)."""
    p = np.clip(np.asarray(probabilities, float), CLIP, 1 - CLIP)
    y = np.asarray(y, float)[:, None]
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p), axis=0)
    return int(np.argmin(loss))


@dataclass(frozen=True)
class MetaChoice:
    """One origin's combination: ``p = expit(intercept + sum_m weights[m] * logit p_m)``.

    Attributes
    ----------
    weights : ndarray of shape (M,)
        Weight on each member's log-odds; NaN for a member without forecasts at the origin.
    intercept : float
    shrinkage : float
        ``stacked``'s :math:`\\lambda` (0 before the minimum); NaN for ``selected``.
    n_events : int
        Onsets in the history the choice was made from.
    choice : str
        ``'equal'`` (too little history), ``'stacked'``, or the selected member's label.
    """

    weights: NDArray
    intercept: float
    shrinkage: float
    n_events: int
    choice: str

    def combine(self, probabilities: NDArray) -> NDArray:
        """The meta forecast from member probabilities (rows x members)."""
        return combine_logits(probabilities, self.weights, self.intercept)

    def bounded(self, probabilities: NDArray) -> NDArray:
        """Per row, how many weighted member forecasts :meth:`combine` bounded."""
        return bounded_count(probabilities, self.weights)


def check_meta_options(min_events: object, shrinkage: object) -> None:
    """Raise a :class:`ForecastInputError` for a bad ``min_events`` or ``shrinkage``."""
    if (
        isinstance(min_events, bool)
        or not isinstance(min_events, int | np.integer)
        or min_events < 0
    ):
        raise input_error(
            f"min_events must be an integer >= 0, got {min_events!r}",
            fix=f"e.g. min_events: {MIN_EVENTS}",
        )
    if shrinkage is not None and (
        isinstance(shrinkage, bool)
        or not isinstance(shrinkage, int | float)
        or not np.isfinite(shrinkage)
        or shrinkage <= 0
    ):
        raise input_error(
            f"shrinkage must be a number > 0 or null, got {shrinkage!r}",
            fix="e.g. shrinkage: 50, or leave it out for 10 x (members + 1)",
        )


def choose_by_origin(
    kind: MetaKind,
    blocks: Sequence[tuple[int, NDArray, NDArray]],
    *,
    horizon: int,
    members: Sequence[str],
    min_events: int = MIN_EVENTS,
    shrinkage: float | None = None,
) -> list[MetaChoice]:
    """Each origin's member weights, from the forecasts of earlier origins known by then.

    For origin ``T`` the history is every row of an earlier block ``(s, P_s, y_s)`` with
    ``s + horizon <= T`` (a block's rows are forecasts made from year ``s``, so their
    windows closed by ``T``) and a known outcome, restricted to the members with forecasts at
    ``T`` and to rows where all of those have one. With ``n`` onsets in it:
    ``n < min_events`` gives equal weights; otherwise ``stacked`` uses
    :func:`stacking_weights` and ``selected`` :func:`select_member`.

    Parameters
    ----------
    kind : {'stacked', 'selected'}
    blocks : sequence of (origin, probabilities, outcomes)
        ``probabilities`` (rows x members) with a NaN column for a member that gave no
        forecast at that origin; ``outcomes`` 0/1 or NaN (unknown).
    horizon : int
    members : sequence of str
        Member labels (for ``choice``).
    min_events : int, default 10
    shrinkage : float, optional
        ``stacked`` only; see :func:`stacking_weights`.

    Returns
    -------
    list of MetaChoice
        One per block, in the order given.
    """
    if kind not in META_MODELS:
        raise input_error(
            f"kind must be one of {list(META_MODELS)}, got {kind!r}",
            fix="use 'stacked' or 'selected'",
        )
    check_meta_options(min_events, shrinkage)
    out = []
    for origin, P, _ in blocks:
        available = ~np.all(np.isnan(np.asarray(P, float)), axis=0)
        past = [(p[:, available], y) for s, p, y in blocks if s + horizon <= origin]
        X = np.concatenate([p for p, _ in past]) if past else np.empty((0, available.sum()))
        y = np.concatenate([y for _, y in past]) if past else np.empty(0)
        keep = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
        X, y = X[keep], y[keep]
        n_events = int(y.sum())
        weights = np.full(len(available), np.nan)
        m = int(available.sum())
        if m == 0:
            out.append(MetaChoice(weights, 0.0, np.nan, n_events, "none"))
            continue
        if n_events < min_events or n_events == len(y):
            weights[available] = 1.0 / m
            lam = 0.0 if kind == "stacked" else np.nan
            out.append(MetaChoice(weights, 0.0, lam, n_events, "equal"))
        elif kind == "stacked":
            weights[available], intercept, lam = stacking_weights(X, y, shrinkage=shrinkage)
            out.append(MetaChoice(weights, intercept, lam, n_events, "stacked"))
        else:
            best = select_member(X, y)
            weights[available] = 0.0
            index = int(np.flatnonzero(available)[best])
            weights[index] = 1.0
            out.append(MetaChoice(weights, 0.0, np.nan, n_events, str(members[index])))
    return out


class MetaEnsemble(ClassifierMixin, BaseEstimator):
    r"""Members combined on the logit scale with fixed weights: the estimator of ``stacked``
    and ``selected``.

    :math:`p = \sigma(c + \sum_m w_m\,\mathrm{logit}\,p_m)` (:func:`combine_logits`). The
    weights come from the backtest's history of out-of-sample forecasts
    (:func:`choose_by_origin`), which a single fit does not have: ``fit`` alone fits the
    members and, with ``weights=None``, weighs them equally (the rule for a history with too
    few onsets). :meth:`from_fitted` wraps members already fitted for one origin with that
    origin's weights (a risk list).

    Parameters
    ----------
    estimators : list of (label, estimator)
    weights : list of float, optional
        Weight on each member's log-odds (NaN leaves a member out); default equal.
    intercept : float, default 0.0
    """

    def __init__(self, estimators, *, weights=None, intercept: float = 0.0):
        self.estimators = estimators
        self.weights = weights
        self.intercept = intercept

    def _weights(self) -> NDArray:
        n = len(self.estimators)
        return np.full(n, 1.0 / n) if self.weights is None else np.asarray(self.weights, float)

    def fit(self, X, y, *, sample_weight=None, years=None):
        if not self.estimators:
            raise input_error(
                "a meta model needs at least one member",
                fix="list members, or other models in the experiment",
            )
        unresolved = [label for label, estimator in self.estimators if estimator is None]
        if unresolved:
            raise input_error(
                f"meta model members {unresolved} are not registered models",
                fix="labels of a spec's models are resolved by the backtest "
                "engine and fit_latest; alone, name registered models",
            )
        if len(self._weights()) != len(self.estimators):
            raise input_error(
                f"{len(self.estimators)} members but {len(self._weights())} weights",
                fix="give one weight per member",
            )
        self.classes_ = np.array([0, 1])
        self.estimators_ = [
            (label, fit_estimator(clone(est), X, y, sample_weight=sample_weight, years=years))
            for label, est in self.estimators
        ]
        return self

    @classmethod
    def from_fitted(cls, estimators, *, weights, intercept: float = 0.0) -> MetaEnsemble:
        """A meta ensemble of already fitted ``estimators`` with one origin's weights."""
        model = cls(
            estimators, weights=list(np.asarray(weights, float)), intercept=float(intercept)
        )
        model.classes_ = np.array([0, 1])
        model.estimators_ = list(estimators)
        return model

    def member_probabilities(self, X) -> NDArray:
        """Members' probabilities (rows x members); NaN for members with a missing weight."""
        w = self._weights()
        columns = [
            np.asarray(est.predict_proba(X))[:, 1] if not np.isnan(wm) else np.full(len(X), np.nan)
            for (_, est), wm in zip(self.estimators_, w)
        ]
        return np.column_stack(columns)

    def combine(self, probabilities: NDArray) -> NDArray:
        """The meta probability from member probabilities (rows x members)."""
        return combine_logits(probabilities, self._weights(), self.intercept)

    def predict_proba(self, X) -> NDArray:
        p = self.combine(self.member_probabilities(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> NDArray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

"""Template for a new model. Copy, rename, fill in, and register it.

Two ways to make it available:
1. In this package: decorate a factory with
   ``@register_model("my_model", check_params={...}, tags=ModelTags(...), constraints={...})``
   in ``forecast/models/_registry.py``; the shared checks in ``tests/test_models.py`` pick it
   up. ``constraints`` declares each parameter's valid values in scikit-learn's format
   (``{"n_rounds": [Interval(Integral, 1, None, closed="left")]}``), checked with the spec's
   line before anything is built.
2. From another package: expose the factory as an entry point in your ``pyproject.toml``::

       [project.entry-points."forecast.models"]
       my_model = "my_package.models:make_my_model"

   and declare its tags as the factory's ``model_tags`` attribute (below).

The tags (:class:`forecast.models.ModelTags`) say what the shared checks may demand: by
default the same rows in another order give the same forecasts, and weights of one give
the forecasts of no weights. A model that draws rows at random (bootstrap, subsampling)
declares ``row_order_invariant=False``; one whose fit treats integer weights as repeated
rows declares ``weights_as_repeats=True``. Declare only what the model really does.

Then use it in an experiment spec: ``models: [{name: my_model, params: {...}}]`` and run
``forecast.models.check_model("my_model")`` in your tests.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from forecast.models import ModelTags
from forecast.models._preprocess import linear_preprocessor


class MyModel(ClassifierMixin, BaseEstimator):
    """One line on what it is. Objective or formula here.

    Parameters
    ----------
    strength : float, default 1.0
        Explain it.
    """

    def __init__(self, strength: float = 1.0, *, random_state: int = 0):
        self.strength = strength  # __init__ only stores parameters
        self.random_state = random_state

    def fit(self, X, y, *, sample_weight=None, years=None):
        """``years`` lets a model tune on a temporal split; never use random K-fold across years."""
        self.classes_ = np.array([0, 1])
        self.preprocessor_ = linear_preprocessor().fit(
            X
        )  # imputation + scaling, training rows only
        Z = self.preprocessor_.transform(X)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        rate = float(np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6))
        self.intercept_ = np.log(rate / (1 - rate))
        self.coef_ = np.zeros(Z.shape[1])  # replace with a real fit
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "coef_")
        eta = self.intercept_ + self.preprocessor_.transform(X) @ self.coef_
        p = 1 / (1 + np.exp(-eta))
        return np.column_stack([1 - p, p])


def make_my_model(*, seed: int = 0, **params) -> MyModel:
    """The factory the registry calls: keyword parameters from the spec, plus ``seed``."""
    return MyModel(random_state=seed, **params)


make_my_model.model_tags = ModelTags()  # the strict defaults; relax only what is really so

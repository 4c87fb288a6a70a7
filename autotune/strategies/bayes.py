"""Bayesian optimization with scikit-optimize's ask/tell `Optimizer`.

Ordinal knobs (factors, threads, block sizes) are Integer dimensions over their value index, so the surrogate
can interpolate between neighbours; the others (loop choice, loop order, schedule kind) are Categorical. The
surrogate is a Gaussian process ("GP") or a random forest ("RF"). `tell` goes to the Optimizer, which fits the
surrogate. `ask` does not take the Optimizer's own proposal (found by sampling the box, it often lands on a point
already tried or one the constraints reject): our spaces are discrete and small, so it scores every untried valid
point with expected improvement under the fitted surrogate and takes the best. Until `initial_points` trials
exist, and whenever no model is fitted, it takes untried points in a seeded random order.

The surrogate's matrices are tiny: BLAS runs single-threaded here (threadpoolctl), since a thread pool only
spins against the kernels being timed and made fitting 3x slower on a loaded machine.
"""
from __future__ import annotations

import random
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from autotune.strategies import Strategy

DEFAULT_INITIAL_POINTS = 5
MAX_CANDIDATES = 20000  # points scored per ask; a larger space is scored on a seeded random subset
XI = 0.01  # expected improvement's exploration margin


class Bayes(Strategy):
    def __init__(self, space, seed: int = 0, surrogate: str = "GP", initial_points: int = DEFAULT_INITIAL_POINTS,
                 **options):
        from skopt import Optimizer
        from skopt.space import Categorical, Integer

        super().__init__(space, seed)
        self.varying = [k for k in space.knobs if len(k.values) > 1]
        dimensions = [Integer(0, len(k.values) - 1, name=k.name) if k.ordinal
                      else Categorical([str(v) for v in k.values], name=k.name) for k in self.varying]
        self.optimizer = Optimizer(dimensions, base_estimator=surrogate, n_initial_points=initial_points,
                                   acq_func="EI", acq_optimizer="sampling", acq_optimizer_kwargs={"n_points": 100},
                                   random_state=seed) if dimensions else None
        self.order = list(space.points())
        random.Random(seed).shuffle(self.order)

    def encode(self, config: dict) -> list:
        return [k.values.index(config[k.name]) if k.ordinal else str(config[k.name]) for k in self.varying]

    def ask(self) -> dict | None:
        untried = [c for c in self.order if not self.seen(c)]
        if not untried:
            return None
        model = self.optimizer.models[-1] if self.optimizer is not None and self.optimizer.models else None
        if model is None:
            return untried[0]
        from skopt.acquisition import gaussian_ei

        candidates = untried[:MAX_CANDIDATES]
        points = self.optimizer.space.transform([self.encode(c) for c in candidates])
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            scores = gaussian_ei(points, model, y_opt=float(np.min(self.optimizer.yi)), xi=XI)
        return candidates[int(np.argmax(scores))]

    def tell(self, config: dict, objective: float) -> None:
        super().tell(config, objective)
        if self.optimizer is None:
            return
        try:
            point = self.encode(config)
        except (KeyError, ValueError):
            return  # a stored trial from another version of the space: kept in the history, not in the model
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            self.optimizer.tell(point, objective)

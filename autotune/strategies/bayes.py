"""Bayesian optimization over a discrete space: a surrogate of log(time) fitted to the trials, expected improvement.

- Features: autotune.encode (log2 of factors, on/off as 0/1, loop orders as positions and innermost loop, ...),
  so the model can generalize from "k innermost was fast" to the configs it has not tried.
- Target: log(seconds), so a 2x difference weighs the same for a fast and a slow kernel. A candidate without a
  verified time (wrong, refused, failed) gets the worst log time seen plus log(2): worse than anything that works.
- Surrogate: scikit-optimize's `Optimizer` fitted through `tell`, with its Gaussian process ("GP": Matern kernel
  with a noise term, normalized targets; the timings are noisy) or random forest ("RF": the spread of the trees
  as the uncertainty) base estimator, on the encoded features as real dimensions.
- Initial design: `initial_points` points spread over the feature space (greedy max-min distance from a seeded
  random first point), then each `ask` scores every untried valid point (the spaces are small and discrete) by
  expected improvement over the best time seen, with a 1 % margin: once a good region is found, points near it
  win unless the model is unsure elsewhere.

The matrices are tiny: BLAS runs single-threaded here (threadpoolctl), since a thread pool only spins against the
kernels being timed.
"""
from __future__ import annotations

import math
import random
import warnings

import numpy as np
from skopt.acquisition import gaussian_ei
from threadpoolctl import threadpool_limits

from autotune.encode import Encoder
from autotune.strategies import Strategy, config_key

DEFAULT_INITIAL_POINTS = 5
XI = 0.01  # expected improvement's margin, in log(seconds): 1 %
FAILED_PENALTY = math.log(2.0)  # a candidate without a time: twice as slow as the slowest one that worked


SURROGATES = ("GP", "RF")  # scikit-optimize's Gaussian process and random forest base estimators


def fitted_optimizer(features: np.ndarray, tried: list[int], y: np.ndarray, surrogate: str, seed: int):
    """A skopt.Optimizer over the space's features, told the tried points' log times (so `models[-1]` is the
    fitted surrogate), and the mask of feature columns it uses: columns that never vary carry nothing and have no
    range, so they are left out."""
    from skopt import Optimizer
    from skopt.space import Real

    keep = np.ptp(features, axis=0) > 0
    bounds = zip(features[:, keep].min(axis=0), features[:, keep].max(axis=0))
    optimizer = Optimizer([Real(float(lo), float(hi)) for lo, hi in bounds], base_estimator=surrogate,
                          acq_func="EI", n_initial_points=1, random_state=seed)
    optimizer.tell(features[tried][:, keep].tolist(), y.tolist())
    return optimizer, keep


class Bayes(Strategy):
    def __init__(self, space, seed: int = 0, surrogate: str = "GP", initial_points: int = DEFAULT_INITIAL_POINTS,
                 **options):
        super().__init__(space, seed)
        if surrogate not in SURROGATES:
            raise ValueError(f"unknown surrogate {surrogate!r}: use one of {', '.join(SURROGATES)}")
        self.surrogate = surrogate
        self.initial_points = initial_points
        self.points = list(space.points())
        random.Random(seed).shuffle(self.points)
        encode = Encoder(space)
        self.features = np.array([encode(p) for p in self.points]) if self.points else np.zeros((0, 0))
        self.position = {config_key(p): k for k, p in enumerate(self.points)}
        self.seconds: dict[int, float | None] = {}  # point position -> seconds (None: no verified time)

    def tell(self, config: dict, objective: float) -> None:
        super().tell(config, objective)
        position = self.position.get(config_key(config))
        if position is not None:  # else a stored trial of another version of the space: history only
            self.seconds[position] = -1.0 / objective if objective < 0 else None

    def ask(self) -> dict | None:
        untried = [k for k, p in enumerate(self.points) if not self.seen(p)]
        if not untried:
            return None
        timed = [s for s in self.seconds.values() if s is not None]
        if len(self.seconds) < self.initial_points or len(timed) < 2:
            return self.points[self.spread_out(untried)]
        tried = list(self.seconds)
        worst = math.log(max(timed)) + FAILED_PENALTY
        y = np.array([math.log(s) if s is not None else worst for s in self.seconds.values()])
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            optimizer, keep = fitted_optimizer(self.features, tried, y, self.surrogate, self.seed)
            candidates = optimizer.space.transform(self.features[untried][:, keep].tolist())
            scores = gaussian_ei(candidates, optimizer.models[-1], y_opt=float(y.min()), xi=XI)
        return self.points[untried[int(np.argmax(scores))]]

    def spread_out(self, untried: list[int]) -> int:
        """The untried point farthest from every tried one (the seeded shuffle's first when none is tried)."""
        if not self.seconds:
            return untried[0]
        tried = self.features[list(self.seconds)]
        distances = np.linalg.norm(self.features[untried][:, None, :] - tried[None, :, :], axis=2).min(axis=1)
        return untried[int(np.argmax(distances))]

"""Bayesian optimization over a discrete space: a surrogate of the trials' speed fitted to them, expected
improvement.

- Features: autotune.encode (log2 of factors, on/off as 0/1, loop orders as positions and innermost loop, ...),
  so the model can generalize from "k innermost was fast" to the configs it has not tried.
- Target, by surrogate (both lower is better; a candidate without a verified time, wrong, refused or failed, is
  slower than anything that works):
  - GP: speed relative to the fastest time seen (minus fastest / time, in [-1, 0); no time: 0). Tuning looks for
    the fastest point, and on a log(time) target a few catastrophic timings (OpenMP points whose barrier waited
    on a descheduled thread, 2000x slower) dominated the smooth fit: a region holding the best points looked bad
    as a whole. On relative speed a 20x and a 2000x slower point both sit near 0, and the model's resolution goes
    to the fast points.
  - RF: log(seconds) (no time: the worst log time seen plus log 2). Measured, not derived: on
    bench/tune_strategies.py's table relative speed took the GP from 0.64x to 0.48x of random search's
    evaluations but the forest from 0.68x to 0.95x (log time capped at 10x the fastest: 0.92x). A likely reason:
    a forest's leaves hold several points each, and on relative speed nearly all the variance is in the few
    fastest points, which no split can isolate; log time spreads it over the whole range.
- Surrogate: scikit-optimize's `Optimizer` fitted through `tell`, with its Gaussian process ("GP": Matern kernel
  with a noise term, normalized targets; the timings are noisy) or random forest ("RF": the spread of the trees
  as the uncertainty) base estimator, on the encoded features as real dimensions. Its own proposal (a search
  over the continuous box) is not used, so it is told to make it from a single sample: the fit is the cost.
- Initial design: `initial_points` points spread over the feature space (greedy max-min distance from a seeded
  random first point), then each `ask` scores every untried valid point (the spaces are small and discrete) by
  expected improvement over the best target seen, with a 1 % margin (of the best speed; of log time): once a good
  region is found, points near it win unless the model is unsure elsewhere.

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
XI = 0.01  # expected improvement's margin: 1 % of the fastest speed seen, or 1 % in log(seconds)
FAILED_PENALTY = math.log(2.0)  # log target: a candidate without a time is twice as slow as the slowest that worked


SURROGATES = ("GP", "RF")  # scikit-optimize's Gaussian process and random forest base estimators


def fitted_optimizer(features: np.ndarray, tried: list[int], y: np.ndarray, surrogate: str, seed: int):
    """A skopt.Optimizer over the space's features, told the tried points' targets (so `models[-1]` is the
    fitted surrogate), and the mask of feature columns it uses: columns that never vary carry nothing and have no
    range, so they are left out."""
    from skopt import Optimizer
    from skopt.space import Real

    keep = np.ptp(features, axis=0) > 0
    bounds = zip(features[:, keep].min(axis=0), features[:, keep].max(axis=0))
    optimizer = Optimizer([Real(float(lo), float(hi)) for lo, hi in bounds], base_estimator=surrogate,
                          acq_func="EI", n_initial_points=1, random_state=seed,
                          acq_optimizer="sampling", acq_optimizer_kwargs={"n_points": 1})
    optimizer.tell(features[tried][:, keep].tolist(), y.tolist())
    return optimizer, keep


def relative_speeds(seconds: list[float | None]) -> np.ndarray:
    """The GP's target, lower is better: minus the fastest time over each time (-1 for the fastest, near 0
    for a point many times slower), 0 for a point without a verified time."""
    fastest = min(s for s in seconds if s is not None)
    return np.array([-fastest / s if s is not None else 0.0 for s in seconds])


def log_seconds(seconds: list[float | None]) -> np.ndarray:
    """The forest's target: log(seconds), the worst log time seen plus log 2 for a point without a verified time."""
    worst = math.log(max(s for s in seconds if s is not None)) + FAILED_PENALTY
    return np.array([math.log(s) if s is not None else worst for s in seconds])


TARGETS = {"GP": relative_speeds, "RF": log_seconds}  # why each: the module docstring


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
        y = TARGETS[self.surrogate](list(self.seconds.values()))
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

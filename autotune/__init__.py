"""Tuning: search the knobs of a translation for the fastest verified candidate on a device.

Two levels, as in QiMeng-Xpiler: the parameters inside a pass sequence (split factors, loop orders, OpenMP threads
and schedule, threads per block, the target optimizations cache/tile/tensorize/pipeline; `space`), searched by a
strategy (`strategies`: Bayesian optimization with a scikit-learn surrogate over structured features (`encode`),
random, grid), and the sequence itself (`sequences`: a UCB1 bandit over the sequences). Every
candidate is verified by execution before it is timed (`evaluate`); trials are appended to a crash-safe store and
a rerun resumes from them (`trials`). The entry point is `tune` (`tuner`).
"""
from __future__ import annotations

from autotune.space import Knob, SearchSpace, build_spaces, loop_form
from autotune.trials import Trial, TrialStore
from autotune.tuner import TuneResult, tune

__all__ = ["Knob", "SearchSpace", "Trial", "TrialStore", "TuneResult", "build_spaces", "loop_form", "tune"]

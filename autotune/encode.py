"""Numeric features of a config, so that a surrogate model can see the structure of a space.

One-hot categories make every value a stranger to every other; the knobs have structure a model can use:
- numbers that grow by factors (split factors, threads, block sizes, tiles) are log2 of the value, scaled to [0, 1]
  over the knob's range (8 sits between 4 and 16);
- on/off knobs are 0 or 1;
- a loop order ("k,i,j@0") is where each loop sits (0 outermost .. 1 innermost) and which loop is innermost (and
  which nest, one-hot, when the space reorders several);
- the loop a split applies to is one-hot, plus whether it is innermost in the final order (after a reorder);
- anything else (OpenMP schedule kind) is one-hot.
Every feature lies in [0, 1], so one length scale per model is a fair start.
"""
from __future__ import annotations

import math

import numpy as np

from autotune.space import Knob, SearchSpace

ORDER_KNOB = "reorder"
SPLIT_LOOP_KNOB = "split_loop"


def _loops(order: str) -> list[str]:
    return order.rsplit("@", 1)[0].split(",")


def _is_number_ladder(knob: Knob) -> bool:
    return knob.ordinal and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in knob.values)


class Encoder:
    """config -> feature vector for one space (only knobs with more than one value carry information)."""

    def __init__(self, space: SearchSpace):
        self.knobs = [k for k in space.knobs if len(k.values) > 1]
        self.innermost_by_site = {s.label: s.innermost for s in space.form.sites}

    def __call__(self, config: dict) -> np.ndarray:
        features: list[float] = []
        for knob in self.knobs:
            features.extend(self.knob_features(knob, config))
        return np.asarray(features, dtype=float)

    def knob_features(self, knob: Knob, config: dict) -> list[float]:
        value = config[knob.name]
        if _is_number_ladder(knob):
            low, high = math.log2(min(knob.values)), math.log2(max(knob.values))
            return [(math.log2(value) - low) / (high - low) if high > low else 0.0]
        if all(isinstance(v, bool) for v in knob.values):
            return [float(value)]
        if knob.name == ORDER_KNOB:
            loops = sorted({name for v in knob.values for name in _loops(v)})
            nests = sorted({v.rsplit("@", 1)[1] for v in knob.values})
            order = _loops(value)
            depth = max(len(order) - 1, 1)
            return [order.index(n) / depth if n in order else 0.0 for n in loops] \
                + [float(order[-1] == n) for n in loops] \
                + ([float(value.rsplit("@", 1)[1] == n) for n in nests] if len(nests) > 1 else [])
        one_hot = [float(value == v) for v in knob.values]
        if knob.name == SPLIT_LOOP_KNOB:
            return one_hot + [float(self.split_is_innermost(value, config))]
        return one_hot

    def split_is_innermost(self, site: str, config: dict) -> bool:
        var = site.rsplit("@", 1)[0]
        if ORDER_KNOB in config and var in _loops(config[ORDER_KNOB]):
            return _loops(config[ORDER_KNOB])[-1] == var
        return self.innermost_by_site.get(site, False)

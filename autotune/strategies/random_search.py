"""Random search: valid points in a seeded random order, without repetition."""
from __future__ import annotations

import random

from autotune.strategies import Strategy


class RandomSearch(Strategy):
    def __init__(self, space, seed: int = 0, **options):
        super().__init__(space, seed)
        self.order = list(space.points())
        random.Random(seed).shuffle(self.order)

    def ask(self) -> dict | None:
        return next((c for c in self.order if not self.seen(c)), None)

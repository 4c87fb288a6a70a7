"""Grid search: valid points in lexicographic order of the knobs, starting at a seed-dependent offset (seed 0
starts at the first point), so that several seeds sample different corners of a grid larger than the budget."""
from __future__ import annotations

from autotune.strategies import Strategy

GOLDEN = 0.6180339887


class Grid(Strategy):
    def __init__(self, space, seed: int = 0, **options):
        super().__init__(space, seed)
        points = list(space.points())
        start = int(len(points) * ((seed * GOLDEN) % 1.0))
        self.order = points[start:] + points[:start]

    def ask(self) -> dict | None:
        return next((c for c in self.order if not self.seen(c)), None)

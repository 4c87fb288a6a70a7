"""Search strategies, one per file, all of one shape (Kernel Tuner's layout): `Strategy(space, seed)` with
`ask() -> config | None` (None: nothing left to try) and `tell(config, objective)` (lower is better).

Every strategy proposes only points that pass the space's constraints and never the same point twice, so a
budget of N means N distinct candidates. Loaded lazily by name.
"""
from __future__ import annotations

import importlib

from kernel_ir.diagnostics import XpilerError

STRATEGIES = {"bayes": "autotune.strategies.bayes:Bayes", "random": "autotune.strategies.random_search:RandomSearch",
              "grid": "autotune.strategies.grid:Grid"}


def config_key(config: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in config.items()))


class Strategy:
    """Shared bookkeeping: which configs were already told."""

    def __init__(self, space, seed: int = 0, **options):
        self.space = space
        self.seed = seed
        self.told: dict[tuple, float] = {}

    def ask(self) -> dict | None:
        raise NotImplementedError

    def tell(self, config: dict, objective: float) -> None:
        self.told[config_key(config)] = objective

    def seen(self, config: dict) -> bool:
        return config_key(config) in self.told


def load_strategy(name: str):
    if name not in STRATEGIES:
        raise XpilerError("XP002", f"unknown tuning strategy {name!r}", hint=f"use one of {', '.join(STRATEGIES)}")
    module, cls = STRATEGIES[name].split(":")
    return getattr(importlib.import_module(module), cls)

"""The search over pass sequences, on top of the parameter search inside each sequence.

QiMeng-Xpiler searches pass sequences with MCTS (reward = measured throughput, 0 when the result is wrong). Our
sequences are few and short (space.SEQUENCES: no schedule, split, reorder, fuse, reorder then split, unroll), so the tree
is one level deep and its search reduces to a bandit: every sequence is one arm, tried once first (in the order
given), then chosen by UCB1 on the mean reward of its trials, a reward being the trial's throughput divided by
the best throughput seen so far (0 for a wrong, refused or failed candidate). The chosen sequence's own strategy
(Bayesian, random or grid over its parameters) proposes the candidate. A sequence with nothing left to try
leaves the search.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from autotune.space import SearchSpace
from autotune.strategies import Strategy
from autotune.trials import Trial

EXPLORATION = 0.5  # UCB1's constant: rewards are in [0, 1] and differences between sequences are often small


@dataclass
class Arm:
    space: SearchSpace
    strategy: Strategy
    throughputs: list[float] = field(default_factory=list)  # 0 for a candidate without a verified timing
    exhausted: bool = False


class SequenceSearch:
    def __init__(self, spaces: list[SearchSpace], strategy_type: type[Strategy], seed: int = 0, **options):
        self.arms = {space.name: Arm(space, strategy_type(space, seed, **options)) for space in spaces}

    def tell(self, trial: Trial) -> None:
        arm = self.arms.get(trial.config.get("sequence"))
        if arm is None:
            return  # the untuned point, or a sequence this run does not search
        arm.strategy.tell(trial.config, trial.objective)
        arm.throughputs.append(-trial.objective)

    def ask(self) -> tuple[SearchSpace, dict] | None:
        while True:
            live = [arm for arm in self.arms.values() if not arm.exhausted]
            if not live:
                return None
            arm = self._choose(live)
            config = arm.strategy.ask()
            if config is not None:
                return arm.space, config
            arm.exhausted = True

    def _choose(self, live: list[Arm]) -> Arm:
        untried = [arm for arm in live if not arm.throughputs]
        if untried:
            return untried[0]
        best = max(max(arm.throughputs) for arm in self.arms.values() if arm.throughputs) or 1.0
        pulls = sum(len(arm.throughputs) for arm in live)

        def score(arm: Arm) -> float:
            mean = sum(arm.throughputs) / len(arm.throughputs) / best
            return mean + EXPLORATION * math.sqrt(2 * math.log(pulls) / len(arm.throughputs))

        return max(live, key=score)

"""Strategies tested without a device, on a recorded table of objectives (Kernel Tuner's way)."""
from __future__ import annotations

import math

import pytest

from autotune.encode import Encoder
from autotune.space import Knob, LoopForm, SearchSpace
from autotune.strategies import config_key, load_strategy
from kernel_ir.diagnostics import XpilerError

SPACE = SearchSpace(("split",), (Knob("split_factor", (4, 8, 16, 32, 64), ordinal=True), Knob("omp_schedule",
                    ("static", "dynamic", "guided")), Knob("omp_threads", (1, 2), ordinal=True)), "cpp", LoopForm((), ()))


def objective(config: dict) -> float:
    """A smooth landscape: best at factor 16, static, 2 threads."""
    distance = abs([4, 8, 16, 32, 64].index(config["split_factor"]) - 2)
    return -1.0 / (1.0 + distance + (config["omp_schedule"] != "static") + (config["omp_threads"] != 2))


def run(name: str, budget: int, seed: int = 0) -> list[dict]:
    strategy = load_strategy(name)(SPACE, seed)
    asked = []
    for _ in range(budget):
        config = strategy.ask()
        if config is None:
            break
        asked.append(config)
        strategy.tell(config, objective(config))
    return asked


@pytest.mark.parametrize("name", ["bayes", "random", "grid"])
def test_every_strategy_proposes_distinct_valid_points_until_the_space_is_exhausted(name):
    asked = run(name, budget=40)
    assert len(asked) == SPACE.size() == 30
    assert len({config_key(c) for c in asked}) == 30
    assert all(c["sequence"] == "split" for c in asked)


def test_bayes_finds_the_best_of_a_smooth_landscape_early():
    best = min(objective(c) for c in SPACE.points())
    assert min(objective(c) for c in run("bayes", budget=15)) == best


def test_grid_walks_in_order_and_seeds_move_its_start():
    assert run("grid", 2) == list(SPACE.points())[:2]
    assert run("grid", 1, seed=1) != run("grid", 1, seed=0)


def test_unknown_strategy_is_a_usage_error():
    with pytest.raises(XpilerError) as err:
        load_strategy("annealing")
    assert err.value.code == "XP002"


def test_features_keep_the_structure_of_the_knobs():
    space = SearchSpace(("reorder", "split"), (Knob("reorder", ("j,i@0", "i,j@0")), Knob("split_loop", ("i@0", "j@0")),
                        Knob("split_factor", (4, 8, 16), ordinal=True), Knob("tensorize", (True, False))), "cpp",
                        LoopForm((), ()))
    encode = Encoder(space)
    features = encode(space.config({"reorder": "j,i@0", "split_loop": "i@0", "split_factor": 8, "tensorize": False}))
    # positions of i and j (j outermost), innermost i/j, split loop one-hot, split loop innermost, log2 factor, flag
    assert features.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5, 0.0]


@pytest.mark.parametrize("surrogate", ["GP", "RF"])
def test_bayes_learns_from_failed_candidates_too(surrogate):
    """Failed points (objective 0) count as worse than any time; the best is still found early."""
    def failing(config):
        return 0.0 if config["omp_threads"] == 1 and config["omp_schedule"] != "static" else objective(config)

    strategy = load_strategy("bayes")(SPACE, seed=1, surrogate=surrogate)
    asked = []
    for _ in range(15):
        config = strategy.ask()
        asked.append(config)
        strategy.tell(config, failing(config))
    assert min(failing(c) for c in asked) == min(failing(c) for c in SPACE.points())


def test_bayes_targets_rank_failed_points_last_and_the_gp_one_flattens_slow_outliers():
    """GP: a 20x and a 2000x slower point differ by 4.6 in log(time) but only by 0.05 in relative speed, so the
    model's resolution goes to the fast points. RF: log time. Either way a point without a time is the worst."""
    from autotune.strategies.bayes import TARGETS

    seconds = [0.002, 0.001, 0.02, 2.0, None]
    assert TARGETS["GP"](seconds).tolist() == pytest.approx([-0.5, -1.0, -0.05, -0.0005, 0.0])
    assert TARGETS["RF"](seconds).tolist() == pytest.approx([math.log(s) for s in (0.002, 0.001, 0.02, 2.0, 4.0)])

"""Which sizes make a result's fast versions run, so that verification executes them too.

simdize versions loop bodies: `if (m0 + 63 < M && n0 + 63 < N) [[likely]] { no bounds tests } else { as
written }`. Verification's default sizes (37, 19, 13, ...) are chosen to fall between tiles, so they run the
`else` branches only: the fast versions would be trusted, not executed. `reached` follows the entry function on
given sizes, through the first iteration of each loop, and reports the `[[likely]]` branches taken; where some
are not, `covering_sizes` grows the sizes those branches' tests read until they are. Only what the walk can
evaluate (integer arithmetic on the parameters, constants and the locals derived from them) counts as reached,
so a branch it reports reached does run on those sizes.
"""
from __future__ import annotations

import itertools

from kernel_ir.ir import (Assign, BinOp, Block, Break, Const, Continue, Decl, DoWhile, Expr, For, Function, If, Module,
                          Node, Pragma, Return, ScalarType, Var, walk)
from passes.loops import int_value, names_in, written_names

GROWTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)  # added to sizes tests read, smallest first
MAX_SUBSET_NAMES = 5  # beyond, grow one size at a time or all of them
MAX_RUNS = 2  # verification runs added to take fast versions the first sizes do not
MAX_CANDIDATES = 500  # size choices followed per run (following a large gemm takes ~10 ms)


def fast_versions(function: Function) -> list[If]:
    """The function's `[[likely]]` branches, in program order."""
    return [n for n in walk(function.body) if isinstance(n, If) and n.likely]


def reached(module: Module, function: Function, sizes: dict[str, int]) -> set[int]:
    """Indices (in `fast_versions` order) of the `[[likely]]` ifs whose then-branch runs on `sizes` (in the first
    iteration of every loop)."""
    return Reach(module, function).taken(sizes)


def covering_sizes(module: Module, entry: str, sizes: dict, runs: int = MAX_RUNS) -> list[dict]:
    """Up to `runs` size choices that, with `sizes`, run the most fast versions: each is `sizes` with some of the
    parameters the versions' tests read grown by one amount, the first (smallest growth, fewest parameters) that
    runs every version not yet run, else the one that runs the most of them. Subsets, because a test such as
    `b * 256 + KW + 254 < L` holds only when L grows and KW does not; several choices, because a version inside
    another's slow twin runs only where that other does not. Then any one size set to a threshold the function
    tests (`if (C <= 2048)`: 2047, 2048, 2049) while the tested ones grow, for a version behind a host-side
    choice of strategy. At most MAX_CANDIDATES size choices are followed per run, in that order (deterministic)."""
    function = module.function(entry)
    versions, reach = fast_versions(function), Reach(module, function)
    covered = reach.taken(sizes)
    integers = [name for name, value in sizes.items() if isinstance(value, int)]
    tested = sorted(_sizes_tested(function, versions) & set(integers))
    subsets = [c for n in range(1, len(tested) + 1) for c in itertools.combinations(tested, n)] \
        if len(tested) <= MAX_SUBSET_NAMES else [(name,) for name in tested] + [tuple(tested)]
    candidates = [{name: value + growth if name in names else value for name, value in sizes.items()}
                  for growth in GROWTHS for names in subsets]
    candidates += [{**{name: value + growth if name in tested else value for name, value in sizes.items()},
                    pinned: threshold} for pinned in integers for threshold in _thresholds(function)
                   for growth in (0, *GROWTHS)]
    candidates = candidates[:MAX_CANDIDATES]
    chosen: list[dict] = []
    while len(chosen) < runs and len(covered) < len(versions):
        best, best_covered = None, covered
        for grown in candidates:
            now = covered | reach.taken(grown)
            if len(now) > len(best_covered):
                best, best_covered = grown, now
            if len(now) == len(versions):
                break
        if best is None:
            break
        chosen.append(best)
        covered = best_covered
    return chosen


class Reach:
    """Follows one function on known integer values, through the first iteration of each loop, to the `[[likely]]`
    branches that certainly run. Where the path is not known (a test of an unknown value, a loop with unknown
    bounds or a `while`), it does not go in, and what that code writes is unknown after it. Branches are told
    apart by their place in program order (the index in `fast_versions`): one fast version may be printed twice,
    inside both versions of an outer one, as the same IR node."""

    def __init__(self, module: Module, function: Function):
        self.function = function
        self.constants = {g.name: v for g in module.globals if g.init is not None and isinstance(g.type, ScalarType)
                          and g.type.const and (v := int_value(g.init, {})) is not None}
        self.written_in: dict[int, set[str]] = {}
        self.versions_in: dict[int, int] = {}
        self.found: set[int] = set()
        self.place = 0  # the index of the next `[[likely]]` if in program order

    def taken(self, sizes: dict) -> set[int]:
        """Indices (in `fast_versions` order) of the `[[likely]]` ifs whose then-branch runs on `sizes`."""
        self.found, self.place = set(), 0
        env = {**self.constants, **{name: value for name, value in sizes.items() if isinstance(value, int)}}
        self.block(self.function.body, env)
        return self.found

    def written(self, node: Node) -> set[str]:
        if id(node) not in self.written_in:
            self.written_in[id(node)] = written_names(node)
        return self.written_in[id(node)]

    def skip(self, node: Node | None) -> None:
        """Code not followed: its fast versions keep their places."""
        if node is not None:
            if id(node) not in self.versions_in:
                self.versions_in[id(node)] = sum(isinstance(n, If) and n.likely for n in walk(node))
            self.place += self.versions_in[id(node)]

    def block(self, block: Block, env: dict[str, int]) -> bool:
        """False where control leaves the block (return, break, continue). Its declarations end with it; its
        assignments to names declared outside carry out."""
        inner, declared, going = dict(env), set(), True
        for at, s in enumerate(block.body):
            if isinstance(s, Decl):
                declared.add(s.name)
            going = self.statement(s, inner)
            if not going:
                for rest in block.body[at + 1:]:
                    self.skip(rest)
                break
        for name in self.written(block) - declared:
            self.assign(env, name, inner.get(name))
        return going

    def statement(self, s: Node, env: dict[str, int]) -> bool:
        if isinstance(s, Decl):
            self.assign(env, s.name, int_value(s.init, env) if s.init is not None else None)
        elif isinstance(s, Assign) and isinstance(s.target, Var):
            value = s.value if not s.op else BinOp(s.op, s.target, s.value)
            self.assign(env, s.target.name, int_value(value, env))
        elif isinstance(s, Block):
            return self.block(s, env)
        elif isinstance(s, Pragma) and s.body is not None:
            return self.statement(s.body, env)
        elif isinstance(s, If):
            return self.branch(s, env)
        elif isinstance(s, For):
            self.loop(s, env)
        elif isinstance(s, DoWhile):  # runs once
            self.block(s.body, dict(env))
            self.forget(env, s)
        elif isinstance(s, (Return, Break, Continue)):
            return False
        else:  # a while, a switch, an element assignment, a call: what it writes is no longer known
            self.skip(s)
            self.forget(env, s)
        return True

    def branch(self, s: If, env: dict[str, int]) -> bool:
        outcome = truth(s.cond, env)
        if outcome is None:
            self.skip(s)
            self.forget(env, s)
            return True
        if s.likely:
            if outcome:
                self.found.add(self.place)
            self.place += 1
        if outcome:
            going = self.block(s.then, env)
            self.skip(s.otherwise)
            return going
        self.skip(s.then)
        return True if s.otherwise is None else self.block(s.otherwise, env)

    def loop(self, s: For, env: dict[str, int]) -> None:
        first = dict(env)  # the state the first iteration starts from: after the init, if the condition holds
        for statement in s.init:
            self.statement(statement, first)
        runs = True if s.cond is None else truth(s.cond, first)
        if runs:
            self.block(s.body, first)
        else:
            self.skip(s.body)
        for written_by in (s,) if runs is not False else s.init:
            self.forget(env, written_by)

    def forget(self, env: dict[str, int], s: Node) -> None:
        for name in self.written(s):
            env.pop(name, None)

    @staticmethod
    def assign(env: dict[str, int], name: str, value: int | None) -> None:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value


def truth(e: Expr, env: dict[str, int]) -> bool | None:
    """e as a C condition on known integers; None when it depends on something unknown."""
    value = int_value(e, env)
    return None if value is None else value != 0


def _thresholds(function: Function) -> list[int]:
    """The values around the integer constants (above 1) the function compares with, smallest first."""
    constants = {n.rhs.value for n in walk(function.body) if isinstance(n, BinOp) and n.op in _COMPARISONS
                 and isinstance(n.rhs, Const) and isinstance(n.rhs.value, int) and n.rhs.value > 1}
    return sorted({c + d for c in constants for d in (-1, 0, 1)})


_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def _sizes_tested(function: Function, versions: list[If]) -> set[str]:
    """The names the fast versions' tests depend on, through the declarations and assignments they read (a loop
    variable through its init: the walk takes first iterations)."""
    definitions: dict[str, list[Expr]] = {}
    for node in walk(function.body):
        if isinstance(node, Decl) and node.init is not None:
            definitions.setdefault(node.name, []).append(node.init)
        if isinstance(node, Assign) and isinstance(node.target, Var):
            definitions.setdefault(node.target.name, []).append(node.value)
    seen: set[str] = set()
    pending = [name for v in versions for name in names_in(v.cond)]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(n for init in definitions.get(name, ()) for n in names_in(init))
    return seen

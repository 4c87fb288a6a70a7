"""Which sizes make a result's fast versions run, so that verification executes them too.

simdize versions loop bodies: `if (m0 + 63 < M && n0 + 63 < N) [[likely]] { no bounds tests } else { as
written }`. Verification's default sizes (37, 19, 13, ...) are chosen to fall between tiles, so they run the
`else` branches only: the fast versions would be trusted, not executed. `reaching_sizes` finds sizes at which
they run: it follows the entry function on given sizes, through the first iteration of each loop, and reports
the `[[likely]]` branches taken; where some are not, it grows the sizes those branches' tests depend on until
they are. Only what the walk can evaluate (integer arithmetic on the parameters, constants and the locals
derived from them) counts as reached, so a branch it reports reached does run on those sizes.
"""
from __future__ import annotations

from kernel_ir.ir import (BinOp, Block, Break, Continue, Decl, DoWhile, Expr, For, Function, If, Module, Node, Pragma,
                          Return, ScalarType, Switch, UnaryOp, While, walk)
from passes.loops import canonical, int_value, names_in, written_names

GROWTHS = (16, 32, 64, 128, 256)  # added to the sizes a fast version's test depends on, smallest first


def fast_versions(function: Function) -> list[If]:
    """The function's `[[likely]]` branches, in program order."""
    return [n for n in walk(function.body) if isinstance(n, If) and n.likely]


def reached(module: Module, function: Function, sizes: dict[str, int]) -> set[int]:
    """ids of the `[[likely]]` ifs whose then-branch runs on `sizes` (in the first iteration of every loop)."""
    env = {g.name: v for g in module.globals if g.init is not None and isinstance(g.type, ScalarType)
           and g.type.const and (v := int_value(g.init, {})) is not None}
    env.update({name: value for name, value in sizes.items() if isinstance(value, int)})
    taken: set[int] = set()
    _Walk(written_names(function.body), taken).block(function.body, env)
    return taken


def reaching_sizes(module: Module, entry: str, sizes: dict) -> dict | None:
    """`sizes` with the parameters the fast versions' tests depend on grown (by the first of GROWTHS that runs
    them all, else the one that runs the most), or None when `sizes` already run them all or no growth runs more."""
    function = module.function(entry)
    versions = fast_versions(function)
    if not versions or len(reached(module, function, sizes)) == len(versions):
        return None
    depends = _sizes_tested(function, versions) & {name for name, value in sizes.items() if isinstance(value, int)}
    best, best_count = None, len(reached(module, function, sizes))
    for growth in GROWTHS:
        grown = {name: value + growth if name in depends else value for name, value in sizes.items()}
        count = len(reached(module, function, grown))
        if count > best_count:
            best, best_count = grown, count
        if count == len(versions):
            break
    return best


class _Walk:
    """Follows a function on known integer values; `block` returns False where control leaves (return, break)."""

    def __init__(self, reassigned: set[str], taken: set[int]):
        self.reassigned = reassigned
        self.taken = taken

    def block(self, block: Block, env: dict[str, int]) -> bool:
        env = dict(env)  # declarations are scoped to the block
        return all(self.statement(s, env) for s in block.body)

    def statement(self, s: Node, env: dict[str, int]) -> bool:
        if isinstance(s, Decl):
            value = int_value(s.init, env) if s.init is not None and s.name not in self.reassigned else None
            if value is None:
                env.pop(s.name, None)
            else:
                env[s.name] = value
        elif isinstance(s, Block):
            return self.block(s, env)
        elif isinstance(s, Pragma) and s.body is not None:
            return self.statement(s.body, env)
        elif isinstance(s, If):
            return self.branch(s, env)
        elif isinstance(s, For):
            self.loop(s, env)
        elif isinstance(s, (While, DoWhile, Switch)):
            unknown = {k: v for k, v in env.items() if k not in written_names(s)}
            self.block(s.body, unknown)  # taken only through tests of values the loop does not change
        elif isinstance(s, (Return, Break, Continue)):
            return False
        else:  # an assignment, a call: what it writes is no longer known
            for name in written_names(s):
                env.pop(name, None)
        return True

    def branch(self, s: If, env: dict[str, int]) -> bool:
        outcome = truth(s.cond, env)
        if outcome is True and s.likely:
            self.taken.add(id(s))
        if outcome is None:  # either branch may run: look for fast versions in both, then go on unknowing
            self.block(s.then, env)
            if s.otherwise is not None:
                self.block(s.otherwise, env)
            return True
        chosen = s.then if outcome else s.otherwise
        return True if chosen is None else self.block(chosen, env)

    def loop(self, s: For, env: dict[str, int]) -> None:
        shape = canonical(s)
        inner = {k: v for k, v in env.items() if k not in written_names(s.body)}
        if shape is None:
            self.block(s.body, inner)
            return
        first, stop = int_value(shape.start, env), int_value(shape.stop, env)
        if first is not None and stop is not None and not first < stop:
            return  # the loop does not run
        if first is not None and stop is not None:
            inner[shape.var] = first
        self.block(s.body, inner)


def truth(e: Expr, env: dict[str, int]) -> bool | None:
    """e as a C condition on known integers; None when it depends on something unknown."""
    if isinstance(e, UnaryOp) and e.op == "!":
        inner = truth(e.operand, env)
        return None if inner is None else not inner
    if isinstance(e, BinOp) and e.op in ("&&", "||"):
        decisive = e.op == "||"  # the value of one side that decides the whole (conditions have no side effects)
        sides = truth(e.lhs, env), truth(e.rhs, env)
        return decisive if decisive in sides else None if None in sides else not decisive
    if isinstance(e, BinOp) and e.op in _COMPARE:
        a, b = int_value(e.lhs, env), int_value(e.rhs, env)
        return None if a is None or b is None else _COMPARE[e.op](a, b)
    value = int_value(e, env)
    return None if value is None else value != 0


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _sizes_tested(function: Function, versions: list[If]) -> set[str]:
    """The names the fast versions' tests depend on, through the declarations they read (a loop variable through
    its start: the walk takes first iterations)."""
    definitions: dict[str, list[Expr]] = {}
    for node in walk(function.body):
        if isinstance(node, Decl) and node.init is not None:
            definitions.setdefault(node.name, []).append(node.init)
        if isinstance(node, For) and (shape := canonical(node)) is not None:
            definitions.setdefault(shape.var, []).append(shape.start)
    seen: set[str] = set()
    pending = [name for v in versions for name in names_in(v.cond)]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(n for init in definitions.get(name, ()) for n in names_in(init))
    return seen

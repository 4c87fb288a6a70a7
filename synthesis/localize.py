"""Bug localization: where a candidate program first goes wrong, and what kind of fault it is.

Two programs in the same dialect are compared: the candidate (an LLM's answer, a program with an injected
fault) and a reference that is known to mean the right thing (the symbolic pipeline's program at that stage).

1. By execution. A program's *stages* are its loop nests and kernel launches in execution order (the entry and
   the host functions it calls; a kernel belongs to the stage that launches it). Both programs are run with
   only their first k stages kept (later ones become empty blocks) on the same inputs, and their buffers are
   compared; a binary search over k finds the first stage after which they disagree. Skipped when the stage
   counts differ (no correspondence) or there is one stage.
2. By alignment. Within that stage the two IR trees are walked side by side (statement lists aligned like a
   text diff); the first differing sub-tree names the faulty statement, and its place classifies the fault:
   an index expression, a loop bound, a condition, an intrinsic's argument (length, stride, direction), a
   missing barrier, a dtype, other integer arithmetic, or structure (statements added or removed).
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field

from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import get_printer
from kernel_ir.executor import execute
from kernel_ir.ir import (
    ArrayType, Assign, Barrier, Block, Call, Decl, DoWhile, ExprStmt, For, FuncQual, Function, If, Index,
    KernelLaunch, Module, NamedType, Node, PointerType, ReferenceType, Return, ScalarType, Select, Stmt,
    VectorType, While, walk,
)
from kernel_ir.lower_cpu import DEFAULT_BANG_LAUNCH
from kernel_ir.parse import parse
from passes.verify import compare
from synthesis.sketch import is_integer_arithmetic

Path = tuple[tuple[str, int | None], ...]  # (field name, tuple index or None) steps from a function

STATEMENTS = (Decl, Assign, ExprStmt, For, While, DoWhile, If, Return, Barrier, KernelLaunch)
TYPES = (ScalarType, VectorType, PointerType, ReferenceType, ArrayType, NamedType)
INTRINSIC_PREFIXES = ("__bang_", "__memcpy", "__memset", "__nramset", "__gdramset", "_mm", "_mm512", "wmma::",
                      "__builtin_amdgcn_mfma", "__shfl")
DEVICE_QUALIFIERS = {FuncQual.global_, FuncQual.device, FuncQual.mlu_func, FuncQual.mlu_device}
KINDS = ("index", "loop_bound", "condition", "intrinsic", "barrier", "dtype", "integer", "structure", "other")


def is_intrinsic(name: str) -> bool:
    return name.startswith(INTRINSIC_PREFIXES)


@dataclass(frozen=True)
class Difference:
    """One place where the candidate's tree leaves the reference's.

    `root_path` is the largest integer expression around the difference (what a repair sketches); it equals
    `path` when the differing node is not integer arithmetic (then only a structural repair can help).
    """

    function: str
    path: Path
    statement_path: Path
    root_path: Path
    reference_root_path: Path  # the same place in the reference (indices differ after inserted statements)
    kind: str
    candidate: Node | tuple | None
    reference: Node | tuple | None


@dataclass(frozen=True)
class Localization:
    """Where the candidate first diverges. status: agrees | localized | unlocalized (reason says why)."""

    status: str
    reason: str
    stage: int | None = None  # 1-based, of `stages`
    stages: int = 0
    difference: Difference | None = None
    statement: str = ""  # the faulty statement as printed
    runs: int = 0  # program executions spent
    differences: tuple[Difference, ...] = field(default=())

    @property
    def kind(self) -> str | None:
        return self.difference.kind if self.difference else None

    def to_json(self) -> dict:
        d = self.difference
        return {"status": self.status, "reason": self.reason, "stage": self.stage, "stages": self.stages,
                "kind": self.kind, "function": d.function if d else None, "statement": self.statement,
                "runs": self.runs}


# -------------------------------------------------------------------------------------------- execution -------

CANDIDATE_TIMEOUT_S = 10.0  # a candidate run longer than this is taken as a hang (a broken loop bound)


def run_outputs(module_or_code: Module | str, dialect: str, entry: str, args: list,
                timeout_s: float = 120.0) -> dict:
    """Every buffer of `entry` after running it on `args` (CPU executor; XpilerError when it fails).

    timeout_s bounds the run (not the build): candidates get a short one, so that a fault which makes a loop
    endless costs seconds, not the executor's default two minutes per run.
    """
    code = module_or_code if isinstance(module_or_code, str) else get_printer(dialect, module_or_code.dialect
                                                                              ).module(module_or_code)
    launch = dict(DEFAULT_BANG_LAUNCH) if dialect == "bang" else None
    return execute(code, dialect, entry, args, launch=launch, timeout_s=timeout_s)


def agree(expected: dict, got: dict, rtol: float, atol: float) -> bool:
    return compare(expected, got, {"rtol": rtol, "atol": atol}, {}).verified


# ---------------------------------------------------------------------------------------------- stages --------

@dataclass(frozen=True)
class Stage:
    function: str
    path: Path
    functions: frozenset[str]  # kernels and helpers it reaches (their differences belong to this stage)


def stages(module: Module, entry: str) -> list[Stage]:
    """Loop nests and launches in execution order: through the entry and the host functions it calls."""
    defined = {f.name: f for f in module.functions if f.body is not None}
    found: list[Stage] = []

    def visit(fn: Function, stmts: tuple[Stmt, ...], path: Path, seen: frozenset[str]) -> None:
        for index, s in enumerate(stmts):
            here = path + (("body", index),)
            if isinstance(s, (For, While, DoWhile, KernelLaunch)):
                found.append(Stage(fn.name, here, reachable(module, s)))
            elif isinstance(s, Block):
                visit(fn, s.body, here, seen)
            elif isinstance(s, If):
                visit(fn, s.then.body, here + (("then", None),), seen)
                if s.otherwise is not None:
                    visit(fn, s.otherwise.body, here + (("otherwise", None),), seen)
            elif isinstance(s, ExprStmt) and isinstance(s.expr, Call) and s.expr.name in defined \
                    and s.expr.name not in seen and not DEVICE_QUALIFIERS & defined[s.expr.name].qualifiers:
                callee = defined[s.expr.name]
                visit(callee, callee.body.body, (("body", None),), seen | {callee.name})

    root = module.function(entry)
    visit(root, root.body.body, (("body", None),), frozenset({entry}))
    return found


def reachable(module: Module, node: Node) -> frozenset[str]:
    defined = {f.name: f for f in module.functions if f.body is not None}
    todo, seen = [node], set()
    while todo:
        for n in walk(todo.pop()):
            name = n.kernel if isinstance(n, KernelLaunch) else n.name if isinstance(n, Call) else None
            if name in defined and name not in seen:
                seen.add(name)
                todo.append(defined[name])
    return frozenset(seen)


def keep_stages(module: Module, entry: str, keep: int) -> Module:
    """`module` with every stage after the first `keep` replaced by an empty block."""
    dropped: dict[str, list[Path]] = {}
    for stage in stages(module, entry)[keep:]:
        dropped.setdefault(stage.function, []).append(stage.path)

    def cut(fn: Function) -> Function:
        for path in dropped.get(fn.name, ()):
            fn = replace_at(fn, path, Block())
        return fn

    return module.map_functions(cut)


def node_at(node: Node, path: Path) -> Node:
    for name, index in path:
        node = getattr(node, name)
        if index is not None:
            node = node[index]
    return node


def replace_at(node: Node, path: Path, new: Node) -> Node:
    """A copy of `node` with the sub-tree at `path` replaced by `new`."""
    if not path:
        return new
    (name, index), rest = path[0], path[1:]
    child = getattr(node, name)
    if index is None:
        return dataclasses.replace(node, **{name: replace_at(child, rest, new)})
    items = list(child)
    items[index] = replace_at(items[index], rest, new)
    return dataclasses.replace(node, **{name: tuple(items)})


def first_divergent_stage(candidate: Module, reference: Module, dialect: str, entry: str, args: list,
                          rtol: float, atol: float, timeout_s: float = CANDIDATE_TIMEOUT_S
                          ) -> tuple[int | None, int, str]:
    """(first stage after which the buffers differ, executions spent, note); None when not decidable."""
    count = len(stages(candidate, entry))
    if count != len(stages(reference, entry)):
        return None, 0, f"the stage counts differ ({count} vs {len(stages(reference, entry))})"
    if count <= 1:
        return (1 if count else None), 0, "one stage"
    runs = 0

    def differs(keep: int) -> bool:
        nonlocal runs
        runs += 2
        expected = run_outputs(keep_stages(reference, entry, keep), dialect, entry, args)
        try:
            got = run_outputs(keep_stages(candidate, entry, keep), dialect, entry, args, timeout_s)
        except XpilerError:
            return True
        return not agree(expected, got, rtol, atol)

    low, high = 1, count  # invariant: the programs differ after `high` stages (the whole programs do)
    while low < high:
        middle = (low + high) // 2
        if differs(middle):
            high = middle
        else:
            low = middle + 1
    return high, runs, f"binary search over {count} stages"


# -------------------------------------------------------------------------------------------- alignment -------

def align(candidate: Module, reference: Module) -> list[Difference]:
    """Every minimal differing sub-tree, function by function (functions paired by name), in program order."""
    found: list[Difference] = []
    references = {f.name: f for f in reference.functions if f.body is not None}
    for fn in candidate.functions:
        if fn.body is None:
            continue
        other = references.get(fn.name)
        if other is None:
            found.append(Difference(fn.name, (), (), (), (), "structure", fn, None))
            continue
        _diff(fn, other, ((), ()), [], fn.name, (), found)
    return found


def _diff(c: Node, r: Node, paths: tuple[Path, Path], ancestors: list[tuple[Node, str]], function: str,
          statement: Path, found: list[Difference]) -> None:
    """Compare two sub-trees; `paths` are their places in the candidate and in the reference."""
    if c == r:
        return
    if type(c) is not type(r):
        found.append(_difference(function, paths, statement, ancestors, c, r))
        return
    if isinstance(c, STATEMENTS):
        statement = paths[0]
    fields = dataclasses.fields(c)  # type: ignore[arg-type]
    plain = [f.name for f in fields
             if f.compare and not (_holds_nodes(getattr(c, f.name)) or _holds_nodes(getattr(r, f.name)))]
    if any(getattr(c, name) != getattr(r, name) for name in plain):
        found.append(_difference(function, paths, statement, ancestors, c, r))
        return
    for f in fields:
        cv, rv = getattr(c, f.name), getattr(r, f.name)
        if cv == rv or f.name in plain:
            continue
        inner = ancestors + [(c, f.name)]
        if isinstance(cv, Node) and isinstance(rv, Node):
            step = ((f.name, None),)
            _diff(cv, rv, (paths[0] + step, paths[1] + step), inner, function, statement, found)
        elif isinstance(cv, tuple) and isinstance(rv, tuple):
            _diff_sequence(cv, rv, paths, f.name, inner, function, statement, found)
        else:  # a child on one side only (an else branch, an initializer)
            found.append(_difference(function, paths, statement, ancestors, c, r))


def _diff_sequence(cs: tuple, rs: tuple, paths: tuple[Path, Path], name: str, ancestors: list, function: str,
                   statement: Path, found: list[Difference]) -> None:
    """Statement lists are aligned like lines of text; replaced runs of equal length are compared pairwise."""
    matcher = difflib.SequenceMatcher(None, cs, rs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                inner = (paths[0] + ((name, i1 + k),), paths[1] + ((name, j1 + k),))
                _diff(cs[i1 + k], rs[j1 + k], inner, ancestors, function, statement, found)
            continue
        missing, extra = rs[j1:j2], cs[i1:i2]
        kind = "barrier" if any(_is_barrier(n) for n in (*missing, *extra)) else "structure"
        where, there = paths[0] + ((name, i1),), paths[1] + ((name, j1),)
        found.append(Difference(function, where, where, where, there, kind, extra, missing))


def _holds_nodes(value: object) -> bool:
    return isinstance(value, Node) or (isinstance(value, tuple) and any(isinstance(v, Node) for v in value)) \
        or value is None


def _is_barrier(node: Node) -> bool:
    return any(isinstance(n, Barrier) or (isinstance(n, Call) and n.name in ("__syncthreads", "__sync_all",
                                                                            "__sync_cluster", "__syncwarp"))
               for n in walk(node))


def _difference(function: str, paths: tuple[Path, Path], statement: Path, ancestors: list[tuple[Node, str]],
                c: Node, r: Node) -> Difference:
    depth = len(ancestors)
    if is_integer_arithmetic(c) and is_integer_arithmetic(r):
        while depth > 0 and is_integer_arithmetic(ancestors[depth - 1][0]):
            depth -= 1
    up = len(ancestors) - depth
    roots = tuple(p[:len(p) - up] for p in paths)
    return Difference(function, paths[0], statement, roots[0], roots[1], classify(ancestors, c, r), c, r)


def classify(ancestors: list[tuple[Node, str]], candidate: Node, reference: Node) -> str:
    """The fault kind from where the difference sits (the nearest telling ancestor decides)."""
    if _is_barrier(candidate) or _is_barrier(reference):
        return "barrier"
    if isinstance(candidate, TYPES) or any(name == "type" for _, name in ancestors):
        return "dtype"
    for node, name in reversed(ancestors):
        if isinstance(node, Call) and name == "args" and is_intrinsic(node.name):
            return "intrinsic"
        if isinstance(node, Index) and name == "index":
            return "index"
        if isinstance(node, For) and name in ("init", "cond", "step") or isinstance(node, KernelLaunch):
            return "loop_bound"
        if isinstance(node, (If, While, DoWhile, Select)) and name == "cond":
            return "condition"
        if isinstance(node, (Decl, Assign)):
            return "integer" if is_integer_arithmetic(candidate) else "other"
    return "other"


# -------------------------------------------------------------------------------------------- localize -------

def localize(candidate: Module | str, reference: Module | str, dialect: str, entry: str, args: list,
             rtol: float = 1e-4, atol: float = 1e-4, timeout_s: float = CANDIDATE_TIMEOUT_S) -> Localization:
    """Run, binary-search the stages, then align inside the first divergent stage (see the module docstring)."""
    try:
        cand = candidate if isinstance(candidate, Module) else parse(candidate, dialect)
    except XpilerError as err:
        return Localization("unlocalized", f"the candidate does not parse: {err.diagnostic}")
    ref = reference if isinstance(reference, Module) else parse(reference, dialect)
    expected = run_outputs(ref, dialect, entry, args)
    try:
        got = run_outputs(cand, dialect, entry, args, timeout_s)
        if agree(expected, got, rtol, atol):
            return Localization("agrees", "the candidate's buffers agree with the reference's", runs=2)
    except XpilerError as err:
        if err.code.startswith("XP2"):
            return Localization("unlocalized", f"the candidate does not compile: {err.diagnostic}", runs=2)
    stage, runs, note = first_divergent_stage(cand, ref, dialect, entry, args, rtol, atol, timeout_s)
    runs += 2
    all_stages = stages(cand, entry)
    differences = align(cand, ref)
    if not differences:
        return Localization("unlocalized", "the programs differ in behaviour but not in their trees", stage,
                            len(all_stages), runs=runs)
    in_stage = [d for d in differences if stage is not None and _stage_of(d, all_stages) == stage]
    chosen = (in_stage or differences)[0]
    where = f"stage {stage} of {len(all_stages)} ({note})" if stage else f"no stage correspondence ({note})"
    text = statement_text(cand, chosen, dialect)
    reason = f"{chosen.kind} fault in {chosen.function}: `{text}`; {where}"
    if stage is not None and not in_stage:
        reason += "; the tree differences lie in an earlier stage whose effect shows later"
    return Localization("localized", reason, stage, len(all_stages), chosen, text, runs, tuple(differences))


def _stage_of(difference: Difference, all_stages: list[Stage]) -> int | None:
    for number, stage in enumerate(all_stages, 1):
        if difference.function == stage.function and difference.path[:len(stage.path)] == stage.path:
            return number
        if difference.function in stage.functions:
            return number
    return None


def statement_text(module: Module, difference: Difference, dialect: str) -> str:
    """The faulty statement's first printed line (a loop's header, an assignment, a call)."""
    try:
        node = node_at(module.function(difference.function), difference.statement_path)
    except IndexError:  # statements missing at the end of a block
        return "(end of block)"
    printer = get_printer(dialect, module.dialect)
    lines = printer.stmt(node, 0) if isinstance(node, Stmt.__args__) else [str(node)]
    return lines[0].strip() if lines else ""

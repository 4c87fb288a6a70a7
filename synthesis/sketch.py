"""Sketches: an integer expression of the IR with holes, evaluated by Z3 and read back by SymPy.

A hole is a place where a repair may put another value: every integer literal of the expression (coefficients
and constants of an affine index, a loop bound's offset, an intrinsic's length), every variable occurrence
(which variable: transposed indices are variables in each other's place), and one additive offset on the whole
expression (an off-by-one where the code wrote no constant). Solving chooses hole values; rebuilding puts them
back into the *candidate's own* expression, so casts, shifts and the author's shape survive and the diff is
the fault and nothing else.

Anything that is not integer arithmetic (a memory read, a call, a member) is an opaque atom: equal atoms (same
printed text) get the same value in an example, so `x[i] + 1` and `x[i]` are compared like `a + 1` and `a`.
Evaluation follows C: `/` and `%` truncate toward zero, `>>`/`<<` by a literal are divisions/products by 2^k.

A literal in a nonlinear place (a divisor, a modulus, a shift amount, a factor whose other side holds a hole)
would make Z3 face nonlinear integer arithmetic, where it gives up or times out. Such a hole is *enumerated*:
it ranges over a finite candidate set (its value moved by up to +-4, powers of two, the literals of the
expression and of the reference) and its operation is distributed over that set as an If-chain whose every
branch is linear (`a % 32`, `a * 4`), so the rest of the sketch stays linear and one Optimize call still finds
the fewest changes. The set is bounded (ENUMERATED_LIMIT values) and reported with the repair.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy
import z3

from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import get_printer
from kernel_ir.ir import BinOp, BuiltinVar, Cast, Const, DType, Expr, Node, ScalarType, UnaryOp, Var

ARITHMETIC = ("+", "-", "*", "/", "%", "<<", ">>")
NONLINEAR = ("/", "%", "<<", ">>")  # a literal on the right of these is enumerated
NEARBY = 4  # an enumerated hole tries its value moved by up to this much
POWERS_OF_TWO = tuple(1 << k for k in range(13))
SHIFT_LIMIT = 31
ENUMERATED_LIMIT = 48  # values per enumerated hole at most, nearest to the written value first
FOLD_LIMIT = 256  # largest product of choices folded in Python instead of handed to Z3


def is_integer_arithmetic(node: Node) -> bool:
    """Nodes a sketch looks through: integer literals, variables, + - * / % shifts, negation, integer casts."""
    if isinstance(node, Const):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, (Var, BuiltinVar)):
        return True
    if isinstance(node, BinOp):
        return node.op in ARITHMETIC
    if isinstance(node, UnaryOp):
        return node.op == "-"
    if isinstance(node, Cast):
        return isinstance(node.type, ScalarType) and node.type.dtype.is_int
    return False


def expr_text(expr: Expr, dialect: str = "cpp") -> str:
    return get_printer(dialect).expr(expr)


@dataclass
class Sketch:
    """`expr` with holes: literal and variable occurrences by pre-order position, plus one offset."""

    expr: Expr
    variables: tuple[str, ...]  # names a variable hole may take (the candidate's and the reference's)
    constants: tuple[int, ...] = ()  # more values an enumerated hole may take (the reference's literals)
    literals: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (position, original value)
    occurrences: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (position, original name)
    enumerated: dict[int, tuple[int, ...]] = dataclasses.field(default_factory=dict)  # position -> candidates

    def __post_init__(self) -> None:
        for position, node in enumerate(_leaves(self.expr)):
            if isinstance(node, Const):
                self.literals.append((position, int(node.value)))
            elif isinstance(node, Var) and node.name in self.variables:
                self.occurrences.append((position, node.name))
        written = tuple(v for _, v in self.literals) + tuple(self.constants)
        for position, op in _nonlinear_literals(self.expr, set(self.variables)).items():
            self.enumerated[position] = candidate_values(dict(self.literals)[position], op, written)
        self.literal_holes = [z3.Int(f"c{p}") for p, _ in self.literals]
        self.variable_holes = [z3.Int(f"v{p}") for p, _ in self.occurrences]
        self.offset = z3.Int("offset")

    def changes(self) -> list[z3.BoolRef]:
        """One Boolean per hole: true when the hole leaves its original value (the cost to minimize)."""
        return ([h != v for h, (_, v) in zip(self.literal_holes, self.literals)]
                + [h != self.variables.index(n) for h, (_, n) in zip(self.variable_holes, self.occurrences)]
                + [self.offset != 0])

    def domain(self) -> list[z3.BoolRef]:
        holes = dict(zip((p for p, _ in self.literals), self.literal_holes))
        return ([z3.And(h >= 0, h < len(self.variables)) for h in self.variable_holes]
                + [z3.Or(*[holes[p] == v for v in values]) for p, values in self.enumerated.items()])

    def enumerated_holes(self) -> list[z3.ArithRef]:
        return [h for (p, _), h in zip(self.literals, self.literal_holes) if p in self.enumerated]

    def describe_enumerated(self) -> str:
        """For reports: which holes were enumerated and over how many values."""
        if not self.enumerated:
            return ""
        sizes = ", ".join(str(len(v)) for v in self.enumerated.values())
        return f"{len(self.enumerated)} hole(s) in nonlinear places enumerated over {sizes} candidate values"

    def evaluate(self, point: dict[str, int]) -> z3.ArithRef:
        """The sketch's value at `point` (variable and atom values) as a Z3 term over the holes."""
        literal = dict(zip((p for p, _ in self.literals), self.literal_holes))
        variable = dict(zip((p for p, _ in self.occurrences), self.variable_holes))
        position = [0]  # the next leaf's position (read before a sub-tree to find an enumerated operand)

        def leaf() -> int:
            position[0] += 1
            return position[0] - 1

        def value(node: Expr) -> z3.ArithRef:
            if not is_integer_arithmetic(node) or isinstance(node, BuiltinVar):
                leaf()
                return z3.IntVal(point[atom_name(node)])
            if isinstance(node, Const):
                return literal[leaf()]
            if isinstance(node, Var):
                p = leaf()
                if p in variable:
                    return _choose(variable[p], [point[n] for n in self.variables])
                return z3.IntVal(point[node.name])
            if isinstance(node, Cast):
                return value(node.expr)
            if isinstance(node, UnaryOp):
                return -value(node.operand)
            first = position[0]
            lhs = value(node.lhs)
            middle = position[0]
            rhs = value(node.rhs)
            if middle in self.enumerated and _bare_literal(node.rhs):
                return _branches(literal[middle], self.enumerated[middle], lambda k: _binary(node.op, lhs, k))
            if first in self.enumerated and _bare_literal(node.lhs):
                return _branches(literal[first], self.enumerated[first], lambda k: _binary(node.op, k, rhs))
            return _binary(node.op, lhs, rhs)

        return value(self.expr) + self.offset

    def rebuild(self, model: z3.ModelRef) -> Expr:
        """The candidate's expression with the model's hole values put back (unchanged holes stay as written)."""
        literal = {p: model.eval(h, model_completion=True).as_long() for (p, _), h in zip(self.literals,
                                                                                         self.literal_holes)}
        variable = {p: self.variables[model.eval(h, model_completion=True).as_long()]
                    for (p, _), h in zip(self.occurrences, self.variable_holes)}
        position = iter(range(1 << 30))

        def put(node: Node) -> Node:
            if not is_integer_arithmetic(node) or isinstance(node, BuiltinVar):
                next(position)
                return node
            if isinstance(node, Const):
                p = next(position)
                return node if literal[p] == node.value else dataclasses.replace(node, value=literal[p])
            if isinstance(node, Var):
                p = next(position)
                return Var(variable[p]) if p in variable else node
            if isinstance(node, Cast):
                return dataclasses.replace(node, expr=put(node.expr))
            if isinstance(node, UnaryOp):
                operand = put(node.operand)
                if operand is not node.operand and isinstance(operand, Const) and operand.value <= 0:
                    return dataclasses.replace(operand, value=-operand.value)  # `-1` moved to 0 is `0`, not `-0`
                return dataclasses.replace(node, operand=operand)
            lhs, rhs = put(node.lhs), put(node.rhs)
            if lhs is node.lhs and rhs is node.rhs:
                return node
            return _fold_identity(dataclasses.replace(node, lhs=lhs, rhs=rhs))

        rebuilt = put(self.expr)
        offset = model.eval(self.offset, model_completion=True).as_long()
        if offset > 0:
            return BinOp("+", rebuilt, Const(offset, DType.int32))
        if offset < 0:
            return BinOp("-", rebuilt, Const(-offset, DType.int32))
        return rebuilt


def _fold_identity(node: BinOp) -> Expr:
    """`e + 0`, `e - 0`, `0 + e`, `e * 1`, `1 * e` -> `e`, so a removed constant leaves no trace in the diff."""
    def literal(e: Expr, value: int) -> bool:
        return isinstance(e, Const) and e.value == value and not isinstance(e.value, bool)

    if node.op in ("+", "-") and literal(node.rhs, 0) or node.op == "*" and literal(node.rhs, 1):
        return node.lhs
    if node.op == "+" and literal(node.lhs, 0) or node.op == "*" and literal(node.lhs, 1):
        return node.rhs
    return node


def _leaves(expr: Expr) -> list[Node]:
    """Hole positions in the order `evaluate` and `rebuild` visit them: literals, variables and atoms."""
    if not is_integer_arithmetic(expr) or isinstance(expr, (Const, Var, BuiltinVar)):
        return [expr]
    if isinstance(expr, Cast):
        return _leaves(expr.expr)
    if isinstance(expr, UnaryOp):
        return _leaves(expr.operand)
    return _leaves(expr.lhs) + _leaves(expr.rhs)


def _bare_literal(node: Expr) -> bool:
    while isinstance(node, Cast):
        node = node.expr
    return isinstance(node, Const)


def _holds_hole(node: Expr, variables: set[str]) -> bool:
    return any(isinstance(n, Const) or isinstance(n, Var) and n.name in variables for n in _leaves(node))


def _nonlinear_literals(expr: Expr, variables: set[str]) -> dict[int, str]:
    """Positions of the literals that sit in nonlinear places, with the operation that puts them there.

    A literal right of / % << >> is enumerated; in a product whose two sides both hold holes, a bare literal
    side is (the left one when both are), which leaves the product linear in each branch.
    """
    found: dict[int, str] = {}

    def visit(node: Expr, start: int) -> None:
        if isinstance(node, Cast):
            visit(node.expr, start)
        elif isinstance(node, UnaryOp) and is_integer_arithmetic(node):
            visit(node.operand, start)
        elif isinstance(node, BinOp) and is_integer_arithmetic(node):
            middle = start + len(_leaves(node.lhs))
            if node.op in NONLINEAR and _bare_literal(node.rhs):
                found[middle] = node.op
            if node.op in ("/", "%", ">>"):  # a literal in the dividend: the quotient is piecewise in it
                for offset, leaf in enumerate(_leaves(node.lhs)):
                    found.setdefault(start + offset, "+") if isinstance(leaf, Const) else None
            elif node.op == "*" and _holds_hole(node.lhs, variables) and _holds_hole(node.rhs, variables):
                if _bare_literal(node.lhs):
                    found[start] = node.op
                elif _bare_literal(node.rhs):
                    found[middle] = node.op
            visit(node.lhs, start)
            visit(node.rhs, middle)

    visit(expr, 0)
    return found


def candidate_values(written: int, op: str, constants: tuple[int, ...]) -> tuple[int, ...]:
    """The finite set an enumerated hole ranges over, nearest to the written value first (bounded).

    Nearby values (an off-by-k), powers of two (tile and warp sizes), and the literals of the expression and
    the reference; a divisor or modulus never takes 0 (C leaves it undefined), a shift stays in 0..31.
    """
    pool = {written + d for d in range(-NEARBY, NEARBY + 1)} | set(POWERS_OF_TWO) | set(constants)
    if op in ("<<", ">>"):
        pool = {v for v in pool if 0 <= v <= SHIFT_LIMIT}
    elif op in ("/", "%"):
        pool.discard(0)
    ordered = sorted(pool, key=lambda v: (abs(v - written), v))
    return tuple(ordered[:ENUMERATED_LIMIT])


def _branches(hole: z3.ArithRef, values: tuple[int, ...], branch) -> z3.ArithRef:
    """`branch(hole)` as an If-chain over the hole's candidate values: each branch has a constant in it."""
    term = branch(z3.IntVal(values[-1]))
    for v in reversed(values[:-1]):
        term = z3.If(hole == v, branch(z3.IntVal(v)), term)
    return term


def _choose(selector: z3.ArithRef, values: list[int]) -> z3.ArithRef:
    term = z3.IntVal(values[-1])
    for index in range(len(values) - 2, -1, -1):
        term = z3.If(selector == index, z3.IntVal(values[index]), term)
    return term


def _c_div(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    """C division truncates toward zero; Z3's `/` is Euclidean (floors for a positive divisor)."""
    if z3.is_int_value(b):  # a literal divisor keeps the term linear
        k = b.as_long()
        quotient = z3.If(a >= 0, a / abs(k), -((-a) / abs(k)))
        return quotient if k >= 0 else -quotient
    magnitude = z3.If(b >= 0, b, -b)
    quotient = z3.If(a >= 0, a / magnitude, -((-a) / magnitude))
    return z3.If(b >= 0, quotient, -quotient)


def _binary(op: str, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    """`a op b`, folded in Python wherever both sides are finite choices (If-chains of numbers), so that
    division and modulo by a literal, and products of choices, leave no nonlinear Z3 term behind (sums stay
    Z3's: they are linear already, and folding them would multiply the branches)."""
    if _choices(a) * _choices(b) <= FOLD_LIMIT and not (op in ("/", "%") and _may_be_zero(b)):
        return _fold(op, a, b)
    return _linear(op, a, b)


def _choices(term: z3.ArithRef) -> int:
    """Leaves of `term` as an If-chain of numbers; a large number when it is not one."""
    if z3.is_int_value(term):
        return 1
    if z3.is_app_of(term, z3.Z3_OP_ITE):
        return _choices(term.arg(1)) + _choices(term.arg(2))
    return FOLD_LIMIT + 1


def _may_be_zero(term: z3.ArithRef) -> bool:
    if z3.is_int_value(term):
        return term.as_long() == 0
    return _may_be_zero(term.arg(1)) or _may_be_zero(term.arg(2))


def _fold(op: str, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    if z3.is_app_of(a, z3.Z3_OP_ITE):
        return z3.If(a.arg(0), _fold(op, a.arg(1), b), _fold(op, a.arg(2), b))
    if z3.is_app_of(b, z3.Z3_OP_ITE):
        return z3.If(b.arg(0), _fold(op, a, b.arg(1)), _fold(op, a, b.arg(2)))
    return z3.IntVal(evaluate(BinOp(op, Const(a.as_long(), DType.int64), Const(b.as_long(), DType.int64)), {}))


def _linear(op: str, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    if op in ("<<", ">>") and z3.is_int_value(b):  # a literal shift: a product or a floor division by 2^k
        factor = z3.IntVal(1 << max(b.as_long(), 0))
        return a * factor if op == "<<" else a / factor
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return _c_div(a, b)
    if op == "%":
        return a - b * _c_div(a, b)
    if op == "<<":
        return a * _power_of_two(b)
    return a / _power_of_two(b)  # >> on a signed value is an arithmetic shift: floor division by 2^k


def _power_of_two(exponent: z3.ArithRef) -> z3.ArithRef:
    term = z3.IntVal(1 << 16)
    for k in range(15, -1, -1):
        term = z3.If(exponent == k, z3.IntVal(1 << k), term)
    return term


# --------------------------------------------------------------------------------------------- atoms, SymPy ---

def atom_name(node: Node) -> str:
    """The name an opaque sub-expression (or a hardware index) goes by in examples and in SymPy."""
    if isinstance(node, Var):
        return node.name
    if isinstance(node, BuiltinVar):  # printable only in its own dialect
        return node.name + (f".{node.axis}" if node.axis else "")
    try:
        return "atom:" + expr_text(node)
    except XpilerError:
        return f"atom:{node!r}"


def names(expr: Expr) -> set[str]:
    """Variables and atoms whose values an example of `expr` needs."""
    return {atom_name(n) for n in _leaves(expr) if not isinstance(n, Const)}


def evaluate(expr: Expr, point: dict[str, int]) -> int:
    """`expr` at `point` with C semantics (the reference side of an example)."""
    if not is_integer_arithmetic(expr) or isinstance(expr, BuiltinVar):
        return point[atom_name(expr)]
    if isinstance(expr, Const):
        return int(expr.value)
    if isinstance(expr, Var):
        return point[expr.name]
    if isinstance(expr, Cast):
        return evaluate(expr.expr, point)
    if isinstance(expr, UnaryOp):
        return -evaluate(expr.operand, point)
    a, b = evaluate(expr.lhs, point), evaluate(expr.rhs, point)
    if expr.op in ("/", "%"):
        quotient = abs(a) // abs(b) if b else 0
        quotient = quotient if (a >= 0) == (b > 0) else -quotient
        return quotient if expr.op == "/" else a - b * quotient
    return {"+": a + b, "-": a - b, "*": a * b, "<<": a << max(b, 0), ">>": a >> max(b, 0)}[expr.op]


def to_sympy(expr: Expr) -> sympy.Expr:
    """`expr` as a SymPy polynomial over variables and opaque atoms (/ and % of non-literals stay atoms)."""
    if isinstance(expr, Const) and is_integer_arithmetic(expr):
        return sympy.Integer(int(expr.value))
    if not is_integer_arithmetic(expr) or isinstance(expr, (Var, BuiltinVar)):
        return sympy.Symbol(atom_name(expr), integer=True)
    if isinstance(expr, Cast):
        return to_sympy(expr.expr)
    if isinstance(expr, UnaryOp):
        return -to_sympy(expr.operand)
    lhs, rhs = to_sympy(expr.lhs), to_sympy(expr.rhs)
    if expr.op == "+":
        return lhs + rhs
    if expr.op == "-":
        return lhs - rhs
    if expr.op == "*":
        return lhs * rhs
    if expr.op == "<<" and rhs.is_Integer:
        return lhs * 2 ** int(rhs)
    return sympy.Symbol(atom_name(expr), integer=True)


def proved_equal(a: Expr, b: Expr) -> bool:
    """SymPy proof that two integer expressions are the same polynomial (affine maps included)."""
    return sympy.expand(to_sympy(a) - to_sympy(b)) == 0


def normal_form(expr: Expr) -> str:
    """A short canonical spelling (SymPy) for reports: `i*cols + j` however the code wrote it."""
    text = str(sympy.expand(to_sympy(expr)))
    return text.replace("atom:", "")


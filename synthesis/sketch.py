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
    literals: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (position, original value)
    occurrences: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (position, original name)

    def __post_init__(self) -> None:
        for position, node in enumerate(_leaves(self.expr)):
            if isinstance(node, Const):
                self.literals.append((position, int(node.value)))
            elif isinstance(node, Var) and node.name in self.variables:
                self.occurrences.append((position, node.name))
        self.literal_holes = [z3.Int(f"c{p}") for p, _ in self.literals]
        self.variable_holes = [z3.Int(f"v{p}") for p, _ in self.occurrences]
        self.offset = z3.Int("offset")

    def changes(self) -> list[z3.BoolRef]:
        """One Boolean per hole: true when the hole leaves its original value (the cost to minimize)."""
        return ([h != v for h, (_, v) in zip(self.literal_holes, self.literals)]
                + [h != self.variables.index(n) for h, (_, n) in zip(self.variable_holes, self.occurrences)]
                + [self.offset != 0])

    def domain(self) -> list[z3.BoolRef]:
        return [z3.And(h >= 0, h < len(self.variables)) for h in self.variable_holes]

    def evaluate(self, point: dict[str, int]) -> z3.ArithRef:
        """The sketch's value at `point` (variable and atom values) as a Z3 term over the holes."""
        literal = dict(zip((p for p, _ in self.literals), self.literal_holes))
        variable = dict(zip((p for p, _ in self.occurrences), self.variable_holes))
        position = iter(range(1 << 30))

        def value(node: Expr) -> z3.ArithRef:
            if not is_integer_arithmetic(node) or isinstance(node, BuiltinVar):
                next(position)
                return z3.IntVal(point[atom_name(node)])
            if isinstance(node, Const):
                return literal[next(position)]
            if isinstance(node, Var):
                p = next(position)
                if p in variable:
                    return _choose(variable[p], [point[n] for n in self.variables])
                return z3.IntVal(point[node.name])
            if isinstance(node, Cast):
                return value(node.expr)
            if isinstance(node, UnaryOp):
                return -value(node.operand)
            return _binary(node.op, value(node.lhs), value(node.rhs))

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
                return dataclasses.replace(node, operand=put(node.operand))
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


def _choose(selector: z3.ArithRef, values: list[int]) -> z3.ArithRef:
    term = z3.IntVal(values[-1])
    for index in range(len(values) - 2, -1, -1):
        term = z3.If(selector == index, z3.IntVal(values[index]), term)
    return term


def _c_div(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    """C division truncates toward zero; Z3's `/` is Euclidean (floors for a positive divisor)."""
    magnitude = z3.If(b >= 0, b, -b)
    quotient = z3.If(a >= 0, a / magnitude, -((-a) / magnitude))
    return z3.If(b >= 0, quotient, -quotient)


def _binary(op: str, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
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


"""Buffer extents: how many elements of each pointer parameter an entry point touches, as SymPy expressions.

To run a kernel (and later to generate inputs for checking its translations) every buffer needs a size. The
host launcher of a CUDA/HIP entry says it outright: `cudaMemcpy(d, host_param, bytes, ...)` copies `bytes` of
`host_param`. A bare kernel, a BANG task or a cpp function only says it implicitly, through its index
expressions, so the entry is interpreted symbolically:

* integer values become SymPy expressions over the entry's integer parameters (nonnegative symbols), the
  launch dimensions (blockDim_x, gridDim_x, taskDim... positive symbols unless `launch` gives them), and
  *range variables*: loop counters, thread/block/task indices, values loaded from memory. A size computed
  from parameters only (OH, tiles, per_task) becomes a symbol of its own, defined by its expression and put
  back at the end, which keeps bounds small;
* every access to a parameter's memory is recorded as the exclusive end (in bytes) of what it touches, with
  the path condition under which it runs: loop bounds, `if` guards, earlier early returns, the branch of a
  `?:` or of a helper's `if (...) return`. Conditions are disjunctions of conjunctions of atoms `e <= 0`
  (integers, so `a < b` is `a - b + 1 <= 0`); value-level choices are `Sel(k, a, b)` terms on condition k
  (or Min/Max when the condition compares a and b), split into cases only when an access is bounded;
* the extent is the largest end over that domain, found by eliminating range variables innermost first
  (Fourier-Motzkin style): an expression increasing in `v` takes v's least upper bound among the constraints
  linear in v, a decreasing one its greatest lower bound, a linear one of unknown slope the larger value at
  either end; Min/Max are lifted over + and nonnegative factors, `x % d` and `x / d` get names of their own,
  and floor terms are relaxed (`c*floor(x/c) <= x`) when that makes the expression monotone (in a bound of
  a variable too: `i / 4 < m` gives i <= 4*m - 1); a variable left with a few constant values (sizes given
  as numbers) is tried value by value. An index that grows too large has the terms shared by a Min's
  arguments pulled out, then its Min terms cut to their smallest arguments (a Min of fewer is no smaller).
  Bounding that leads back to itself, or nests too deeply, is reported as such. Each case keeps
  the parameter conditions under which it can happen (`When`, -oo otherwise), so impossible cases drop out.

A `for (item = taskId; item < n; item += taskDim)` loop whose start takes at least `step` consecutive values
(a grid-stride loop over a known task count) counts `item` as one contiguous range rather than as
`taskId + step * t`, whose floors would have to be relaxed. A lane test `(mask >> l) & 1` of a lane mask
(2^k - 1, a constant, or a choice of those) is the condition `l < k`, so a detensorized masked load reaches the
lanes its mask enables only; a lane test of any other mask lets every lane run and marks the extent
`overcount` (it counts lanes the kernel may not touch).

Every step over-approximates (a dropped constraint only widens the domain), so an extent is never too small,
assuming, as index arithmetic does, that indices are nonnegative (integer division is floor division), that
the sizes a kernel divides by are positive, and that loops end (`i += s` with s of unknown sign counts
upwards). When a variable has no bound (an index loaded from memory, a pointer handed to an unknown
function) or bounding needs more work than its budget, the extent is reported as unknown with the reason, never
guessed. Budgets count work (elimination steps, prover steps, sizes of the expressions worked on), never seconds,
and iteration over sets of SymPy objects is sorted: the same program gets the same extents on every run, however
loaded the machine, whatever the hash seed and whatever the process analysed before.
Guards that cap a thread index (`if (i < n)`) give `Min(n, gridDim_x*blockDim_x)`; when the launch is not
given it is assumed to cover the guarded range and the result is `n`. A case condition that every positive
size meets (`cols >= 1` for a loop over cols) is dropped at the end: that only enlarges the bound, at sizes 0.
An extent is `exact` when no step relaxed it (see `Bounder.relaxed`: a floor replaced by its rational bound, a
remainder bounded apart from its dividend, a Min bounded argument by argument where its arguments share
variables, a constraint or case dropped for size, an overcounted access): then it is the largest extent the
entry can touch, which a launcher can copy from its caller. `exact` False is said conservatively: many such
bounds are still the largest extent.
Results are tidied by a small sound prover (floor/Mod bounds, polynomial positivity over nonnegative symbols,
facts such as "a loop that runs has a bound >= 1"); what it cannot prove stays as Min/Max/Piecewise, which
still evaluates exactly.

Layout: `extent` (the result type), `analysis` (the interpreter that collects accesses and bounds them), its
parts `statements`, `expressions`, `memory`, `calls`, `intrinsics` and `launch`, the abstract `values` it
computes with, and the symbolic machinery beneath: `symbols`, `conditions`, `prover`, `monotone`, `bounder`
and `tidy`.
"""

from kernel_ir.extents.analysis import infer_extents
from kernel_ir.extents.extent import Extent

__all__ = ["Extent", "infer_extents"]

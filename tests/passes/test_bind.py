"""`bind` on small loop-form programs written here, to every target: each bound program is executed and its
outputs compared with the loop form's own execution on the same inputs."""
from __future__ import annotations

import dataclasses
import itertools
import re

import numpy as np
import pytest
import sympy as sp

from kernel_ir.dialects import get_printer, print_module
from kernel_ir.executor import execute
from kernel_ir.extents.symbols import param_symbol
from kernel_ir.ir import For, ForKind, Module, transform
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.bind import _FLOOR_DIV_SOURCE, TARGETS, BindOptions, _size_to_expr, bind


def loop_form(source: str) -> Module:
    """Parse plain C and mark its `#pragma omp parallel for` loops parallel (what recover_loops does for cpp)."""
    def mark(node):
        if isinstance(node, For) and "omp parallel for" in node.pragmas:
            return dataclasses.replace(node, kind=ForKind.parallel, axis="omp", pragmas=())
        return None

    return transform(parse("#include <cmath>\n#include <cstdlib>\n" + source, "cpp"), mark)


ELEMENTWISE = """
static inline float scale(float v, float s) { return v * s; }
extern "C" void axpb(const float* x, const float* b, float* y, int n, float alpha) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = scale(x[i], alpha) + b[i];
    }
}
"""

ROW_REDUCTION = """
extern "C" void row_max(const float* x, float* y, int rows, int cols) {
    #pragma omp parallel for
    for (int r = 0; r < rows; r += 1) {
        float best = x[r * cols];
        for (int c = 1; c < cols; c += 1) {
            best = fmaxf(best, x[r * cols + c]);
        }
        y[r] = best;
    }
}
"""

TWO_LEVEL = """
extern "C" void transpose_scale(const float* x, float* y, int rows, int cols) {
    #pragma omp parallel for
    for (int i = 0; i < rows; i += 1) {
        #pragma omp parallel for
        for (int j = 0; j < cols; j += 1) {
            y[j * rows + i] = 2.0f * x[i * cols + j];
        }
    }
}
"""

DEPENDENT_NESTS = """
extern "C" void shift_sum(const float* x, float* y, float* z, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = x[i] + 1.0f;
    }
    y[0] = y[0] + 100.0f;
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        z[i] = y[n - 1 - i] * y[i];
    }
}
"""

SCRATCH = """
extern "C" void centered(const float* x, float* y, int rows, int cols) {
    float* mean = (float*)malloc(rows * sizeof(float));
    #pragma omp parallel for
    for (int r = 0; r < rows; r += 1) {
        float acc = 0.0f;
        for (int c = 0; c < cols; c += 1) {
            acc += x[r * cols + c];
        }
        mean[r] = acc / cols;
    }
    #pragma omp parallel for
    for (int r = 0; r < rows; r += 1) {
        #pragma omp parallel for
        for (int c = 0; c < cols; c += 1) {
            y[r * cols + c] = x[r * cols + c] - mean[r];
        }
    }
    free(mean);
}
"""

STRIDED_WITH_CONTINUE = """
extern "C" void odd_relu(const float* x, float* y, int n, int steps) {
    for (int s = 0; s < steps; s += 1) {
        #pragma omp parallel for
        for (int i = 1; i < n; i += 2) {
            if (x[i] < 0.0f) {
                continue;
            }
            y[i] = y[i] + x[i];
        }
    }
}
"""

INT8_DOT = """
extern "C" void dot_rows(const unsigned char* a, const signed char* b, int* c, int rows, int k) {
    int half_k = k / 2;
    #pragma omp parallel for
    for (int r = 0; r < rows; r += 1) {
        int acc = 0;
        for (int j = 0; j < half_k * 2; j += 1) {
            acc += (int)a[r * k + j] * (int)b[j];
        }
        c[r] = acc;
    }
}
"""

rng = np.random.default_rng(0)
ROWS, COLS, N = 37, 19, 101
# Device copies allocated `n > 0 ? bytes : sizeof(float)` (the zero-size guard) mirror their parameter.
GUARDED_COPY = """
#include <cstring>
extern "C" void doubled(const float* x, float* y, int n) {
    float* d = (float*)malloc(n > 0 ? n * sizeof(float) : sizeof(float));
    memcpy(d, x, n * sizeof(float));
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = 2.0f * d[i];
    }
    free(d);
}
"""

# The same guard on a buffer the kernels write and the host copies out: no alias (on BANG a GDRAM array of a
# fixed capacity, checked at run time).
GUARDED_OUTPUT = """
#include <cstring>
extern "C" void halved(const float* x, float* y, int n) {
    float* d = (float*)malloc(n > 0 ? n * sizeof(float) : sizeof(float));
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        d[i] = 0.5f * x[i];
    }
    memcpy(y, d, n * sizeof(float));
    free(d);
}
"""

# A fixed-size scratch table (a BANG `__mlu_device__` array) and a zeroed output (element loops on BANG).
FIXED_SCRATCH = """
#include <cstring>
extern "C" void weighted(const float* x, float* y, int n) {
    float* table = (float*)malloc(4 * sizeof(float));
    memset(table, 0, 4 * sizeof(float));
    memset(y, 0, sizeof(float));
    memset(y, 0, n * sizeof(float));
    #pragma omp parallel for
    for (int k = 1; k < 4; k += 1) {
        table[k] = 0.5f * k;
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] += x[i] * table[i % 4];
    }
    free(table);
}
"""


# Host scratch a device cannot hold: a std::vector sized by the arguments (a device buffer on a GPU, a GDRAM array
# of a fixed capacity on BANG, which cannot allocate), filled by a parallel loop and read through .data() and
# .size() later.
VECTOR_SCRATCH = """
#include <vector>
extern "C" void reversed_pairs(const float* x, float* y, int n) {
    std::vector<float> pairs((size_t)n * 2);
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        pairs[2 * i] = x[i] * 2.0f;
        pairs[2 * i + 1] = x[i] + 1.0f;
    }
    const float* p = pairs.data();
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = p[2 * (n - 1 - i)] - pairs[2 * i + 1] + (float)pairs.size();
    }
}
"""

# A std::vector of a constant size with a fill value (a `__mlu_device__` array on BANG), a fixed array filled by
# a parallel loop, and a helper whose parallel loop accumulates into the vector: the helper's loop must become
# a kernel / task loop (run once per element, not on the GPU's host nor once per BANG task).
FIXED_VECTOR = """
#include <vector>
static void accumulate(float* dst, const float* src, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        dst[i] += src[i % 8];
    }
}
extern "C" void offsets(const float* x, float* y, int n) {
    float weights[8];
    #pragma omp parallel for
    for (int k = 0; k < 8; k += 1) {
        weights[k] = 0.25f * k;
    }
    std::vector<float> bias(16, 1.5f);
    accumulate(bias.data(), weights, 16);
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = x[i] + bias[i % 16];
    }
}
"""

# A memory-writing helper without parallel loops called between two nests: it runs once (a one-thread kernel on
# a GPU, task 0 on BANG), on device data.
HELPER_BETWEEN_NESTS = """
static void bump_first(float* p, float by) { p[0] += by; }
extern "C" void bumped(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = x[i];
    }
    bump_first(y, 10.0f);
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = y[i] * 2.0f;
    }
}
"""


# A vector declared in a serial host loop, filled by a helper's parallel loop (an im2col-like staging buffer): a
# buffer per iteration, released at the end of each (BANG: sized at run time, refused).
VECTOR_PER_STEP = """
#include <vector>
static void stage(const float* src, float* dst, int n, int shift) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        dst[i] = src[(i + shift) % n];
    }
}
extern "C" void rotations(const float* x, float* y, int n) {
    for (int step = 0; step < 3; step += 1) {
        std::vector<float> staged(n);
        stage(x, staged.data(), n, step);
        #pragma omp parallel for
        for (int i = 0; i < n; i += 1) {
            y[i] += staged[i] * (step + 1);
        }
    }
}
"""


# A buffer a helper allocates and returns: the helper is pasted into the entry, whose scratch bind places.
HELPER_ALLOCATION = """
static float* floats(int n) { return (float*)malloc((n > 0 ? n : 1) * sizeof(float)); }
extern "C" void copied_twice(const float* x, float* y, int n) {
    float* tmp = floats(n);
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        tmp[i] = 2.0f * x[i];
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = tmp[n - 1 - i];
    }
    free(tmp);
}
"""


# A buffer a helper allocates into an out-parameter: host memory on a GPU, each task's own on BANG: refused there.
HELPER_OUT_ALLOCATION = """
static void make(float** p, int n) { *p = (float*)malloc((n > 0 ? n : 1) * sizeof(float)); }
extern "C" void copied_out(const float* x, float* y, int n) {
    float* tmp;
    make(&tmp, n);
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        tmp[i] = 2.0f * x[i];
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = tmp[n - 1 - i];
    }
    free(tmp);
}
"""

# An array filled by a parallel loop through a host pointer into it: still the one array every iteration shares.
ALIASED_ARRAY = """
extern "C" void through_pointer(const float* x, float* y, int n) {
    float table[8];
    float* t = table;
    #pragma omp parallel for
    for (int k = 0; k < 8; k += 1) {
        t[k] = 0.5f * k;
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = x[i] + table[i % 8];
    }
}
"""


# An initialized table of const elements (an initialized __constant__ array in the loop form) that kernels read.
CONST_TABLE = """
static const float kTaps[2][3] = {{0.25f, 0.5f, 0.25f}, {1.0f, -1.0f, 2.0f}};
extern "C" void tapped(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = kTaps[i % 2][i % 3] * x[i];
    }
}
"""


# A serial reduction into a host scalar (what an OpenMP reduction clause leaves) that a later statement stores.
HOST_SCALAR_SUM = """
extern "C" void summed(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = 2.0f * x[i];
    }
    double total = 0.0;
    for (int i = 0; i < n; i += 1) {
        total += y[i];
    }
    y[0] = (float)total;
}
"""


# Scratch each parallel iteration allocates for itself (a CUDA block's dynamic shared memory in the loop form):
# on BANG an NRAM array of the task running the iteration, with its capacity checked before the loop.
PER_ITERATION_SCRATCH = """
extern "C" void window_sums(const float* x, float* y, int n) {
    const int width = 3;
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        float* window = (float*)malloc(width * sizeof(float) + 16);
        for (int k = 0; k < width; k += 1) {
            window[k] = i + k < n ? x[i + k] : 0.0f;
        }
        y[i] = window[0] + window[1] + window[2];
        free(window);
    }
}
"""

# Rows reached through an array of pointers, written by one nest and read by the next: the stores go to memory
# (BANG needs a __sync_all between the nests) although the array holding the pointers is the iteration's own.
POINTER_ROWS = """
extern "C" void row_pairs(const float* x, float* y, int n) {
    float* scratch = (float*)malloc(2 * n * sizeof(float));
    #pragma omp parallel for
    for (int r = 0; r < 2; r += 1) {
        float* rows[1];
        rows[0] = scratch + r * n;
        for (int i = 0; i < n; i += 1) {
            rows[0][i] = (r + 1) * x[i];
        }
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        y[i] = scratch[i] + scratch[n + n - 1 - i];
    }
    free(scratch);
}
"""

# Per-iteration accumulator rows zeroed with memset (how recover_loops writes `T acc[K] = {}` of each thread).
ZEROED_ROWS = """
#include <cstring>
extern "C" void pair_sums(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        float acc[1][2];
        memset(&acc[0], 0, sizeof(acc[0]));
        acc[0][0] += x[i];
        acc[0][1] += 2.0f * x[i];
        y[i] = acc[0][0] + acc[0][1];
    }
}
"""

# Rows picked by indices loaded from memory: no formula sizes `table`, so the launcher measures it (bind_probe)
# by running the index arithmetic on the host; a helper's out-parameter feeds the row bound.
GATHER_ROWS = """
static void row_span(int cols, int* first, int* count) { *first = 0; *count = cols; }
extern "C" void gathered(const float* table, const int* idx, float* y, int n, int cols) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        int first = 0;
        int count = 0;
        row_span(cols, &first, &count);
        for (int c = first; c < count; c += 1) {
            y[i * cols + c] = table[idx[i] * cols + c];
        }
    }
}
"""

# The same rows, picked by indices a first nest computes: the host cannot know them before the kernels run.
GATHER_COMPUTED = """
extern "C" void gathered_twice(const float* table, const int* idx, float* y, int* picked, int n, int cols) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        picked[i] = idx[n - 1 - i];
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        for (int c = 0; c < cols; c += 1) {
            y[i * cols + c] = table[picked[i] * cols + c];
        }
    }
}
"""

def vector_args(n: int = 45) -> list:
    return [("x", rng.standard_normal(n).astype(np.float32)), ("y", np.ones(n, np.float32)), ("n", np.int32(n))]


CASES = {
    "vector_scratch": (VECTOR_SCRATCH, "reversed_pairs", vector_args),
    "fixed_vector": (FIXED_VECTOR, "offsets", vector_args),
    "helper_between_nests": (HELPER_BETWEEN_NESTS, "bumped", vector_args),
    "vector_per_step": (VECTOR_PER_STEP, "rotations", vector_args),
    "helper_allocation": (HELPER_ALLOCATION, "copied_twice", vector_args),
    "helper_out_allocation": (HELPER_OUT_ALLOCATION, "copied_out", vector_args),
    "aliased_array": (ALIASED_ARRAY, "through_pointer", vector_args),
    "guarded_copy": (GUARDED_COPY, "doubled", vector_args),
    "const_table": (CONST_TABLE, "tapped", vector_args),
    "host_scalar_sum": (HOST_SCALAR_SUM, "summed", vector_args),
    "guarded_output": (GUARDED_OUTPUT, "halved", vector_args),
    "fixed_scratch": (FIXED_SCRATCH, "weighted", vector_args),
    "per_iteration_scratch": (PER_ITERATION_SCRATCH, "window_sums", vector_args),
    "pointer_rows": (POINTER_ROWS, "row_pairs", vector_args),
    "zeroed_rows": (ZEROED_ROWS, "pair_sums", vector_args),
    "gather_rows": (GATHER_ROWS, "gathered", lambda: [
        ("table", rng.standard_normal(7 * 5).astype(np.float32)), ("idx", np.array([3, 6, 0, 6], np.int32)),
        ("y", np.zeros(4 * 5, np.float32)), ("n", np.int32(4)), ("cols", np.int32(5))]),
    "elementwise": (ELEMENTWISE, "axpb", lambda: [
        ("x", rng.standard_normal(N).astype(np.float32)), ("b", rng.standard_normal(N).astype(np.float32)),
        ("y", np.zeros(N, np.float32)), ("n", np.int32(N)), ("alpha", np.float32(1.5))]),
    "row_reduction": (ROW_REDUCTION, "row_max", lambda: [
        ("x", rng.standard_normal(ROWS * COLS).astype(np.float32)), ("y", np.zeros(ROWS, np.float32)),
        ("rows", np.int32(ROWS)), ("cols", np.int32(COLS))]),
    "two_level": (TWO_LEVEL, "transpose_scale", lambda: [
        ("x", rng.standard_normal(ROWS * COLS).astype(np.float32)), ("y", np.zeros(ROWS * COLS, np.float32)),
        ("rows", np.int32(ROWS)), ("cols", np.int32(COLS))]),
    "dependent_nests": (DEPENDENT_NESTS, "shift_sum", lambda: [
        ("x", rng.standard_normal(N).astype(np.float32)), ("y", np.zeros(N, np.float32)),
        ("z", np.zeros(N, np.float32)), ("n", np.int32(N))]),
    "scratch": (SCRATCH, "centered", lambda: [
        ("x", rng.standard_normal(ROWS * COLS).astype(np.float32)), ("y", np.zeros(ROWS * COLS, np.float32)),
        ("rows", np.int32(ROWS)), ("cols", np.int32(COLS))]),
    "strided_continue": (STRIDED_WITH_CONTINUE, "odd_relu", lambda: [
        ("x", rng.standard_normal(N).astype(np.float32)), ("y", rng.standard_normal(N).astype(np.float32)),
        ("n", np.int32(N)), ("steps", np.int32(3))]),
    "int8_dot": (INT8_DOT, "dot_rows", lambda: [
        ("a", rng.integers(0, 256, ROWS * COLS).astype(np.uint8)),
        ("b", rng.integers(-128, 128, COLS).astype(np.int8)), ("c", np.zeros(ROWS, np.int32)),
        ("rows", np.int32(ROWS)), ("k", np.int32(COLS))]),
}
REFUSED = {("helper_out_allocation", "bang"): "XP521", ("helper_out_allocation", "cuda"): "XP523",
           ("helper_out_allocation", "hip"): "XP523"}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_bind_executes_like_the_loop_form(case: str, target: str) -> None:
    source, entry, make_args = CASES[case]
    module = loop_form(source)
    if (case, target) in REFUSED:
        with pytest.raises(PassRefused) as err:
            bind(module, target)
        assert err.value.code == REFUSED[(case, target)]
        return
    bound = bind(module, target)
    assert bound.dialect == target
    code = print_module(bound)
    args = make_args()
    expected = execute(print_module(module), "cpp", entry, args)
    got = execute(code, target, entry, args, bounds_check=False)
    for name, want in expected.items():
        np.testing.assert_allclose(got[name], want, rtol=1e-6, atol=1e-6, err_msg=f"{name}\n{code}")


def test_cpp_marks_outermost_parallel_loops_only() -> None:
    code = print_module(bind(loop_form(SCRATCH), "cpp"))
    assert code.count("#pragma omp parallel for") == 2
    assert "collapse(2)" in code


def test_simt_flattens_nested_parallel_loops_into_one_kernel() -> None:
    code = print_module(bind(loop_form(TWO_LEVEL), "cuda", BindOptions(block_size=128)))
    assert code.count("__global__") == 1 and "<<<" in code and "128" in code
    assert "cudaMalloc" in code and "cudaMemcpyDeviceToHost" in code


def test_hip_launches_with_hipLaunchKernelGGL() -> None:
    code = print_module(bind(loop_form(DEPENDENT_NESTS), "hip"))
    assert code.count("hipLaunchKernelGGL") == 3  # two nests and the one-thread kernel between them


def test_bang_splits_over_tasks_with_syncs() -> None:
    code = print_module(bind(loop_form(DEPENDENT_NESTS), "bang"))
    assert "__mlu_global__" in code and "taskDim" in code
    assert code.count("__sync_all()") == 2


def test_refuses_non_loop_form() -> None:
    cuda = parse("__global__ void k(float* y) { y[threadIdx.x] = 0.0f; }", "cuda")
    with pytest.raises(PassRefused):
        bind(cuda, "hip")


def test_guarded_device_copy_is_aliased() -> None:
    code = print_module(bind(loop_form(GUARDED_COPY), "bang"))
    assert "malloc" not in code and "memcpy" not in code and "d = (float*)x" in code.replace("const ", "")


def test_bang_fixed_scratch_is_a_device_array() -> None:
    code = print_module(bind(loop_form(FIXED_SCRATCH), "bang"))
    assert "__mlu_device__ float xp_gdram_table[4];" in code
    assert "malloc" not in code and "memset" not in code and "free" not in code



def test_bang_run_time_scratch_is_a_checked_device_array() -> None:
    code = print_module(bind(loop_form(SCRATCH), "bang", BindOptions(bang_gdram_scratch_bytes=1024)))
    assert "__mlu_device__ float xp_gdram_mean[256];" in code and "malloc" not in code and "free" not in code
    check = code[code.index("if ((unsigned long long)"):code.index("mean = xp_gdram_mean")]
    assert "> 1024" in check and "__bang_printf" in check and "return;" in check
    x = rng.standard_normal(4 * 5).astype(np.float32)
    args = lambda rows: [("x", x), ("y", np.full(4 * 5, 7.0, np.float32)), ("rows", np.int32(rows)),
                         ("cols", np.int32(5))]
    small = execute(code, "bang", "centered", args(4))["y"]
    np.testing.assert_allclose(small, (x.reshape(4, 5) - x.reshape(4, 5).mean(1, keepdims=True)).ravel(), atol=1e-6)
    # 300 rows need 1200 bytes: every task returns before writing (y keeps its contents), as a launch asking too
    # much shared memory fails without running
    big = [("x", rng.standard_normal(300 * 5).astype(np.float32)), ("y", np.full(300 * 5, 7.0, np.float32)),
           ("rows", np.int32(300)), ("cols", np.int32(5))]
    assert (execute(code, "bang", "centered", big)["y"] == 7.0).all()


def test_bang_per_iteration_scratch_is_nram_checked_before_the_loop() -> None:
    code = print_module(bind(loop_form(PER_ITERATION_SCRATCH), "bang"))
    assert "__nram__ float xp_nram_window[16384];" in code and "malloc" not in code and "free" not in code
    assert code.index("> 65536") < code.index("taskId")  # checked once, before the task loop


def test_bang_syncs_after_stores_through_an_array_of_pointers() -> None:
    code = print_module(bind(loop_form(POINTER_ROWS), "bang"))
    body = code[code.index("__mlu_global__"):]
    assert body.index("__sync_all()") < body.rindex("taskId")  # between the nests


def test_byte_calls_on_one_object_are_assignments() -> None:
    code = print_module(bind(loop_form(ZEROED_ROWS), "bang"))
    assert "memset" not in code and "acc[0][xp_e0] = (float)0;" in code


def test_launcher_measures_what_no_formula_sizes() -> None:
    code = print_module(bind(loop_form(GATHER_ROWS), "cuda"))
    probe = code[code.index("static size_t gathered_extent_of_table"):]
    probe = probe[:probe.index("\n}\n")]
    assert "xp_touch(&xp_extent" in probe and "row_span" not in probe and "y[" not in probe  # pasted; no stores
    assert "gathered_extent_of_table(table, idx, y, n, cols)" in code[code.index('extern "C" void gathered'):]


def test_launcher_does_not_measure_with_values_the_kernels_write() -> None:
    with pytest.raises(PassRefused) as err:
        bind(loop_form(GATHER_COMPUTED), "cuda")
    assert err.value.code == "XP524" and "'table'" in err.value.message

def test_simt_host_vector_is_a_device_buffer() -> None:
    code = print_module(bind(loop_form(VECTOR_SCRATCH), "cuda"))
    assert "std::vector" not in code and "cudaMalloc((void**)&pairs" in code and "cudaFree(pairs)" in code
    assert "float* pairs" in code.split("__global__", 2)[1]  # the kernels take it as a pointer


def test_helpers_with_parallel_loops_become_kernels_and_task_loops() -> None:
    cuda = print_module(bind(loop_form(FIXED_VECTOR), "cuda"))
    host = cuda[cuda.index("static void offsets_on_device"):]
    assert "accumulate(" not in host and host.count("<<<") == 4  # weights, bias fill, accumulate, output
    bang = print_module(bind(loop_form(FIXED_VECTOR), "bang"))
    assert "__mlu_device__ float xp_gdram_bias[16];" in bang and "__mlu_device__ float xp_gdram_weights[8];" in bang
    assert "accumulate(" not in bang[bang.index("__mlu_global__"):]


def test_const_tables_are_device_constants_kernels_read() -> None:
    cuda = print_module(bind(loop_form(CONST_TABLE), "cuda"))
    assert "__constant__ const float kTaps[2][3]" in cuda and "kTaps" not in cuda[cuda.index("static void"):]
    assert "__mlu_const__ const float kTaps[2][3]" in print_module(bind(loop_form(CONST_TABLE), "bang"))
    host_reads_too = CONST_TABLE.replace("int n) {", "int n) {\n    float w = kTaps[1][2];").replace("x[i];", "w;")
    with pytest.raises(PassRefused, match="read by both host code and kernels"):
        bind(loop_form(host_reads_too), "hip")


def test_host_scalar_reduction_and_its_reader_are_one_kernel() -> None:
    code = print_module(bind(loop_form(HOST_SCALAR_SUM), "cuda"))
    host = code[code.index("static void summed_on_device"):]
    assert "total" not in host and host.count("<<<dim3(1), dim3(1)>>>") == 1
    kernel = code[code.index("double total"):code.index("static void")]
    assert "total +=" in kernel and "y[0] = (float)total" in kernel


def test_memory_helper_on_the_host_runs_in_a_one_thread_kernel() -> None:
    code = print_module(bind(loop_form(HELPER_BETWEEN_NESTS), "cuda"))
    host = code[code.index("static void bumped_on_device"):]
    assert "bump_first(" not in host and host.count("<<<") == 3


SIZE_SYMBOLS = [param_symbol(n) for n in ("cols", "rows", "K", "stride")]
EXTENT_FORMS = {  # shapes of kernel_ir.extents counts: tile counts as divisors, floors around Min, Piecewise cases
    "divisor_in_min": "-floor(-Min(4*cols*rows, 256*cols*floor(rows/64 + 63/64) + 256*cols"
                      " - 256*cols/floor(cols/64 + 63/64))/4)",
    "piecewise_cases": "Piecewise((floor(-K/stride + floor(512/K)/stride) + 1, K - floor(512/K) <= 0), (1, True))",
    "floor_of_max": "floor(Max(cols - 3*rows, 2*cols)/3)",
}


@pytest.mark.parametrize("form", sorted(EXTENT_FORMS))
def test_extent_sizes_compile_to_exact_c(form: str) -> None:
    """The C form of a size, run by g++, equals SymPy's value wherever that is defined (0 where a divisor is 0)."""
    names = {s.name: s for s in SIZE_SYMBOLS}
    count = sp.sympify(EXTENT_FORMS[form], locals=names)
    c_expr = get_printer("cpp").expr(_size_to_expr(count, "x"))
    declared = "".join(f"const int {n} = {n}_v[i];\n" for n in names)
    source = (_FLOOR_DIV_SOURCE + "#include <algorithm>\nextern \"C\" void sizes("
              + "".join(f"const int* {n}_v, " for n in names) + "long long* out, int n) {\n"
              + "for (int i = 0; i < n; i++) {\n" + declared + f"out[i] = {c_expr};\n}}\n}}\n")
    points = [dict(zip(names, p)) for p in itertools.product((0, 1, 5, 63, 64, 65, 200), (0, 1, 64, 130),
                                                              (1, 3, 17), (1, 2, 5))]
    args = [(f"{n}_v", np.array([p[n] for p in points], np.int32)) for n in names]
    got = execute(source, "cpp", "sizes", [*args, ("out", np.zeros(len(points), np.int64)),
                                           ("n", np.int32(len(points)))])["out"]
    divisors = [p.base for p in count.atoms(sp.Pow) if p.exp.is_negative]
    for point, value in zip(points, got):
        values = {names[n]: v for n, v in point.items()}
        undefined = any(d.subs(values) == 0 for d in divisors)
        assert int(value) == (0 if undefined else int(count.subs(values))), (point, c_expr)


MASKED_ROWS = """
extern "C" void masked_rows(const float* x, float* y, int rows, int tail, int bits) {
    #pragma omp parallel for
    for (int r = 0; r < rows; r += 1) {
        const unsigned mask = %s;
        for (int l = 0; l < 16; l += 1) {
            if (((mask >> l) & 1) != 0) {
                y[r * 16 + l] = x[r * 16 + l];
            }
        }
    }
}
"""


def _copy_sizes(code: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"size_t (\w+)_bytes = (.*);", code)}


def test_a_tail_mask_sizes_the_copies_exactly() -> None:
    """A mask of (1 << tail) - 1 lanes enables lanes < tail: the extent is exact, and it takes part in the
    copy's size beside a looser count from elsewhere (their minimum)."""
    from kernel_ir.extents import infer_extents

    module = loop_form(MASKED_ROWS % "r + 1 < rows ? 65535u : (1u << tail) - 1u")
    x = infer_extents(module, "masked_rows")["x"]
    assert x.exact and [x.evaluate({"rows": 3, "tail": t}) for t in (0, 5, 16, 40)] == [32, 37, 48, 48]
    looser = tuple((name, 16 * param_symbol("rows")) for name in ("x", "y"))
    sizes = _copy_sizes(print_module(bind(module, "cuda", BindOptions(buffer_elements=looser))))
    assert set(sizes) == {"x", "y"} and all("tail" in size for size in sizes.values()), sizes


def test_a_mask_of_unknown_lanes_is_measured_not_over_read() -> None:
    """Copying all 16 lanes of every row would read past a caller's array of rows*16 - 16 + popcount elements
    (the extent is only bounded): the launcher measures what the lanes reach instead, and copies exactly that."""
    module = loop_form(MASKED_ROWS % "(unsigned)bits")
    code = print_module(bind(module, "cuda"))
    assert "masked_rows_extent_of_x(x, y, rows, tail, bits) " in code.replace("), 0LL", ") ")
    rows, bits = 3, 0b1011
    args = [("x", rng.standard_normal(rows * 16 - 16 + 4).astype(np.float32)), ("y", np.zeros(rows * 16, np.float32)),
            ("rows", np.int32(rows)), ("tail", np.int32(0)), ("bits", np.int32(bits))]
    expected = execute(print_module(module), "cpp", "masked_rows", args)
    np.testing.assert_array_equal(execute(code, "cuda", "masked_rows", args)["y"], expected["y"])


def test_a_known_size_from_the_source_is_copied_when_the_loop_form_overcounts() -> None:
    known = tuple((name, 16 * param_symbol("rows")) for name in ("x", "y"))
    code = print_module(bind(loop_form(MASKED_ROWS % "(unsigned)bits"), "hip", BindOptions(buffer_elements=known)))
    sizes = _copy_sizes(code)
    assert set(sizes) == {"x", "y"} and all("16LL * (long long)rows" in size for size in sizes.values()), sizes


def test_bang_runs_a_serial_scan_and_its_readers_on_task_0() -> None:
    scan = """
    extern "C" void scan_last(const float* x, float* y, float* last, int n) {
        float run = 0.0f;
        for (int i = 0; i < n; ++i) {
            run += x[i];
            y[i] = run;
        }
        last[0] = run;
    }"""
    module = loop_form(scan)
    code = print_module(bind(module, "bang"))
    body = code[code.index("if (taskId == 0)"):]
    assert "last[0] = run" in body and body.count("taskId") == 1
    args = [("x", rng.standard_normal(9).astype(np.float32)), ("y", np.zeros(9, np.float32)),
            ("last", np.zeros(1, np.float32)), ("n", np.int32(9))]
    expected = execute(print_module(module), "cpp", "scan_last", args)
    got = execute(code, "bang", "scan_last", args)
    for name in ("y", "last"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6)

"""passes.verify on generated inputs: the verdicts hold on kernels never seen before, whose sizes and data
verify has to guess. Each case is a small kernel of its own that shows one way a guess goes wrong (NaN data,
a precondition on the sizes, racing threads, a result the extents cannot follow) and what verify answers."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute
from passes.verify import DEFAULT_SIZES, compare, verify

EVIDENCE = {"seed": 0, "rtol": 1e-5, "atol": 1e-5, "sizes": {}, "inputs": {}}


def agrees(want: list[float], have: list[float]) -> bool:
    return compare({"y": np.array(want)}, {"y": np.array(have)}, EVIDENCE, {}).verified


@pytest.mark.parametrize("want, have, agree", [
    ([np.nan, 1.0], [np.nan, 1.0], True),  # NaN in both agrees
    ([np.inf, -np.inf], [np.inf, -np.inf], True),  # equal infinities agree
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], True),  # within the tolerance
    ([np.inf], [-np.inf], False),
    ([np.inf], [1e300], False),
    ([np.nan], [1.0], False),
    ([1.0], [np.nan], False),
    ([1.0, 2.0], [1.0, 2.1], False),
])
def test_compare_agrees_on_equal_values_and_finite_small_differences_only(want, have, agree) -> None:
    assert agrees(want, have) is agree


def test_compare_of_integers_is_exact() -> None:
    assert not compare({"y": np.array([1, 2], np.int32)}, {"y": np.array([1, 3], np.int32)}, EVIDENCE, {}).verified


SQRT = """
#include <math.h>

extern "C" void root(const float* x, float* y, int n) {
    for (int i = 0; i < n; i += 1) {
        y[i] = sqrtf(x[i]);
    }
}
"""


def test_nan_outputs_are_retried_on_nonnegative_data_and_the_range_recorded() -> None:
    check = verify(SQRT, "cpp", SQRT, "cpp", "root")
    assert check.status == "verified", check.reason
    assert check.inputs["x"]["range"] == [0.1, 1.0]


def test_outputs_that_are_all_nan_prove_nothing() -> None:
    never = SQRT.replace("sqrtf(x[i])", "sqrtf(-1.0f - x[i] * x[i])")
    check = verify(never, "cpp", never, "cpp", "root")
    assert check.status == "unverified" and "NaN or infinite" in check.reason


LOOKUP = """
extern "C" void copy(const float* x, float* y, int n) {
    for (int i = 0; i < n; i += 1) {
        int at[1];
        at[0] = i;
        y[i] = x[at[0]];
    }
}
"""


def test_buffers_are_sized_by_the_source_when_the_result_cannot_be_followed() -> None:
    """The result's index goes through memory, which the extents do not follow: the source's sizes serve."""
    source = LOOKUP.replace("x[at[0]]", "x[i]")
    check = verify(source, "cpp", LOOKUP, "cpp", "copy")
    assert check.status == "verified", check.reason
    assert check.inputs["x"]["shape"] == [DEFAULT_SIZES[0]]


def test_a_result_reading_beyond_what_the_source_needs_fails() -> None:
    beyond = LOOKUP.replace("at[0] = i;", "at[0] = i + 1024;")
    check = verify(LOOKUP.replace("x[at[0]]", "x[i]"), "cpp", beyond, "cpp", "copy")
    assert check.status == "failed"


# x holds n floats on the device, but the kernel reads m of them: it needs m <= n, which 37 and 19 break
PRECONDITION = """
__global__ void copy_kernel(const float* x, float* y, int m) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < m) y[i] = x[i];
}

extern "C" void copy(const float* x, float* y, int m, int n) {
    float *dx, *dy;
    cudaMalloc((void**)&dx, n * sizeof(float));
    cudaMalloc((void**)&dy, m * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    copy_kernel<<<(m + 31) / 32, 32>>>(dx, dy, m);
    cudaMemcpy(y, dy, m * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""


def test_reading_past_a_device_allocation_faults() -> None:
    args = [("x", np.ones(19, np.float32)), ("y", np.zeros(37, np.float32)), ("m", np.int32(37)),
            ("n", np.int32(19))]
    with pytest.raises(XpilerError) as caught:
        execute(PRECONDITION, "cuda", "copy", args)
    assert caught.value.code == "XP301"
    args[0], args[3] = ("x", np.ones(37, np.float32)), ("n", np.int32(37))
    assert np.array_equal(execute(PRECONDITION, "cuda", "copy", args)["y"], np.ones(37, np.float32))


def test_sizes_that_break_a_precondition_are_replaced_by_others() -> None:
    check = verify(PRECONDITION, "cuda", PRECONDITION, "cuda", "copy")
    assert check.status == "verified", check.reason
    assert check.sizes == {"m": 16, "n": 16} and "XP301" in check.reason


def test_sizes_the_caller_gave_are_never_replaced() -> None:
    check = verify(PRECONDITION, "cuda", PRECONDITION, "cuda", "copy", sizes={"m": 37, "n": 19})
    assert check.status == "unverified" and check.sizes == {"m": 37, "n": 19}


# every source element i goes to out[idx[i]]; with more sources than rows some indices repeat and threads race
SCATTER = """
__global__ void scatter_kernel(const float* src, const int* idx, float* out, int n, int rows) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && idx[i] < rows) out[idx[i]] = src[i];
}

extern "C" void scatter(const float* src, const int* idx, float* out, int n, int rows) {
    float *d_src, *d_out;
    int* d_idx;
    cudaMalloc((void**)&d_src, n * sizeof(float));
    cudaMalloc((void**)&d_idx, n * sizeof(int));
    cudaMalloc((void**)&d_out, rows * sizeof(float));
    cudaMemcpy(d_src, src, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_idx, idx, n * sizeof(int), cudaMemcpyHostToDevice);
    cudaMemcpy(d_out, out, rows * sizeof(float), cudaMemcpyHostToDevice);
    scatter_kernel<<<(n + 7) / 8, 8>>>(d_src, d_idx, d_out, n, rows);
    cudaMemcpy(out, d_out, rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d_src);
    cudaFree(d_idx);
    cudaFree(d_out);
}
"""
REVERSED = SCATTER.replace("int i = blockIdx.x * blockDim.x + threadIdx.x;",
                           "int i = n - 1 - int(blockIdx.x * blockDim.x + threadIdx.x);").replace("i < n &&", "i >= 0 &&")


def test_a_source_whose_result_depends_on_thread_order_is_checked_on_other_sizes() -> None:
    check = verify(SCATTER, "cuda", REVERSED, "cuda", "scatter")
    assert check.status == "verified", check.reason
    assert check.sizes == {"n": 16, "rows": 16} and "order of its threads" in check.reason


def test_a_wrong_result_is_still_a_mismatch_when_the_source_races() -> None:
    wrong = REVERSED.replace("= src[i]", "= src[i] + 1.0f")
    check = verify(SCATTER, "cuda", wrong, "cuda", "scatter")
    assert check.status == "mismatch", check.reason


# The kernel writes the first m of y's n elements; the launcher copies all n back from the device, the rest being
# memory it never wrote: undefined on a GPU (the executor zeroes it), so only m >= n defines every element.
PARTLY_WRITTEN = """
__global__ void twice_kernel(const float* x, float* y, int m) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < m) y[i] = 2.0f * x[i];
}

extern "C" void twice(const float* x, float* y, int n, int m) {
    float *dx, *dy;
    int written = m < n ? m : n;
    cudaMalloc((void**)&dx, n * sizeof(float));
    cudaMalloc((void**)&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    twice_kernel<<<(n + 31) / 32, 32>>>(dx, dy, written);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""
# a translation that leaves the elements the source does not define as the caller gave them
KEEPS_THE_REST = """
extern "C" void twice(const float* x, float* y, int n, int m) {
    for (int i = 0; i < (m < n ? m : n); ++i) y[i] = 2.0f * x[i];
}
"""


def test_elements_a_source_copies_from_unwritten_device_memory_are_not_compared() -> None:
    check = verify(PARTLY_WRITTEN, "cuda", KEEPS_THE_REST, "cuda", "twice")
    assert check.status == "verified", check.reason
    # judged on the first sizes with 18 of y's 37 elements left undefined, then on sizes that define them all
    assert "18 of 37 in y" in check.reason and check.sizes == {"n": 16, "m": 16}
    assert "undefined" not in check.outputs["y"]


def test_undefined_elements_do_not_hide_a_wrong_value_elsewhere() -> None:
    wrong = KEEPS_THE_REST.replace("2.0f", "3.0f")
    assert verify(PARTLY_WRITTEN, "cuda", wrong, "cuda", "twice").status == "mismatch"


def test_a_source_that_defines_no_output_element_proves_nothing() -> None:
    check = verify(PARTLY_WRITTEN, "cuda", KEEPS_THE_REST, "cuda", "twice", sizes={"n": 37, "m": 0})
    assert check.status == "unverified" and "never wrote" in check.reason


# Rows picked by indices in memory: no extent sizes `table`; verify measures it by running the source's index
# arithmetic on the generated indices (passes/bind_probe), and sizes it to exactly the rows they pick.
GATHER = """
extern "C" void gather(const float* table, const int* idx, float* out, int n, int cols) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        for (int c = 0; c < cols; c += 1) {
            out[i * cols + c] = table[idx[i] * cols + c];
        }
    }
}
"""


def test_a_buffer_indexed_through_memory_is_measured_on_the_generated_indices() -> None:
    result = GATHER.replace("for (int c = 0; c < cols; c += 1)", "for (int c = cols - 1; c >= 0; c -= 1)")
    check = verify(GATHER, "cpp", result, "cpp", "gather")
    assert check.status == "verified", check.reason
    n, cols = DEFAULT_SIZES[0], DEFAULT_SIZES[1]
    assert check.inputs["idx"]["shape"] == [n] and check.inputs["out"]["shape"] == [n * cols]
    assert check.inputs["table"]["shape"][0] % cols == 0 and check.inputs["table"]["shape"][0] > 0


def test_a_result_gathering_past_the_picked_rows_fails() -> None:
    beyond = GATHER.replace("table[idx[i] * cols + c]", "table[(idx[i] + 1) * cols + c]")
    assert verify(GATHER, "cpp", beyond, "cpp", "gather").status == "failed"


CLAMP = """
extern "C" void clamp(const float* x, float* y, int n, float lo, float hi) {
    for (int i = 0; i < n; i += 1) {
        y[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
    }
}
"""


def test_float_parameters_get_distinct_values_so_a_clamp_is_checked() -> None:
    """With lo == hi every clamp is the constant lo, and a result returning lo would pass."""
    check = verify(CLAMP, "cpp", CLAMP.replace("x[i] < lo ? lo : x[i] > hi ? hi : x[i]", "lo"), "cpp", "clamp")
    assert check.status == "mismatch", check.reason
    assert check.inputs["lo"]["value"] < check.inputs["hi"]["value"]

"""Extent probes (passes/bind_probe.py): the host function measures exactly what the loop form touches, and is
refused whenever a value only the kernels produce would steer what it measures."""
from __future__ import annotations

import numpy as np
import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.parse import parse
from passes.bind_probe import extent_probe
from passes.translate import front_half
from passes.verify import measure_buffers


def measured(source: str, entry: str, buffer: str, args: list) -> int:
    return measure_buffers(source, "cpp", entry, args, {buffer: "(cpp): no formula"})[buffer]


def probe_of(source: str, entry: str, buffer: str):
    module, _ = front_half(parse(source, "cpp"))
    fn = next(f for f in module.functions if f.name == entry)
    return extent_probe(fn, module, buffer, "probe")


ROWS = """
extern "C" void rows(const float* table, const int* idx, float* out, int n, int cols) {
    #pragma omp parallel for
    for (int i = 0; i < n; i += 1) {
        const float* row = table + idx[i] * cols;
        row += 1;
        for (int c = 0; c < cols - 1; c += 1) {
            out[i * cols + c] = i % 2 == 0 ? row[c] : 0.0f;
        }
    }
}
"""


def test_counts_one_past_the_highest_element_touched_through_moved_pointers() -> None:
    idx = np.array([1, 4, 2, 5], np.int32)  # only even i read: rows 1 and 2
    args = [("table", np.zeros(0, np.float32)), ("idx", idx), ("out", np.zeros(0, np.float32)),
            ("n", np.int32(4)), ("cols", np.int32(3))]
    assert measured(ROWS, "rows", "table", args) == 2 * 3 + 1 + 2  # row 2, moved one, elements 0..1


def test_memcpy_of_rows_counts_the_bytes_it_copies() -> None:
    source = """
    #include <cstring>
    extern "C" void rows(const float* table, const int* idx, float* out, int n, int cols) {
        for (int i = 0; i < n; i += 1) {
            std::memcpy(out + i * cols, table + idx[i] * cols, cols * sizeof(float));
        }
    }
    """
    args = [("table", np.zeros(0, np.float32)), ("idx", np.array([3, 0], np.int32)), ("out", np.zeros(0, np.float32)),
            ("n", np.int32(2)), ("cols", np.int32(5))]
    assert measured(source, "rows", "table", args) == 20


def test_a_helper_out_parameter_is_followed() -> None:
    source = """
    static void span(int n, int* last) { *last = n - 1; }
    extern "C" void tail(const float* x, float* y, int n) {
        int last = 0;
        span(n, &last);
        y[0] = x[last];
    }
    """
    args = [("x", np.zeros(0, np.float32)), ("y", np.zeros(1, np.float32)), ("n", np.int32(9))]
    assert measured(source, "tail", "x", args) == 9


@pytest.mark.parametrize("source", [
    # the index comes from a buffer the entry itself writes
    """extern "C" void k(const float* x, int* at, float* y, int n) {
        for (int i = 0; i < n; i += 1) { at[i] = n - 1 - i; }
        for (int i = 0; i < n; i += 1) { y[i] = x[at[i]]; }
    }""",
    # a branch around the access depends on data the entry writes first
    """extern "C" void k(const float* x, float* z, float* y, int n) {
        for (int i = 0; i < n; i += 1) { z[i] = i - 3.0f; }
        for (int i = 0; i < n; i += 1) { if (z[i] > 0.0f) { y[i] = x[i + n]; } }
    }""",
    # the buffer's pointer is stored where the probe cannot follow it
    """extern "C" void k(const float* x, float* y, int n) {
        const float* rows[2];
        rows[0] = x;
        rows[1] = x + n;
        for (int i = 0; i < n; i += 1) { y[i] = rows[i % 2][i]; }
    }""",
    # a store through a pointer of unknown origin may change a local the index uses
    """extern "C" void k(const float* x, float** where, float* y, int n) {
        int at[1];
        at[0] = 0;
        float* w = where[0];
        w[0] = 1.0f;
        y[0] = x[at[0]];
    }""",
])
def test_values_only_the_kernels_make_refuse_the_probe(source: str) -> None:
    assert probe_of(source, "k", "x") is None


def test_verify_reports_a_buffer_it_cannot_measure() -> None:
    source = """extern "C" void k(const float* x, int* at, float* y, int n) {
        for (int i = 0; i < n; i += 1) { at[i] = n - 1 - i; }
        for (int i = 0; i < n; i += 1) { y[i] = x[at[i]]; }
    }"""
    with pytest.raises(XpilerError) as err:
        measure_buffers(source, "cpp", "k", [("x", np.zeros(0, np.float32)), ("at", np.zeros(4, np.int32)),
                                             ("y", np.zeros(4, np.float32)), ("n", np.int32(4))],
                        {"x": "(cpp): loaded index"})
    assert err.value.code == "XP411" and "'x'" in err.value.message


def test_a_pointer_walking_through_the_buffer_in_an_expression_refuses() -> None:
    # `*q++ = *p++` moves p inside the access the probe would drop: never measured as zero
    source = """extern "C" void k(const float* x, float* y, int n) {
        const float* p = x;
        float* q = y;
        for (int i = 0; i < n; ++i) *q++ = *p++ * 2.0f;
    }"""
    assert probe_of(source, "k", "x") is None and probe_of(source, "k", "y") is None


def test_a_const_value_read_from_the_buffer_is_declared_without_it() -> None:
    source = """extern "C" void k(const float* table, const int* idx, float* y, int n) {
        for (int i = 0; i < n; ++i) {
            const float t = table[idx[i]];
            y[i] = t > 0.0f ? t : 0.0f;
        }
    }"""
    args = [("table", np.zeros(0, np.float32)), ("idx", np.array([2, 7, 1], np.int32)), ("y", np.zeros(3, np.float32)),
            ("n", np.int32(3))]
    assert measured(source, "k", "table", args) == 8

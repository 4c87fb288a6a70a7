"""recover_loops: every program is run before and after the pass on the same inputs and the outputs compared.

Corpus kernels (smallest size set) for cuda and hip (bang and cpp too once passes.detensorize exists), plus small
kernels for the edge cases: barriers in loops, early return before a barrier, shuffles, dynamic shared memory,
templates, several launches in a loop, BANG task loops and OpenMP loops.
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from kernel_ir.dialects import print_module
from kernel_ir.executor import execute
from kernel_ir.ir import For, ForKind, walk
from kernel_ir.parse import parse
from passes.base import PassRefused
from passes.recover_loops import RecoverOptions, recover_loops
from tests.corpus import corpus_files
from tests.corpus.specs import SPECS, make_args

HAS_DETENSORIZE = importlib.util.find_spec("passes.detensorize") is not None


def loop_form(source: str, dialect: str, options: RecoverOptions | None = None) -> tuple[str, object]:
    module = parse(source, dialect)
    if HAS_DETENSORIZE and dialect in ("bang", "cpp"):
        from passes.detensorize import detensorize
        module = detensorize(module)
    result = recover_loops(module, options)
    assert result.dialect == "cpp"
    return print_module(result, "cpp"), result


def assert_same(source: str, dialect: str, entry: str, args: list, rtol: float = 1e-5, atol: float = 1e-5,
                options: RecoverOptions | None = None) -> object:
    text, module = loop_form(source, dialect, options)
    before = execute(source, dialect, entry, args)
    after = execute(text, "cpp", entry, args)
    for name, value in before.items():
        np.testing.assert_allclose(after[name], value, rtol=rtol, atol=atol, err_msg=f"{name}\n{text}")
    return module


# A varied subset keeps this file near two minutes; XPILER_FULL_CORPUS=1 runs all 40 operators per dialect.
QUICK_OPS = {"add", "sine", "sigmoid", "softmax", "reduce_sum", "reduce_max", "layernorm", "rmsnorm", "instancenorm",
             "gemm", "gated_mlp", "bmm_int8", "conv1d", "mha", "transpose"}


def corpus_cases() -> list:
    dialects = ["cuda", "hip"] + (["bang", "cpp"] if HAS_DETENSORIZE else [])
    full = os.environ.get("XPILER_FULL_CORPUS") == "1"
    return [pytest.param(d, op, path, id=f"{d}-{op}") for dialect in dialects for d, op, path in corpus_files(dialect)
            if full or op in QUICK_OPS]


@pytest.mark.parametrize("dialect,op,path", corpus_cases())
def test_corpus_kernel_keeps_its_results(dialect, op, path):
    spec = SPECS[op]
    args = make_args(spec, spec.sizes[0])
    source = path.read_text()
    try:
        assert_same(source, dialect, op, args, spec.rtol, spec.atol)
    except PassRefused as refusal:
        assert refusal.code.startswith("XP5"), refusal
        pytest.skip(f"refused {refusal.code}: {refusal.diagnostic.message}")


def parallel_axes(module) -> list[str]:
    return [n.axis for n in walk(module) if isinstance(n, For) and n.kind == ForKind.parallel]


def f32(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(np.float32)


HOST = """
extern "C" void run(const float* x, float* y, int n) {{
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemset(dy, 0, n * sizeof(float));
    {launch}
    cudaDeviceSynchronize();
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}}
"""


def run_simt(kernel: str, launch: str, n: int = 300, dialect: str = "cuda") -> object:
    source = kernel + HOST.format(launch=launch)
    if dialect == "hip":
        source = source.replace("cuda", "hip")
    return assert_same(source, dialect, "run", [("x", f32(n)), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])


def test_barrier_inside_uniform_loop_is_hoisted():
    kernel = """
__global__ void k(const float* x, float* y, int n) {
    __shared__ float tile[64];
    float acc = 0.0f;
    for (int base = 0; base < n; base += 64) {
        int i = base + threadIdx.x;
        tile[threadIdx.x] = i < n ? x[i] : 0.0f;
        __syncthreads();
        for (int j = 0; j < 64; ++j) acc += tile[(threadIdx.x + j) % 64] * (j + 1);
        __syncthreads();
    }
    int out = blockIdx.x * 64 + threadIdx.x;
    if (out < n) y[out] = acc;
}
"""
    module = run_simt(kernel, "k<<<(n + 63) / 64, 64>>>(dx, dy, n);")
    assert parallel_axes(module).count("threadIdx.x") >= 3  # phases: before, between and after the barriers


def test_early_return_before_barrier():
    kernel = """
__global__ void k(const float* x, float* y, int n) {
    __shared__ float s[128];
    int i = blockIdx.x * 128 + threadIdx.x;
    s[threadIdx.x] = 0.0f;
    if (threadIdx.x >= 100) return;
    s[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    if (i < n) y[i] = s[threadIdx.x] + s[(threadIdx.x + 1) % 100];
}
"""
    run_simt(kernel, "k<<<(n + 127) / 128, 128>>>(dx, dy, n);")


def test_shuffles_xor_down_up_and_broadcast():
    kernel = """
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? x[i] : 0.0f;
    float total = v;
    for (int m = 16; m > 0; m >>= 1) total += __shfl_xor_sync(0xffffffffu, total, m);
    float down = __shfl_down_sync(0xffffffffu, v, 3);
    float up = __shfl_up_sync(0xffffffffu, v, 5, 16);
    float first = __shfl_sync(0xffffffffu, v, 7);
    if (i < n) y[i] = total + 10.0f * down + 100.0f * up + 1000.0f * first;
}
"""
    run_simt(kernel, "k<<<(n + 95) / 96, 96>>>(dx, dy, n);", n=250)


def test_hip_wavefront_shuffle_is_64_wide():
    kernel = """
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? x[i] : 0.0f;
    for (int m = warpSize / 2; m > 0; m >>= 1) v += __shfl_xor(v, m);
    if (i < n) y[i] = v;
}
"""
    run_simt(kernel, "hipLaunchKernelGGL(k, dim3((n + 127) / 128), dim3(128), 0, 0, dx, dy, n);", n=256,
             dialect="hip")


def test_shuffle_under_divergent_branch_is_predicated():
    kernel = """
__device__ float warp_sum(float v) {
    for (int m = 16; m > 0; m >>= 1) v += __shfl_down_sync(0xffffffffu, v, m);
    return v;
}
__global__ void k(const float* x, float* y, int n) {
    __shared__ float partial[4];
    int i = blockIdx.x * 128 + threadIdx.x;
    float v = warp_sum(i < n ? x[i] : 0.0f);
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < 4 ? partial[threadIdx.x] : 0.0f;
        v = warp_sum(v);
        if (threadIdx.x == 0) y[blockIdx.x] = v;
    }
}
"""
    run_simt(kernel, "k<<<(n + 127) / 128, 128>>>(dx, dy, n);")


def test_initialized_constant_table_becomes_a_const_global():
    kernel = """
__constant__ float taps[3] = {0.25f, 0.5f, 0.25f};
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = taps[i % 3] * x[i];
}
"""
    module = run_simt(kernel, "k<<<(n + 127) / 128, 128>>>(dx, dy, n);")
    (table,) = [g for g in module.globals if g.name == "taps"]
    assert table.type.element.const and table.init is not None


def test_cooperative_groups_block_and_tiles_become_indices_shuffles_and_barriers():
    kernel = """
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void k(const float* x, float* y, int n) {
    __shared__ float partial[4];
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    auto half = cg::tiled_partition<16>(block);
    const int i = blockIdx.x * block.size() + block.thread_rank();
    float v = i < n ? x[i] : 0.0f;
    float h = v;
    for (int m = 8; m > 0; m >>= 1) h += half.shfl_down(h, m);
    for (int m = 16; m > 0; m >>= 1) v += warp.shfl_xor(v, m);
    if (warp.thread_rank() == 0) partial[warp.meta_group_rank()] = v;
    block.sync();
    if (i < n) y[i] = partial[threadIdx.x / 32] + 10.0f * half.shfl(h, 0) + 100.0f * warp.size();
}
"""
    run_simt(kernel, "k<<<(n + 127) / 128, 128>>>(dx, dy, n);")


def test_cooperative_group_passed_to_a_helper_is_refused():
    kernel = """
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
template <class G> __device__ float first(G g, float v) { return g.shfl(v, 0); }
__global__ void k(const float* x, float* y, int n) {
    auto warp = cg::tiled_partition<32>(cg::this_thread_block());
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = first(warp, x[i]);
}
"""
    with pytest.raises(PassRefused) as refused:
        run_simt(kernel, "k<<<(n + 127) / 128, 128>>>(dx, dy, n);")
    assert refused.value.code == "XP516" and "passed on" in refused.value.message


@pytest.mark.parametrize("qualifier,fixed", [("", False), ("const ", True)])
def test_dynamic_shared_memory_sized_by_launch(qualifier: str, fixed: bool):
    """Shared bytes known at compile time give a fixed block array, which BANG can hold; others a malloc."""
    kernel = """
__global__ void k(const float* x, float* y, int n) {
    extern __shared__ float buf[];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    buf[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    if (i < n) y[i] = buf[blockDim.x - 1 - threadIdx.x];
}
"""
    launch = qualifier + "int threads = 32; " \
        "k<<<(n + threads - 1) / threads, threads, threads * sizeof(float)>>>(dx, dy, n);"
    text = print_module(run_simt(kernel, launch), "cpp")
    assert ("xp_smem[128]" in text) == fixed and ("malloc((size_t)" in text) != fixed, text


def test_template_kernel_and_two_dimensional_blocks():
    kernel = """
template <int TX, typename T>
__global__ void k(const T* x, T* y, int n) {
    __shared__ T t[4][TX + 1];
    int col = blockIdx.x * TX + threadIdx.x;
    int idx = col * 4 + threadIdx.y;
    t[threadIdx.y][threadIdx.x] = idx < n ? x[idx] : T(0);
    __syncthreads();
    if (idx < n) y[idx] = t[threadIdx.y][threadIdx.x] * T(2) + t[3 - threadIdx.y][threadIdx.x];
}
"""
    module = run_simt(kernel, "dim3 block(16, 4); k<16, float><<<(n + 63) / 64, block>>>(dx, dy, n);")
    assert {"threadIdx.x", "threadIdx.y", "blockIdx.x"} <= set(parallel_axes(module))


def test_two_launches_in_a_host_loop():
    kernel = """
__global__ void scale(float* y, const float* x, int n, float f) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = y[i] * f + x[i];
}
__global__ void shift(float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += 1.0f;
}
"""
    launch = "for (int r = 0; r < 3; ++r) { scale<<<(n + 63) / 64, 64>>>(dy, dx, n, 0.5f); shift<<<(n + 31) / 32, 32>>>(dy, n); }"
    run_simt(kernel, launch)


def test_streams_and_events_only_order_work():
    kernel = """
__global__ void shift(float* y, const float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] + 1.0f;
}
"""
    launch = ("cudaStream_t streams[2]; cudaEvent_t done; cudaStreamCreate(&streams[0]); "
              "cudaStreamCreateWithFlags(&streams[1], cudaStreamNonBlocking); "
              "cudaEventCreateWithFlags(&done, cudaEventDisableTiming); "
              "shift<<<(n + 63) / 64, 64, 0, streams[0]>>>(dy, dx, n); cudaEventRecord(done, streams[0]); "
              "cudaStreamWaitEvent(streams[1], done, 0); shift<<<(n + 63) / 64, 64, 0, streams[1]>>>(dy, dy, n); "
              "cudaStreamSynchronize(streams[1]); cudaEventDestroy(done); cudaStreamDestroy(streams[0]); "
              "cudaStreamDestroy(streams[1]);")
    text = print_module(run_simt(kernel, launch), "cpp")
    assert "stream" not in text and "done" not in text, text


def test_a_stream_handed_to_a_helper_is_refused():
    source = HOST.format(launch="cudaStream_t s; cudaStreamCreate(&s); record(s);")
    with pytest.raises(PassRefused) as refused:
        loop_form("void record(cudaStream_t s);\n" + source, "cuda")
    assert refused.value.code == "XP514" and "stream or event s" in refused.value.message


def test_template_arguments_deduced_from_the_call_are_bound():
    """`lanes<3>(v)` names W and leaves T to deduction, `warp_sum(v)` names nothing: helpers with warp
    shuffles must be inlined, so they are instantiated with clang's deduced arguments."""
    kernel = """
template <class T> __device__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
template <int W, class T> __device__ T lanes(T v) { return __shfl_sync(0xffffffffu, v, W) * (T)W; }
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? x[i] : 0.0f;
    float s = lanes<3>(warp_sum(v)) + (float)warp_sum(i & 7);
    if (i < n) y[i] = s;
}
"""
    text = print_module(run_simt(kernel, "k<<<(n + 63) / 64, 64>>>(dx, dy, n);"), "cpp")
    assert "warp_sum" not in text and "lanes" not in text, text


def test_atomics_become_helpers():
    kernel = """
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(&y[i % 4], 1.0f);
}
"""
    module = run_simt(kernel, "k<<<(n + 63) / 64, 64>>>(dx, dy, n);")
    assert "xp_atomic_add" in print_module(module, "cpp")


def test_barrier_in_thread_dependent_loop_is_refused():
    source = """
__global__ void k(float* y, int n) {
    for (int i = threadIdx.x; i < n; i += 7) { y[i] = 1.0f; __syncthreads(); }
}
extern "C" void run(float* y, int n) { k<<<1, 32>>>(y, n); }
"""
    with pytest.raises(PassRefused) as refusal:
        recover_loops(parse(source, "cuda"))
    assert refusal.value.code == "XP511"



def test_hip_shuffles_in_per_wavefront_row_loop():
    # Each wavefront walks its own rows (a trip count that differs between wavefronts, not between lanes), and
    # one leaves the kernel in the middle of its loop.
    kernel = """
#define WAVES 3
__global__ void k(const float* x, float* y, int n) {
    const int lane = threadIdx.x % 64;
    const int wave = threadIdx.x / 64;
    const int rows = n / 20;
    for (int row = blockIdx.x * WAVES + wave; row < rows; row += gridDim.x * WAVES) {
        if (row == 7) return;  // the whole wavefront leaves: its row 13 stays unwritten
        float v = lane < 20 ? x[row * 20 + lane] : 0.0f;
        float m = v;
        for (int off = 32; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor(m, off));
        float s = v;
        for (int off = 32; off > 0; off >>= 1) s += __shfl_down(s, off);
        float fifth = __shfl(v, 5);
        if (lane == 0) y[row] = s + 10.0f * m;
        if (lane == 1) y[rows + row] = fifth;
    }
}
"""
    module = run_simt(kernel, "hipLaunchKernelGGL(k, dim3(2), dim3(WAVES * 64), 0, 0, dx, dy, n);", dialect="hip")
    around_phases = [n for n in walk(module) if isinstance(n, For) and n.kind == ForKind.serial
                     and "threadIdx.x" in parallel_axes(n.body)]
    assert len(around_phases) == 3  # the row loop, above the thread loops, and the two shuffle loops in it


def test_cuda_warp_loop_in_uniform_loop_with_helper_syncwarp_and_warp_uniform_return():
    # 2-D blocks (the linear thread id, then warp = tid >> 5), a shuffling helper, __syncwarp around shared
    # staging, an inclusive bound, and a return taken by one whole warp before its loop.
    kernel = """
__device__ float warp_sum(float v) {
    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
    return v;
}
__global__ void k(const float* x, float* y, int n) {
    __shared__ float stage[4][32];
    const int tid = threadIdx.y * blockDim.x + threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    if (warp == 2 && blockIdx.x == 1) return;
    for (int pass = 0; pass < 2; ++pass) {
        for (int row = blockIdx.x * 4 + warp; row <= n / 32 - 1; row += gridDim.x * 4) {
            stage[warp][lane] = x[row * 32 + lane] * (pass + 1);
            __syncwarp();
            float v = warp_sum(stage[warp][31 - lane]);
            __syncwarp();
            if (lane == pass) y[row] += v;
        }
    }
}
"""
    run_simt(kernel, "dim3 block(32, 4); k<<<3, block>>>(dx, dy, n);", n=600)


@pytest.mark.parametrize("loop,reason", [
    ("for (int r = threadIdx.x % 32; r < n; r += 32)", "start may differ between the lanes of a warp"),
    ("for (int r = warp; r < (int)x[0]; r += 4)", "bound may differ between the lanes of a warp"),
    ("for (int r = threadIdx.x / 48; r < n; r += 4)", "start may differ between the lanes of a warp"),
    ("for (int r = warp; r < n; r *= 2)", "not a counted loop"),
])
def test_shuffle_in_loop_not_proven_warp_uniform_is_refused(loop, reason):
    source = f"""
__global__ void k(const float* x, float* y, int n) {{
    const int warp = threadIdx.x / 32;
    float v = x[threadIdx.x];
    {loop} v += __shfl_xor_sync(0xffffffffu, v, 1);
    y[threadIdx.x] = v;
}}
extern "C" void run(const float* x, float* y, int n) {{ k<<<1, 128>>>(x, y, n); }}
"""
    with pytest.raises(PassRefused) as refusal:
        recover_loops(parse(source, "cuda"))
    assert refusal.value.code == "XP511" and reason in refusal.value.diagnostic.message

BANG_KERNEL = """
__mlu_shared__ float cluster_sum[4];
__mlu_global__ void run(const float* x, float* y, int n) {
    __nram__ float buf[64];
    int per = (n + taskDim - 1) / taskDim;
    int start = taskId * per;
    float local = 0.0f;
    for (int i = 0; i < per && start + i < n; ++i) { buf[i % 64] = x[start + i]; local += buf[i % 64]; }
    if (coreId == 0) cluster_sum[0] = 0.0f;
    __sync_cluster();
    for (int c = 0; c < coreDim; ++c) { if (coreId == c) cluster_sum[0] += local; __sync_cluster(); }
    for (int i = 0; i < per && start + i < n; ++i) y[start + i] = x[start + i] + cluster_sum[0] + clusterId;
}
"""


def test_bang_task_loop_with_cluster_storage_and_syncs():
    n = 200
    module = assert_same(BANG_KERNEL, "bang", "run", [("x", f32(n)), ("y", np.zeros(n, np.float32)),
                                                      ("n", np.int32(n))])
    assert "taskId" in parallel_axes(module)


def test_cpp_omp_parallel_for_becomes_parallel_loop():
    source = """
extern "C" void run(const float* x, float* y, int n) {
#pragma omp parallel for schedule(static)
    for (int i = 1; i < n; i += 2) y[i] = x[i] * 2.0f;
#pragma omp parallel for collapse(2)
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < n / 2; ++b) y[2 * b] = x[2 * b] + 1.0f;
}
"""
    n = 101
    module = assert_same(source, "cpp", "run", [("x", f32(n)), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])
    assert parallel_axes(module) == ["omp", "omp", "omp"]


OMP_REGION = """
#include <vector>
extern "C" void run(const float* x, float* y, int n) {
    const float half = 0.5f;
#pragma omp parallel num_threads(3) default(shared)
    {
        std::vector<float> row(n, 1.0f);  // refilled before each use: per-iteration copies agree with per-thread
        float pair[2];
#pragma omp for collapse(2) schedule(static) nowait
        for (int a = 0; a < 2; ++a)
            for (int b = 1; b < 4; ++b) {
                for (int j = 0; j < n; ++j) row[j] = x[j] * (float)b;
                pair[0] = 0.0f;
                for (int j = 0; j < n; ++j) pair[0] += row.data()[j];
                pair[1] = (float)row.size();
                y[a * 3 + b - 1] = pair[0] * half + pair[1];
            }
#pragma omp barrier
        std::vector<float> acc(4);
#pragma omp for schedule(dynamic)
        for (int i = 6; i < n; i += 2) {
            for (int k = 0; k < 4; ++k) acc[k] = x[i] + k;
            y[i] = acc[0] * acc[3];
        }
    }
}
"""


def test_cpp_omp_parallel_region_becomes_parallel_loops_with_private_scratch():
    n = 41
    module = assert_same(OMP_REGION, "cpp", "run", [("x", f32(n)), ("y", np.zeros(n, np.float32)),
                                                    ("n", np.int32(n))])
    assert parallel_axes(module) == ["omp", "omp", "omp"]
    text = print_module(module, "cpp")
    # scratch vectors become per-iteration slices of one hoisted buffer; the array is declared per iteration
    assert "std::vector<float> row_slices(" in text and "std::vector<float> acc_slices(" in text
    loops = [n for n in walk(module) if isinstance(n, For) and n.kind == ForKind.parallel]
    assert any(getattr(s, "name", None) == "pair" for s in loops[1].body.body)


def test_cpp_omp_region_declaration_after_a_loop_stays_after_it():
    source = """
extern "C" void run(const float* x, float* y, int n) {
    const int k = 3;
#pragma omp parallel
    {
#pragma omp for nowait
        for (int i = 0; i < n; ++i) y[i] = x[i] * k;
        const int k = 5;  // shadows the outer k for the second loop only
        float t[2];
#pragma omp for
        for (int i = 0; i < n; ++i) { t[0] = k; y[i] += t[0]; }
    }
}
"""
    n = 9
    assert_same(source, "cpp", "run", [("x", f32(n)), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])


def test_cpp_vector_declared_in_parallel_for_body_becomes_slices():
    source = """
#include <vector>
extern "C" void run(const float* x, float* y, int n) {
#pragma omp parallel for
    for (int i = 0; i < n; ++i) {
        std::vector<float> t(3);
        for (int k = 0; k < 3; ++k) t[k] += x[i] * k;
        y[i] = t[0] + t[1] + t[2];
    }
}
"""
    n = 17
    module = assert_same(source, "cpp", "run", [("x", f32(n)), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])
    assert "std::vector<float> t_slices(" in print_module(module, "cpp")


HAND_SPLIT = """
#include <omp.h>
extern "C" void run(const float* x, float* y, int n) {
#pragma omp parallel CLAUSE
    {
        const int t = omp_get_thread_num();
        const int team = omp_get_num_threads();
        const int chunk = (n + team - 1) / team;
        const int end = (t + 1) * chunk < n ? (t + 1) * chunk : n;
        for (int i = t * chunk; i < end; ++i) y[i] = x[i] * 2.0f + (float)(i % 3);
    }
}
"""


@pytest.mark.parametrize("clause,team", [("", 64), ("num_threads(3)", 3)])
def test_cpp_omp_region_split_by_thread_number_is_a_loop_over_a_team(clause: str, team: int):
    """Each thread's share is one iteration of a parallel loop over a team of fixed size (a correct region computes
    the same for any size); num_threads(k) gives it when k is a constant."""
    n = 41
    module = assert_same(HAND_SPLIT.replace("CLAUSE", clause), "cpp", "run",
                         [("x", f32(n)), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))])
    assert parallel_axes(module) == ["omp"]
    assert f"xp_thread < {team}" in print_module(module, "cpp")


REFUSED_REGIONS = {
    "statement run once per thread": ("y[0] = 1.0f;", "a statement (Assign)"),
    "single": ("#pragma omp single\n        y[0] = 1.0f;", "'#pragma omp single'"),
    "hand split mixed with omp for": ("int t = omp_get_thread_num();", "splits its work by omp_get_thread_num()"),
    "scratch carried between loops": (
        "#pragma omp for\n        for (int i = 0; i < n; ++i) buf[0] = x[i];", "buf carries values"),
    "chunked schedule": ("", "4 consecutive iterations"),
    "initializer with effects": ("float* heap = (float*)malloc(64);", "initializer of heap"),
}


@pytest.mark.parametrize("case", list(REFUSED_REGIONS))
def test_cpp_omp_parallel_region_refusals_are_coded(case):
    before, message = REFUSED_REGIONS[case]
    schedule = "schedule(static, 4)" if case == "chunked schedule" else "schedule(static)"
    source = f"""
#include <omp.h>
#include <cstdlib>
extern "C" void run(const float* x, float* y, int n) {{
#pragma omp parallel
    {{
        float buf[4];
        {before}
#pragma omp for {schedule}
        for (int i = 0; i < n; ++i) {{
            buf[0] = x[i];
            y[i] = buf[0] * 2.0f;
        }}
    }}
}}
"""
    with pytest.raises(PassRefused) as refusal:
        loop_form(source, "cpp")
    assert refusal.value.code == "XP517" and message in refusal.value.diagnostic.message


def test_cpp_omp_parallel_private_clause_is_refused():
    source = """
extern "C" void run(const float* x, float* y, int n) {
    float t;
#pragma omp parallel private(t)
    {
#pragma omp for
        for (int i = 0; i < n; ++i) { t = x[i]; y[i] = t; }
    }
}
"""
    with pytest.raises(PassRefused, match="clause private"):
        loop_form(source, "cpp")


def test_error_check_macros_leave_plain_device_copies():
    source = """
#define CHECK(call) do { cudaError_t status = (call); if (status != cudaSuccess) { fprintf(stderr, "%s\\n", \\
    cudaGetErrorString(status)); return; } } while (0)
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 3.0f * x[i];
}
extern "C" void run(const float* x, float* y, int n) {
    float *dx, *dy;
    CHECK(cudaMalloc(&dx, n * sizeof(float)));
    CHECK(cudaMalloc(&dy, n * sizeof(float)));
    CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
    k<<<(n + 63) / 64, 64>>>(dx, dy, n);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost));
    cudaFree(dx);
    cudaFree(dy);
}
"""
    module = assert_same("#include <cstdio>\n" + source, "cuda", "run",
                         [("x", f32(70)), ("y", np.zeros(70, np.float32)), ("n", np.int32(70))])
    entry = print_module(module, "cpp").split('extern "C"')[1]
    assert "status" not in entry and "while (0)" not in entry and "fprintf" not in entry
    assert "    dx = (float*)malloc(" in entry  # at the entry's top level, where bind aliases device copies


def test_constant_memory_becomes_zeroed_scratch():
    source = """
__constant__ float c_weights[8];
__global__ void k(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] * c_weights[i % 8];
}
extern "C" void run(const float* x, const float* w, float* y, int n) {
    if (n <= 0) return;
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpyToSymbol(c_weights, w, 5 * sizeof(float));  // the last three weights stay zero
    k<<<(n + 31) / 32, 32>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""
    module = assert_same(source, "cuda", "run", [("x", f32(50)), ("w", f32(5, seed=1)),
                                                 ("y", np.zeros(50, np.float32)), ("n", np.int32(50))])
    text = print_module(module, "cpp")
    assert "float* c_weights = (float*)malloc(8 * sizeof(float));" in text and "memset(c_weights, 0" in text
    assert text.count("free(c_weights)") == 2  # before the early return and at the end


def test_a_helper_called_in_one_branch_of_a_conditional_is_inlined_in_that_branch():
    """`len = whole ? n : load(...)`: the helper (it has a barrier) runs only when the condition says so."""
    kernel = """
__device__ int stage(const float* x, float* tile, int n, int base) {
    int i = base + threadIdx.x;
    tile[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    return n - base < 64 ? n - base : 64;
}
__global__ void k(const float* x, float* y, int n) {
    __shared__ float tile[64];
    const int base = blockIdx.x * 64;
    const bool whole = n < 0;
    const int len = whole ? n : stage(x, tile, n, base);
    int i = base + threadIdx.x;
    if (threadIdx.x < len) y[i] = 2.0f * tile[threadIdx.x] + (float)len;
}
"""
    run_simt(kernel, "k<<<(n + 63) / 64, 64>>>(dx, dy, n);")


VOTES = """
__global__ void votes_kernel(const float* x, unsigned* ballots, int* anys, int* alls, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? x[i] : 0.0f;
    unsigned b = __ballot_sync(0xffffffffu, v > 0.0f);
    int a = __any_sync(0xffffffffu, v > 0.9f);
    int l = __all_sync(0xffffffffu, v > -0.9f);
    if (i < n) { ballots[i] = b; anys[i] = a; alls[i] = l; }
}
extern "C" void votes(const float* x, unsigned* ballots, int* anys, int* alls, int n) {
    float* dx; unsigned* db; int *da, *dl;
    cudaMalloc(&dx, n * sizeof(float)); cudaMalloc(&db, n * sizeof(unsigned));
    cudaMalloc(&da, n * sizeof(int)); cudaMalloc(&dl, n * sizeof(int));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    votes_kernel<<<(n + 47) / 48, 48>>>(dx, db, da, dl, n);
    cudaMemcpy(ballots, db, n * sizeof(unsigned), cudaMemcpyDeviceToHost);
    cudaMemcpy(anys, da, n * sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(alls, dl, n * sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(dx); cudaFree(db); cudaFree(da); cudaFree(dl);
}
"""


def votes_args(n: int) -> list:
    return [("x", f32(n, seed=3)), ("ballots", np.zeros(n, np.uint32)), ("anys", np.zeros(n, np.int32)),
            ("alls", np.zeros(n, np.int32)), ("n", np.int32(n))]


def test_warp_votes_count_the_lanes_that_exist():
    """48-thread blocks: the second warp has 16 lanes; its ballot has 16 bits at most and `all` asks those."""
    text, _ = loop_form(VOTES, "cuda")
    assert "__ballot" not in text and "__all" not in text
    for n in (100, 30):
        got = assert_same(VOTES, "cuda", "votes", votes_args(n))
        assert got is not None
    out = execute(text, "cpp", "votes", votes_args(100))
    assert out["ballots"][40] < 1 << 16 and out["anys"].any() and not out["alls"].all()


def test_a_warp_vote_after_an_early_return_is_refused():
    early = VOTES.replace("float v = i < n ? x[i] : 0.0f;", "if (i >= n) return;\n    float v = x[i];")
    with pytest.raises(PassRefused) as refusal:
        loop_form(early, "cuda")
    assert refusal.value.code == "XP516" and "return early" in refusal.value.diagnostic.message


@pytest.mark.parametrize("divergent", [
    "unsigned b = 0u;\n    if (v > 0.5f) b = __ballot_sync(0xffffffffu, v > 0.0f);",
    "unsigned b = v > 0.5f && __any_sync(0xffffffffu, v > 0.0f);",
])
def test_a_warp_vote_only_some_lanes_reach_is_refused(divergent: str):
    """HIP's votes count the lanes that reach them (CUDA's, with a full mask, need every lane): the loop form,
    which counts every lane, would differ, so such a vote is refused."""
    source = VOTES.replace("unsigned b = __ballot_sync(0xffffffffu, v > 0.0f);", divergent)
    with pytest.raises(PassRefused) as refusal:
        loop_form(source, "cuda")
    assert refusal.value.code == "XP516"


def test_likely_hints_survive_inlining_and_barrier_splitting():
    """The source's `[[likely]]` (what simdize's fast versions and passes.reach's coverage rest on) stays on the
    `if`s these passes rebuild: a helper's early return, and a block-uniform branch split at a barrier."""
    kernel = """
__device__ float clipped(float v, int n) {
    if (n > 8) [[likely]] { return v > 1.0f ? 1.0f : v; }
    return v;
}
__global__ void k(const float* x, float* y, int n) {
    __shared__ float tile[64];
    int i = blockIdx.x * 64 + threadIdx.x;
    if (n > 32) [[likely]] {
        tile[threadIdx.x] = i < n ? clipped(x[i], n) : 0.0f;
        __syncthreads();
        if (i < n) y[i] = tile[63 - threadIdx.x];
    }
}
"""
    module = run_simt(kernel, "k<<<(n + 63) / 64, 64>>>(dx, dy, n);")
    assert print_module(module, "cpp").count("[[likely]]") == 2

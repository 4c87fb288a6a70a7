"""parse -> print -> parse gives the same Module, for hand-written kernels in every dialect and for the corpus;
printed CUDA / C++ still compiles (nvcc -c / g++ -c, skipped when the compiler is absent)."""

from __future__ import annotations

import dataclasses
import pathlib
import shutil
import subprocess
import time

import pytest

from kernel_ir.diagnostics import XpilerError
from kernel_ir.dialects import PrintError, print_module
from kernel_ir.ir import (
    Assign, Barrier, BarrierKind, BinOp, BuiltinVar, Call, Const, Decl, DType, For, ForKind, FuncQual, KernelLaunch,
    MemScope, Module, PointerType, Pragma, Return, ScalarType, Var, VectorType, transform, walk,
)
from kernel_ir.parse import ParseError, parse
from passes.translate import TranslateOptions, translate

CORPUS = pathlib.Path(__file__).parent / "corpus"
CORPUS_DIALECTS = {".cu": "cuda", ".hip": "hip", ".mlu": "bang", ".cpp": "cpp"}

CUDA_HELPERS_MACROS = r"""
#include <cuda_runtime.h>
#define BLOCK 256
#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
#define SQUARE(x) ((x) * (x))

__device__ __forceinline__ float gelu(float x) {
    const float c = 0.7978845608f;
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}

__device__ float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

__global__ void __launch_bounds__(BLOCK) gelu_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = clamp01(gelu(x[i])) + SQUARE(x[i]) * 0.0f;
}

extern "C" void gelu_launch(const float* x, float* y, int n) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc((void**)&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    gelu_kernel<<<CEIL_DIV(n, BLOCK), BLOCK>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""

CUDA_TEMPLATE_GRID_STRIDE = r"""
#include <cuda_runtime.h>

template <typename T, int UNROLL>
__global__ void scale_kernel(const T* in, T* out, T alpha, long n) {
    for (long base = (long)blockIdx.x * blockDim.x * UNROLL + threadIdx.x; base < n;
         base += (long)gridDim.x * blockDim.x * UNROLL) {
        #pragma unroll
        for (int u = 0; u < UNROLL; ++u) {
            long i = base + (long)u * blockDim.x;
            if (i < n) out[i] = alpha * in[i];
        }
    }
}

__global__ void add4(const float4* a, const float4* b, float4* c, int n4) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += gridDim.x * blockDim.x) {
        float4 x = a[i], y = b[i];
        c[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
}

extern "C" void scale_twice(const float* x, float* y, int n) {
    float* d;
    cudaMalloc(&d, 2 * n * sizeof(float));
    cudaMemcpy(d, x, n * sizeof(float), cudaMemcpyHostToDevice);
    dim3 block(128);
    dim3 grid((n + 511) / 512, 1, 1);
    for (int rep = 0; rep < 2; ++rep) {
        scale_kernel<float, 4><<<grid, block>>>(d, d + n, 2.0f, n);
        add4<<<grid, block, 0, 0>>>((const float4*)d, (const float4*)d, (float4*)(d + n), n / 4);
    }
    cudaDeviceSynchronize();
    cudaMemcpy(y, d + n, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d);
}
"""

CUDA_SHARED_SHUFFLE_CG = r"""
#include <cuda_runtime.h>
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__constant__ float c_weights[64];

__device__ float warp_sum(float v) {
    for (int offset = warpSize / 2; offset > 0; offset >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

__global__ void weighted_row_sum(const float* x, float* y, int cols) {
    extern __shared__ float partial[];
    __shared__ __align__(16) float tile[32][33];
    const float* row = x + (size_t)blockIdx.x * cols;
    float acc = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) acc += row[c] * c_weights[c % 64];
    acc = warp_sum(acc);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) partial[warp] = acc;
    tile[lane][warp % 32] = acc;
    cg::this_thread_block().sync();
    if (warp == 0) {
        float v = lane < (int)(blockDim.x / 32) ? partial[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) y[blockIdx.x] = v;
    }
    __syncthreads();
}

extern "C" void row_sum(const float* x, const float* w, float* y, int rows, int cols) {
    cudaMemcpyToSymbol(c_weights, w, 64 * sizeof(float));
    float *dx, *dy;
    cudaMalloc(&dx, (size_t)rows * cols * sizeof(float));
    cudaMalloc(&dy, rows * sizeof(float));
    cudaMemcpy(dx, x, (size_t)rows * cols * sizeof(float), cudaMemcpyHostToDevice);
    const int threads = 256;
    weighted_row_sum<<<rows, threads, threads / 32 * sizeof(float)>>>(dx, dy, cols);
    cudaMemcpy(y, dy, rows * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""

CUDA_CONTROL_FLOW = r"""
#include <cuda_fp16.h>

__device__ int classify(float v) {
    switch ((int)v) {
    case 0:
        return 1;
    case 1:
    case 2:
        return 2;
    default:
        break;
    }
    int k = 0;
    while (v > 1.0f) { v *= 0.5f; ++k; }
    do { k--; } while (k > 8);
    return k;
}

__global__ void convert(const half* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && i % 2 == 0) {
        out[i] = __half2float(in[i]) + (float)classify(out[i]);
    } else if (i < n) {
        out[i] = -__half2float(in[i]);
    } else {
        return;
    }
    out[i] = !(i & 1) ? out[i] : -out[i];
}
"""

HIP_KERNELS = r"""
#include <hip/hip_runtime.h>

#define TPB 256

__global__ void block_reduce(const float* x, float* partial, int n) {
    __shared__ float buf[TPB];
    int tid = threadIdx.x;
    int i = blockIdx.x * blockDim.x + tid;
    float v = i < n ? x[i] : 0.0f;
    for (int offset = 32; offset > 0; offset >>= 1) v += __shfl_down(v, offset);
    buf[tid] = v;
    __syncthreads();
    if (tid == 0) {
        float s = 0.0f;
        for (int w = 0; w < TPB; w += 64) s += buf[w];
        partial[blockIdx.x] = s;
    }
}

template <int ITEMS>
__global__ void fill(float* y, float value, int n) {
    int i = (blockIdx.x * blockDim.x + threadIdx.x) * ITEMS;
    #pragma unroll
    for (int k = 0; k < ITEMS; ++k) if (i + k < n) y[i + k] = value;
}

extern "C" void sum(const float* x, float* y, int n) {
    int blocks = (n + TPB - 1) / TPB;
    float *dx, *dp;
    hipMalloc(&dx, n * sizeof(float));
    hipMalloc(&dp, blocks * sizeof(float));
    hipMemcpy(dx, x, n * sizeof(float), hipMemcpyHostToDevice);
    hipLaunchKernelGGL(fill<4>, dim3((blocks + 3) / 4), dim3(TPB), 0, 0, dp, 0.0f, blocks);
    hipLaunchKernelGGL(block_reduce, dim3(blocks), dim3(TPB), 0, 0, dx, dp, n);
    block_reduce<<<blocks, TPB>>>(dx, dp, n);
    hipDeviceSynchronize();
    hipMemcpy(y, dp, sizeof(float), hipMemcpyDeviceToHost);
    hipFree(dx);
    hipFree(dp);
}
"""

BANG_KERNELS = r"""
#include <bang.h>

#define CHUNK 1024

__nram__ float buf_a[CHUNK];
__nram__ float buf_b[CHUNK];

__mlu_func__ int span(int total, int parts, int index) {
    int per = (total + parts - 1) / parts;
    int begin = per * index;
    return begin < total ? (total - begin < per ? total - begin : per) : 0;
}

__mlu_global__ void add(const float* a, const float* b, float* c, int n) {
    const int per = (n + taskDim - 1) / taskDim;
    const int start = taskId * per;
    const int len = span(n, taskDim, taskId);
    __wram__ float weights[64];
    for (int off = 0; off < len; off += CHUNK) {
        int count = len - off < CHUNK ? len - off : CHUNK;
        __memcpy(buf_a, a + start + off, count * sizeof(float), GDRAM2NRAM);
        __memcpy(buf_b, b + start + off, count * sizeof(float), GDRAM2NRAM);
        __bang_add(buf_a, buf_a, buf_b, (count + 63) / 64 * 64);
        __memcpy(c + start + off, buf_a, count * sizeof(float), NRAM2GDRAM);
    }
    __sync_cluster();
    if (coreId == 0 && clusterId == 0) {
        __nram__ half staging[64];
        __bang_write_zero(staging, 64);
    }
}
"""

CPP_KERNELS = r"""
#include <immintrin.h>
#include <omp.h>
#include <cstdint>
#include <cmath>

static inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

extern "C" void gemv_int8(const uint8_t* A, const int8_t* x, int32_t* y, int M, int K) {
#pragma omp parallel for schedule(static)
    for (int m = 0; m < M; ++m) {
        __m512i acc = _mm512_setzero_si512();
        int k = 0;
        for (; k + 64 <= K; k += 64) {
            __m512i a = _mm512_loadu_si512(A + (size_t)m * K + k);
            __m512i b = _mm512_loadu_si512(x + k);
            acc = _mm512_dpbusd_epi32(acc, a, b);
        }
        int32_t total = _mm512_reduce_add_epi32(acc);
        for (; k < K; ++k) total += (int32_t)A[(size_t)m * K + k] * x[k];
        y[m] = total;
    }
}

extern "C" void relu(const float* x, float* y, int n) {
    const __m512 zero = _mm512_setzero_ps();
    int i = 0;
    #pragma omp parallel for
    for (i = 0; i < n / 16 * 16; i += 16)
        _mm512_storeu_ps(y + i, _mm512_max_ps(_mm512_loadu_ps(x + i), zero));
    for (i = n / 16 * 16; i < n; ++i) y[i] = std::fmax(x[i], 0.0f);
    float s = hsum(zero);
    (void)s;
}
"""

CUDA_WMMA_TILES = r"""
#include <mma.h>
#include <cooperative_groups.h>
#include <cuda_fp16.h>
using namespace nvcuda;
namespace cg = cooperative_groups;

struct Acc { float v; __device__ Acc operator+(const Acc& o) const { return {v + o.v}; } };
__device__ float2 operator*(float2 a, float s) { return make_float2(a.x * s, a.y * s); }
__device__ int counter;

template <int TILE, bool SAFE>
__global__ void tile_kernel(const half* a, float* c, float2* v) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
    wmma::fill_fragment(fc, 0.0f);
    wmma::load_matrix_sync(fa, a, 16);
    for (int i = 0; i < fc.num_elements; i++) fc.x[i] *= 2.0f;
    wmma::store_matrix_sync(c, fc, 16, wmma::mem_row_major);
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
    float s = tile.shfl_down(1.0f, 1);
    block.sync();
    tile.sync();
    if constexpr (SAFE) {
        if (threadIdx.x < TILE) atomicAdd(&counter, 1);
    }
    v[0] = v[1] * 2.0f;
    Acc x{1.0f}, y{2.0f};
    c[1] = (x + y).v + __popc(__ballot_sync(0xffffffff, s > 0)) + __ldg(&c[3]) + __expf(s);
    half h = __float2half(s);
    c[3] = __half2float(h * h);
    float4 f4 = {1.0f, 2.0f, 3.0f, 4.0f};
    c[4] = f4.w;
}
template __global__ void tile_kernel<16, true>(const half*, float*, float2*);
"""

CPP_TEMPLATES = r"""
#include <vector>
typedef struct { int x; } Anon;
using real = float;
struct Twice { static float apply(float v) { return v + v; } };
template <int R, int C> struct Tiles { float x[R][C + 1]; };

template <class T, class Op, int N>
T reduce(const T* v) {
    Tiles<N, N> tiles;
    T acc = T(0), zero = T{};
    T direct(acc);
    float scratch[N][N + 1];
    for (int i = 0; i < N; ++i) {
        tiles.x[i][0] = Op::apply(v[i]);
        scratch[i][N] = tiles.x[i][0];
        acc += T(scratch[i][N]) + zero + direct;
    }
    return acc;
}

extern "C" void apply_all(float* x, int n) {
    std::vector<real> tmp(n, 0.0f);
    auto add = [&](int i) { return x[i] + tmp[i]; };
    for (float v : tmp) x[0] += v;
    Anon an;
    an.x = n;
    for (int i = 0, j = n - 1; i < j; i++, j--) x[i] = add(j) + reduce<float, Twice, 4>(x) + an.x;
}
"""

INLINE_KERNELS = {
    "cuda_helpers_macros": (CUDA_HELPERS_MACROS, "cuda"),
    "cuda_template_grid_stride": (CUDA_TEMPLATE_GRID_STRIDE, "cuda"),
    "cuda_shared_shuffle_cg": (CUDA_SHARED_SHUFFLE_CG, "cuda"),
    "cuda_control_flow": (CUDA_CONTROL_FLOW, "cuda"),
    "cuda_wmma_tiles": (CUDA_WMMA_TILES, "cuda"),
    "cpp_templates": (CPP_TEMPLATES, "cpp"),
    "hip_kernels": (HIP_KERNELS, "hip"),
    "bang_kernels": (BANG_KERNELS, "bang"),
    "cpp_kernels": (CPP_KERNELS, "cpp"),
}


def _roundtrip(source: str, dialect: str) -> tuple[Module, str, Module]:
    module = parse(source, dialect)
    printed = print_module(module)
    return module, printed, parse(printed, dialect)


@pytest.mark.parametrize("name", sorted(INLINE_KERNELS))
def test_inline_kernel_roundtrip(name: str) -> None:
    source, dialect = INLINE_KERNELS[name]
    module, printed, again = _roundtrip(source, dialect)
    assert again == module, printed
    assert print_module(again) == printed  # printing is a fixpoint


def _corpus_files() -> list[pathlib.Path]:
    return sorted(p for p in CORPUS.glob("*/*") if p.suffix in CORPUS_DIALECTS)


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_roundtrip(path: pathlib.Path) -> None:
    module, printed, again = _roundtrip(path.read_text(), CORPUS_DIALECTS[path.suffix])
    assert again == module, printed


def test_cuda_structure() -> None:
    module = parse(CUDA_TEMPLATE_GRID_STRIDE, "cuda")
    kernel = module.function("scale_kernel")
    assert FuncQual.global_ in kernel.qualifiers
    assert [p.name for p in kernel.template_params] == ["T", "UNROLL"]
    nodes = list(walk(kernel))
    assert BuiltinVar("blockIdx", "x") in nodes and BuiltinVar("gridDim", "x") in nodes
    inner = [n for n in nodes if isinstance(n, For) and n.kind == ForKind.unrolled]
    assert len(inner) == 1 and inner[0].pragmas == ("unroll",)
    launches = [n for n in walk(module.function("scale_twice")) if isinstance(n, KernelLaunch)]
    assert [launch.kernel for launch in launches] == ["scale_kernel", "add4"]
    assert launches[0].template_args == (ScalarType(DType.float32), Const(4, DType.int32))
    assert launches[1].config.shared is None and launches[1].config.stream is None
    add4 = module.function("add4")
    assert isinstance(add4.params[0].type, PointerType)
    assert add4.params[0].type.pointee == VectorType(DType.float32, 4, const=True)


def test_cuda_shared_and_barriers() -> None:
    module = parse(CUDA_SHARED_SHUFFLE_CG, "cuda")
    assert module.globals[0].scope == MemScope.constant
    kernel = module.function("weighted_row_sum")
    decls = {d.name: d for d in walk(kernel) if type(d).__name__ == "Decl"}
    assert decls["partial"].scope == MemScope.shared and decls["partial"].type.size is None
    assert decls["tile"].align == 16 and not decls["tile"].qualifiers
    barriers = [n for n in walk(kernel) if isinstance(n, Barrier)]
    assert [b.kind for b in barriers] == [BarrierKind.syncthreads, BarrierKind.syncthreads]
    shuffle = [n for n in walk(module) if isinstance(n, Call) and n.name == "__shfl_down_sync"]
    assert len(shuffle) == 1 and len(shuffle[0].args) == 3  # the default width argument is not materialised


def test_hip_launch_forms_agree() -> None:
    module = parse(HIP_KERNELS, "hip")
    launches = [n for n in walk(module.function("sum")) if isinstance(n, KernelLaunch)]
    assert launches[1].config == launches[2].config and launches[1].args == launches[2].args
    assert launches[0].template_args == (Const(4, DType.int32),)
    assert "hipLaunchKernelGGL(block_reduce, blocks, 256, 0, 0, dx, dp, n);" in print_module(module)


def test_bang_structure() -> None:
    module = parse(BANG_KERNELS, "bang")
    assert [g.scope for g in module.globals] == [MemScope.nram, MemScope.nram]
    kernel = module.function("add")
    assert FuncQual.mlu_global in kernel.qualifiers
    assert FuncQual.mlu_func in module.function("span").qualifiers
    nodes = list(walk(kernel))
    assert BuiltinVar("taskId") in nodes and BuiltinVar("taskDim") in nodes and BuiltinVar("coreId") in nodes
    scopes = {n.name: n.scope for n in nodes if type(n).__name__ == "Decl"}
    assert scopes["weights"] == MemScope.wram and scopes["staging"] == MemScope.nram
    assert Barrier(BarrierKind.sync_cluster) in nodes
    memcpys = [n for n in nodes if isinstance(n, Call) and n.name == "__memcpy"]
    assert len(memcpys) == 3 and memcpys[0].args[3].name == "GDRAM2NRAM"


def test_cpp_structure() -> None:
    module = parse(CPP_KERNELS, "cpp")
    gemv = module.function("gemv_int8")
    assert FuncQual.extern_c in gemv.qualifiers
    loops = [n for n in walk(gemv) if isinstance(n, For)]
    assert loops[0].kind == ForKind.parallel and loops[0].pragmas == ("omp parallel for schedule(static)",)
    assert loops[1].init == () and loops[1].kind == ForKind.serial
    assert any(isinstance(n, Call) and n.name == "_mm512_dpbusd_epi32" for n in walk(gemv))
    relu = module.function("relu")
    assert [loop.kind for loop in walk(relu) if isinstance(loop, For)] == [ForKind.parallel, ForKind.serial]
    assert any(isinstance(n, Call) and n.name == "std::fmax" for n in walk(relu))


def test_loop_pragmas_in_both_branches_of_an_if_stay_with_their_loops() -> None:
    """The else branch was parsed before the then branch and took the then branch's pragma (a versioned SIMD
    loop, as simdize prints it, came back with `#pragma omp simd` on a block)."""
    module = parse("""extern "C" void f(float* y, int n, int c) {
        if (c) {
            #pragma omp simd
            for (int i = 0; i < n; i++) y[i] = 1;
        } else {
            {
                #pragma omp simd
                for (int i = 0; i < n; i++) y[i] = 2;
            }
        }
    }""", "cpp")
    assert not [n for n in walk(module) if isinstance(n, Pragma)]
    assert [n.pragmas for n in walk(module) if isinstance(n, For)] == [("omp simd",), ("omp simd",)]


def test_capture_free_lambdas_become_helpers() -> None:
    """`auto f = [](...) {...};` using nothing of its function becomes helper `f` (return type deduced), placed
    before the function and qualified like it; a lambda that captures a local stays a declaration."""
    source = r"""
__global__ void k(float* y, int n, float bias) {
    auto twice = [](float v) { return 2.0f * v; };
    auto shifted = [&](float v) { return v + bias; };
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = shifted(twice(y[i]));
}
"""
    module = parse(source, "cuda")
    twice = module.function("twice")
    assert module.items.index(twice) < module.items.index(module.function("k"))
    assert twice.return_type == ScalarType(DType.float32) and [p.name for p in twice.params] == ["v"]
    assert FuncQual.device in twice.qualifiers and twice.body.body == (Return(BinOp("*", Const(2.0, DType.float32),
                                                                                    Var("v"))),)
    kept = [n.name for n in walk(module.function("k")) if isinstance(n, Decl)]
    assert kept == ["shifted", "i"]


def test_transform_rewrites_bottom_up() -> None:
    module = parse(CUDA_HELPERS_MACROS, "cuda")
    doubled = transform(module, lambda n: Const(n.value * 2, n.dtype)
                        if isinstance(n, Const) and n.dtype == DType.int32 and n.value == 256 else None)
    assert Const(512, DType.int32) in list(walk(doubled))
    assert Const(256, DType.int32) not in list(walk(doubled))
    assert module != doubled


def test_pragmas_attach_to_statements() -> None:
    source = r"""
extern "C" void f(float* x, int n) {
    float s = 0.0f;
#pragma omp parallel
    {
#pragma omp for reduction(+ : s)
        for (int i = 0; i < n; ++i) s += x[i];
#pragma omp barrier
    }
    x[0] = s;
}
"""
    body = parse(source, "cpp").function("f").body.body
    region = body[1]
    assert isinstance(region, Pragma) and region.text == "omp parallel"
    inner = region.body.body
    assert isinstance(inner[0], For) and inner[0].kind == ForKind.parallel
    assert inner[1] == Pragma("omp barrier")
    assert isinstance(body[2], Assign)


def test_cuda_unroll_pragmas_in_gcc_spelling() -> None:
    """g++ ignores `#pragma unroll`; it takes `GCC unroll N`, and no second pragma beside an OpenMP one."""
    source = r"""
extern "C" void k(float* x) {
#pragma unroll
    for (int i = 0; i < 4; ++i) x[i] += 1.0f;
#pragma unroll 2
    for (int i = 4; i < 8; ++i) x[i] += 1.0f;
}
"""
    module = parse(source, "cpp")
    printed = print_module(module, "cpp")
    assert "#pragma GCC unroll 16" in printed and "#pragma GCC unroll 2" in printed
    assert "#pragma unroll" not in printed
    first = module.function("k").body.body[0]
    simd = dataclasses.replace(first, pragmas=("unroll", "omp simd"))
    module = dataclasses.replace(module, items=tuple(
        dataclasses.replace(d, body=dataclasses.replace(d.body, body=(simd,))) if getattr(d, "name", "") == "k"
        else d for d in module.items))
    assert "unroll" not in print_module(module, "cpp")


def test_likely_branches_round_trip_and_survive_translation() -> None:
    """`if (c) [[likely]]` (how simdize prints its fast versions, and how people hint g++) parses to If.likely,
    prints back the same, and stays on a helper's branches in the translation."""
    source = r"""
__device__ float twice_if(float a, int k) {
    float v = a;
    if (k > 2) [[likely]] { return v * 2.0f; } else if (k > 1) [[likely]] { v = -v; }
    v = v + 1.0f;
    return v;
}
__global__ void k(const float* x, float* y, int n, int m) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = twice_if(x[i], m);
}
extern "C" void run(const float* x, float* y, int n, int m) { k<<<(n + 127) / 128, 128>>>(x, y, n, m); }
"""
    module = parse(source, "cuda")
    printed = print_module(module, "cuda")
    assert "if (k > 2) [[likely]] {" in printed and "} else if (k > 1) [[likely]] {" in printed
    assert print_module(parse(printed, "cuda"), "cuda") == printed
    likely = [n for n in walk(module.function("twice_if")) if getattr(n, "likely", False)]
    assert len(likely) == 2
    code = translate(source, "cpp", "cuda", native_compile=False).code
    assert code.count("[[likely]]") == 2


def test_parse_errors_are_coded() -> None:
    with pytest.raises(ParseError) as info:
        parse("__global__ void k(float* x) {\n  x[0] = undefined_thing + 1.0f;\n}\n", "cuda")
    diagnostic = info.value.diagnostics[0]
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("XP101", 2, 10)
    assert isinstance(info.value, XpilerError) and info.value.code == "XP101" and "xp_cuda.h" in diagnostic.hint
    with pytest.raises(ParseError) as info:
        parse("void f( {", "cpp")
    assert info.value.diagnostics and all(d.code.startswith("XP1") for d in info.value.diagnostics)
    with pytest.raises(ParseError) as info:
        parse('#include "my_private_header.h"\nvoid f() {}\n', "cpp")
    assert info.value.diagnostics[0].code == "XP103"


def test_print_error_for_inexpressible_dialect() -> None:
    with pytest.raises(PrintError):
        print_module(parse(BANG_KERNELS, "bang"), "cuda")


def _compile(tmp_path: pathlib.Path, command: list[str], suffix: str, sources: dict[str, str]) -> None:
    paths = []
    for name, text in sources.items():
        path = tmp_path / f"{name}{suffix}"
        path.write_text(text)
        paths.append(str(path))
    result = subprocess.run(command + paths, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed: cannot check printed C++ compiles")
def test_printed_cpp_compiles(tmp_path: pathlib.Path) -> None:
    sources = {name: print_module(parse(src, d)) for name, (src, d) in INLINE_KERNELS.items() if d == "cpp"}
    _compile(tmp_path, ["g++", "-c", "-O2", "-mavx512f", "-mavx512bw", "-mavx512vnni", "-fopenmp"], ".cpp",
             sources)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not installed: cannot check printed CUDA compiles")
def test_printed_cuda_compiles(tmp_path: pathlib.Path) -> None:
    sources = {name: print_module(parse(src, d)) for name, (src, d) in INLINE_KERNELS.items() if d == "cuda"}
    _compile(tmp_path, ["nvcc", "-c", "-arch=sm_80"], ".cu", sources)


def test_pragmas_before_the_includes_stay_first() -> None:
    """`#pragma GCC optimize(...)` must precede the headers to apply to their inline functions too (g++ does not
    inline across settings): a pragma above everything else is the module's preamble, printed first; one
    between definitions stays where it was."""
    source = """#pragma GCC optimize("no-trapping-math")
#include <cmath>
#pragma GCC target("prefer-vector-width=512")
extern "C" void scale(float* x, int n) {
    for (int i = 0; i < n; i++) x[i] = std::fabs(x[i]) * 2.0f;
}
"""
    module = parse(source, "cpp")
    assert module.preamble == ('#pragma GCC optimize("no-trapping-math")',)
    printed = print_module(module, "cpp")
    assert printed.startswith('#pragma GCC optimize("no-trapping-math")\n\n#include <cmath>\n')
    assert printed.index('#pragma GCC target') > printed.index("#include <cmath>")
    assert print_module(parse(printed, "cpp"), "cpp") == printed


def test_simdized_cpp_results_are_compiled_without_float_traps_first_in_the_file() -> None:
    """simdize's guarded SIMD loops vectorize on AVX2 only where g++ may run float operations on every lane."""
    block_kernel = (pathlib.Path(__file__).parent / "corpus" / "cuda" / "conv2d_nchw.cu").read_text()
    simdized = translate(block_kernel, "cpp", "cuda", native_compile=False)
    assert simdized.code.startswith('#pragma GCC optimize("no-trapping-math")\n')
    assert "speculated_float_arithmetic" in [p.name for p in simdized.passes]
    plain = translate(block_kernel, "cpp", "cuda", options=TranslateOptions(simdize=False), native_compile=False)
    assert "no-trapping-math" not in plain.code

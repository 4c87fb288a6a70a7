// CUDA C on the CPU executor: the CUDA runtime API, warp intrinsics (warp size 32), wmma and cooperative groups
// over the SIMT core. Force-included before the kernel source, so kernels work with or without their #includes.
#pragma once
#include "xp_gpu.h"

inline const int xp_cuda_warp_size_set = (xp::warp_size = 32);
constexpr int warpSize = 32;

XP_DEFINE_RUNTIME_API(cuda)

// ---- warp intrinsics ---------------------------------------------------------------------------------------
template <class T> inline T __shfl_sync(unsigned, T v, int src, int width = 32) { return xp::shfl(v, src, width); }
template <class T> inline T __shfl_up_sync(unsigned, T v, unsigned d, int width = 32) { return xp::shfl_up(v, d, width); }
template <class T> inline T __shfl_down_sync(unsigned, T v, unsigned d, int width = 32) { return xp::shfl_down(v, d, width); }
template <class T> inline T __shfl_xor_sync(unsigned, T v, int mask, int width = 32) { return xp::shfl_xor(v, mask, width); }
inline unsigned __ballot_sync(unsigned, int p) { return unsigned(xp::ballot(p != 0)); }
inline int __any_sync(unsigned, int p) { return xp::ballot(p != 0) != 0; }
inline int __all_sync(unsigned, int p) { return xp::vote_all(p != 0); }
inline unsigned __activemask() { return unsigned(xp::active_mask()); }
inline void __syncwarp(unsigned = 0xffffffffu) { xp::sync_warp(); }

// ---- wmma: each thread holds the whole tile, so element-wise fragment code gives the same answer ----------
namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
namespace precision {
struct tf32 {};
}
template <class Use, int M, int N, int K> struct shape;
template <int M, int N, int K> struct shape<matrix_a, M, N, K> { static constexpr int rows = M, cols = K; };
template <int M, int N, int K> struct shape<matrix_b, M, N, K> { static constexpr int rows = K, cols = N; };
template <int M, int N, int K> struct shape<accumulator, M, N, K> { static constexpr int rows = M, cols = N; };
template <class T> struct storage { using type = T; };
template <> struct storage<precision::tf32> { using type = float; };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    using element_type = typename storage<T>::type;
    static constexpr int rows = shape<Use, M, N, K>::rows, cols = shape<Use, M, N, K>::cols;
    static constexpr int num_elements = rows * cols;
    element_type x[num_elements];
};

template <class Frag, class P>
inline void load_tile(Frag& f, const P* p, unsigned ldm, bool col_major) {
    xp::sync_warp();
    for (int r = 0; r < Frag::rows; ++r)
        for (int c = 0; c < Frag::cols; ++c)
            f.x[r * Frag::cols + c] = typename Frag::element_type(col_major ? p[size_t(c) * ldm + r] : p[size_t(r) * ldm + c]);
}
template <class Use, int M, int N, int K, class T, class P>
inline void load_matrix_sync(fragment<Use, M, N, K, T, row_major>& f, const P* p, unsigned ldm) { load_tile(f, p, ldm, false); }
template <class Use, int M, int N, int K, class T, class P>
inline void load_matrix_sync(fragment<Use, M, N, K, T, col_major>& f, const P* p, unsigned ldm) { load_tile(f, p, ldm, true); }
template <int M, int N, int K, class T, class P>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const P* p, unsigned ldm, layout_t layout) {
    load_tile(f, p, ldm, layout == mem_col_major);
}
template <int M, int N, int K, class T, class P>
inline void store_matrix_sync(P* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
    xp::sync_warp();
    for (int r = 0; r < M; ++r)
        for (int c = 0; c < N; ++c) {
            const size_t at = layout == mem_col_major ? size_t(c) * ldm + r : size_t(r) * ldm + c;
            p[at] = P(f.x[r * N + c]);
        }
}
template <class Use, int M, int N, int K, class T, class L, class V>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, const V& v) {
    for (auto& e : f.x) e = typename fragment<Use, M, N, K, T, L>::element_type(v);
}
// D = A B + C with products and sums in fp32 (what the tensor cores do for fp16/bf16/tf32 inputs).
template <int M, int N, int K, class TA, class LA, class TB, class LB, class TC, class TD>
inline void mma_sync(fragment<accumulator, M, N, K, TD>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
                     const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, TC>& c, bool = false) {
    xp::sync_warp();
    float out[M * N];
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            float acc = float(c.x[i * N + j]);
            for (int k = 0; k < K; ++k) acc += float(a.x[i * K + k]) * float(b.x[k * N + j]);
            out[i * N + j] = acc;
        }
    for (int i = 0; i < M * N; ++i) d.x[i] = TD(out[i]);
}
inline float __float_to_tf32(float f) { return f; }
}  // namespace nvcuda::wmma

// ---- cooperative groups ------------------------------------------------------------------------------------
namespace cooperative_groups {
struct thread_block {
    void sync() const { __syncthreads(); }
    unsigned thread_rank() const { return xp::current->linear; }
    unsigned size() const { return blockDim.x * blockDim.y * blockDim.z; }
    unsigned num_threads() const { return size(); }
    dim3 group_index() const { return blockIdx; }
    dim3 thread_index() const { return threadIdx; }
    dim3 group_dim() const { return blockDim; }
    dim3 dim_threads() const { return blockDim; }
};
inline thread_block this_thread_block() { return {}; }

// A tile of Size consecutive threads inside one warp; Size 0 means "size known at run time".
template <unsigned Size = 0>
struct thread_block_tile {
    unsigned width = Size;
    void sync() const { xp::sync_warp(); }
    unsigned size() const { return width; }
    unsigned num_threads() const { return width; }
    unsigned thread_rank() const { return xp::current->linear % width; }
    unsigned meta_group_rank() const { return xp::current->linear / width; }
    unsigned meta_group_size() const { return (blockDim.x * blockDim.y * blockDim.z + width - 1) / width; }
    template <class T> T shfl(T v, int src) const { return xp::shfl(v, src, int(width)); }
    template <class T> T shfl_down(T v, unsigned d) const { return xp::shfl_down(v, d, int(width)); }
    template <class T> T shfl_up(T v, unsigned d) const { return xp::shfl_up(v, d, int(width)); }
    template <class T> T shfl_xor(T v, int m) const { return xp::shfl_xor(v, m, int(width)); }
    unsigned ballot(int p) const {
        const uint64_t bits = xp::ballot(p != 0);
        return unsigned((bits >> (xp::lane_id() / width * width)) & ((width >= 64) ? ~0ull : ((1ull << width) - 1)));
    }
    bool any(int p) const { return ballot(p) != 0; }
    bool all(int p) const { return __builtin_popcount(ballot(p)) == int(width); }
};
using thread_group = thread_block_tile<0>;
template <unsigned Size, class Parent>
inline thread_block_tile<Size> tiled_partition(const Parent&) {
    static_assert(Size >= 1 && Size <= 64 && (Size & (Size - 1)) == 0, "tile size must be a power of two <= warp size");
    return {};
}
template <class Parent>
inline thread_group tiled_partition(const Parent&, unsigned size) { return {size}; }
inline thread_block_tile<32> coalesced_threads() { return {}; }
template <class Group> inline void sync(const Group& g) { g.sync(); }

template <class T> struct plus { T operator()(T a, T b) const { return a + b; } };
template <class T> struct less { T operator()(T a, T b) const { return a < b ? a : b; } };
template <class T> struct greater { T operator()(T a, T b) const { return a > b ? a : b; } };
template <class T> struct bit_and { T operator()(T a, T b) const { return a & b; } };
template <class T> struct bit_or { T operator()(T a, T b) const { return a | b; } };
template <class T> struct bit_xor { T operator()(T a, T b) const { return a ^ b; } };
template <unsigned Size, class T, class Op>
inline T reduce(const thread_block_tile<Size>& tile, T v, Op op) {
    for (unsigned offset = 1; offset < tile.size(); offset <<= 1) v = op(v, tile.shfl_xor(v, int(offset)));
    return v;
}

struct grid_group {
    void sync() const { xp::fail("grid-wide synchronisation (this_grid().sync()) is not supported by the CPU executor"); }
    unsigned long long thread_rank() const {
        return (1ull * blockIdx.x + 1ull * gridDim.x * (blockIdx.y + 1ull * gridDim.y * blockIdx.z)) * (blockDim.x * blockDim.y * blockDim.z) + xp::current->linear;
    }
    unsigned long long size() const { return 1ull * gridDim.x * gridDim.y * gridDim.z * blockDim.x * blockDim.y * blockDim.z; }
};
inline grid_group this_grid() { return {}; }
}  // namespace cooperative_groups

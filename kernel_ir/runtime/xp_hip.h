// HIP on the CPU executor: the HIP runtime API, wavefront-64 intrinsics and the MFMA matrix builtins over the
// SIMT core. Force-included before the kernel source, so kernels work with or without their #includes.
#pragma once
#include "xp_gpu.h"

inline const int xp_hip_warp_size_set = (xp::warp_size = 64);
constexpr int warpSize = 64;

XP_DEFINE_RUNTIME_API(hip)

#define HIP_SYMBOL(symbol) symbol
#define HIP_KERNEL_NAME(...) __VA_ARGS__
#define HIP_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::xp::dynamic_shared);
#define hipLaunchKernelGGL(kernel, grid, block, shared_bytes, stream, ...) \
    ::xp::launch(dim3(grid), dim3(block), size_t(shared_bytes), [&]() { kernel(__VA_ARGS__); })
#define hipThreadIdx_x (threadIdx.x)
#define hipThreadIdx_y (threadIdx.y)
#define hipThreadIdx_z (threadIdx.z)
#define hipBlockIdx_x (blockIdx.x)
#define hipBlockIdx_y (blockIdx.y)
#define hipBlockIdx_z (blockIdx.z)
#define hipBlockDim_x (blockDim.x)
#define hipBlockDim_y (blockDim.y)
#define hipBlockDim_z (blockDim.z)
#define hipGridDim_x (gridDim.x)
#define hipGridDim_y (gridDim.y)
#define hipGridDim_z (gridDim.z)

// ---- wavefront intrinsics (HIP's spellings have no mask) -----------------------------------------------------
template <class T> inline T __shfl(T v, int src, int width = 64) { return xp::shfl(v, src, width); }
template <class T> inline T __shfl_up(T v, unsigned d, int width = 64) { return xp::shfl_up(v, d, width); }
template <class T> inline T __shfl_down(T v, unsigned d, int width = 64) { return xp::shfl_down(v, d, width); }
template <class T> inline T __shfl_xor(T v, int mask, int width = 64) { return xp::shfl_xor(v, mask, width); }
template <class M, class T> inline T __shfl_sync(M, T v, int src, int width = 64) { return xp::shfl(v, src, width); }
template <class M, class T> inline T __shfl_down_sync(M, T v, unsigned d, int width = 64) { return xp::shfl_down(v, d, width); }
template <class M, class T> inline T __shfl_xor_sync(M, T v, int mask, int width = 64) { return xp::shfl_xor(v, mask, width); }
inline unsigned long long __ballot(int p) { return xp::ballot(p != 0); }
inline int __any(int p) { return xp::ballot(p != 0) != 0; }
inline int __all(int p) { return xp::vote_all(p != 0); }
inline unsigned long long __activemask() { return xp::active_mask(); }
inline unsigned __lane_id() { return xp::lane_id(); }
inline void __syncwarp() { xp::sync_warp(); }
inline void __builtin_amdgcn_s_barrier() { xp::sync_block(); }
inline void __builtin_amdgcn_wave_barrier() { xp::sync_warp(); }
inline void __builtin_amdgcn_s_waitcnt(int) {}
inline void __builtin_amdgcn_sched_barrier(int) {}
template <class T> inline T __builtin_amdgcn_readfirstlane(T v) { return xp::shfl(v, 0, 64); }

// ---- MFMA: a wavefront-collective D = A B + C; each lane holds the operand fragments of AMD's documented ------
// register layout (CDNA matrix instruction calculator): for the 16x16 shapes lane l holds A row l%16 and B
// column l%16 at k-group l/16, and D rows 4*(l/16)+i, column l%16; for 32x32, A row l%32, B column l%32 at k-group
// l/32, and D row 8*(i/4) + 4*(l/32) + i%4, column l%32 in its register i.
namespace xp {
template <class V>
inline float element(const V& v, int i) {
    if constexpr (std::is_arithmetic_v<V> || std::is_same_v<V, __half>) {
        (void)i;
        return float(v);
    } else {
        return float(v[i]);
    }
}

// Rows x Rows output, reduction depth K, KPerLane k-values of A and B held by each lane.
template <int Rows, int K, int KPerLane, class AV, class BV, class CV>
inline CV mfma(const AV& a, const BV& b, const CV& c) {
    struct Operands {
        float a[KPerLane], b[KPerLane];
    } mine;
    static_assert(sizeof(Operands) <= sizeof(uint64_t) * kExchangeWords, "MFMA operands too large");
    for (int i = 0; i < KPerLane; ++i) {
        mine.a[i] = element(a, i);
        mine.b[i] = element(b, i);
    }
    require_thread("MFMA");
    if (warp_size != 64) fail("MFMA needs a wavefront of 64 lanes");
    Warp& w = my_warp();
    std::memcpy(&w.slots[size_t(lane_id()) * kExchangeWords], &mine, sizeof mine);
    arrive_and_wait(w.barrier);
    auto lane_operands = [&](int l) -> const Operands& {
        return *reinterpret_cast<const Operands*>(&w.slots[size_t(l) * kExchangeWords]);
    };
    const int lane = int(lane_id()), col = lane % Rows;
    CV d = c;
    for (int r = 0; r < Rows * Rows / 64; ++r) {
        const int row = Rows == 16 ? 4 * (lane / 16) + r : 8 * (r / 4) + 4 * (lane / 32) + r % 4;
        float acc = float(d[r]);
        for (int k = 0; k < K; ++k) {
            const int group = k / KPerLane, i = k % KPerLane;
            acc += lane_operands(row + group * Rows).a[i] * lane_operands(col + group * Rows).b[i];
        }
        d[r] = acc;
    }
    arrive_and_wait(w.barrier);
    return d;
}
}  // namespace xp

template <class A, class B, class C>
inline C __builtin_amdgcn_mfma_f32_16x16x4f32(A a, B b, C c, int, int, int) { return xp::mfma<16, 4, 1>(a, b, c); }
template <class A, class B, class C>
inline C __builtin_amdgcn_mfma_f32_16x16x16f16(A a, B b, C c, int, int, int) { return xp::mfma<16, 16, 4>(a, b, c); }
template <class A, class B, class C>
inline C __builtin_amdgcn_mfma_f32_32x32x2f32(A a, B b, C c, int, int, int) { return xp::mfma<32, 2, 1>(a, b, c); }
template <class A, class B, class C>
inline C __builtin_amdgcn_mfma_f32_32x32x8f16(A a, B b, C c, int, int, int) { return xp::mfma<32, 8, 4>(a, b, c); }

// Front-end declarations shared by CUDA and HIP: qualifiers, index variables, vector types, half, atomics,
// warp shuffles and device math. Qualifiers the AST would otherwise drop are kept as annotate attributes.
#pragma once

#define XP_HD __attribute__((host, device))
#define XP_D __attribute__((device))
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __host__ __attribute__((host))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __managed__ __attribute__((managed))
#define __forceinline__ __attribute__((annotate("xp_forceinline"))) inline
#define __noinline__ __attribute__((annotate("xp_noinline")))
#define __launch_bounds__(...) __attribute__((annotate("xp_launch_bounds(" #__VA_ARGS__ ")")))
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict
#define __device_builtin__

#include "xp_base.h"

#define XP_VEC(T, N) \
    struct N##1 { T x; }; struct N##2 { T x, y; }; struct N##3 { T x, y, z; }; struct N##4 { T x, y, z, w; }; \
    XP_HD N##1 make_##N##1(T); XP_HD N##2 make_##N##2(T, T); XP_HD N##3 make_##N##3(T, T, T); \
    XP_HD N##4 make_##N##4(T, T, T, T);
XP_VEC(float, float) XP_VEC(double, double) XP_VEC(int, int) XP_VEC(unsigned int, uint) XP_VEC(short, short)
XP_VEC(unsigned short, ushort) XP_VEC(signed char, char) XP_VEC(unsigned char, uchar) XP_VEC(long long, longlong)
XP_VEC(unsigned long long, ulonglong) XP_VEC(long, long) XP_VEC(unsigned long, ulong)
struct dim3 {
    unsigned int x, y, z;
    XP_HD constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    XP_HD constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
extern const XP_D uint3 threadIdx;
extern const XP_D uint3 blockIdx;
extern const XP_D dim3 blockDim;
extern const XP_D dim3 gridDim;

typedef _Float16 __half;
typedef __half half;
typedef __bf16 __nv_bfloat16;
typedef __nv_bfloat16 nv_bfloat16;
struct __half2 { __half x, y; };
typedef __half2 half2;
struct __nv_bfloat162 { __nv_bfloat16 x, y; };
typedef __nv_bfloat162 nv_bfloat162;


XP_D void __syncthreads();
XP_D int __syncthreads_count(int);
XP_D int __syncthreads_and(int);
XP_D int __syncthreads_or(int);
XP_D void __syncwarp(unsigned int mask = 0xffffffffu);
XP_D void __threadfence();
XP_D void __threadfence_block();
XP_D void __threadfence_system();
XP_D unsigned int __activemask();
XP_D unsigned int __ballot_sync(unsigned int, int);
XP_D int __any_sync(unsigned int, int);
XP_D int __all_sync(unsigned int, int);
template <class T> XP_D T __shfl_sync(unsigned int, T, int, int width = 32);
template <class T> XP_D T __shfl_up_sync(unsigned int, T, unsigned int, int width = 32);
template <class T> XP_D T __shfl_down_sync(unsigned int, T, unsigned int, int width = 32);
template <class T> XP_D T __shfl_xor_sync(unsigned int, T, int, int width = 32);
template <class T> XP_D T __reduce_add_sync(unsigned int, T);
template <class T> XP_D T __reduce_max_sync(unsigned int, T);
template <class T> XP_D T __reduce_min_sync(unsigned int, T);
template <class T> XP_D T __ldg(const T*);
template <class T> XP_D T __ldcg(const T*);
template <class T> XP_D T __ldcs(const T*);
template <class T> XP_D void __stcs(T*, T);
template <class T> XP_D void __stcg(T*, T);
XP_D long long clock64();

#define XP_ATOMIC(name, T) XP_D T name(T*, T);
#define XP_ATOMIC_ALL(name) XP_ATOMIC(name, int) XP_ATOMIC(name, unsigned int) \
    XP_ATOMIC(name, unsigned long long) XP_ATOMIC(name, long long) XP_ATOMIC(name, float) XP_ATOMIC(name, double)
XP_ATOMIC_ALL(atomicAdd) XP_ATOMIC_ALL(atomicSub) XP_ATOMIC_ALL(atomicMax) XP_ATOMIC_ALL(atomicMin)
XP_ATOMIC_ALL(atomicExch) XP_ATOMIC_ALL(atomicAnd) XP_ATOMIC_ALL(atomicOr) XP_ATOMIC_ALL(atomicXor)
XP_ATOMIC(atomicAdd, __half) XP_ATOMIC(atomicAdd, __half2)
XP_ATOMIC(atomicInc, unsigned int) XP_ATOMIC(atomicDec, unsigned int)
XP_ATOMIC_ALL(atomicAdd_block) XP_ATOMIC_ALL(atomicAdd_system)
XP_D int atomicCAS(int*, int, int);
XP_D unsigned int atomicCAS(unsigned int*, unsigned int, unsigned int);
XP_D unsigned long long atomicCAS(unsigned long long*, unsigned long long, unsigned long long);
XP_D unsigned short atomicCAS(unsigned short*, unsigned short, unsigned short);

// device math beyond <cmath>
XP_HD float rsqrtf(float); XP_HD double rsqrt(double); XP_HD float rsqrt(float);
XP_HD float rcbrtf(float); XP_HD float exp10f(float); XP_HD double exp10(double); XP_HD float erfinvf(float);
XP_HD float fdividef(float, float); XP_HD float normcdff(float); XP_HD float saturatef(float);
XP_HD void sincosf(float, float*, float*); XP_HD void sincospif(float, float*, float*);
XP_HD float sinpif(float); XP_HD float cospif(float);
XP_HD int min(int, int); XP_HD unsigned int min(unsigned int, unsigned int); XP_HD long long min(long long, long long);
XP_HD unsigned long long min(unsigned long long, unsigned long long); XP_HD float min(float, float);
XP_HD double min(double, double); XP_HD long min(long, long); XP_HD unsigned long min(unsigned long, unsigned long);
XP_HD int max(int, int); XP_HD unsigned int max(unsigned int, unsigned int); XP_HD long long max(long long, long long);
XP_HD unsigned long long max(unsigned long long, unsigned long long); XP_HD float max(float, float);
XP_HD double max(double, double); XP_HD long max(long, long); XP_HD unsigned long max(unsigned long, unsigned long);
XP_HD unsigned int umin(unsigned int, unsigned int); XP_HD unsigned int umax(unsigned int, unsigned int);
XP_D float __expf(float); XP_D float __exp10f(float); XP_D float __logf(float); XP_D float __log2f(float);
XP_D float __log10f(float); XP_D float __powf(float, float); XP_D float __sinf(float); XP_D float __cosf(float);
XP_D float __tanf(float); XP_D void __sincosf(float, float*, float*); XP_D float __fdividef(float, float);
XP_D float __saturatef(float); XP_D float __frcp_rn(float); XP_D float __fsqrt_rn(float); XP_D float __frsqrt_rn(float);
XP_D float __fmaf_rn(float, float, float); XP_D float __fmaf_rz(float, float, float); XP_D float __fadd_rn(float, float);
XP_D float __fsub_rn(float, float); XP_D float __fmul_rn(float, float); XP_D float __fdiv_rn(float, float);
XP_D float __fadd_rz(float, float); XP_D float __fmul_rz(float, float); XP_D double __dadd_rn(double, double);
XP_D double __fma_rn(double, double, double);
XP_HD int __float_as_int(float); XP_HD float __int_as_float(int); XP_HD unsigned int __float_as_uint(float);
XP_HD float __uint_as_float(unsigned int); XP_HD long long __double_as_longlong(double);
XP_HD double __longlong_as_double(long long);
XP_D int __float2int_rn(float); XP_D int __float2int_rz(float); XP_D int __float2int_rd(float);
XP_D int __float2int_ru(float); XP_D unsigned int __float2uint_rn(float); XP_D unsigned int __float2uint_rz(float);
XP_D float __int2float_rn(int); XP_D float __int2float_rz(int); XP_D float __uint2float_rn(unsigned int);
XP_D long long __float2ll_rn(float); XP_D float __ll2float_rn(long long); XP_D int __double2int_rn(double);
XP_D float __double2float_rn(double);
XP_D int __popc(unsigned int); XP_D int __popcll(unsigned long long); XP_D int __clz(int); XP_D int __clzll(long long);
XP_D int __ffs(int); XP_D int __ffsll(long long); XP_D unsigned int __brev(unsigned int);
XP_D int __mul24(int, int); XP_D unsigned int __umul24(unsigned int, unsigned int); XP_D int __mulhi(int, int);
XP_D unsigned int __umulhi(unsigned int, unsigned int); XP_D int __dp4a(int, int, int);
XP_D unsigned int __dp4a(unsigned int, unsigned int, unsigned int); XP_D int __dp2a_lo(int, int, int);
XP_D unsigned int __byte_perm(unsigned int, unsigned int, unsigned int);
XP_D unsigned int __funnelshift_l(unsigned int, unsigned int, unsigned int);
XP_D unsigned int __funnelshift_r(unsigned int, unsigned int, unsigned int);
XP_D unsigned int __vabsdiffu4(unsigned int, unsigned int); XP_D int __sad(int, int, unsigned int);

// half / bfloat16
XP_HD __half __float2half(float); XP_HD __half __float2half_rn(float); XP_HD __half __float2half_rz(float);
XP_HD float __half2float(__half); XP_HD __half __int2half_rn(int); XP_HD int __half2int_rn(__half);
XP_HD int __half2int_rz(__half); XP_HD __half __double2half(double); XP_HD unsigned short __half_as_ushort(__half);
XP_HD __half __ushort_as_half(unsigned short); XP_HD short __half_as_short(__half); XP_HD __half __short_as_half(short);
XP_HD __half __hadd(__half, __half); XP_HD __half __hsub(__half, __half); XP_HD __half __hmul(__half, __half);
XP_HD __half __hdiv(__half, __half); XP_HD __half __hfma(__half, __half, __half); XP_HD __half __hneg(__half);
XP_HD __half __habs(__half); XP_HD __half __hmax(__half, __half); XP_HD __half __hmin(__half, __half);
XP_HD bool __heq(__half, __half); XP_HD bool __hne(__half, __half); XP_HD bool __hlt(__half, __half);
XP_HD bool __hle(__half, __half); XP_HD bool __hgt(__half, __half); XP_HD bool __hge(__half, __half);
XP_HD bool __hisnan(__half); XP_HD bool __hisinf(__half);
XP_D __half hexp(__half); XP_D __half hexp2(__half); XP_D __half hlog(__half); XP_D __half hlog2(__half);
XP_D __half hsqrt(__half); XP_D __half hrsqrt(__half); XP_D __half hrcp(__half); XP_D __half hsin(__half);
XP_D __half hcos(__half); XP_D __half htanh(__half); XP_D __half hfloor(__half); XP_D __half hceil(__half);
XP_HD __half2 __hadd2(__half2, __half2); XP_HD __half2 __hsub2(__half2, __half2); XP_HD __half2 __hmul2(__half2, __half2);
XP_HD __half2 __h2div(__half2, __half2); XP_HD __half2 __hfma2(__half2, __half2, __half2);
XP_HD __half2 __hmax2(__half2, __half2); XP_HD __half2 __hmin2(__half2, __half2); XP_HD __half2 __hneg2(__half2);
XP_HD __half2 __floats2half2_rn(float, float); XP_HD __half2 __float2half2_rn(float);
XP_HD __half2 __float22half2_rn(float2); XP_HD float2 __half22float2(__half2); XP_HD float __low2float(__half2);
XP_HD float __high2float(__half2); XP_HD __half __low2half(__half2); XP_HD __half __high2half(__half2);
XP_HD __half2 __halves2half2(__half, __half); XP_HD __half2 __half2half2(__half); XP_HD __half2 make_half2(__half, __half);
XP_HD __half2 __lows2half2(__half2, __half2); XP_HD __half2 __highs2half2(__half2, __half2);
XP_D __half2 h2exp(__half2); XP_D __half2 h2sqrt(__half2); XP_D __half2 h2rcp(__half2);
XP_HD __nv_bfloat16 __float2bfloat16(float); XP_HD __nv_bfloat16 __float2bfloat16_rn(float);
XP_HD float __bfloat162float(__nv_bfloat16); XP_HD __nv_bfloat162 __floats2bfloat162_rn(float, float);
XP_HD float2 __bfloat1622float2(__nv_bfloat162);
XP_HD __nv_bfloat16 __hadd(__nv_bfloat16, __nv_bfloat16); XP_HD __nv_bfloat16 __hmul(__nv_bfloat16, __nv_bfloat16);
XP_HD __nv_bfloat16 __hfma(__nv_bfloat16, __nv_bfloat16, __nv_bfloat16);
XP_HD __nv_bfloat16 __hmax(__nv_bfloat16, __nv_bfloat16);

namespace cooperative_groups {
struct thread_group {
    XP_D void sync() const; XP_D unsigned long long size() const; XP_D unsigned long long thread_rank() const;
    XP_D unsigned int num_threads() const;
};
struct thread_block : thread_group {
    XP_D dim3 group_index() const; XP_D dim3 thread_index() const; XP_D dim3 group_dim() const;
    XP_D dim3 dim_threads() const;
};
struct grid_group : thread_group { XP_D bool is_valid() const; XP_D unsigned long long num_blocks() const;
    XP_D unsigned long long block_rank() const; };
struct coalesced_group : thread_group {
    template <class T> XP_D T shfl(T, int) const; template <class T> XP_D T shfl_down(T, unsigned int) const;
    template <class T> XP_D T shfl_up(T, unsigned int) const; template <class T> XP_D T shfl_xor(T, unsigned int) const;
};
template <unsigned int N> struct thread_block_tile : thread_group {
    template <class T> XP_D T shfl(T, int) const; template <class T> XP_D T shfl_down(T, unsigned int) const;
    template <class T> XP_D T shfl_up(T, unsigned int) const; template <class T> XP_D T shfl_xor(T, unsigned int) const;
    XP_D unsigned long long meta_group_rank() const; XP_D unsigned long long meta_group_size() const;
    XP_D unsigned int ballot(int) const; XP_D int any(int) const; XP_D int all(int) const;
};
XP_D thread_block this_thread_block();
XP_D grid_group this_grid();
XP_D coalesced_group coalesced_threads();
template <unsigned int N, class G> XP_D thread_block_tile<N> tiled_partition(const G&);
XP_D thread_group tiled_partition(const thread_group&, unsigned int);
template <class G> XP_D void sync(const G&);
template <class T> struct plus { XP_D T operator()(const T&, const T&) const; };
template <class T> struct greater { XP_D T operator()(const T&, const T&) const; };
template <class T> struct less { XP_D T operator()(const T&, const T&) const; };
template <class G, class T, class Op> XP_D T reduce(const G&, T, Op);
template <class G, class T, class Op> XP_D T inclusive_scan(const G&, T, Op);
}  // namespace cooperative_groups

// Front-end declarations for Cambricon BANG C sources. Memory-space and function qualifiers become annotate
// attributes so they survive into the AST; __bang_* vector intrinsics are declared variadic (the parser
// declares any further __bang_* name a source uses the same way).
#pragma once

#define XP_HD
#define __mlu_global__ __attribute__((annotate("xp_mlu_global")))
#define __mlu_entry__ __attribute__((annotate("xp_mlu_global")))
#define __mlu_func__ __attribute__((annotate("xp_mlu_func")))
#define __mlu_device__ __attribute__((annotate("xp_mlu_device")))
#define __mlu_host__
#define __nram__ __attribute__((annotate("xp_nram")))
#define __wram__ __attribute__((annotate("xp_wram")))
#define __ldram__ __attribute__((annotate("xp_ldram")))
#define __mlu_shared__ __attribute__((annotate("xp_mlu_shared")))
#define __mlu_const__ __attribute__((annotate("xp_constant")))
#define __restrict__ __restrict
#define __BANG__ 1
#define __BANG_ARCH__ 592
#define __MLU_NRAM_SIZE__ 512
#define __MLU_WRAM_SIZE__ 512
#define __MLU_SRAM_SIZE__ 2048

#include "xp_base.h"

typedef _Float16 half;
typedef __bf16 bfloat16_t;

extern const int taskId, taskIdX, taskIdY, taskIdZ;
extern const int taskDim, taskDimX, taskDimY, taskDimZ;
extern const int coreId, coreDim, clusterId, clusterDim;

enum mluMemcpyDirection_t {
    GDRAM2NRAM, NRAM2GDRAM, NRAM2NRAM, GDRAM2WRAM, NRAM2WRAM, WRAM2NRAM, GDRAM2SRAM, SRAM2GDRAM, SRAM2NRAM,
    NRAM2SRAM, SRAM2WRAM, SRAM2SRAM, GDRAM2GDRAM, LDRAM2NRAM, NRAM2LDRAM, LDRAM2GDRAM, GDRAM2LDRAM
};

void __memcpy(void* dst, const void* src, int bytes, mluMemcpyDirection_t dir);
void __memcpy(void* dst, const void* src, int bytes, mluMemcpyDirection_t dir, int dst_stride, int src_stride,
              int segments);
void __memcpy_async(void* dst, const void* src, int bytes, mluMemcpyDirection_t dir);
void __memcpy_async(void* dst, const void* src, int bytes, mluMemcpyDirection_t dir, int dst_stride,
                    int src_stride, int segments);
template <class T> void __memset_nram(T* dst, int count, T value);
template <class T, class V> void __memset_nram(T* dst, int count, V value);
void __sync_all();
void __sync_all_ipu();
void __sync_cluster();
void __sync_compute();
void __sync_io();
void __sync_io_move_compute();
void __sync();

half __float2half(float);
half __float2half_rn(float);
float __half2float(half);
float __bfloat162float(bfloat16_t);
bfloat16_t __float2bfloat16(float);
int __float2int(float);

#define XP_BANG(name) template <class... A> void name(A...);
XP_BANG(__bang_add) XP_BANG(__bang_sub) XP_BANG(__bang_mul) XP_BANG(__bang_div) XP_BANG(__bang_add_scalar)
XP_BANG(__bang_sub_scalar) XP_BANG(__bang_mul_scalar) XP_BANG(__bang_div_scalar) XP_BANG(__bang_maximum)
XP_BANG(__bang_minimum) XP_BANG(__bang_maxequal) XP_BANG(__bang_minequal) XP_BANG(__bang_max) XP_BANG(__bang_min)
XP_BANG(__bang_argmax) XP_BANG(__bang_argmin) XP_BANG(__bang_write_value) XP_BANG(__bang_write_zero)
XP_BANG(__bang_sumpool) XP_BANG(__bang_maxpool) XP_BANG(__bang_minpool) XP_BANG(__bang_avgpool)
XP_BANG(__bang_reduce_sum) XP_BANG(__bang_reduce_max) XP_BANG(__bang_reduce_min) XP_BANG(__bang_sum)
XP_BANG(__bang_matmul) XP_BANG(__bang_conv) XP_BANG(__bang_mlp) XP_BANG(__bang_transpose)
XP_BANG(__bang_cycle_add) XP_BANG(__bang_cycle_sub) XP_BANG(__bang_cycle_mul) XP_BANG(__bang_cycle_maxequal)
XP_BANG(__bang_cycle_minequal) XP_BANG(__bang_active_relu) XP_BANG(__bang_active_sigmoid)
XP_BANG(__bang_active_exp) XP_BANG(__bang_active_exphp) XP_BANG(__bang_active_gelu) XP_BANG(__bang_active_gelup)
XP_BANG(__bang_active_tanh) XP_BANG(__bang_active_recip) XP_BANG(__bang_active_rsqrt) XP_BANG(__bang_active_sqrt)
XP_BANG(__bang_active_sign) XP_BANG(__bang_active_abs) XP_BANG(__bang_active_log) XP_BANG(__bang_active_sin)
XP_BANG(__bang_active_cos) XP_BANG(__bang_sqrt) XP_BANG(__bang_rsqrt) XP_BANG(__bang_recip) XP_BANG(__bang_exp)
XP_BANG(__bang_log) XP_BANG(__bang_sin) XP_BANG(__bang_cos) XP_BANG(__bang_abs) XP_BANG(__bang_square)
XP_BANG(__bang_pow) XP_BANG(__bang_relu) XP_BANG(__bang_lt) XP_BANG(__bang_le) XP_BANG(__bang_gt) XP_BANG(__bang_ge)
XP_BANG(__bang_eq) XP_BANG(__bang_ne) XP_BANG(__bang_lt_scalar) XP_BANG(__bang_le_scalar) XP_BANG(__bang_gt_scalar)
XP_BANG(__bang_ge_scalar) XP_BANG(__bang_eq_scalar) XP_BANG(__bang_ne_scalar) XP_BANG(__bang_select)
XP_BANG(__bang_band) XP_BANG(__bang_bor) XP_BANG(__bang_bxor) XP_BANG(__bang_bnot) XP_BANG(__bang_and)
XP_BANG(__bang_or) XP_BANG(__bang_not) XP_BANG(__bang_float2half_rn) XP_BANG(__bang_half2float)
XP_BANG(__bang_float2int32) XP_BANG(__bang_int322float) XP_BANG(__bang_int82float) XP_BANG(__bang_uchar2float)
XP_BANG(__bang_float2int8) XP_BANG(__bang_float2uchar) XP_BANG(__bang_int162float) XP_BANG(__bang_float2int16)
XP_BANG(__bang_half2int8) XP_BANG(__bang_int82half) XP_BANG(__bang_fusion) XP_BANG(__bang_printf)

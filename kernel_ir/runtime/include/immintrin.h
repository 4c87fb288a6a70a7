// <immintrin.h> for the CPU executor: the x86 SIMD intrinsics (SSE to AVX-512 F/BW/DQ/VL, VNNI, AVX-VNNI, FMA,
// F16C, BF16) as portable scalar C++ with the documented lane semantics, so kernels of the cpp dialect run
// bit-for-bit like their native build on any x86-64 machine, with or without AVX-512. Two documented exceptions:
// rcp14/rsqrt14 (and SSE rcp/rsqrt) return the exact value the hardware approximates to 2^-14 (1.5 * 2^-12), and
// where several NaNs meet in one addition the one returned may differ (the compiler orders those operands).
// This directory is first on the include path, so this file replaces the compiler's header; the SSE-level
// headers (xmmintrin.h, emmintrin.h, ...) and x86intrin.h here all include it.
#pragma once
#pragma GCC diagnostic ignored "-Wpsabi"  // 32/64-byte vectors by value without AVX: one TU, no ABI boundary

#include "xp_intrin_base.h"
#include "xp_intrin_float.h"
#include "xp_intrin_int.h"
#include "xp_intrin_memory.h"
#include "xp_intrin_shuffle.h"
#include "xp_intrin_convert.h"
#include "xp_intrin_misc.h"

// The tables and definition macros are internal: leave the kernel's macro namespace clean.
#undef XP_X86_FLOAT_VECTORS
#undef XP_X86_INT_VECTORS
#undef XP_X86_SIGNED_LANES
#undef XP_X86_UNSIGNED_LANES
#undef XP_X86_MASKABLE_1
#undef XP_X86_MASKABLE_2
#undef XP_X86_MASKABLE_3
#undef XP_X86_MASKABLE_IMM

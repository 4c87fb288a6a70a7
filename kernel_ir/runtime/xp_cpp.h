// C++ with x86 SIMD intrinsics and OpenMP (the cpp dialect) on the CPU executor: force-included before the kernel,
// so kernels work with or without their own #includes.
//
// The emulated target is an AVX-512 machine (F, BW, DQ, VL, VNNI, BF16) with AVX-VNNI, AVX2, FMA and F16C: its
// feature macros are defined here, before any header is read, so a kernel that tests them (#ifdef __AVX512F__)
// takes the same path as its native -march=native build on such a CPU, whatever this machine supports. The
// intrinsics themselves come from include/immintrin.h, a portable emulation, and not from the compiler.
#pragma once

#ifndef __SSE3__
#define __SSE3__ 1
#endif
#ifndef __SSSE3__
#define __SSSE3__ 1
#endif
#ifndef __SSE4_1__
#define __SSE4_1__ 1
#endif
#ifndef __SSE4_2__
#define __SSE4_2__ 1
#endif
#ifndef __POPCNT__
#define __POPCNT__ 1
#endif
#ifndef __LZCNT__
#define __LZCNT__ 1
#endif
#ifndef __AVX__
#define __AVX__ 1
#endif
#ifndef __AVX2__
#define __AVX2__ 1
#endif
#ifndef __FMA__
#define __FMA__ 1
#endif
#ifndef __F16C__
#define __F16C__ 1
#endif
#ifndef __AVX512F__
#define __AVX512F__ 1
#endif
#ifndef __AVX512BW__
#define __AVX512BW__ 1
#endif
#ifndef __AVX512DQ__
#define __AVX512DQ__ 1
#endif
#ifndef __AVX512VL__
#define __AVX512VL__ 1
#endif
#ifndef __AVX512VNNI__
#define __AVX512VNNI__ 1
#endif
#ifndef __AVX512BF16__
#define __AVX512BF16__ 1
#endif
#ifndef __AVXVNNI__
#define __AVXVNNI__ 1
#endif

// Not <cmath>: like the real <immintrin.h>, this must not declare sin, exp, ... which kernels may use as names.
#include <immintrin.h>
#include <omp.h>

#include <cstddef>
#include <cstdint>

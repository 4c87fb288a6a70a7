// Portable x86 intrinsics, part 7: mask-register operations, scalar bit counting, and the intrinsics without a
// result the emulation can observe (prefetch, fences, pause, zeroupper).
#pragma once
#pragma GCC system_header
#include "xp_intrin_shuffle.h"

// ---- mask registers ------------------------------------------------------------------------------------------------
#define XP_X86_MASK_OPS(N, M)                                                                       \
    inline M _cvtu32_mask##N(unsigned int x) { return M(x); }                                       \
    inline unsigned int _cvtmask##N##_u32(M k) { return k; }                                        \
    inline M _load_mask##N(const M* p) { return *p; }                                               \
    inline void _store_mask##N(M* p, M k) { *p = k; }                                               \
    inline M _kand_mask##N(M a, M b) { return M(a & b); }                                           \
    inline M _kandn_mask##N(M a, M b) { return M(~a & b); }                                         \
    inline M _kor_mask##N(M a, M b) { return M(a | b); }                                            \
    inline M _kxor_mask##N(M a, M b) { return M(a ^ b); }                                           \
    inline M _kxnor_mask##N(M a, M b) { return M(~(a ^ b)); }                                       \
    inline M _knot_mask##N(M a) { return M(~a); }                                                   \
    inline M _kadd_mask##N(M a, M b) { return M(a + b); }                                           \
    inline M _kshiftli_mask##N(M a, unsigned int n) { return n >= N ? M(0) : M(uint64_t(a) << n); } \
    inline M _kshiftri_mask##N(M a, unsigned int n) { return n >= N ? M(0) : M(uint64_t(a) >> n); } \
    inline unsigned char _kortestz_mask##N##_u8(M a, M b) { return M(a | b) == 0; }                 \
    inline unsigned char _kortestc_mask##N##_u8(M a, M b) { return M(a | b) == M(~M(0)); }          \
    inline unsigned char _ktestz_mask##N##_u8(M a, M b) { return M(a & b) == 0; }                   \
    inline unsigned char _ktestc_mask##N##_u8(M a, M b) { return M(~a & b) == 0; }
XP_X86_MASK_OPS(8, __mmask8)
XP_X86_MASK_OPS(16, __mmask16)
XP_X86_MASK_OPS(32, __mmask32)
XP_X86_MASK_OPS(64, __mmask64)
#undef XP_X86_MASK_OPS
inline __mmask64 _cvtu64_mask64(unsigned long long x) { return x; }
inline unsigned long long _cvtmask64_u64(__mmask64 k) { return k; }
inline __mmask16 _mm512_int2mask(int x) { return __mmask16(x); }
inline int _mm512_mask2int(__mmask16 k) { return k; }
inline __mmask16 _mm512_kand(__mmask16 a, __mmask16 b) { return _kand_mask16(a, b); }
inline __mmask16 _mm512_kandn(__mmask16 a, __mmask16 b) { return _kandn_mask16(a, b); }
inline __mmask16 _mm512_kor(__mmask16 a, __mmask16 b) { return _kor_mask16(a, b); }
inline __mmask16 _mm512_kxor(__mmask16 a, __mmask16 b) { return _kxor_mask16(a, b); }
inline __mmask16 _mm512_kxnor(__mmask16 a, __mmask16 b) { return _kxnor_mask16(a, b); }
inline __mmask16 _mm512_knot(__mmask16 a) { return _knot_mask16(a); }
inline __mmask16 _mm512_kmov(__mmask16 a) { return a; }
inline int _mm512_kortestz(__mmask16 a, __mmask16 b) { return _kortestz_mask16_u8(a, b); }
inline int _mm512_kortestc(__mmask16 a, __mmask16 b) { return _kortestc_mask16_u8(a, b); }
inline __mmask16 _mm512_kunpackb(__mmask16 high, __mmask16 low) {
    return __mmask16(((high & 0xFF) << 8) | (low & 0xFF));
}

// ---- scalar bit operations (exact for every input, including 0) ----------------------------------------------------
inline int _mm_popcnt_u32(unsigned int x) { return std::popcount(x); }
inline long long _mm_popcnt_u64(unsigned long long x) { return std::popcount(x); }
inline int _popcnt32(int x) { return std::popcount(unsigned(x)); }
inline int _popcnt64(long long x) { return std::popcount((unsigned long long)x); }
inline unsigned int _tzcnt_u32(unsigned int x) { return std::countr_zero(x); }
inline unsigned long long _tzcnt_u64(unsigned long long x) { return std::countr_zero(x); }
inline unsigned int _lzcnt_u32(unsigned int x) { return std::countl_zero(x); }
inline unsigned long long _lzcnt_u64(unsigned long long x) { return std::countl_zero(x); }
inline unsigned int _bzhi_u32(unsigned int x, unsigned int n) { n &= 0xFF; return n >= 32 ? x : x & ((1u << n) - 1u); }
inline unsigned long long _bzhi_u64(unsigned long long x, unsigned int n) {
    n &= 0xFF;
    return n >= 64 ? x : x & ((1ull << n) - 1ull);
}
inline unsigned int _blsr_u32(unsigned int x) { return x & (x - 1u); }
inline unsigned long long _blsr_u64(unsigned long long x) { return x & (x - 1ull); }
inline int _bit_scan_forward(int x) { return std::countr_zero(unsigned(x)); }
inline int _bit_scan_reverse(int x) { return 31 - std::countl_zero(unsigned(x)); }

// ---- no observable effect in the emulation ------------------------------------------------------------------------
inline void _mm_prefetch(const void*, int) {}
inline void _mm_sfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void _mm_lfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void _mm_mfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void _mm_pause() {}
inline void _mm256_zeroupper() {}
inline void _mm256_zeroall() {}
inline void _mm_clflush(const void*) {}

// Transpose the 4x4 matrix held in four __m128 rows, in place.
#define _MM_TRANSPOSE4_PS(row0, row1, row2, row3)             \
    do {                                                      \
        const __m128 xp_t0 = _mm_unpacklo_ps((row0), (row1)); \
        const __m128 xp_t1 = _mm_unpacklo_ps((row2), (row3)); \
        const __m128 xp_t2 = _mm_unpackhi_ps((row0), (row1)); \
        const __m128 xp_t3 = _mm_unpackhi_ps((row2), (row3)); \
        (row0) = _mm_movelh_ps(xp_t0, xp_t1);                 \
        (row1) = _mm_movehl_ps(xp_t1, xp_t0);                 \
        (row2) = _mm_movelh_ps(xp_t2, xp_t3);                 \
        (row3) = _mm_movehl_ps(xp_t3, xp_t2);                 \
    } while (0)

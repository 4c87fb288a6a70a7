// Front-end declarations for C++ sources with AVX-512 / AVX2 / VNNI / F16C intrinsics and OpenMP.
// Vector types are plain GNU vectors: enough for the front end, nothing here is compiled.
#pragma once

#define XP_HD
#define __restrict__ __restrict
#define _OPENMP 201511

#include "xp_base.h"

typedef float __m512 __attribute__((__vector_size__(64)));
typedef double __m512d __attribute__((__vector_size__(64)));
typedef long long __m512i __attribute__((__vector_size__(64)));
typedef float __m256 __attribute__((__vector_size__(32)));
typedef double __m256d __attribute__((__vector_size__(32)));
typedef long long __m256i __attribute__((__vector_size__(32)));
typedef float __m128 __attribute__((__vector_size__(16)));
typedef double __m128d __attribute__((__vector_size__(16)));
typedef long long __m128i __attribute__((__vector_size__(16)));
typedef short __m512bh __attribute__((__vector_size__(64)));
typedef unsigned char __mmask8;
typedef unsigned short __mmask16;
typedef unsigned int __mmask32;
typedef unsigned long long __mmask64;

enum { _CMP_EQ_OQ = 0x00, _CMP_LT_OS = 0x01, _CMP_LE_OS = 0x02, _CMP_UNORD_Q = 0x03, _CMP_NEQ_UQ = 0x04,
       _CMP_NLT_US = 0x05, _CMP_NLE_US = 0x06, _CMP_ORD_Q = 0x07, _CMP_EQ_UQ = 0x08, _CMP_NGE_US = 0x09,
       _CMP_NGT_US = 0x0a, _CMP_FALSE_OQ = 0x0b, _CMP_NEQ_OQ = 0x0c, _CMP_GE_OS = 0x0d, _CMP_GT_OS = 0x0e,
       _CMP_TRUE_UQ = 0x0f, _CMP_EQ_OS = 0x10, _CMP_LT_OQ = 0x11, _CMP_LE_OQ = 0x12, _CMP_UNORD_S = 0x13,
       _CMP_NEQ_US = 0x14, _CMP_NLT_UQ = 0x15, _CMP_NLE_UQ = 0x16, _CMP_ORD_S = 0x17, _CMP_EQ_US = 0x18,
       _CMP_NGE_UQ = 0x19, _CMP_NGT_UQ = 0x1a, _CMP_FALSE_OS = 0x1b, _CMP_NEQ_OS = 0x1c, _CMP_GE_OQ = 0x1d,
       _CMP_GT_OQ = 0x1e, _CMP_TRUE_US = 0x1f };
enum { _MM_FROUND_TO_NEAREST_INT = 0x00, _MM_FROUND_TO_NEG_INF = 0x01, _MM_FROUND_TO_POS_INF = 0x02,
       _MM_FROUND_TO_ZERO = 0x03, _MM_FROUND_CUR_DIRECTION = 0x04, _MM_FROUND_NO_EXC = 0x08 };
enum { _MM_HINT_NTA = 0, _MM_HINT_T2 = 1, _MM_HINT_T1 = 2, _MM_HINT_T0 = 3 };
enum _MM_PERM_ENUM { _MM_PERM_AAAA = 0x00, _MM_PERM_BADC = 0xB1, _MM_PERM_CDAB = 0x4E, _MM_PERM_DCBA = 0xE4 };
enum _MM_MANTISSA_NORM_ENUM { _MM_MANT_NORM_1_2 = 0, _MM_MANT_NORM_p5_2 = 1, _MM_MANT_NORM_p5_1 = 2,
                              _MM_MANT_NORM_p75_1p5 = 3 };
enum _MM_MANTISSA_SIGN_ENUM { _MM_MANT_SIGN_src = 0, _MM_MANT_SIGN_zero = 1, _MM_MANT_SIGN_nan = 2 };
int _MM_SHUFFLE(int, int, int, int);

// ---- 512-bit float
#define XP_PS512_1(f) __m512 f(__m512);
#define XP_PS512_2(f) __m512 f(__m512, __m512);
#define XP_PS512_3(f) __m512 f(__m512, __m512, __m512);
XP_PS512_2(_mm512_add_ps) XP_PS512_2(_mm512_sub_ps) XP_PS512_2(_mm512_mul_ps) XP_PS512_2(_mm512_div_ps)
XP_PS512_2(_mm512_max_ps) XP_PS512_2(_mm512_min_ps) XP_PS512_2(_mm512_and_ps) XP_PS512_2(_mm512_or_ps)
XP_PS512_2(_mm512_xor_ps) XP_PS512_2(_mm512_andnot_ps) XP_PS512_2(_mm512_scalef_ps)
XP_PS512_2(_mm512_unpacklo_ps) XP_PS512_2(_mm512_unpackhi_ps)
XP_PS512_3(_mm512_fmadd_ps) XP_PS512_3(_mm512_fmsub_ps) XP_PS512_3(_mm512_fnmadd_ps) XP_PS512_3(_mm512_fnmsub_ps)
XP_PS512_1(_mm512_sqrt_ps) XP_PS512_1(_mm512_rsqrt14_ps) XP_PS512_1(_mm512_rcp14_ps) XP_PS512_1(_mm512_abs_ps)
XP_PS512_1(_mm512_getexp_ps) XP_PS512_1(_mm512_floor_ps) XP_PS512_1(_mm512_ceil_ps)
XP_PS512_1(_mm512_exp_ps) XP_PS512_1(_mm512_log_ps) XP_PS512_1(_mm512_tanh_ps) XP_PS512_1(_mm512_sin_ps)
XP_PS512_1(_mm512_cos_ps) XP_PS512_1(_mm512_erf_ps)
__m512 _mm512_loadu_ps(const void*);
__m512 _mm512_load_ps(const void*);
void _mm512_storeu_ps(void*, __m512);
void _mm512_store_ps(void*, __m512);
void _mm512_stream_ps(void*, __m512);
__m512 _mm512_setzero_ps();
__m512 _mm512_set1_ps(float);
__m512 _mm512_set_ps(float, float, float, float, float, float, float, float, float, float, float, float, float,
                     float, float, float);
__m512 _mm512_setr_ps(float, float, float, float, float, float, float, float, float, float, float, float, float,
                      float, float, float);
__m512 _mm512_undefined_ps();
float _mm512_reduce_add_ps(__m512);
float _mm512_reduce_mul_ps(__m512);
float _mm512_reduce_max_ps(__m512);
float _mm512_reduce_min_ps(__m512);
float _mm512_mask_reduce_add_ps(__mmask16, __m512);
float _mm512_mask_reduce_max_ps(__mmask16, __m512);
float _mm512_mask_reduce_min_ps(__mmask16, __m512);
float _mm512_cvtss_f32(__m512);
__m512 _mm512_mask_loadu_ps(__m512, __mmask16, const void*);
__m512 _mm512_maskz_loadu_ps(__mmask16, const void*);
__m512 _mm512_mask_load_ps(__m512, __mmask16, const void*);
__m512 _mm512_maskz_load_ps(__mmask16, const void*);
void _mm512_mask_storeu_ps(void*, __mmask16, __m512);
void _mm512_mask_store_ps(void*, __mmask16, __m512);
__m512 _mm512_mask_mov_ps(__m512, __mmask16, __m512);
__m512 _mm512_maskz_mov_ps(__mmask16, __m512);
__m512 _mm512_mask_blend_ps(__mmask16, __m512, __m512);
__m512 _mm512_mask_add_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_maskz_add_ps(__mmask16, __m512, __m512);
__m512 _mm512_mask_sub_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_maskz_sub_ps(__mmask16, __m512, __m512);
__m512 _mm512_mask_mul_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_maskz_mul_ps(__mmask16, __m512, __m512);
__m512 _mm512_mask_div_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_mask_max_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_maskz_max_ps(__mmask16, __m512, __m512);
__m512 _mm512_mask_min_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_maskz_min_ps(__mmask16, __m512, __m512);
__m512 _mm512_mask_fmadd_ps(__m512, __mmask16, __m512, __m512);
__m512 _mm512_mask3_fmadd_ps(__m512, __m512, __m512, __mmask16);
__m512 _mm512_maskz_fmadd_ps(__mmask16, __m512, __m512, __m512);
__m512 _mm512_mask_sqrt_ps(__m512, __mmask16, __m512);
__m512 _mm512_mask_expandloadu_ps(__m512, __mmask16, const void*);
void _mm512_mask_compressstoreu_ps(void*, __mmask16, __m512);
__mmask16 _mm512_cmp_ps_mask(__m512, __m512, int);
__mmask16 _mm512_mask_cmp_ps_mask(__mmask16, __m512, __m512, int);
__mmask16 _mm512_cmplt_ps_mask(__m512, __m512);
__mmask16 _mm512_cmple_ps_mask(__m512, __m512);
__mmask16 _mm512_cmpeq_ps_mask(__m512, __m512);
__mmask16 _mm512_cmpneq_ps_mask(__m512, __m512);
__m512 _mm512_roundscale_ps(__m512, int);
__m512 _mm512_getmant_ps(__m512, _MM_MANTISSA_NORM_ENUM, _MM_MANTISSA_SIGN_ENUM);
__m512 _mm512_fixupimm_ps(__m512, __m512, __m512i, int);
__m512 _mm512_range_ps(__m512, __m512, int);
__m512 _mm512_reduce_ps(__m512, int);
__m512 _mm512_permutexvar_ps(__m512i, __m512);
__m512 _mm512_permutex2var_ps(__m512, __m512i, __m512);
__m512 _mm512_permute_ps(__m512, int);
__m512 _mm512_shuffle_ps(__m512, __m512, int);
__m512 _mm512_shuffle_f32x4(__m512, __m512, int);
__m512 _mm512_broadcastss_ps(__m128);
__m512 _mm512_broadcast_f32x4(__m128);
__m512 _mm512_broadcast_f32x8(__m256);
__m512 _mm512_i32gather_ps(__m512i, const void*, int);
__m512 _mm512_mask_i32gather_ps(__m512, __mmask16, __m512i, const void*, int);
__m512d _mm512_i32gather_pd(__m256i, const void*, int);
void _mm512_i32scatter_ps(void*, __m512i, __m512, int);
void _mm512_mask_i32scatter_ps(void*, __mmask16, __m512i, __m512, int);
__m512 _mm512_cvtepi32_ps(__m512i);
__m512 _mm512_cvtepu32_ps(__m512i);
__m512i _mm512_cvtps_epi32(__m512);
__m512i _mm512_cvttps_epi32(__m512);
__m512i _mm512_cvt_roundps_epi32(__m512, int);
__m512 _mm512_castsi512_ps(__m512i);
__m512i _mm512_castps_si512(__m512);
__m256 _mm512_castps512_ps256(__m512);
__m128 _mm512_castps512_ps128(__m512);
__m512 _mm512_castps256_ps512(__m256);
__m512 _mm512_castps128_ps512(__m128);
__m256 _mm512_extractf32x8_ps(__m512, int);
__m128 _mm512_extractf32x4_ps(__m512, int);
__m512 _mm512_insertf32x8(__m512, __m256, int);
__m512 _mm512_insertf32x4(__m512, __m128, int);
__m512 _mm512_cvtph_ps(__m256i);
__m256i _mm512_cvtps_ph(__m512, int);
__m512 _mm512_maskz_cvtph_ps(__mmask16, __m256i);
__m512d _mm512_cvtps_pd(__m256);
__m256 _mm512_cvtpd_ps(__m512d);
__m512bh _mm512_cvtne2ps_pbh(__m512, __m512);
__m512 _mm512_dpbf16_ps(__m512, __m512bh, __m512bh);

// ---- 512-bit double
__m512d _mm512_loadu_pd(const void*);
void _mm512_storeu_pd(void*, __m512d);
__m512d _mm512_setzero_pd();
__m512d _mm512_set1_pd(double);
__m512d _mm512_add_pd(__m512d, __m512d);
__m512d _mm512_mul_pd(__m512d, __m512d);
__m512d _mm512_fmadd_pd(__m512d, __m512d, __m512d);
double _mm512_reduce_add_pd(__m512d);

// ---- 512-bit integer
#define XP_SI512_2(f) __m512i f(__m512i, __m512i);
XP_SI512_2(_mm512_add_epi32) XP_SI512_2(_mm512_sub_epi32) XP_SI512_2(_mm512_mullo_epi32) XP_SI512_2(_mm512_add_epi16)
XP_SI512_2(_mm512_sub_epi16) XP_SI512_2(_mm512_mullo_epi16) XP_SI512_2(_mm512_add_epi8) XP_SI512_2(_mm512_add_epi64)
XP_SI512_2(_mm512_max_epi32) XP_SI512_2(_mm512_min_epi32) XP_SI512_2(_mm512_max_epu32) XP_SI512_2(_mm512_min_epu32)
XP_SI512_2(_mm512_max_epi8) XP_SI512_2(_mm512_min_epi8) XP_SI512_2(_mm512_max_epu8) XP_SI512_2(_mm512_min_epu8)
XP_SI512_2(_mm512_and_si512) XP_SI512_2(_mm512_or_si512) XP_SI512_2(_mm512_xor_si512) XP_SI512_2(_mm512_andnot_si512)
XP_SI512_2(_mm512_and_epi32) XP_SI512_2(_mm512_or_epi32) XP_SI512_2(_mm512_xor_epi32)
XP_SI512_2(_mm512_madd_epi16) XP_SI512_2(_mm512_maddubs_epi16) XP_SI512_2(_mm512_unpacklo_epi8)
XP_SI512_2(_mm512_unpackhi_epi8) XP_SI512_2(_mm512_unpacklo_epi16) XP_SI512_2(_mm512_unpackhi_epi16)
XP_SI512_2(_mm512_unpacklo_epi32) XP_SI512_2(_mm512_unpackhi_epi32) XP_SI512_2(_mm512_unpacklo_epi64)
XP_SI512_2(_mm512_unpackhi_epi64) XP_SI512_2(_mm512_packs_epi32) XP_SI512_2(_mm512_packus_epi32)
XP_SI512_2(_mm512_packs_epi16) XP_SI512_2(_mm512_packus_epi16) XP_SI512_2(_mm512_shuffle_epi8)
XP_SI512_2(_mm512_permutexvar_epi32) XP_SI512_2(_mm512_permutexvar_epi8) XP_SI512_2(_mm512_permutexvar_epi16)
XP_SI512_2(_mm512_permutexvar_epi64) XP_SI512_2(_mm512_sllv_epi32) XP_SI512_2(_mm512_srlv_epi32)
XP_SI512_2(_mm512_srav_epi32) XP_SI512_2(_mm512_abs_epi32)
__m512i _mm512_dpbusd_epi32(__m512i, __m512i, __m512i);
__m512i _mm512_dpbusds_epi32(__m512i, __m512i, __m512i);
__m512i _mm512_dpwssd_epi32(__m512i, __m512i, __m512i);
__m512i _mm512_dpwssds_epi32(__m512i, __m512i, __m512i);
__m512i _mm512_mask_dpbusd_epi32(__m512i, __mmask16, __m512i, __m512i);
__m512i _mm512_maskz_dpbusd_epi32(__mmask16, __m512i, __m512i, __m512i);
__m512i _mm512_loadu_si512(const void*);
__m512i _mm512_load_si512(const void*);
void _mm512_storeu_si512(void*, __m512i);
void _mm512_store_si512(void*, __m512i);
void _mm512_stream_si512(void*, __m512i);
__m512i _mm512_loadu_epi32(const void*);
__m512i _mm512_loadu_epi8(const void*);
__m512i _mm512_loadu_epi16(const void*);
void _mm512_storeu_epi32(void*, __m512i);
void _mm512_storeu_epi8(void*, __m512i);
__m512i _mm512_setzero_si512();
__m512i _mm512_setzero_epi32();
__m512i _mm512_set1_epi32(int);
__m512i _mm512_set1_epi16(short);
__m512i _mm512_set1_epi8(char);
__m512i _mm512_set1_epi64(long long);
__m512i _mm512_set_epi32(int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int);
__m512i _mm512_setr_epi32(int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int);
__m512i _mm512_set_epi64(long long, long long, long long, long long, long long, long long, long long, long long);
__m512i _mm512_maskz_loadu_epi8(__mmask64, const void*);
__m512i _mm512_mask_loadu_epi8(__m512i, __mmask64, const void*);
__m512i _mm512_maskz_loadu_epi16(__mmask32, const void*);
__m512i _mm512_mask_loadu_epi16(__m512i, __mmask32, const void*);
__m512i _mm512_maskz_loadu_epi32(__mmask16, const void*);
__m512i _mm512_mask_loadu_epi32(__m512i, __mmask16, const void*);
void _mm512_mask_storeu_epi8(void*, __mmask64, __m512i);
void _mm512_mask_storeu_epi16(void*, __mmask32, __m512i);
void _mm512_mask_storeu_epi32(void*, __mmask16, __m512i);
__m512i _mm512_mask_mov_epi32(__m512i, __mmask16, __m512i);
__m512i _mm512_maskz_mov_epi32(__mmask16, __m512i);
__m512i _mm512_mask_blend_epi32(__mmask16, __m512i, __m512i);
__m512i _mm512_mask_blend_epi8(__mmask64, __m512i, __m512i);
__m512i _mm512_mask_add_epi32(__m512i, __mmask16, __m512i, __m512i);
__m512i _mm512_maskz_add_epi32(__mmask16, __m512i, __m512i);
int _mm512_reduce_add_epi32(__m512i);
int _mm512_reduce_max_epi32(__m512i);
int _mm512_reduce_min_epi32(__m512i);
long long _mm512_reduce_add_epi64(__m512i);
int _mm512_mask_reduce_add_epi32(__mmask16, __m512i);
int _mm512_cvtsi512_si32(__m512i);
__m512i _mm512_cvtepu8_epi16(__m256i);
__m512i _mm512_cvtepi8_epi16(__m256i);
__m512i _mm512_cvtepu8_epi32(__m128i);
__m512i _mm512_cvtepi8_epi32(__m128i);
__m512i _mm512_cvtepi16_epi32(__m256i);
__m512i _mm512_cvtepu16_epi32(__m256i);
__m512i _mm512_cvtepi32_epi64(__m256i);
__m128i _mm512_cvtepi32_epi8(__m512i);
__m256i _mm512_cvtepi32_epi16(__m512i);
__m128i _mm256_cvtepi32_epi8(__m256i);
__m128i _mm256_cvtepi32_epi16(__m256i);
__m128i _mm_cvtepi32_epi8(__m128i);
__m128i _mm_cvtepi32_epi16(__m128i);
__m128i _mm512_cvtsepi32_epi8(__m512i);
__m256i _mm512_cvtsepi32_epi16(__m512i);
__m128i _mm256_cvtsepi32_epi8(__m256i);
__m128i _mm256_cvtsepi32_epi16(__m256i);
__m128i _mm_cvtsepi32_epi8(__m128i);
__m128i _mm_cvtsepi32_epi16(__m128i);
__m128i _mm512_cvtusepi32_epi8(__m512i);
__m256i _mm512_cvtusepi32_epi16(__m512i);
__m128i _mm256_cvtusepi32_epi8(__m256i);
__m128i _mm256_cvtusepi32_epi16(__m256i);
__m128i _mm_cvtusepi32_epi8(__m128i);
__m128i _mm_cvtusepi32_epi16(__m128i);
void _mm512_mask_cvtsepi32_storeu_epi8(void*, __mmask16, __m512i);
void _mm512_mask_cvtepi32_storeu_epi8(void*, __mmask16, __m512i);
void _mm512_mask_cvtusepi32_storeu_epi8(void*, __mmask16, __m512i);
void _mm512_mask_cvtsepi32_storeu_epi16(void*, __mmask16, __m512i);
__m256i _mm512_cvtepi32_epi16(__m512i);
__m256i _mm512_cvtepi16_epi8(__m512i);
__m512i _mm512_slli_epi32(__m512i, unsigned int);
__m512i _mm512_srli_epi32(__m512i, unsigned int);
__m512i _mm512_srai_epi32(__m512i, unsigned int);
__m512i _mm512_slli_epi16(__m512i, unsigned int);
__m512i _mm512_srli_epi16(__m512i, unsigned int);
__m512i _mm512_slli_epi64(__m512i, unsigned int);
__m512i _mm512_srli_epi64(__m512i, unsigned int);
__m512i _mm512_shuffle_epi32(__m512i, _MM_PERM_ENUM);
__m512i _mm512_shuffle_i32x4(__m512i, __m512i, int);
__m512i _mm512_alignr_epi32(__m512i, __m512i, int);
__m512i _mm512_permutex2var_epi32(__m512i, __m512i, __m512i);
__m512i _mm512_i32gather_epi32(__m512i, const void*, int);
__m512i _mm512_mask_i32gather_epi32(__m512i, __mmask16, __m512i, const void*, int);
void _mm512_i32scatter_epi32(void*, __m512i, __m512i, int);
__m512i _mm512_broadcastd_epi32(__m128i);
__m512i _mm512_castsi256_si512(__m256i);
__m512i _mm512_castsi128_si512(__m128i);
__m256i _mm512_castsi512_si256(__m512i);
__m128i _mm512_castsi512_si128(__m512i);
__m256i _mm512_extracti64x4_epi64(__m512i, int);
__m128i _mm512_extracti32x4_epi32(__m512i, int);
__m512i _mm512_inserti64x4(__m512i, __m256i, int);
__m512i _mm512_inserti32x4(__m512i, __m128i, int);
__mmask16 _mm512_cmpgt_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_cmplt_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_cmpeq_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_cmpge_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_cmple_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_cmpneq_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_cmp_epi32_mask(__m512i, __m512i, int);
__mmask64 _mm512_cmpeq_epi8_mask(__m512i, __m512i);
__mmask16 _mm512_test_epi32_mask(__m512i, __m512i);
__mmask16 _mm512_movepi32_mask(__m512i);
__m512i _mm512_movm_epi32(__mmask16);

// ---- masks
__mmask16 _cvtu32_mask16(unsigned int);
unsigned int _cvtmask16_u32(__mmask16);
__mmask32 _cvtu32_mask32(unsigned int);
__mmask64 _cvtu64_mask64(unsigned long long);
__mmask8 _cvtu32_mask8(unsigned int);
__mmask16 _mm512_int2mask(int);
int _mm512_mask2int(__mmask16);
__mmask16 _mm512_kand(__mmask16, __mmask16);
__mmask16 _mm512_kor(__mmask16, __mmask16);
__mmask16 _mm512_knot(__mmask16);
__mmask16 _knot_mask16(__mmask16);
__mmask16 _kand_mask16(__mmask16, __mmask16);
__mmask16 _kor_mask16(__mmask16, __mmask16);
unsigned int _popcnt32(unsigned int);
int _mm_popcnt_u32(unsigned int);
long long _mm_popcnt_u64(unsigned long long);
unsigned int _tzcnt_u32(unsigned int);
unsigned int _lzcnt_u32(unsigned int);
unsigned int _bzhi_u32(unsigned int, unsigned int);

// ---- 256-bit
#define XP_PS256_2(f) __m256 f(__m256, __m256);
XP_PS256_2(_mm256_add_ps) XP_PS256_2(_mm256_sub_ps) XP_PS256_2(_mm256_mul_ps) XP_PS256_2(_mm256_div_ps)
XP_PS256_2(_mm256_max_ps) XP_PS256_2(_mm256_min_ps) XP_PS256_2(_mm256_hadd_ps) XP_PS256_2(_mm256_and_ps)
XP_PS256_2(_mm256_or_ps) XP_PS256_2(_mm256_xor_ps) XP_PS256_2(_mm256_unpacklo_ps) XP_PS256_2(_mm256_unpackhi_ps)
__m256 _mm256_fmadd_ps(__m256, __m256, __m256);
__m256 _mm256_fmsub_ps(__m256, __m256, __m256);
__m256 _mm256_fnmadd_ps(__m256, __m256, __m256);
__m256 _mm256_sqrt_ps(__m256);
__m256 _mm256_rsqrt_ps(__m256);
__m256 _mm256_rcp_ps(__m256);
__m256 _mm256_loadu_ps(const float*);
__m256 _mm256_load_ps(const float*);
void _mm256_storeu_ps(float*, __m256);
void _mm256_store_ps(float*, __m256);
__m256 _mm256_setzero_ps();
__m256 _mm256_set1_ps(float);
__m256 _mm256_set_ps(float, float, float, float, float, float, float, float);
__m256 _mm256_setr_ps(float, float, float, float, float, float, float, float);
__m256 _mm256_maskload_ps(const float*, __m256i);
void _mm256_maskstore_ps(float*, __m256i, __m256);
__m256d _mm256_loadu_pd(const double*);
void _mm256_storeu_pd(double*, __m256d);
__m256d _mm256_maskload_pd(const double*, __m256i);
__m256d _mm256_hsub_pd(__m256d, __m256d);
__m256d _mm256_blendv_pd(__m256d, __m256d, __m256d);
__m256d _mm256_castsi256_pd(__m256i);
__m256 _mm256_maskz_loadu_ps(__mmask8, const void*);
void _mm256_mask_storeu_ps(void*, __mmask8, __m256);
__m256 _mm256_cmp_ps(__m256, __m256, int);
__m256 _mm256_blendv_ps(__m256, __m256, __m256);
__m256 _mm256_permute2f128_ps(__m256, __m256, int);
__m256 _mm256_permutevar8x32_ps(__m256, __m256i);
__m256 _mm256_shuffle_ps(__m256, __m256, int);
__m256 _mm256_broadcast_ss(const float*);
__m256 _mm256_cvtph_ps(__m128i);
__m128i _mm256_cvtps_ph(__m256, int);
__m256 _mm256_cvtepi32_ps(__m256i);
__m256i _mm256_cvtps_epi32(__m256);
__m256i _mm256_cvttps_epi32(__m256);
__m256 _mm256_castsi256_ps(__m256i);
__m256i _mm256_castps_si256(__m256);
__m128 _mm256_castps256_ps128(__m256);
__m256 _mm256_castps128_ps256(__m128);
__m128 _mm256_extractf128_ps(__m256, int);
__m256 _mm256_insertf128_ps(__m256, __m128, int);
__m256 _mm256_round_ps(__m256, int);
__m256 _mm256_floor_ps(__m256);
float _mm256_cvtss_f32(__m256);
int _mm256_movemask_ps(__m256);
#define XP_SI256_2(f) __m256i f(__m256i, __m256i);
XP_SI256_2(_mm256_add_epi32) XP_SI256_2(_mm256_sub_epi32) XP_SI256_2(_mm256_mullo_epi32) XP_SI256_2(_mm256_add_epi16)
XP_SI256_2(_mm256_madd_epi16) XP_SI256_2(_mm256_maddubs_epi16) XP_SI256_2(_mm256_max_epi32)
XP_SI256_2(_mm256_min_epi32) XP_SI256_2(_mm256_and_si256) XP_SI256_2(_mm256_or_si256) XP_SI256_2(_mm256_xor_si256)
XP_SI256_2(_mm256_hadd_epi32) XP_SI256_2(_mm256_unpacklo_epi8) XP_SI256_2(_mm256_unpackhi_epi8)
XP_SI256_2(_mm256_unpacklo_epi16) XP_SI256_2(_mm256_unpackhi_epi16) XP_SI256_2(_mm256_packs_epi32)
XP_SI256_2(_mm256_packus_epi16) XP_SI256_2(_mm256_shuffle_epi8) XP_SI256_2(_mm256_permutevar8x32_epi32)
XP_SI256_2(_mm256_cmpgt_epi32) XP_SI256_2(_mm256_cmpeq_epi32) XP_SI256_2(_mm256_cmpeq_epi8) XP_SI256_2(_mm256_cmpgt_epi16)
__m256i _mm256_dpbusd_epi32(__m256i, __m256i, __m256i);
__m256i _mm256_dpbusd_avx_epi32(__m256i, __m256i, __m256i);
__m256i _mm256_dpbusds_epi32(__m256i, __m256i, __m256i);
__m256i _mm256_dpwssd_epi32(__m256i, __m256i, __m256i);
__m256i _mm256_loadu_si256(const void*);
__m256i _mm256_load_si256(const void*);
void _mm256_storeu_si256(void*, __m256i);
void _mm256_store_si256(void*, __m256i);
__m256i _mm256_maskz_loadu_epi8(__mmask32, const void*);
__m256i _mm256_maskz_loadu_epi16(__mmask16, const void*);
__m256i _mm256_maskz_loadu_epi32(__mmask8, const void*);
void _mm256_mask_storeu_epi8(void*, __mmask32, __m256i);
void _mm256_mask_storeu_epi16(void*, __mmask16, __m256i);
void _mm256_mask_storeu_epi32(void*, __mmask8, __m256i);
__m256i _mm256_maskload_epi32(const int*, __m256i);
__m256i _mm256_maskload_epi64(const long long*, __m256i);
void _mm256_maskstore_epi32(int*, __m256i, __m256i);
__m256i _mm256_blendv_epi8(__m256i, __m256i, __m256i);
int _mm256_cvtsi256_si32(__m256i);
__m256i _mm256_setzero_si256();
__m256i _mm256_set1_epi32(int);
__m256i _mm256_set1_epi16(short);
__m256i _mm256_set1_epi8(char);
__m256i _mm256_setr_epi32(int, int, int, int, int, int, int, int);
__m256i _mm256_set_epi32(int, int, int, int, int, int, int, int);
__m256i _mm256_cvtepu8_epi16(__m128i);
__m256i _mm256_cvtepi8_epi16(__m128i);
__m256i _mm256_cvtepu8_epi32(__m128i);
__m256i _mm256_cvtepi8_epi32(__m128i);
__m256i _mm256_cvtepi16_epi32(__m128i);
__m256i _mm256_slli_epi32(__m256i, int);
__m256i _mm256_srli_epi32(__m256i, int);
__m256i _mm256_srai_epi32(__m256i, int);
__m256i _mm256_slli_epi16(__m256i, int);
__m256i _mm256_permute4x64_epi64(__m256i, int);
__m256i _mm256_permute2x128_si256(__m256i, __m256i, int);
__m128i _mm256_extracti128_si256(__m256i, int);
__m256i _mm256_inserti128_si256(__m256i, __m128i, int);
__m128i _mm256_castsi256_si128(__m256i);
__m256i _mm256_castsi128_si256(__m128i);
int _mm256_extract_epi32(__m256i, int);
int _mm256_movemask_epi8(__m256i);

// ---- 128-bit and scalar conversions
#define XP_PS128_2(f) __m128 f(__m128, __m128);
XP_PS128_2(_mm_add_ps) XP_PS128_2(_mm_sub_ps) XP_PS128_2(_mm_mul_ps) XP_PS128_2(_mm_div_ps) XP_PS128_2(_mm_max_ps)
XP_PS128_2(_mm_min_ps) XP_PS128_2(_mm_hadd_ps) XP_PS128_2(_mm_add_ss) XP_PS128_2(_mm_mul_ss) XP_PS128_2(_mm_max_ss)
XP_PS128_2(_mm_min_ss) XP_PS128_2(_mm_movehl_ps) XP_PS128_2(_mm_movelh_ps) XP_PS128_2(_mm_unpacklo_ps)
XP_PS128_2(_mm_unpackhi_ps) XP_PS128_2(_mm_and_ps) XP_PS128_2(_mm_xor_ps) XP_PS128_2(_mm_sub_ss)
__m128 _mm_fmadd_ps(__m128, __m128, __m128);
__m128 _mm_shuffle_ps(__m128, __m128, int);
__m128 _mm_loadu_ps(const float*);
__m128 _mm_load_ps(const float*);
__m128 _mm_load_ss(const float*);
void _mm_storeu_ps(float*, __m128);
void _mm_store_ps(float*, __m128);
void _mm_store_ss(float*, __m128);
__m128 _mm_setzero_ps();
__m128 _mm_set1_ps(float);
__m128 _mm_set_ss(float);
__m128 _mm_set_ps(float, float, float, float);
__m128 _mm_setr_ps(float, float, float, float);
__m128 _mm_sqrt_ps(__m128);
__m128 _mm_rsqrt_ps(__m128);
__m128 _mm_sqrt_ss(__m128);
__m128 _mm_rsqrt_ss(__m128);
float _mm_cvtss_f32(__m128);
__m128d _mm_loadu_pd(const double*);
void _mm_storeu_pd(double*, __m128d);
__m128d _mm_hadd_pd(__m128d, __m128d);
__m128d _mm_max_sd(__m128d, __m128d);
double _mm_cvtsd_f64(__m128d);
__m128 _mm_cvtph_ps(__m128i);
__m128i _mm_cvtps_ph(__m128, int);
__m128 _mm_castsi128_ps(__m128i);
__m128i _mm_castps_si128(__m128);
__m128i _mm_loadu_si128(const void*);
__m128i _mm_load_si128(const void*);
__m128i _mm_loadl_epi64(const void*);
void _mm_storeu_si128(void*, __m128i);
void _mm_store_si128(void*, __m128i);
void _mm_storel_epi64(void*, __m128i);
__m128i _mm_maskz_loadu_epi8(__mmask16, const void*);
__m128i _mm_maskz_loadu_epi16(__mmask8, const void*);
void _mm_mask_storeu_epi8(void*, __mmask16, __m128i);
__m128i _mm_setzero_si128();
__m128i _mm_set1_epi32(int);
__m128i _mm_set1_epi16(short);
__m128i _mm_set1_epi8(char);
__m128i _mm_cvtsi32_si128(int);
int _mm_cvtsi128_si32(__m128i);
#define XP_SI128_2(f) __m128i f(__m128i, __m128i);
XP_SI128_2(_mm_add_epi32) XP_SI128_2(_mm_sub_epi32) XP_SI128_2(_mm_hadd_epi32) XP_SI128_2(_mm_madd_epi16)
XP_SI128_2(_mm_maddubs_epi16) XP_SI128_2(_mm_unpacklo_epi8) XP_SI128_2(_mm_unpackhi_epi8)
XP_SI128_2(_mm_unpacklo_epi16) XP_SI128_2(_mm_unpackhi_epi16) XP_SI128_2(_mm_unpacklo_epi64)
XP_SI128_2(_mm_unpackhi_epi64) XP_SI128_2(_mm_packs_epi32) XP_SI128_2(_mm_packus_epi16)
XP_SI128_2(_mm_and_si128) XP_SI128_2(_mm_or_si128) XP_SI128_2(_mm_xor_si128) XP_SI128_2(_mm_max_epi32)
XP_SI128_2(_mm_min_epi32) XP_SI128_2(_mm_mullo_epi32) XP_SI128_2(_mm_shuffle_epi8)
__m128i _mm_dpbusd_epi32(__m128i, __m128i, __m128i);
__m128i _mm_shuffle_epi32(__m128i, int);
__m128i _mm_srli_si128(__m128i, int);
__m128i _mm_slli_si128(__m128i, int);
__m128i _mm_cvtepu8_epi32(__m128i);
__m128i _mm_cvtepi8_epi32(__m128i);
int _mm_extract_epi32(__m128i, int);
float _cvtsh_ss(unsigned short);
unsigned short _cvtss_sh(float, int);
void _mm_prefetch(const void*, int);
void _mm_sfence();
void _mm_lfence();
void _mm_mfence();
void _mm_pause();
void _mm256_zeroupper();

// ---- OpenMP runtime
int omp_get_thread_num();
int omp_get_num_threads();
int omp_get_max_threads();
int omp_get_num_procs();
void omp_set_num_threads(int);
int omp_in_parallel();
double omp_get_wtime();

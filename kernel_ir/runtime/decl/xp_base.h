// Declarations the Xpiler front end (libclang) parses kernels against: the C/C++ standard subset kernels use.
// Only declarations: nothing here is compiled or run. The dialect header defines XP_HD before including this.
#pragma once

typedef unsigned long size_t;
typedef long ptrdiff_t;
typedef long intptr_t;
typedef unsigned long uintptr_t;
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
typedef long long intmax_t;
typedef struct XpFile FILE;
typedef long time_t;
typedef long clock_t;

#define NULL nullptr
#define FLT_MAX 3.402823466e+38F
#define FLT_MIN 1.175494351e-38F
#define FLT_EPSILON 1.192092896e-07F
#define DBL_MAX 1.7976931348623158e+308
#define DBL_MIN 2.2250738585072014e-308
#define DBL_EPSILON 2.2204460492503131e-16
#define INFINITY __builtin_huge_valf()
#define HUGE_VALF __builtin_huge_valf()
#define HUGE_VAL __builtin_huge_val()
#define NAN __builtin_nanf("")
#define INT_MAX 2147483647
#define INT_MIN (-2147483647 - 1)
#define UINT_MAX 4294967295U
#define SHRT_MAX 32767
#define CHAR_BIT 8
#define INT8_MAX 127
#define INT8_MIN (-128)
#define UINT8_MAX 255
#define INT32_MAX 2147483647
#define INT32_MIN (-2147483647 - 1)
#define INT64_MAX 9223372036854775807L
#define M_PI 3.14159265358979323846
#define M_SQRT2 1.41421356237309504880
#define M_SQRT1_2 0.70710678118654752440
#define M_2_SQRTPI 1.12837916709551257390
#define M_E 2.7182818284590452354
#define M_LN2 0.69314718055994530942
#define M_LOG2E 1.4426950408889634074
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647

#define XP_MATH1(name) XP_HD double name(double); XP_HD float name##f(float); XP_HD float name(float);
#define XP_MATH2(name) \
    XP_HD double name(double, double); XP_HD float name##f(float, float); XP_HD float name(float, float);
XP_MATH1(exp) XP_MATH1(exp2) XP_MATH1(expm1) XP_MATH1(log) XP_MATH1(log2) XP_MATH1(log10) XP_MATH1(log1p)
XP_MATH1(sqrt) XP_MATH1(cbrt) XP_MATH1(sin) XP_MATH1(cos) XP_MATH1(tan) XP_MATH1(asin) XP_MATH1(acos)
XP_MATH1(atan) XP_MATH1(sinh) XP_MATH1(cosh) XP_MATH1(tanh) XP_MATH1(asinh) XP_MATH1(acosh) XP_MATH1(atanh)
XP_MATH1(erf) XP_MATH1(erfc) XP_MATH1(fabs) XP_MATH1(floor) XP_MATH1(ceil) XP_MATH1(round) XP_MATH1(trunc)
XP_MATH1(rint) XP_MATH1(nearbyint) XP_MATH1(lgamma) XP_MATH1(tgamma) XP_MATH1(logb)
XP_MATH2(pow) XP_MATH2(fmax) XP_MATH2(fmin) XP_MATH2(fmod) XP_MATH2(atan2) XP_MATH2(hypot) XP_MATH2(copysign)
XP_MATH2(remainder) XP_MATH2(fdim) XP_MATH2(nextafter)
XP_HD double fma(double, double, double); XP_HD float fmaf(float, float, float); XP_HD float fma(float, float, float);
XP_HD double ldexp(double, int); XP_HD float ldexpf(float, int); XP_HD float ldexp(float, int);
XP_HD double frexp(double, int*); XP_HD float frexpf(float, int*); XP_HD float frexp(float, int*);
XP_HD double modf(double, double*); XP_HD float modff(float, float*);
XP_HD long lround(double); XP_HD long lroundf(float); XP_HD long lrint(double); XP_HD long lrintf(float);
XP_HD long long llround(double); XP_HD long long llroundf(float);
XP_HD int abs(int); XP_HD long labs(long); XP_HD long long llabs(long long);
XP_HD float abs(float); XP_HD double abs(double); XP_HD long abs(long); XP_HD long long abs(long long);
XP_HD bool isnan(float); XP_HD bool isnan(double); XP_HD bool isinf(float); XP_HD bool isinf(double);
XP_HD bool isfinite(float); XP_HD bool isfinite(double); XP_HD bool signbit(float); XP_HD bool signbit(double);

XP_HD void* memcpy(void*, const void*, size_t);
XP_HD void* memset(void*, int, size_t);
XP_HD void* memmove(void*, const void*, size_t);
XP_HD int memcmp(const void*, const void*, size_t);
XP_HD int printf(const char*, ...);
int fprintf(FILE*, const char*, ...);
int snprintf(char*, size_t, const char*, ...);
int puts(const char*);
extern FILE* stderr;
extern FILE* stdout;
void* malloc(size_t);
void* calloc(size_t, size_t);
void* realloc(void*, size_t);
void* aligned_alloc(size_t, size_t);
int posix_memalign(void**, size_t, size_t);
void free(void*);
[[noreturn]] void exit(int);
[[noreturn]] void abort();
int rand();
void srand(unsigned);
int atoi(const char*);
time_t time(time_t*);
clock_t clock();
XP_HD void assert(bool);
size_t strlen(const char*);

namespace std {
using ::size_t; using ::ptrdiff_t; using ::int8_t; using ::uint8_t; using ::int16_t; using ::uint16_t;
using ::int32_t; using ::uint32_t; using ::int64_t; using ::uint64_t; using ::intptr_t; using ::uintptr_t;
using ::exp; using ::expf; using ::exp2; using ::exp2f; using ::expm1; using ::expm1f; using ::log; using ::logf;
using ::log2; using ::log2f; using ::log10; using ::log10f; using ::log1p; using ::log1pf; using ::sqrt; using ::sqrtf;
using ::cbrt; using ::cbrtf; using ::sin; using ::sinf; using ::cos; using ::cosf; using ::tan; using ::tanf;
using ::asin; using ::acos; using ::atan; using ::sinh; using ::cosh; using ::tanh; using ::tanhf; using ::erf;
using ::erff; using ::erfc; using ::erfcf; using ::fabs; using ::fabsf; using ::floor; using ::floorf; using ::ceil;
using ::ceilf; using ::round; using ::roundf; using ::trunc; using ::truncf; using ::rint; using ::rintf;
using ::nearbyint; using ::nearbyintf; using ::pow; using ::powf; using ::fmax; using ::fmaxf; using ::fmin;
using ::fminf; using ::fmod; using ::fmodf; using ::atan2; using ::atan2f; using ::hypot; using ::copysign;
using ::fma; using ::fmaf; using ::ldexp; using ::frexp; using ::abs; using ::lround; using ::lroundf;
using ::isnan; using ::isinf; using ::isfinite; using ::signbit; using ::memcpy; using ::memset; using ::memmove;
using ::printf; using ::fprintf; using ::malloc; using ::calloc; using ::free; using ::aligned_alloc; using ::exit;
using ::abort; using ::lgamma; using ::tgamma; using ::llround; using ::strlen;
template <class T> XP_HD constexpr const T& max(const T&, const T&);
template <class T> XP_HD constexpr const T& min(const T&, const T&);
template <class T> XP_HD constexpr const T& clamp(const T&, const T&, const T&);
template <class T> XP_HD void swap(T&, T&);
template <class T> struct initializer_list { const T* begin() const; const T* end() const; size_t size() const; };
template <class T> XP_HD constexpr T max(initializer_list<T>);
template <class T> XP_HD constexpr T min(initializer_list<T>);
template <class T> struct numeric_limits {
    XP_HD static constexpr T max(); XP_HD static constexpr T min(); XP_HD static constexpr T lowest();
    XP_HD static constexpr T infinity(); XP_HD static constexpr T epsilon(); XP_HD static constexpr T quiet_NaN();
    static constexpr bool is_signed = true; static constexpr int digits = 0;
};
template <class It, class T> void fill(It, It, const T&);
template <class It, class N, class T> It fill_n(It, N, const T&);
template <class It, class Out> Out copy(It, It, Out);
template <class It, class N, class Out> Out copy_n(It, N, Out);
template <class It, class T> T accumulate(It, It, T);
template <class It> It max_element(It, It);
template <class It> It min_element(It, It);
template <class T> struct vector {
    typedef T value_type;
    vector(); explicit vector(size_t); vector(size_t, const T&); vector(initializer_list<T>);
    T* data(); const T* data() const; size_t size() const; bool empty() const;
    T& operator[](size_t); const T& operator[](size_t) const;
    void resize(size_t); void resize(size_t, const T&); void reserve(size_t); void assign(size_t, const T&);
    void push_back(const T&); void clear(); T* begin(); T* end(); const T* begin() const; const T* end() const;
    T& back(); T& front();
};
template <class T, size_t N> struct array {
    T* data(); const T* data() const; constexpr size_t size() const;
    T& operator[](size_t); const T& operator[](size_t) const; void fill(const T&);
    T* begin(); T* end();
};
template <class T> struct unique_ptr { T* get() const; T& operator[](size_t) const; };
template <class T> T&& move(T&);
}  // namespace std

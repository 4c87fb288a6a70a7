// What CUDA and HIP device code share on the CPU executor: vector types, half precision, device math,
// atomics and the host memory API (device memory is host memory here). Dialect headers add their names.
#pragma once
#include "xp_simt.h"
#include <math.h>
#include <map>
#include <mutex>

// ---- vector types ------------------------------------------------------------------------------------------
#define XP_VEC2(T, N, A) struct alignas(A) N##2 { T x, y; }; \
    inline N##2 make_##N##2(T x, T y) { return {x, y}; }
#define XP_VEC3(T, N) struct N##3 { T x, y, z; }; \
    inline N##3 make_##N##3(T x, T y, T z) { return {x, y, z}; }
#define XP_VEC4(T, N, A) struct alignas(A) N##4 { T x, y, z, w; }; \
    inline N##4 make_##N##4(T x, T y, T z, T w) { return {x, y, z, w}; }
#define XP_VECS(T, N, A2, A4) XP_VEC2(T, N, A2) XP_VEC3(T, N) XP_VEC4(T, N, A4)
XP_VECS(float, float, 8, 16)
XP_VECS(double, double, 16, 16)
XP_VECS(int, int, 8, 16)
XP_VEC2(unsigned int, uint, 8)
XP_VEC4(unsigned int, uint, 16)  // uint3 comes from the SIMT core
XP_VECS(signed char, char, 2, 4)
XP_VECS(unsigned char, uchar, 2, 4)
XP_VECS(short, short, 4, 8)
XP_VECS(unsigned short, ushort, 4, 8)
XP_VECS(long long, longlong, 16, 16)
#undef XP_VECS
#undef XP_VEC2
#undef XP_VEC3
#undef XP_VEC4
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
inline dim3 make_dim3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }

// ---- half precision: IEEE binary16 with round-to-nearest-even on every conversion --------------------------
typedef _Float16 __half;
typedef __half half;
struct alignas(4) __half2 {
    __half x, y;
};
typedef __half2 half2;
inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline float __half2float(__half h) { return float(h); }
inline __half __int2half_rn(int i) { return __half(float(i)); }
inline int __half2int_rn(__half h) { return int(nearbyintf(float(h))); }
inline int __half2int_rz(__half h) { return int(float(h)); }
inline __half __hadd(__half a, __half b) { return a + b; }
inline __half __hsub(__half a, __half b) { return a - b; }
inline __half __hmul(__half a, __half b) { return a * b; }
inline __half __hdiv(__half a, __half b) { return a / b; }
inline __half __hneg(__half a) { return -a; }
inline __half __habs(__half a) { return a < __half(0) ? -a : a; }
inline __half __hfma(__half a, __half b, __half c) { return __half(fmaf(float(a), float(b), float(c))); }
inline __half __hmax(__half a, __half b) { return a > b ? a : b; }
inline __half __hmin(__half a, __half b) { return a < b ? a : b; }
inline bool __hgt(__half a, __half b) { return a > b; }
inline bool __hlt(__half a, __half b) { return a < b; }
inline bool __hge(__half a, __half b) { return a >= b; }
inline bool __hle(__half a, __half b) { return a <= b; }
inline bool __heq(__half a, __half b) { return a == b; }
inline __half hexp(__half a) { return __half(expf(float(a))); }
inline __half hsqrt(__half a) { return __half(sqrtf(float(a))); }
inline __half hrsqrt(__half a) { return __half(1.0f / sqrtf(float(a))); }
inline __half2 __halves2half2(__half a, __half b) { return {a, b}; }
inline __half2 __half2half2(__half a) { return {a, a}; }
inline __half2 __float2half2_rn(float f) { return {__half(f), __half(f)}; }
inline __half2 __floats2half2_rn(float a, float b) { return {__half(a), __half(b)}; }
inline __half2 __float22half2_rn(float2 f) { return {__half(f.x), __half(f.y)}; }
inline float2 __half22float2(__half2 h) { return {float(h.x), float(h.y)}; }
inline float __low2float(__half2 h) { return float(h.x); }
inline float __high2float(__half2 h) { return float(h.y); }
inline __half __low2half(__half2 h) { return h.x; }
inline __half __high2half(__half2 h) { return h.y; }
inline __half2 __hadd2(__half2 a, __half2 b) { return {__half(a.x + b.x), __half(a.y + b.y)}; }
inline __half2 __hmul2(__half2 a, __half2 b) { return {__half(a.x * b.x), __half(a.y * b.y)}; }
inline __half2 __hfma2(__half2 a, __half2 b, __half2 c) { return {__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)}; }

// bfloat16: stored as the top half of a float, rounded to nearest even.
struct __nv_bfloat16 {
    uint16_t bits;
    __nv_bfloat16() = default;
    __nv_bfloat16(float f) {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        bits = std::isnan(f) ? uint16_t(0x7fc0) : uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
    operator float() const {
        const uint32_t u = uint32_t(bits) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
};
inline float __bfloat162float(__nv_bfloat16 h) { return float(h); }
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }

// ---- device math -------------------------------------------------------------------------------------------
template <class A, class B>
inline auto max(A a, B b) -> decltype(a + b) { return a > b ? a : b; }
template <class A, class B>
inline auto min(A a, B b) -> decltype(a + b) { return a < b ? a : b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline float exp10f(float x) { return powf(10.0f, x); }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline int __float2int_rn(float x) { return int(nearbyintf(x)); }
inline int __float2int_rz(float x) { return int(x); }
inline int __float2int_rd(float x) { return int(floorf(x)); }
inline int __float2int_ru(float x) { return int(ceilf(x)); }
inline float __int2float_rn(int x) { return float(x); }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline float __uint_as_float(unsigned i) { float x; std::memcpy(&x, &i, 4); return x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
    unsigned r = 0;
    for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
    return r;
}
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }
inline int __mulhi(int a, int b) { return int((long long)a * b >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((unsigned long long)a * b >> 32); }
template <class T>
inline T __ldg(const T* p) { return *p; }
inline long long clock64() { return (long long)xp::progress; }

// ---- atomics: fibers of a launch share one OS thread, so a plain read-modify-write is atomic here ----------
template <class T, class U> inline T atomicAdd(T* a, U v) { T old = *a; *a = T(old + v); return old; }
template <class T, class U> inline T atomicSub(T* a, U v) { T old = *a; *a = T(old - v); return old; }
template <class T, class U> inline T atomicExch(T* a, U v) { T old = *a; *a = T(v); return old; }
template <class T, class U> inline T atomicMax(T* a, U v) { T old = *a; *a = old > T(v) ? old : T(v); return old; }
template <class T, class U> inline T atomicMin(T* a, U v) { T old = *a; *a = old < T(v) ? old : T(v); return old; }
template <class T, class U> inline T atomicAnd(T* a, U v) { T old = *a; *a = T(old & v); return old; }
template <class T, class U> inline T atomicOr(T* a, U v) { T old = *a; *a = T(old | v); return old; }
template <class T, class U> inline T atomicXor(T* a, U v) { T old = *a; *a = T(old ^ v); return old; }
template <class T, class U, class V>
inline T atomicCAS(T* a, U compare, V v) { T old = *a; if (old == T(compare)) *a = T(v); return old; }
inline unsigned atomicInc(unsigned* a, unsigned limit) { unsigned old = *a; *a = old >= limit ? 0 : old + 1; return old; }
inline unsigned atomicDec(unsigned* a, unsigned limit) { unsigned old = *a; *a = (old == 0 || old > limit) ? limit : old - 1; return old; }
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin

// ---- host memory API (shared by the cuda* and hip* spellings) ----------------------------------------------
namespace xp {
enum MemcpyKind { MemcpyHostToHost = 0, MemcpyHostToDevice = 1, MemcpyDeviceToHost = 2, MemcpyDeviceToDevice = 3, MemcpyDefault = 4 };
// Device memory is host memory here, but the allocations are remembered, so that a copy whose kind does not match
// where its pointers live (a host array copied "device to device", say) fails here as it fails on a GPU.
// Each allocation is mapped on its own and ends where an inaccessible page begins (its start 16-byte aligned, as
// vector loads need), so that a kernel reading past what was allocated faults (XP301) instead of reading the
// heap's leftovers. Under AddressSanitizer (bounds-checked builds) the C allocator is used: ASan watches it to the byte.
enum class Space { device, managed };  // managed memory may take part in a copy of any kind
struct Block {
    size_t bytes;
    Space space;
    void* mapping;  // what device_free unmaps (nullptr: from the C allocator)
    size_t mapped;
};
struct Allocations {
    std::mutex lock;
    std::map<const char*, Block> blocks;  // start -> block
};
inline Allocations& allocations() { static Allocations all; return all; }
constexpr size_t kDeviceAlignment = 16;
inline Block guarded_block(void** p, size_t bytes, Space space) {
#if defined(__SANITIZE_ADDRESS__)
    *p = std::calloc(bytes, 1);
    return {bytes, space, nullptr, 0};
#else
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t span = (bytes + kDeviceAlignment - 1) / kDeviceAlignment * kDeviceAlignment;
    const size_t mapped = (span + page - 1) / page * page + page;
    void* mem = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // zeroed
    if (mem == MAP_FAILED) {
        *p = nullptr;
        return {};
    }
    char* guard = static_cast<char*>(mem) + mapped - page;
    mprotect(guard, page, PROT_NONE);
    *p = guard - span;
    return {bytes, space, mem, mapped};
#endif
}
// XP_FRESH_MEMORY=<byte> fills every new device allocation with that byte instead of zeros. A real GPU leaves it
// undefined: verify runs a source twice with different fills to tell what it leaves undefined from what it computes.
inline int fresh_memory_byte() {
    static const int byte = [] {
        const char* fill = std::getenv("XP_FRESH_MEMORY");
        return fill ? std::atoi(fill) & 0xff : 0;
    }();
    return byte;
}
inline int device_malloc(void** p, size_t bytes, Space space = Space::device) {
    const Block block = guarded_block(p, bytes ? bytes : 1, space);
    if (!*p) return 2;
    if (fresh_memory_byte()) std::memset(*p, fresh_memory_byte(), bytes);
    Allocations& all = allocations();
    std::lock_guard<std::mutex> guard(all.lock);
    all.blocks[static_cast<const char*>(*p)] = block;
    return 0;
}
inline int host_malloc(void** p, size_t bytes) {  // pinned host memory: host memory for the copy kinds
    *p = std::calloc(bytes ? bytes : 1, 1);
    return *p ? 0 : 2;
}
inline int device_free(void* p) {
    if (!p) return 0;
    Allocations& all = allocations();
    Block block;
    {
        std::lock_guard<std::mutex> guard(all.lock);
        auto found = all.blocks.find(static_cast<const char*>(p));
        if (found == all.blocks.end()) return 1;  // not from device_malloc (or freed twice): an invalid value
        block = found->second;
        all.blocks.erase(found);
    }
    if (block.mapping) munmap(block.mapping, block.mapped);
    else std::free(p);
    return 0;
}
// 0: host memory, 1: device memory, 2: managed memory
inline int space_of(const void* p) {
    Allocations& all = allocations();
    std::lock_guard<std::mutex> guard(all.lock);
    const char* c = static_cast<const char*>(p);
    auto next = all.blocks.upper_bound(c);
    if (next == all.blocks.begin()) return 0;
    --next;
    if (c >= next->first + next->second.bytes) return 0;
    return next->second.space == Space::managed ? 2 : 1;
}
inline int copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); return 0; }
inline int copy(void* dst, const void* src, size_t bytes, int kind, const char* api) {
    if (bytes > 0 && kind != MemcpyDefault) {
        const bool device_src = kind == MemcpyDeviceToHost || kind == MemcpyDeviceToDevice;
        const bool device_dst = kind == MemcpyHostToDevice || kind == MemcpyDeviceToDevice;
        const int src_space = space_of(src), dst_space = space_of(dst);
        const bool bad_src = src_space != 2 && (src_space == 1) != device_src;
        const bool bad_dst = dst_space != 2 && (dst_space == 1) != device_dst;
        if (bad_src || bad_dst) {
            const bool on_device = bad_src ? src_space == 1 : dst_space == 1;
            static char message[200];
            std::snprintf(message, sizeof message, "%s: the %s is %s memory, but the copy kind says %s memory", api,
                          bad_src ? "source" : "destination", on_device ? "device" : "host",
                          on_device ? "host" : "device");
            fail(message);
        }
    }
    return copy(dst, src, bytes);
}
inline int fill(void* dst, int value, size_t bytes) { std::memset(dst, value, bytes); return 0; }
struct Event {
    unsigned long long stamp = 0;
};
// What the emulated device reports: an A100-like part, so occupancy arithmetic in launchers stays sensible.
struct DeviceProp {
    char name[256] = "xpiler CPU executor";
    size_t totalGlobalMem = size_t(16) << 30;
    size_t sharedMemPerBlock = 48 * 1024;
    size_t sharedMemPerMultiprocessor = 164 * 1024;
    int regsPerBlock = 65536;
    int warpSize = 32;
    int maxThreadsPerBlock = 1024;
    int maxThreadsDim[3] = {1024, 1024, 64};
    int maxGridSize[3] = {2147483647, 65535, 65535};
    int multiProcessorCount = 108;
    int maxThreadsPerMultiProcessor = 2048;
    int major = 8, minor = 0;
    int clockRate = 1410000;
    size_t totalConstMem = 65536;
};
enum DeviceAttr { DevAttrMaxThreadsPerBlock, DevAttrMultiProcessorCount, DevAttrWarpSize, DevAttrMaxSharedMemoryPerBlock,
                  DevAttrComputeCapabilityMajor, DevAttrComputeCapabilityMinor, DevAttrMaxThreadsPerMultiProcessor };
inline int device_attribute(DeviceAttr a) {
    const DeviceProp p;
    switch (a) {
        case DevAttrMaxThreadsPerBlock: return p.maxThreadsPerBlock;
        case DevAttrMultiProcessorCount: return p.multiProcessorCount;
        case DevAttrWarpSize: return warp_size;
        case DevAttrMaxSharedMemoryPerBlock: return int(p.sharedMemPerBlock);
        case DevAttrComputeCapabilityMajor: return p.major;
        case DevAttrComputeCapabilityMinor: return p.minor;
        case DevAttrMaxThreadsPerMultiProcessor: return p.maxThreadsPerMultiProcessor;
    }
    return 0;
}
}  // namespace xp

// ---- runtime API, spelled cudaX or hipX: XP_DEFINE_RUNTIME_API(cuda) / XP_DEFINE_RUNTIME_API(hip) ----------
#define XP_DEFINE_RUNTIME_API(P) \
typedef int P##Error_t; \
constexpr P##Error_t P##Success = 0; \
constexpr P##Error_t P##ErrorMemoryAllocation = 2; \
enum P##MemcpyKind { \
    P##MemcpyHostToHost = xp::MemcpyHostToHost, \
    P##MemcpyHostToDevice = xp::MemcpyHostToDevice, \
    P##MemcpyDeviceToHost = xp::MemcpyDeviceToHost, \
    P##MemcpyDeviceToDevice = xp::MemcpyDeviceToDevice, \
    P##MemcpyDefault = xp::MemcpyDefault, \
}; \
typedef struct xp_stream* P##Stream_t; \
typedef xp::Event* P##Event_t; \
typedef xp::DeviceProp P##DeviceProp; \
enum P##DeviceAttr { \
    P##DevAttrMaxThreadsPerBlock = xp::DevAttrMaxThreadsPerBlock, \
    P##DevAttrMultiProcessorCount = xp::DevAttrMultiProcessorCount, \
    P##DevAttrWarpSize = xp::DevAttrWarpSize, \
    P##DevAttrMaxSharedMemoryPerBlock = xp::DevAttrMaxSharedMemoryPerBlock, \
    P##DevAttrComputeCapabilityMajor = xp::DevAttrComputeCapabilityMajor, \
    P##DevAttrComputeCapabilityMinor = xp::DevAttrComputeCapabilityMinor, \
    P##DevAttrMaxThreadsPerMultiProcessor = xp::DevAttrMaxThreadsPerMultiProcessor, \
}; \
inline P##Error_t P##GetDeviceProperties(P##DeviceProp* p, int) { *p = P##DeviceProp{}; p->warpSize = xp::warp_size; return P##Success; } \
inline P##Error_t P##DeviceGetAttribute(int* v, P##DeviceAttr a, int) { *v = xp::device_attribute(xp::DeviceAttr(a)); return P##Success; } \
template <class F> \
inline P##Error_t P##OccupancyMaxActiveBlocksPerMultiprocessor(int* n, F, int block, size_t) { *n = block > 0 ? 2048 / block : 0; return P##Success; } \
inline const char* P##GetErrorString(P##Error_t e) { return e == P##Success ? "no error" : "out of memory"; } \
inline const char* P##GetErrorName(P##Error_t e) { return e == P##Success ? #P "Success" : #P "ErrorMemoryAllocation"; } \
inline P##Error_t P##GetLastError() { return P##Success; } \
inline P##Error_t P##PeekAtLastError() { return P##Success; } \
inline P##Error_t P##DeviceSynchronize() { return P##Success; } \
inline P##Error_t P##DeviceReset() { return P##Success; } \
inline P##Error_t P##SetDevice(int) { return P##Success; } \
inline P##Error_t P##GetDevice(int* d) { *d = 0; return P##Success; } \
inline P##Error_t P##GetDeviceCount(int* n) { *n = 1; return P##Success; } \
inline P##Error_t P##Malloc(void** p, size_t bytes) { return xp::device_malloc(p, bytes); } \
template <class T> \
inline P##Error_t P##Malloc(T** p, size_t bytes) { return xp::device_malloc(reinterpret_cast<void**>(p), bytes); } \
template <class T> \
inline P##Error_t P##MallocManaged(T** p, size_t bytes, unsigned = 0) { \
    return xp::device_malloc(reinterpret_cast<void**>(p), bytes, xp::Space::managed); \
} \
template <class T> \
inline P##Error_t P##MallocHost(T** p, size_t bytes) { return xp::host_malloc(reinterpret_cast<void**>(p), bytes); } \
inline P##Error_t P##Free(void* p) { return xp::device_free(p); } \
inline P##Error_t P##FreeHost(void* p) { std::free(p); return P##Success; } \
inline P##Error_t P##Memcpy(void* dst, const void* src, size_t bytes, P##MemcpyKind kind) { \
    return xp::copy(dst, src, bytes, kind, #P "Memcpy"); \
} \
inline P##Error_t P##MemcpyAsync(void* dst, const void* src, size_t bytes, P##MemcpyKind kind, P##Stream_t = nullptr) { \
    return xp::copy(dst, src, bytes, kind, #P "MemcpyAsync"); \
} \
inline P##Error_t P##Memset(void* dst, int value, size_t bytes) { return xp::fill(dst, value, bytes); } \
inline P##Error_t P##MemsetAsync(void* dst, int value, size_t bytes, P##Stream_t = nullptr) { return xp::fill(dst, value, bytes); } \
template <class T> \
inline P##Error_t P##MemcpyToSymbol(T& symbol, const void* src, size_t bytes, size_t offset = 0, P##MemcpyKind = P##MemcpyHostToDevice) { \
    return xp::copy(reinterpret_cast<char*>(&symbol) + offset, src, bytes); \
} \
template <class T> \
inline P##Error_t P##MemcpyFromSymbol(void* dst, const T& symbol, size_t bytes, size_t offset = 0, P##MemcpyKind = P##MemcpyDeviceToHost) { \
    return xp::copy(dst, reinterpret_cast<const char*>(&symbol) + offset, bytes); \
} \
constexpr unsigned P##StreamDefault = 0, P##StreamNonBlocking = 1; \
constexpr unsigned P##EventDefault = 0, P##EventBlockingSync = 1, P##EventDisableTiming = 2; \
inline P##Error_t P##StreamCreate(P##Stream_t* s) { *s = nullptr; return P##Success; } \
inline P##Error_t P##StreamCreateWithFlags(P##Stream_t* s, unsigned) { *s = nullptr; return P##Success; } \
inline P##Error_t P##StreamCreateWithPriority(P##Stream_t* s, unsigned, int) { *s = nullptr; return P##Success; } \
inline P##Error_t P##StreamQuery(P##Stream_t) { return P##Success; } \
inline P##Error_t P##StreamWaitEvent(P##Stream_t, P##Event_t, unsigned = 0) { return P##Success; } \
inline P##Error_t P##EventCreateWithFlags(P##Event_t* e, unsigned) { *e = new xp::Event; return P##Success; } \
inline P##Error_t P##EventQuery(P##Event_t) { return P##Success; } \
inline P##Error_t P##StreamDestroy(P##Stream_t) { return P##Success; } \
inline P##Error_t P##StreamSynchronize(P##Stream_t) { return P##Success; } \
inline P##Error_t P##EventCreate(P##Event_t* e) { *e = new xp::Event; return P##Success; } \
inline P##Error_t P##EventRecord(P##Event_t e, P##Stream_t = nullptr) { e->stamp = xp::progress; return P##Success; } \
inline P##Error_t P##EventSynchronize(P##Event_t) { return P##Success; } \
inline P##Error_t P##EventElapsedTime(float* ms, P##Event_t, P##Event_t) { *ms = 0.0f; return P##Success; } \
inline P##Error_t P##EventDestroy(P##Event_t e) { delete e; return P##Success; } \
template <class F, class V> \
inline P##Error_t P##FuncSetAttribute(F, V, int) { return P##Success; } \
constexpr int P##FuncAttributeMaxDynamicSharedMemorySize = 8;

// SIMT emulation core shared by the CUDA and HIP dialects of the CPU executor.
//
// Every GPU thread of a block runs as a fiber (its own stack, so locals are naturally thread-private) on one OS
// thread. A fiber runs until it reaches a barrier (__syncthreads, a warp-collective op), then yields to the next
// one; a barrier releases once every live thread of its group has arrived, and threads that returned early no
// longer count. Blocks run one after another, so `__shared__` storage can simply be static. Code between
// barriers is plain compiled C++: that is what makes a 512^3 gemm take seconds instead of hours.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sys/mman.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return {x, y, z}; }
};

namespace xp {

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "xpiler runtime error: %s\n", what);
    std::fflush(stderr);
    std::_Exit(86);  // the executor reads stderr; exit code 86 marks a diagnosed runtime error
}

// ---- context switching -------------------------------------------------------------------------------------
#if defined(__x86_64__)
extern "C" void xp_switch_context(void** save_sp, void* load_sp);
asm(R"(
    .text
    .p2align 4
    .globl xp_switch_context
    .hidden xp_switch_context
    .type xp_switch_context,@function
xp_switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size xp_switch_context, .-xp_switch_context
)");
// Lays out a fresh stack so that the first switch to it "returns" into `entry`.
inline void* prepare_stack(char* top, void (*entry)()) {
    auto* sp = reinterpret_cast<void**>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t(15));
    *--sp = nullptr;                           // fake return address of entry (never used)
    *--sp = reinterpret_cast<void*>(entry);    // popped by `ret`
    for (int i = 0; i < 6; ++i) *--sp = nullptr;  // rbp rbx r12 r13 r14 r15
    return sp;
}
#else
#error "the xpiler SIMT emulator needs an x86-64 host"
#endif

// ---- threads, blocks, warps --------------------------------------------------------------------------------
constexpr int kExchangeWords = 8;  // bytes exchanged per lane in one warp-collective step: 64

struct Fiber {
    void* sp = nullptr;
    uint3 tid{0, 0, 0};
    unsigned linear = 0;
    bool done = false;
};

struct Barrier {
    unsigned arrived = 0;
    unsigned generation = 0;
    unsigned live = 0;
};

struct Warp {
    Barrier barrier;
    std::vector<uint64_t> slots;  // kExchangeWords per lane
};

inline int warp_size = 32;
inline dim3 grid_dim, block_dim;
inline uint3 block_idx;
inline size_t dynamic_shared_bytes = 0;
alignas(16) inline unsigned char dynamic_shared[1 << 20];  // extern __shared__ arrays alias this
inline Fiber* current = nullptr;
inline void* scheduler_sp = nullptr;
inline std::vector<Fiber> fibers;
inline std::vector<Warp> warps;
inline Barrier block_barrier;
inline unsigned progress = 0;  // bumped on every arrival/exit: no progress in a full round means deadlock
inline const std::function<void()>* kernel_body = nullptr;

// A GPU thread may hold up to 512 KB of local memory (CUDA's limit per thread); its fiber gets that and room for
// the emulation's own frames. Pages are committed only when touched.
inline size_t stack_bytes() {
    static size_t bytes = [] {
        const char* kb = std::getenv("XP_STACK_KB");
        return size_t(kb ? std::atoi(kb) : 1024) * 1024;
    }();
    return bytes;
}

// Stacks are reserved once and reused by every block; each has a guard page below it, so a stack overflow
// faults instead of corrupting the neighbour.
inline char* stack_top(unsigned index) {
    static std::vector<char*> tops;
    const size_t page = size_t(sysconf(_SC_PAGESIZE)), size = stack_bytes();
    while (tops.size() <= index) {
        void* mem = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED) fail("cannot allocate a thread stack (too many threads per block?)");
        mprotect(mem, page, PROT_NONE);
        tops.push_back(static_cast<char*>(mem) + page + size);
    }
    return tops[index];
}

// XP_THREAD_ORDER=reverse runs the blocks of a launch, and the threads of a block, in the opposite order. A result
// that changes with it depends on which of some racing threads goes last (passes/verify tells such inputs apart).
inline bool reverse_order() {
    static const bool reverse = [] {
        const char* order = std::getenv("XP_THREAD_ORDER");
        return order && std::strcmp(order, "reverse") == 0;
    }();
    return reverse;
}

inline void yield() { xp_switch_context(&current->sp, scheduler_sp); }

inline Warp& my_warp() { return warps[current->linear / unsigned(warp_size)]; }
inline unsigned lane_id() { return current->linear % unsigned(warp_size); }

inline void arrive_and_wait(Barrier& b) {
    const unsigned gen = b.generation;
    ++progress;
    if (++b.arrived >= b.live) {
        b.arrived = 0;
        ++b.generation;
        return;
    }
    while (b.generation == gen) yield();
}

// A thread that exits releases any barrier that was only waiting for it.
inline void leave(Barrier& b) {
    --b.live;
    if (b.arrived > 0 && b.arrived >= b.live) {
        b.arrived = 0;
        ++b.generation;
    }
}

inline void fiber_main() {
    (*kernel_body)();
    current->done = true;
    ++progress;
    leave(block_barrier);
    leave(my_warp().barrier);
    xp_switch_context(&current->sp, scheduler_sp);
    fail("finished thread resumed");
}

inline void run_block(uint3 block) {
    block_idx = block;
    const unsigned n = block_dim.x * block_dim.y * block_dim.z;
    fibers.assign(n, Fiber{});
    const unsigned n_warps = (n + warp_size - 1) / warp_size;
    warps.resize(n_warps);
    for (unsigned w = 0; w < n_warps; ++w) {
        warps[w].barrier = Barrier{0, 0, std::min<unsigned>(warp_size, n - w * warp_size)};
        warps[w].slots.assign(size_t(warp_size) * kExchangeWords, 0);
    }
    block_barrier = Barrier{0, 0, n};
    for (unsigned i = 0; i < n; ++i) {
        Fiber& f = fibers[i];
        f.linear = i;
        f.tid = {i % block_dim.x, (i / block_dim.x) % block_dim.y, i / (block_dim.x * block_dim.y)};
        f.sp = prepare_stack(stack_top(i), fiber_main);
    }
    unsigned remaining = n;
    while (remaining > 0) {
        const unsigned before = progress;
        remaining = 0;
        for (unsigned k = 0; k < n; ++k) {
            const unsigned i = reverse_order() ? n - 1 - k : k;
            if (fibers[i].done) continue;
            current = &fibers[i];
            xp_switch_context(&scheduler_sp, current->sp);
            if (!fibers[i].done) ++remaining;
        }
        if (remaining > 0 && progress == before) {
            char msg[160];
            std::snprintf(msg, sizeof msg,
                          "deadlock in block (%u,%u,%u): %u threads wait at a barrier that the others never reach",
                          block.x, block.y, block.z, remaining);
            fail(msg);
        }
    }
    current = nullptr;
}

inline void launch(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
    const unsigned long long threads = 1ull * block.x * block.y * block.z;
    if (threads == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0) fail("kernel launched with an empty grid or block");
    if (threads > 1024) fail("kernel launched with more than 1024 threads per block");
    if (shared_bytes > sizeof(dynamic_shared)) fail("dynamic shared memory request exceeds 1 MiB");
    grid_dim = grid;
    block_dim = block;
    dynamic_shared_bytes = shared_bytes;
    kernel_body = &body;
    const unsigned long long blocks = 1ull * grid.x * grid.y * grid.z;
    for (unsigned long long k = 0; k < blocks; ++k) {
        const unsigned long long b = reverse_order() ? blocks - 1 - k : k;
        run_block({unsigned(b % grid.x), unsigned(b / grid.x % grid.y), unsigned(b / grid.x / grid.y)});
    }
    kernel_body = nullptr;
}

#if defined(__SANITIZE_ADDRESS__)
// In bounds-checked builds, AddressSanitizer calls this before it aborts: name the offending GPU thread.
extern "C" void __sanitizer_set_death_callback(void (*)(void));
inline void report_current_thread() {
    if (current)
        std::fprintf(stderr, "xpiler thread: thread (%u,%u,%u) of block (%u,%u,%u)\n", current->tid.x, current->tid.y,
                     current->tid.z, block_idx.x, block_idx.y, block_idx.z);
}
inline const bool death_callback_installed = (__sanitizer_set_death_callback(report_current_thread), true);
#endif

inline void require_thread(const char* op) {
    if (!current) {
        char msg[128];
        std::snprintf(msg, sizeof msg, "%s called outside a kernel", op);
        fail(msg);
    }
}

inline void sync_block() {
    require_thread("__syncthreads");
    arrive_and_wait(block_barrier);
}

inline void sync_warp() {
    require_thread("__syncwarp");
    arrive_and_wait(my_warp().barrier);
}

// Warp exchange: every lane publishes a value, then reads another lane's. Two barriers keep a fast lane from
// overwriting its slot before a slow lane has read it.
template <class T>
inline T exchange(const T& value, int src_lane) {
    static_assert(sizeof(T) <= sizeof(uint64_t) * kExchangeWords, "shuffled type too large");
    require_thread("warp shuffle");
    Warp& w = my_warp();
    std::memcpy(&w.slots[size_t(lane_id()) * kExchangeWords], &value, sizeof(T));
    arrive_and_wait(w.barrier);
    T out;
    std::memcpy(&out, &w.slots[size_t(src_lane) * kExchangeWords], sizeof(T));
    arrive_and_wait(w.barrier);
    return out;
}

inline int lanes_in_my_warp() { return std::min<int>(warp_size, int(fibers.size()) - int(current->linear / warp_size) * warp_size); }

template <class T>
inline T shfl(T v, int src, int width) {
    const int lane = int(lane_id());
    int target = (lane / width) * width + ((src % width + width) % width);
    if (target >= lanes_in_my_warp()) target = lane;
    return exchange(v, target);
}
template <class T>
inline T shfl_up(T v, unsigned delta, int width) {
    const int lane = int(lane_id());
    const int target = (lane % width) >= int(delta) ? lane - int(delta) : lane;
    return exchange(v, target);
}
template <class T>
inline T shfl_down(T v, unsigned delta, int width) {
    const int lane = int(lane_id());
    int target = (lane % width) + int(delta) < width ? lane + int(delta) : lane;
    if (target >= lanes_in_my_warp()) target = lane;
    return exchange(v, target);
}
template <class T>
inline T shfl_xor(T v, int mask, int width) {
    const int lane = int(lane_id());
    int target = lane ^ mask;
    if (target / width != lane / width || target >= lanes_in_my_warp()) target = lane;
    return exchange(v, target);
}

// Votes over the lanes of the calling thread's warp: the ballot, and the lanes that took part, both read while
// every lane waits (a lane that finished its kernel later must not drop out of `all`).
struct Votes {
    uint64_t ballot = 0;
    uint64_t active = 0;
};
inline Votes votes(bool predicate) {
    require_thread("warp vote");
    Warp& w = my_warp();
    w.slots[size_t(lane_id()) * kExchangeWords] = predicate ? 1 : 0;
    arrive_and_wait(w.barrier);
    Votes out;
    const int lanes = lanes_in_my_warp();
    for (int l = 0; l < lanes; ++l) {
        const Fiber& f = fibers[current->linear - lane_id() + l];
        if (f.done) continue;
        out.active |= uint64_t(1) << l;
        if (w.slots[size_t(l) * kExchangeWords]) out.ballot |= uint64_t(1) << l;
    }
    arrive_and_wait(w.barrier);
    return out;
}
inline uint64_t ballot(bool predicate) { return votes(predicate).ballot; }
inline bool vote_all(bool predicate) {
    const Votes v = votes(predicate);
    return v.ballot == v.active;
}

inline uint64_t active_mask() {
    require_thread("__activemask");
    uint64_t bits = 0;
    const int lanes = lanes_in_my_warp();
    for (int l = 0; l < lanes; ++l)
        if (!fibers[current->linear - lane_id() + l].done) bits |= uint64_t(1) << l;
    return bits;
}

// Block-wide reduction of a predicate (__syncthreads_count/and/or). The tally is tagged with the barrier
// generation it belongs to, so the first arrival of a new call starts from zero.
inline int block_count(bool predicate) {
    static struct { unsigned generation = ~0u; int count = 0; } tally;
    require_thread("__syncthreads_count");
    if (tally.generation != block_barrier.generation) tally = {block_barrier.generation, 0};
    tally.count += predicate ? 1 : 0;
    arrive_and_wait(block_barrier);
    const int result = tally.count;
    arrive_and_wait(block_barrier);
    return result;
}

}  // namespace xp

#define threadIdx (::xp::current->tid)
#define blockIdx (::xp::block_idx)
#define blockDim (::xp::block_dim)
#define gridDim (::xp::grid_dim)

#define __global__
#define __device__
#define __host__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ static
#define __constant__
#define __managed__
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

inline void __syncthreads() { xp::sync_block(); }
inline int __syncthreads_count(int p) { return xp::block_count(p != 0); }
inline int __syncthreads_and(int p) { return xp::block_count(p != 0) == int(xp::block_dim.x * xp::block_dim.y * xp::block_dim.z); }
inline int __syncthreads_or(int p) { return xp::block_count(p != 0) > 0; }
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}

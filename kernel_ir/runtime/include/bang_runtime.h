// BANG C task model on the CPU executor: qualifiers, built-in task variables, launches and barriers.
//
// Every task of a launch is one std::thread, so `__nram__`/`__wram__`/`__ldram__` buffers (thread_local) are
// private to their task exactly like the per-core on-chip memories, whether declared at file scope or in a
// function. Barriers count live tasks only: a task that returns early drops out instead of deadlocking the
// others, and a launch in which every live task waits at a barrier that can no longer complete (for example
// __sync_cluster in some tasks and __sync_all in the others) is reported as a deadlock instead of hanging.
//
// `__mlu_shared__` (SRAM, one copy per cluster) variables are static storage gathered in the linker section
// `xp_bang_sram`. When a kernel has any, the launch runs its clusters one at a time (the cores of a cluster
// still run concurrently): the running cluster owns the section, and its content is saved to that cluster's
// image when the cluster finishes or reaches __sync_all, then the next cluster's image is restored. Programs
// that synchronise their SRAM use with barriers (as they must on hardware) see per-cluster SRAM.
// Limits: the memory core (MPU, coreId 0x80) is not emulated, so code guarded by `coreId == 0x80` never runs;
// an `__mlu_shared__` variable declared in an inline or template function next to one declared elsewhere makes
// g++ report a "section type conflict"; with SRAM, a cluster that spins on a GDRAM flag set by another cluster
// (instead of meeting it at __sync_all) waits forever, since the other cluster runs only after it.
// `__mlu_const__` and `__mlu_device__` variables are ordinary globals; the sizes below are nominal (the
// emulator does not limit on-chip memory).
#pragma once
#include <condition_variable>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Argument checks, by level: 0 = none; 1 (default) = the rules the manual states for every generation
// (positive counts, divisibility, stride and segment rules); 2 = also the (m)tp_2xx alignment rules (64-byte
// addresses, byte counts that are multiples of 128). The level is the XP_BANG_STRICT macro, or the
// XP_BANG_STRICT environment variable of the run when it is set.
#ifndef XP_BANG_STRICT
#define XP_BANG_STRICT 1
#endif

// The emulated target: an MLU370-class core (mtp_372). On-chip memory sizes in KB, as cncc defines them.
#define __BANG__ 1
#define __BANG_ARCH__ 372
#define __MLU_NRAM_SIZE__ 512
#define __MLU_WRAM_SIZE__ 512
#define __MLU_SRAM_SIZE__ 2048

#define __mlu_global__
#define __mlu_entry__
#define __mlu_func__ inline
#define __mlu_device__
#define __mlu_host__
#define __mlu_const__
#define __nram__ thread_local __attribute__((aligned(64)))
#define __wram__ thread_local __attribute__((aligned(64)))
#define __ldram__ thread_local __attribute__((aligned(64)))
#define __mlu_shared__ static __attribute__((section("xp_bang_sram"), aligned(64)))

extern "C" {
extern char __start_xp_bang_sram[] __attribute__((weak));  // provided by the linker when any SRAM variable exists
extern char __stop_xp_bang_sram[] __attribute__((weak));
}

// Built-in variables of the running task (set by the launch before the kernel body runs).
inline thread_local int taskId, taskIdX, taskIdY, taskIdZ;
inline thread_local int taskDim = 1, taskDimX = 1, taskDimY = 1, taskDimZ = 1;
inline thread_local int coreId, coreDim = 1, clusterId, clusterDim = 1;

// Device printf. The emulator writes to stderr, where a run's diagnostics go.
#define __bang_printf(...) std::fprintf(stderr, __VA_ARGS__)

namespace xp_bang {

inline thread_local bool in_task = false;

#if defined(__SANITIZE_ADDRESS__)
// In bounds-checked builds, AddressSanitizer calls this before it aborts: name the offending task.
extern "C" void __sanitizer_set_death_callback(void (*)(void));
inline void report_current_task() {
    if (in_task) std::fprintf(stderr, "xpiler thread: task %d (cluster %d, core %d)\n", taskId, clusterId, coreId);
}
inline const bool death_callback_installed = (__sanitizer_set_death_callback(report_current_task), true);
#endif

// Prints a diagnosis in the executor's format and ends the process (exit status 86 = diagnosed runtime error).
[[noreturn]] __attribute__((format(printf, 1, 2))) inline void fail(const char* format, ...) {
    char message[1024];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(message, sizeof message, format, ap);
    va_end(ap);
    if (in_task)
        std::fprintf(stderr, "xpiler runtime error: %s [BANG task %d, cluster %d, core %d]\n", message, taskId,
                     clusterId, coreId);
    else
        std::fprintf(stderr, "xpiler runtime error: %s\n", message);
    std::fflush(stderr);
    std::_Exit(86);
}

inline int strictness() {
    static const int level = [] {
        const char* env = std::getenv("XP_BANG_STRICT");
        return env && *env ? std::atoi(env) : XP_BANG_STRICT;
    }();
    return level;
}

// A rule of every generation (level 1) and a (m)tp_2xx alignment rule (level 2); the message is printf-style.
#define XP_BANG_REQUIRE(cond, ...) \
    do {                           \
        if (::xp_bang::strictness() >= 1 && !(cond)) ::xp_bang::fail(__VA_ARGS__); \
    } while (0)
#define XP_BANG_REQUIRE_2XX(cond, ...) \
    do {                               \
        if (::xp_bang::strictness() >= 2 && !(cond)) ::xp_bang::fail(__VA_ARGS__); \
    } while (0)

inline bool aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

enum class TaskState : unsigned char { running, at_cluster_sync, at_all_sync, awaiting_turn, exited };

inline const char* state_name(TaskState s) {
    switch (s) {
        case TaskState::running: return "running";
        case TaskState::at_cluster_sync: return "__sync_cluster";
        case TaskState::at_all_sync: return "__sync_all";
        case TaskState::awaiting_turn: return "waiting for its cluster's turn";
        case TaskState::exited: return "returned";
    }
    return "?";
}

class Launch;
inline thread_local Launch* running_launch = nullptr;  // the launch the calling task belongs to

// One launch: the tasks' threads, the cluster and global barriers, and (with SRAM) the cluster schedule.
class Launch {
public:
    Launch(int dim_x, int dim_y, int dim_z, int cores_per_cluster)
        : dims_{dim_x, dim_y, dim_z}, cores_(cores_per_cluster), tasks_(dim_x * dim_y * dim_z) {
        if (dim_x < 1 || dim_y < 1 || dim_z < 1 || cores_per_cluster < 1)
            fail("invalid BANG launch: task dims (%d, %d, %d), %d cores per cluster", dim_x, dim_y, dim_z,
                 cores_per_cluster);
        if (tasks_ % cores_ != 0)
            fail("invalid BANG launch: taskDim %d is not a multiple of the %d cores of a cluster", tasks_, cores_);
        clusters_ = tasks_ / cores_;
        sram_ = __start_xp_bang_sram;
        sram_bytes_ = sram_ ? size_t(__stop_xp_bang_sram - __start_xp_bang_sram) : 0;
        serial_ = sram_bytes_ > 0;
        alive_ = tasks_;
        alive_in_.assign(clusters_, cores_);
        cluster_arrived_.assign(clusters_, 0);
        cluster_generation_.assign(clusters_, 0);
        parked_.assign(clusters_, 0);
        state_.assign(tasks_, TaskState::running);
        if (serial_) {
            images_.assign(clusters_, std::vector<char>(sram_bytes_, 0));
            std::memset(sram_, 0, sram_bytes_);
            for (int t = cores_; t < tasks_; ++t) state_[t] = TaskState::awaiting_turn;
            blocked_ = tasks_ - cores_;  // every cluster but the first waits for its turn
        }
    }

    void run(const std::function<void()>& body) {
        std::vector<std::thread> threads;
        threads.reserve(tasks_);
        for (int t = 0; t < tasks_; ++t) threads.emplace_back([this, t, &body] { task_main(t, body); });
        for (auto& thread : threads) thread.join();
        if (!error_.empty()) fail("%s", error_.c_str());
    }

    void sync_cluster() {
        std::unique_lock lock(mutex_);
        const int c = clusterId;
        if (++cluster_arrived_[c] == alive_in_[c]) {
            release_cluster(c);
            return;
        }
        const long generation = cluster_generation_[c];
        block(TaskState::at_cluster_sync);
        cv_.wait(lock, [&] { return cluster_generation_[c] != generation; });
        state_[taskId] = TaskState::running;
    }

    void sync_all() {
        std::unique_lock lock(mutex_);
        const long generation = all_generation_;
        const int c = clusterId;
        if (serial_) {
            ++parked_[c];
            block(TaskState::at_all_sync, /*check=*/false);
            advance_turn();
            check_deadlock();
            cv_.wait(lock, [&] { return all_generation_ != generation && turn_ == c; });
        } else {
            if (++all_arrived_ == alive_) {
                release_all();
                return;
            }
            block(TaskState::at_all_sync);
            cv_.wait(lock, [&] { return all_generation_ != generation; });
        }
        state_[taskId] = TaskState::running;
    }

    // SRAM2SRAM to another cluster: in the serial schedule that cluster's SRAM is its saved image.
    void copy_to_cluster_sram(int cluster, void* dst, const void* src, size_t bytes) {
        char* d = static_cast<char*>(dst);
        if (cluster < 0 || cluster >= clusters_) fail("__memcpy SRAM2SRAM: cluster %d does not exist", cluster);
        if (!serial_ || d < sram_ || d + bytes > sram_ + sram_bytes_)
            fail("__memcpy SRAM2SRAM: the destination is not an __mlu_shared__ variable");
        if (cluster == clusterId) {
            std::memmove(d, src, bytes);
            return;
        }
        std::lock_guard lock(mutex_);
        std::memcpy(images_[cluster].data() + (d - sram_), src, bytes);
    }

private:
    void task_main(int t, const std::function<void()>& body) {
        taskId = t;
        taskDimX = dims_[0], taskDimY = dims_[1], taskDimZ = dims_[2];
        taskDim = tasks_;
        taskIdX = t % dims_[0];
        taskIdY = t / dims_[0] % dims_[1];
        taskIdZ = t / (dims_[0] * dims_[1]);
        coreDim = cores_, coreId = t % cores_;
        clusterDim = clusters_, clusterId = t / cores_;
        running_launch = this;
        in_task = true;
        if (serial_) {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return turn_ == clusterId; });
            state_[t] = TaskState::running;
        }
        try {
            body();
        } catch (const std::exception& e) {
            record_error("BANG task " + std::to_string(t) + " threw: " + e.what());
        } catch (...) {
            record_error("BANG task " + std::to_string(t) + " threw a non-standard exception");
        }
        finish_task();
        in_task = false;
    }

    void record_error(const std::string& what) {
        std::lock_guard lock(mutex_);
        if (error_.empty()) error_ = what;
    }

    // A returning task leaves every barrier: the ones waiting for it may now be complete.
    void finish_task() {
        std::lock_guard lock(mutex_);
        const int c = clusterId;
        state_[taskId] = TaskState::exited;
        --alive_;
        --alive_in_[c];
        if (cluster_arrived_[c] > 0 && cluster_arrived_[c] == alive_in_[c]) release_cluster(c, 0);
        if (serial_) {
            ++parked_[c];
            advance_turn();
        } else if (all_arrived_ > 0 && all_arrived_ == alive_) {
            release_all(0);
        }
        check_deadlock();
    }

    // The tasks waiting at the barrier (all arrivals but the caller, `self` = 1, if it did not block) run again.
    void release_cluster(int c, int self = 1) {
        blocked_ -= cluster_arrived_[c] - self;
        cluster_arrived_[c] = 0;
        ++cluster_generation_[c];
        cv_.notify_all();
    }
    void release_all(int self = 1) {
        blocked_ -= all_arrived_ - self;
        all_arrived_ = 0;
        ++all_generation_;
        cv_.notify_all();
    }

    void block(TaskState where, bool check = true) {
        state_[taskId] = where;
        ++blocked_;
        if (check) check_deadlock();
    }

    // Serial schedule: once every task of the running cluster has returned or reached __sync_all, its SRAM is
    // saved and the next cluster runs; after the last one, the __sync_all completes and the first runs again.
    void advance_turn() {
        while (turn_ >= 0 && parked_[turn_] == cores_) {
            std::memcpy(images_[turn_].data(), sram_, sram_bytes_);
            int next = turn_ + 1;
            while (next < clusters_ && alive_in_[next] == 0) ++next;
            if (next == clusters_) {
                if (alive_ == 0) {
                    turn_ = -1;
                    return;
                }
                ++all_generation_;
                for (int c = 0; c < clusters_; ++c) parked_[c] = cores_ - alive_in_[c];
                next = 0;
                while (alive_in_[next] == 0) ++next;
            }
            turn_ = next;
            std::memcpy(sram_, images_[turn_].data(), sram_bytes_);
            blocked_ -= alive_in_[turn_];
            for (int t = turn_ * cores_; t < (turn_ + 1) * cores_; ++t)
                if (state_[t] != TaskState::exited) state_[t] = TaskState::running;
            cv_.notify_all();
        }
    }

    // Called under the lock after a task blocks or returns: if every live task is blocked, none can ever
    // release the others.
    void check_deadlock() {
        if (alive_ == 0 || blocked_ < alive_) return;
        std::string report;
        for (int t = 0; t < tasks_; ++t)
            report += "\n  task " + std::to_string(t) + " (cluster " + std::to_string(t / cores_) + ", core " +
                      std::to_string(t % cores_) + "): " + state_name(state_[t]);
        fail("deadlock: every live BANG task waits at a barrier that can no longer complete "
             "(are __sync_cluster/__sync_all reached by all tasks, in the same order?)%s",
             report.c_str());
    }

    int dims_[3];
    int cores_, tasks_, clusters_ = 1;
    std::mutex mutex_;
    std::condition_variable cv_;
    int alive_ = 0, blocked_ = 0, all_arrived_ = 0;
    long all_generation_ = 0;
    std::vector<int> alive_in_, cluster_arrived_, parked_;
    std::vector<long> cluster_generation_;
    std::vector<TaskState> state_;
    std::string error_;
    // serial cluster schedule (kernels with __mlu_shared__ variables)
    bool serial_ = false;
    char* sram_ = nullptr;
    size_t sram_bytes_ = 0;
    int turn_ = 0;
    std::vector<std::vector<char>> images_;
};

inline Launch& current_launch(const char* what) {
    if (!running_launch) fail("%s called outside a BANG task", what);
    return *running_launch;
}

}  // namespace xp_bang

// Runs every task of a launch concurrently and returns when all have finished (called by the entry wrapper).
inline void __xp_bang_launch(int dim_x, int dim_y, int dim_z, int cores_per_cluster, std::function<void()> body) {
    xp_bang::Launch launch(dim_x, dim_y, dim_z, cores_per_cluster);
    launch.run(body);
}

// ---- synchronisation -----------------------------------------------------------------------------------
inline void __sync_cluster() { xp_bang::current_launch("__sync_cluster").sync_cluster(); }
inline void __sync_all() { xp_bang::current_launch("__sync_all").sync_all(); }
inline void __sync_all_ipu() { xp_bang::current_launch("__sync_all_ipu").sync_all(); }
inline void __sync_all_ipu_within_cluster() { xp_bang::current_launch("__sync_all_ipu_within_cluster").sync_cluster(); }
// The emulated memory core does not exist and every instruction completes before the next one starts, so the
// pipeline and MPU barriers have nothing to wait for.
inline void __sync_all_mpu() {}
inline void __sync() {}
inline void __sync_io() {}
inline void __sync_compute() {}
inline void __sync_move() {}
inline void __sync_io_move_compute(bool = true, bool = true, bool = true, bool = true, bool = true, bool = true) {}
inline bool __is_ipu() { return true; }
inline bool __is_mpu() { return false; }

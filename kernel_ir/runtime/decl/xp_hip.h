// Front-end declarations for HIP sources: runtime API, hipLaunchKernelGGL, wave-size warps.
#pragma once
#include "xp_gpu.h"

static constexpr int warpSize = 64;
#define HIP_KERNEL_NAME(...) __VA_ARGS__
#define HIP_SYMBOL(x) x
#define HIP_DYNAMIC_SHARED(type, var) extern __shared__ type var[];
#define hipThreadIdx_x (threadIdx.x)
#define hipThreadIdx_y (threadIdx.y)
#define hipThreadIdx_z (threadIdx.z)
#define hipBlockIdx_x (blockIdx.x)
#define hipBlockIdx_y (blockIdx.y)
#define hipBlockIdx_z (blockIdx.z)
#define hipBlockDim_x (blockDim.x)
#define hipBlockDim_y (blockDim.y)
#define hipBlockDim_z (blockDim.z)
#define hipGridDim_x (gridDim.x)
#define hipGridDim_y (gridDim.y)
#define hipGridDim_z (gridDim.z)

enum hipError_t { hipSuccess = 0, hipErrorInvalidValue = 1, hipErrorOutOfMemory = 2 };
enum hipMemcpyKind { hipMemcpyHostToHost = 0, hipMemcpyHostToDevice = 1, hipMemcpyDeviceToHost = 2,
                     hipMemcpyDeviceToDevice = 3, hipMemcpyDefault = 4 };
enum hipFuncAttribute { hipFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum hipDeviceAttribute_t { hipDeviceAttributeMaxThreadsPerBlock = 1, hipDeviceAttributeWarpSize = 10,
                            hipDeviceAttributeMultiprocessorCount = 16,
                            hipDeviceAttributeMaxSharedMemoryPerBlock = 8 };
typedef struct ihipStream_t* hipStream_t;
#define hipStreamDefault 0
#define hipStreamNonBlocking 1
#define hipEventDefault 0
#define hipEventBlockingSync 1
#define hipEventDisableTiming 2
typedef struct ihipEvent_t* hipEvent_t;
struct hipDeviceProp_t { char name[256]; size_t totalGlobalMem; size_t sharedMemPerBlock; int warpSize;
    int maxThreadsPerBlock; int multiProcessorCount; int major; int minor; };
typedef __bf16 hip_bfloat16;
typedef __bf16 __hip_bfloat16;

extern "C" unsigned __hipPushCallConfiguration(dim3 grid, dim3 block, size_t shared = 0, hipStream_t stream = 0);
template <class F, class... Args>
void hipLaunchKernelGGL(F kernel, const dim3& grid, const dim3& block, unsigned int shared, hipStream_t stream,
                        Args... args);

hipError_t hipMalloc(void**, size_t);
template <class T> hipError_t hipMalloc(T**, size_t);
hipError_t hipMallocManaged(void**, size_t, unsigned int flags = 1);
template <class T> hipError_t hipMallocManaged(T**, size_t, unsigned int flags = 1);
hipError_t hipHostMalloc(void**, size_t, unsigned int flags = 0);
template <class T> hipError_t hipHostMalloc(T**, size_t, unsigned int flags = 0);
hipError_t hipFree(void*);
hipError_t hipHostFree(void*);
hipError_t hipMemcpy(void*, const void*, size_t, hipMemcpyKind);
hipError_t hipMemcpyAsync(void*, const void*, size_t, hipMemcpyKind, hipStream_t stream = 0);
hipError_t hipMemset(void*, int, size_t);
hipError_t hipMemsetAsync(void*, int, size_t, hipStream_t stream = 0);
template <class T> hipError_t hipMemcpyToSymbol(const T&, const void*, size_t, size_t offset = 0,
                                                hipMemcpyKind kind = hipMemcpyHostToDevice);
template <class T> hipError_t hipMemcpyFromSymbol(void*, const T&, size_t, size_t offset = 0,
                                                  hipMemcpyKind kind = hipMemcpyDeviceToHost);
hipError_t hipDeviceSynchronize();
hipError_t hipDeviceReset();
hipError_t hipGetLastError();
hipError_t hipPeekAtLastError();
const char* hipGetErrorString(hipError_t);
const char* hipGetErrorName(hipError_t);
hipError_t hipGetDevice(int*);
hipError_t hipSetDevice(int);
hipError_t hipGetDeviceCount(int*);
hipError_t hipGetDeviceProperties(hipDeviceProp_t*, int);
hipError_t hipDeviceGetAttribute(int*, hipDeviceAttribute_t, int);
template <class T> hipError_t hipFuncSetAttribute(T*, hipFuncAttribute, int);
hipError_t hipStreamCreate(hipStream_t*);
hipError_t hipStreamCreateWithFlags(hipStream_t*, unsigned int);
hipError_t hipStreamDestroy(hipStream_t);
hipError_t hipStreamCreateWithPriority(hipStream_t*, unsigned int, int);
hipError_t hipStreamQuery(hipStream_t);
hipError_t hipStreamWaitEvent(hipStream_t, hipEvent_t, unsigned int flags = 0);
hipError_t hipEventCreateWithFlags(hipEvent_t*, unsigned int);
hipError_t hipEventQuery(hipEvent_t);
hipError_t hipStreamSynchronize(hipStream_t);
hipError_t hipEventCreate(hipEvent_t*);
hipError_t hipEventRecord(hipEvent_t, hipStream_t stream = 0);
hipError_t hipEventSynchronize(hipEvent_t);
hipError_t hipEventElapsedTime(float*, hipEvent_t, hipEvent_t);
hipError_t hipEventDestroy(hipEvent_t);

// HIP's non-_sync warp intrinsics (wave64 by default).
template <class T> XP_D T __shfl(T, int, int width = 64);
template <class T> XP_D T __shfl_up(T, unsigned int, int width = 64);
template <class T> XP_D T __shfl_down(T, unsigned int, int width = 64);
template <class T> XP_D T __shfl_xor(T, int, int width = 64);
XP_D unsigned long long __ballot(int);
XP_D int __any(int);
XP_D int __all(int);
XP_D unsigned int __lane_id();
XP_D unsigned long long __activemask64();
XP_D unsigned long long __ballot64(int);
XP_D long long wall_clock64();

#include <cuda_runtime.h>
#include <cmath>

// Multi-head attention, Q/K/V/O laid out [batch, heads, seq, d]. One block per (batch*head, query row):
// the query row and its full row of scores live in dynamic shared memory (d + seq floats), so the
// softmax is exact (max, exp-sum, normalize) and the weighted sum over V reads the probabilities from
// shared memory. Launches that need more than the default 48 KiB opt in through cudaFuncSetAttribute.
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;

enum class ReduceOp { kMax, kSum };

template <ReduceOp OP>
__device__ __forceinline__ float combine(float a, float b) {
    return OP == ReduceOp::kMax ? fmaxf(a, b) : a + b;
}

// Every thread receives the block-wide result.
template <ReduceOp OP>
__device__ float block_allreduce(float v, float* slots) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = combine<OP>(v, __shfl_xor_sync(0xffffffffu, v, o));
    if ((threadIdx.x & 31) == 0) slots[threadIdx.x >> 5] = v;
    __syncthreads();
    float r = slots[0];
#pragma unroll
    for (int w = 1; w < kWarps; ++w) r = combine<OP>(r, slots[w]);
    __syncthreads();
    return r;
}

__global__ void __launch_bounds__(kThreads)
mha_row_kernel(const float* __restrict__ Q, const float* __restrict__ K, const float* __restrict__ V,
               float* __restrict__ O, int seq, int d, float scale) {
    extern __shared__ float smem[];
    float* q = smem;         // d
    float* p = smem + d;     // seq
    __shared__ float slots[kWarps];

    const int head = blockIdx.y;  // flattened batch * heads
    const int row = blockIdx.x;
    const size_t head_off = (size_t)head * seq * d;
    const float* __restrict__ k_head = K + head_off;
    const float* __restrict__ v_head = V + head_off;

    for (int c = threadIdx.x; c < d; c += kThreads) q[c] = Q[head_off + (size_t)row * d + c];
    __syncthreads();

    float local_max = -INFINITY;
    for (int j = threadIdx.x; j < seq; j += kThreads) {
        const float* __restrict__ kr = k_head + (size_t)j * d;
        float s = 0.0f;
        for (int c = 0; c < d; ++c) s += q[c] * kr[c];
        s *= scale;
        p[j] = s;
        local_max = fmaxf(local_max, s);
    }
    const float row_max = block_allreduce<ReduceOp::kMax>(local_max, slots);

    float local_sum = 0.0f;
    for (int j = threadIdx.x; j < seq; j += kThreads) {
        const float e = expf(p[j] - row_max);
        p[j] = e;
        local_sum += e;
    }
    const float inv_sum = 1.0f / block_allreduce<ReduceOp::kSum>(local_sum, slots);  // also orders p[] writes

    for (int c = threadIdx.x; c < d; c += kThreads) {
        float acc = 0.0f;
        for (int j = 0; j < seq; ++j) acc += p[j] * v_head[(size_t)j * d + c];
        O[head_off + (size_t)row * d + c] = acc * inv_sum;
    }
}

}  // namespace

extern "C" void mha(const float* Q, const float* K, const float* V, float* O, int batch, int heads, int seq, int d) {
    if (batch <= 0 || heads <= 0 || seq <= 0 || d <= 0) return;
    const size_t bytes = (size_t)batch * heads * seq * d * sizeof(float);
    float *dQ, *dK, *dV, *dO;
    cudaMalloc(&dQ, bytes);
    cudaMalloc(&dK, bytes);
    cudaMalloc(&dV, bytes);
    cudaMalloc(&dO, bytes);
    cudaMemcpy(dQ, Q, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dK, K, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dV, V, bytes, cudaMemcpyHostToDevice);

    const size_t smem = (size_t)(d + seq) * sizeof(float);
    if (smem > 48 * 1024) {
        cudaFuncSetAttribute(mha_row_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    }
    const dim3 grid(seq, batch * heads);
    mha_row_kernel<<<grid, kThreads, smem>>>(dQ, dK, dV, dO, seq, d, 1.0f / sqrtf((float)d));

    cudaMemcpy(O, dO, bytes, cudaMemcpyDeviceToHost);
    cudaFree(dQ);
    cudaFree(dK);
    cudaFree(dV);
    cudaFree(dO);
}

// Single-head attention O = softmax(Q K^T / sqrt(d)) V for Q, K, V, O of shape [seq, d].
// One work-group (4 wavefronts) per query row. Dynamic LDS holds the query row and the full score row:
//   1) scores: each wavefront takes every 4th key, lanes split the dot product, __shfl_xor folds it;
//   2) softmax statistics over the score row with work-group reductions;
//   3) output: work-items own output columns and sweep the keys (V reads are row-contiguous).
#include <hip/hip_runtime.h>
#include <cfloat>

#define NUM_WAVES 4
#define BLOCK (NUM_WAVES * 64)

__device__ __forceinline__ float wave_sum(float v) {
    for (int m = 32; m > 0; m >>= 1) v += __shfl_xor(v, m);
    return v;
}

__device__ __forceinline__ float wave_max(float v) {
    for (int m = 32; m > 0; m >>= 1) v = fmaxf(v, __shfl_xor(v, m));
    return v;
}

__global__ void __launch_bounds__(BLOCK)
attention_row_kernel(const float* __restrict__ Q, const float* __restrict__ K, const float* __restrict__ V,
                     float* __restrict__ O, int seq, int d, float scale) {
    extern __shared__ float smem[];
    float* q = smem;       // [d]
    float* p = smem + d;   // [seq] scores, then probabilities (unnormalized)
    __shared__ float partial[NUM_WAVES];

    const int row = blockIdx.x;
    const int tid = threadIdx.x;
    const int lane = tid & 63;
    const int wave = tid >> 6;

    for (int k = tid; k < d; k += BLOCK) q[k] = Q[static_cast<size_t>(row) * d + k];
    __syncthreads();

    for (int j = wave; j < seq; j += NUM_WAVES) {
        const float* kr = K + static_cast<size_t>(j) * d;
        float dot = 0.0f;
        for (int k = lane; k < d; k += 64) dot += q[k] * kr[k];
        dot = wave_sum(dot);
        if (lane == 0) p[j] = dot * scale;
    }
    __syncthreads();

    float m = -FLT_MAX;
    for (int j = tid; j < seq; j += BLOCK) m = fmaxf(m, p[j]);
    m = wave_max(m);
    if (lane == 0) partial[wave] = m;
    __syncthreads();
    m = fmaxf(fmaxf(partial[0], partial[1]), fmaxf(partial[2], partial[3]));
    __syncthreads();

    float l = 0.0f;
    for (int j = tid; j < seq; j += BLOCK) {
        const float e = expf(p[j] - m);
        p[j] = e;
        l += e;
    }
    l = wave_sum(l);
    if (lane == 0) partial[wave] = l;
    __syncthreads();  // also publishes the exponentials in p
    const float inv_l = 1.0f / (partial[0] + partial[1] + partial[2] + partial[3]);

    for (int c = tid; c < d; c += BLOCK) {
        float acc = 0.0f;
        for (int j = 0; j < seq; ++j) acc += p[j] * V[static_cast<size_t>(j) * d + c];
        O[static_cast<size_t>(row) * d + c] = acc * inv_l;
    }
}

extern "C" void self_attention(const float* Q, const float* K, const float* V, float* O, int seq, int d) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(seq) * d;
    float *dQ, *dK, *dV, *dO;
    hipMalloc(&dQ, bytes);
    hipMalloc(&dK, bytes);
    hipMalloc(&dV, bytes);
    hipMalloc(&dO, bytes);
    hipMemcpy(dQ, Q, bytes, hipMemcpyHostToDevice);
    hipMemcpy(dK, K, bytes, hipMemcpyHostToDevice);
    hipMemcpy(dV, V, bytes, hipMemcpyHostToDevice);

    const float scale = 1.0f / sqrtf(static_cast<float>(d));
    const size_t lds = sizeof(float) * (static_cast<size_t>(d) + seq);
    hipLaunchKernelGGL(attention_row_kernel, dim3(seq), dim3(BLOCK), lds, 0, dQ, dK, dV, dO, seq, d, scale);

    hipMemcpy(O, dO, bytes, hipMemcpyDeviceToHost);
    hipFree(dQ);
    hipFree(dK);
    hipFree(dV);
    hipFree(dO);
}

// Multi-head attention, Q/K/V/O laid out [batch, heads, seq, d]; O = softmax(Q K^T / sqrt(d)) V per (b, h).
// Flash-style single pass with an online softmax: one wavefront per query row, keys in chunks of 64 (one key
// per lane for the score), running max m and denominator l rescaled per chunk. The output accumulator lives in
// LDS; each lane owns columns lane, lane+64, ... of it, so no barrier is needed around the updates.
#include <hip/hip_runtime.h>
#include <cmath>

constexpr int kWave = 64;
constexpr int kRowsPerGroup = 4;  // query rows (= wavefronts) per work-group

__device__ __forceinline__ float wave_reduce_max(float v) {
#pragma unroll
    for (int s = kWave / 2; s > 0; s >>= 1) v = fmaxf(v, __shfl_xor(v, s));
    return v;
}

__device__ __forceinline__ float wave_reduce_sum(float v) {
#pragma unroll
    for (int s = kWave / 2; s > 0; s >>= 1) v += __shfl_xor(v, s);
    return v;
}

__global__ void __launch_bounds__(kWave * kRowsPerGroup)
mha_flash_kernel(const float* __restrict__ Q, const float* __restrict__ K, const float* __restrict__ V,
                 float* __restrict__ O, int seq, int d, float scale) {
    extern __shared__ float lds[];
    const int lane = threadIdx.x % kWave;
    const int wave = threadIdx.x / kWave;
    float* q = lds + wave * 2 * d;  // this wavefront's query row
    float* acc = q + d;             // and its output accumulator

    const size_t head_base = static_cast<size_t>(blockIdx.y) * seq * d;  // blockIdx.y = b * heads + h
    const int row = blockIdx.x * kRowsPerGroup + wave;
    const bool active = row < seq;

    if (active) {
        for (int c = lane; c < d; c += kWave) {
            q[c] = Q[head_base + static_cast<size_t>(row) * d + c];
            acc[c] = 0.0f;
        }
    }
    __syncthreads();
    if (!active) return;

    const float* Kh = K + head_base;
    const float* Vh = V + head_base;
    float m = -INFINITY;
    float l = 0.0f;

    for (int j0 = 0; j0 < seq; j0 += kWave) {
        const int j = j0 + lane;
        float s = -INFINITY;
        if (j < seq) {
            const float* kr = Kh + static_cast<size_t>(j) * d;
            float dot = 0.0f;
            for (int c = 0; c < d; ++c) dot += q[c] * kr[c];
            s = dot * scale;
        }
        const float m_new = fmaxf(m, wave_reduce_max(s));
        const float p = j < seq ? expf(s - m_new) : 0.0f;
        const float alpha = expf(m - m_new);  // 0 on the first chunk (m = -inf)
        l = l * alpha + wave_reduce_sum(p);
        m = m_new;

        for (int c = lane; c < d; c += kWave) acc[c] *= alpha;
        const int chunk = min(kWave, seq - j0);
        for (int jj = 0; jj < chunk; ++jj) {
            const float pj = __shfl(p, jj);  // all lanes take part: the loop bound is wavefront-uniform
            const float* vr = Vh + static_cast<size_t>(j0 + jj) * d;
            for (int c = lane; c < d; c += kWave) acc[c] += pj * vr[c];
        }
    }

    const float inv_l = 1.0f / l;
    for (int c = lane; c < d; c += kWave) O[head_base + static_cast<size_t>(row) * d + c] = acc[c] * inv_l;
}

extern "C" void mha(const float* Q, const float* K, const float* V, float* O, int batch, int heads, int seq, int d) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(batch) * heads * seq * d;
    float *dQ, *dK, *dV, *dO;
    hipMalloc(&dQ, bytes);
    hipMalloc(&dK, bytes);
    hipMalloc(&dV, bytes);
    hipMalloc(&dO, bytes);
    hipMemcpy(dQ, Q, bytes, hipMemcpyHostToDevice);
    hipMemcpy(dK, K, bytes, hipMemcpyHostToDevice);
    hipMemcpy(dV, V, bytes, hipMemcpyHostToDevice);

    const dim3 grid((seq + kRowsPerGroup - 1) / kRowsPerGroup, batch * heads);
    const size_t lds_bytes = sizeof(float) * 2 * d * kRowsPerGroup;
    const float scale = 1.0f / sqrtf(static_cast<float>(d));
    hipLaunchKernelGGL(mha_flash_kernel, grid, dim3(kWave * kRowsPerGroup), lds_bytes, 0, dQ, dK, dV, dO, seq, d,
                       scale);

    hipMemcpy(O, dO, bytes, hipMemcpyDeviceToHost);
    hipFree(dQ);
    hipFree(dK);
    hipFree(dV);
    hipFree(dO);
}

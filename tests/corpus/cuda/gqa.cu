#include <cuda_runtime.h>

// Grouped-query attention: Q, O [batch, q_heads, seq, d]; K, V [batch, kv_heads, seq, d]; query head h reads
// kv head h / (q_heads / kv_heads). One warp per query row with an online (streaming) softmax, so no
// seq-sized buffer is needed: keys are consumed 32 at a time, lane j scoring key j0 + j against the query
// staged in shared memory; the running max/sum rescale the output accumulator, which each lane keeps for
// the columns c = lane (mod 32) in its slice of dynamic shared memory.
#define WARPS_PER_BLOCK 4
#define FULL 0xffffffffu

__device__ __forceinline__ float warp_max_all(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL, v, o));
    return v;
}

__device__ __forceinline__ float warp_sum_all(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
    return v;
}

__global__ void gqa_flash_warp_kernel(const float* __restrict__ Q, const float* __restrict__ K,
                                      const float* __restrict__ V, float* __restrict__ O, int q_heads,
                                      int kv_heads, int seq, int d, int total_rows, float scale) {
    extern __shared__ float smem[];  // per warp: q[d], acc[d]
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * WARPS_PER_BLOCK + warp;  // ((b * q_heads + h) * seq + i)
    if (r >= total_rows) return;                        // warp-uniform

    float* q = smem + (size_t)warp * 2 * d;
    float* acc = q + d;
    const int bh = r / seq;
    const int h = bh % q_heads;
    const int b = bh / q_heads;
    const int kvh = h / (q_heads / kv_heads);
    const size_t kv_off = ((size_t)b * kv_heads + kvh) * seq * d;
    const float* __restrict__ k_head = K + kv_off;
    const float* __restrict__ v_head = V + kv_off;

    for (int c = lane; c < d; c += 32) {
        q[c] = Q[(size_t)r * d + c] * scale;  // fold the 1/sqrt(d) scale into the query once
        acc[c] = 0.0f;
    }
    __syncwarp();

    float running_max = -INFINITY;
    float running_sum = 0.0f;
    for (int j0 = 0; j0 < seq; j0 += 32) {
        const int count = seq - j0 < 32 ? seq - j0 : 32;
        float s = -INFINITY;
        if (lane < count) {
            const float* __restrict__ kr = k_head + (size_t)(j0 + lane) * d;
            float dot = 0.0f;
            for (int c = 0; c < d; ++c) dot += q[c] * kr[c];
            s = dot;
        }
        const float new_max = fmaxf(running_max, warp_max_all(s));
        const float p = lane < count ? expf(s - new_max) : 0.0f;
        const float correction = expf(running_max - new_max);  // 0 on the first tile
        running_sum = running_sum * correction + warp_sum_all(p);
        running_max = new_max;

        for (int c = lane; c < d; c += 32) acc[c] *= correction;
        for (int jj = 0; jj < count; ++jj) {
            const float pj = __shfl_sync(FULL, p, jj);
            const float* __restrict__ vr = v_head + (size_t)(j0 + jj) * d;
            for (int c = lane; c < d; c += 32) acc[c] += pj * vr[c];
        }
    }

    const float inv = 1.0f / running_sum;
    for (int c = lane; c < d; c += 32) O[(size_t)r * d + c] = acc[c] * inv;
}

extern "C" void gqa(const float* Q, const float* K, const float* V, float* O, int batch, int q_heads, int kv_heads,
                    int seq, int d) {
    if (batch <= 0 || q_heads <= 0 || kv_heads <= 0 || seq <= 0 || d <= 0) return;
    const size_t q_bytes = (size_t)batch * q_heads * seq * d * sizeof(float);
    const size_t kv_bytes = (size_t)batch * kv_heads * seq * d * sizeof(float);
    float *d_q, *d_k, *d_v, *d_o;
    cudaMalloc(&d_q, q_bytes);
    cudaMalloc(&d_k, kv_bytes);
    cudaMalloc(&d_v, kv_bytes);
    cudaMalloc(&d_o, q_bytes);
    cudaMemcpy(d_q, Q, q_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_k, K, kv_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_v, V, kv_bytes, cudaMemcpyHostToDevice);

    const int total_rows = batch * q_heads * seq;
    const int blocks = (total_rows + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
    const size_t smem = (size_t)WARPS_PER_BLOCK * 2 * d * sizeof(float);
    gqa_flash_warp_kernel<<<blocks, WARPS_PER_BLOCK * 32, smem>>>(d_q, d_k, d_v, d_o, q_heads, kv_heads, seq, d,
                                                                  total_rows, 1.0f / sqrtf((float)d));

    cudaMemcpy(O, d_o, q_bytes, cudaMemcpyDeviceToHost);
    cudaFree(d_q);
    cudaFree(d_k);
    cudaFree(d_v);
    cudaFree(d_o);
}

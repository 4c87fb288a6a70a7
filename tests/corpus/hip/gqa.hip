// Grouped-query attention: Q, O [batch, q_heads, seq, d]; K, V [batch, kv_heads, seq, d]; query head h reads
// kv head h / (q_heads / kv_heads). A work-group serves one (batch, kv head, query position) and its wavefronts
// take the query heads of that group, so they stream the same K/V rows (shared through the caches).
// Each wavefront runs a single-pass online softmax over key chunks of 64, one key per lane.
#include <hip/hip_runtime.h>
#include <cmath>

#define WAVES_PER_GROUP 4
#define WAVE 64

__device__ float wave_allreduce_max(float v) {
    for (int off = WAVE / 2; off > 0; off /= 2) v = fmaxf(v, __shfl_xor(v, off));
    return v;
}

__device__ float wave_allreduce_sum(float v) {
    for (int off = WAVE / 2; off > 0; off /= 2) v += __shfl_xor(v, off);
    return v;
}

// Online-softmax attention of one query row against one kv head. `acc` (d floats) and `probs` (64 floats) are
// this wavefront's LDS scratch: each lane owns acc columns lane, lane + 64, ...; the chunk's probabilities go
// through `probs` so every lane can weight its V columns by every key of the chunk.
__device__ void attend_row(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
                           float* __restrict__ out, float* acc, float* probs, int seq, int d, float scale) {
    const int lane = threadIdx.x % WAVE;
    for (int c = lane; c < d; c += WAVE) acc[c] = 0.0f;

    float run_max = -INFINITY;
    float run_sum = 0.0f;
    for (int base = 0; base < seq; base += WAVE) {
        const int key = base + lane;
        float score = -INFINITY;
        if (key < seq) {
            float dot = 0.0f;
            for (int c = 0; c < d; ++c) dot += q[c] * k[static_cast<size_t>(key) * d + c];
            score = dot * scale;
        }
        const float new_max = fmaxf(run_max, wave_allreduce_max(score));
        const float prob = key < seq ? expf(score - new_max) : 0.0f;
        const float correction = expf(run_max - new_max);
        run_sum = run_sum * correction + wave_allreduce_sum(prob);
        run_max = new_max;

        probs[lane] = prob;
        __builtin_amdgcn_wave_barrier();  // probs written by all lanes before any lane reads them
        const int keys = seq - base < WAVE ? seq - base : WAVE;
        for (int c = lane; c < d; c += WAVE) {
            float a = acc[c] * correction;
            for (int jj = 0; jj < keys; ++jj) a += probs[jj] * v[static_cast<size_t>(base + jj) * d + c];
            acc[c] = a;
        }
        __builtin_amdgcn_wave_barrier();  // all reads done before the next chunk overwrites probs
    }
    for (int c = lane; c < d; c += WAVE) out[c] = acc[c] / run_sum;
}

__global__ void __launch_bounds__(WAVES_PER_GROUP * WAVE)
gqa_kernel(const float* __restrict__ Q, const float* __restrict__ K, const float* __restrict__ V,
           float* __restrict__ O, int q_heads, int kv_heads, int seq, int d, float scale) {
    extern __shared__ float scratch[];  // per wavefront: d accumulator floats + WAVE probabilities
    const int wave = threadIdx.x / WAVE;
    const int pos = blockIdx.x;             // query position
    const int kvh = blockIdx.y % kv_heads;
    const int b = blockIdx.y / kv_heads;
    const int group = q_heads / kv_heads;

    const size_t kv_off = (static_cast<size_t>(b) * kv_heads + kvh) * seq * d;
    float* acc = scratch + wave * (d + WAVE);
    float* probs = acc + d;
    for (int g = wave; g < group; g += WAVES_PER_GROUP) {
        const int h = kvh * group + g;
        const size_t q_off = ((static_cast<size_t>(b) * q_heads + h) * seq + pos) * d;
        attend_row(Q + q_off, K + kv_off, V + kv_off, O + q_off, acc, probs, seq, d, scale);
    }
}

extern "C" void gqa(const float* Q, const float* K, const float* V, float* O, int batch, int q_heads, int kv_heads,
                    int seq, int d) {
    const size_t q_bytes = sizeof(float) * static_cast<size_t>(batch) * q_heads * seq * d;
    const size_t kv_bytes = sizeof(float) * static_cast<size_t>(batch) * kv_heads * seq * d;
    float *dQ, *dK, *dV, *dO;
    hipMalloc(&dQ, q_bytes);
    hipMalloc(&dK, kv_bytes);
    hipMalloc(&dV, kv_bytes);
    hipMalloc(&dO, q_bytes);
    hipMemcpy(dQ, Q, q_bytes, hipMemcpyHostToDevice);
    hipMemcpy(dK, K, kv_bytes, hipMemcpyHostToDevice);
    hipMemcpy(dV, V, kv_bytes, hipMemcpyHostToDevice);

    const float scale = 1.0f / sqrtf(static_cast<float>(d));
    const dim3 grid(seq, batch * kv_heads);
    const size_t lds_bytes = sizeof(float) * WAVES_PER_GROUP * (d + WAVE);
    hipLaunchKernelGGL(gqa_kernel, grid, dim3(WAVES_PER_GROUP * WAVE), lds_bytes, 0, dQ, dK, dV, dO, q_heads,
                       kv_heads, seq, d, scale);

    hipMemcpy(O, dO, q_bytes, hipMemcpyDeviceToHost);
    hipFree(dQ);
    hipFree(dK);
    hipFree(dV);
    hipFree(dO);
}

#include <cuda_runtime.h>
#include <math.h>

// Single-head attention O = softmax(Q K^T / sqrt(d)) V with Q, K, V, O of shape [seq, d], as three kernels:
//   1. scores  S[seq, seq] = scale * Q K^T   (16x16 shared tiles; both operands are d-contiguous)
//   2. softmax over each row of S, in place (one warp per row)
//   3. output  O = S V                        (16x16 shared tiles)
// Keeping S in global memory is the straightforward unfused formulation; every stage handles ragged edges.
#define TILE 16
#define SOFTMAX_WARPS 4

__global__ void attention_scores_kernel(const float* __restrict__ Q, const float* __restrict__ K,
                                        float* __restrict__ S, int seq, int d, float scale)
{
    __shared__ float q_tile[TILE][TILE];
    __shared__ float k_tile[TILE][TILE + 1];
    const int i = blockIdx.y * TILE + threadIdx.y;  // query row
    const int j = blockIdx.x * TILE + threadIdx.x;  // key row
    const int kj = blockIdx.x * TILE + threadIdx.y; // key row this thread stages
    float acc = 0.0f;
    for (int c0 = 0; c0 < d; c0 += TILE) {
        const int c = c0 + threadIdx.x;
        q_tile[threadIdx.y][threadIdx.x] = (i < seq && c < d) ? Q[(size_t)i * d + c] : 0.0f;
        k_tile[threadIdx.y][threadIdx.x] = (kj < seq && c < d) ? K[(size_t)kj * d + c] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int t = 0; t < TILE; ++t)
            acc += q_tile[threadIdx.y][t] * k_tile[threadIdx.x][t];
        __syncthreads();
    }
    if (i < seq && j < seq)
        S[(size_t)i * seq + j] = acc * scale;
}

__global__ void attention_softmax_kernel(float* __restrict__ S, int seq)
{
    const int row = blockIdx.x * SOFTMAX_WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= seq)
        return;
    float* __restrict__ s = S + (size_t)row * seq;

    float m = -INFINITY;
    for (int j = lane; j < seq; j += 32)
        m = fmaxf(m, s[j]);
    for (int o = 16; o > 0; o >>= 1)
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));

    float sum = 0.0f;
    for (int j = lane; j < seq; j += 32) {
        const float e = expf(s[j] - m);
        s[j] = e;
        sum += e;
    }
    for (int o = 16; o > 0; o >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, o);

    const float inv = 1.0f / sum;
    for (int j = lane; j < seq; j += 32)
        s[j] *= inv;
}

__global__ void attention_output_kernel(const float* __restrict__ P, const float* __restrict__ V,
                                        float* __restrict__ O, int seq, int d)
{
    __shared__ float p_tile[TILE][TILE];
    __shared__ float v_tile[TILE][TILE];
    const int i = blockIdx.y * TILE + threadIdx.y;
    const int c = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int j0 = 0; j0 < seq; j0 += TILE) {
        const int pj = j0 + threadIdx.x;
        const int vj = j0 + threadIdx.y;
        p_tile[threadIdx.y][threadIdx.x] = (i < seq && pj < seq) ? P[(size_t)i * seq + pj] : 0.0f;
        v_tile[threadIdx.y][threadIdx.x] = (vj < seq && c < d) ? V[(size_t)vj * d + c] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int t = 0; t < TILE; ++t)
            acc += p_tile[threadIdx.y][t] * v_tile[t][threadIdx.x];
        __syncthreads();
    }
    if (i < seq && c < d)
        O[(size_t)i * d + c] = acc;
}

extern "C" void self_attention(const float* Q, const float* K, const float* V, float* O, int seq, int d)
{
    if (seq <= 0 || d <= 0) return;
    const size_t qkv_bytes = (size_t)seq * d * sizeof(float);
    const size_t s_bytes = (size_t)seq * seq * sizeof(float);
    float *dQ, *dK, *dV, *dO, *dS;
    cudaMalloc(&dQ, qkv_bytes);
    cudaMalloc(&dK, qkv_bytes);
    cudaMalloc(&dV, qkv_bytes);
    cudaMalloc(&dO, qkv_bytes);
    cudaMalloc(&dS, s_bytes);
    cudaMemcpy(dQ, Q, qkv_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dK, K, qkv_bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dV, V, qkv_bytes, cudaMemcpyHostToDevice);

    const float scale = 1.0f / sqrtf((float)d);
    const dim3 tile_block(TILE, TILE);
    attention_scores_kernel<<<dim3((seq + TILE - 1) / TILE, (seq + TILE - 1) / TILE), tile_block>>>(
        dQ, dK, dS, seq, d, scale);
    attention_softmax_kernel<<<(seq + SOFTMAX_WARPS - 1) / SOFTMAX_WARPS, SOFTMAX_WARPS * 32>>>(dS, seq);
    attention_output_kernel<<<dim3((d + TILE - 1) / TILE, (seq + TILE - 1) / TILE), tile_block>>>(
        dS, dV, dO, seq, d);

    cudaMemcpy(O, dO, qkv_bytes, cudaMemcpyDeviceToHost);
    cudaFree(dQ);
    cudaFree(dK);
    cudaFree(dV);
    cudaFree(dO);
    cudaFree(dS);
}

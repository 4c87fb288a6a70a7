// Gated MLP: y = silu(x @ Wg) * (x @ Wu), x[M,K], Wg/Wu[K,N], silu(z) = z / (1 + exp(-z)).
// Both projections share the x tile: one pass over K computes the gate and the up accumulators together,
// and the gating is fused into the epilogue. 32x32 output tile, 16x16 work-items, 2x2 micro-tiles.
#include <hip/hip_runtime.h>

template <int BT, int BK>
struct GatedTiles {
    float x[BT][BK + 1];
    float wg[BK][BT];
    float wu[BK][BT];
};

__device__ __forceinline__ float silu(float z) { return z / (1.0f + expf(-z)); }

template <int BT, int BK>
__global__ void __launch_bounds__(256)
gated_mlp_kernel(const float* __restrict__ x, const float* __restrict__ Wg, const float* __restrict__ Wu,
                 float* __restrict__ y, int M, int N, int K) {
    static_assert(BT == 32, "16x16 work-items with 2x2 micro-tiles cover a 32x32 tile");
    __shared__ GatedTiles<BT, BK> t;

    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    const int m0 = blockIdx.y * BT;
    const int n0 = blockIdx.x * BT;

    float gate[2][2] = {};
    float up[2][2] = {};

    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int e = threadIdx.x; e < BT * BK; e += 256) {
            const int r = e / BK, c = e % BK;
            t.x[r][c] = (m0 + r < M && k0 + c < K) ? x[static_cast<size_t>(m0 + r) * K + k0 + c] : 0.0f;
        }
        for (int e = threadIdx.x; e < BK * BT; e += 256) {
            const int r = e / BT, c = e % BT;
            const bool ok = k0 + r < K && n0 + c < N;
            const size_t off = static_cast<size_t>(k0 + r) * N + n0 + c;
            t.wg[r][c] = ok ? Wg[off] : 0.0f;
            t.wu[r][c] = ok ? Wu[off] : 0.0f;
        }
        __syncthreads();

#pragma unroll
        for (int k = 0; k < BK; ++k) {
            const float a[2] = {t.x[ty][k], t.x[ty + 16][k]};
            const float g[2] = {t.wg[k][tx], t.wg[k][tx + 16]};
            const float u[2] = {t.wu[k][tx], t.wu[k][tx + 16]};
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
                for (int j = 0; j < 2; ++j) {
                    gate[i][j] += a[i] * g[j];
                    up[i][j] += a[i] * u[j];
                }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; ++i) {
        const int m = m0 + ty + 16 * i;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const int n = n0 + tx + 16 * j;
            if (m < M && n < N) y[static_cast<size_t>(m) * N + n] = silu(gate[i][j]) * up[i][j];
        }
    }
}

extern "C" void gated_mlp(const float* x, const float* Wg, const float* Wu, float* y, int M, int N, int K) {
    constexpr int kTile = 32;
    constexpr int kSlab = 16;
    const size_t x_bytes = sizeof(float) * static_cast<size_t>(M) * K;
    const size_t w_bytes = sizeof(float) * static_cast<size_t>(K) * N;
    const size_t y_bytes = sizeof(float) * static_cast<size_t>(M) * N;
    float *d_x, *d_wg, *d_wu, *d_y;
    hipMalloc(&d_x, x_bytes);
    hipMalloc(&d_wg, w_bytes);
    hipMalloc(&d_wu, w_bytes);
    hipMalloc(&d_y, y_bytes);
    hipMemcpy(d_x, x, x_bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_wg, Wg, w_bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_wu, Wu, w_bytes, hipMemcpyHostToDevice);

    const dim3 grid((N + kTile - 1) / kTile, (M + kTile - 1) / kTile);
    hipLaunchKernelGGL((gated_mlp_kernel<kTile, kSlab>), grid, dim3(256), 0, 0, d_x, d_wg, d_wu, d_y, M, N, K);

    hipMemcpy(y, d_y, y_bytes, hipMemcpyDeviceToHost);
    hipFree(d_x);
    hipFree(d_wg);
    hipFree(d_wu);
    hipFree(d_y);
}

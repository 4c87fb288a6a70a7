// transpose: y[cols, rows] = x[rows, cols]^T. Cache-blocked: a 32x32 tile is read row by row and written
// column by column, so both sides touch only 32 cache lines per tile. Tiles are spread over threads.
#include <cstddef>

#define TILE 32

extern "C" void transpose(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const int tr = (rows + TILE - 1) / TILE, tc = (cols + TILE - 1) / TILE;

#pragma omp parallel for collapse(2) schedule(static)
    for (int bi = 0; bi < tr; ++bi) {
        for (int bj = 0; bj < tc; ++bj) {
            const int i_end = (bi + 1) * TILE < rows ? (bi + 1) * TILE : rows;
            const int j_end = (bj + 1) * TILE < cols ? (bj + 1) * TILE : cols;
            for (int i = bi * TILE; i < i_end; ++i) {
                for (int j = bj * TILE; j < j_end; ++j) {
                    y[(size_t)j * rows + i] = x[(size_t)i * cols + j];
                }
            }
        }
    }
}

// BANG C (Cambricon MLU) on the CPU executor: `#include <bang.h>` in a kernel resolves here.
// The pieces: task model and barriers (bang_runtime.h), half and rounding (bang_half.h), data movement and
// atomics (bang_memory.h), vector functions (bang_vector.h), conversions (bang_convert.h), matrix and
// neural-network functions (bang_nn.h). Not emulated: bfloat16_t, int4, the memory core (MPU), the
// deprecated __bang_select/__bang_collect, dilated pooling/convolution, __bang_pad, __bang_reshape_filter and
// the lookup-table, histogram and sparse functions.
#pragma once
#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "bang_runtime.h"
#include "bang_half.h"
#include "bang_memory.h"
#include "bang_vector.h"
#include "bang_convert.h"
#include "bang_nn.h"

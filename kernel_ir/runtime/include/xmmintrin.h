// Part of the portable x86 intrinsics: every SSE/AVX header name maps to the one emulation (see immintrin.h).
#pragma once
#include <immintrin.h>

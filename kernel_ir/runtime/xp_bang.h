// BANG C on the CPU executor: force-included before the kernel source (so kernels work with or without their
// #include <bang.h>). The entry wrapper appended by the executor calls __xp_bang_launch (bang_runtime.h).
#pragma once
#include <bang.h>

// Some BANG kernels include "mlu.h"; it is the same emulation as <bang.h>.
#pragma once
#include "bang.h"

// Xpiler front-end stub: the declarations come from the force-included kernel_ir/runtime/decl/xp_<dialect>.h.
#pragma once

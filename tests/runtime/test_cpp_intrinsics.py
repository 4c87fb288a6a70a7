"""The cpp dialect's portable intrinsics (kernel_ir/runtime/include/immintrin.h) against the real instructions.

One generated C++ program calls each intrinsic on fixed inputs (random lanes plus edge cases: NaN, infinities,
signed zeros, subnormals, rounding ties, 255*127 products, int32 overflow) and prints every result's bytes.
It is built twice: against the emulation (the executor's flags, no -march) and natively (-march=native, the
compiler's own header); the results must be bit-identical, except rcp14/rsqrt14 (and the SSE rcp/rsqrt), which
the hardware approximates within 2^-14 (1.5 * 2^-12) and the emulation computes exactly. The native half needs an
AVX-512 (F/BW/DQ/VL/VNNI) CPU with F16C and FMA and is skipped elsewhere; known-answer checks against numpy run on
any machine. Finally every tests/corpus/cpp kernel gives the same bytes through the emulation and natively.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from devices.local_cpu import cpu_flags
from kernel_ir.executor import ExecutionError, execute
from tests.corpus.specs import SPECS, make_args

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "kernel_ir" / "runtime"
CORPUS_CPP = ROOT / "tests" / "corpus" / "cpp"
COMMON_FLAGS = ["-std=c++20", "-O2", "-fopenmp", "-fwrapv", "-ffp-contract=off", "-fno-strict-aliasing", "-w",
                "-Wno-psabi"]
EMULATED_FLAGS = [*COMMON_FLAGS, "-I", str(RUNTIME / "include"), "-include", str(RUNTIME / "xp_cpp.h")]
NATIVE_FLAGS = [*COMMON_FLAGS, "-O3", "-march=native"]
BASE_FEATURES = ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni", "f16c", "fma")
APPROXIMATE = {"rcp14": 2.0**-14, "rsqrt14": 2.0**-14, "rcp_ps": 1.5 * 2.0**-12, "rsqrt_ps": 1.5 * 2.0**-12}

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")


def missing_native_features() -> list[str]:
    return [f for f in BASE_FEATURES if f not in cpu_flags()]


# ---- inputs ---------------------------------------------------------------------------------------------------

def f32_bits(*values: float | int) -> np.ndarray:
    """float32 lanes; ints are taken as raw bit patterns (NaN payloads, signalling NaNs)."""
    return np.array([np.uint32(v).view(np.float32) if isinstance(v, int) else np.float32(v) for v in values],
                    dtype=np.float32)


def make_inputs() -> dict[str, np.ndarray]:
    """64-byte input blocks, each viewed as a 512/256/128-bit vector of any lane type by the program."""
    rng = np.random.default_rng(1234)
    max32, tiny = np.finfo(np.float32).max, 1e-40
    inputs = {
        "F0": (rng.standard_normal(16) * 4).astype(np.float32),
        "F1": f32_bits(0x7FC00000, 0xFFC12345, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny,
                       max32, -max32, 2.5, -2.5, 0.5, 3.5, 2147483648.0, -2147483904.0),
        "F2": rng.uniform(-100, 100, 16).astype(np.float32),
        "F3": f32_bits(1.0, -0.0, 0x7F800001, 0.0, np.inf, 0x7FC00000, -1.5, -tiny,
                       0.0, max32, -np.inf, 1.5, 0xFFA00000, -4.0, 1e30, -0.75),
        # float -> half rounding: ties, overflow at 65520, subnormal halves and their ties, NaN payloads
        "F4": f32_bits(1 + 2.0**-11, 1 + 3 * 2.0**-11, -(1 + 2.0**-11), 65504.0, 65519.0, 65520.0, -65520.0,
                       2.0**-24, 2.0**-25, 3 * 2.0**-25, 2.0**-25 + 2.0**-40, 1e-10, -1e-10, 6.1e-5, 0x7F800001,
                       0xFFC01234),
        "F5": rng.uniform(0.01, 30, 16).astype(np.float32),
        # against F1 lane by lane: equal values and zeros of the other sign (which operand max/min return)
        "F6": f32_bits(1.0, 0.0, np.inf, -np.inf, -0.0, 0.0, tiny, 1.0, max32, -max32, -2.5, -2.5, 0.5, 3.5,
                       2147483648.0, -0.0),
        "D0": rng.standard_normal(8) * 1e3,
        "D1": np.array([np.nan, -np.inf, np.inf, -0.0, 2.5, -3.5, 5e-324, 1e300]),
        "I0": rng.integers(0, 256, 64, dtype=np.uint8),
        "I1": rng.integers(0, 256, 64, dtype=np.uint8),
        "I2": rng.choice(np.array([0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF], dtype=np.uint8), 64),
        "I3": np.full(64, 0xFF, dtype=np.uint8),  # u8 255 / s8 -1
        "I4": np.full(64, 0x7F, dtype=np.uint8),  # s8 127
        "I5": np.full(16, 0x7FFFFF00, dtype=np.int32) + np.arange(16, dtype=np.int32),  # near INT32_MAX
        "I6": np.full(16, -0x7FFFFF00, dtype=np.int32) - np.arange(16, dtype=np.int32),  # near INT32_MIN
        "I7": rng.integers(0, 64, 16, dtype=np.int32),  # gather indices into T0
        "I8": rng.choice(np.array([-32768, -32767, -1, 0, 1, 32767, 255, -256], dtype=np.int16), 32),
        "I9": np.full(64, 0x80, dtype=np.uint8),  # s8 -128
        "I10": rng.integers(0, 40, 16, dtype=np.int32),  # per-lane shift counts
        "I11": rng.integers(0, 64, 8, dtype=np.int64),  # 64-bit gather indices
        "H0": np.concatenate([rng.integers(0, 1 << 16, 24, dtype=np.uint16),
                              np.array([0x7C00, 0xFC00, 0x7E00, 0x7D01, 0x0001, 0x83FF, 0x8000, 0x3C00],
                                       dtype=np.uint16)]),
        "T0": rng.standard_normal(64).astype(np.float32),  # gather / scatter table
    }
    return {name: np.ascontiguousarray(a) for name, a in inputs.items()}


INPUTS = make_inputs()


# ---- the cases ----------------------------------------------------------------------------------------------------
# A case is C++ code over the inputs: `expr` is an expression whose value's bytes are recorded, or, for
# `store=True`, statements writing into `out` (256 zeroed bytes, 64-byte aligned), which is recorded instead.
# Inputs are named after their block, lower case: f0 (__m512), f0_y (__m256), f0_x (__m128); d*, i*, h* alike.

WIDTHS = (("_mm512", "", 64), ("_mm256", "_y", 32), ("_mm", "_x", 16))
MASKS = {2: "0x2", 4: "0x9", 8: "0xA5", 16: "0xA5C3", 32: "0x3CA5F00Fu", 64: "0x3CA5F00F0FF0A55Aull"}
F_PAIRS = (("F0", "F1"), ("F1", "F3"), ("F3", "F1"), ("F2", "F0"), ("F4", "F3"), ("F1", "F6"), ("F6", "F1"))
D_PAIRS = (("D0", "D1"), ("D1", "D0"))
F_TRIPLES = (("F0", "F2", "F5"), ("F1", "F3", "F0"), ("F3", "F1", "F4"))
D_TRIPLES = (("D0", "D1", "D0"), ("D1", "D0", "D1"))
I_PAIRS = (("I0", "I1"), ("I2", "I0"), ("I3", "I4"), ("I8", "I2"), ("I5", "I6"), ("I9", "I3"))
FEW_I_PAIRS = (("I2", "I0"), ("I8", "I2"))  # for the operations whose edge cases are in the counts or predicates


class Case:
    def __init__(self, code: str, feature: str = "base", store: bool = False) -> None:
        self.code, self.feature, self.store = code, feature, store


def v(block: str, suffix: str) -> str:
    return block.lower() + suffix


def float_cases() -> list[Case]:
    cases = []
    for prefix, sfx, nbytes in WIDTHS:
        for s, pairs, triples, singles, lane in (("ps", F_PAIRS, F_TRIPLES, ("F0", "F1", "F3", "F4"), 4),
                                                 ("pd", D_PAIRS, D_TRIPLES, ("D0", "D1"), 8)):
            k = MASKS[nbytes // lane]
            for a, b in pairs:
                va, vb = v(a, sfx), v(b, sfx)
                for op in ("add", "sub", "mul", "div", "max", "min", "and", "or", "xor", "andnot", "scalef"):
                    cases.append(Case(f"{prefix}_{op}_{s}({va}, {vb})"))
                for op in ("add", "max", "min", "mul"):
                    cases.append(Case(f"{prefix}_mask_{op}_{s}({vb}, {k}, {va}, {vb})"))
                    cases.append(Case(f"{prefix}_maskz_{op}_{s}({k}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_mask_blend_{s}({k}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_mask_mov_{s}({va}, {k}, {vb})"))
                cases.append(Case(f"{prefix}_maskz_mov_{s}({k}, {vb})"))
                for predicate in (range(32) if prefix == "_mm512" and a in ("F1", "F3") else (0, 1, 2, 4, 13, 14, 17, 30)):
                    cases.append(Case(f"{prefix}_cmp_{s}_mask({va}, {vb}, {predicate})"))
                cases.append(Case(f"{prefix}_mask_cmp_{s}_mask({k}, {va}, {vb}, _CMP_LE_OQ)"))
                if prefix != "_mm512":
                    for predicate in (0, 1, 3, 4, 6, 14, 17, 31):
                        cases.append(Case(f"{prefix}_cmp_{s}({va}, {vb}, {predicate})"))
                    for op in ("hadd", "hsub", "addsub"):
                        cases.append(Case(f"{prefix}_{op}_{s}({va}, {vb})"))
                    cases.append(Case(f"{prefix}_blendv_{s}({va}, {vb}, {va})"))
                    cases.append(Case(f"{prefix}_blend_{s}({va}, {vb}, {0x5 if s == 'ps' else 0x1})"))
                    cases.append(Case(f"{prefix}_unpacklo_{s}({va}, {vb})"))
                cases.append(Case(f"{prefix}_unpackhi_{s}({va}, {vb})"))
                cases.append(Case(f"{prefix}_shuffle_{s}({va}, {vb}, 0x1B)"))
                cases.append(Case(f"{prefix}_shuffle_{s}({va}, {vb}, 0xC6)"))
            for a, b, c in triples:
                va, vb, vc = v(a, sfx), v(b, sfx), v(c, sfx)
                for op in ("fmadd", "fmsub", "fnmadd", "fnmsub", "fmaddsub", "fmsubadd"):
                    cases.append(Case(f"{prefix}_{op}_{s}({va}, {vb}, {vc})"))
                cases.append(Case(f"{prefix}_mask_fmadd_{s}({va}, {k}, {vb}, {vc})"))
                cases.append(Case(f"{prefix}_mask3_fmadd_{s}({va}, {vb}, {vc}, {k})"))
                cases.append(Case(f"{prefix}_maskz_fnmadd_{s}({k}, {va}, {vb}, {vc})"))
            for a in singles:
                va = v(a, sfx)
                for op in ("sqrt", "rcp14", "rsqrt14", "getexp", "floor", "ceil"):
                    cases.append(Case(f"{prefix}_{op}_{s}({va})"))
                cases.append(Case(f"{prefix}_mask_sqrt_{s}({va}, {k}, {va})"))
                for imm in (0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x10, 0x31, 0x42, 0xF3):
                    cases.append(Case(f"{prefix}_roundscale_{s}({va}, {imm})"))
                for interval in (range(4) if a in ("F1", "F3", "D1") else ()):
                    for sign in range(3):
                        cases.append(Case(f"{prefix}_getmant_{s}({va}, (_MM_MANTISSA_NORM_ENUM){interval}, "
                                          f"(_MM_MANTISSA_SIGN_ENUM){sign})"))
                if prefix == "_mm512":
                    cases.append(Case(f"_mm512_abs_{s}({va})"))
                    for op in ("add", "mul", "max", "min"):
                        cases.append(Case(f"_mm512_reduce_{op}_{s}({va})"))
                        cases.append(Case(f"_mm512_mask_reduce_{op}_{s}({k}, {va})"))
                else:
                    for mode in (0, 1, 2, 3, 4, 8, 12):
                        cases.append(Case(f"{prefix}_round_{s}({va}, {mode})"))
                    cases.append(Case(f"{prefix}_movemask_{s}({va})"))
                    if s == "ps":
                        cases.append(Case(f"{prefix}_rcp_ps({va})"))
                        cases.append(Case(f"{prefix}_rsqrt_ps({va})"))
    for op in ("max", "min"):  # two NaNs: the second operand's comes back
        cases.append(Case(f"_mm512_{op}_ps(f1, _mm512_permutexvar_ps(_mm512_set1_epi32(1), f1))"))
    for a, b in F_PAIRS:
        for imm in (0xFF, 0xF1, 0x3C, 0x71):
            cases.append(Case(f"_mm_dp_ps({v(a, '_x')}, {v(b, '_x')}, {imm})"))
            cases.append(Case(f"_mm256_dp_ps({v(a, '_y')}, {v(b, '_y')}, {imm})"))
        for op in ("cmplt", "cmpge", "cmpneq", "cmpnge", "cmpord", "cmpunord", "cmpeq", "cmpgt"):
            cases.append(Case(f"_mm_{op}_ps({v(a, '_x')}, {v(b, '_x')})"))
        for op in ("add", "sub", "mul", "div", "max", "min", "move"):
            cases.append(Case(f"_mm_{op}_ss({v(a, '_x')}, {v(b, '_x')})"))
        cases.append(Case(f"_mm_movehl_ps({v(a, '_x')}, {v(b, '_x')})"))
        cases.append(Case(f"_mm_movelh_ps({v(a, '_x')}, {v(b, '_x')})"))
        for op in ("cmpeq", "cmplt", "cmple", "cmpunord", "cmpneq", "cmpnlt", "cmpnle", "cmpord"):
            cases.append(Case(f"_mm512_{op}_ps_mask({v(a, '')}, {v(b, '')})"))
    return cases


def int_cases() -> list[Case]:
    cases = []
    lane_bytes = {"epi8": 1, "epi16": 2, "epi32": 4, "epi64": 8, "epu8": 1, "epu16": 2, "epu32": 4, "epu64": 8}
    for prefix, sfx, nbytes in WIDTHS:
        si = {64: "si512", 32: "si256", 16: "si128"}[nbytes]
        k = {s: MASKS[nbytes // size] for s, size in lane_bytes.items()}
        for a, b in I_PAIRS:
            va, vb = v(a, sfx), v(b, sfx)
            for op in ("and", "or", "xor", "andnot"):
                cases.append(Case(f"{prefix}_{op}_{si}({va}, {vb})"))
            for s in ("epi8", "epi16", "epi32", "epi64"):
                cases += [Case(f"{prefix}_{op}_{s}({va}, {vb})") for op in ("add", "sub")]
                cases.append(Case(f"{prefix}_mask_add_{s}({va}, {k[s]}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_maskz_sub_{s}({k[s]}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_mask_blend_{s}({k[s]}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_abs_{s}({va})"))
                cases.append(Case(f"{prefix}_unpacklo_{s}({va}, {vb})"))
                cases.append(Case(f"{prefix}_unpackhi_{s}({va}, {vb})"))
                for predicate in (range(8) if (a, b) in FEW_I_PAIRS else ()):
                    cases.append(Case(f"{prefix}_cmp_{s}_mask({va}, {vb}, {predicate})"))
                    cases.append(Case(f"{prefix}_cmp_{s.replace('epi', 'epu')}_mask({va}, {vb}, {predicate})"))
                cases.append(Case(f"{prefix}_test_{s}_mask({va}, {vb})"))
                if prefix != "_mm512":
                    cases.append(Case(f"{prefix}_cmpeq_{s}({va}, {vb})"))
                    cases.append(Case(f"{prefix}_cmpgt_{s}({va}, {vb})"))
            for s in ("epi8", "epi16", "epi32", "epi64", "epu8", "epu16", "epu32", "epu64"):
                cases += [Case(f"{prefix}_{op}_{s}({va}, {vb})") for op in ("max", "min")]
            for s in ("epi16", "epi32", "epi64"):
                cases.append(Case(f"{prefix}_mullo_{s}({va}, {vb})"))
                cases.append(Case(f"{prefix}_sllv_{s}({va}, {v('I10', sfx)})"))
                cases.append(Case(f"{prefix}_srlv_{s}({va}, {v('I10', sfx)})"))
                cases.append(Case(f"{prefix}_srav_{s}({va}, {v('I10', sfx)})"))
                cases.append(Case(f"{prefix}_sllv_{s}({va}, {vb})"))
                for n in ((0, 1, 7, 15, 16, 31, 32, 63, 64, 200) if (a, b) in FEW_I_PAIRS else ()):
                    for op in ("slli", "srli", "srai"):
                        cases.append(Case(f"{prefix}_{op}_{s}({va}, {n})"))
                cases.append(Case(f"{prefix}_mask_slli_{s}({vb}, {k[s]}, {va}, 3)"))
                cases.append(Case(f"{prefix}_sra_{s}({va}, {v('I10', '_x')})"))
                cases.append(Case(f"{prefix}_srl_{s}({va}, _mm_set_epi64x(0, 9))"))
            for s in ("epi8", "epi16", "epu8", "epu16"):
                cases += [Case(f"{prefix}_{op}_{s}({va}, {vb})") for op in ("adds", "subs")]
            for op in ("avg_epu8", "avg_epu16", "mulhi_epi16", "mulhi_epu16", "mulhrs_epi16", "mul_epi32",
                       "mul_epu32", "madd_epi16", "maddubs_epi16", "sad_epu8", "packs_epi32", "packus_epi32",
                       "packs_epi16", "packus_epi16", "shuffle_epi8"):
                cases.append(Case(f"{prefix}_{op}({va}, {vb})"))
            for op in ("dpbusd", "dpbusds", "dpwssd", "dpwssds"):
                for src in ("I5", "I6", "I0"):
                    cases.append(Case(f"{prefix}_{op}_epi32({v(src, sfx)}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_mask_{op}_epi32({v('I5', sfx)}, {k['epi32']}, {va}, {vb})"))
                cases.append(Case(f"{prefix}_maskz_{op}_epi32({k['epi32']}, {v('I6', sfx)}, {va}, {vb})"))
                if prefix != "_mm512":
                    cases.append(Case(f"{prefix}_{op}_avx_epi32({v('I5', sfx)}, {va}, {vb})", "avx_vnni"))
            if prefix != "_mm512":
                for op in ("hadd_epi32", "hsub_epi32", "hadd_epi16", "hadds_epi16"):
                    cases.append(Case(f"{prefix}_{op}({va}, {vb})"))
                cases.append(Case(f"{prefix}_movemask_epi8({va})"))
                cases.append(Case(f"{prefix}_blendv_epi8({va}, {vb}, {v('I2', sfx)})"))
                cases.append(Case(f"{prefix}_blend_epi16({va}, {vb}, 0x96)"))
                cases.append(Case(f"{prefix}_blend_epi32({va}, {vb}, 0x6)"))
                cases.append(Case(f"{prefix}_cmplt_epi32({va}, {vb})" if prefix == "_mm" else f"{prefix}_cmpgt_epi8({vb}, {va})"))
            if (a, b) not in FEW_I_PAIRS:
                continue
            for imm in (0, 1, 5, 15, 16, 17, 31, 32):
                cases.append(Case(f"{prefix}_alignr_epi8({va}, {vb}, {imm})"))
            for imm in (0, 1, 3, 7, 15):
                cases.append(Case(f"{prefix}_alignr_epi32({va}, {vb}, {imm})"))
                cases.append(Case(f"{prefix}_alignr_epi64({va}, {vb}, {imm})"))
            cases.append(Case(f"{prefix}_shuffle_epi32({va}, (_MM_PERM_ENUM)0x4E)"))
            cases.append(Case(f"{prefix}_shuffle_epi32({va}, _MM_PERM_DBCA)"))
            cases.append(Case(f"{prefix}_shufflelo_epi16({va}, 0x1B)"))
            cases.append(Case(f"{prefix}_shufflehi_epi16({va}, 0xB1)"))
        for src_w, src_sfx in (("epi8", "_x"), ("epu8", "_x"), ("epi16", "_x"), ("epu16", "_x"), ("epi32", "_x"),
                               ("epu32", "_x")):
            for to in ("epi16", "epi32", "epi64"):
                if lane_bytes[to] > lane_bytes[src_w]:
                    wide_source = nbytes == 64 and lane_bytes[to] == 2 * lane_bytes[src_w]
                    operand = v("I2", "_y" if wide_source else "_x")
                    cases.append(Case(f"{prefix}_cvt{src_w}_{to}({operand})"))
        for src_w in ("epi16", "epi32", "epi64"):
            for to in ("epi8", "epi16", "epi32"):
                if lane_bytes[to] < lane_bytes[src_w]:
                    for conversion in ("cvt", "cvts", "cvtus"):
                        for block in ("I2", "I5", "I8"):
                            cases.append(Case(f"{prefix}_{conversion}{src_w}_{to}({v(block, sfx)})"))
                    cases.append(Case(f"{prefix}_mask_cvt{src_w}_storeu_{to}(out + 1, {k[src_w]}, {v('I2', sfx)})",
                                      store=True))
    for op in ("add", "mul", "max", "min", "and", "or"):
        for s in ("epi32", "epi64"):
            cases.append(Case(f"_mm512_reduce_{op}_{s}(i2)"))
            cases.append(Case(f"_mm512_mask_reduce_{op}_{s}(0x5A, i0)"))
    for op in ("max", "min"):
        for s in ("epu32", "epu64"):
            cases.append(Case(f"_mm512_reduce_{op}_{s}(i2)"))
    return cases


def memory_cases() -> list[Case]:
    cases = []
    for prefix, sfx, nbytes in WIDTHS:
        for s, block, lane in (("ps", "F0", 4), ("pd", "D0", 8), ("epi32", "I2", 4), ("epi64", "I2", 8),
                               ("epi8", "I2", 1), ("epi16", "I8", 2)):
            k = MASKS[nbytes // lane]
            raw = f"{block}_bytes"
            cases.append(Case(f"{prefix}_maskz_loadu_{s}({k}, {raw} + {lane})"))
            cases.append(Case(f"{prefix}_mask_loadu_{s}({v('I1', sfx) if 'ep' in s else v(block, sfx)}, {k}, {raw})"))
            value = v(block, sfx)
            cases.append(Case(f"{prefix}_mask_storeu_{s}(out + {lane}, {k}, {value})", store=True))
            if s in ("ps", "pd", "epi32", "epi64"):
                cases.append(Case(f"{prefix}_mask_compressstoreu_{s}(out, {k}, {value})", store=True))
                cases.append(Case(f"{prefix}_maskz_expandloadu_{s}({k}, {raw})"))
                cases.append(Case(f"{prefix}_mask_compress_{s}({value}, {k}, {value})"))
        cases.append(Case(f"{prefix}_permutexvar_ps(i0{sfx}, f1{sfx})" if prefix != "_mm" else "_mm_permutevar_ps(f1_x, i0_x)"))
        cases.append(Case(f"{prefix}_broadcastss_ps(f1_x)"))
        cases.append(Case(f"{prefix}_broadcastd_epi32(i2_x)"))
        cases.append(Case(f"{prefix}_broadcastb_epi8(i2_x)"))
        cases.append(Case(f"{prefix}_permute_ps(f1{sfx}, 0x93)"))
        cases.append(Case(f"{prefix}_moveldup_ps(f1{sfx})"))
        cases.append(Case(f"{prefix}_movehdup_ps(f1{sfx})"))
        cases.append(Case(f"{prefix}_cvtepi32_ps(i2{sfx})"))
        cases.append(Case(f"{prefix}_cvtepu32_ps(i2{sfx})"))
        for f in ("f1", "f4", "f3", "f0"):
            for op in ("cvtps_epi32", "cvttps_epi32", "cvtps_epu32", "cvttps_epu32"):
                cases.append(Case(f"{prefix}_{op}({f}{sfx})"))
        half_operand = "h0_y" if prefix == "_mm512" else "h0_x"
        cases.append(Case(f"{prefix}_cvtph_ps({half_operand})"))
        for f in ("f1", "f3", "f4", "f0"):
            for mode in (0, 1, 2, 3, 4, 8, 11):
                cases.append(Case(f"{prefix}_cvtps_ph({f}{sfx}, {mode})"))
    for prefix, sfx in (("_mm512", ""), ("_mm256", "_y")):
        for s, pair in (("ps", ("f1", "f3")), ("epi32", ("i0", "i2")), ("pd", ("d0", "d1")), ("epi64", ("i0", "i2")),
                        ("epi16", ("i0", "i8"))):
            a, b = (x + sfx for x in pair)
            cases.append(Case(f"{prefix}_permutexvar_{s}(i1{sfx}, {a})"))
            cases.append(Case(f"{prefix}_permutex2var_{s}({a}, i1{sfx}, {b})"))
        for op, a in (("f32x4", "f1"), ("i32x4", "i2"), ("f64x2", "d1"), ("i64x2", "i0")):
            for imm in ((0x1B, 0x4E, 0x3, 0xE1) if prefix == "_mm512" else (0, 1, 2, 3)):
                cases.append(Case(f"{prefix}_shuffle_{op}({a}{sfx}, {a.replace('1', '0').replace('2', '0')}{sfx}, {imm})"))
    for imm in (0x1B, 0x4E, 0xD8):
        cases.append(Case(f"_mm256_permute4x64_epi64(i2_y, {imm})"))
        cases.append(Case(f"_mm256_permute4x64_pd(d1_y, {imm})"))
        cases.append(Case(f"_mm512_permutex_epi64(i2, {imm})"))
    for imm in (0x20, 0x31, 0x03, 0x12, 0x88, 0x08):
        cases.append(Case(f"_mm256_permute2f128_ps(f1_y, f3_y, {imm})"))
        cases.append(Case(f"_mm256_permute2x128_si256(i0_y, i2_y, {imm})"))
    cases += [Case(f"_mm256_permutevar8x32_ps(f1_y, i0_y)"), Case(f"_mm256_permutevar8x32_epi32(i2_y, i0_y)"),
              Case(f"_mm256_permutevar_ps(f1_y, i0_y)"), Case("_mm512_permutexvar_epi8(i1, i2)", "vbmi")]
    for index in range(4):
        cases.append(Case(f"_mm512_extractf32x4_ps(f1, {index})"))
        cases.append(Case(f"_mm512_inserti32x4(i0, i2_x, {index})"))
        cases.append(Case(f"_mm512_mask_i32gather_ps(f1, 0x7FF7, i7, T0_bytes, 4)"))
    for index in range(2):
        for op in ("_mm512_extractf32x8_ps(f1, {i})", "_mm512_extracti64x4_epi64(i2, {i})",
                   "_mm256_extractf128_ps(f1_y, {i})", "_mm256_extracti128_si256(i2_y, {i})",
                   "_mm512_insertf32x8(f0, f1_y, {i})", "_mm256_insertf128_ps(f0_y, f1_x, {i})",
                   "_mm256_inserti128_si256(i0_y, i2_x, {i})", "_mm512_inserti64x4(i0, i2_y, {i})"):
            cases.append(Case(op.format(i=index)))
    cases += [Case(c) for c in (
        "_mm512_i32gather_ps(i7, T0_bytes, 4)", "_mm512_i32gather_epi32(i7, T0_bytes, 4)",
        "_mm512_i32gather_pd(i7_y, T0_bytes, 4)", "_mm512_i64gather_pd(i11, T0_bytes, 2)",
        "_mm256_i32gather_ps((const float*)T0_bytes, i7_y, 4)", "_mm256_i32gather_epi32((const int*)T0_bytes, i7_y, 4)",
        "_mm256_mask_i32gather_ps(f1_y, (const float*)T0_bytes, i7_y, f3_y, 4)",
        "_mm_i32gather_ps((const float*)T0_bytes, i7_x, 4)", "_mm256_i64gather_pd((const double*)T0_bytes, i11_y, 4)",
        "_mm512_broadcast_f32x4(f1_x)", "_mm512_broadcast_i64x4(i2_y)", "_mm512_broadcast_f32x8(f1_y)",
        "_mm256_broadcastsi128_si256(i2_x)", "_mm256_broadcast_ss((const float*)F1_bytes + 2)",
        "_mm512_set1_ps(-0.0f)", "_mm512_set1_epi8((char)0x80)", "_mm256_set1_epi16(-2)", "_mm_set1_epi64x(-3)",
        "_mm512_set_ps(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)",
        "_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, -15)",
        "_mm256_set_epi64x(1, -2, 3, -4)", "_mm512_set4_ps(1, 2, 3, 4)", "_mm512_setr4_epi32(1, 2, 3, 4)",
        "_mm_dp_pd(d1_x, d0_x, 0x31)", "_mm_dp_pd(d0_x, d0_x, 0x33)", "_mm_setr_ps(1, 2, 3, 4)", "_mm256_set_m128(f1_x, f0_x)",
        "_mm_set_epi8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)", "_mm_set_epi32(1, 2, 3, 4)",
        "_mm512_castps512_ps128(f1)", "_mm256_castps256_ps128(f1_y)", "_mm512_castsi512_si256(i2)",
        "_mm512_castps_si512(f1)", "_mm512_castsi512_ps(i2)", "_mm_castps_si128(f1_x)",
        "_mm512_zextps256_ps512(f1_y)", "_mm256_zextsi128_si256(i2_x)",
        "_mm_cvtss_f32(f1_x)", "_mm256_cvtss_f32(f3_y)", "_mm512_cvtss_f32(f4)", "_mm_cvtsi128_si32(i2_x)",
        "_mm512_cvtsi512_si32(i5)", "_mm_cvtsi32_si128(-7)", "_mm_extract_epi32(i2_x, 3)", "_mm_extract_epi8(i2_x, 9)",
        "_mm_extract_epi16(i8_x, 5)", "_mm256_extract_epi32(i2_y, 6)", "_mm256_extract_epi64(i2_y, 3)",
        "_mm_extract_ps(f1_x, 1)", "_mm_insert_epi32(i2_x, -9, 2)", "_mm256_insert_epi16(i8_y, 77, 13)",
        "_mm_srli_si128(i2_x, 3)", "_mm_slli_si128(i2_x, 5)", "_mm_srli_si128(i2_x, 16)", "_mm256_srli_si256(i2_y, 7)",
        "_mm256_slli_si256(i2_y, 15)", "_mm512_bsrli_epi128(i2, 4)", "_mm512_bslli_epi128(i2, 12)",
        "_mm_cvtps_pd(f1_x)", "_mm256_cvtps_pd(f1_x)", "_mm512_cvtps_pd(f3_y)", "_mm512_cvtpd_ps(d1)",
        "_mm256_cvtpd_ps(d1_y)", "_mm_cvtpd_ps(d1_x)", "_mm512_cvtepi32_pd(i2_y)", "_mm256_cvtpd_epi32(d1_y)",
        "_mm512_cvttpd_epi32(d0)", "_mm_cvtss_si32(f1_x)", "_mm_cvttss_si32(f3_x)",
        "_mm512_cvt_roundps_epi32(f4, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)",
        "_mm512_cvt_roundps_epi32(f1, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)",
        "_mm512_cvt_roundps_epi32(f0, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)",
        "_cvtss_sh(65519.0f, 0)", "_cvtss_sh(1e-7f, 2)", "_cvtss_sh(-1e-7f, 1)", "_cvtsh_ss(0x7BFF)",
        "_cvtsh_ss(0x0201)", "_mm_popcnt_u32(0xF0F01234u)", "_tzcnt_u32(0)", "_lzcnt_u32(0x00F00000u)",
        "_mm_popcnt_u64(0xF0F0123400000000ull)", "_bzhi_u32(0xFFFFFFFFu, 7)",
        "_kor_mask16(0x00F0, 0x0F01)", "_knot_mask16(0x00F0)", "_kshiftli_mask16(0x00F1, 4)",
        "_mm512_kunpackb(0x12, 0x34)", "_mm512_movepi32_mask(i2)", "_mm512_movm_epi32(0xA5C3)",
    )]
    for imm in (0, 1, 2, 3):
        cases.append(Case(f"_mm_shuffle_pd(d1_x, d0_x, {imm})"))
        cases.append(Case(f"_mm256_permute_pd(d1_y, {imm + 4})"))
    cases += [Case(f"_mm512_cvtne2ps_pbh(f0, f3)", "bf16"), Case("_mm512_cvtneps_pbh(f1)", "bf16"),
              Case("_mm512_cvtneps_pbh(f4)", "bf16"), Case("_mm512_dpbf16_ps(f2, (__m512bh)i0, (__m512bh)i1)", "bf16"),
              Case("_mm512_dpbf16_ps(f1, (__m512bh)f0, (__m512bh)f3)", "bf16"),
              Case("_mm256_dpbf16_ps(f3_y, (__m256bh)i2_y, (__m256bh)i1_y)", "bf16"),
              Case("_mm512_cvtpbh_ps((__m256bh)h0_y)", "bf16")]
    return cases


def all_cases() -> list[Case]:
    return float_cases() + int_cases() + memory_cases()


# ---- the program ---------------------------------------------------------------------------------------------------

VECTOR_TYPES = {"F": ("__m512", "__m256", "__m128"), "D": ("__m512d", "__m256d", "__m128d"),
                "I": ("__m512i", "__m256i", "__m128i"), "H": ("__m512i", "__m256i", "__m128i")}
PRELUDE = """\
#include <immintrin.h>
#include <cstdio>
#include <cstring>
template <class V>
static V ld(const unsigned char* p) { V v; std::memcpy(&v, p, sizeof v); return v; }
template <class T>
static void record(const char* name, const T& value) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(&value);
    std::printf("%s|", name);
    for (unsigned i = 0; i < sizeof value; ++i) std::printf("%02x", p[i]);
    std::printf("\\n");
}
"""
CASES_PER_FUNCTION = 50


def program(cases: list[Case]) -> str:
    """C++ printing `code|hex bytes` for every case. Inputs are mutable globals loaded behind a compiler barrier,
    so the native build cannot fold the intrinsics at compile time instead of running the instructions."""
    parts = [PRELUDE]
    for name, array in INPUTS.items():
        data = ", ".join(str(b) for b in array.view(np.uint8))
        parts.append(f"alignas(64) unsigned char {name}_bytes[{array.nbytes}] = {{{data}}};")
    loads = []
    for name, array in INPUTS.items():
        if array.nbytes == 64:
            for vector_type, suffix in zip(VECTOR_TYPES[name[0]], ("", "_y", "_x")):
                loads.append(f"    const {vector_type} {v(name, suffix)} = ld<{vector_type}>({name}_bytes);")
    functions = []
    for start in range(0, len(cases), CASES_PER_FUNCTION):
        body = [f"__attribute__((noinline)) static void cases_{start}() {{", '    asm volatile("" ::: "memory");',
                *loads]
        for case in cases[start:start + CASES_PER_FUNCTION]:
            if case.store:
                body.append(f"    {{ alignas(64) unsigned char out[256] = {{}}; {case.code}; "
                            f'record("{case.code}", out); }}')
            else:
                body.append(f'    record("{case.code}", {case.code});')
        body.append("}")
        functions.append(start)
        parts.append("\n".join(body))
    parts.append("int main() {\n" + "".join(f"    cases_{s}();\n" for s in functions) + "    return 0;\n}\n")
    return "\n".join(parts)


def selected_cases(features: set[str]) -> list[Case]:
    seen, chosen = set(), []
    for case in all_cases():
        if case.feature in features and case.code not in seen:
            seen.add(case.code)
            chosen.append(case)
    return chosen


def build_and_run(source: str, flags: list[str], workdir: Path, name: str) -> dict[str, bytes]:
    src, exe = workdir / f"{name}.cpp", workdir / name
    src.write_text(source)
    build = subprocess.run(["g++", *flags, "-o", str(exe), str(src)], capture_output=True, text=True)
    assert build.returncode == 0, f"{name} build failed:\n{build.stderr[-6000:]}"
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{name} failed:\n{run.stderr[-3000:]}"
    results = {}
    for line in run.stdout.splitlines():
        code, _, data = line.rpartition("|")
        results[code] = bytes.fromhex(data)
    return results


# ---- comparing results --------------------------------------------------------------------------------------------

def approximation_bound(code: str) -> float | None:
    return next((bound for key, bound in APPROXIMATE.items() if key in code.split("(", 1)[0]), None)


# Where two or more NaNs meet in one addition (horizontal adds, reductions, dp), which one the hardware returns
# depends on the operand order the compiler picked; any NaN is then right.
NAN_ORDER_FREE = re.compile(r"reduce_(add|mul)|_h(add|sub)_|_dp_p[sd]")


def mismatch(code: str, emulated: bytes, native: bytes) -> str | None:
    """None when the emulated result is acceptable for the native one, else a description of the first bad lane."""
    if emulated == native:
        return None
    bound = approximation_bound(code)
    if bound is None and not NAN_ORDER_FREE.search(code):
        return f"bytes differ:\n  emulated {emulated.hex()}\n  native   {native.hex()}"
    dtype = np.float64 if code.split("(", 1)[0].endswith("_pd") else np.float32
    got, want = np.frombuffer(emulated, dtype), np.frombuffer(native, dtype)
    for lane, (g, w) in enumerate(zip(got, want)):
        if g.tobytes() == w.tobytes():
            continue
        if np.isnan(g) and np.isnan(w) and NAN_ORDER_FREE.search(code):
            continue
        finite = np.isfinite(g) and np.isfinite(w) and w != 0
        if bound is not None and finite and abs(float(g) - float(w)) <= bound * abs(float(w)):
            continue
        return f"lane {lane}: emulated {g!r} ({g.tobytes().hex()}), native {w!r} ({w.tobytes().hex()})"
    return None


# ---- tests -----------------------------------------------------------------------------------------------------------

def test_standard_headers_compile_and_run_with_the_emulation(tmp_path: Path) -> None:
    """libstdc++ headers include <pmmintrin.h> / <emmintrin.h> themselves (SSE3 normal_distribution, the SFMT
    generator); with the emulation first on the include path and its feature macros set, they must still work."""
    source = """
        #include <random>
        #include <algorithm>
        #include <cmath>
        #include <vector>
        #include <ext/random>
        #include <omp.h>
        #include <x86intrin.h>
        #include <cstdio>
        int main() {
            std::mt19937 engine(7);
            std::normal_distribution<double> normal;
            double sum = 0;
            for (int i = 0; i < 1000; ++i) sum += normal(engine);
            __gnu_cxx::sfmt19937 sfmt(11);
            std::vector<float> v(16, 1.5f);
            std::sort(v.begin(), v.end());
            std::printf("%d %d %g\\n", XP_INTRIN_EMULATED, std::abs(sum) < 200, _mm512_reduce_add_ps(_mm512_loadu_ps(v.data())));
            return sfmt() == sfmt();
        }
    """
    results_dir = tmp_path / "headers"
    results_dir.mkdir()
    src, exe = results_dir / "headers.cpp", results_dir / "headers"
    src.write_text(source)
    build = subprocess.run(["g++", *EMULATED_FLAGS, "-o", str(exe), str(src)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-4000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.split() == ["1", "1", "24"], run.stdout + run.stderr


@pytest.fixture(scope="module")
def emulated_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    # -O1: the program has thousands of inlined intrinsics and -O2 triples its build time; the corpus kernels
    # below run through the executor's own -O2 flags.
    flags = [f if f != "-O2" else "-O1" for f in EMULATED_FLAGS]
    cases = selected_cases({"base", "avx_vnni", "bf16", "vbmi"})
    return build_and_run(program(cases), flags, tmp_path_factory.mktemp("emulated"), "emulated")


def test_intrinsics_match_the_native_instructions(emulated_results: dict[str, bytes], tmp_path: Path) -> None:
    missing = missing_native_features()
    if missing:
        pytest.skip(f"CPU lacks {', '.join(missing)}: no native results to compare with")
    features = {"base"} | {group for group, flag in (("avx_vnni", "avx_vnni"), ("bf16", "avx512_bf16"),
                                                     ("vbmi", "avx512vbmi")) if flag in cpu_flags()}
    native = build_and_run(program(selected_cases(features)), NATIVE_FLAGS, tmp_path, "native")
    assert len(native) > 5000
    failures = [f"{code}: {problem}" for code, data in native.items()
                if (problem := mismatch(code, emulated_results[code], data))]
    assert not failures, f"{len(failures)} of {len(native)} intrinsic results differ:\n" + "\n".join(failures[:40])


# Kernels run through the executor, for the checks against numpy (any machine) and, at scale, against the CPU.
KNOWN_ANSWER_KERNELS = r"""
#include <immintrin.h>
#include <cstdint>

extern "C" void halves_to_floats(const uint16_t* h, float* out, int n) {
    for (int i = 0; i < n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(h + i))));
}

// The rounding mode is an immediate of the instruction, hence one call per mode.
#define XP_TO_HALVES(mode) \
    for (int i = 0; i < n; i += 16) \
        _mm256_storeu_si256((__m256i*)(out + (mode) * n + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), mode));
extern "C" void floats_to_halves(const float* x, uint16_t* out, int n) {
    XP_TO_HALVES(0) XP_TO_HALVES(1) XP_TO_HALVES(2) XP_TO_HALVES(3)
}

extern "C" void dot_products(const uint8_t* a, const int8_t* b, const int32_t* src, int32_t* out, int n) {
    for (int i = 0; i < n; i += 16) {
        const __m512i va = _mm512_loadu_si512(a + 4 * i), vb = _mm512_loadu_si512(b + 4 * i);
        const __m512i acc = _mm512_loadu_si512(src + i);
        _mm512_storeu_si512(out + i, _mm512_dpbusd_epi32(acc, va, vb));
        _mm512_storeu_si512(out + n + i, _mm512_dpbusds_epi32(acc, va, vb));
        _mm512_storeu_si512(out + 2 * n + i, _mm512_dpwssd_epi32(acc, va, vb));
        _mm512_storeu_si512(out + 3 * n + i, _mm512_dpwssds_epi32(acc, va, vb));
        _mm512_storeu_si512(out + 4 * n + i, _mm512_maddubs_epi16(va, vb));
    }
}

extern "C" void floats_to_ints(const float* x, int32_t* out, int n) {
    for (int i = 0; i < n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        _mm512_storeu_si512(out + i, _mm512_cvtps_epi32(v));
        _mm512_storeu_si512(out + n + i, _mm512_cvttps_epi32(v));
    }
}
"""


def known_answer_args(entry: str) -> list[tuple[str, np.ndarray | np.generic]]:
    rng = np.random.default_rng(99)
    if entry == "halves_to_floats":
        halves = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
        return [("h", halves), ("out", np.zeros(1 << 16, np.float32)), ("n", np.int32(1 << 16))]
    if entry == "floats_to_halves":
        ties = (np.arange(1, 2049, dtype=np.float64) + 0.5) * 2.0**-24  # every subnormal-half midpoint
        x = np.concatenate([ties, -ties, rng.standard_normal(4096) * 1e3, rng.standard_normal(2048) * 1e-5,
                            np.float32(rng.uniform(6e4, 7e4, 1024)), [np.inf, -np.inf, 0.0, -0.0, 65504, 65520]])
        x = np.resize(x.astype(np.float32), (x.size + 15) // 16 * 16)
        return [("x", x), ("out", np.zeros(4 * x.size, np.uint16)), ("n", np.int32(x.size))]
    if entry == "dot_products":
        n = 4096
        a = rng.integers(0, 256, 4 * n, dtype=np.int64)
        b = rng.integers(-128, 128, 4 * n, dtype=np.int64)
        a[: 4 * 512], b[: 4 * 512] = 255, 127  # 4 * 255 * 127 per lane, on top of accumulators near the limits
        b[4 * 512: 4 * 1024] = -128
        src = rng.integers(-2**31, 2**31, n, dtype=np.int64)
        src[:512] = 2**31 - 1 - rng.integers(0, 200000, 512)
        src[512:1024] = -2**31 + rng.integers(0, 200000, 512)
        return [("a", a.astype(np.uint8)), ("b", b.astype(np.int8)), ("src", src.astype(np.int32)),
                ("out", np.zeros(5 * n, np.int32)), ("n", np.int32(n))]
    x = np.concatenate([np.arange(-40, 40) + 0.5, rng.standard_normal(1000) * 1e9, [np.nan, np.inf, -np.inf],
                        [2.0**31, -2.0**31, 2.0**31 - 128, -2.0**31 - 256]])
    x = np.resize(x.astype(np.float32), (x.size + 15) // 16 * 16)
    return [("x", x), ("out", np.zeros(2 * x.size, np.int32)), ("n", np.int32(x.size))]


def known_answer_reference(entry: str, args: dict[str, np.ndarray]) -> np.ndarray:
    """What the instructions compute, from their documentation, in numpy."""
    if entry == "halves_to_floats":
        h = args["h"]
        want = h.view(np.float16).astype(np.float32)
        nan = (h & 0x7C00) == 0x7C00
        nan &= (h & 0x3FF) != 0  # NaN: same sign and payload, quiet bit set
        quiet = ((h.astype(np.uint32) & 0x8000) << 16) | 0x7FC00000 | ((h.astype(np.uint32) & 0x3FF) << 13)
        return np.where(nan, quiet.view(np.float32), want).view(np.uint32)
    if entry == "floats_to_halves":
        x = args["x"]
        nearest = x.astype(np.float16)  # numpy rounds to nearest even, subnormals and overflow included
        exact = x.astype(np.float64)
        below = nearest.astype(np.float64) > exact
        above = nearest.astype(np.float64) < exact
        down = np.where(below, np.nextafter(nearest, np.float16(-np.inf)), nearest)
        up = np.where(above, np.nextafter(nearest, np.float16(np.inf)), nearest)
        toward_zero = np.where(exact < 0, up, down)
        return np.concatenate([nearest, down, up, toward_zero]).view(np.uint16)
    if entry == "dot_products":
        n = int(args["n"])
        a, b, src = args["a"].astype(np.int64), args["b"].astype(np.int64), args["src"].astype(np.int64)
        u8s8 = (a * b).reshape(n, 4).sum(axis=1)
        a16 = args["a"].view(np.int16).astype(np.int64)
        b16 = args["b"].view(np.int16).astype(np.int64)
        s16s16 = (a16 * b16).reshape(n, 2).sum(axis=1)
        pairs = (a * b).reshape(-1, 2).sum(axis=1)
        wrap = lambda v: ((v + 2**31) % 2**32 - 2**31).astype(np.int32)  # noqa: E731
        clamp = lambda v: np.clip(v, -2**31, 2**31 - 1).astype(np.int32)  # noqa: E731
        maddubs = np.clip(pairs, -32768, 32767).astype(np.int16).view(np.int32)
        return np.concatenate([wrap(src + u8s8), clamp(src + u8s8), wrap(src + s16s16), clamp(src + s16s16),
                               maddubs])
    x = args["x"].astype(np.float64)
    valid = np.isfinite(x) & (x >= -2.0**31) & (x < 2.0**31)
    indefinite = np.int32(-2**31)

    def convert(r: np.ndarray) -> np.ndarray:
        ok = valid & (r >= -2.0**31) & (r < 2.0**31)
        return np.where(ok, np.nan_to_num(r), indefinite).astype(np.int32)
    return np.concatenate([convert(np.rint(x)), convert(np.trunc(x))])


KNOWN_ANSWER_ENTRIES = ("halves_to_floats", "floats_to_halves", "dot_products", "floats_to_ints")


@pytest.mark.parametrize("entry", KNOWN_ANSWER_ENTRIES)
def test_known_answers(entry: str) -> None:
    """Emulated conversions and dot products equal their documented definitions computed with numpy, and (on a
    CPU that has the instructions) the native build agrees on all inputs, e.g. every one of the 65536 halves."""
    args = known_answer_args(entry)
    with np.errstate(over="ignore"):  # float -> half overflow to infinity is part of what is checked
        want = known_answer_reference(entry, dict(args))
    got = execute(KNOWN_ANSWER_KERNELS, "cpp", entry, args)["out"]
    bad = np.flatnonzero(got.view(want.dtype) != want)
    assert bad.size == 0, f"{bad.size} wrong, first at {bad[0]}: got {got.view(want.dtype)[bad[0]]}, want {want[bad[0]]}"
    if not missing_native_features():
        native = execute(KNOWN_ANSWER_KERNELS, "cpp", entry, args, native=True)["out"]
        assert np.array_equal(native.view(np.uint8), got.view(np.uint8)), f"{entry}: native build differs"


def test_aligned_access_to_a_misaligned_address_is_diagnosed() -> None:
    """The instruction would fault (or not, if the compiler folds the load into an EVEX operand): the emulation
    always stops with a diagnosis naming the intrinsic."""
    source = """
        #include <immintrin.h>
        extern "C" void shifted_copy(const float* x, float* y) { _mm512_storeu_ps(y, _mm512_load_ps(x + 1)); }
    """
    args = [("x", np.zeros(64, np.float32)), ("y", np.zeros(16, np.float32))]
    with pytest.raises(ExecutionError) as error:
        execute(source, "cpp", "shifted_copy", args)
    assert error.value.code == "XP303" and "_mm512_load_ps" in error.value.message


def test_masked_loads_and_stores_touch_only_selected_lanes() -> None:
    """A tail handled with masks reads and writes nothing past the buffer (checked by AddressSanitizer)."""
    source = """
        #include <immintrin.h>
        extern "C" void scale(const float* x, float* y, int n) {
            for (int i = 0; i < n; i += 16) {
                const __mmask16 m = n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1u;
                _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_set1_ps(2)));
            }
        }
    """
    x = np.arange(17, dtype=np.float32)
    try:
        out = execute(source, "cpp", "scale", [("x", x), ("y", np.zeros(17, np.float32)), ("n", np.int32(17))],
                      bounds_check=True)
    except ExecutionError as error:
        if error.code == "XP204":
            pytest.skip(error.message)
        raise
    np.testing.assert_array_equal(out["y"], 2 * x)


# Kernels using the hardware approximations differ from the exact emulation within the approximation's bound,
# amplified a little by what the kernel computes from them.
APPROXIMATION_USE = re.compile(r"\b_mm\d*_(mask_|maskz_)?(rcp14|rsqrt14|rcp|rsqrt)_p[sd]\b")


def corpus_sizes(op: str) -> dict:
    """The smallest size set with an extent that is not a multiple of 16 (masked tails), else the smallest."""
    sizes = sorted(SPECS[op].sizes, key=lambda s: np.prod([float(v) for v in s.values()]))
    return next((s for s in sizes if any(int(v) % 16 for v in s.values() if float(v).is_integer())), sizes[0])


@pytest.mark.parametrize("path", sorted(CORPUS_CPP.glob("*.cpp")), ids=lambda p: p.stem)
def test_corpus_kernel_matches_its_native_build(path: Path) -> None:
    missing = missing_native_features()
    if missing:
        pytest.skip(f"CPU lacks {', '.join(missing)}: no native build to compare with")
    op = path.stem
    source = path.read_text()
    args = make_args(SPECS[op], corpus_sizes(op))
    emulated = execute(source, "cpp", op, args)
    native = execute(source, "cpp", op, args, native=True)
    for name, want in native.items():
        got = emulated[name]
        if APPROXIMATION_USE.search(source) and want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=2.0**-12, atol=0, err_msg=name)
        else:
            assert got.tobytes() == want.tobytes(), (
                f"{name}: emulated and native differ at {np.flatnonzero(got.view(np.uint8) != want.view(np.uint8))[:8]}")

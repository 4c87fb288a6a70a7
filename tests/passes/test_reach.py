"""passes.reach and verify_translation: a result's fast versions (`[[likely]]` branches without bounds tests) are
executed by verification, not trusted because their slower twins agreed."""
from __future__ import annotations

import textwrap
from pathlib import Path

from kernel_ir.ir import BinOp, Const, DType, Select, UnaryOp, Var
from kernel_ir.parse import parse
from passes.reach import covering_sizes, fast_versions, reached, truth
from passes.translate import Translation, translate
from passes.verify import verify, verify_translation

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

SCALE_CUDA = textwrap.dedent("""
    __global__ void scale_kernel(const float* x, float* y, int n) {
        int i = blockIdx.x * 64 + threadIdx.x;
        if (i < n) y[i] = 2.0f * x[i];
    }
    extern "C" void scale(const float* x, float* y, int n) {
        scale_kernel<<<(n + 63) / 64, 64>>>(x, y, n);
    }
""")


def cpp_result(fast_factor: str) -> Translation:
    """A hand-written cpp port of SCALE_CUDA with a fast version for whole blocks, right or wrong."""
    code = textwrap.dedent(f"""
        extern "C" void scale(const float* x, float* y, int n) {{
            const int blocks = (n + 63) / 64;
            for (int b = 0; b < blocks; ++b) {{
                if (b * 64 + 63 < n) [[likely]] {{
                    for (int t = 0; t < 64; ++t) y[b * 64 + t] = {fast_factor} * x[b * 64 + t];
                }} else {{
                    for (int t = 0; t < 64; ++t)
                        if (b * 64 + t < n) y[b * 64 + t] = 2.0f * x[b * 64 + t];
                }}
            }}
        }}
    """)
    return Translation(code, "cuda", "cpp", "scale", parse(code, "cpp"), (), (), 0.0)


def test_a_wrong_fast_version_that_default_sizes_never_run_is_caught() -> None:
    wrong = cpp_result("3.0f")
    assert verify(SCALE_CUDA, "cuda", wrong.code, "cpp", "scale").verified  # n = 37: only the partial block ran
    checked = verify_translation(SCALE_CUDA, "cuda", wrong)
    assert checked.status == "mismatch" and checked.reason.startswith("on sizes that run its [[likely]] branches")
    assert checked.sizes["n"] > 64


def test_a_right_fast_version_is_verified_on_both_sizes() -> None:
    checked = verify_translation(SCALE_CUDA, "cuda", cpp_result("2.0f"))
    assert checked.verified and checked.sizes == {"n": 37}
    assert checked.reason.endswith("; agreed too on n=69; its [[likely]] branch ran")


def test_sizes_given_that_already_run_the_fast_versions_are_not_grown() -> None:
    checked = verify_translation(SCALE_CUDA, "cuda", cpp_result("2.0f"), sizes={"n": 200})
    assert checked.verified and checked.reason.endswith("(max abs error 0); its [[likely]] branch ran")


def test_the_walk_follows_declarations_first_iterations_and_early_returns() -> None:
    module = parse(textwrap.dedent("""
        constexpr int TILE = 16;
        extern "C" void f(float* y, int n, int m) {
            if (n <= 0) return;
            const int tiles = n / TILE;
            for (int t = 1; t < tiles; ++t) {
                if (t * TILE + TILE <= n && m > 2) [[likely]] { y[t] = 1.0f; }
                for (int k = 0; k < m; ++k) {
                    if (k + 8 < m) [[likely]] { y[k] = 2.0f; }
                }
            }
        }
    """), "cpp")
    f = module.function("f")
    assert len(fast_versions(f)) == 2
    assert reached(module, f, {"n": 37, "m": 3}) == {0}  # k + 8 < 3 fails on the first k
    assert reached(module, f, {"n": 37, "m": 9}) == {0, 1}
    assert reached(module, f, {"n": 31, "m": 9}) == set()  # one tile: the t loop does not run
    assert reached(module, f, {"n": 0, "m": 9}) == set()  # returned before
    assert covering_sizes(module, "f", {"n": 37, "m": 3}) == [{"n": 37, "m": 19}]  # growing m alone is enough


def test_only_the_sizes_that_help_grow() -> None:
    """`b * 256 + KW + 254 < L` (a 1-D convolution's whole-tile test) holds when L grows, never when KW grows
    with it; `end` is a select (the last chunk's end)."""
    module = parse(textwrap.dedent("""
        extern "C" void f(float* y, int L, int KW) {
            for (int b = 0; b < (L + 255) / 256; ++b) {
                const int end = b * 256 + 256 < L ? b * 256 + 256 : L;
                if (b * 256 + KW + 254 < L && end - b * 256 == 256) [[likely]] { y[b] = 1.0f; }
            }
        }
    """), "cpp")
    assert covering_sizes(module, "f", {"L": 37, "KW": 19}) == [{"L": 293, "KW": 19}]


def test_a_version_inside_a_slow_twin_takes_another_run() -> None:
    """The k test is versioned in both versions of the block: one size choice runs the block's fast version or its
    slow one, never both, so a second choice runs the other."""
    module = parse(textwrap.dedent("""
        extern "C" void f(float* y, int n, int m) {
            for (int b = 0; b < (n + 63) / 64; ++b) {
                if (b * 64 + 63 < n) [[likely]] {
                    for (int k = 0; k < m; ++k) if (k + 8 < m) [[likely]] { y[k] = 1.0f; }
                } else {
                    for (int k = 0; k < m; ++k) if (k + 8 < m) [[likely]] { y[k] = 2.0f; }
                }
            }
        }
    """), "cpp")
    assert covering_sizes(module, "f", {"n": 37, "m": 3}) == [{"n": 69, "m": 35}, {"n": 37, "m": 19}]
    assert covering_sizes(module, "f", {"n": 37, "m": 3}, runs=1) == [{"n": 69, "m": 35}]


def test_truth_short_circuits_on_what_it_knows() -> None:
    def less(a: str | int, b: int) -> BinOp:
        return BinOp("<", Var(a) if isinstance(a, str) else Const(a, DType.int32), Const(b, DType.int32))

    assert truth(BinOp("||", less("q", 3), less(1, 2)), {}) is True
    assert truth(BinOp("&&", less("q", 3), less(2, 1)), {}) is False
    assert truth(BinOp("&&", less("q", 3), less(1, 2)), {}) is None
    assert truth(UnaryOp("!", less("n", 5)), {"n": 4}) is False
    assert truth(Select(less("q", 3), less(1, 2), less(0, 2)), {}) is True  # both arms agree
    assert truth(Select(less("n", 3), less(2, 1), Var("q")), {"n": 1}) is False  # the arm not taken is unknown


def test_simdized_gemm_runs_its_fast_versions_only_on_grown_sizes() -> None:
    translation = translate((CORPUS / "cuda" / "gemm.cu").read_text(), "cpp", native_compile=False)
    function = translation.module.function(translation.entry)
    assert len(fast_versions(function)) == 2 and "[[likely]]" in translation.code
    assert reached(translation.module, function, {"M": 37, "N": 19, "K": 13}) == set()
    [grown] = covering_sizes(translation.module, translation.entry, {"M": 37, "N": 19, "K": 13})
    assert grown == {"M": 101, "N": 83, "K": 77}
    assert len(reached(translation.module, function, grown)) == 2


def test_one_fast_version_printed_in_both_versions_of_another_counts_twice() -> None:
    """conv1d's channel-loop version sits in both versions of the block's (the same IR node twice): one size choice
    runs the block's fast version and the copy inside it, a second the copy inside the slow one."""
    translation = translate((CORPUS / "cuda" / "conv1d.cu").read_text(), "cpp", native_compile=False)
    function = translation.module.function(translation.entry)
    sizes = {"N": 37, "C": 19, "L": 13, "F": 7, "KW": 5}
    choices = covering_sizes(translation.module, translation.entry, sizes)
    assert len(fast_versions(function)) == 3 and len(choices) == 2
    assert set().union(*(reached(translation.module, function, c) for c in choices)) == {0, 1, 2}

"""cuda -> cpp translations by two versions of Xpiler, timed next to numpy in one process: the corpus's CUDA
kernel of each operator translated by git revision REV (a temporary worktree) and by this tree, both built with
g++ -O3 -march=native -fopenmp, each timed as process CPU time, best of 15 calls, on the operator sizes and numpy
references of bench/cpp_vs_numpy.py. Run it with one thread to compare code, not thread scheduling:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python bench/cpp_revisions.py REV softmax conv2d_nchw
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cpp_vs_numpy import CASES  # noqa: E402
from simdize_before_after import best_ms, entry_call  # noqa: E402

from passes.translate import translate  # noqa: E402
from tests.corpus.specs import SPECS, make_args  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TRANSLATE = ("import sys; from pathlib import Path; from passes.translate import translate; "
             "sys.stdout.write(translate(Path(sys.argv[1]).read_text(), 'cpp', 'cuda', native_compile=False).code)")


def library(code: str, path: Path) -> ctypes.CDLL:
    path.with_suffix(".cpp").write_text(code)
    subprocess.run(["g++", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", str(path.with_suffix(".cpp")),
                    "-o", str(path.with_suffix(".so"))], check=True)
    return ctypes.CDLL(str(path.with_suffix(".so")))


def main() -> None:
    revision, ops = sys.argv[1], sys.argv[2:]
    out = Path(tempfile.mkdtemp(prefix="xpile-revisions-"))
    worktree = out / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), revision], check=True,
                   capture_output=True)
    try:
        print(f"| operator | numpy ms | cuda->cpp at {revision} ms | this tree ms | speed-up | ratio to numpy now |")
        print("|---|---:|---:|---:|---:|---:|")
        for op in ops:
            source = ROOT / "tests" / "corpus" / "cuda" / f"{op}.cu"
            before = subprocess.run([sys.executable, "-c", TRANSLATE, str(source)], cwd=worktree, check=True,
                                    capture_output=True, text=True,
                                    env={**os.environ, "PYTHONPATH": str(worktree)}).stdout
            after = translate(source.read_text(), "cpp", "cuda", native_compile=False).code
            sizes, reference = CASES[op]
            args = make_args(SPECS[op], sizes)
            numpy_ms = best_ms(lambda: reference(**dict(args)), 15)
            then, now = (best_ms(entry_call(library(code, out / f"{op}_{tag}"), op, args), 15)
                         for code, tag in ((before, "before"), (after, "after")))
            print(f"| {op} | {numpy_ms:.2f} | {then:.2f} | {now:.2f} | {then / now:.2f}x | {numpy_ms / now:.2f}x |",
                  flush=True)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=True)


if __name__ == "__main__":
    main()

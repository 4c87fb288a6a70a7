"""tune(): verified before timed, wrong never wins, trials stored and resumed (even after SIGKILL)."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import passes.verify
from autotune import build_spaces, tune
from autotune.trials import TrialStore
from devices import Repeats
from tests.autotune.fake_device import FakeDevice
from tests.autotune.kernels import ROW_PREFIX, SCALE_ROWS

SIZES = {"rows": 64, "cols": 64}
QUICK = Repeats(warmup=1, repeats=3, min_time_s=0.0)
REPO = Path(__file__).resolve().parents[2]


def test_tune_on_the_local_cpu_returns_a_verified_best_and_its_history(tmp_path):
    seen = []
    result = tune(SCALE_ROWS, target="cpp", source="cpp", budget=3, trials_path=tmp_path / "t.jsonl",
                  sizes=SIZES, repeats=QUICK, progress=lambda trial, best: seen.append((trial.number, best)))
    assert len(result.trials) == 3 and [n for n, _ in seen] == [0, 1, 2]
    assert result.trials[0].config == {"sequence": "untuned"} and result.untuned_time is not None
    assert result.best_time is not None and result.best_time.kind == "measurement"
    assert result.best_time.median_s == min(t.time_s for t in result.trials if t.ok)
    assert "extern \"C\" void scale_rows" in result.best_code
    assert all(t.ok == (t.extra.get("verification") == "verified") for t in result.trials)
    assert len(TrialStore(tmp_path / "t.jsonl", "", "").log.records()) == 3
    again = tune(SCALE_ROWS, target="cpp", source="cpp", budget=3, trials_path=tmp_path / "t.jsonl", sizes=SIZES,
                 repeats=QUICK)
    assert again.measured == 0 and all(t.resumed for t in again.trials)
    assert again.best_config == result.best_config


def test_a_wrong_candidate_never_wins(tmp_path, monkeypatch):
    """The fake device calls every num_threads(1) candidate 1000x faster; verification says they are wrong."""
    real_verify = passes.verify.verify

    def verify_rejecting_one_thread(source, dialect, code, *args, **kwargs):
        verification = real_verify(source, dialect, code, *args, **kwargs)
        if "num_threads(1)" in code:
            return passes.verify.Verification("mismatch", "injected: outputs differ")
        return verification

    monkeypatch.setattr("passes.verify.verify", verify_rejecting_one_thread)
    # the grid walks all 18 one-thread points (schedule x cpu_tune x tensorize) before the first of two threads
    result = tune(SCALE_ROWS, target="cpp", source="cpp", budget=20, strategy="grid", sequences=((),),
                  device=FakeDevice(tmp_path / "measured.log"), trials_path=tmp_path / "t.jsonl", sizes=SIZES)
    wrong = [t for t in result.trials if t.config.get("omp_threads") == 1]
    assert wrong and all(t.status == "wrong" and t.measurement is None and t.objective == 0 for t in wrong)
    assert result.best_config["omp_threads"] != 1
    measured = (tmp_path / "measured.log").read_text().split()
    assert len(measured) == sum(t.ok for t in result.trials)  # wrong candidates were never timed


def test_refused_points_are_recorded_not_measured(tmp_path):
    result = tune(ROW_PREFIX, target="cpp", source="cpp", budget=3, sequences=(("reorder",),),
                  device=FakeDevice(tmp_path / "measured.log"), trials_path=tmp_path / "t.jsonl", sizes=SIZES)
    refused = [t for t in result.trials if t.config["sequence"] == "reorder"]
    assert refused and all(t.status == "refused" and "XP53" in t.reason and t.measurement is None for t in refused)
    assert result.measured == 1 and result.best_config == {"sequence": "untuned"}


def test_ctrl_c_keeps_the_finished_trials(tmp_path):
    def interrupt_after_two(trial, best):
        if trial.number == 1:
            raise KeyboardInterrupt

    result = tune(SCALE_ROWS, target="cpp", source="cpp", budget=5, device=FakeDevice(tmp_path / "m.log"),
                  trials_path=tmp_path / "t.jsonl", sizes=SIZES, progress=interrupt_after_two)
    assert result.interrupted and len(result.trials) == 2 and result.best_time is not None
    assert len(TrialStore(tmp_path / "t.jsonl", "", "").log.records()) == 2


@pytest.fixture
def ctrl_c_as_in_a_terminal():
    """A shell starts background jobs (CI's, perhaps) with SIGINT ignored, and Python keeps it ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_that_a_ctypes_callback_swallows_still_stops_tuning_and_drops_the_trial_in_flight(
        tmp_path, monkeypatch, ctrl_c_as_in_a_terminal):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    class CtrlCInsideACallback(FakeDevice):
        """Ctrl-C while libclang walks a syntax tree: it lands in a ctypes callback, which drops the exception."""

        def measure(self, job):
            measurement = super().measure(job)
            if len(self.log.read_text().splitlines()) == 2:
                compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(
                    lambda a, b: signal.raise_signal(signal.SIGINT) or 0)
                pair = (ctypes.c_int * 2)(2, 1)
                ctypes.CDLL(None).qsort(pair, 2, ctypes.sizeof(ctypes.c_int), compare)
            return measurement

    result = tune(SCALE_ROWS, target="cpp", source="cpp", budget=5, strategy="random",
                  device=CtrlCInsideACallback(tmp_path / "m.log"), trials_path=tmp_path / "t.jsonl", sizes=SIZES)
    assert result.interrupted and len(result.trials) == 1  # the second trial saw Ctrl-C: not kept
    assert len(TrialStore(tmp_path / "t.jsonl", "", "").log.records()) == 1
    assert unraisable == [] and signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_resume_after_sigkill_loses_nothing_and_measures_nothing_twice(tmp_path):
    trials, measured = tmp_path / "trials.jsonl", tmp_path / "measured.log"
    script = textwrap.dedent(f"""
        from autotune import tune
        from tests.autotune.fake_device import FakeDevice
        from tests.autotune.kernels import SCALE_ROWS
        tune(SCALE_ROWS, target="cpp", source="cpp", budget=6, strategy="random", seed=3,
             device=FakeDevice({str(measured)!r}), trials_path={str(trials)!r}, sizes={SIZES!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not trials.exists() or len(trials.read_text().splitlines()) < 3):
        assert child.poll() is None, "the tuning run ended before it could be killed"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    before = TrialStore(trials, "", "").log.records()
    assert 3 <= len(before) < 6
    measured_before = len(measured.read_text().split())
    assert measured_before <= sum(r["trial"]["status"] == "ok" for r in before) + 1  # at most one in flight

    result = tune(SCALE_ROWS, target="cpp", source="cpp", budget=6, strategy="random", seed=3,
                  device=FakeDevice(measured), trials_path=trials, sizes=SIZES)
    resumed = [t for t in result.trials if t.resumed]
    assert [t.config for t in resumed] == [r["trial"]["config"] for r in before]  # none lost
    new = [t for t in result.trials if not t.resumed]
    assert len(result.trials) == 6 and len(new) == 6 - len(before)
    assert not {str(t.config) for t in new} & {str(t.config) for t in resumed}  # none re-measured
    assert len(measured.read_text().split()) - measured_before == result.measured


def test_trials_timed_on_another_build_are_not_resumed(tmp_path):
    """The same code built with other flags is another program to time (-fwrapv made a gemm 10x slower)."""
    def run(build: str):
        device = FakeDevice(tmp_path / "measured.log")
        device.build = build
        return tune(SCALE_ROWS, target="cpp", source="cpp", budget=2, strategy="random", device=device,
                    trials_path=tmp_path / "t.jsonl", sizes=SIZES)

    assert run("g++ -O3").measured == 2
    assert run("g++ -O3").measured == 0  # resumed
    again = run("g++ -O3 -fwrapv")
    assert again.measured == 2 and not any(t.resumed for t in again.trials)


def test_bang_target_is_tuned_on_estimates_labelled_as_such(tmp_path):
    result = tune(SCALE_ROWS, target="bang", source="cpp", budget=1, trials_path=tmp_path / "t.jsonl",
                  sizes={"rows": 8, "cols": 16}, repeats=QUICK)
    assert result.kind == "estimate" and result.best_time.kind == "estimate"
    assert "ESTIMATES" in result.summary() and "estimate" in str(result.best_time)


def test_budget_below_one_is_a_usage_error():
    with pytest.raises(Exception) as err:
        tune(SCALE_ROWS, target="cpp", budget=0)
    assert getattr(err.value, "code", None) == "XP002"


class PreferringDevice(FakeDevice):
    """The fake device with a known preference: guided scheduling (which it also times fastest; the grid's first
    point is static)."""

    def __init__(self, log: Path):
        super().__init__(log, fast_marker="schedule(guided)")

    def preferred(self, target: str) -> dict:
        return {"omp_schedule": "guided", "no_such_knob": 3}


def test_the_devices_preference_is_the_second_trial_within_the_budget_and_never_timed_twice(tmp_path):
    device = PreferringDevice(tmp_path / "measured.log")
    common = dict(target="cpp", source="cpp", strategy="grid", sequences=((),), device=device,
                  trials_path=tmp_path / "t.jsonl", sizes=SIZES)
    assert [t.config for t in tune(SCALE_ROWS, budget=1, **common).trials] == [{"sequence": "untuned"}]
    result = tune(SCALE_ROWS, budget=2, **common)
    preferred = result.trials[1].config
    assert preferred["sequence"] == "no-schedule" and preferred["omp_schedule"] == "guided" and result.measured == 1
    assert result.best_config == preferred  # the grid's first point would have been another
    again = tune(SCALE_ROWS, budget=3, **common)
    assert again.measured == 1 and again.trials[2].config != preferred
    assert len((tmp_path / "measured.log").read_text().split()) == 3


def test_the_jam_the_passes_suggest_is_the_third_trial(tmp_path):
    """Blocks along y read the same inputs: the third trial is the preference with that block loop jammed."""
    from tests.passes.test_jam import SCALED_ROWS
    result = tune(SCALED_ROWS, target="cpp", source="cuda", budget=3, strategy="grid", sequences=((),),
                  device=PreferringDevice(tmp_path / "m.log"), trials_path=tmp_path / "t.jsonl",
                  sizes={"n_rows": 4, "cols": 64})
    third = result.trials[2].config
    assert third["jam_loop"] == "xp_by@0" and third["jam_factor"] == 2 and third["omp_schedule"] == "guided"
    assert result.trials[2].status == "ok", result.trials[2]


def test_the_serial_jam_the_passes_suggest_is_in_the_third_trial(tmp_path):
    """A tap loop whose jam keeps the block's sums in registers: the third trial jams it, by 3."""
    from tests.passes.test_jam import TILE_TAPS
    result = tune(TILE_TAPS, target="cpp", source="cuda", budget=3, strategy="grid", sequences=((),),
                  device=PreferringDevice(tmp_path / "m.log"), trials_path=tmp_path / "t.jsonl",
                  sizes={"n": 130, "taps": 5})
    third = result.trials[2].config
    assert third["serial_jam_loop"] == "k@0" and third["serial_jam_factor"] == 3, third
    assert result.trials[2].status == "ok", result.trials[2]


# each block stages a slab of x in shared memory; SLAB sizes only that staged tile
SLAB_GEMV = """
#define SLAB 32
__global__ void gemv_slabs(const float* A, const float* x, float* y, int rows, int cols) {
    __shared__ float xs[SLAB];
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    float sum = 0.0f;
    for (int c0 = 0; c0 < cols; c0 += SLAB) {
        for (int c = threadIdx.x; c < SLAB; c += blockDim.x) xs[c] = c0 + c < cols ? x[c0 + c] : 0.0f;
        __syncthreads();
        if (r < rows)
            for (int c = 0; c < SLAB && c0 + c < cols; ++c) sum += A[r * cols + c0 + c] * xs[c];
        __syncthreads();
    }
    if (r < rows) y[r] = sum;
}

extern "C" void gemv(const float* A, const float* x, float* y, int rows, int cols) {
    gemv_slabs<<<(rows + 63) / 64, 64>>>(A, x, y, rows, cols);
}
"""


def test_the_slab_the_cache_holds_is_in_the_third_trial(tmp_path):
    """A device whose data cache holds 512 bytes: the third trial stages x in slabs of 128 floats, verified."""
    class SmallCache(PreferringDevice):
        def preferred(self, target: str) -> dict:
            return {**super().preferred(target), "l1d_bytes": 512}

    result = tune(SLAB_GEMV, target="cpp", source="cuda", budget=3, strategy="grid", sequences=((),),
                  device=SmallCache(tmp_path / "m.log"), trials_path=tmp_path / "t.jsonl",
                  sizes={"rows": 70, "cols": 300})
    third = result.trials[2]
    assert third.config["constant:SLAB"] == 128 and third.status == "ok", third
    assert result.trials[1].config["constant:SLAB"] == 32  # the preference keeps the source's own


def test_with_both_jams_the_block_loop_is_jammed_as_far_as_its_sums_fit_half_the_registers():
    """conv2d: one array of sums per filter, kept in registers by the tap jam: 4 filters fit half of AVX2's 8-register
    tile budget, 2 fit half of 4."""
    from autotune.tuner import suggested
    source = (Path(__file__).resolve().parents[1] / "corpus" / "cuda" / "conv2d_nchw.cu").read_text()
    spaces = build_spaces(source, "cpp", "cuda", sequences=((),))
    assert spaces[0].form.serial_jam_sums == 1
    assert suggested(spaces, {"sum_registers": 8}) == {"jam_loop": "xp_by@0", "serial_jam_loop": "kw@1",
                                                       "jam_factor": 4}
    assert suggested(spaces, {"sum_registers": 4})["jam_factor"] == 2


def test_a_preference_the_spaces_do_not_hold_adds_no_trial(tmp_path):
    class Unheld(FakeDevice):
        def preferred(self, target: str) -> dict:
            return {"omp_threads": 3, "vector_width": 1024}

    result = tune(SCALE_ROWS, target="cpp", source="cpp", budget=2, strategy="grid", sequences=((),),
                  device=Unheld(tmp_path / "m.log"), trials_path=tmp_path / "t.jsonl", sizes=SIZES)
    from autotune.space import build_spaces
    first = next(build_spaces(SCALE_ROWS, "cpp", "cpp", sequences=((),))[0].points())
    assert result.trials[1].config == first  # the grid's own first point

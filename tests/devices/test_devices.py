"""Devices: a real native build timed in the sandbox, the no-GPU path, the BANG estimate, and a real Dask
LocalCluster (worker processes on loopback) measuring for us."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import devices
from devices import (ESTIMATE, MEASUREMENT, EmulationEstimate, LocalCPU, LocalGPU, MeasureJob, Repeats, as_device,
                     local_device)
from devices import dask_remote
from devices.local_cpu import cost_model_preference, cpu_flags, cpu_vendor, vector_preference
from devices.timing import EVENTS, time_library
from kernel_ir.lower_cpu import RUNTIME_DIR
from kernel_ir.native_gpu import EVENT_TIMED_ENTRY, event_harness, find_gpu, library_source
from kernel_ir.diagnostics import XpilerError
from kernel_ir.executor import execute
from kernel_ir.sandbox import OPENMP_WAIT_SETTINGS

SCALE = """
extern "C" void scale(const float* x, float* y, int n) {
    #pragma omp parallel for
    for (int i = 0; i < n; i++) y[i] = 2.0f * x[i];
}
"""
CRASH = 'extern "C" void scale(const float* x, float* y, int n) { int* p = 0; *p = n; }'
BROKEN = 'extern "C" void scale(const float* x, float* y, int n) { undeclared(n); }'
BANG_SCALE = """
__mlu_global__ void scale(float* x, float* y, int n) {
    for (int i = taskId; i < n; i += taskDim) y[i] = 2.0f * x[i];
}
"""
CUDA_SCALE = """
__global__ void scale_kernel(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i];
}
extern "C" void scale(const float* x, float* y, int n) {
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    scale_kernel<<<(n + 255) / 256, 256>>>(dx, dy, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
}
"""
QUICK = Repeats(warmup=1, repeats=3, min_time_s=0.0)


def job(code: str, dialect: str = "cpp", n: int = 4096) -> MeasureJob:
    x = np.linspace(-1, 1, n, dtype=np.float32)
    return MeasureJob(code, dialect, "scale", [("x", x), ("y", np.zeros(n, np.float32)), ("n", np.int32(n))], QUICK)


def test_local_cpu_times_a_native_build_with_median_and_spread():
    m = LocalCPU().measure(job(SCALE))
    assert m.kind == MEASUREMENT and m.device.startswith("local-cpu:")
    assert len(m.times_s) >= 3 and all(t > 0 for t in m.times_s)
    assert min(m.times_s) <= m.median_s <= max(m.times_s) and m.spread_s >= 0
    assert devices.Measurement.from_json(m.to_json()) == m


def test_local_cpu_builds_as_a_user_does_and_verification_keeps_exact_arithmetic(monkeypatch):
    """Timing builds with `g++ -O3 -march=native -fopenmp` (what the user runs: FMA contraction on, no -fwrapv);
    the emulation and the native check of verification keep the flags that pin down the source's arithmetic."""
    import kernel_ir.executor as executor
    built = []
    real = executor.compile_flags
    monkeypatch.setattr(executor, "compile_flags", lambda *a, **k: built.append(real(*a, **k)) or built[-1])
    LocalCPU().measure(job(SCALE))
    assert {"-O3", "-march=native", "-fopenmp"} <= set(built[-1]) and "-fwrapv" not in built[-1] \
        and "-ffp-contract=off" not in built[-1]
    assert {"-fwrapv", "-ffp-contract=off", "-march=native"} <= set(real("cpp", False, native=True))


def test_a_crashing_candidate_is_a_coded_error_not_a_dead_tuner():
    with pytest.raises(XpilerError) as err:
        LocalCPU().measure(job(CRASH))
    assert err.value.code == "XP301"


SPIN_COUNT = """
#include <cstdlib>
extern "C" void spin_count(long* spins) {
    const char* count = std::getenv("GOMP_SPINCOUNT");
    spins[0] = count == nullptr ? -1 : std::atol(count);
}
"""


@pytest.mark.parametrize("callers, spins", [({}, 3000), ({"OMP_WAIT_POLICY": "active"}, -1),
                                             ({"GOMP_SPINCOUNT": "100"}, 100)])
def test_kernels_run_with_short_openmp_spins_unless_the_caller_chose(monkeypatch, callers, spins):
    """libgomp's long spinning turns a loaded machine's scheduler ticks into every parallel region's time (4-24 ms
    where microseconds were due); the sandbox's children spin briefly, and a caller's own wait setting is kept."""
    for name in OPENMP_WAIT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in callers.items():
        monkeypatch.setenv(name, value)
    out = execute(SPIN_COUNT, "cpp", "spin_count", [("spins", np.zeros(1, np.int64))], native=True)
    assert out["spins"][0] == spins


def test_the_local_cpu_prefers_its_cores_and_sizes_register_tiles_for_its_vector_registers():
    assert vector_preference(frozenset({"sse2", "avx", "avx2", "fma"})) == {"vector_width": 256, "sum_registers": 8}
    assert vector_preference(frozenset({"avx2", "avx512f", "avx512bw"})) == {"vector_width": 512,
                                                                             "sum_registers": 16}
    assert vector_preference(frozenset({"sse2"})) == {} and vector_preference(frozenset()) == {}
    preferred = LocalCPU().preferred("cpp")
    assert preferred["omp_threads"] == os.cpu_count() and LocalCPU().preferred("cuda") == {}
    assert preferred.items() >= vector_preference(cpu_flags()).items()


def test_the_local_cpu_prefers_gccs_skylake_cost_model_on_amd_cores():
    assert cost_model_preference("AuthenticAMD") == {"cpu_tune": "skylake"}
    assert cost_model_preference("GenuineIntel") == {} and cost_model_preference(None) == {}
    assert LocalCPU().preferred("cpp").items() >= cost_model_preference(cpu_vendor()).items()


def test_local_cpu_refuses_other_dialects():
    with pytest.raises(XpilerError) as err:
        LocalCPU().measure(job(BANG_SCALE, "bang"))
    assert err.value.code == "XP005"


def test_without_a_gpu_the_gpu_device_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither nvcc nor nvidia-smi can be found
    find_gpu.cache_clear()
    try:
        gpu = LocalGPU("cuda")
        assert not gpu.available and "nvcc is not installed" in gpu.reason
        with pytest.raises(XpilerError) as err:
            gpu.measure(job(SCALE, "cuda"))
        assert err.value.code == "XP005" and "no cuda GPU" in err.value.message
        fallback = local_device("cuda")
        assert fallback.kind == ESTIMATE and "no cuda GPU" in fallback.reason
    finally:
        find_gpu.cache_clear()


def test_bang_gets_an_estimate_labelled_as_one():
    device = local_device("bang")
    assert isinstance(device, EmulationEstimate) and device.kind == ESTIMATE
    m = device.measure(job(BANG_SCALE, "bang", n=256))
    assert m.kind == ESTIMATE and "not a bang device measurement" in m.note
    assert "estimate" in str(m)


def test_unknown_device_spec_is_a_usage_error():
    with pytest.raises(XpilerError) as err:
        as_device("the-big-one", "cpp")
    assert err.value.code == "XP002"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as running:
        yield running


def test_remote_worker_builds_and_times(cluster):
    with as_device(cluster.scheduler_address, "cpp") as remote:
        assert remote.name == LocalCPU().name and remote.kind == MEASUREMENT and remote.available
        assert remote.preferred("cpp") == LocalCPU().preferred("cpp")  # the worker's CPU says what it suits
        m = remote.measure(job(SCALE))
        assert m.kind == MEASUREMENT and m.device == remote.name and len(m.times_s) >= 3


def test_remote_errors_come_back_with_their_code(cluster):
    with devices.remote(cluster.scheduler_address) as remote:
        with pytest.raises(XpilerError) as err:
            remote.measure(job(BROKEN))
    assert err.value.code == "XP201"


def test_unreachable_scheduler_is_a_coded_error(monkeypatch):
    monkeypatch.setattr(dask_remote, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(XpilerError) as err:
        devices.remote("tcp://127.0.0.1:9")
    assert err.value.code == "XP307"


def test_the_event_timing_harness_uses_each_runtimes_events():
    for dialect, api in (("cuda", "cuda"), ("hip", "hip")):
        harness = event_harness(dialect)
        assert f"extern \"C\" double {EVENT_TIMED_ENTRY}(void** args)" in harness
        assert all(f"{api}{call}" in harness for call in ("EventRecord", "EventSynchronize", "EventElapsedTime"))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_the_gpu_library_with_its_event_harness_compiles_with_nvcc(tmp_path):
    """No GPU here: compile only (-c, sm_80), and check the timed entry is exported for ctypes."""
    from passes.translate import translate

    code = translate(SCALE, "cuda", "cpp", native_compile=False).code
    (tmp_path / "library.cu").write_text(library_source(code, "cuda", "scale", job(code, "cuda").args))
    compiled = subprocess.run(["nvcc", "-arch=sm_80", "-std=c++17", "-c", "-I", str(RUNTIME_DIR), "library.cu",
                               "-o", "library.o"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    symbols = subprocess.run(["nm", "library.o"], capture_output=True, text=True, cwd=tmp_path).stdout
    assert any(line.split()[-2:] == ["T", EVENT_TIMED_ENTRY] for line in symbols.splitlines())


def _self_timed_library(tmp_path, seconds: float) -> Path:
    """A library whose timed entry reports `seconds` (what a GPU's events would), built with g++."""
    source = tmp_path / "timed.cpp"
    source.write_text(f'extern "C" void __xp_entry(void** args) {{}}\n'
                      f'extern "C" double {EVENT_TIMED_ENTRY}(void** args) {{ return {seconds!r}; }}\n')
    library = tmp_path / "timed.so"
    subprocess.run(["g++", "-shared", "-fPIC", str(source), "-o", str(library)], check=True)
    return library


def test_event_timing_keeps_the_seconds_the_library_reports(tmp_path):
    times = time_library(_self_timed_library(tmp_path, 0.25), job(SCALE).args, QUICK, 60, clock=EVENTS)
    assert len(times) == QUICK.repeats and set(times) == {0.25}  # the device's clock, not the wall clock


def test_a_failing_event_timing_is_a_coded_error(tmp_path):
    with pytest.raises(XpilerError) as err:
        time_library(_self_timed_library(tmp_path, -1.0), job(SCALE).args, QUICK, 60, clock=EVENTS)
    assert err.value.code == "XP303" and "timing with events" in err.value.message


def test_without_a_gpu_native_execution_of_cuda_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    find_gpu.cache_clear()
    try:
        with pytest.raises(XpilerError) as err:
            execute(CUDA_SCALE, "cuda", "scale", job(CUDA_SCALE, "cuda").args, native=True)
        assert err.value.code == "XP005" and "nvcc is not installed" in err.value.message
    finally:
        find_gpu.cache_clear()


@pytest.mark.skipif(find_gpu("cuda")[0] is None, reason=f"no CUDA GPU: {find_gpu('cuda')[1]}")
def test_on_a_gpu_the_kernel_runs_natively_agrees_with_the_executor_and_is_timed_with_events():
    """Runs where a GPU is lent (bench/gpu_native.py runs the corpus the same way)."""
    args = job(CUDA_SCALE, "cuda").args
    on_gpu = execute(CUDA_SCALE, "cuda", "scale", args, native=True)
    emulated = execute(CUDA_SCALE, "cuda", "scale", args)
    np.testing.assert_array_equal(on_gpu["y"], emulated["y"])
    np.testing.assert_array_equal(on_gpu["y"], 2.0 * args[0][1])
    m = LocalGPU("cuda").measure(job(CUDA_SCALE, "cuda"))
    assert m.kind == MEASUREMENT and m.device.startswith("local-gpu:GPU ") and all(t > 0 for t in m.times_s)

"""The store survives torn writes, foreign files and concurrent writers (issue 8: nothing lost)."""
import json
import multiprocessing
import os
import signal
import time

import pytest

from kernel_ir.store import AppendLog, ContentStore, atomic_write_json, content_key


def test_content_key_ignores_dict_order():
    assert content_key({"a": 1, "b": 2}, "x") == content_key({"b": 2, "a": 1}, "x")
    assert content_key({"a": 1}) != content_key({"a": 2})


def test_content_store_roundtrip_and_corrupt_entries(tmp_path):
    store = ContentStore(tmp_path)
    key = content_key("model", "prompt")
    assert store.get(key) is None
    store.put(key, {"answer": "code"})
    assert store.get(key) == {"answer": "code"}
    assert list(store.keys()) == [key]
    store.path(key).write_text("{ torn")
    with pytest.warns(UserWarning, match="unreadable"):
        assert store.get(key) is None
    store.path(key).write_text(json.dumps({"answer": "foreign"}))
    with pytest.warns(UserWarning, match="not an Xpiler cache entry"):
        assert store.get(key) is None
    assert len(store.problems) == 2


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_append_log_skips_torn_line_and_keeps_appending(tmp_path):
    log = AppendLog(tmp_path / "trials.jsonl")
    log.append({"trial": 1})
    with open(log.path, "ab") as f:
        f.write(b'{"format":"xpiler-store-1","tri')  # a writer killed mid-line
    log.append({"trial": 2})
    with pytest.warns(UserWarning, match="torn"):
        assert [r["trial"] for r in log.records()] == [1, 2]


def _append_many(path, worker, count):
    log = AppendLog(path)
    for i in range(count):
        log.append({"worker": worker, "i": i, "pad": "x" * 5000})


def test_concurrent_writers_interleave_whole_records(tmp_path):
    path = tmp_path / "trials.jsonl"
    procs = [multiprocessing.Process(target=_append_many, args=(path, w, 100)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    records = AppendLog(path).records()
    assert sorted((r["worker"], r["i"]) for r in records) == [(w, i) for w in range(3) for i in range(100)]


def _append_forever(path):
    log = AppendLog(path)
    i = 0
    while True:
        log.append({"i": i, "pad": "y" * 20000})
        i += 1


def test_sigkill_mid_run_keeps_every_finished_record(tmp_path):
    path = tmp_path / "trials.jsonl"
    proc = multiprocessing.Process(target=_append_forever, args=(path,))
    proc.start()
    deadline = time.time() + 20
    while time.time() < deadline and (not path.exists() or path.stat().st_size < 200_000):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = AppendLog(path).records()
    assert len(records) >= 5
    assert [r["i"] for r in records] == list(range(len(records)))


def test_a_corrupt_cached_build_is_reported_and_rebuilt(tmp_path, monkeypatch):
    import numpy as np

    from kernel_ir.executor import build, execute

    monkeypatch.setenv("XPILER_CACHE_DIR", str(tmp_path))
    source = 'extern "C" void twice(float* x, int n) { for (int i = 0; i < n; i++) x[i] *= 2; }'
    args = [("x", np.arange(4, dtype=np.float32)), ("n", np.int32(4))]
    library = build(source, "cpp", "twice", args)
    library.write_bytes(b"garbage")  # e.g. a disk that filled up under another tool
    with pytest.warns(UserWarning, match="not a usable build"):
        out = execute(source, "cpp", "twice", args)
    assert out["x"].tolist() == [0, 2, 4, 6]

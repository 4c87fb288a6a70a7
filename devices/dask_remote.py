"""Remote: build-and-measure on another machine through Dask distributed.

`remote("tcp://host:8786")` connects a Client to that scheduler; each measurement is a task that runs
`measure_here` on a worker, so the worker that owns the device compiles and times (with its own local device for
the dialect), and the Measurement comes back as data. Errors travel back as their diagnostic fields (an
XpilerError does not pickle) and are raised again here with the same code.
"""
from __future__ import annotations

import dataclasses

from devices.base import Device, MeasureJob, Measurement
from kernel_ir.diagnostics import XpilerError

CONNECT_TIMEOUT_S = 10


def measure_here(job: MeasureJob) -> dict:
    """Runs on the worker: measure with its local device; {"measurement": ...} or {"error": diagnostic fields}."""
    from devices import local_device

    try:
        return {"measurement": local_device(job.dialect).measure(job).to_json()}
    except XpilerError as err:
        return {"error": dataclasses.asdict(err.diagnostic)}


def describe_here(dialect: str) -> dict:
    """Runs on the worker: what device it would measure `dialect` with."""
    from devices import local_device

    return local_device(dialect).describe()


class Remote(Device):
    def __init__(self, address: str, dialect: str = "cpp", timeout_s: float = 600.0):
        from distributed import Client

        self.address = address
        self.dialects = (dialect,)
        self.timeout_s = timeout_s
        try:
            self.client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise XpilerError("XP307", f"cannot reach the Dask scheduler at {address}: {err}",
                              hint="start one with `dask scheduler` and a worker on the device's machine") from None
        remote_device = self._call(describe_here, dialect)
        self.name, self.kind, self.build = remote_device["name"], remote_device["kind"], remote_device["build"]
        self._available, self._reason = remote_device["available"], remote_device["reason"]
        self._preferred = remote_device["preferred"]

    @property
    def available(self) -> bool:
        return self._available

    @property
    def reason(self) -> str:
        return f"{self._reason} (worker of {self.address})"

    def preferred(self, target: str) -> dict:
        """The worker's device's preference (its CPU, not this one's)."""
        return self._preferred.get(target, {})

    def measure(self, job: MeasureJob) -> Measurement:
        answer = self._call(measure_here, job)
        if "error" in answer:
            raise XpilerError(**answer["error"])
        return Measurement.from_json(answer["measurement"])

    def _call(self, function, argument):
        future = self.client.submit(function, argument, pure=False)
        try:
            return future.result(timeout=self.timeout_s)
        except TimeoutError:
            future.cancel()
            raise XpilerError("XP302", f"the remote measurement did not finish within {self.timeout_s:g} s") from None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Files that survive crashes and concurrent writers: the one place caches and trial logs are written.

Three shapes, each safe against a process killed mid-write (SIGKILL included) and against two writers sharing a
folder (two notebooks, a notebook and the CLI):
- `atomic_write_bytes`/`atomic_write_json`: write a temporary file in the same folder, fsync, rename over the
  target; a reader sees the old file or the new one, never half of one.
- `ContentStore`: one JSON record per key (a hash of what produced it, e.g. model + prompt + parameters), for
  LLM answers and other replayable results.
- `AppendLog`: JSON Lines, one record per line, appended under an exclusive lock and fsynced per record, for tuning
  trials: a killed run keeps every finished line; a torn last line is skipped and reported, never fatal.

A corrupt or foreign file is reported (`problems`, and a `warnings.warn`) and treated as missing.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

FORMAT = "xpiler-store-1"  # written into every record so foreign JSON is told apart from ours


def default_root() -> Path:
    """Where caches go unless a caller names a folder: $XPILER_CACHE_DIR, else ~/.cache/xpiler."""
    return Path(os.environ.get("XPILER_CACHE_DIR") or Path.home() / ".cache" / "xpiler")


def content_key(*parts: object) -> str:
    """A stable hash of JSON-serializable parts (dict key order does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staged = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path | str, value: object) -> None:
    atomic_write_bytes(path, json.dumps(value, indent=1, sort_keys=True).encode())


class ContentStore:
    """JSON records by key in `folder` (one file each, sharded by the key's first two characters)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.problems: list[str] = []

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        try:
            record = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            return self._problem(f"{path}: unreadable cache entry ignored ({err})")
        if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("key") != key:
            return self._problem(f"{path}: not an Xpiler cache entry for this key; ignored")
        return record["value"]

    def put(self, key: str, value: dict) -> None:
        atomic_write_json(self.path(key), {"format": FORMAT, "key": key, "value": value})

    def keys(self) -> Iterator[str]:
        if self.folder.is_dir():
            yield from sorted(p.stem for p in self.folder.glob("??/*.json"))

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        warnings.warn(message, stacklevel=3)
        return None


class AppendLog:
    """Append-only JSON Lines; `append` is durable when it returns, `records` skips torn or foreign lines."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.problems: list[str] = []

    def append(self, record: dict) -> None:
        line = json.dumps({"format": FORMAT, **record}, sort_keys=True, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                f.seek(0, os.SEEK_END)
                if f.tell() and not self._ends_with_newline():
                    f.write(b"\n")  # a writer killed mid-line: start ours on a fresh line
                f.write(line.encode())
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def records(self) -> list[dict]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        records = []
        for number, raw in enumerate(data.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                self._problem(f"{self.path}:{number}: torn or corrupt line ignored")
                continue
            if not isinstance(record, dict) or record.pop("format", None) != FORMAT:
                self._problem(f"{self.path}:{number}: not an Xpiler record; ignored")
                continue
            records.append(record)
        return records

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        warnings.warn(message, stacklevel=3)

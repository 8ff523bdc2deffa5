"""Shared state for the sandbox's gateway in small files under one directory, guarded by flock.

The gateway's bookkeeping (the daily quota counter, per-company request slots, the fault
settings' version) must be exact across every process serving the API, yet cost no database
write per request. The sandbox is served from one machine (runserver, or gunicorn with several
workers and threads, on SQLite or PostgreSQL, with or without Redis), so files guarded by
flock(2) give that for a few system calls: a lock belongs to an open file description, so it
excludes other threads as well as other processes, and the kernel releases it when its holder
dies, so a request killed with `kill -9` leaves no marker that would have to expire.
"""

import fcntl
import os
import struct
import threading
from pathlib import Path

from . import conf

_INT64 = struct.Struct("<q")


def state_dir() -> Path:
    """Where the files live; tests point it at a fresh directory so no state leaks between them."""
    return conf.state_dir()


class Counter:
    """A 64-bit integer in a file: `add` is atomic across processes, `read` is one pread."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __del__(self):
        # Only once no thread holds the counter any more, so no one reads a closed descriptor.
        os.close(self.fd)

    def read(self) -> int | None:
        """The value, or None while nothing was ever written."""
        data = os.pread(self.fd, _INT64.size, 0)
        return _INT64.unpack(data)[0] if len(data) == _INT64.size else None

    def add(self, amount: int = 1, seed=lambda: 0) -> int:
        """Add to the value (starting from seed() when the file is new) and return the result."""
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            current = self.read()
            value = (seed() if current is None else current) + amount
            os.pwrite(self.fd, _INT64.pack(value), 0)
            return value
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


_counters: dict[tuple[int, Path], Counter] = {}
_counters_lock = threading.Lock()
# Counters are kept open per process; a new path per UTC day (and per test directory) means old
# ones are dropped now and then rather than piling up file descriptors.
_MAX_OPEN_COUNTERS = 32


def counter(path: Path) -> Counter:
    # Keyed by pid too: a descriptor inherited across fork() shares its lock with the parent.
    key = (os.getpid(), path)
    found = _counters.get(key)
    if found is not None:
        return found
    with _counters_lock:
        if key not in _counters:
            if len(_counters) >= _MAX_OPEN_COUNTERS:
                _counters.clear()
            _counters[key] = Counter(path)
        return _counters[key]


_made_dirs: set[Path] = set()


def take_slot(directory: Path, limit: int) -> int | None:
    """Hold one of `limit` slot files in the directory; the open descriptor, or None if all are
    held. Closing the descriptor (or the holder dying) frees the slot."""
    if directory not in _made_dirs:
        directory.mkdir(parents=True, exist_ok=True)
        _made_dirs.add(directory)
    for index in range(limit):
        fd = os.open(directory / str(index), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


def release_slot(fd: int) -> None:
    os.close(fd)

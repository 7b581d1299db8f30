"""One trainer per run folder: an advisory lock held while a process trains into it.

Two processes training into the same folder would overwrite each other's
checkpoints and metrics without a word. The trainer (rank 0 under torchrun)
holds an exclusive ``flock`` on ``FOLDER/.lock`` for as long as it trains; a
second one waits a few seconds (a killed predecessor may still be exiting) and
then stops with an error naming the holder. The kernel drops the lock when the
holder exits, however it exits, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import PdeError

try:
    import fcntl
except ImportError:  # not a POSIX system: no locking
    fcntl = None

#: seconds to wait for a holder that is exiting
PATIENCE = 5.0


class FolderBusy(PdeError):
    """Another process is training into the folder."""


class FolderNotWritable(PdeError):
    """The folder cannot hold a lock file (read-only, or on a full disk): it cannot hold a run either."""


@contextmanager
def training_lock(folder: Path):
    """Hold ``folder``'s training lock for the ``with`` block; FolderBusy if another process keeps it."""
    if fcntl is None:
        yield
        return
    try:  # a read-only run folder (or one on a full disk) is the user's to hear about, not a traceback
        Path(folder).mkdir(parents=True, exist_ok=True)
        handle = open(Path(folder) / ".lock", "a+")
    except OSError as error:
        raise FolderNotWritable(f"cannot train in {folder}: {error.strerror or error} (a run folder must be "
                                "writable: its checkpoints, metrics and results are written there)") from None
    try:
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise FolderBusy(f"{folder} is being trained by another process (pid {holder}); wait for it "
                                     f"to finish or stop it, then continue with 'pdedsl train --resume {folder}'")
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock

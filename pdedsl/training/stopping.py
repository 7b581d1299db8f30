"""Stopping a run cleanly on Ctrl-C or ``kill``: finish the step, save a checkpoint, then stop.

Without this, SIGINT or SIGTERM ends a run wherever it is and loses everything since the last regular
checkpoint (up to ``checkpoint_every`` steps). While a run trains, the first SIGINT or SIGTERM only sets a
flag; the trainer looks at it between steps, where the state it saves is consistent, writes a checkpoint and
raises :class:`Stopped`. A second signal acts at once, as it would without a run (the handler of the first
one restores the previous handler), so a stuck step can still be interrupted.

Handlers are installed only in the main thread of a single-process run: under ``--nproc`` the ranks would
stop at different steps and wait for each other forever, so there the launcher stops them (cli.py) and the
run resumes from its last regular checkpoint.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """A run stopped on request after saving a checkpoint at ``step``.

    A ``KeyboardInterrupt``, so Python callers who press Ctrl-C in ``fit`` see what they expect.
    """

    def __init__(self, folder, step: int, total: int, signum: int):
        super().__init__(f"stopped at step {step} of {total}")
        self.folder, self.step, self.total, self.signum = folder, step, total, signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention for a process ended by a signal


class StopRequest:
    """Whether a stop was asked for, and by which signal (0 while none was)."""

    def __init__(self):
        self.signum = 0

    @property
    def requested(self) -> bool:
        return self.signum != 0


@contextmanager
def stop_requests(enabled: bool = True):
    """Within the block, the first SIGINT/SIGTERM sets the yielded request instead of ending the process."""
    request = StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return
    # (a signal ignored, as SIGINT is in a background job, stays ignored; one set outside Python stays as is)
    previous = {number: signal.getsignal(number) for number in SIGNALS}
    previous = {number: handler for number, handler in previous.items()
                if handler is not None and handler != signal.SIG_IGN}

    def ask(number, _frame):
        request.signum = number
        for other, handler in previous.items():  # the next signal acts at once
            signal.signal(other, handler)

    for number in previous:
        signal.signal(number, ask)
    try:
        yield request
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)

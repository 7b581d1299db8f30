"""torchrun for ``pdedsl train --nproc N``, stopped without a traceback.

When ``pdedsl`` (the launcher) is interrupted it asks torchrun to stop its workers with SIGTERM
(cli.py ``_launch``); torchrun does so, then raises ``SignalException`` out of its ``main``, and Python
printed that as a traceback under pdedsl's own message. Here it ends torchrun with the shell's status for
the signal instead; a worker that fails (and has printed its own message) ends it with status 1, without
torchrun's ``ChildFailedError`` traceback or its log of the failure. Run as ``python -m pdedsl.training.torchrun`` with torchrun's arguments.
"""

from __future__ import annotations

import logging
import sys

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import main


def run() -> int:
    # its "failed (exitcode: 1) local_rank: ..." log after a worker's own message, and the closing signals
    logging.getLogger("torch.distributed.elastic.multiprocessing.api").setLevel(logging.CRITICAL)
    try:
        main()
    except SignalException as stop:
        return 128 + int(stop.sigval)
    except ChildFailedError:  # the processes have said why they failed; torchrun's traceback adds nothing
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run())

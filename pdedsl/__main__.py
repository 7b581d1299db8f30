"""``python -m pdedsl`` runs the command line."""

import os
import sys

from .cli import main

code = main()
if "TORCHELASTIC_RUN_ID" in os.environ:
    # A torchrun worker: its files are written and closed and it has left the process group. It ends
    # without the interpreter's and the C++ runtime's teardown, where a native thread of the distributed
    # runtime, still joinable when its owner was destroyed, now and then aborted a finished worker
    # ("terminate called without an active exception", SIGABRT: the whole run then reports failure).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
sys.exit(code)

"""Optional ``torch.compile`` of the residual losses, falling back to eager execution if it fails.

Compiling fuses the many elementwise operations of a derivative jet into a
few kernels (``benchmarks/derivatives.py`` measures the gain and the one-off
compile time, which inductor caches on disk for later runs). It is opt-in
(``--compile on``) or chosen for long runs (``auto``, the default), because
the compile time only pays off there.
"""

from __future__ import annotations

import sys
import time
from typing import Callable


# Measured on this project's 2-core CPU (README, Benchmarks): compiling saved about 4 microseconds per
# collocation point and step (Burgers, 4000 points: 51 against 68 ms per step) for a compile of 6 s
# (PyTorch's cache warm) to 20 s (cold). Breaking even therefore takes about 5e6 point-steps; ``auto``
# asks for twice that.
AUTO_COMPILE_POINT_STEPS = 10_000_000


def worth_compiling(config) -> bool:
    """Whether this run compiles its residuals: ``on``, ``off``, or for ``auto`` a long enough run.

    Depends on the configuration alone, so a resumed run decides as the original did.
    """
    if config.compile in ("on", "off"):
        return config.compile == "on"
    return config.total_steps * config.interior_points >= AUTO_COMPILE_POINT_STEPS


class Compiled:
    """Calls ``torch.compile(function)``; on any compile error, says so once and runs ``function`` eagerly."""

    def __init__(self, function: Callable, label: str):
        import torch

        self.function, self.label = function, label
        self.compiled = torch.compile(function, dynamic=False)
        self.failed = False
        self.compile_seconds = 0.0
        self._first = True
        self._warm_up = True

    def __call__(self, *args, **kwargs):
        if self.failed or self._warm_up:
            # the first call runs eagerly: it fills pdedsl's caches (derivative tables, autograd node
            # types), which the compiler then finds instead of tracing their construction
            self._warm_up = False
            return self.function(*args, **kwargs)
        start = time.perf_counter()
        try:
            result = self.compiled(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any compiler failure: keep training, eagerly
            self.failed = True
            print(f"pdedsl: torch.compile failed for {self.label} ({type(error).__name__}: "
                  f"{str(error).splitlines()[0] if str(error) else ''}); running eagerly", file=sys.stderr)
            return self.function(*args, **kwargs)
        if self._first:
            self._first = False
            self.compile_seconds = time.perf_counter() - start
            from .distributed import CONTEXT

            if CONTEXT.main:  # (every rank compiles; one says so)
                print(f"pdedsl: compiled {self.label} in {self.compile_seconds:.1f} s", file=sys.stderr)
        return result

"""A one-line progress bar on standard error: steps, loss terms, elapsed time and ETA."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, start: int = 0, enabled: bool = True, stream=None):
        self.total, self.start = total, start
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.began = time.perf_counter()
        self._last_shown = -1.0

    def update(self, step: int, phase: str, terms: dict[str, float]) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        done = step - self.start
        if not self.interactive and now - self._last_shown < 10 and step < self.total:
            return  # in logs, a line every 10 seconds is plenty
        if self.interactive and now - self._last_shown < 0.2 and step < self.total:
            return
        self._last_shown = now
        elapsed = now - self.began
        remaining = elapsed / done * (self.total - step) if done > 0 else float("nan")
        width = 24
        filled = int(width * step / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        loss = ""
        if terms:
            parts = " ".join(f"{k} {v:.2e}" for k, v in list(terms.items())[:4])
            loss = f"loss {sum(terms.values()):.3e} ({parts}) "
        line = f"{phase:<6} {step:>6}/{self.total} [{bar}] {loss}{elapsed:6.1f}s ETA {remaining:5.0f}s"
        if self.interactive:
            self.stream.write("\r" + line[:160].ljust(160))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own (a held-out error, say) above the bar, which the next update redraws."""
        if not self.enabled:
            return
        self.stream.write(("\r" + text.ljust(160) if self.interactive else text) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.interactive and self._last_shown >= 0:  # end the line it drew on
            self.stream.write("\n")
            self.stream.flush()

"""A progress bar on stderr for long generation steps: tqdm if it is installed, else a plain one."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Units of work done out of a total, with a note for each step; silent when `enabled` is False."""

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._last = 0.0
        self._step = ""
        self._bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=self.total, file=self.stream, unit="", unit_scale=True, dynamic_ncols=True)

    def note(self, step: str) -> None:
        """Name the step now running (shown beside the bar)."""
        self._step = step
        if self._bar is not None:
            self._bar.set_description_str(step)
        else:
            self._draw(force=True)

    def advance(self, units: int) -> None:
        self.done = min(self.done + units, self.total)
        if self._bar is not None:
            self._bar.update(units)
        else:
            self._draw()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self._last < 0.5):
            return
        self._last = now
        share = self.done / self.total
        filled = int(30 * share)
        elapsed = now - self.started
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r[{bar}] {share:6.1%} {elapsed:6.0f} s  {self._step[:60]:<60}")
        self.stream.flush()

"""A progress bar on stderr (tqdm is not a dependency): redrawn in place on a terminal, a line per tenth
otherwise, so a log file stays short."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_SECONDS = 0.2


class ProgressBar:
    def __init__(self, label: str, total: int, out: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.out = out or sys.stderr
        self.live = self.out.isatty()
        self.started = self.drawn_at = time.perf_counter()
        self.tenths = 0

    def advance(self, count: int) -> None:
        self.done = min(self.done + count, self.total)
        now = time.perf_counter()
        if self.live and now - self.drawn_at >= REDRAW_SECONDS:
            self.drawn_at = now
            self.out.write("\r" + self._line(now))
            self.out.flush()
        elif not self.live and self.done * 10 // self.total > self.tenths:
            self.tenths = self.done * 10 // self.total
            print(self._line(now), file=self.out, flush=True)

    def close(self) -> None:
        if self.live:
            self.out.write("\r" + self._line(time.perf_counter()) + "\n")
        elif self.tenths < 10:  # the last tenth's line would otherwise be missing
            self.out.write(self._line(time.perf_counter()) + "\n")
        self.out.flush()

    def _line(self, now: float) -> str:
        share = self.done / self.total
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate else 0
        bar = "#" * int(share * WIDTH)
        return (f"{self.label} [{bar:<{WIDTH}}] {share:4.0%} {self.done:,}/{self.total:,} "
                f"{rate:,.0f}/s {_clock(elapsed)} elapsed, {_clock(remaining)} left")  # fmt: skip


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"

"""How long a job waits between tries when its registry is unreachable, and when it stops.

The schedule is a function of the number of tries alone (doubling waits from `first_delay`,
capped at `max_delay`), and that number lives in the job's row, so the window holds across
restarts and whichever server runs the next try.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    window_seconds: float = 300.0
    first_delay: float = 0.25
    max_delay: float = 30.0

    def wait(self, tries: int) -> float:
        """The wait after try number `tries` (1-based)."""
        return min(self.max_delay, self.first_delay * 2.0 ** max(0, tries - 1))

    def next_delay(self, tries: int) -> float | None:
        """Seconds until the next try after `tries` tries, or None once the window is spent."""
        waited = sum(self.wait(n) for n in range(1, tries))
        delay = self.wait(tries)
        if waited + delay > self.window_seconds:
            return None
        return delay

"""A circuit breaker, so a dead model server costs one timeout, not one per insert.

After `failure_threshold` consecutive failures the breaker opens and callers skip the server
(the hybrid extractor answers from the rules). After `reset_after_s` it lets one trial request
through (half-open): success closes it, failure opens it again for another `reset_after_s`.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

__all__ = ["CircuitBreaker", "BreakerState"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Counts consecutive failures; opens after too many, retries after a pause.

    Parameters
    ----------
    failure_threshold
        Consecutive failures that open the breaker.
    reset_after_s
        Seconds the breaker stays open before one trial request is let through.
    clock
        Monotonic seconds; tests pass a fake.

    Examples
    --------
    >>> now = [0.0]
    >>> breaker = CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=lambda: now[0])
    >>> breaker.record_failure(); breaker.allow()
    True
    >>> breaker.record_failure(); breaker.state, breaker.allow()
    ('open', False)
    >>> now[0] = 10.5
    >>> breaker.allow(), breaker.state, breaker.allow()   # one trial request, the others wait
    (True, 'half_open', False)
    >>> breaker.record_success(); breaker.state
    'closed'
    """

    def __init__(
        self, failure_threshold: int = 5, reset_after_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_after_s < 0:
            raise ValueError(f"reset_after_s must be >= 0, got {reset_after_s}")
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0

    def allow(self) -> bool:
        """Whether a request may go to the server now (a half-open breaker lets one through)."""
        if self.state == "closed":
            return True
        if self.state == "open" and self.clock() - self._opened_at >= self.reset_after_s:
            self.state = "half_open"
            return True
        return False

    def record_success(self) -> None:
        self.state = "closed"
        self._failures = 0

    def record_failure(self) -> None:
        self._failures += 1
        if self.state == "half_open" or self._failures >= self.failure_threshold:
            self.state = "open"
            self._opened_at = self.clock()

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failures={self._failures}/{self.failure_threshold})"

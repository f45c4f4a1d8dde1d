"""A client-side limit of N requests per second and M per minute (YCLIENTS: 5/s, 200/min per IP)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self,
        per_second: float,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._windows = [(1.0, max(1, int(per_second)), deque()), (60.0, max(1, per_minute), deque())]
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a request may go; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = 0.0
                for span, limit, stamps in self._windows:
                    while stamps and now - stamps[0] >= span:
                        stamps.popleft()
                    if len(stamps) >= limit:
                        wait = max(wait, span - (now - stamps[0]))
                if wait <= 0:
                    for _, _, stamps in self._windows:
                        stamps.append(now)
                    return waited
            self._sleep(wait)
            waited += wait

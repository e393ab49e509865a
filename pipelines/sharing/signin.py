"""Wrong-password throttle for the therapist sign-in: per source, growing delays, kept in process memory.

The count lives in this module (plain process memory), not in a Streamlit cache: Streamlit lets
any visitor clear its caches, which used to reset the count.  Each *source* (the browser's
address, or ``local`` for this computer) has its own count, so wrong passwords from one address
never lock out another, and the therapist at the computer running Knotwork keeps a separate
allowance that nobody on the network can use up.  All network sources together have a larger
shared allowance as well, so changing address does not give an attacker unlimited tries; its
waits stop at :data:`MAX_DELAY_ALL_REMOTE_S`, so an attacker can slow a therapist signing in from
home by at most a minute, never lock them out.

After :data:`FREE_FAILURES` wrong passwords a source waits before its next try: 2 s, then 4, 8, …
up to :data:`MAX_DELAY_S`.  A right password clears its source; a source with no failure for
:data:`FORGET_AFTER_S` starts again.  The scrypt hash (``passwords.py``) already makes each
guess slow; the waits make a guessing run hopeless (a few hundred tries a day at most).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOCAL_SOURCE = "local"
ALL_REMOTE = "remote:*"
FREE_FAILURES = 3  # per source, before the first wait
FREE_FAILURES_ALL_REMOTE = 30  # every network source together
FIRST_DELAY_S = 2.0
MAX_DELAY_S = 15 * 60.0
MAX_DELAY_ALL_REMOTE_S = 60.0
FORGET_AFTER_S = 24 * 3600.0


@dataclass
class _Count:
    failures: int = 0
    next_try: float = 0.0
    last_failure: float = 0.0


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(source: str) -> list[tuple[str, int, float]]:
        """(count, failures allowed before the first wait, longest wait) that apply to ``source``."""
        if source == LOCAL_SOURCE:
            return [(LOCAL_SOURCE, FREE_FAILURES, MAX_DELAY_S)]
        return [
            (f"remote:{source}", FREE_FAILURES, MAX_DELAY_S),
            (ALL_REMOTE, FREE_FAILURES_ALL_REMOTE, MAX_DELAY_ALL_REMOTE_S),
        ]

    def _get(self, key: str, now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or now - count.last_failure > FORGET_AFTER_S:
            count = self._counts[key] = _Count()
        return count

    def wait_s(self, source: str) -> float:
        """Seconds ``source`` must wait before the next try (0 = it may try now)."""
        now = self._clock()
        with self._lock:
            return max(0.0, *(self._get(key, now).next_try - now for key, _, _ in self._keys(source)))

    def failed(self, source: str) -> float:
        """Record a wrong password; returns the wait now imposed on ``source``."""
        now = self._clock()
        with self._lock:
            for key, free, longest in self._keys(source):
                count = self._get(key, now)
                count.failures += 1
                count.last_failure = now
                over = count.failures - free
                if over > 0:
                    count.next_try = now + min(longest, FIRST_DELAY_S * 2 ** min(over - 1, 30))
        return self.wait_s(source)

    def succeeded(self, source: str) -> None:
        with self._lock:
            self._counts.pop(f"remote:{source}" if source != LOCAL_SOURCE else LOCAL_SOURCE, None)


# The one throttle of this server process.
THROTTLE = Throttle()


def wait_words(seconds: float) -> str:
    """'2 seconds', '4 minutes' … for the message."""
    if seconds < 90:
        n = max(1, round(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    n = round(seconds / 60)
    return f"{n} minute{'s' if n != 1 else ''}"

"""Firestore's clock: the one clock that times compared by several processes are kept on.

A lock or lease written by one process and judged by another is stamped by Firestore (`SERVER_TIMESTAMP`) and
judged against the `read_time` Firestore returns with the read, so a process whose own clock is off can neither
keep a conversation locked past its time nor take a lease that is still held. Each such read also tells how far
this process's clock is from Firestore's: a skew beyond `SKEW_WARN_S` is logged (at most once every
`WARN_EVERY_S`), and `server_now()` corrects for it where a time goes to another Google service (Cloud Tasks'
schedule times)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from aiadmin.core.models import utcnow

log = logging.getLogger("aiadmin.clock")

SKEW_WARN_S = 2.0  # well above a read's round trip; NTP-synced hosts are within milliseconds
WARN_EVERY_S = 600.0

_lock = threading.Lock()
_offset = timedelta(0)
_warned_at: float | None = None


def observe(server_time: datetime | None, local_before: datetime, local_after: datetime | None = None) -> None:
    """Note Firestore's time of a read against this process's clock around it (`local_before`, `local_after`)."""
    global _offset, _warned_at
    if server_time is None:
        return
    after = local_after or utcnow()
    local = local_before + (after - local_before) / 2
    offset = server_time - local
    skewed = abs(offset.total_seconds()) > SKEW_WARN_S
    with _lock:
        _offset = offset if skewed else timedelta(0)
        due = skewed and (_warned_at is None or time.monotonic() - _warned_at > WARN_EVERY_S)
        if due:
            _warned_at = time.monotonic()
    if due:
        log.warning(
            "this process's clock is off Firestore's",
            extra={"skew_s": round(-offset.total_seconds(), 3), "firestore_time": server_time.isoformat()},
        )


def offset() -> timedelta:
    """Firestore's time minus ours, as last seen; zero while the two agree within `SKEW_WARN_S`."""
    with _lock:
        return _offset


def server_now() -> datetime:
    """Our best estimate of Firestore's (and Google's other services') time now."""
    return utcnow() + offset()


def reset() -> None:
    global _offset, _warned_at
    with _lock:
        _offset, _warned_at = timedelta(0), None

"""Pinned clocks for tests whose outcome depends on the date.

Every pinned «now» is chosen relative to a reference day — the real today in Moscow, or `AIADMIN_TEST_TODAY`
(an ISO date) to move every one of them at once: a year back puts most of them in the real past, a year ahead
in the real future, and the suite must pass either way.

`travel()` puts the whole process (functions, stand-ins, the task dispatcher: every thread) on a pinned, ticking
clock with time-machine, except gRPC. gRPC's Python layer turns a call's timeout into an absolute deadline with
`time.time()`, and its C core enforces that deadline on the real clock: on a clock pinned in the past every
Firestore call would be past its deadline before it is sent (each retried until the request hangs), on one
pinned in the future no call would ever time out. So gRPC keeps the real clock, and its timeouts mean what
they say in both directions. The emulator itself, Chromium and the security rules' `request.time` keep the real
clock too: browser tests are never pinned.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import time as _time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc._channel
import time_machine

from aiadmin.core import firestore_clock

MSK = ZoneInfo("Europe/Moscow")


class _RealTime:
    """What gRPC's channel module sees as `time`: the real `time.time()`, everything else as it is."""

    @staticmethod
    def time() -> float:
        return real_time()

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)


def real_time() -> float:
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else _time.time()


grpc._channel.time = _RealTime()  # type: ignore[attr-defined]  # see the module's docstring


@contextlib.contextmanager
def travel(at: datetime) -> Iterator[datetime]:
    """The process lives from `at` on (ticking), gRPC's deadlines on the real clock. The skew to Firestore's clock
    the process saw meanwhile is forgotten after: it was the test's, not the machine's."""
    try:
        with time_machine.travel(at, tick=True):
            yield at
    finally:
        firestore_clock.reset()


def reference_day() -> date:
    given = os.environ.get("AIADMIN_TEST_TODAY", "").strip()
    if given:
        return date.fromisoformat(given)
    return datetime.fromtimestamp(real_time(), MSK).date()


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


def next_weekday(after: date, weekday: int) -> date:
    """The first day strictly after `after` that falls on `weekday` (Monday 0 … Sunday 6)."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def pinned_nows(today: date | None = None) -> dict[str, datetime]:
    """Awkward «nows» near `today`: the end of next month (not a year end), the year's last day, the next Sunday,
    23:30 on the nearest leap year's 28 February (tomorrow is the 29th) and 00:30 on the next 1 March after a
    common February."""
    today = today or reference_day()
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    if next_month.month == 12:  # December's end is the year's end, pinned on its own
        next_month = (next_month + timedelta(days=32)).replace(day=1)
    year_end = date(today.year, 12, 31) if today < date(today.year, 12, 31) else date(today.year + 1, 12, 31)
    leaps = [date(y, 2, 28) for y in range(today.year - 4, today.year + 5) if calendar.isleap(y)]
    leap = min(leaps, key=lambda d: abs(d - today))  # the nearest, before or after: within two years
    common = next(y for y in range(today.year, today.year + 9) if not calendar.isleap(y) and date(y, 3, 1) > today)
    return {
        "month-end": _at(_month_end(next_month.year, next_month.month), 14, 0),
        "year-end": _at(year_end, 16, 10),
        "sunday": _at(next_weekday(today, 6), 11, 0),
        "late-evening": _at(leap, 23, 30),
        "past-midnight": _at(date(common, 3, 1), 0, 30),
    }


def wednesday_morning(today: date | None = None) -> datetime:
    """The next Wednesday, 10:20 in Moscow: every due time of a reminder is exact from there."""
    return _at(next_weekday(today or reference_day(), 2), 10, 20)

"""The YCLIENTS stand-in's salons are consistent by construction on any day: every upcoming record is on a day its
master works, inside working hours, clear of the master's other records and not already past."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from devstack import yclients_demo_data as demo
from devstack.yclients_salon import Salon
from tests.conftest import PINNED_NOWS


def _problems(salon: Salon, today: date) -> list[str]:
    schedule = {(int(d["staff_id"]), d["date"]): d for d in salon.schedule(today, today + timedelta(days=40))}
    seen: dict[tuple[int, str], list[tuple[int, int, int]]] = {}
    problems = []
    for rec in salon.records.values():
        at = datetime.fromisoformat(rec["datetime"]).replace(tzinfo=None)
        key = (int(rec["staff_id"]), at.date().isoformat())
        if at.date() <= today:
            problems.append(f"{rec['id']} is not ahead of {today}: {at}")
        if key not in schedule:
            problems.append(f"{rec['id']} falls on a day off of master {key[0]} ({key[1]})")
            continue
        start = at.hour * 60 + at.minute
        end = start + rec["seance_length"] // 60
        hours = [(demo.minutes_of(s["from"]), demo.minutes_of(s["to"])) for s in schedule[key]["slots"]]
        if not any(a <= start and end <= b for a, b in hours):
            problems.append(f"{rec['id']} is outside working hours: {at:%H:%M}")
        for other, s0, s1 in seen.get(key, []):
            if start < s1 and s0 < end:
                problems.append(f"{rec['id']} overlaps {other}")
        seen.setdefault(key, []).append((rec["id"], start, end))
    return problems


def test_demo_records_fit_the_schedule_on_every_day_of_a_year():
    first = date(2026, 1, 1)
    for offset in range(400):  # every weekday against every staggered day off, a leap day, two year ends
        today = first + timedelta(days=offset)
        assert _problems(Salon.demo(962302, today=today), today) == [], today


@pytest.mark.parametrize("now", list(PINNED_NOWS.values()), ids=list(PINNED_NOWS))
def test_the_demo_salon_built_now_is_consistent(now):
    with time_machine.travel(now, tick=False):
        salon = Salon.demo(962302)
        today = now.date()
        assert _problems(salon, today) == []
        assert len(salon.records) == 30


def test_a_large_salon_places_its_upcoming_records_on_working_days():
    today = date(2026, 12, 31)
    salon = Salon.large(1, clients=10, staff=25, services=40, records=600, days=30, today=today)
    off = [
        r["id"]
        for r in salon.records.values()
        if not demo.works(r["staff_id"], datetime.fromisoformat(r["datetime"]).date())
    ]
    assert off == []

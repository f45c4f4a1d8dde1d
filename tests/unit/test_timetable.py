"""The one timetable: what runs when (Moscow time), as the local scheduler and Cloud Scheduler read it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from aiadmin.sync.runner import SyncTask, slot_of
from aiadmin.sync.timetable import JOBS, MODULES, TIME_ZONE, as_json
from devstack.scheduler import due

MSK = ZoneInfo(TIME_ZONE)


def names(hour: int, minute: int, day: int = 26) -> set[str]:
    return {job.name for job in due(JOBS, datetime(2026, 11, day, hour, minute, tzinfo=MSK))}


def test_the_nightly_modules_run_at_the_seeds_hours_and_bookings_every_quarter():
    assert names(1, 0) == {"sync-services", "sync-bookings"}
    assert names(3, 0) == {"sync-clients", "sync-bookings"}
    assert names(5, 0) == {"sync-schedules-30d", "sync-bookings"}
    assert names(0, 30) == {"sync-bookings-reconcile", "sync-bookings"}
    assert names(7, 45) == {"sync-bookings"}
    assert names(7, 50) == set()
    assert "sync-schedules-today" in names(8, 0) and "sync-schedules-today" in names(23, 0)
    assert "sync-schedules-today" not in names(7, 0)
    assert "sync-company" in names(0, 0, day=29) and "sync-company" not in names(0, 0, day=26)  # Sunday only


def test_every_job_names_known_modules_and_the_export_carries_the_zone():
    assert all(m in MODULES for job in JOBS for m in job.modules)
    exported = json.loads(as_json())
    assert exported["time_zone"] == "Europe/Moscow" and len(exported["jobs"]) == len(JOBS)


def test_a_retried_schedule_names_the_same_slot():
    assert slot_of("2026-11-26T05:00:00Z") == slot_of("2026-11-26T05:00:00.000Z") == "20261126T0500"
    assert SyncTask(salon_id=1, module="clients", slot="x").module == "clients"

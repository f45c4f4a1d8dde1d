"""The sync timetable, defined once: Terraform generates its Cloud Scheduler jobs from `JOBS` (through
`python -m aiadmin.sync.timetable`), and the local stack's scheduler runs the same list."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

TIME_ZONE = "Europe/Moscow"

# What one task syncs for one salon.
MODULES = (
    "company",
    "services",  # with categories and per-master durations
    "staff",
    "clients",
    "visits",  # past records (90 days): client history
    "schedules_30d",
    "schedules_today",  # today and tomorrow
    "bookings",  # records changed since the last run (incremental)
    "bookings_full",  # every record from today on; deletions reconciled
)

# What each module brings, as the owner reads it on the onboarding page («… загрузятся позже»).
MODULE_TITLES = {
    "company": "данные салона",
    "services": "услуги и цены",
    "staff": "мастера",
    "clients": "клиенты",
    "visits": "история визитов",
    "schedules_30d": "расписание",
    "schedules_today": "расписание на сегодня",
    "bookings": "записи",
    "bookings_full": "записи",
}

# After an activation: company and services first (the welcome message needs them), then the rest.
ACTIVATION_FIRST = ("company", "services")
ACTIVATION_THEN = ("staff", "clients", "schedules_30d", "bookings_full", "visits")


@dataclass(frozen=True)
class Job:
    name: str
    schedule: str  # cron, in TIME_ZONE
    modules: tuple[str, ...]
    description: str


JOBS = (
    Job("sync-services", "0 1 * * *", ("services",), "services and categories, daily 01:00"),
    Job("sync-staff", "0 2 * * *", ("staff",), "staff, daily 02:00"),
    Job("sync-clients", "0 3 * * *", ("clients",), "clients, daily 03:00"),
    Job("sync-visits", "0 4 * * *", ("visits",), "visit history, daily 04:00"),
    Job("sync-schedules-30d", "0 5 * * *", ("schedules_30d",), "schedules for 30 days, daily 05:00"),
    Job("sync-schedules-today", "0 8-23 * * *", ("schedules_today",), "today and tomorrow, hourly 08-23"),
    Job("sync-company", "0 0 * * 0", ("company",), "company info, Sundays 00:00"),
    Job("sync-bookings", "*/15 * * * *", ("bookings",), "bookings changed since the last run, every 15 min"),
    # Record webhooks come once, without retries: the nightly full pass catches any we missed.
    Job("sync-bookings-reconcile", "30 0 * * *", ("bookings_full",), "every booking from today, nightly 00:30"),
    # Not a sync: the owners' daily summaries, each at its salon's local hour (aiadmin.marketplace.owner_reports).
    Job("owner-summaries", "3 * * * *", (), "owners' daily summaries due this hour, hourly at :03"),
)
JOBS_BY_NAME = {job.name: job for job in JOBS}


def as_json() -> str:
    """For Terraform's `external` data source or a reviewer: the jobs with their time zone."""
    return json.dumps({"time_zone": TIME_ZONE, "jobs": [asdict(job) for job in JOBS]}, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    print(as_json())

"""The local Cloud Scheduler: runs the sync timetable (`aiadmin.sync.timetable.JOBS`, the list Terraform turns
into Cloud Scheduler jobs) against the local gateway, with the headers Cloud Scheduler sends."""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from croniter import croniter

from aiadmin.core.task_queue import TASK_SECRET_HEADER
from aiadmin.sync.timetable import JOBS, TIME_ZONE, Job

log = logging.getLogger("devstack.scheduler")


def due(jobs: tuple[Job, ...], minute: datetime) -> list[Job]:
    """The jobs whose schedule includes this minute (given in the timetable's time zone)."""
    return [job for job in jobs if croniter.match(job.schedule, minute)]


def fire(target: str, secret: str, job: Job, minute: datetime) -> int:
    headers = {
        TASK_SECRET_HEADER: secret,
        "X-CloudScheduler-JobName": job.name,
        "X-CloudScheduler-ScheduleTime": minute.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    try:
        resp = requests.post(target, json={"job": job.name}, headers=headers, timeout=60)
    except requests.RequestException as exc:
        log.warning("scheduled job not delivered", extra={"job": job.name, "error": str(exc)})
        return 0
    log.info("scheduled job %s -> %s", job.name, resp.status_code, extra={"job": job.name})
    return resp.status_code


def main() -> None:
    from aiadmin.core.logs import configure_logging

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default=os.environ.get("BASE_URL", "http://127.0.0.1:5000") + "/_fn/sync_dispatch")
    args = parser.parse_args()
    configure_logging("INFO")
    zone = ZoneInfo(TIME_ZONE)
    secret = os.environ.get("TASK_SHARED_SECRET", "")
    minute = datetime.now(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    log.info("local scheduler started", extra={"jobs": len(JOBS), "time_zone": TIME_ZONE})
    while True:
        time.sleep(max(0.0, (minute - datetime.now(zone)).total_seconds()))
        for job in due(JOBS, minute):
            fire(args.target, secret, job, minute)
        minute += timedelta(minutes=1)


if __name__ == "__main__":
    main()

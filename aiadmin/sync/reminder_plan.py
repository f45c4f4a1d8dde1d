"""When to remind a customer of a booking, and the Cloud Tasks that will: planned whenever a booking is written
(sync, record webhooks, the bot's own bookings) — on change only, never by scanning. Each task's name is derived
from (booking, kind, appointment time), so a booking written again plans nothing new, a moved booking gets new
tasks, and the old ones find the booking moved when they fire and send nothing (`aiadmin.reminders.delivery`).

Rules (issue 16; times in the salon's zone): the day-before reminder at the salon's hour (19:00 by default), not
when the booking was made less than 12 h before the visit, never at 22:00–09:00; the 2-hour reminder at the
salon's lead before the visit, moved to 09:00 when it would fall earlier, skipped when less than an hour would
separate it from the booking's creation. Cloud Tasks holds a task at most 30 days: bookings further out are
planned by the nightly full pass once they come within `HORIZON`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from aiadmin.core.models import Company, Document, ReminderSettings, utcnow
from aiadmin.core.queues import REMINDERS
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync.documents import BookingDoc

log = logging.getLogger("aiadmin.sync.reminder_plan")

Kind = Literal["day_before", "two_hours"]
HORIZON = dt.timedelta(days=28)
QUIET_FROM, QUIET_UNTIL = dt.time(22), dt.time(9)
MIN_NOTICE = dt.timedelta(hours=12)  # a booking made closer to the visit gets no day-before reminder
MIN_GAP = dt.timedelta(hours=1)


class ReminderTask(Document):
    """The payload of a `reminders` task: which booking, which reminder, and the appointment it was planned for."""

    salon_id: int
    record_id: int
    kind: Kind
    at: dt.datetime  # the appointment time the reminder was planned for (UTC)


def reminder_id(task: ReminderTask) -> str:
    return task_name("rem", task.salon_id, task.record_id, task.kind, f"{task.at.astimezone(dt.UTC):%Y%m%dT%H%M}")


Due = tuple[ReminderTask, dt.datetime]


def plan(company: Company, booking: BookingDoc, now: dt.datetime | None = None) -> list[Due]:
    """The reminders a booking gets, with the moment each is due; [] for one that gets none."""
    settings: ReminderSettings = company.reminders
    if not settings.enabled or booking.deleted or booking.starts_at is None or not booking.client_phone:
        return []
    if booking.attendance in (-1, 1):  # a no-show or a visit that already happened
        return []
    now = now or utcnow()
    zone = company.zone()
    starts = booking.starts_at.astimezone(zone)
    if starts <= now or starts - now > HORIZON:
        return []
    created = booking.created_at or now
    out: list[Due] = []
    hour = min(max(settings.day_before_hour, QUIET_UNTIL.hour), QUIET_FROM.hour - 1)
    day_before = dt.datetime.combine(starts.date() - dt.timedelta(days=1), dt.time(hour), zone)
    if starts - created >= MIN_NOTICE and day_before > now:
        out.append((_task(company, booking, "day_before"), day_before))
    two_hours = starts - dt.timedelta(minutes=settings.two_hour_lead_min)
    if two_hours.timetz().replace(tzinfo=None) < QUIET_UNTIL:
        two_hours = two_hours.replace(hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0)
    if two_hours > now and two_hours < starts - dt.timedelta(minutes=15) and two_hours - created >= MIN_GAP:
        out.append((_task(company, booking, "two_hours"), two_hours))
    return out


def _task(company: Company, booking: BookingDoc, kind: Kind) -> ReminderTask:
    assert booking.starts_at is not None
    return ReminderTask(salon_id=company.salon_id, record_id=booking.id, kind=kind, at=booking.starts_at)


def schedule(queue: TaskQueue, company: Company, bookings: Iterable[BookingDoc]) -> tuple[int, int]:
    """Queue the reminders of these bookings: (created, already there). Enqueues run in parallel: a first sync
    of a large salon plans thousands."""
    due = [item for b in bookings for item in plan(company, b)]
    if not due:
        return 0, 0

    def one(item: Due) -> bool:
        payload, at = item
        return queue.enqueue(
            Task(
                queue=REMINDERS.name,
                name=reminder_id(payload),
                function="reminder_worker",
                payload=payload.model_dump(mode="json"),
                schedule_at=at,
            )
        )

    with ThreadPoolExecutor(max_workers=min(8, len(due))) as pool:
        created = sum(pool.map(one, due))
    log.info(
        "reminders planned",
        extra={"salon_id": company.salon_id, "tasks_created": created, "tasks_existing": len(due) - created},
    )
    return created, len(due) - created

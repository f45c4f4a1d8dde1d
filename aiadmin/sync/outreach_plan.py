"""Messages the salon sends first after a visit, planned when YCLIENTS says how the visit went: a review request
`retention.reviews.delay_min` after an attended visit (`attendance: 1`) ends, and — when the owner turned it on — a
word offering to rebook an hour after a missed one (`attendance: -1`). Planned whenever a booking is written (sync,
record webhooks), never by scanning; the task's name is the event's, so a webhook delivered three times plans one
task. What happens when the task fires is `aiadmin.reminders.outreach`.

The collections the conversation reads too live here: `outreach/{salon}_{kind}_{record}` (one per event: sent or
skipped and why, and what came of it), `opt_outs/{salon}_{phone or chat}` (a customer who said «стоп») and
`waitlist/{salon}_{id}` (customers waiting for a taken time; a booking cancelled or moved away offers its time to
them: `queue_freed`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from aiadmin.core.models import Company, Document, utcnow
from aiadmin.core.queues import REMINDERS
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync.documents import BookingDoc

log = logging.getLogger("aiadmin.sync.outreach_plan")

OUTREACH = "outreach"
OPT_OUTS = "opt_outs"
WAITLIST = "waitlist"
# nudge_scan: a salon's day of «пора на…»; waitlist: a freed time to offer, waitlist_next: its window passed
OutreachKind = Literal["review", "no_show", "nudge", "nudge_scan", "waitlist", "waitlist_next"]
NUDGE_SCAN_HOUR = 11  # salon time: after the night's visit sync, inside the hours for such messages
STALE = dt.timedelta(days=2)  # a visit learned about this late is not asked about any more
NO_SHOW_AFTER = dt.timedelta(hours=1)
DEFAULT_LENGTH = dt.timedelta(hours=1)
KEEP = dt.timedelta(days=120)


class OutreachTask(Document):
    salon_id: int
    record_id: int
    kind: OutreachKind
    at: dt.datetime | None = None  # waitlist: the freed time
    staff_id: int | None = None  # …and its master
    entry: str | None = None  # waitlist_next: the waitlist entry whose offer's window ends


class OutreachRecord(Document):
    """`outreach/{salon}_{kind}_{record}`: created once, before the message is queued."""

    salon_id: int
    kind: OutreachKind
    record_id: int
    chat: str | None = None
    chats: list[str] = Field(default_factory=list)  # where the question is open (the cascade's chats)
    state: Literal["sent", "skipped", "answered"] = "sent"
    why: str | None = None  # skipped: why
    staff_id: int | None = None
    master: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = None
    booked_record: int | None = None  # a nudge: the booking made from it
    at: dt.datetime = Field(default_factory=utcnow)
    answered_at: dt.datetime | None = None
    expire_at: dt.datetime = Field(default_factory=lambda data: data["at"] + KEEP)


class WaitEntry(Document):
    """`waitlist/{salon}_{id}`: a customer waiting for a taken time (aiadmin.ai.waitlist)."""

    salon_id: int
    chat: str
    phone: str
    service_id: int
    staff_id: int | None = None
    day: str  # salon-local YYYY-MM-DD
    at: str  # salon-local HH:MM
    state: Literal["waiting", "offered", "booked", "passed"] = "waiting"
    proposal_id: str | None = None
    offer_key: str | None = None  # which freed time was offered (record and time)
    offered_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    expire_at: dt.datetime


def outreach_id(salon_id: int, kind: str, record_id: int) -> str:
    return f"{salon_id}_{kind}_{record_id}"


def plan(
    company: Company, booking: BookingDoc, now: dt.datetime | None = None
) -> list[tuple[OutreachTask, dt.datetime]]:
    settings = company.retention
    if booking.deleted or booking.starts_at is None or not booking.client_phone:
        return []
    now = now or utcnow()
    ends = booking.starts_at + (dt.timedelta(seconds=booking.length_s) if booking.length_s else DEFAULT_LENGTH)
    if booking.attendance == 1 and settings.reviews.enabled:
        kind, due = "review", ends + dt.timedelta(minutes=settings.reviews.delay_min)
    elif booking.attendance == -1 and settings.no_show.enabled:
        kind, due = "no_show", ends + NO_SHOW_AFTER
    else:
        return []
    if now - due > STALE:
        return []
    task = OutreachTask(salon_id=company.salon_id, record_id=booking.id, kind=kind)  # type: ignore[arg-type]
    return [(task, max(due, now))]


def schedule(queue: TaskQueue, company: Company, bookings: Iterable[BookingDoc]) -> int:
    """Queue what these bookings' visits call for; the number of tasks created (a repeat creates none)."""
    created = 0
    for booking in bookings:
        for task, at in plan(company, booking):
            name = task_name("outreach", task.kind, task.salon_id, task.record_id)
            payload = task.model_dump(mode="json")
            created += queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", payload, schedule_at=at))
    if created:
        log.info("outreach planned", extra={"salon_id": company.salon_id, "tasks_created": created})
    return created


def schedule_nudge_scan(queue: TaskQueue, company: Company, now: dt.datetime | None = None) -> bool:
    """Today's «пора на…» scan of a salon that turned them on, at NUDGE_SCAN_HOUR salon time (now, if later)."""
    if not company.retention.rebooking.enabled:
        return False
    now = now or utcnow()
    local = now.astimezone(company.zone())
    at = max(now, dt.datetime.combine(local.date(), dt.time(NUDGE_SCAN_HOUR), company.zone()))
    task = OutreachTask(salon_id=company.salon_id, record_id=0, kind="nudge_scan")
    name = task_name("outreach", "nudge_scan", company.salon_id, local.date().isoformat())
    return queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", task.model_dump(mode="json"), schedule_at=at))


def queue_freed(queue: TaskQueue, company: Company, old: BookingDoc | None, new: BookingDoc) -> bool:
    """A booking cancelled or moved away from a time still ahead: that time goes to whoever waits for it
    (`aiadmin.ai.waitlist`). One task per record and time, however often the webhook comes."""
    if old is None or old.deleted or old.starts_at is None or old.starts_at <= utcnow():
        return False
    if not company.retention.waitlist.enabled:
        return False
    if not new.deleted and new.starts_at == old.starts_at and new.staff_id == old.staff_id:
        return False
    task = OutreachTask(
        salon_id=company.salon_id, record_id=old.id, kind="waitlist", at=old.starts_at, staff_id=old.staff_id
    )
    name = task_name("outreach", "waitlist", company.salon_id, old.id, f"{old.starts_at:%Y%m%dT%H%M}")
    return queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", task.model_dump(mode="json")))

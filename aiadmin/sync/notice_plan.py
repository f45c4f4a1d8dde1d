"""Notices of bookings the salon made, moved or cancelled (record webhooks): a change worth telling queues a
`reminders` task a minute later, so several changes in a row become one message. What the customer already
knows is kept in `booking_notices/{salon}_{record}` — written by the bot's own replies too — so the bot's own
booking, move or cancel never comes back as a notice (no echo): the notice finds nothing new to tell."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from google.cloud import firestore

from aiadmin.core.models import Company, Document, utcnow
from aiadmin.core.queues import REMINDERS
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync.documents import BookingDoc

log = logging.getLogger("aiadmin.sync.notice_plan")

TOLD = "booking_notices"
MERGE_S = 60.0


class NoticeTask(Document):
    salon_id: int
    record_id: int
    was: dt.datetime | None = None  # the appointment time before the change; None for a new booking
    service: str | None = None  # as it was (a cancelled booking's record keeps no services)
    phone: str | None = None  # the customer's, likewise


class Told(Document):
    """`booking_notices/{salon}_{record}`: the booking as the customer last heard of it."""

    salon_id: int
    record_id: int
    starts_at: dt.datetime | None = None
    staff_id: int | None = None
    deleted: bool = False
    told_at: dt.datetime
    expire_at: dt.datetime  # TTL: a month after it was told, the booking is long past or told again


def told_ref(db: firestore.Client, salon_id: int, record_id: int) -> firestore.DocumentReference:
    return db.collection(TOLD).document(f"{salon_id}_{record_id}")


def told_of(salon_id: int, booking: BookingDoc) -> Told:
    return Told(
        salon_id=salon_id,
        record_id=booking.id,
        starts_at=booking.starts_at,
        staff_id=booking.staff_id,
        deleted=booking.deleted,
        told_at=utcnow(),
        expire_at=utcnow() + dt.timedelta(days=45),
    )


def remember_told(db: firestore.Client, salon_id: int, booking: BookingDoc) -> None:
    told_ref(db, salon_id, booking.id).set(told_of(salon_id, booking).to_firestore())


def worth_telling(old: BookingDoc | None, new: BookingDoc) -> bool:
    """A new booking, a cancelled one, or a new time or master; not a comment, a price or an attendance mark."""
    if old is None or old.deleted:
        return not new.deleted and new.starts_at is not None
    if new.deleted:
        return True
    return (old.starts_at, old.staff_id) != (new.starts_at, new.staff_id)


def queue_notice(queue: TaskQueue, company: Company, old: BookingDoc | None, new: BookingDoc) -> bool:
    if not company.reminders.enabled or not company.reminders.notices or not worth_telling(old, new):
        return False
    if new.starts_at is not None and new.starts_at < utcnow():
        return False  # a visit in the past is no news
    # Named by the change itself: a webhook delivered again makes no second task. Changes in a row each get
    # one; the first to fire tells the latest state and the others find nothing new (see reminders.notices).
    change = f"{old.starts_at if old else None}>{new.starts_at}:{new.deleted}"
    digest = hashlib.sha256(change.encode()).hexdigest()[:12]
    payload = NoticeTask(
        salon_id=company.salon_id,
        record_id=new.id,
        was=old.starts_at if old else None,
        service=", ".join(s.title for s in old.services) if old and old.services else None,
        phone=new.client_phone or (old.client_phone if old else None),
    )
    created = queue.enqueue(
        Task(
            queue=REMINDERS.name,
            name=task_name("notice", company.salon_id, new.id, digest),
            function="notice_worker",
            payload=payload.model_dump(mode="json"),
            delay_s=MERGE_S,
        )
    )
    log.info("notice queued", extra={"salon_id": company.salon_id, "record_id": new.id, "new_task": created})
    return created

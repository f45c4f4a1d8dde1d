"""A `reminders` task firing: the booking is read again and the reminder sent only if it still stands as it was
planned — not cancelled, not moved, not already confirmed (for the 2-hour one) — and only once however often
Cloud Tasks delivers the task (`reminders/{id}` is created first, and the send's key is the same id). The
conversation is marked, so the customer's answer («1», «да, буду», 👍, «3») is read against this booking."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

from google.api_core import exceptions as gexc
from google.cloud import firestore
from pydantic import Field

from aiadmin.channels import contacts
from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, Document, utcnow
from aiadmin.core.names import as_name
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.reminders import texts
from aiadmin.sync import documents as d
from aiadmin.sync.modules import stored_booking
from aiadmin.sync.reminder_plan import Kind, ReminderTask, reminder_id
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import Reminded, SendRequest

log = logging.getLogger("aiadmin.reminders")

REMINDERS = "reminders"


class ReminderRecord(Document):
    """`reminders/{id}`: one reminder that was sent (or refused by WhatsApp). Its id is the task's name."""

    salon_id: int
    record_id: int
    kind: Kind
    at: dt.datetime
    state: Literal["queued", "refused"] = "queued"
    error: str | None = None
    queued_at: dt.datetime = Field(default_factory=utcnow)
    expire_at: dt.datetime = Field(default_factory=lambda data: data["at"] + dt.timedelta(days=30))


def _still_due(task: ReminderTask, booking: d.BookingDoc | None) -> str | None:
    """Why this reminder is no longer wanted, or None."""
    if booking is None or booking.deleted:
        return "the booking was cancelled"
    if booking.starts_at is None or booking.starts_at != task.at:
        return "the booking was moved"
    if booking.attendance in (-1, 1):
        return "the visit is marked as happened or missed"
    if task.kind == "two_hours" and booking.attendance == 2:
        return "the customer already confirmed"
    if not booking.client_phone:
        return "the booking has no phone"
    return None


def language_of(conv_ref: firestore.DocumentReference) -> str:
    conv = conv_ref.get()
    return ((conv.to_dict() or {}).get("ai") or {}).get("language", "ru") if conv.exists else "ru"


def visit_of(db: firestore.Client, company: Company, booking: d.BookingDoc) -> texts.Visit:
    assert booking.starts_at is not None
    master = repositories.company_ref(db, company.salon_id).collection(d.STAFF).document(str(booking.staff_id)).get()
    return texts.Visit(
        salon=company.title,
        address=", ".join(x for x in (company.city, company.address) if x) or None,
        service=", ".join(s.title for s in booking.services) or "визит",
        cost=sum(s.cost * s.amount for s in booking.services) or None,
        master=(master.to_dict() or {}).get("name") if master.exists else None,
        at=booking.starts_at.astimezone(company.zone()).replace(tzinfo=None),
        today=company.today(),
        name=as_name(booking.client_name.split()[0] if booking.client_name else None),
    )


def mark_reminded(conv_ref: firestore.DocumentReference, salon_id: int, marker: Reminded, chat_name: str) -> None:
    """The customer's next words in that chat are read against this booking («1», «3», 👍)."""
    conv_ref.set(
        {
            "reminded": marker.to_firestore(),
            "salon_id": salon_id,
            "phone": chat_name,
            "expire_at": utcnow() + chat.RETENTION,
        },
        merge=True,
    )


def deliver(db: firestore.Client, task: ReminderTask, queue: TaskQueue, settings: Settings) -> str:
    rid = reminder_id(task)
    company = repositories.get_company(db, task.salon_id)
    if company is None or company.integration_status != IntegrationStatus.ACTIVE:
        return "skipped: the salon is not active"
    if not company.reminders.enabled:
        return "skipped: reminders are off for this salon"
    booking = stored_booking(repositories.company_ref(db, task.salon_id).collection(d.BOOKINGS), task.record_id)
    if why := _still_due(task, booking):
        log.info("reminder not sent", extra={"salon_id": task.salon_id, "reminder": rid, "reason": why})
        return f"skipped: {why}"
    assert booking is not None and booking.starts_at is not None and booking.client_phone
    record = ReminderRecord(salon_id=task.salon_id, record_id=task.record_id, kind=task.kind, at=task.at)
    ref = db.collection(REMINDERS).document(rid)
    try:
        ref.create(record.to_firestore())
    except gexc.Conflict:  # a redelivery: the send below has the same key, so WhatsApp gets one message
        if (ref.get().to_dict() or {}).get("state") == "refused":
            return "skipped: WhatsApp refused this reminder; it is not retried"
    visit = visit_of(db, company, booking)
    route = contacts.route(db, company, booking.client_phone, chat.booking_chat(db, task.salon_id, task.record_id))
    if not route:
        ref.set({"state": "refused", "error": "no channel reaches this customer"}, merge=True)
        return "skipped: no channel reaches this customer"
    to = route[0]
    conv_ref = chat.conversation_ref(db, task.salon_id, to)
    language = language_of(conv_ref)
    text = texts.day_before(visit, language) if task.kind == "day_before" else texts.two_hours(visit, language)
    chat.queue_send(
        queue,
        settings.session_host_url,
        SendRequest(
            key=rid,
            salon_id=task.salon_id,
            phone=to,
            text=text,
            on_refused=f"{REMINDERS}/{rid}",
            # a refused reminder waits for the customer's next WhatsApp message only where nothing else reaches them
            resend_until=None if len(route) > 1 else texts.true_until(visit, company.zone()),
            buttons=texts.answer_buttons(task.kind),
            fallbacks=route[1:],
        ),
    )
    marker = Reminded(record_id=task.record_id, kind=task.kind, at=task.at, key=rid)
    for name in route:  # whichever chat it reaches, the answer there («1», «3») is read against this booking
        mark_reminded(chat.conversation_ref(db, task.salon_id, name), task.salon_id, marker, name)
    log.info(
        "reminder queued",
        extra={"salon_id": task.salon_id, "reminder": rid, "kind": task.kind, "via": chat.channel_of(to)},
    )
    return "sent"

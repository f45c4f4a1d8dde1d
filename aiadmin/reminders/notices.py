"""A notice task firing, a minute after the salon made, moved or cancelled a booking: the booking is read again and
compared with what the customer last heard (`booking_notices/`); only news is sent, once, and then remembered.
The customer can answer a notice like a reminder («2» move, «3» cancel)."""

from __future__ import annotations

import logging
from dataclasses import replace

from google.cloud import firestore

from aiadmin.channels import contacts
from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue, task_name
from aiadmin.reminders import texts
from aiadmin.reminders.delivery import mark_reminded, visit_of
from aiadmin.sync import documents as d
from aiadmin.sync.modules import stored_booking
from aiadmin.sync.notice_plan import NoticeTask, Told, told_of, told_ref
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import Reminded, SendRequest

log = logging.getLogger("aiadmin.reminders.notices")


def _news(told: Told | None, booking: d.BookingDoc, task: NoticeTask) -> str | None:
    """created | moved | cancelled, or None when the customer already knows."""
    if told is not None and (told.deleted, told.starts_at, told.staff_id) == (
        booking.deleted,
        booking.starts_at,
        booking.staff_id,
    ):
        return None
    if booking.deleted:
        return "cancelled" if (told is None or not told.deleted) and task.was is not None else None
    if task.was is None and told is None:
        return "created"
    return "moved"


def _claim(db: firestore.Client, task: NoticeTask, booking: d.BookingDoc) -> tuple[Told | None, str | None]:
    """What the customer has not heard yet, marked as told in the same transaction: of two notices firing
    together (changes in a row), one tells the latest state and the other finds nothing new. A failed send after
    this is retried by the outbound queue under its own key."""
    ref = told_ref(db, task.salon_id, task.record_id)

    @firestore.transactional
    def claim(tx: firestore.Transaction) -> tuple[Told | None, str | None]:
        snap = ref.get(transaction=tx)
        told = Told.model_validate(snap.to_dict()) if snap.exists else None
        news = _news(told, booking, task)
        if news is not None:
            tx.set(ref, told_of(task.salon_id, booking).to_firestore())
        return told, news

    return claim(db.transaction())


def deliver(db: firestore.Client, task: NoticeTask, queue: TaskQueue, settings: Settings) -> str:
    company = repositories.get_company(db, task.salon_id)
    if company is None or company.integration_status != IntegrationStatus.ACTIVE:
        return "skipped: the salon is not active"
    if not (company.reminders.enabled and company.reminders.notices):
        return "skipped: notices are off for this salon"
    booking = stored_booking(repositories.company_ref(db, task.salon_id).collection(d.BOOKINGS), task.record_id)
    if booking is None:
        return "skipped: the booking is unknown"
    number = booking.client_phone or task.phone  # a cancelled booking's record is a tombstone without one
    route = contacts.route(db, company, number, chat.booking_chat(db, task.salon_id, task.record_id)) if number else []
    phone = route[0] if route else None
    told, news = _claim(db, task, booking)
    if news is None or not phone:
        return "skipped: nothing new for the customer"
    if news == "cancelled":
        at = task.was or (told.starts_at if told else None)
        assert at is not None
        shown = booking.model_copy(update={"starts_at": at, "services": [], "client_phone": phone})
        visit = replace(visit_of(db, company, shown), service=task.service or "визит")
        text = texts.cancelled(visit)
    else:
        visit = visit_of(db, company, booking)
        known = told.starts_at if told is not None and told.starts_at else task.was  # what the customer last heard
        was = known.astimezone(company.zone()).replace(tzinfo=None) if known else None
        if news == "created" or was is None:
            text = texts.created(visit)
        elif was == visit.at:  # the same time, another master
            text = texts.master_changed(visit)
        else:
            text = texts.moved(visit, was)
    key = task_name("notice", task.salon_id, task.record_id, news, f"{booking.starts_at or task.was:%Y%m%dT%H%M}")
    until = texts.true_until(visit, company.zone()) if len(route) == 1 else None  # else the next channel has it
    request = SendRequest(
        key=key, salon_id=task.salon_id, phone=phone, text=text, resend_until=until, fallbacks=route[1:]
    )
    chat.queue_send(queue, settings.session_host_url, request)
    if news != "cancelled":
        assert booking.starts_at is not None
        marker = Reminded(record_id=booking.id, kind="notice", at=booking.starts_at, key=key)
        for name in route:
            mark_reminded(chat.conversation_ref(db, task.salon_id, name), task.salon_id, marker, name)
    log.info("notice queued", extra={"salon_id": task.salon_id, "record_id": task.record_id, "news": news})
    return f"sent: {news}"

"""The salon writing first after a visit (`outreach_worker`): a review request after an attended visit, a word
offering to rebook after a missed one. Every such message obeys the same rules, checked in this order:

- the salon is active and the owner has this kind on (`companies/{id}.retention`);
- YCLIENTS still says the visit happened (or was missed);
- the customer wrote to the salon before on the chat it goes to (WhatsApp's 463 locks cold contacts; Telegram and
  MAX bots may not write first) — the cascade's chats the customer wrote on, in its order;
- the customer did not say «стоп» (`opt_outs/`; reminders of their bookings still go);
- inside the salon's hours for such messages (09:00–21:00 salon time by default): otherwise it waits for the
  morning, as a task of its own;
- under the salon's daily cap;
- once per event: `outreach/{salon}_{kind}_{record}` is created first, and the send's key is the event's.

Each event leaves its document (sent, or skipped and why; then the rating and comment), which the owner page
counts for the week."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from google.api_core import exceptions as gexc
from google.cloud import firestore

from aiadmin.channels import contacts
from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, utcnow
from aiadmin.core.names import as_name
from aiadmin.core.queues import REMINDERS
from aiadmin.core.russian import day_phrase
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.reminders.delivery import chat_ref
from aiadmin.sync import documents as d
from aiadmin.sync.modules import stored_booking
from aiadmin.sync.outreach_plan import OPT_OUTS, OUTREACH, OutreachRecord, OutreachTask, outreach_id
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.reminders.outreach")

OUTREACH_DAYS = "outreach_days"  # per salon and salon-local day: how many such messages went


def review_request(name: str | None, service: str, master: str | None) -> str:
    hello = f"{name}, здравствуйте!" if name else "Здравствуйте!"
    whom = f", мастер — {master}" if master else ""
    return (
        f"{hello} Как прошёл ваш визит: «{service}»{whom}? Оцените, пожалуйста, от 1 до 5 — ответьте одной цифрой.\n"
        "Если не хотите получать такие сообщения, напишите «стоп»."
    )


def missed_visit(name: str | None, service: str, day: str) -> str:
    hello = f"{name}, здравствуйте!" if name else "Здравствуйте!"
    return (
        f"{hello} Жаль, что {day} не получилось прийти на «{service}». Хотите записаться на другое время? "
        "Напишите, когда вам удобно, — подберу.\nЕсли не хотите получать такие сообщения, напишите «стоп»."
    )


def opted_out(db: firestore.Client, salon_id: int, keys: list[str]) -> bool:
    refs = [db.collection(OPT_OUTS).document(f"{salon_id}_{k}") for k in keys if k]
    return any(snap.exists for snap in db.get_all(refs)) if refs else False


def _wrote(db: firestore.Client, salon_id: int, name: str) -> bool:
    snap = chat_ref(db, salon_id, name).get()
    return snap.exists and bool((snap.to_dict() or {}).get("last_customer_message_at"))


def _morning(company: Company, now: dt.datetime) -> dt.datetime | None:
    """None inside the hours for such messages; else when they open next (salon time)."""
    settings, local = company.retention, now.astimezone(company.zone())
    if settings.quiet_until_hour <= local.hour < settings.quiet_from_hour:
        return None
    day = local.date() if local.hour < settings.quiet_until_hour else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(settings.quiet_until_hour), company.zone())


def _within_cap(db: firestore.Client, company: Company, now: dt.datetime) -> bool:
    ref = db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{company.today().isoformat()}")

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        snap = ref.get(transaction=tx)
        sent = int((snap.to_dict() or {}).get("sent", 0)) if snap.exists else 0
        if sent >= company.retention.daily_cap:
            return False
        tx.set(ref, {"sent": sent + 1, "expire_at": now + dt.timedelta(days=2)}, merge=True)
        return True

    return run(db.transaction())


def _skip(db: firestore.Client, task: OutreachTask, why: str) -> str:
    record = OutreachRecord(salon_id=task.salon_id, kind=task.kind, record_id=task.record_id, state="skipped", why=why)
    with contextlib.suppress(gexc.Conflict):  # the event was handled (sent or skipped) already
        db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id)).create(
            record.to_firestore()
        )
    log.info("outreach skipped", extra={"salon_id": task.salon_id, "kind": task.kind, "why": why})
    return f"skipped: {why}"


def _booking(db: firestore.Client, salon_id: int, record_id: int) -> d.BookingDoc | None:
    company = repositories.company_ref(db, salon_id)
    for name in (d.BOOKINGS, d.VISITS):
        found = stored_booking(company.collection(name), record_id)
        if found is not None and not found.deleted:
            return found
    return None


def deliver(db: firestore.Client, task: OutreachTask, queue: TaskQueue, settings: Settings) -> str:
    company = repositories.get_company(db, task.salon_id)
    if company is None or company.integration_status != IntegrationStatus.ACTIVE:
        return "skipped: the salon is not active"
    enabled = company.retention.reviews.enabled if task.kind == "review" else company.retention.no_show.enabled
    if not enabled:
        return _skip(db, task, "turned off by the owner")
    booking = _booking(db, task.salon_id, task.record_id)
    want = 1 if task.kind == "review" else -1
    if booking is None or booking.attendance != want or not booking.client_phone or booking.starts_at is None:
        return _skip(db, task, "the visit is no longer marked so")
    made_in = chat.booking_chat(db, task.salon_id, task.record_id)
    route = [c for c in contacts.route(db, company, booking.client_phone, made_in) if _wrote(db, task.salon_id, c)]
    if not route:
        return _skip(db, task, "the customer never wrote to the salon")
    if opted_out(db, task.salon_id, [booking.client_phone, *route]):
        return _skip(db, task, "the customer asked not to get such messages")
    now = utcnow()
    if (morning := _morning(company, now)) is not None:
        later = task_name("outreach", task.kind, task.salon_id, task.record_id, f"{morning:%Y%m%d}")
        queue.enqueue(Task(REMINDERS.name, later, "outreach_worker", task.model_dump(mode="json"), schedule_at=morning))
        return f"later: {morning.isoformat()}"
    ref = db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id))
    if ref.get().exists:
        return "duplicate"
    if not _within_cap(db, company, now):
        return _skip(db, task, "the salon's daily cap")
    master = _master(db, task.salon_id, booking.staff_id)
    service = ", ".join(s.title for s in booking.services) or "визит"
    name = as_name(booking.client_name.split()[0] if booking.client_name else None)
    record = OutreachRecord(
        salon_id=task.salon_id,
        kind=task.kind,
        record_id=task.record_id,
        chat=route[0],
        staff_id=booking.staff_id,
        master=master,
    )
    try:
        ref.create(record.to_firestore())  # the claim: of two deliveries of one task, one sends
    except gexc.Conflict:
        return "duplicate"
    if task.kind == "review":
        text, buttons = review_request(name, service, master), ["1", "2", "3", "4", "5"]
    else:
        text, buttons = missed_visit(name, service, _missed_day(booking.starts_at, company)), []
    request = SendRequest(
        key=f"outreach-{task.kind}-{task.salon_id}-{task.record_id}",
        salon_id=task.salon_id,
        phone=route[0],
        text=text,
        buttons=buttons,
        fallbacks=route[1:],
    )
    chat.queue_send(queue, settings.session_host_url, request)
    if task.kind == "review":
        asked = {"record_id": task.record_id, "at": now, "stage": "rating"}
        for name_ in route:  # the answer counts in whichever of these chats it comes
            chat_ref(db, task.salon_id, name_).set({"review_asked": asked}, merge=True)
    log.info("outreach queued", extra={"salon_id": task.salon_id, "kind": task.kind, "via": chat.channel_of(route[0])})
    return "sent"


def _master(db: firestore.Client, salon_id: int, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    snap = repositories.company_ref(db, salon_id).collection(d.STAFF).document(str(staff_id)).get()
    return (snap.to_dict() or {}).get("name") if snap.exists else None


def _missed_day(at: dt.datetime, company: Company) -> str:
    """«сегодня», «вчера», or «во вторник, 1 декабря,» (the date in apposition closed by a comma)."""
    day, today = at.astimezone(company.zone()).date(), company.today()
    if (today - day).days in (0, 1):
        return "сегодня" if day == today else "вчера"
    phrase = day_phrase(day, today)
    return f"{phrase}," if "," in phrase else phrase

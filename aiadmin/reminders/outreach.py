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
from aiadmin.core.logs import phone_ref
from aiadmin.core.models import Company, utcnow
from aiadmin.core.names import as_name
from aiadmin.core.queues import REMINDERS
from aiadmin.core.russian import day_phrase
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.reminders.delivery import chat_ref
from aiadmin.sync import documents as d
from aiadmin.sync import outreach_plan
from aiadmin.sync.modules import stored_booking
from aiadmin.sync.outreach_plan import OPT_OUTS, OUTREACH, OutreachRecord, OutreachTask, outreach_id
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.reminders.outreach")

OUTREACH_DAYS = "outreach_days"  # per salon and salon-local day: how many went, and to whom (one per customer)
EARLY = dt.timedelta(seconds=60)
REQUEUE_WITHIN = dt.timedelta(hours=1)


def _services(titles: list[str]) -> str:
    return ", ".join(f"«{t}»" for t in titles)


def review_request(name: str | None, services: list[str], master: str | None) -> str:
    hello = f"{name}, здравствуйте!" if name else "Здравствуйте!"
    what = ", ".join(x for x in (_services(services), f"мастер — {master}" if master else "") if x)
    visit = f"ваш визит ({what})" if what else "ваш визит в салон"
    return (
        f"{hello} Как прошёл {visit}? Оцените его, пожалуйста, от 1 до 5 — ответьте одной цифрой.\n"
        "Если не хотите получать такие сообщения, напишите «стоп»."
    )


def missed_visit(name: str | None, services: list[str], day: str) -> str:
    hello = f"{name}, здравствуйте!" if name else "Здравствуйте!"
    what = f" ({_services(services)})" if services else ""
    return (
        f"{hello} Жаль, что {day} не получилось прийти на запись{what}. Хотите записаться на другое время? "
        "Напишите, когда вам удобно, — подберу.\nЕсли не хотите получать такие сообщения, напишите «стоп»."
    )


def opted_out(db: firestore.Client, salon_id: int, keys: list[str]) -> bool:
    refs = [db.collection(OPT_OUTS).document(f"{salon_id}_{k}") for k in keys if k]
    return any(snap.exists for snap in db.get_all(refs)) if refs else False


def _wrote(db: firestore.Client, salon_id: int, name: str) -> bool:
    snap = chat_ref(db, salon_id, name).get()
    return snap.exists and bool((snap.to_dict() or {}).get("last_customer_message_at"))


def _morning(company: Company, now: dt.datetime) -> dt.datetime | None:
    """None inside the hours for such messages; else when they open next (salon time). A task due at the opening
    that fires a moment early counts as inside (else it would name itself again and never run)."""
    settings, local = company.retention, (now + EARLY).astimezone(company.zone())
    if settings.quiet_until_hour <= local.hour < settings.quiet_from_hour:
        return None
    day = local.date() if local.hour < settings.quiet_until_hour else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(settings.quiet_until_hour), company.zone())


def _claim(
    db: firestore.Client, company: Company, task: OutreachTask, record: OutreachRecord, person: str, now: dt.datetime
) -> str:
    """In one transaction: the event not yet handled, this customer not yet written to today for this kind, and
    the salon under its daily cap — then the event claimed and counted. claimed | duplicate | person | capped."""
    ref = db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id))
    day = company.today().isoformat()
    cap_ref = db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{day}")
    person_ref = db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{day}_{task.kind}_{phone_ref(person)}")

    @firestore.transactional
    def run(tx: firestore.Transaction) -> str:
        claim, cap, seen = (r.get(transaction=tx) for r in (ref, cap_ref, person_ref))
        if claim.exists:
            return "duplicate"
        if seen.exists:  # two services or two bookings of one customer on one day: one message
            return "person"
        sent = int((cap.to_dict() or {}).get("sent", 0)) if cap.exists else 0
        if sent >= company.retention.daily_cap:
            return "capped"
        expire = now + dt.timedelta(days=2)
        tx.set(cap_ref, {"sent": sent + 1, "expire_at": expire}, merge=True)
        tx.set(person_ref, {"record_id": task.record_id, "expire_at": expire})
        tx.create(ref, record.to_firestore())
        return "claimed"

    return run(db.transaction())


def _unclaim(db: firestore.Client, company: Company, task: OutreachTask, person: str) -> None:
    """The message was not queued: the event, the customer's day and the cap are given back for the retry."""
    day = company.today().isoformat()
    db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id)).delete()
    db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{day}_{task.kind}_{phone_ref(person)}").delete()
    cap = db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{day}")
    cap.set({"sent": firestore.Increment(-1)}, merge=True)


def _later(queue: TaskQueue, task: OutreachTask, at: dt.datetime) -> str:
    name = task_name("outreach", task.kind, task.salon_id, task.record_id, f"{at:%Y%m%d%H}")
    queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", task.model_dump(mode="json"), schedule_at=at))
    return f"later: {at.isoformat()}"


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
    now = utcnow()
    if now - booking.starts_at > outreach_plan.STALE + dt.timedelta(days=1):  # held back for days: too late now
        return _skip(db, task, "too long after the visit")
    made_in = chat.booking_chat(db, task.salon_id, task.record_id)
    route = [c for c in contacts.route(db, company, booking.client_phone, made_in) if _wrote(db, task.salon_id, c)]
    if not route:
        return _skip(db, task, "the customer never wrote to the salon")
    if opted_out(db, task.salon_id, [booking.client_phone, *route]):
        return _skip(db, task, "the customer asked not to get such messages")
    if (morning := _morning(company, now)) is not None:
        return _later(queue, task, morning)
    if task.kind == "review" and any(_reminder_open(db, task.salon_id, c) for c in route):
        # A reminder waits for its «1»/«3»: a rating asked now would take that answer. Tomorrow morning instead.
        return _later(queue, task, _next_morning(company, now))
    ref = db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id))
    master = _master(db, task.salon_id, booking.staff_id)
    titles = [s.title for s in booking.services]
    name = as_name(booking.client_name.split()[0] if booking.client_name else None)
    record = OutreachRecord(
        salon_id=task.salon_id,
        kind=task.kind,
        record_id=task.record_id,
        chat=route[0],
        chats=route,
        staff_id=booking.staff_id,
        master=master,
    )
    if task.kind == "review":
        text, buttons = review_request(name, titles, master), ["1", "2", "3", "4", "5"]
    else:
        text, buttons = missed_visit(name, titles, _missed_day(booking.starts_at, company)), []
    request = SendRequest(
        key=f"outreach-{task.kind}-{task.salon_id}-{task.record_id}",
        salon_id=task.salon_id,
        phone=route[0],
        text=text,
        buttons=buttons,
        fallbacks=route[1:],
    )
    claimed = _claim(db, company, task, record, booking.client_phone, now)
    if claimed == "duplicate":
        earlier = OutreachRecord.model_validate(ref.get().to_dict())
        if earlier.state == "sent" and now - earlier.at < REQUEUE_WITHIN:
            # A first try may have died between its claim and its send: the same key sends it once at most.
            _open_question(db, task, earlier.chats or route, now)
            chat.queue_send(queue, settings.session_host_url, request)
        return "duplicate"
    if claimed == "person":
        return _skip(db, task, "this customer got one today already")
    if claimed == "capped":
        tomorrow = _next_morning(company, now)
        if tomorrow - booking.starts_at > outreach_plan.STALE:
            return _skip(db, task, "the salon's daily cap")
        return _later(queue, task, tomorrow)
    try:
        if task.kind == "review":
            _open_question(db, task, route, now)  # before the send: the answer must find the question open
        chat.queue_send(queue, settings.session_host_url, request)
    except Exception:  # not queued: given back, so the task's retry sends it (the send's key keeps it one)
        _unclaim(db, company, task, booking.client_phone)
        raise
    log.info("outreach queued", extra={"salon_id": task.salon_id, "kind": task.kind, "via": chat.channel_of(route[0])})
    return "sent"


def _open_question(db: firestore.Client, task: OutreachTask, route: list[str], now: dt.datetime) -> None:
    asked = {"record_id": task.record_id, "at": now, "stage": "rating"}
    for name_ in route:  # the answer counts in whichever of these chats it comes
        chat_ref(db, task.salon_id, name_).set({"review_asked": asked}, merge=True)


def _reminder_open(db: firestore.Client, salon_id: int, name: str) -> bool:
    snap = chat_ref(db, salon_id, name).get()
    conv = (snap.to_dict() or {}) if snap.exists else {}
    return bool(conv.get("reminded") or (conv.get("ai") or {}).get("reminded"))


def _next_morning(company: Company, now: dt.datetime) -> dt.datetime:
    day = now.astimezone(company.zone()).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(company.retention.quiet_until_hour), company.zone())


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

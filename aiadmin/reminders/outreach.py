"""The salon writing first after a visit (`outreach_worker`): a review request after an attended visit, a word
offering to rebook after a missed one. Checked in this order: the salon is active and the owner has this kind on
(`companies/{id}.retention`); YCLIENTS still says the visit happened (or was missed); then the rules every such
message obeys (`aiadmin.channels.first_messages`: wrote before, «стоп», hours, cap, one per customer a day, once
per event). A rating asked while a reminder waits for its «1»/«3» waits for the next morning.

Each event leaves its document (sent, or skipped and why; then the rating and comment), which the owner page
counts for the week."""

from __future__ import annotations

import datetime as dt
import logging

from google.cloud import firestore

from aiadmin.channels import first_messages as rules
from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, utcnow
from aiadmin.core.names import as_name
from aiadmin.core.russian import day_phrase
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync import documents as d
from aiadmin.sync import outreach_plan
from aiadmin.sync.modules import stored_booking
from aiadmin.sync.outreach_plan import OUTREACH, OutreachRecord, OutreachTask, outreach_id
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.reminders.outreach")

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
        return rules.skip(db, task, "turned off by the owner")
    booking = _booking(db, task.salon_id, task.record_id)
    want = 1 if task.kind == "review" else -1
    if booking is None or booking.attendance != want or not booking.client_phone or booking.starts_at is None:
        return rules.skip(db, task, "the visit is no longer marked so")
    now = utcnow()
    if now - booking.starts_at > outreach_plan.STALE + dt.timedelta(days=1):  # held back for days: too late now
        return rules.skip(db, task, "too long after the visit")
    made_in = chat.booking_chat(db, task.salon_id, task.record_id)
    route, why_not = rules.gate(db, queue, company, task, booking.client_phone, made_in, now)
    if why_not is not None:
        return why_not
    if task.kind == "review" and any(rules.reminder_open(db, task.salon_id, c) for c in route):
        # A reminder waits for its «1»/«3»: a rating asked now would take that answer. Tomorrow morning instead.
        return rules.later(queue, task, rules.next_morning(company, now))
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
    claimed = rules.claim(db, company, task, record, booking.client_phone, now)
    if claimed == "duplicate":
        earlier = OutreachRecord.model_validate(ref.get().to_dict())
        if earlier.state == "sent" and now - earlier.at < REQUEUE_WITHIN:
            # A first try may have died between its claim and its send: the same key sends it once at most.
            _open_question(db, task, earlier.chats or route, now)
            chat.queue_send(queue, settings.session_host_url, request)
        return "duplicate"
    if claimed == "person":
        return rules.skip(db, task, "this customer got one today already")
    if claimed == "capped":
        tomorrow = rules.next_morning(company, now)
        if tomorrow - booking.starts_at > outreach_plan.STALE:
            return rules.skip(db, task, "the salon's daily cap")
        return rules.later(queue, task, tomorrow)
    try:
        if task.kind == "review":
            _open_question(db, task, route, now)  # before the send: the answer must find the question open
        chat.queue_send(queue, settings.session_host_url, request)
    except Exception:  # not queued: given back, so the task's retry sends it (the send's key keeps it one)
        rules.unclaim(db, company, task, booking.client_phone)
        raise
    log.info("outreach queued", extra={"salon_id": task.salon_id, "kind": task.kind, "via": chat.channel_of(route[0])})
    return "sent"


def _open_question(db: firestore.Client, task: OutreachTask, route: list[str], now: dt.datetime) -> None:
    asked = {"record_id": task.record_id, "at": now, "stage": "rating"}
    for name_ in route:  # the answer counts in whichever of these chats it comes
        chat.conversation_ref(db, task.salon_id, name_).set({"review_asked": asked}, merge=True)


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

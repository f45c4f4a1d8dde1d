"""«Пора на стрижку»: a customer whose usual interval since their last visit of a service has passed, with nothing
booked, gets one message with the next free times of the same master — off until the owner turns it on.

The interval is the customer's own median between attended visits of that service (the synced history: 90 days),
else the owner's for that service (`rebooking.per_service`), else `rebooking.default_interval_days` (28). A nudge is
due from the day the interval has passed, for `WINDOW` days (a customer gone longer is not chased), once per last
visit. A scan runs each day after the visit history is synced (at 11:00 salon time); each nudge then goes through
the rules of the salon's first messages (`aiadmin.channels.first_messages`). The times offered are kept in the
conversation like any offer, so «давайте в 15:00» and «да» book as usual."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import statistics
from collections import defaultdict

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.ai import catalogue, conversation, executor, replies
from aiadmin.ai.commands import Command
from aiadmin.channels import first_messages as rules
from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, utcnow
from aiadmin.core.names import as_name
from aiadmin.core.queues import REMINDERS
from aiadmin.core.russian import plural
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync import documents as d
from aiadmin.sync.outreach_plan import OUTREACH, OutreachRecord, OutreachTask, outreach_id
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest
from aiadmin.yclients.client import YclientsClient

log = logging.getLogger("aiadmin.ai.nudges")

WINDOW = dt.timedelta(days=14)
CREDIT_FOR = dt.timedelta(days=7)
SLOTS = 3


def interval_days(company: Company, dates: list[dt.date], service_id: int | None) -> int:
    """The customer's own median interval between visits of one service, else the owner's for it."""
    gaps = [(b - a).days for a, b in itertools.pairwise(dates) if (b - a).days >= 7]
    if gaps:
        return int(statistics.median(gaps))
    settings = company.retention.rebooking
    return settings.per_service.get(str(service_id), settings.default_interval_days)


def due(company: Company, visits: list[d.BookingDoc], today: dt.date) -> list[d.BookingDoc]:
    """The last attended visit of each (customer, service) whose interval has passed within the window."""
    by_person: dict[tuple[str, int | None], list[d.BookingDoc]] = defaultdict(list)
    for v in visits:
        if v.attendance == 1 and v.client_phone and v.date and not v.deleted:
            by_person[(v.client_phone, min(s.id for s in v.services) if v.services else None)].append(v)
    out = []
    for (_, service_id), seen in by_person.items():
        seen.sort(key=lambda v: v.date or "")
        dates = [dt.date.fromisoformat(v.date) for v in seen if v.date]
        gap = (today - dates[-1]).days
        interval = interval_days(company, dates, service_id)
        if interval <= gap <= interval + WINDOW.days:
            out.append(seen[-1])
    return out


def scan(db: firestore.Client, company: Company, queue: TaskQueue) -> int:
    """Queue today's nudges of the salon (one task per last visit and day; the event's document sends it once)."""
    today = company.today()
    base = repositories.company_ref(db, company.salon_id)
    visits = [d.BookingDoc.model_validate(s.to_dict()) for s in base.collection(d.VISITS).stream()]
    queued = 0
    for visit in due(company, visits, today):
        task = OutreachTask(salon_id=company.salon_id, record_id=visit.id, kind="nudge")
        name = task_name("outreach", "nudge", company.salon_id, visit.id, today.isoformat())
        queued += queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", task.model_dump(mode="json")))
    log.info("nudges scanned", extra={"salon_id": company.salon_id, "visits": len(visits), "queued": queued})
    return queued


def _booked_ahead(db: firestore.Client, salon_id: int, phone: str, today: dt.date) -> bool:
    query = (
        repositories.company_ref(db, salon_id)
        .collection(d.BOOKINGS)
        .where(filter=FieldFilter("client_phone", "==", phone))
        .where(filter=FieldFilter("date", ">=", today.isoformat()))
    )
    return any(not (s.to_dict() or {}).get("deleted") for s in query.stream())


QUIET_FOR = dt.timedelta(minutes=30)


def busy(conv: firestore.DocumentSnapshot, now: dt.datetime) -> bool:
    """Not now: the conversation is engaged (a proposal or question open, handed over), a person answered lately,
    or the customer is writing right now."""
    data = (conv.to_dict() or {}) if conv.exists else {}
    staff, wrote = data.get("last_staff_message_at"), data.get("last_customer_message_at")
    return (
        conversation.engaged(conv, now)
        or bool(staff and now - staff < QUIET_FOR * 4)
        or bool(wrote and now - wrote < QUIET_FOR)
    )


def text_of(name: str | None, service: str, weeks: int, master: str | None, times: str) -> str:
    hello = f"{name}, здравствуйте!" if name else "Здравствуйте!"
    many = plural(weeks, "неделя", "недели", "недель")
    since = (
        "прошла неделя" if weeks == 1 else ("прошла " if weeks % 10 == 1 and weeks % 100 != 11 else "прошло ") + many
    )
    who = f" (мастер — {master})" if master else ""
    return (
        f"{hello} С вашего визита «{service}» {since}. Записать вас снова{who}?\n{times}\n"
        "Если не хотите получать такие сообщения, напишите «стоп»."
    )


def deliver(
    db: firestore.Client, task: OutreachTask, queue: TaskQueue, settings: Settings, yclients: YclientsClient
) -> str:
    company = repositories.get_company(db, task.salon_id)
    if company is None or company.integration_status != IntegrationStatus.ACTIVE:
        return "skipped: the salon is not active"
    if not company.retention.rebooking.enabled:
        return rules.skip(db, task, "turned off by the owner")
    snap = repositories.company_ref(db, task.salon_id).collection(d.VISITS).document(str(task.record_id)).get()
    visit = d.BookingDoc.model_validate(snap.to_dict()) if snap.exists else None
    if visit is None or visit.attendance != 1 or not visit.client_phone or not visit.services:
        return rules.skip(db, task, "the visit is no longer marked attended")
    today = company.today()
    if _booked_ahead(db, task.salon_id, visit.client_phone, today):
        return "skipped: the customer has a booking"  # not recorded: tomorrow's scan asks again, and finds it
    now = utcnow()
    route, why_not = rules.gate(db, queue, company, task, visit.client_phone, None, now)
    if why_not is not None:
        return why_not
    to = route[0]
    conv = conversation.conversation_ref(db, task.salon_id, to).get()
    if busy(conv, now):
        return "skipped: the customer is in a conversation"  # not recorded: tomorrow's scan asks again
    state = conversation.load(conv)
    first = min(visit.services, key=lambda s: s.id)
    state.service_id, state.staff_id = first.id, visit.staff_id
    state.day = state.after = state.before = None
    salon = catalogue.load(db, company, visit.client_phone, today.isoformat())
    seed = f"nudge:{task.record_id}"
    turn = executor.Turn(db, yclients, salon, state, visit.client_phone, None, "", queue=queue, chat=to, seed=seed)
    offer = executor.search_slots(turn, Command(type="search_slots"))
    if offer.kind != "slots" or not offer.data.get("slots"):
        return "skipped: no free times this week"  # not recorded: tomorrow's scan tries again
    state.offered = state.offered[:SLOTS]
    offer = executor.Outcome("slots", {**offer.data, "slots": offer.data["slots"][:SLOTS]})
    master = salon.master(state.offered[0].staff_id)  # the master of the times offered (theirs, if they still can)
    weeks = max(1, (today - dt.date.fromisoformat(visit.date or today.isoformat())).days // 7)
    name = as_name(visit.client_name.split()[0] if visit.client_name else None)
    text = text_of(name, first.title, weeks, master.name if master else None, replies.render(offer, today))
    record = OutreachRecord(
        salon_id=task.salon_id, kind="nudge", record_id=task.record_id, chat=to, chats=route, staff_id=visit.staff_id
    )
    claimed = rules.claim(db, company, task, record, visit.client_phone, now)
    if claimed != "claimed":  # a duplicate; or the cap, or another nudge today: tomorrow's scan asks again
        return claimed if claimed == "duplicate" else f"skipped: {claimed}"
    try:
        state.remember("bot", text)  # the offer is the conversation's: «давайте в 15:00», «да» book as usual
        conversation.save(db, task.salon_id, to, state)
        request = SendRequest(
            key=f"outreach-nudge-{task.salon_id}-{task.record_id}", salon_id=task.salon_id, phone=to, text=text
        )
        chat.queue_send(queue, settings.session_host_url, request)
        nudged = {"record_id": task.record_id, "at": now}  # a booking in this chat soon after counts for the nudge
        conversation.conversation_ref(db, task.salon_id, to).set({"nudged": nudged}, merge=True)
    except Exception:
        rules.unclaim(db, company, task, visit.client_phone)
        raise
    log.info("nudge queued", extra={"salon_id": task.salon_id, "via": chat.channel_of(to)})
    return "sent"


def credit(db: firestore.Client, salon_id: int, chat_name: str, conv: dict, outcomes: list[executor.Outcome]) -> None:
    """A booking made in a chat within CREDIT_FOR of a nudge there is the nudge's (the owner's week counts it)."""
    nudged = conv.get("nudged")
    booked = next((o.data.get("record_id") for o in outcomes if o.kind == "booked"), None)
    if not nudged or booked is None or utcnow() - nudged["at"] > CREDIT_FOR:
        return
    event = db.collection(OUTREACH).document(outreach_id(salon_id, "nudge", int(nudged["record_id"])))
    event.set({"state": "answered", "booked_record": int(booked), "answered_at": utcnow()}, merge=True)
    conversation.conversation_ref(db, salon_id, chat_name).update({"nudged": firestore.DELETE_FIELD})

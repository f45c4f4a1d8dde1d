"""The rules every message the salon sends first obeys (review requests, the word after a missed visit, «пора на
стрижку»): only to customers who wrote to the salon before on that chat (WhatsApp's 463 locks cold contacts;
Telegram and MAX bots may not write first), never after «стоп», inside the salon's hours for such messages, under
its daily cap, one per customer a day and kind, and once per event (`outreach/{salon}_{kind}_{record}`, claimed in
the same transaction as the cap). What each message says, and when it is planned, is its sender's
(`aiadmin.reminders.outreach`, `aiadmin.ai.nudges`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from google.api_core import exceptions as gexc
from google.cloud import firestore

from aiadmin.channels import contacts
from aiadmin.core.logs import phone_ref
from aiadmin.core.models import Company
from aiadmin.core.queues import REMINDERS
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync.outreach_plan import OPT_OUTS, OUTREACH, OutreachRecord, OutreachTask, outreach_id
from aiadmin.whatsapp import chat

log = logging.getLogger("aiadmin.channels.first_messages")

OUTREACH_DAYS = "outreach_days"  # per salon and salon-local day: how many went, and to whom (one per customer)
EARLY = dt.timedelta(seconds=60)


def reachable(db: firestore.Client, company: Company, phone: str, made_in: str | None) -> list[str]:
    """The cascade's chats of this customer that they wrote on, in its order."""
    return contacts.route(db, company, phone, made_in, wrote_only=True)


def gate(
    db: firestore.Client,
    queue: TaskQueue,
    company: Company,
    task: OutreachTask,
    phone: str,
    made_in: str | None,
    now: dt.datetime,
) -> tuple[list[str], str | None]:
    """The chats to write to, or why not now: ([], outcome) — skipped for good, or moved to the morning."""
    route = reachable(db, company, phone, made_in)
    if not route:
        return [], skip(db, task, "the customer never wrote to the salon")
    if opted_out(db, task.salon_id, [phone, *route]):
        return [], skip(db, task, "the customer asked not to get such messages")
    if (morning := opens_at(company, now)) is not None:
        return [], later(queue, task, morning)
    return route, None


def opted_out(db: firestore.Client, salon_id: int, keys: list[str]) -> bool:
    refs = [db.collection(OPT_OUTS).document(f"{salon_id}_{k}") for k in keys if k]
    return any(snap.exists for snap in db.get_all(refs)) if refs else False


def wrote(db: firestore.Client, salon_id: int, name: str) -> bool:
    return contacts.last_written(db, salon_id, name) is not None


def opens_at(company: Company, now: dt.datetime) -> dt.datetime | None:
    """None inside the hours for such messages; else when they open next (salon time). A task due at the opening
    that fires a moment early counts as inside (else it would name itself again and never run)."""
    settings, local = company.retention, (now + EARLY).astimezone(company.zone())
    if settings.quiet_until_hour <= local.hour < settings.quiet_from_hour:
        return None
    day = local.date() if local.hour < settings.quiet_until_hour else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(settings.quiet_until_hour), company.zone())


def claim(
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


def unclaim(db: firestore.Client, company: Company, task: OutreachTask, person: str) -> None:
    """The message was not queued: the event, the customer's day and the cap are given back for the retry."""
    day = company.today().isoformat()
    db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id)).delete()
    db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{day}_{task.kind}_{phone_ref(person)}").delete()
    cap = db.collection(OUTREACH_DAYS).document(f"{company.salon_id}_{day}")
    cap.set({"sent": firestore.Increment(-1)}, merge=True)


def later(queue: TaskQueue, task: OutreachTask, at: dt.datetime) -> str:
    name = task_name("outreach", task.kind, task.salon_id, task.record_id, f"{at:%Y%m%d%H}")
    queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", task.model_dump(mode="json"), schedule_at=at))
    return f"later: {at.isoformat()}"


def skip(db: firestore.Client, task: OutreachTask, why: str) -> str:
    record = OutreachRecord(salon_id=task.salon_id, kind=task.kind, record_id=task.record_id, state="skipped", why=why)
    with contextlib.suppress(gexc.Conflict):  # the event was handled (sent or skipped) already
        db.collection(OUTREACH).document(outreach_id(task.salon_id, task.kind, task.record_id)).create(
            record.to_firestore()
        )
    log.info("outreach skipped", extra={"salon_id": task.salon_id, "kind": task.kind, "why": why})
    return f"skipped: {why}"


def reminder_open(db: firestore.Client, salon_id: int, name: str) -> bool:
    snap = chat.conversation_ref(db, salon_id, name).get()
    conv = (snap.to_dict() or {}) if snap.exists else {}
    return bool(conv.get("reminded") or (conv.get("ai") or {}).get("reminded"))


def next_morning(company: Company, now: dt.datetime) -> dt.datetime:
    day = now.astimezone(company.zone()).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(company.retention.quiet_until_hour), company.zone())

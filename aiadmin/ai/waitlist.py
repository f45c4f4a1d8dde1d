"""The waitlist: a customer told their time is taken may ask to wait for it («поставьте в лист ожидания»). When a
booking at that time is cancelled or moved away (a record webhook), the first customer waiting for it gets the
offer — as the conversation's proposal, so «да» books it through the usual confirmation — and `OFFER_FOR` to
answer; then the next one. Entries end with the wanted day.

`waitlist/{salon}_{id}`: the wish (service, master or any, day, time), the chat and number, `waiting` →
`offered` → `booked` | `passed` (silent past the window, or the time was gone)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.ai import catalogue, conversation, executor
from aiadmin.ai.conversation import Proposal
from aiadmin.ai.dates import When
from aiadmin.channels import first_messages as rules
from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, utcnow
from aiadmin.core.queues import REMINDERS
from aiadmin.core.russian import when_phrase, with_master
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync.outreach_plan import WAITLIST, OutreachTask, WaitEntry
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest
from aiadmin.yclients.client import YclientsClient

log = logging.getLogger("aiadmin.ai.waitlist")

OFFER_FOR = dt.timedelta(minutes=15)


def join(turn: executor.Turn) -> executor.Outcome:
    """Put the customer on the list for the time the bot just said was taken."""
    wish = turn.state.waitlist
    if wish is None or turn.phone is None:
        return executor.Outcome("unclear", {})
    service = turn.salon.service(wish.service_id)
    key = hashlib.sha256(f"{turn.chat}:{wish.service_id}:{wish.day}:{wish.at}".encode()).hexdigest()[:20]
    end = dt.datetime.combine(wish.day + dt.timedelta(days=1), dt.time(0), turn.zone)
    entry = WaitEntry(
        salon_id=turn.salon_id,
        chat=turn.chat,
        phone=turn.phone,
        service_id=wish.service_id,
        staff_id=wish.staff_id,
        day=wish.day.isoformat(),
        at=wish.at.strftime("%H:%M"),
        expire_at=end,
    )
    ref = turn.db.collection(WAITLIST).document(f"{turn.salon_id}_{key}")
    if not ref.get().exists:  # asked twice: one place in the queue, the first
        ref.set(entry.to_firestore())
    turn.state.waitlist = None
    when = dt.datetime.combine(wish.day, wish.at).isoformat()
    return executor.Outcome("waitlisted", {"service": service.title if service else "визит", "at": when})


def _waiting(
    db: firestore.Client, company: Company, at: dt.datetime
) -> list[tuple[firestore.DocumentReference, WaitEntry]]:
    local = at.astimezone(company.zone())
    query = (
        db.collection(WAITLIST)
        .where(filter=FieldFilter("salon_id", "==", company.salon_id))
        .where(filter=FieldFilter("day", "==", local.date().isoformat()))
    )
    found = [(s.reference, WaitEntry.model_validate(s.to_dict())) for s in query.stream()]
    return sorted(found, key=lambda pair: pair[1].created_at)


def offer(
    db: firestore.Client, task: OutreachTask, queue: TaskQueue, settings: Settings, yclients: YclientsClient
) -> str:
    """The freed time to the first customer waiting for it who may still have it (`waitlist`), or — after the
    window of an offer nobody took (`waitlist_next`) — to the next one."""
    company = repositories.get_company(db, task.salon_id)
    if company is None or company.integration_status != IntegrationStatus.ACTIVE or task.at is None:
        return "skipped: the salon is not active"
    if not company.retention.waitlist.enabled:
        return "skipped: the waitlist is off"
    local = task.at.astimezone(company.zone())
    entries = _waiting(db, company, task.at)
    if task.kind == "waitlist_next":
        for ref, entry in entries:
            if entry.state == "offered" and entry.proposal_id and _booked(db, entry):
                ref.update({"state": "booked"})
                return "booked"
            if entry.state == "offered":
                ref.update({"state": "passed"})
    now = utcnow()
    for ref, entry in entries:
        if entry.state != "waiting" or entry.at != local.strftime("%H:%M"):
            continue
        if entry.staff_id is not None and task.staff_id is not None and entry.staff_id != task.staff_id:
            continue
        if rules.opted_out(db, task.salon_id, [entry.phone, entry.chat]) or not rules.wrote(
            db, task.salon_id, entry.chat
        ):
            ref.update({"state": "passed"})
            continue
        sent = _offer_to(db, company, ref, entry, task, queue, settings, yclients, now)
        if sent:
            return "offered"
        ref.update({"state": "passed"})  # that time no longer fits this wish (taken again, another master)
    return "nobody waiting"


def _booked(db: firestore.Client, entry: WaitEntry) -> bool:
    action = db.collection("ai_actions").document(f"{entry.salon_id}_{entry.proposal_id}").get()
    return action.exists and (action.to_dict() or {}).get("outcome_kind") == "booked"


def _offer_to(
    db: firestore.Client,
    company: Company,
    ref: firestore.DocumentReference,
    entry: WaitEntry,
    task: OutreachTask,
    queue: TaskQueue,
    settings: Settings,
    yclients: YclientsClient,
    now: dt.datetime,
) -> bool:
    assert task.at is not None
    salon = catalogue.load(db, company, entry.phone, company.today().isoformat())
    service = salon.service(entry.service_id)
    conv = conversation.conversation_ref(db, task.salon_id, entry.chat).get()
    state = conversation.load(conv)
    turn = executor.Turn(db, yclients, salon, state, entry.phone, None, "", queue=queue, chat=entry.chat)
    masters = (
        [m for m in salon.masters_for(service) if task.staff_id is None or m.id == task.staff_id] if service else []
    )
    day = task.at.astimezone(company.zone()).date()
    free = executor.find_slots(turn, service, masters, [day], When(), limit=500) if service else []
    slot = next((s for s in free if s.at == task.at), None)
    if service is None or slot is None:
        return False
    proposal = Proposal(id=turn.new_id(), kind="create", service_id=service.id, staff_id=slot.staff_id, at=slot.at)
    state.pending, state.offered, state.service_id, state.staff_id = proposal, [slot], service.id, slot.staff_id
    master = salon.master(slot.staff_id)
    when = when_phrase(slot.at.astimezone(company.zone()).replace(tzinfo=None), company.today())
    who = with_master(master.name if master else None)
    text = (
        f"Освободилось время, которого вы ждали: {when}, «{service.title}»{who}. "
        f"Записать вас? Ответьте «да» в течение {int(OFFER_FOR.total_seconds() // 60)} минут — потом время "
        "предложим следующему в листе ожидания."
    )
    state.remember("bot", text)
    conversation.save(db, task.salon_id, entry.chat, state)
    ref.update({"state": "offered", "proposal_id": proposal.id, "offered_at": now})
    key = f"waitlist-{task.salon_id}-{ref.id}-{task.at:%Y%m%dT%H%M}"
    chat.queue_send(
        queue, settings.session_host_url, SendRequest(key=key, salon_id=task.salon_id, phone=entry.chat, text=text)
    )
    later = OutreachTask(
        salon_id=task.salon_id, record_id=task.record_id, kind="waitlist_next", at=task.at, staff_id=task.staff_id
    )
    name = task_name("outreach", "waitlist_next", task.salon_id, ref.id, f"{task.at:%Y%m%dT%H%M}")
    queue.enqueue(
        Task(REMINDERS.name, name, "outreach_worker", later.model_dump(mode="json"), schedule_at=now + OFFER_FOR)
    )
    log.info("waitlist offer sent", extra={"salon_id": task.salon_id, "via": chat.channel_of(entry.chat)})
    return True

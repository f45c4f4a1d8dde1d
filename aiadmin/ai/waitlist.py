"""The waitlist: a customer told their time is taken may ask to wait for it («поставьте в лист ожидания»). When a
booking at that time is cancelled or moved away (by the salon: a record webhook; or through the bot), the first
customer waiting for it whom it fits gets the offer — as the conversation's proposal, so «да» books it through the
usual confirmation — and `OFFER_FOR` to answer; then the offer is withdrawn and the next one gets it. Entries end
with the wanted day.

`waitlist/{salon}_{id}`: the wish (service, master or any, day, time), the chat and number, `waiting` →
`offered` (which freed time, which proposal) → `booked` | `passed` (silent past the window, or said «стоп»)."""

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
    """The freed time to the first customer waiting for it who can have it (`waitlist`), or — when the window of
    the offer made to `task.entry` ends (`waitlist_next`) — settle that offer and go on to the next one."""
    company = repositories.get_company(db, task.salon_id)
    if company is None or company.integration_status != IntegrationStatus.ACTIVE or task.at is None:
        return "skipped: the salon is not active"
    if not company.retention.waitlist.enabled:
        return "skipped: the waitlist is off"
    if task.kind == "waitlist_next" and task.entry and _settle(db, task):
        return "booked"
    local, key = task.at.astimezone(company.zone()), offer_key(task)
    now = utcnow()
    for ref, entry in _waiting(db, company, task.at):
        if entry.at != local.strftime("%H:%M"):
            continue
        if entry.state == "offered" and entry.offer_key == key and task.kind == "waitlist":
            # this very offer was claimed by an earlier try of this task: finish it (the sends are keyed)
            return "offered" if _offer_to(db, company, ref, entry, task, queue, settings, yclients, now) else "gone"
        if entry.state != "waiting":
            continue
        if entry.staff_id is not None and task.staff_id is not None and entry.staff_id != task.staff_id:
            continue
        if rules.opted_out(db, task.salon_id, [entry.phone, entry.chat]) or not rules.wrote(
            db, task.salon_id, entry.chat
        ):
            ref.update({"state": "passed"})
            continue
        if _offer_to(db, company, ref, entry, task, queue, settings, yclients, now):
            return "offered"
    return "nobody waiting"


def offer_key(task: OutreachTask) -> str:
    assert task.at is not None
    return f"{task.record_id}-{task.at:%Y%m%dT%H%M}"


def _settle(db: firestore.Client, task: OutreachTask) -> bool:
    """The offer's window ended: booked (nothing more to do), or passed — and its proposal withdrawn, so a late
    «да» cannot take the time from the next customer."""
    ref = db.collection(WAITLIST).document(str(task.entry))
    snap = ref.get()
    if not snap.exists:
        return False
    entry = WaitEntry.model_validate(snap.to_dict())
    if entry.state == "booked" or (entry.proposal_id and _booked(db, entry)):
        ref.update({"state": "booked"})
        return True
    if entry.state == "offered" and entry.offer_key == offer_key(task):
        ref.update({"state": "passed"})
        conv = conversation.conversation_ref(db, task.salon_id, entry.chat)
        state = conversation.load(conv.get())
        if state.pending is not None and state.pending.id == entry.proposal_id:
            state.pending, state.offered = None, []
            conversation.save(db, task.salon_id, entry.chat, state)
    return False


def _claim(
    ref: firestore.DocumentReference, db: firestore.Client, key: str, proposal_id: str, now: dt.datetime
) -> bool:
    """waiting → offered, once: of two tasks offering times to one customer, one does."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        current = WaitEntry.model_validate(ref.get(transaction=tx).to_dict())
        if current.state == "offered" and current.offer_key == key:
            return True
        if current.state != "waiting":
            return False
        tx.update(ref, {"state": "offered", "offer_key": key, "proposal_id": proposal_id, "offered_at": now})
        return True

    return run(db.transaction())


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
    """Offer the freed time to this customer if it fits their wish and their conversation is free for it."""
    assert task.at is not None
    key = offer_key(task)
    conv = conversation.conversation_ref(db, task.salon_id, entry.chat).get()
    resumed = entry.state == "offered" and entry.offer_key == key
    if not resumed and conversation.engaged(conv, now):
        return False  # they stay waiting: the next freed time may find them free
    salon = catalogue.load(db, company, entry.phone, company.today().isoformat())
    service = salon.service(entry.service_id)
    if service is None:
        return False
    state = conversation.load(conv)
    seed = f"waitlist:{ref.id}:{key}"  # each offer its own proposal id (and a retried task the same one)
    turn = executor.Turn(db, yclients, salon, state, entry.phone, None, "", queue=queue, chat=entry.chat, seed=seed)
    masters = [m for m in salon.masters_for(service) if task.staff_id is None or m.id == task.staff_id]
    day = task.at.astimezone(company.zone()).date()
    free = executor.find_slots(turn, service, masters, [day], When(), limit=500)
    slot = next((x for x in free if x.at == task.at), None)
    if slot is None:
        return False  # not for this wish (another master's time, too short, taken again): they stay waiting
    proposal = Proposal(id=turn.new_id(), kind="create", service_id=service.id, staff_id=slot.staff_id, at=slot.at)
    if not _claim(ref, db, key, proposal.id, now):
        return False
    state.pending, state.offered, state.service_id, state.staff_id = proposal, [slot], service.id, slot.staff_id
    state.linked, state.awaiting, state.moving = [], None, None
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
    send_key = f"waitlist-{task.salon_id}-{ref.id}-{key}"
    request = SendRequest(key=send_key, salon_id=task.salon_id, phone=entry.chat, text=text)
    chat.queue_send(queue, settings.session_host_url, request)
    window = OutreachTask(
        salon_id=task.salon_id,
        record_id=task.record_id,
        kind="waitlist_next",
        at=task.at,
        staff_id=task.staff_id,
        entry=ref.id,
    )
    name = task_name("outreach", "waitlist_next", task.salon_id, ref.id, key)
    due = (entry.offered_at or now) + OFFER_FOR
    queue.enqueue(Task(REMINDERS.name, name, "outreach_worker", window.model_dump(mode="json"), schedule_at=due))
    log.info("waitlist offer sent", extra={"salon_id": task.salon_id, "via": chat.channel_of(entry.chat)})
    return True

"""What the salon's owner is told, through the salon's own WhatsApp, to the owner's number
(`Company.owner_phone()`; the salon's own number is a message to yourself).

Every notice is `owner_notices/{salon}_{kind}_{dedup}`, created once: the same event delivered again (a retried
task, a redelivered webhook) finds it and sends nothing, so each event is one message. Each kind has an hourly
cap: past it, notices are still recorded (the owner page lists them) but not sent, and the next sent one says how
many were held back. A notice that cannot travel by WhatsApp (the session was logged out) is recorded only."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from google.api_core import exceptions as gexc
from google.cloud import firestore
from pydantic import Field

from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Company, Document, utcnow
from aiadmin.core.task_queue import TaskQueue
from aiadmin.whatsapp import chat, owner_feed
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.whatsapp.owner_notices")

OWNER_NOTICES = "owner_notices"
NOTICE_HOURS = "owner_notice_hours"  # per salon, kind and hour: how many were sent and held back
RETENTION = timedelta(days=30)

Kind = Literal[
    "logged_out",
    "whatsapp_down",
    "whatsapp_back",
    "sync_failing",
    "handoff",
    "unanswered",
    "refused",
    "summary",
    "review",
]
# Sent per kind and hour at most; a burst of handoffs in a busy hour must not flood the owner's phone.
HOURLY_CAP: dict[str, int] = {
    "logged_out": 1,
    "whatsapp_down": 2,
    "whatsapp_back": 2,
    "sync_failing": 2,
    "handoff": 10,
    "unanswered": 5,
    "refused": 5,
    "summary": 1,
    "review": 10,  # a customer's words after a low rating
}


class OwnerNotice(Document):
    salon_id: int
    kind: Kind
    text: str
    to: str | None = None
    state: Literal["queued", "held", "recorded"] = "queued"  # held: over the hour's cap; recorded: no channel
    customer: str | None = None  # the customer it is about, for the owner page's link to the conversation
    at: datetime = Field(default_factory=utcnow)
    expire_at: datetime = Field(default_factory=lambda data: data["at"] + RETENTION)


def _hour_counter(db: firestore.Client, salon_id: int, kind: str, at: datetime) -> firestore.DocumentReference:
    return db.collection(NOTICE_HOURS).document(f"{salon_id}_{kind}_{at:%Y%m%d%H}")


def _within_cap(db: firestore.Client, salon_id: int, kind: str, at: datetime) -> tuple[bool, int]:
    """Count this notice into its hour; (may send, how many were held before it this hour)."""
    ref = _hour_counter(db, salon_id, kind, at)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> tuple[bool, int]:
        snap = ref.get(transaction=tx)
        seen = (snap.to_dict() or {}) if snap.exists else {}
        sent, held = int(seen.get("sent", 0)), int(seen.get("held", 0))
        ok = sent < HOURLY_CAP[kind]
        fields = {"sent": sent + 1} if ok else {"held": held + 1}
        tx.set(ref, {**fields, "expire_at": at + RETENTION}, merge=True)
        return ok, held

    return run(db.transaction())


def notify(
    db: firestore.Client,
    queue: TaskQueue | None,
    host_url: str | None,
    company: Company,
    kind: Kind,
    dedup: str,
    text: str,
    *,
    customer: str | None = None,
    send: bool = True,
) -> bool:
    """Record the notice and send it to the owner once. True when this call was the first for this event. The
    owner's Telegram or MAX chat (bound on the owner page) comes first, their WhatsApp number after it."""
    route = owner_route(company, host_url)
    to = route[0] if route else company.owner_phone()
    notice = OwnerNotice(salon_id=company.salon_id, kind=kind, text=text, to=to, customer=customer)
    if not (send and route and queue is not None):
        notice.state = "recorded"  # no channel to carry it: the owner page shows it
    ref = db.collection(OWNER_NOTICES).document(f"{company.salon_id}_{kind}_{dedup}"[:1500])
    key = f"owner-{company.salon_id}-{kind}-{dedup}"[:300]
    try:
        ref.create(notice.to_firestore())
    except gexc.Conflict:  # this event was noticed already
        earlier = ref.get().to_dict() or {}
        if earlier.get("state") == "queued" and notice.state == "queued":
            # Queued again under the same key (one task name, one outbox entry): a first try that failed to
            # reach the queue is made good, and one that did changes nothing.
            assert to is not None and queue is not None
            again = SendRequest(
                key=key, salon_id=company.salon_id, phone=to, text=earlier.get("text") or text, fallbacks=route[1:]
            )
            chat.queue_send(queue, host_url, again)
        return False
    owner_feed.changed(queue, company, f"notice-{kind}-{dedup}")  # an open owner page lists it
    if notice.state == "recorded":
        log.info("owner notice recorded", extra={"salon_id": company.salon_id, "kind": kind})
        return True
    ok, held = _within_cap(db, company.salon_id, kind, notice.at)
    if not ok:
        ref.update({"state": "held"})
        log.warning("owner notice held back (hourly cap)", extra={"salon_id": company.salon_id, "kind": kind})
        return True
    if held:
        text += f"\n\n(Ещё уведомлений этого вида за час, не отправленных: {held}. Все они — на странице AI Admin.)"
    assert to is not None and queue is not None
    request = SendRequest(key=key, salon_id=company.salon_id, phone=to, text=text, fallbacks=route[1:])
    chat.queue_send(queue, host_url, request)
    log.info("owner notice queued", extra={"salon_id": company.salon_id, "kind": kind, "to": mask_phone(to)})
    return True


def owner_route(company: Company, host_url: str | None) -> list[str]:
    """Where the owner's notices go, in order: their bot chat, then their number on the salon's WhatsApp."""
    route = [company.owner_bot_chat] if company.owner_bot_chat else []
    phone = company.owner_phone()
    if phone and host_url and company.whatsapp_connected:
        route.append(phone)
    return route


def recent(db: firestore.Client, salon_id: int, limit: int = 20) -> list[OwnerNotice]:
    query = (
        db.collection(OWNER_NOTICES)
        .where(filter=firestore.FieldFilter("salon_id", "==", salon_id))
        .order_by("at", direction=firestore.Query.DESCENDING)
        .limit(limit)
    )
    return [OwnerNotice.model_validate(d.to_dict()) for d in query.stream()]

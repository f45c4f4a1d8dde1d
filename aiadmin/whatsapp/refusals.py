"""Customers WhatsApp will not let the salon write to first (error 463: they never wrote to this number).

`wa_refusals/{salon}_{phone}` exists while a customer's chat is locked: the owner was told once, and the sends
that asked for it (`SendRequest.resend_until`: reminders, notices) wait there. When the customer writes, the chat
is open: what is still true is sent again, and the next refusal is news for the owner again."""

from __future__ import annotations

import logging
from datetime import datetime

from google.api_core import exceptions as gexc
from google.cloud import firestore
from pydantic import Field

from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Document, utcnow
from aiadmin.core.task_queue import TaskQueue
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.whatsapp.refusals")

REFUSALS = "wa_refusals"


class Refusal(Document):
    salon_id: int
    phone: str
    at: datetime = Field(default_factory=utcnow)
    error: str = ""
    pending: list[SendRequest] = Field(default_factory=list)  # sends to make again once the customer writes


def _ref(db: firestore.Client, salon_id: int, phone: str) -> firestore.DocumentReference:
    return db.collection(REFUSALS).document(f"{salon_id}_{phone}")


def record(db: firestore.Client, req: SendRequest, error: str) -> bool:
    """Mark the refusal on the conversation and keep the send if it may be made later. True the first time for
    this customer (the owner is to be told)."""
    conv = chat.conversation_ref(db, req.salon_id, req.phone)
    conv.set({"refused_at": utcnow(), "refused_error": error[:300]}, merge=True)
    ref = _ref(db, req.salon_id, req.phone)
    pending = [req] if req.resend_until is not None else []
    try:
        ref.create(Refusal(salon_id=req.salon_id, phone=req.phone, error=error[:300], pending=pending).to_firestore())
        return True
    except gexc.Conflict:
        if pending:
            ref.update({"pending": firestore.ArrayUnion([req.to_firestore()])})
        return False


def reopen(db: firestore.Client, queue: TaskQueue, host_url: str, salon_id: int, phone: str) -> int:
    """The customer wrote: their chat is open. Sends still true are queued again (once: a new key of their own);
    returns how many."""
    ref = _ref(db, salon_id, phone)
    snap = ref.get()
    if not snap.exists:
        return 0
    refusal = Refusal.model_validate(snap.to_dict())
    now, again = utcnow(), 0
    for req in refusal.pending:  # queued before the record goes: a failure here is tried again next message
        if req.resend_until is None or req.resend_until <= now:
            continue
        chat.queue_send(queue, host_url, req.model_copy(update={"key": f"{req.key}-reopened", "resend_until": None}))
        again += 1
    ref.delete()
    conv = chat.conversation_ref(db, salon_id, phone)
    conv.set({"refused_at": firestore.DELETE_FIELD, "refused_error": firestore.DELETE_FIELD}, merge=True)
    extra = {"salon_id": salon_id, "to": mask_phone(phone), "resent": again}
    log.info("refused chat reopened by the customer", extra=extra)
    return again

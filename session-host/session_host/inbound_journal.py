"""`wa_inbox/{session_id}_{message_id}`: every message the driver hands the host is written here first, before
anything else is done with it. WhatsApp has acknowledged it already and will not deliver it again, so whatever
happens next (the store failing, the host killed) must find it here: the entry goes only once the message is
stored in its conversation, and the host holding the session replays what is left (after a crash, another host)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import Field

from aiadmin.core.models import Document, utcnow
from session_host.events import Inbound

WA_INBOX = "wa_inbox"
RETENTION = timedelta(days=7)  # Firestore's TTL policy deletes on `expire_at`: an entry stuck this long is alerted


class JournalEntry(Document):
    session_id: str
    inbound: dict[str, Any]
    received_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    expire_at: datetime = Field(default_factory=lambda data: data["received_at"] + RETENTION)

    def event(self) -> Inbound:
        return Inbound(**self.inbound)


def _ref(db: firestore.Client, session_id: str, event: Inbound) -> Any:
    # A placeholder of an unreadable message and its readable copy share WhatsApp's id: two entries.
    suffix = "_unreadable" if event.undecryptable else ""
    return db.collection(WA_INBOX).document(f"{session_id}_{event.message_id}{suffix}")


def record(db: firestore.Client, session_id: str, event: Inbound, attempts: int = 0) -> None:
    entry = JournalEntry(session_id=session_id, inbound=dataclasses.asdict(event), attempts=attempts)
    _ref(db, session_id, event).set(entry.to_firestore())


def done(db: firestore.Client, session_id: str, event: Inbound) -> None:
    _ref(db, session_id, event).delete()


def waiting(db: firestore.Client, sessions: frozenset[str], older_than_s: float) -> list[JournalEntry]:
    """Entries of these sessions left for longer than `older_than_s` (younger ones are still on their way)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    query = db.collection(WA_INBOX).where(filter=FieldFilter("received_at", "<", cutoff))
    entries = (JournalEntry.model_validate(doc.to_dict()) for doc in query.stream())
    return [entry for entry in entries if entry.session_id in sessions]

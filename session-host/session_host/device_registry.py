"""Which WhatsApp device (JID) is each salon's, for a credential store shared by all salons (Postgres).
`wa_devices/{session_id}`: the JID is a phone number and a device index, not a credential; the browser cannot
read it (the security rules deny everything but the session status)."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from aiadmin.core.models import utcnow

WA_DEVICES = "wa_devices"


class DeviceRegistry:
    def __init__(self, db: firestore.Client):
        self._db = db

    def get(self, session_id: str) -> dict[str, Any] | None:
        snap = self._db.collection(WA_DEVICES).document(session_id).get()
        return snap.get("jid") if snap.exists else None

    def save(self, session_id: str, jid: dict[str, Any]) -> None:
        self._db.collection(WA_DEVICES).document(session_id).set({"jid": jid, "linked_at": utcnow()})

    def delete(self, session_id: str) -> None:
        self._db.collection(WA_DEVICES).document(session_id).delete()

"""Exactly one holder per WhatsApp session: a Firestore lease (`wa_leases/{session_id}`) that the holder renews.
A second host never takes a live lease; an expired one is taken over."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.models import Document, utcnow

log = logging.getLogger("aiadmin.session_lease")

WA_LEASES = "wa_leases"


class Lease(Document):
    session_id: str
    holder: str
    expires_at: datetime
    renewed_at: datetime


def lease_ref(db: firestore.Client, session_id: str) -> firestore.DocumentReference:
    return db.collection(WA_LEASES).document(session_id)


def try_acquire(db: firestore.Client, session_id: str, holder: str, ttl_s: float) -> bool:
    """Take (or keep) the lease unless another holder's lease is still live. Also renews our own."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        ref = lease_ref(db, session_id)
        snap = ref.get(transaction=tx)
        now = utcnow()
        if snap.exists:
            current = Lease.model_validate(snap.to_dict())
            if current.holder != holder and current.expires_at > now:
                return False
        lease = Lease(session_id=session_id, holder=holder, expires_at=now + timedelta(seconds=ttl_s), renewed_at=now)
        tx.set(ref, lease.to_firestore())
        return True

    return run(db.transaction())


def release(db: firestore.Client, session_id: str, holder: str) -> None:
    @firestore.transactional
    def run(tx: firestore.Transaction) -> None:
        ref = lease_ref(db, session_id)
        snap = ref.get(transaction=tx)
        if snap.exists and snap.get("holder") == holder:
            tx.delete(ref)

    run(db.transaction())


def expired_sessions(db: firestore.Client) -> list[str]:
    """Sessions whose holder stopped renewing (crashed or partitioned host)."""
    query = db.collection(WA_LEASES).where(filter=FieldFilter("expires_at", "<", utcnow()))
    return [doc.id for doc in query.stream()]

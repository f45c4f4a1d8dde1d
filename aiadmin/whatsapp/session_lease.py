"""Exactly one holder per WhatsApp session: a Firestore lease (`wa_leases/{session_id}`) that the holder renews.
A second host never takes a live lease; an expired one is taken over."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from google.api_core import exceptions as gexc
from google.cloud import firestore

from aiadmin.core.models import Document, utcnow

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
    """Take (or renew) the lease unless another holder's lease is still live.

    Optimistic, not transactional: the write carries a precondition on what was read (the document's update
    time, or that it does not exist), so of two hosts racing for one lease exactly one write lands, and nobody
    waits on a lock."""
    ref = lease_ref(db, session_id)
    snap = ref.get()
    now = utcnow()
    lease = Lease(session_id=session_id, holder=holder, expires_at=now + timedelta(seconds=ttl_s), renewed_at=now)
    try:
        if not snap.exists:
            ref.create(lease.to_firestore())
            return True
        current = Lease.model_validate(snap.to_dict())
        if current.holder != holder and current.expires_at > now:
            return False
        ref.update(lease.to_firestore(), option=db.write_option(last_update_time=snap.update_time))
        return True
    except (gexc.Conflict, gexc.FailedPrecondition, gexc.NotFound):
        return False  # someone else wrote the lease between our read and our write


def renew(db: firestore.Client, session_id: str, holder: str, ttl_s: float) -> bool:
    """Extend a lease we hold. Never creates one: a lease released meanwhile stays released."""
    ref = lease_ref(db, session_id)
    snap = ref.get()
    if not snap.exists or snap.get("holder") != holder:
        return False
    now = utcnow()
    try:
        ref.update(
            {"expires_at": now + timedelta(seconds=ttl_s), "renewed_at": now},
            option=db.write_option(last_update_time=snap.update_time),
        )
    except (gexc.FailedPrecondition, gexc.NotFound):
        return False
    return True


def release(db: firestore.Client, session_id: str, holder: str) -> None:
    ref = lease_ref(db, session_id)
    snap = ref.get()
    if not snap.exists or snap.get("holder") != holder:
        return
    with contextlib.suppress(gexc.FailedPrecondition, gexc.NotFound):  # taken over meanwhile: not ours
        ref.delete(option=db.write_option(last_update_time=snap.update_time))

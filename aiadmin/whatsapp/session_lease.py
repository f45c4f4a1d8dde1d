"""Exactly one holder per WhatsApp session: a Firestore lease (`wa_leases/{session_id}`) that the holder renews.
A second host never takes a live lease; an expired one is taken over. A lease lives on Firestore's clock: stamped
by it when taken or renewed and judged by the time of the read, so a host whose own clock runs ahead cannot take
a live lease early, nor one that runs behind keep a dead one."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from google.api_core import exceptions as gexc
from google.cloud import firestore

from aiadmin.core import firestore_clock
from aiadmin.core.models import Document, utcnow

log = logging.getLogger("aiadmin.session_lease")

WA_LEASES = "wa_leases"


class Lease(Document):
    session_id: str
    holder: str
    ttl_s: float | None = None
    renewed_at: datetime | None = None  # Firestore's time of the last take or renewal
    url: str | None = None  # the holder's own base URL: sends for this session are passed there
    expires_at: datetime | None = None  # a lease of a host still on the previous release: its own clock's time

    def live_at(self, firestore_time: datetime) -> bool:
        if self.ttl_s is None:
            return self.expires_at is not None and self.expires_at > firestore_time
        return self.renewed_at is not None and self.renewed_at + timedelta(seconds=self.ttl_s) > firestore_time


def _read(ref: firestore.DocumentReference) -> firestore.DocumentSnapshot:
    before = utcnow()
    snap = ref.get()
    firestore_clock.observe(snap.read_time, before)
    return snap


def lease_ref(db: firestore.Client, session_id: str) -> firestore.DocumentReference:
    return db.collection(WA_LEASES).document(session_id)


def try_acquire(db: firestore.Client, session_id: str, holder: str, ttl_s: float, url: str | None = None) -> bool:
    """Take (or renew) the lease unless another holder's lease is still live.

    Optimistic, not transactional: the write carries a precondition on what was read (the document's update
    time, or that it does not exist), so of two hosts racing for one lease exactly one write lands, and nobody
    waits on a lock."""
    ref = lease_ref(db, session_id)
    snap = _read(ref)
    lease = {"session_id": session_id, "holder": holder, "ttl_s": ttl_s, "renewed_at": firestore.SERVER_TIMESTAMP}
    if url:
        lease["url"] = url
    try:
        if not snap.exists:
            ref.create(lease)
            return True
        current = Lease.model_validate(snap.to_dict())
        if current.holder != holder and current.live_at(snap.read_time):
            return False
        ref.update(lease, option=db.write_option(last_update_time=snap.update_time))
        return True
    except (gexc.Conflict, gexc.FailedPrecondition, gexc.NotFound):
        return False  # someone else wrote the lease between our read and our write


def renew(db: firestore.Client, session_id: str, holder: str, ttl_s: float) -> bool:
    """Extend a lease we hold. Never creates one: a lease released meanwhile stays released."""
    ref = lease_ref(db, session_id)
    snap = _read(ref)
    if not snap.exists or snap.get("holder") != holder:
        return False
    try:
        ref.update(
            {"ttl_s": ttl_s, "renewed_at": firestore.SERVER_TIMESTAMP},
            option=db.write_option(last_update_time=snap.update_time),
        )
    except (gexc.FailedPrecondition, gexc.NotFound):
        return False
    return True


def live_holder(db: firestore.Client, session_id: str) -> Lease | None:
    """The lease of whoever holds the session now, if anyone does."""
    snap = _read(lease_ref(db, session_id))
    if not snap.exists:
        return None
    lease = Lease.model_validate(snap.to_dict())
    return lease if lease.live_at(snap.read_time) else None


def release(db: firestore.Client, session_id: str, holder: str) -> None:
    ref = lease_ref(db, session_id)
    snap = ref.get()
    if not snap.exists or snap.get("holder") != holder:
        return
    with contextlib.suppress(gexc.FailedPrecondition, gexc.NotFound):  # taken over meanwhile: not ours
        ref.delete(option=db.write_option(last_update_time=snap.update_time))

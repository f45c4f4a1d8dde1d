"""Which host takes a new link. Every host publishes how many sessions it holds (`wa_hosts/{holder}`, renewed with
its leases, on Firestore's clock); a host that sees another live host with room holding fewer sessions leaves a
new link to it for a few seconds and takes it only if nobody has by then (that host may have died meanwhile)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from google.cloud import firestore

from aiadmin.core.models import Document, utcnow

log = logging.getLogger("session_host.host_load")

WA_HOSTS = "wa_hosts"
KEEP = timedelta(days=1)  # a host gone without saying so is deleted by the TTL policy on `expire_at`


class HostLoad(Document):
    holder: str
    url: str | None = None
    held: int
    capacity: int
    ttl_s: float
    renewed_at: datetime | None = None  # Firestore's time of the last publish
    expire_at: datetime | None = None

    def live_at(self, firestore_time: datetime) -> bool:
        return self.renewed_at is not None and self.renewed_at + timedelta(seconds=self.ttl_s) > firestore_time


def publish(db: firestore.Client, holder: str, url: str | None, held: int, capacity: int, ttl_s: float) -> None:
    doc = {"holder": holder, "url": url, "held": held, "capacity": capacity, "ttl_s": ttl_s}
    db.collection(WA_HOSTS).document(holder).set(
        {**doc, "renewed_at": firestore.SERVER_TIMESTAMP, "expire_at": utcnow() + KEEP}
    )


def forget(db: firestore.Client, holder: str) -> None:
    db.collection(WA_HOSTS).document(holder).delete()


def lighter_host(db: firestore.Client, holder: str, held: int) -> str | None:
    """Another live host with room holding fewer sessions than `held` (on a tie, the one named first), if any."""
    lighter: list[tuple[int, str]] = []
    for snap in db.collection(WA_HOSTS).stream():
        other = HostLoad.model_validate(snap.to_dict())
        if other.holder == holder or not other.live_at(snap.read_time) or other.held >= other.capacity:
            continue
        if (other.held, other.holder) < (held, holder):
            lighter.append((other.held, other.holder))
    return min(lighter)[1] if lighter else None

"""Per-key rate limits shared by every instance: a fixed-window counter in Firestore (`rate_limits/{key}_{window}`,
kept a day by its TTL). For what people and browsers may repeat — owner-page loads, one-time codes, redirects —
not for hot paths."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.cloud import firestore

from aiadmin.core.models import utcnow

RATE_LIMITS = "rate_limits"
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int  # until the window ends (when refused)


def _window(key: str, window_s: int, now: datetime) -> tuple[str, datetime]:
    window = math.floor(now.timestamp() / window_s)
    return f"{key}_{window}"[:1500], datetime.fromtimestamp((window + 1) * window_s, UTC)


def window_end(window_s: int, now: datetime | None = None) -> datetime:
    return _window("", window_s, now or utcnow())[1]


def count(db: firestore.Client, key: str, window_s: int, now: datetime | None = None) -> int:
    """How many attempts of `key` the current window has counted."""
    doc_id, _ = _window(key, window_s, now or utcnow())
    snap = db.collection(RATE_LIMITS).document(doc_id).get()
    return int((snap.to_dict() or {}).get("count", 0)) if snap.exists else 0


def hit(db: firestore.Client, key: str, limit: int, window_s: int, now: datetime | None = None) -> Verdict:
    """Count one attempt of `key` in the current window of `window_s`; refused past `limit` (not counted then)."""
    now = now or utcnow()
    doc_id, ends = _window(key, window_s, now)
    ref = db.collection(RATE_LIMITS).document(doc_id)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        snap = ref.get(transaction=tx)
        count = int((snap.to_dict() or {}).get("count", 0)) if snap.exists else 0
        if count >= limit:
            return False
        tx.set(ref, {"count": count + 1, "expire_at": ends + KEEP})
        return True

    allowed = run(db.transaction())
    return Verdict(allowed, 0 if allowed else max(1, math.ceil((ends - now).total_seconds())))

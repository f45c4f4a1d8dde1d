"""What the bot did for a salon, day by day (salon-local): `owner_activity/{salon}_{YYYY-MM-DD}`.

Counted as it happens, so the owner page's week and the daily summary read at most seven documents and never
scan conversations. Every count is a set (customers by pseudonym, actions by record, handoffs by the message
that asked): a retried turn adds the same element again, which changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from google.cloud import firestore
from pydantic import Field

from aiadmin.core.logs import phone_ref
from aiadmin.core.models import Document, utcnow

OWNER_ACTIVITY = "owner_activity"
RETENTION = timedelta(days=60)


class BotAction(Document):
    kind: str  # booked | rescheduled | cancelled
    record_id: int | None = None
    service: str | None = None
    at: str | None = None  # the visit, salon-local ISO
    customer: str  # the phone, shown to the owner


class DayActivity(Document):
    salon_id: int
    day: str
    customers: list[str] = Field(default_factory=list)  # answered, by phone_ref
    off_hours: list[str] = Field(default_factory=list)  # of them, wrote outside the salon's hours
    handoffs: list[str] = Field(default_factory=list)
    unanswered: list[str] = Field(default_factory=list)
    actions: list[BotAction] = Field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)


@dataclass
class TurnActivity:
    customer: str
    message_id: str
    off_hours: bool
    handed_over: bool = False
    unanswered: bool = False
    actions: list[BotAction] = field(default_factory=list)


def _ref(db: firestore.Client, salon_id: int, day: date) -> firestore.DocumentReference:
    return db.collection(OWNER_ACTIVITY).document(f"{salon_id}_{day.isoformat()}")


def record(db: firestore.Client, salon_id: int, day: date, turn: TurnActivity) -> None:
    who = phone_ref(turn.customer)
    fields: dict[str, Any] = {
        "salon_id": salon_id,
        "day": day.isoformat(),
        "customers": firestore.ArrayUnion([who]),
        "expire_at": utcnow() + RETENTION,
    }
    if turn.off_hours:
        fields["off_hours"] = firestore.ArrayUnion([who])
    event = f"{who}-{turn.message_id}"
    if turn.handed_over:
        fields["handoffs"] = firestore.ArrayUnion([event])
    if turn.unanswered:
        fields["unanswered"] = firestore.ArrayUnion([event])
    if turn.actions:
        fields["actions"] = firestore.ArrayUnion([a.to_firestore() for a in turn.actions])
    _ref(db, salon_id, day).set(fields, merge=True)


def days(db: firestore.Client, salon_id: int, last: date, count: int) -> list[DayActivity]:
    """The `count` days up to `last`, oldest first; a day without activity is empty."""
    wanted = [last - timedelta(days=i) for i in range(count - 1, -1, -1)]
    snaps = db.get_all([_ref(db, salon_id, d) for d in wanted])
    found = {s.id: s.to_dict() for s in snaps if s.exists}
    out = []
    for d in wanted:
        raw = found.get(f"{salon_id}_{d.isoformat()}")
        out.append(DayActivity.model_validate(raw) if raw else DayActivity(salon_id=salon_id, day=d.isoformat()))
    return out

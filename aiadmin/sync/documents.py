"""The synced copies of a salon's YCLIENTS data, as the bot reads them: `companies/{salon_id}/{collection}/{id}`.
Each document carries `content_hash` (of everything else) so a sync writes only what changed."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from pydantic import Field

from aiadmin.core.models import Document, utcnow

SERVICES, CATEGORIES, STAFF, CLIENTS, SCHEDULES, BOOKINGS, VISITS = (
    "services",
    "categories",
    "staff",
    "clients",
    "schedules",
    "bookings",
    "visits",
)
SYNC_STATE = "sync_state"


class Synced(Document):
    """Base of every synced document: the hash covers the content, not the bookkeeping."""

    content_hash: str = ""
    synced_at: datetime = Field(default_factory=utcnow)

    def content(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"content_hash", "synced_at"})

    def hashed(self) -> Synced:
        raw = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return self.model_copy(update={"content_hash": hashlib.sha256(raw.encode()).hexdigest()[:32]})


class ServiceDoc(Synced):
    id: int
    title: str
    category_id: int | None = None
    category: str | None = None
    price_min: float
    price_max: float
    duration_s: int | None = None
    comment: str | None = None
    active: bool = True
    weight: int = 0
    staff_durations: dict[str, int] = Field(default_factory=dict)  # staff id -> seconds


class CategoryDoc(Synced):
    id: int
    title: str
    weight: int = 0


class StaffDoc(Synced):
    id: int
    name: str
    specialization: str | None = None
    position: str | None = None
    hidden: bool = False  # hidden from online booking: known to the bot, not offered


class ClientDoc(Synced):
    id: int
    name: str
    phone: str | None = None
    email: str | None = None
    visits_count: int = 0
    sold_amount: float = 0
    first_visit_date: str | None = None
    last_visit_date: str | None = None


class Interval(Document):
    start: str  # "HH:MM", salon-local
    end: str


class ScheduleDoc(Synced):
    """`schedules/{staff_id}_{date}`: one master's working hours and busy intervals on one day."""

    staff_id: int
    date: date
    slots: list[Interval] = Field(default_factory=list)
    busy: list[Interval] = Field(default_factory=list)

    def to_firestore(self) -> dict[str, Any]:
        data = super().to_firestore()
        data["date"] = self.date.isoformat()  # Firestore has no plain date; ISO strings sort and compare
        return data


class BookedService(Document):
    id: int
    title: str = ""
    cost: float = 0
    amount: int = 1


class BookingDoc(Synced):
    """`bookings/{record_id}` (from today on) and `visits/{record_id}` (the past, for client history)."""

    id: int
    staff_id: int | None = None
    starts_at: datetime | None = None
    date: str | None = None  # salon-local YYYY-MM-DD, for range queries
    length_s: int | None = None
    services: list[BookedService] = Field(default_factory=list)
    client_id: int | None = None
    client_name: str = ""
    client_phone: str | None = None
    attendance: int = 0  # 2 confirmed, 1 came, 0 waiting, -1 no-show
    visit_id: int | None = None  # where attendance is set (PUT /visits/{visit_id}/{record_id})
    comment: str | None = None
    created_at: datetime | None = None
    changed_at: datetime | None = None
    # A tombstone: cancelled (by a webhook or the bot) and kept until the next full pass, so a late, older
    # webhook of the same record cannot bring it back.
    deleted: bool = False


class SyncState(Document):
    """`sync_state/{salon_id}_{module}`: how the last runs of one module for one salon went."""

    salon_id: int
    module: str
    state: str = "never"  # running | ok | failed
    last_started_at: datetime | None = None
    last_success_at: datetime | None = None
    last_duration_ms: float | None = None
    read: int = 0
    written: int = 0
    deleted: int = 0
    unchanged: int = 0
    yclients_requests: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None  # the first of the current run of failures (None once it works)
    last_slot: str | None = None

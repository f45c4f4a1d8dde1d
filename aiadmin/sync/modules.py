"""One function per sync module: fetch one kind of data of one salon from YCLIENTS, map it, write what changed.
Each is safe to run again at any time: the content hashes make a repeat cost reads, not writes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.core import repositories
from aiadmin.core.models import Company, utcnow
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync import documents as d
from aiadmin.sync import outreach_plan, reminder_plan
from aiadmin.sync.writer import Counts, apply, upsert
from aiadmin.yclients.client import YclientsClient, YclientsError
from aiadmin.yclients.models import YcClient, YcRecord, YcScheduleDay, YcService, YcStaff

log = logging.getLogger("aiadmin.sync")

VISIT_HISTORY_DAYS = 90
BOOKINGS_OVERLAP = dt.timedelta(minutes=5)  # an incremental pass re-reads a little of the previous one
FEW = 50


@dataclass
class Context:
    db: firestore.Client
    yclients: YclientsClient
    company: Company
    ops_per_second: int = 500
    last_success_at: dt.datetime | None = None  # of this module for this salon
    queue: TaskQueue | None = None  # reminders are planned for the bookings written (none without a queue)

    @property
    def salon_id(self) -> int:
        return self.company.salon_id

    def collection(self, name: str) -> firestore.CollectionReference:
        return repositories.company_ref(self.db, self.salon_id).collection(name)

    def today(self) -> dt.date:
        return self.company.today()

    def apply(self, name: str, fresh: dict[str, d.Synced], **kwargs: Any) -> Counts:
        return apply(self.db, self.collection(name), fresh, ops_per_second=self.ops_per_second, **kwargs)

    def bookings_written(self, bookings: Iterable[d.BookingDoc]) -> None:
        if self.queue is not None:
            written = list(bookings)
            reminder_plan.schedule(self.queue, self.company, written)
            outreach_plan.schedule(self.queue, self.company, written)

    def visits_written(self, visits: Iterable[d.BookingDoc]) -> None:
        """Past visits marked attended or missed: what the salon says after them."""
        if self.queue is not None:
            outreach_plan.schedule(self.queue, self.company, visits)


# --- mapping ---------------------------------------------------------------------------------------------


def service_doc(s: YcService, categories: dict[int, str]) -> d.ServiceDoc:
    return d.ServiceDoc(
        id=s.id,
        title=s.title.strip(),
        category_id=s.category_id,
        category=categories.get(s.category_id) if s.category_id else None,
        price_min=s.price_min,
        price_max=max(s.price_max, s.price_min),
        duration_s=s.duration,
        comment=s.comment,
        active=s.active,
        weight=s.weight,
        staff_durations={str(x.id): x.seance_length for x in s.staff if x.seance_length},
    )


def staff_doc(s: YcStaff) -> d.StaffDoc | None:
    if s.fired or s.status == 1:
        return None  # dismissed or deleted: the bot must not offer them
    return d.StaffDoc(
        id=s.id,
        name=s.name.strip(),
        specialization=s.specialization,
        position=s.position.title if s.position else None,
        hidden=s.hidden,
    )


def client_doc(c: YcClient) -> d.ClientDoc:
    return d.ClientDoc(
        id=c.id,
        name=c.name.strip(),
        phone=c.phone,
        email=c.email,
        visits_count=c.visits_count,
        sold_amount=c.sold_amount,
        first_visit_date=c.first_visit_date,
        last_visit_date=c.last_visit_date,
    )


def schedule_doc(day: YcScheduleDay) -> d.ScheduleDoc:
    return d.ScheduleDoc(
        staff_id=day.staff_id,
        date=day.date,
        slots=[d.Interval(start=i.start, end=i.end) for i in day.slots],
        busy=sorted((d.Interval(start=i.start, end=i.end) for i in day.busy_intervals), key=lambda i: i.start),
    )


def booking_doc(r: YcRecord) -> d.BookingDoc:
    client = r.client
    return d.BookingDoc(
        id=r.id,
        staff_id=r.staff_id,
        starts_at=r.datetime,
        date=r.datetime.date().isoformat() if r.datetime else None,  # the offset YCLIENTS gives is the salon's
        length_s=r.seance_length,
        services=[d.BookedService(id=s.id, title=s.title, cost=s.cost, amount=s.amount) for s in r.services],
        client_id=client.id if client else None,
        client_name=client.name if client else "",
        client_phone=client.phone if client else None,
        attendance=r.attendance,
        visit_id=r.visit_id,
        comment=r.comment,
        created_at=r.create_date,
        changed_at=r.last_change_date,
    )


def stored_booking(bookings: firestore.CollectionReference, record_id: int | str) -> d.BookingDoc | None:
    """The booking as synced (a tombstone if cancelled), or None when it was never stored."""
    snap = bookings.document(str(record_id)).get()
    return d.BookingDoc.model_validate(snap.to_dict()) if snap.exists else None


def bury_record(bookings: firestore.CollectionReference, record_id: int | str, at: dt.datetime | None = None) -> None:
    """Mark a booking cancelled, with the time of the cancellation (see BookingDoc.deleted)."""
    doc = d.BookingDoc(id=int(record_id), deleted=True, changed_at=at or utcnow())
    bookings.document(str(record_id)).set(doc.hashed().to_firestore())


def schedule_id(staff_id: int, day: dt.date | str) -> str:
    return f"{staff_id}_{day if isinstance(day, str) else day.isoformat()}"


# --- modules ---------------------------------------------------------------------------------------------


def sync_company(ctx: Context) -> Counts:
    yc = ctx.yclients.get_company(ctx.salon_id)
    fresh = {
        "title": yc.title,
        "timezone": yc.timezone_name or ctx.company.timezone,
        "phone": yc.phone,
        "address": yc.address,
        "city": yc.city,
    }
    current = ctx.company.model_dump()
    changed = {k: v for k, v in fresh.items() if current.get(k) != v}
    if changed:
        repositories.company_ref(ctx.db, ctx.salon_id).update({**changed, "updated_at": utcnow()})
    return Counts(read=1, written=1 if changed else 0, unchanged=0 if changed else 1)


def sync_services(ctx: Context) -> Counts:
    """Services with their category names. Categories are decoration: when YCLIENTS will not give them (a 404 on
    some accounts, an outage), the services still sync, named with the categories stored before."""
    counts = Counts()
    try:
        categories = ctx.yclients.get_categories(ctx.salon_id)
    except YclientsError as exc:
        log.warning(
            "categories unavailable; services synced without them",
            extra={"salon_id": ctx.salon_id, "error": str(exc)[:200]},
        )
        stored = repositories.company_ref(ctx.db, ctx.salon_id).collection(d.CATEGORIES)
        names = {int(snap.id): snap.get("title") for snap in stored.stream() if snap.id.isdigit()}
    else:
        names = {c.id: c.title for c in categories}
        counts += ctx.apply(
            d.CATEGORIES, {str(c.id): d.CategoryDoc(id=c.id, title=c.title, weight=c.weight) for c in categories}
        )
    counts += ctx.apply(d.SERVICES, {str(s.id): service_doc(s, names) for s in ctx.yclients.get_services(ctx.salon_id)})
    return counts


def sync_staff(ctx: Context) -> Counts:
    docs = {str(s.id): doc for s in ctx.yclients.get_staff(ctx.salon_id) if (doc := staff_doc(s))}
    return ctx.apply(d.STAFF, docs)


def sync_clients(ctx: Context) -> Counts:
    fresh: dict[str, d.Synced] = {}
    page = 1
    while True:
        batch, total = ctx.yclients.search_clients(ctx.salon_id, page)
        fresh.update({str(c.id): client_doc(c) for c in batch})
        if not batch or len(fresh) >= total or len(batch) < 200:
            break
        page += 1
    return ctx.apply(d.CLIENTS, fresh)


def _sync_schedules(ctx: Context, days: int) -> Counts:
    start = ctx.today()
    end = start + dt.timedelta(days=days - 1)
    fresh = {
        schedule_id(x.staff_id, x.date): schedule_doc(x) for x in ctx.yclients.get_schedule(ctx.salon_id, start, end)
    }
    scope = (
        ctx.collection(d.SCHEDULES)
        .where(filter=FieldFilter("date", ">=", start.isoformat()))
        .where(filter=FieldFilter("date", "<=", end.isoformat()))
    )
    counts = ctx.apply(d.SCHEDULES, fresh, scope=scope)
    # Days gone by are no use to the bot.
    past = ctx.collection(d.SCHEDULES).where(filter=FieldFilter("date", "<", start.isoformat()))
    counts += ctx.apply(d.SCHEDULES, {}, scope=past) if days > 2 else Counts()
    return counts


def _records(ctx: Context, **filters: Any) -> list[YcRecord]:
    out: list[YcRecord] = []
    page = 1
    while True:
        batch, total = ctx.yclients.get_records(ctx.salon_id, page, **filters)
        out.extend(batch)
        if not batch or len(out) >= total:
            return out
        page += 1


def sync_bookings_full(ctx: Context) -> Counts:
    """Every record from today on; bookings YCLIENTS no longer has (deleted, or in the past) are removed.
    Reminders are planned for the bookings written, and for those coming within Cloud Tasks' reach today."""
    records = _records(ctx, start_date=ctx.today().isoformat())
    fresh = {str(r.id): booking_doc(r) for r in records if not r.deleted}
    written: dict[str, d.BookingDoc] = {}
    counts = ctx.apply(d.BOOKINGS, fresh, on_written=lambda i, doc: written.__setitem__(i, doc))
    edge = {(ctx.today() + reminder_plan.HORIZON - dt.timedelta(days=n)).isoformat() for n in (1, 2)}
    reaching = {i: b for i, b in fresh.items() if b.date in edge}
    ctx.bookings_written({**reaching, **written}.values())
    return counts


def sync_bookings(ctx: Context) -> Counts:
    """Records changed since the last run (deleted ones included); the first run is a full one."""
    if ctx.last_success_at is None:
        return sync_bookings_full(ctx)
    since = (ctx.last_success_at - BOOKINGS_OVERLAP).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    records = _records(ctx, start_date=ctx.today().isoformat(), changed_after=since, with_deleted=1)
    counts = Counts(read=len(records))
    coll = ctx.collection(d.BOOKINGS)
    upserts = {str(r.id): booking_doc(r) for r in records if not r.deleted}
    written: dict[str, d.BookingDoc] = {}
    if len(upserts) > FEW:  # a busy stretch: one projection read of the collection beats many single reads
        applied = ctx.apply(
            d.BOOKINGS, upserts, delete_missing=False, on_written=lambda i, doc: written.__setitem__(i, doc)
        )
        counts.written, counts.unchanged = applied.written, applied.unchanged
    else:
        for doc_id, doc in upserts.items():
            if upsert(coll, doc_id, doc):
                counts.written += 1
                written[doc_id] = doc
            else:
                counts.unchanged += 1
    ctx.bookings_written(written.values())
    gone = [r for r in records if r.deleted]
    for r in gone:
        bury_record(coll, r.id, r.last_change_date)
    counts.deleted = len(gone)
    return counts


def sync_visits(ctx: Context) -> Counts:
    today = ctx.today()
    start = today - dt.timedelta(days=VISIT_HISTORY_DAYS)
    records = _records(ctx, start_date=start.isoformat(), end_date=(today - dt.timedelta(days=1)).isoformat())
    fresh = {str(r.id): booking_doc(r) for r in records if not r.deleted}
    scope = ctx.collection(d.VISITS).where(filter=FieldFilter("date", ">=", start.isoformat()))
    counts = ctx.apply(d.VISITS, fresh, scope=scope)
    recent = (today - outreach_plan.STALE).isoformat()  # a visit marked late, its webhook lost: asked about still
    ctx.visits_written(v for v in fresh.values() if v.date and v.date >= recent)
    if ctx.queue is not None:  # the history is fresh: today's «пора на…» can be worked out from it
        outreach_plan.schedule_nudge_scan(ctx.queue, ctx.company)
    return counts


MODULE_FUNCTIONS: dict[str, Callable[[Context], Counts]] = {
    "company": sync_company,
    "services": sync_services,
    "staff": sync_staff,
    "clients": sync_clients,
    "visits": sync_visits,
    "schedules_30d": lambda ctx: _sync_schedules(ctx, 30),
    "schedules_today": lambda ctx: _sync_schedules(ctx, 2),
    "bookings": sync_bookings,
    "bookings_full": sync_bookings_full,
}

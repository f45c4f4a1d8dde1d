"""YCLIENTS's data-change webhooks applied to the synced data at once. A webhook is a hint, never a fact: it
carries no signature, so whoever learns a salon's URL could otherwise move a client's booking onto their own phone
or pin a record with a change date in 2099. So the object it names is read again from YCLIENTS by id and what
YCLIENTS says is written; the body only says what to read. A change YCLIENTS never sent is caught by the next
scheduled pass (bookings every 15 min incrementally, nightly in full)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from aiadmin.core.models import DataWebhook
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync import documents as d
from aiadmin.sync import notice_plan, outreach_plan
from aiadmin.sync.modules import (
    Context,
    booking_doc,
    bury_record,
    client_doc,
    service_doc,
    staff_doc,
    stored_booking,
)
from aiadmin.sync.runner import sync_task
from aiadmin.sync.writer import upsert
from aiadmin.yclients.client import YclientsNotFound, YclientsRejected
from aiadmin.yclients.models import YcStaff

log = logging.getLogger("aiadmin.sync.changes")


@dataclass(frozen=True)
class Applied:
    state: str  # processed | ignored
    detail: str


def _delete(ctx: Context, collection: str, doc_id: str) -> None:
    ctx.collection(collection).document(doc_id).delete()


def _tell(ctx: Context, old: d.BookingDoc | None, new: d.BookingDoc) -> None:
    if ctx.queue is not None:
        notice_plan.queue_notice(ctx.queue, ctx.company, old, new)
        outreach_plan.queue_freed(ctx.queue, ctx.company, old, new)  # its old time, to the waitlist


def _record(ctx: Context, hook: DataWebhook, queue: TaskQueue | None) -> Applied:
    rid = str(hook.resource_id)
    old = stored_booking(ctx.collection(d.BOOKINGS), rid)
    try:
        record = ctx.yclients.get_record(ctx.salon_id, int(rid))
    except YclientsNotFound:
        bury_record(ctx.collection(d.BOOKINGS), rid)
        _delete(ctx, d.VISITS, rid)
        _tell(ctx, old, d.BookingDoc(id=int(rid), deleted=True))
        return Applied("processed", f"record {rid} is gone from YCLIENTS; removed")
    if record.deleted:
        bury_record(ctx.collection(d.BOOKINGS), rid, record.last_change_date)
        _delete(ctx, d.VISITS, rid)
        _tell(ctx, old, d.BookingDoc(id=int(rid), deleted=True, starts_at=record.datetime))
        return Applied("processed", f"record {rid} deleted")
    doc = booking_doc(record)
    today = ctx.today()
    upcoming = doc.date is None or doc.date >= today.isoformat()
    written = upsert(ctx.collection(d.BOOKINGS if upcoming else d.VISITS), rid, doc)
    if upcoming:
        _delete(ctx, d.VISITS, rid)
        if written:
            ctx.bookings_written([doc])
            _tell(ctx, old, doc)
    else:
        _delete(ctx, d.BOOKINGS, rid)  # moved into the past
        if written:  # marked attended or missed after its day
            ctx.visits_written([doc])
    if queue is not None and doc.date in (today.isoformat(), (today + dt.timedelta(days=1)).isoformat()):
        # The master's busy intervals changed today or tomorrow: refresh them (one task per salon per minute).
        slot = "wh-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M")
        queue.enqueue(sync_task(ctx.salon_id, "schedules_today", slot, reason="record webhook"))
    where = "bookings" if upcoming else "visits"
    return Applied("processed", f"record {rid} {'written to' if written else 'unchanged in'} {where}")


def _client(ctx: Context, hook: DataWebhook) -> Applied:
    cid = str(hook.resource_id)
    try:
        client = ctx.yclients.get_client(ctx.salon_id, int(cid))
    except YclientsNotFound:
        _delete(ctx, d.CLIENTS, cid)
        return Applied("processed", f"client {cid} is gone from YCLIENTS; removed")
    written = upsert(ctx.collection(d.CLIENTS), cid, client_doc(client))
    return Applied("processed", f"client {cid} {'written' if written else 'unchanged'}")


def _staff(ctx: Context, hook: DataWebhook) -> Applied:
    sid = str(hook.resource_id)
    member: YcStaff | None = None
    try:
        member = ctx.yclients.get_staff_member(ctx.salon_id, int(sid))
    except YclientsNotFound:
        member = None
    doc = staff_doc(member) if member else None
    if doc is None:  # deleted, dismissed or gone
        _delete(ctx, d.STAFF, sid)
        return Applied("processed", f"staff {sid} removed")
    written = upsert(ctx.collection(d.STAFF), sid, doc)
    return Applied("processed", f"staff {sid} {'written' if written else 'unchanged'}")


def _service(ctx: Context, hook: DataWebhook) -> Applied:
    sid = str(hook.resource_id)
    try:
        service = ctx.yclients.get_service(ctx.salon_id, int(sid))
    except YclientsNotFound:
        _delete(ctx, d.SERVICES, sid)
        return Applied("processed", f"service {sid} is gone from YCLIENTS; removed")
    names: dict[int, str] = {}
    if service.category_id:
        snap = ctx.collection(d.CATEGORIES).document(str(service.category_id)).get()
        if snap.exists:
            names[service.category_id] = (snap.to_dict() or {}).get("title", "")
    written = upsert(ctx.collection(d.SERVICES), sid, service_doc(service, names))
    return Applied("processed", f"service {sid} {'written' if written else 'unchanged'}")


def apply(ctx: Context, hook: DataWebhook, queue: TaskQueue | None = None) -> Applied:
    """Re-read the object one data-change webhook names and write what YCLIENTS holds. YclientsUnavailable
    propagates (the batch is retried in order); a refusal for one object (401/403) is recorded on its receipt
    and the batch goes on."""
    resource = hook.resource.strip().lower()
    try:
        if resource == "record":
            return _record(ctx, hook, queue)
        if resource == "client":
            return _client(ctx, hook)
        if resource == "staff":
            return _staff(ctx, hook)
        if resource in ("service", "services"):
            return _service(ctx, hook)
    except YclientsRejected as exc:
        return Applied("ignored", f"YCLIENTS refused to show {resource} {hook.resource_id}: {exc}")
    return Applied("ignored", f"resource {hook.resource!r} is not synced")

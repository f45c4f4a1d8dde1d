"""What the owner page shows, as one document the page listens to: `owner_views/{view_id}`.

The same capability pattern as onboarding (`aiadmin.whatsapp.onboarding_view`): the id is an HMAC of the
registration JWT's `jti` (YCLIENTS's signed redirect vouched for the owner), unguessable without the server's
secret, readable by `get` only while the JWT lives (`web/firestore.rules`). A salon's live views are listed in
`owner_pages/{salon_id}` (private); `refresh` builds the projection once and writes it into each of them.

The projection is built from what is already counted: the salon's conversations (the 30 most recent and every
one waiting for a person), `owner_activity` for the week, `sync_state` per module, the notices sent, and the
messages of senders WhatsApp showed only by LID. WhatsApp's own status comes live through the onboarding view
the same page watches (the session host mirrors it)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import Field

from aiadmin.channels import bots
from aiadmin.core import repositories
from aiadmin.core.models import Company, Document, RegistrationClaims, utcnow
from aiadmin.core.settings import get_settings
from aiadmin.sync import documents as sync_docs
from aiadmin.sync import outreach_plan
from aiadmin.sync.timetable import MODULE_TITLES
from aiadmin.whatsapp import activity, chat, owner_notices
from aiadmin.whatsapp.qr_image import qr_data_url
from aiadmin.whatsapp.session_status import ViewRef, live_views

log = logging.getLogger("aiadmin.marketplace.owner_view")

OWNER_VIEWS = "owner_views"
OWNER_PAGES = "owner_pages"
INBOX_RECENT = 30
WEEK = 7


class InboxEntry(Document):
    phone: str  # the chat (chat.CHAT): phone digits, or `lid:…` for a customer whose number WhatsApp hides
    customer_phone: str | None = None  # a hidden-number customer's own word for their phone, once they gave it
    name: str | None = None
    last_text: str = ""
    last_direction: str | None = None
    updated_at: datetime | None = None
    last_customer_message_at: datetime | None = None  # None: nobody wrote from this number (the owner's notices)
    waiting_since: datetime | None = None
    waiting_reason: str | None = None  # handoff | unanswered | late (written hours before it arrived)
    taken_over_at: datetime | None = None  # the owner said «I'll answer»: the bot keeps out until «Вернуть боту»
    paused_until: datetime | None = None
    last_staff_message_at: datetime | None = None
    bot_silent_until: datetime | None = None  # a handoff or a person's message keeps the bot out until then


class ModuleSync(Document):
    module: str
    title: str
    state: str
    last_success_at: datetime | None = None
    last_error: str | None = None


class Week(Document):
    customers: int = 0
    off_hours_share: float | None = None  # of the customers who wrote, the share who wrote outside the hours
    booked: int = 0
    rescheduled: int = 0
    cancelled: int = 0
    actions: list[activity.BotAction] = Field(default_factory=list)
    # Messages the salon sent first after visits, and what came of them.
    review_requests: int = 0
    review_answers: int = 0
    review_average: float | None = None
    low_reviews: list[dict[str, Any]] = Field(default_factory=list)  # 1–3: master, rating, the customer's words
    missed_visit_messages: int = 0
    nudges: int = 0  # «пора на…» sent
    nudge_bookings: int = 0  # …and bookings made from them (in that chat within a week)
    waitlisted: int = 0  # places taken on the waitlist
    waitlist_offers: int = 0  # freed times offered to someone waiting
    waitlist_booked: int = 0  # …and booked from the offer


class OwnerView(Document):
    expires_at: datetime
    title: str = ""
    integration_status: str = ""
    bot_enabled: bool = True
    owner_phone: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    inbox: list[InboxEntry] = Field(default_factory=list)
    week: Week = Field(default_factory=Week)
    sync: list[ModuleSync] = Field(default_factory=list)
    notices: list[dict[str, Any]] = Field(default_factory=list)
    channels: list[dict[str, Any]] = Field(default_factory=list)  # the salon's Telegram and MAX bots
    updated_at: datetime = Field(default_factory=utcnow)


def view_for(secret: str, claims: RegistrationClaims) -> ViewRef:
    digest = hmac.new(secret.encode(), f"owner-view:{claims.jti}".encode(), hashlib.sha256).hexdigest()
    return ViewRef(id=digest[:32], expires_at=datetime.fromtimestamp(claims.exp, UTC))


def _pages(db: firestore.Client, salon_id: int) -> firestore.DocumentReference:
    return db.collection(OWNER_PAGES).document(str(salon_id))


def bind(db: firestore.Client, company: Company, view: ViewRef) -> None:
    """This page is open: list its view, and let the writers know a page is live until it expires."""
    ref = _pages(db, company.salon_id)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> None:
        snap = ref.get(transaction=tx)
        known = [ViewRef.model_validate(v) for v in (snap.to_dict() or {}).get("views", [])] if snap.exists else []
        views = live_views(known, [view])
        tx.set(ref, {"salon_id": company.salon_id, "views": [v.to_firestore() for v in views]})
        until = max(v.expires_at for v in views)
        tx.set(repositories.company_ref(db, company.salon_id), {"owner_page_until": until}, merge=True)

    run(db.transaction())
    db.collection(OWNER_VIEWS).document(view.id).set({"expires_at": view.expires_at}, merge=True)


def _silent_until(entry: InboxEntry, staff_pause: timedelta) -> datetime | None:
    staff = entry.last_staff_message_at + staff_pause if entry.last_staff_message_at else None
    latest = max((t for t in (entry.paused_until, staff) if t), default=None)
    return latest if latest and latest > utcnow() else None


def _inbox(db: firestore.Client, salon_id: int, staff_pause: timedelta) -> list[InboxEntry]:
    base = db.collection(chat.CONVERSATIONS).where(filter=FieldFilter("salon_id", "==", salon_id))
    desc = firestore.Query.DESCENDING
    waiting = base.order_by("waiting_since", direction=desc).limit(INBOX_RECENT).stream()
    recent = base.order_by("updated_at", direction=desc).limit(INBOX_RECENT).stream()
    seen: dict[str, InboxEntry] = {}
    for snap in [*waiting, *recent]:
        entry = InboxEntry.model_validate(snap.to_dict())
        if entry.last_customer_message_at is not None:  # a customer's chat, not the notices sent to the owner
            entry.bot_silent_until = _silent_until(entry, staff_pause)
            seen.setdefault(entry.phone, entry)
    entries = list(seen.values())
    # Waiting for a person first (longest waiting on top), then the rest, newest first.
    waiting_first = sorted((e for e in entries if e.waiting_since), key=lambda e: e.waiting_since or utcnow())
    others = sorted((e for e in entries if not e.waiting_since), key=lambda e: e.updated_at or utcnow(), reverse=True)
    return waiting_first + others


def _week(db: firestore.Client, company: Company) -> Week:
    days = activity.days(db, company.salon_id, company.today(), WEEK)
    customers = {c for day in days for c in day.customers}
    off_hours = {c for day in days for c in day.off_hours}
    actions = [a for day in days for a in day.actions]
    return Week(
        customers=len(customers),
        off_hours_share=round(len(off_hours) / len(customers), 3) if customers else None,
        booked=sum(day.count("booked") for day in days),
        rescheduled=sum(day.count("rescheduled") for day in days),
        cancelled=sum(day.count("cancelled") for day in days),
        actions=actions[-50:],
        **_outreach(db, company),
    )


def _waitlist(db: firestore.Client, salon_id: int, since: datetime) -> dict[str, int]:
    """The week's waitlist: places taken, freed times offered, and offers that became bookings."""
    query = db.collection(outreach_plan.WAITLIST).where(filter=FieldFilter("salon_id", "==", salon_id))
    entries = [outreach_plan.WaitEntry.model_validate(s.to_dict()) for s in query.stream()]
    week = [e for e in entries if e.created_at >= since]
    return {
        "waitlisted": len(week),
        "waitlist_offers": len([e for e in week if e.offered_at is not None]),
        "waitlist_booked": len([e for e in week if e.state == "booked"]),
    }


def _outreach(db: firestore.Client, company: Company) -> dict[str, Any]:
    since = utcnow() - timedelta(days=WEEK)
    query = (
        db.collection(outreach_plan.OUTREACH)
        .where(filter=FieldFilter("salon_id", "==", company.salon_id))
        .where(filter=FieldFilter("at", ">=", since))
    )
    events = [outreach_plan.OutreachRecord.model_validate(s.to_dict()) for s in query.stream()]
    asked = [e for e in events if e.kind == "review" and e.state != "skipped"]
    rated = [e.rating for e in asked if e.rating is not None]
    low = [
        {"master": e.master, "rating": e.rating, "comment": e.comment, "at": e.answered_at}
        for e in asked
        if e.rating is not None and e.rating <= 3
    ]
    return {
        "review_requests": len(asked),
        "review_answers": len(rated),
        "review_average": round(sum(rated) / len(rated), 2) if rated else None,
        "low_reviews": low[-20:],
        "missed_visit_messages": len([e for e in events if e.kind == "no_show" and e.state != "skipped"]),
        "nudges": len([e for e in events if e.kind == "nudge" and e.state != "skipped"]),
        "nudge_bookings": len([e for e in events if e.kind == "nudge" and e.booked_record]),
        **_waitlist(db, company.salon_id, since),
    }


def _sync(db: firestore.Client, salon_id: int) -> list[ModuleSync]:
    query = db.collection(sync_docs.SYNC_STATE).where(filter=FieldFilter("salon_id", "==", salon_id))
    states = [sync_docs.SyncState.model_validate(s.to_dict()) for s in query.stream()]
    return [
        ModuleSync(
            module=s.module,
            title=MODULE_TITLES.get(s.module, s.module),
            state=s.state,
            last_success_at=s.last_success_at,
            last_error=s.last_error if s.state == "failed" else None,
        )
        for s in sorted(states, key=lambda s: s.module)
    ]


def settings_of(company: Company) -> dict[str, Any]:
    return {
        **company.owner.model_dump(),
        "reminders": company.reminders.model_dump(),
        "channel_order": company.channel_order,
        **company.retention.model_dump(include={"reviews", "no_show", "rebooking", "waitlist"}),
    }


def build(db: firestore.Client, company: Company, staff_pause_min: int) -> dict[str, Any]:
    notices = owner_notices.recent(db, company.salon_id, 10)
    view = OwnerView(
        expires_at=utcnow(),  # replaced per view
        title=company.title,
        integration_status=str(company.integration_status),
        bot_enabled=company.owner.bot_enabled,
        owner_phone=company.owner_phone(),
        settings=settings_of(company),
        inbox=_inbox(db, company.salon_id, timedelta(minutes=company.owner.staff_pause_min or staff_pause_min)),
        week=_week(db, company),
        sync=_sync(db, company.salon_id),
        notices=[n.model_dump(include={"kind", "text", "at", "state", "customer"}) for n in notices],
        channels=[{**link.public(), "qr": qr_data_url(link.link())} for link in bots.links(db, company.salon_id)],
    )
    data = view.to_firestore()
    data.pop("expires_at")
    return data


def refresh(db: firestore.Client, salon_id: int) -> int:
    """Rebuild the projection into every live view of the salon; returns how many were written."""
    snap = _pages(db, salon_id).get()
    views = live_views([ViewRef.model_validate(v) for v in (snap.to_dict() or {}).get("views", [])])
    company = repositories.get_company(db, salon_id)
    if not views or company is None:
        return 0
    data = build(db, company, get_settings().ai_staff_pause_min)
    batch = db.batch()
    for view in views:
        batch.set(db.collection(OWNER_VIEWS).document(view.id), {**data, "expires_at": view.expires_at})
    batch.commit()
    return len(views)

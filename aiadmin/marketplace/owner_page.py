"""The owner page's API: open the page, read a conversation, take it over or give it back to the bot, change
the settings. Every call carries the registration JWT of YCLIENTS's signed redirect; the salon is the JWT's and
nothing else, so no request can name another salon's data."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aiadmin.core import repositories
from aiadmin.core.errors import BadRequest, Conflict, NotFound
from aiadmin.core.logs import mask_phone
from aiadmin.core.models import (
    Company,
    Event,
    EventType,
    OwnerSettings,
    RegistrationClaims,
    ReminderSettings,
    normalize_phone,
    utcnow,
)
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.marketplace import onboarding, owner_view
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.marketplace.owner_page")

TAKEOVER = timedelta(days=30)  # «I'll answer» holds until «Вернуть боту» (or a month, whichever is first)
TRANSCRIPT = 50
_PHONE = re.compile(r"^\d{10,15}$")


class RemindersChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    day_before_hour: int | None = Field(default=None, ge=9, le=21)
    two_hour_lead_min: int | None = Field(default=None, ge=30, le=360)
    notices: bool | None = None


class SettingsChange(BaseModel):
    """`PUT /marketplace/owner/api/settings`: any subset; what is left out stays."""

    model_config = ConfigDict(extra="forbid")

    bot_enabled: bool | None = None
    staff_pause_min: int | None = Field(default=None, ge=5, le=24 * 60)
    welcome_text: str | None = Field(default=None, max_length=500)
    phone: str | None = None
    summary_hour: int | None = Field(default=None, ge=-1, le=23)  # -1: off
    reminders: RemindersChange | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return v
        digits = normalize_phone(v)
        if not digits or not _PHONE.match(digits):
            raise ValueError("a phone number of 10 to 15 digits, like +7 916 123-45-67")
        return digits


def _company(db: firestore.Client, claims: RegistrationClaims) -> Company:
    company = repositories.get_company(db, claims.salon_id)
    if company is None:
        raise NotFound("this salon is not registered", code="salon_not_found")
    return company


def open_page(db: firestore.Client, claims: RegistrationClaims, settings: Settings) -> dict[str, Any]:
    """The page's first call: its live views (WhatsApp status through onboarding's, the rest through its own)."""
    company = _company(db, claims)
    status_view = onboarding.view_of(claims, settings)
    session = onboarding.overview(db, claims, status_view)
    view = owner_view.view_for(settings.require("jwt_secret"), claims)
    owner_view.bind(db, company, view)
    owner_view.refresh(db, company.salon_id)
    return {**session, "owner_view_id": view.id}


def _conversation(db: firestore.Client, salon_id: int, phone: str) -> firestore.DocumentReference:
    if not _PHONE.match(phone):
        raise BadRequest("the conversation is named by the customer's phone digits", code="bad_phone")
    ref = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(salon_id, phone))
    if not ref.get().exists:
        raise NotFound("no conversation with this customer", code="conversation_not_found")
    return ref


def transcript(db: firestore.Client, claims: RegistrationClaims, phone: str) -> dict[str, Any]:
    ref = _conversation(db, claims.salon_id, phone)
    query = ref.collection("messages").order_by("stored_at", direction=firestore.Query.DESCENDING).limit(TRANSCRIPT)
    messages = [chat.ChatMessage.model_validate(s.to_dict()) for s in query.stream()]
    shown = [
        {
            "direction": m.direction,
            "text": m.text,
            "media": m.media,
            "undecryptable": m.undecryptable,
            "at": m.stored_at,
        }
        for m in reversed(messages)
    ]
    return {"success": True, "phone": phone, "messages": shown}


def take_over(db: firestore.Client, claims: RegistrationClaims, phone: str) -> dict[str, Any]:
    """«Я отвечу»: the bot keeps out of this chat until it is given back."""
    ref = _conversation(db, claims.salon_id, phone)
    now = utcnow()
    ref.set(
        {
            "taken_over_at": now,
            "paused_until": now + TAKEOVER,
            "waiting_since": firestore.DELETE_FIELD,
            "waiting_reason": firestore.DELETE_FIELD,
        },
        merge=True,
    )
    _event(db, claims.salon_id, "owner_took_over", phone)
    owner_view.refresh(db, claims.salon_id)
    return {"success": True, "phone": phone, "bot": "paused"}


def give_back(db: firestore.Client, claims: RegistrationClaims, phone: str) -> dict[str, Any]:
    """«Вернуть боту»: the bot answers this customer's next message (the staff pause ends with it)."""
    ref = _conversation(db, claims.salon_id, phone)
    ref.set(
        {
            "taken_over_at": firestore.DELETE_FIELD,
            "paused_until": firestore.DELETE_FIELD,
            "last_staff_message_at": firestore.DELETE_FIELD,
            "waiting_since": firestore.DELETE_FIELD,
            "waiting_reason": firestore.DELETE_FIELD,
        },
        merge=True,
    )
    _event(db, claims.salon_id, "owner_gave_back", phone)
    owner_view.refresh(db, claims.salon_id)
    return {"success": True, "phone": phone, "bot": "answering"}


class Reply(BaseModel):
    """`POST …/conversations/{phone}/reply`: the owner answers from the page. `id` (the page's, per message) makes
    a repeated click or a retried request one message."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096)
    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


def reply(
    db: firestore.Client, queue: TaskQueue, host_url: str, claims: RegistrationClaims, phone: str, body: Reply
) -> dict[str, Any]:
    """Sent by the salon's WhatsApp as a staff message: the bot keeps out of the chat for the staff pause, as when
    the staff answer from the phone, and nobody is waiting any more."""
    ref = _conversation(db, claims.salon_id, phone)
    company = _company(db, claims)
    if not company.whatsapp_connected:
        raise Conflict("the salon's WhatsApp is not connected", code="whatsapp_not_connected")
    text = body.text.strip()
    if not text:
        raise BadRequest("the message is empty", code="empty_message")
    key = f"owner-reply-{claims.salon_id}-{body.id}"
    request = SendRequest(key=key, salon_id=claims.salon_id, phone=phone, text=text, author="staff")
    chat.queue_send(queue, host_url, request)
    ref.set({"waiting_since": firestore.DELETE_FIELD, "waiting_reason": firestore.DELETE_FIELD}, merge=True)
    owner_view.refresh(db, claims.salon_id)
    return {"success": True, "phone": phone, "queued": True}


def change_settings(db: firestore.Client, claims: RegistrationClaims, change: SettingsChange) -> dict[str, Any]:
    company = _company(db, claims)
    owner = company.owner.model_dump()
    for name in ("bot_enabled", "staff_pause_min", "welcome_text", "phone", "summary_hour"):
        if name in change.model_fields_set:
            owner[name] = getattr(change, name)
    if owner.get("summary_hour") == -1:
        owner["summary_hour"] = None
    owner["phone"] = owner.get("phone") or None
    owner["welcome_text"] = (owner.get("welcome_text") or "").strip() or None
    reminders = company.reminders.model_dump()
    if change.reminders is not None:
        reminders.update(change.reminders.model_dump(exclude_unset=True))
    try:
        new_owner, new_reminders = OwnerSettings.model_validate(owner), ReminderSettings.model_validate(reminders)
    except ValueError as exc:
        raise BadRequest(f"invalid settings: {exc}", code="invalid_settings") from exc
    fields = {"owner": new_owner.to_firestore(), "reminders": new_reminders.to_firestore(), "updated_at": utcnow()}
    repositories.company_ref(db, claims.salon_id).set(fields, merge=True)
    _event(db, claims.salon_id, "owner_settings_changed", None, sorted(change.model_fields_set))
    owner_view.refresh(db, claims.salon_id)
    return {"success": True, "settings": {**new_owner.model_dump(), "reminders": new_reminders.model_dump()}}


def _event(
    db: firestore.Client, salon_id: int, kind: EventType, phone: str | None, fields: list[str] | None = None
) -> None:
    batch = db.batch()
    data: dict[str, Any] = {"customer": mask_phone(phone)} if phone else {}
    if fields is not None:
        data["fields"] = fields
    repositories.add_event(batch, db, Event(salon_id=salon_id, type=kind, data=data))
    batch.commit()
    log.info("owner page change", extra={"salon_id": salon_id, "change": kind})

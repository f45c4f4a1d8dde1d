"""The owner page's API: open the page, read a conversation, take it over or give it back to the bot, answer a
customer, change the settings. Every call carries the registration JWT of YCLIENTS's signed redirect; the salon is
the JWT's and nothing else, so no request can name another salon's data. And every call but asking for and
typing the owner's code needs the owner (`owner_access`): the installer's own link, or a code the owner got."""

from __future__ import annotations

import datetime as dt
import logging
import re
from datetime import timedelta
from typing import Any, Literal

from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aiadmin.channels import bots
from aiadmin.core import rate_limit, repositories
from aiadmin.core.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from aiadmin.core.logs import mask_phone, phone_ref
from aiadmin.core.models import (
    Company,
    Event,
    EventType,
    OwnerSettings,
    RegistrationClaims,
    ReminderSettings,
    RetentionSettings,
    normalize_phone,
    utcnow,
)
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.marketplace import onboarding, owner_access, owner_view
from aiadmin.marketplace.registration import registration_of
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.marketplace.owner_page")

OWNER_REPLIES = "owner_replies"  # per salon and day: the ids of the replies sent from the page
TAKEOVER = timedelta(days=30)  # «I'll answer» holds until «Вернуть боту» (or a month, whichever is first)
TRANSCRIPT = 50
_PHONE = re.compile(r"^\d{10,15}$")


class RemindersChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    day_before_hour: int | None = Field(default=None, ge=9, le=21)
    two_hour_lead_min: int | None = Field(default=None, ge=30, le=360)
    notices: bool | None = None


class ReviewsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    delay_min: int | None = Field(default=None, ge=15, le=24 * 60)
    link: str | None = Field(default=None, max_length=500)

    @field_validator("link")
    @classmethod
    def _link(cls, v: str | None) -> str | None:
        if v is not None and v.strip() and not re.match(r"^https://\S+$", v.strip()):
            raise ValueError("a link that starts with https://, like the salon's page on Yandex Maps or 2GIS")
        return v.strip() if v else v


class NoShowChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None


class RebookingChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    default_interval_days: int | None = Field(default=None, ge=7, le=365)
    per_service: dict[str, int] | None = None


class WaitlistChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None


class SettingsChange(BaseModel):
    """`PUT /marketplace/owner/api/settings`: any subset; what is left out stays."""

    model_config = ConfigDict(extra="forbid")

    bot_enabled: bool | None = None
    staff_pause_min: int | None = Field(default=None, ge=5, le=24 * 60)
    welcome_text: str | None = Field(default=None, max_length=500)
    phone: str | None = None
    phone_code: str | None = Field(default=None, max_length=12)  # the code sent to a new `phone` (phone-code)
    summary_hour: int | None = Field(default=None, ge=-1, le=23)  # -1: off
    reminders: RemindersChange | None = None
    reviews: ReviewsChange | None = None  # a rating asked after an attended visit
    no_show: NoShowChange | None = None  # a word offering to rebook after a missed visit
    rebooking: RebookingChange | None = None  # «пора на…» once a customer's usual interval has passed
    waitlist: WaitlistChange | None = None  # a taken time offers a place on the waitlist
    # The order the salon's own messages try a customer's channels in; [] restores the default.
    channel_order: list[Literal["whatsapp", "telegram", "max"]] | None = Field(default=None, max_length=3)

    @field_validator("channel_order")
    @classmethod
    def _order(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError('each channel once, like ["telegram", "whatsapp"]')
        return v

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


def _owners(db: firestore.Client, claims: RegistrationClaims) -> Company:
    """The salon, for a caller who is its owner (else 403 `owner_code_required`)."""
    company = _company(db, claims)
    owner_access.require_owner(db, claims, company)
    return company


def open_page(db: firestore.Client, claims: RegistrationClaims, settings: Settings) -> dict[str, Any]:
    """The page's first call: its live views (WhatsApp status through onboarding's, the rest through its own).
    Loads are limited per token: each rebuilds the whole projection."""
    verdict = rate_limit.hit(db, f"owner-page:{claims.jti}", settings.owner_page_loads_per_minute, 60)
    if not verdict.allowed:
        raise TooManyRequests("the page was opened too often; wait a minute", retry_after_s=verdict.retry_after_s)
    company = _owners(db, claims)
    status_view = onboarding.view_of(claims, settings)
    session = onboarding.overview(db, claims, status_view)
    view = owner_view.view_for(settings.require("jwt_secret"), claims)
    owner_view.bind(db, company, view)
    owner_view.refresh(db, company.salon_id)
    return {**session, "owner_view_id": view.id}


def _conversation(db: firestore.Client, salon_id: int, phone: str) -> firestore.DocumentReference:
    if not chat.CHAT.match(phone):
        raise BadRequest(
            "the conversation is named by the customer's phone digits (or lid:…, tg:…, max:…)", code="bad_phone"
        )
    ref = chat.conversation_ref(db, salon_id, phone)
    if not ref.get().exists:
        raise NotFound("no conversation with this customer", code="conversation_not_found")
    return ref


def transcript(db: firestore.Client, claims: RegistrationClaims, phone: str) -> dict[str, Any]:
    _owners(db, claims)
    ref = _conversation(db, claims.salon_id, phone)
    query = ref.collection("messages").order_by("stored_at", direction=firestore.Query.DESCENDING).limit(TRANSCRIPT)
    messages = [chat.ChatMessage.model_validate(s.to_dict()) for s in query.stream()]
    shown = [
        {
            "direction": m.direction,
            "text": m.text,
            "media": m.media,
            "audio_seconds": m.audio_seconds,
            "transcript": m.transcript,
            "undecryptable": m.undecryptable,
            "at": m.stored_at,
        }
        for m in reversed(messages)
    ]
    return {"success": True, "phone": phone, "messages": shown}


def take_over(db: firestore.Client, claims: RegistrationClaims, phone: str) -> dict[str, Any]:
    """«Я отвечу»: the bot keeps out of this chat until it is given back."""
    _owners(db, claims)
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
    _owners(db, claims)
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


class PhoneCodeRequest(BaseModel):
    """`POST …/phone-code {phone}`: send a code to a new owner number."""

    model_config = ConfigDict(extra="forbid")

    phone: str

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        digits = normalize_phone(v)
        if not digits or not _PHONE.match(digits):
            raise ValueError("a phone number of 10 to 15 digits, like +7 916 123-45-67")
        return digits


class AccessCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=12)


class Reply(BaseModel):
    """`POST …/conversations/{phone}/reply`: the owner answers from the page. `id` (the page's, per message) makes
    a repeated click or a retried request one message."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096)
    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


def _count_reply(db: firestore.Client, company: Company, reply_id: str, cap: int) -> None:
    """At most `cap` replies from the page a day per salon (salon-local day): a stolen session, or a slip, cannot
    write to every customer (phishing in the salon's name, and a WhatsApp ban). The same id counts once."""
    today = company.today()
    ref = db.collection(OWNER_REPLIES).document(f"{company.salon_id}_{today.isoformat()}")

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        snap = ref.get(transaction=tx)
        ids = list((snap.to_dict() or {}).get("ids", [])) if snap.exists else []
        if reply_id in ids:
            return True
        if len(ids) >= cap:
            return False
        tx.set(ref, {"salon_id": company.salon_id, "ids": [*ids, reply_id], "expire_at": utcnow() + timedelta(days=2)})
        return True

    if not run(db.transaction()):
        zone = company.zone()
        midnight = dt.datetime.combine(today + timedelta(days=1), dt.time(0), zone)
        wait = max(60, int((midnight - dt.datetime.now(zone)).total_seconds()))
        log.warning("owner replies capped for the day", extra={"salon_id": company.salon_id, "cap": cap})
        raise TooManyRequests(
            f"at most {cap} replies from the page a day; the rest can be written from the salon's phone",
            retry_after_s=wait,
            code="daily_reply_cap",
        )


def reply(
    db: firestore.Client,
    queue: TaskQueue,
    host_url: str,
    claims: RegistrationClaims,
    phone: str,
    body: Reply,
    daily_cap: int,
) -> dict[str, Any]:
    """Sent by the salon's WhatsApp (or its Telegram / MAX bot, for a customer writing there) as a staff message:
    the bot keeps out of the chat for the staff pause, as when the staff answer from the phone, and nobody is
    waiting any more."""
    company = _owners(db, claims)
    ref = _conversation(db, claims.salon_id, phone)
    channel = chat.channel_of(phone)
    if channel == "whatsapp" and not company.whatsapp_connected:
        raise Conflict("the salon's WhatsApp is not connected", code="whatsapp_not_connected")
    if channel != "whatsapp" and bots.get_link(db, claims.salon_id, channel) is None:
        raise Conflict(f"the salon's {channel} bot is not connected", code="bot_not_connected")
    text = body.text.strip()
    if not text:
        raise BadRequest("the message is empty", code="empty_message")
    _count_reply(db, company, body.id, daily_cap)
    key = f"owner-reply-{claims.salon_id}-{body.id}"
    request = SendRequest(key=key, salon_id=claims.salon_id, phone=phone, text=text, author="staff")
    chat.queue_send(queue, host_url, request)
    ref.set({"waiting_since": firestore.DELETE_FIELD, "waiting_reason": firestore.DELETE_FIELD}, merge=True)
    owner_view.refresh(db, claims.salon_id)
    return {"success": True, "phone": phone, "queued": True}


def send_access_code(
    db: firestore.Client, queue: TaskQueue, host_url: str, settings: Settings, claims: RegistrationClaims
) -> dict[str, Any]:
    """«Отправить код»: a code to the owner's number, for a caller who is not the installer."""
    company = _company(db, claims)
    if owner_access.is_owner(db, claims, company):
        return {"success": True, "owner": True}
    to = owner_access.access_code_to(db, company) or company.owner_phone()
    by = _requester(db, claims)
    sent = owner_access.send_code(db, queue, host_url, _secret(settings), claims, company, "access", to, by)
    return {"success": True, "owner": False, "to": owner_access.shown_to(sent.to), "expires_at": sent.expires_at}


def verify_access_code(db: firestore.Client, settings: Settings, claims: RegistrationClaims, code: str) -> dict:
    company = _company(db, claims)
    owner_access.verify_code(db, _secret(settings), claims, "access", code.strip())
    owner_access.grant(db, claims, company)
    log.info("owner code accepted", extra={"salon_id": company.salon_id})
    return {"success": True, "owner": True}


def send_phone_code(
    db: firestore.Client,
    queue: TaskQueue,
    host_url: str,
    settings: Settings,
    claims: RegistrationClaims,
    body: PhoneCodeRequest,
) -> dict[str, Any]:
    """A code to a new owner number, which must reach it before notices go there."""
    company = _owners(db, claims)
    sent = owner_access.send_code(db, queue, host_url, _secret(settings), claims, company, "owner_phone", body.phone)
    return {"success": True, "to": mask_phone(sent.to), "expires_at": sent.expires_at}


def _secret(settings: Settings) -> str:
    return settings.require("jwt_secret")


def _requester(db: firestore.Client, claims: RegistrationClaims) -> str | None:
    registration = registration_of(db, claims.jti)
    return registration.user.name if registration and registration.user.name else None


def change_settings(
    db: firestore.Client,
    queue: TaskQueue,
    host_url: str | None,
    settings: Settings,
    claims: RegistrationClaims,
    change: SettingsChange,
) -> dict[str, Any]:
    """Any subset of the settings. A new owner number needs the code sent to it (`phone_code`); the number that
    received notices until now is told of the change."""
    company = _owners(db, claims)
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
    retention = company.retention.model_dump()
    if change.reviews is not None:
        retention["reviews"].update(change.reviews.model_dump(exclude_unset=True))
        retention["reviews"]["link"] = retention["reviews"].get("link") or None
    if change.no_show is not None:
        retention["no_show"].update(change.no_show.model_dump(exclude_unset=True))
    if change.rebooking is not None:
        retention["rebooking"].update(change.rebooking.model_dump(exclude_unset=True))
    if change.waitlist is not None:
        retention["waitlist"].update(change.waitlist.model_dump(exclude_unset=True))
    try:
        new_owner, new_reminders = OwnerSettings.model_validate(owner), ReminderSettings.model_validate(reminders)
        new_retention = RetentionSettings.model_validate(retention)
    except ValueError as exc:
        raise BadRequest(f"invalid settings: {exc}", code="invalid_settings") from exc
    before = company.owner_phone()
    after = company.model_copy(update={"owner": new_owner}).owner_phone()
    if new_owner.phone and after != before:
        if not change.phone_code:
            raise Forbidden(
                "a new owner number needs the code sent to it (phone-code) first",
                code="phone_code_required",
                details={"phone": mask_phone(new_owner.phone)},
            )
        proved = owner_access.verify_code(db, _secret(settings), claims, "owner_phone", change.phone_code.strip())
        if proved.to != new_owner.phone:
            raise Forbidden("the code was sent to another number", code="phone_code_mismatch")
    fields = {
        "owner": new_owner.to_firestore(),
        "reminders": new_reminders.to_firestore(),
        "retention": new_retention.to_firestore(),
        "updated_at": utcnow(),
    }
    order = company.channel_order if change.channel_order is None else change.channel_order
    fields["channel_order"] = list(order)
    repositories.company_ref(db, claims.salon_id).set(fields, merge=True)
    _event(db, claims.salon_id, "owner_settings_changed", None, sorted(change.model_fields_set - {"phone_code"}))
    if after != before:
        _tell_old_number(db, queue, host_url, company, before, after)
    owner_view.refresh(db, claims.salon_id)
    shown = {
        **new_owner.model_dump(),
        "reminders": new_reminders.model_dump(),
        "channel_order": list(order),
        **new_retention.model_dump(include={"reviews", "no_show", "rebooking", "waitlist"}),
    }
    return {"success": True, "settings": shown}


def _tell_old_number(
    db: firestore.Client,
    queue: TaskQueue,
    host_url: str | None,
    company: Company,
    before: str | None,
    after: str | None,
) -> None:
    batch = db.batch()
    data = {"from": mask_phone(before), "to": mask_phone(after)}
    repositories.add_event(batch, db, Event(salon_id=company.salon_id, type="owner_phone_changed", data=data))
    batch.commit()
    if not (before and host_url and company.whatsapp_connected):
        return
    text = (
        f"Уведомления AI Admin салона «{company.title}» теперь приходят на номер {_shown(after)}. "
        "Если это сделали не вы, откройте AI Admin из YCLIENTS и верните свой номер."
    )
    key = f"owner-phone-changed-{company.salon_id}-{phone_ref(before)}-{utcnow():%Y%m%d%H%M%S}"
    chat.queue_send(queue, host_url, SendRequest(key=key, salon_id=company.salon_id, phone=before, text=text))


def _shown(phone: str | None) -> str:
    masked = mask_phone(phone) or "номер салона"
    return f"+{masked}" if phone else masked


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

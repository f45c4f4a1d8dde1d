"""Pydantic models of every Firestore document and every payload the backbone reads or writes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aiadmin.core.integration_status import IntegrationStatus

# A YCLIENTS salon id as we accept it from outside: positive and exact in JavaScript (the page shows it) and in
# Firestore's 64-bit integers. YCLIENTS's ids are far below.
MAX_SALON_ID = 2**53 - 1
SalonId = Annotated[int, Field(gt=0, le=MAX_SALON_ID)]
_ID_TEXT = re.compile(r"^[0-9]{1,16}$")  # ASCII digits: str.isdigit() takes '٣' and '²' too


def salon_id_from_text(text: str) -> int | None:
    """A salon id from a URL or query parameter, or None when it is not one."""
    return int(text) if _ID_TEXT.match(text) and 0 < int(text) <= MAX_SALON_ID else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def session_id_for(salon_id: int) -> str:
    """One WhatsApp session per salon; the id format is the old system's (`company_962302`)."""
    return f"company_{salon_id}"


def salon_id_from_session(session_id: str) -> int:
    prefix, _, number = session_id.partition("_")
    if prefix != "company" or not number.isdigit():
        raise ValueError(f"not a session id: {session_id!r}")
    return int(number)


class Document(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def to_firestore(self) -> dict[str, Any]:
        return self.model_dump(mode="python", exclude_none=False)


# --- Firestore documents -------------------------------------------------------------------------------


def normalize_phone(value: Any) -> str | None:
    """79161234567 / "+7 (916) 123-45-67" / "89161234567" -> "79161234567"; None when there are no digits."""
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]  # a Russian trunk prefix in a salon's own records
    return digits or None


class MarketplaceUser(Document):
    """The YCLIENTS user who clicked Connect (from the signed user_data, or legacy query parameters)."""

    id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    is_approved: bool | None = None
    salon_name: str | None = None

    @field_validator("id", "phone", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        return None if v in (None, "") else str(v)


class Installer(Document):
    """`companies/{id}.installer`: the YCLIENTS user whose signed link completed the activation of this install,
    recorded once per install. A later link signed for the same user opens the owner page without a code."""

    user_id: str | None = None
    name: str | None = None
    phone: str | None = None
    at: datetime = Field(default_factory=utcnow)


DEFAULT_ZONE = "Europe/Moscow"


class ReminderSettings(Document):
    """`companies/{id}.reminders`: on by default; a salon that uses YCLIENTS's own SMS reminders switches ours off."""

    enabled: bool = True
    day_before_hour: int = Field(default=19, ge=9, le=21)  # salon-local
    two_hour_lead_min: int = Field(default=120, ge=30, le=360)
    notices: bool = True  # tell the customer about bookings the salon made, moved or cancelled


class ReviewSettings(Document):
    """`companies/{id}.retention.reviews`: a rating asked after an attended visit (on by default)."""

    enabled: bool = True
    delay_min: int = Field(default=120, ge=15, le=24 * 60)  # after the visit's end
    link: str | None = Field(default=None, max_length=500, pattern=r"^https://\S+$")  # Yandex Maps, 2GIS, Google


class NoShowSettings(Document):
    """`companies/{id}.retention.no_show`: a word offering to rebook after a missed visit (off by default)."""

    enabled: bool = False


class RebookingSettings(Document):
    """`companies/{id}.retention.rebooking`: «пора на стрижку» once a customer's usual interval has passed (off by
    default: a message nobody asked for is the owner's choice)."""

    enabled: bool = False
    default_interval_days: int = Field(default=28, ge=7, le=365)
    per_service: dict[str, int] = Field(default_factory=dict)  # service id -> days, where the owner set one

    @field_validator("per_service")
    @classmethod
    def _days(cls, v: dict[str, int]) -> dict[str, int]:
        if len(v) > 200 or any(not k.isdigit() or not 7 <= d <= 365 for k, d in v.items()):
            raise ValueError("service ids to 7–365 days, at most 200")
        return v


class WaitlistSettings(Document):
    """`companies/{id}.retention.waitlist`: a taken time offers a place on the waitlist (on: the customer asks)."""

    enabled: bool = True


class RetentionSettings(Document):
    """`companies/{id}.retention`: the messages the salon sends first to bring customers back, and their limits."""

    reviews: ReviewSettings = Field(default_factory=ReviewSettings)
    no_show: NoShowSettings = Field(default_factory=NoShowSettings)
    rebooking: RebookingSettings = Field(default_factory=RebookingSettings)
    waitlist: WaitlistSettings = Field(default_factory=WaitlistSettings)
    quiet_from_hour: int = Field(default=21, ge=12, le=23)  # salon-local: nothing of this kind from then…
    quiet_until_hour: int = Field(default=9, ge=5, le=12)  # …until then; what falls between waits for the morning
    daily_cap: int = Field(default=100, ge=1, le=1000)  # such messages a salon sends a day at most

    @model_validator(mode="after")
    def _hours(self) -> RetentionSettings:
        if self.quiet_until_hour >= self.quiet_from_hour:
            raise ValueError("the hours for such messages must open before they close")
        return self


class OwnerSettings(Document):
    """`companies/{id}.owner`: what the owner steers from the owner page."""

    bot_enabled: bool = True  # off: the bot answers nobody; messages still reach the inbox
    staff_pause_min: int | None = Field(default=None, ge=5, le=24 * 60)  # None: AI_STAFF_PAUSE_MIN
    welcome_text: str | None = Field(default=None, max_length=500)  # the bot's greeting to a customer
    phone: str | None = Field(default=None, pattern=r"^\d{10,15}$")  # the owner's number; None: the installer's
    summary_hour: int | None = Field(default=None, ge=0, le=23)  # salon-local hour of the daily summary; None: off


class Company(Document):
    """`companies/{salon_id}`. Written with merge, so fields owned by other services (the session host) stay."""

    salon_id: int
    title: str
    timezone: str = DEFAULT_ZONE
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    city: str | None = None
    integration_status: IntegrationStatus = IntegrationStatus.PENDING_WHATSAPP
    installer: Installer | None = None
    # Written by registrations of an older release only (every redirect overwrote it); read as the installer of a
    # salon activated before installers were recorded.
    marketplace_user: MarketplaceUser | None = None
    # Salons registered together by one multi-branch install; the first one is onboarded.
    registration_group: list[int] = Field(default_factory=list)
    registered_at: datetime | None = None
    whatsapp_connected: bool = False
    whatsapp_phone: str | None = None
    whatsapp_connected_at: datetime | None = None
    api_key: str | None = None
    api_key_created_at: datetime | None = None
    webhook_nonce: str | None = None  # in the data-webhook URL's token: one per install, cleared on uninstall
    activation_id: str | None = None  # one per activation attempt; names the post-activation task
    activation_started_at: datetime | None = None
    activated_at: datetime | None = None
    activation_error: str | None = None
    last_payment_date: datetime | None = None
    frozen_from: IntegrationStatus | None = None  # the status a payment returns a frozen salon to
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    reminders_refused: int = 0  # reminders WhatsApp refused (error 463: the customer never wrote to this number)
    owner: OwnerSettings = Field(default_factory=OwnerSettings)
    # The order the salon's own messages (reminders, notices) try the customer's channels in; empty: Telegram,
    # MAX, WhatsApp (aiadmin.channels.contacts), always after the channel the customer last wrote on.
    channel_order: list[Literal["whatsapp", "telegram", "max"]] = Field(default_factory=list, max_length=3)
    # The owner's own chat with the salon's Telegram or MAX bot (`tg:…`), bound by a one-time start link from the
    # owner page: owner notices go there first, and on to WhatsApp if it refuses.
    owner_bot_chat: str | None = None
    owner_page_until: datetime | None = None  # an owner page is open until then: its view is kept up to date
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def zone(self) -> ZoneInfo:
        """The salon's time zone (YCLIENTS's `timezone_name`); Moscow when unknown or unreadable."""
        try:
            return ZoneInfo(self.timezone or DEFAULT_ZONE)
        except (KeyError, ValueError):
            return ZoneInfo(DEFAULT_ZONE)

    def today(self) -> date:
        return datetime.now(self.zone()).date()

    def trusted_installer(self) -> Installer | None:
        """The installer, for where notices go; for a salon activated before installers were recorded, the last
        signed user of a redirect (never an owner without a code: `owner_access.is_installer`)."""
        if self.installer is not None:
            return self.installer
        if self.marketplace_user is not None and self.activated_at is not None:
            user = self.marketplace_user
            return Installer(user_id=user.id, name=user.name, phone=user.phone, at=self.activated_at)
        return None

    def owner_phone(self) -> str | None:
        """Where owner notices and owner codes go: the number set (and proved) on the owner page, else the
        installer's (from the signed link that completed the activation), else the salon's own WhatsApp (a
        message to yourself). No redirect changes it."""
        installer = self.trusted_installer()
        phone = normalize_phone(installer.phone) if installer else None
        return self.owner.phone or (phone if phone and len(phone) >= 10 else None) or self.whatsapp_phone


EventType = Literal[
    "registration_started",
    "registration_failed",
    "status_changed",
    "whatsapp_connected",
    "activation_started",
    "integration_activated",
    "integration_failed",
    "uninstalled",
    "frozen",
    "payment_received",
    "post_activation_received",
    "whatsapp_logged_out",
    "whatsapp_client_outdated",
    "whatsapp_failed",
    "whatsapp_down",  # dropped for longer than the alert threshold; still reconnecting
    "whatsapp_recovered",
    "whatsapp_temporarily_banned",
    "setup_failed",
    "owner_took_over",  # the owner page's «Я отвечу»
    "owner_gave_back",  # …and «Вернуть боту»
    "owner_settings_changed",
    "owner_code_sent",  # a one-time code to prove the owner (or a new owner number) was sent
    "owner_code_verified",
    "owner_code_locked",  # five wrong codes: that link may not try again for a while
    "owner_phone_changed",
]


class Event(Document):
    """`companies/{salon_id}/events/{id}`: one per transition or marketplace happening."""

    salon_id: int
    type: EventType
    data: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)


ReceiptState = Literal["received", "processed", "ignored", "rejected"]
ReceiptKind = Literal["lifecycle", "data"]


class WebhookReceipt(Document):
    """`webhook_receipts/{key}`: the raw webhook, stored before we answer; the task works from it."""

    key: str
    kind: ReceiptKind
    salon_id: int
    body: dict[str, Any]
    state: ReceiptState = "received"
    outcome: str | None = None
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None
    deliveries: int = 1
    expire_at: datetime | None = None  # Firestore TTL policy field


class ViewRef(Document):
    """An onboarding page's capability to read the projection of a session status (`onboarding_views/{id}`)."""

    id: str
    expires_at: datetime


class WaCommand(Document):
    """`wa_commands/{id}`: what functions and the backbone ask of the session host. The host listens to the
    pending ones; only our service accounts can write here (browser rules deny everything)."""

    session_id: str
    salon_id: int
    # watch: a page opened for the session; feed its view from now on (no change to the session itself)
    command: Literal["start_qr", "start_pairing", "stop", "pause", "resume", "watch"]
    reason: str
    phone_number: str | None = None  # start_pairing only
    view: ViewRef | None = None  # start_*: the page that asked, to be fed the status from now on
    state: Literal["pending", "done"] = "pending"
    result: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    expire_at: datetime = Field(default_factory=lambda data: data["created_at"] + timedelta(days=2))  # TTL


class PostActivationRun(Document):
    """`post_activation/{salon_id}`: what the post-activation task has done for this activation."""

    salon_id: int
    activation_id: str
    state: Literal["received", "done"] = "received"
    task_name: str | None = None
    received_at: datetime = Field(default_factory=utcnow)
    note: str | None = None


# --- HTTP payloads --------------------------------------------------------------------------------------


class LinkRequest(BaseModel):
    """`POST /marketplace/api/qr` (body optional)."""

    model_config = ConfigDict(extra="ignore")
    # An active salon's owner confirmed on the page that the salon's WhatsApp link is to be replaced.
    confirm_relink: bool = False


class PairingRequest(LinkRequest):
    phone_number: str


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    token: str = Field(min_length=1)


class LifecycleWebhook(BaseModel):
    """YCLIENTS → Callback URL: `{salon_id, application_id, event: uninstall|freeze, partner_token}`."""

    model_config = ConfigDict(extra="allow")

    salon_id: SalonId
    application_id: int | str
    event: str = Field(min_length=1, max_length=64)
    partner_token: str

    @model_validator(mode="before")
    @classmethod
    def _event_type_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "event" not in data and "event_type" in data:
            return {**data, "event": data["event_type"]}
        return data


class DataWebhook(BaseModel):
    """YCLIENTS → per-salon URL: `{company_id, resource, resource_id, status, data}`."""

    model_config = ConfigDict(extra="allow")

    company_id: SalonId
    resource: str = Field(min_length=1)
    resource_id: int | str
    status: Literal["create", "update", "delete"]
    data: dict[str, Any] | list[Any] | None = None


class WebhookTask(BaseModel):
    receipt_key: str


class DataBatchTask(BaseModel):
    salon_id: SalonId
    window: int


class PostActivationTask(BaseModel):
    salon_id: SalonId
    activation_id: str


class RegistrationClaims(BaseModel):
    """Claims of the onboarding JWT issued by the registration redirect."""

    model_config = ConfigDict(extra="ignore")

    sub: str
    salon_id: SalonId
    type: Literal["marketplace_registration"]
    jti: str
    iat: int
    exp: int
    branches: list[SalonId] = Field(default_factory=list)
    uid: str | None = None  # the YCLIENTS user id of the signed link (None: an unsigned local link)

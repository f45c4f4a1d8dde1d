"""A salon's WhatsApp session as the owner sees it: a closed set of states with stable codes and Russian
messages, written by the session host to `wa_sessions/{session_id}` (watched by the onboarding page).
Nothing secret goes into that document: no credentials, no tokens, the phone masked. Browsers never read it:
they read a projection of it, `onboarding_views/{id}` (see `aiadmin.whatsapp.onboarding_view`)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from aiadmin.core.errors import BadRequest
from aiadmin.core.models import Document, ViewRef, utcnow

WA_SESSIONS = "wa_sessions"


class SessionState(StrEnum):
    STARTING = "starting"
    QR = "qr"
    PAIRING_CODE = "pairing_code"
    EXPIRED = "expired"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    LOGGED_OUT = "logged_out"
    CLIENT_OUTDATED = "client_outdated"
    TEMPORARILY_BANNED = "temporarily_banned"
    STOPPED = "stopped"
    PAUSED = "paused"
    FAILED = "failed"


MESSAGES: dict[SessionState, str] = {
    SessionState.STARTING: "Подключаемся к WhatsApp…",
    SessionState.QR: "Откройте WhatsApp на телефоне салона → Связанные устройства → Привязка устройства "
    "и отсканируйте QR-код.",
    SessionState.PAIRING_CODE: "Откройте WhatsApp на телефоне салона → Связанные устройства → Привязка "
    "устройства → Привязать по номеру телефона и введите код.",
    SessionState.EXPIRED: "Время на привязку истекло. Запросите новый QR-код или код привязки.",
    SessionState.CONNECTED: "WhatsApp подключён.",
    SessionState.RECONNECTING: "Связь с WhatsApp прервалась, переподключаемся…",
    SessionState.LOGGED_OUT: "WhatsApp салона отвязал AI Admin (устройство удалено на телефоне). Чтобы бот снова "
    "отвечал клиентам, откройте AI Admin в YCLIENTS и подключите WhatsApp заново.",
    SessionState.CLIENT_OUTDATED: "WhatsApp отклонил подключение: версия клиента устарела. Мы уже знаем об этом "
    "и обновляем его — попробуйте подключиться позже.",
    SessionState.TEMPORARILY_BANNED: "WhatsApp временно ограничил номер салона. Привязывать заново не нужно: "
    "когда ограничение снимется, бот продолжит работу сам.",
    SessionState.STOPPED: "Бот остановлен: приложение отключено в YCLIENTS.",
    SessionState.PAUSED: "Бот приостановлен: подписка AI Admin в YCLIENTS заморожена. После оплаты бот снова "
    "заработает сам — подключать WhatsApp заново не нужно.",
    SessionState.FAILED: "Не удалось подключиться к WhatsApp. Попробуйте ещё раз через минуту.",
}

MAX_VIEWS = 4  # pages (tabs, reloads with a new registration) fed at once; the oldest drops out


def live_views(*groups: list[ViewRef], now: datetime | None = None) -> list[ViewRef]:
    """Unexpired views, newest binding last, without repeats, at most MAX_VIEWS."""
    now = now or utcnow()
    seen: dict[str, ViewRef] = {}
    for group in groups:
        for view in group:
            if view.expires_at > now:
                seen.pop(view.id, None)
                seen[view.id] = view
    return list(seen.values())[-MAX_VIEWS:]


# States in which the salon's link exists and the host must keep (or restore) the socket.
LINKED = frozenset({SessionState.CONNECTED, SessionState.RECONNECTING})


class SessionStatus(Document):
    """`wa_sessions/{session_id}`."""

    session_id: str
    salon_id: int
    state: SessionState
    message: str
    mode: Literal["qr", "pairing"] | None = None
    qr: str | None = None  # PNG data URL
    qr_expires_at: datetime | None = None
    pairing_code: str | None = None  # XXXX-XXXX
    pairing_expires_at: datetime | None = None
    phone_masked: str | None = None
    name: str | None = None
    banned_until: datetime | None = None  # temporarily_banned: when WhatsApp lifts it and the bot resumes
    views: list[ViewRef] = Field(default_factory=list)  # private: which pages to feed (see onboarding_view)
    updated_at: datetime = Field(default_factory=utcnow)

    def same_as(self, other: SessionStatus | None) -> bool:
        """Equal in everything the page shows (updated_at aside): then nothing needs writing."""
        return other is not None and self.model_dump(exclude={"updated_at"}) == other.model_dump(exclude={"updated_at"})


def status_for(session_id: str, salon_id: int, state: SessionState, **fields: Any) -> SessionStatus:
    fields.setdefault("message", MESSAGES[state])
    return SessionStatus(session_id=session_id, salon_id=salon_id, state=state, **fields)


_PHONE = re.compile(r"^[1-9]\d{9,14}$")


def normalize_pairing_phone(raw: str) -> str:
    """Digits only with the country code, 10–15 digits: what WhatsApp's phone pairing takes.
    '+7 (916) 123-45-67' -> '79161234567'. A Russian 8XXXXXXXXXX is NOT silently rewritten: 8 is a valid prefix
    elsewhere, so the owner is asked for the international form instead."""
    if not isinstance(raw, str):
        raise BadRequest("phone_number must be a string", code="bad_phone")
    digits = re.sub(r"[\s()+\-.]", "", raw.strip())
    if not _PHONE.match(digits):
        raise BadRequest(
            "phone_number must be the full international number, 10–15 digits with the country code "
            "(for example 79161234567)",
            code="bad_phone",
        )
    return digits


def format_pairing_code(code: str) -> str:
    clean = re.sub(r"[^0-9A-Za-z]", "", code).upper()
    return f"{clean[:4]}-{clean[4:8]}" if len(clean) == 8 else clean

"""Who may act as a salon's owner: read its customers' chats, answer them, steer the bot, relink its WhatsApp.

A registration token proves only that YCLIENTS signed a link for some user of the salon (and, where YCLIENTS does
not show the salon's accounts, only that a salon of that title signed it). So the owner page asks for more:
- the installer: a link signed for the YCLIENTS user who completed the activation opens the page (trust on first
  use, `Company.installer`);
- anyone else: a one-time code, sent by the salon's own WhatsApp to the owner's number (6 digits, 10 minutes,
  5 tries, then that link is locked for 15 minutes; at most one code a minute per link and 5 an hour per salon).
  The right code grants that token (`owner_grants/{jti}`, until the token ends). With no WhatsApp to carry a code,
  nothing is readable: the owner must open AI Admin themselves.
The same codes prove a new owner number (sent to that number) before notices go there."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from google.cloud import firestore

from aiadmin.channels import bots
from aiadmin.core import rate_limit, repositories
from aiadmin.core.errors import BadRequest, Conflict, Forbidden, Gone, TooManyRequests
from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Company, Document, Event, RegistrationClaims, utcnow
from aiadmin.core.task_queue import TaskQueue
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import SendRequest

log = logging.getLogger("aiadmin.marketplace.owner_access")

OWNER_CODES = "owner_codes"
OWNER_GRANTS = "owner_grants"
CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
LOCKED_FOR = timedelta(minutes=15)
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_SALON_HOUR = 5
CODES_PER_USER_HOUR = 3  # so one account cannot use up the salon's codes
WRONG_PER_SALON_DAY = (
    20  # wrong codes a salon takes in a day, over all its links; then none is checked till the day ends
)

Purpose = Literal["access", "owner_phone"]

NO_CHANNEL = (
    "Код отправить некуда: WhatsApp салона не подключён. Попросите владельца салона открыть AI Admin из YCLIENTS."
)


class OwnerCode(Document):
    """`owner_codes/{jti}_{purpose}`: the one code a token may try now, kept as an HMAC, never in clear."""

    salon_id: int
    purpose: Purpose
    code_hash: str
    to: str  # the number it was sent to (for a new owner number: the number it proves)
    sends: int = 1
    sent_at: datetime
    expires_at: datetime
    tries: int = 0
    locked_until: datetime | None = None
    expire_at: datetime  # Firestore TTL


class OwnerGrant(Document):
    """`owner_grants/{jti}`: this token proved the owner's code; it acts as the owner until it ends."""

    salon_id: int
    granted_at: datetime
    expire_at: datetime  # the token's end; Firestore TTL


def _code_ref(db: firestore.Client, claims: RegistrationClaims, purpose: Purpose) -> firestore.DocumentReference:
    return db.collection(OWNER_CODES).document(f"{claims.jti}_{purpose}")


def _hash(secret: str, claims: RegistrationClaims, purpose: Purpose, code: str) -> str:
    message = f"owner-code:{claims.jti}:{purpose}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _token_end(claims: RegistrationClaims) -> datetime:
    return datetime.fromtimestamp(claims.exp, UTC)


def is_installer(claims: RegistrationClaims, company: Company) -> bool:
    """The recorded installer only: a salon activated before installers were recorded knows only the last
    redirect's user, whom any redirect could have set, so there everyone proves the owner with a code."""
    installer = company.installer
    return bool(claims.uid and installer and installer.user_id and installer.user_id == claims.uid)


def is_owner(db: firestore.Client, claims: RegistrationClaims, company: Company) -> bool:
    if is_installer(claims, company):
        return True
    grant = db.collection(OWNER_GRANTS).document(claims.jti).get()
    return grant.exists and grant.get("salon_id") == company.salon_id


def require_owner(db: firestore.Client, claims: RegistrationClaims, company: Company) -> None:
    if not is_owner(db, claims, company):
        to = access_code_to(db, company)
        raise Forbidden(
            "the owner's code is needed to open this salon's owner page",
            code="owner_code_required",
            details={"can_send": to is not None, "to": shown_to(to)},
        )


def access_code_to(db: firestore.Client, company: Company) -> str | None:
    """Where the owner's access codes go: the owner's own Telegram or MAX chat with the salon's bot (bound from
    the owner page, while that bot works), else their number through the salon's WhatsApp."""
    if company.owner_bot_chat:
        link = bots.get_link(db, company.salon_id, chat.channel_of(company.owner_bot_chat))
        if link is not None and link.owner_chat == company.owner_bot_chat and not link.broken:
            return company.owner_bot_chat
    return company.owner_phone() if company.whatsapp_connected else None


def shown_to(to: str | None) -> str | None:
    """Where a code went, as the page may say it: a masked number, or the messenger."""
    if to and not chat.knows_phone(to):
        return "Telegram" if chat.channel_of(to) == "telegram" else "MAX"
    return mask_phone(to)


_NAME_CHARS = re.compile(r"[^\w .\-]+")


def shown_name(name: str | None) -> str | None:
    """A YCLIENTS user's name as it may appear in a message from the salon's number: letters, spaces, dots and
    hyphens, at most 40 characters (the user chose it, so no links and no lines of its own)."""
    cleaned = " ".join(_NAME_CHARS.sub(" ", name or "").replace("_", " ").split())[:40].strip()
    return cleaned or None


def _text(company: Company, purpose: Purpose, code: str, by: str | None) -> str:
    who = f" Запросил(а): {shown_name(by)}." if shown_name(by) else ""
    if purpose == "access":
        return (
            f"Код для входа в AI Admin салона «{company.title}»: {code}. Действует 10 минут.{who}\n"
            "Сообщите код, только если сами даёте этому человеку доступ к переписке салона."
        )
    return (
        f"Код для подтверждения номера уведомлений AI Admin салона «{company.title}»: {code}. Действует 10 минут.{who}"
    )


@dataclass(frozen=True)
class Sent:
    to: str
    expires_at: datetime


def send_code(
    db: firestore.Client,
    queue: TaskQueue,
    host_url: str,
    secret: str,
    claims: RegistrationClaims,
    company: Company,
    purpose: Purpose,
    to: str | None,
    by: str | None = None,
) -> Sent:
    """A new code for this token and purpose, through the salon's WhatsApp to `to`. The tries of the previous
    code carry over (asking again does not reset them); a locked token gets none until the lock ends."""
    if not to or (chat.knows_phone(to) and not company.whatsapp_connected):
        raise Conflict(NO_CHANNEL, code="no_channel")
    ref = _code_ref(db, claims, purpose)
    now = utcnow()
    _may_send(_current(ref.get()), now)
    for key, limit, why in (
        (f"owner-code-user:{company.salon_id}:{claims.uid}", CODES_PER_USER_HOUR, "too many codes asked this hour"),
        (f"owner-code:{company.salon_id}", CODES_PER_SALON_HOUR, "too many codes for this salon this hour"),
    ):
        verdict = rate_limit.hit(db, key, limit, 3600, now)
        if not verdict.allowed:
            raise TooManyRequests(why, retry_after_s=verdict.retry_after_s, code="too_many_codes")
    code = f"{secrets.randbelow(10**6):06d}"

    @firestore.transactional
    def write(tx: firestore.Transaction) -> OwnerCode:
        previous = _current(ref.get(transaction=tx))
        _may_send(previous, now)  # a lock or a code set since the first look wins
        live = previous is not None and previous.expires_at > now
        record = OwnerCode(
            salon_id=company.salon_id,
            purpose=purpose,
            code_hash=_hash(secret, claims, purpose, code),
            to=to,
            sends=(previous.sends + 1) if previous else 1,
            sent_at=now,
            expires_at=now + CODE_TTL,
            tries=previous.tries if previous and live else 0,
            locked_until=previous.locked_until if previous else None,
            expire_at=max(_token_end(claims), now + CODE_TTL) + timedelta(days=1),
        )
        tx.set(ref, record.to_firestore())
        return record

    record = write(db.transaction())
    key = f"owner-code-{claims.jti}-{purpose}-{record.sends}"
    text = _text(company, purpose, code, by)
    phone = company.owner_phone() if company.whatsapp_connected else None
    backup = [phone] if phone and phone != to else []  # a bot chat that refuses (blocked): the owner's WhatsApp
    request = SendRequest(key=key, salon_id=company.salon_id, phone=to, text=text, private_text=True, fallbacks=backup)
    chat.queue_send(queue, host_url, request)
    _event(db, company.salon_id, "owner_code_sent", {"purpose": purpose, "to": shown_to(to), "user_id": claims.uid})
    log.info("owner code sent", extra={"salon_id": company.salon_id, "purpose": purpose, "to": shown_to(to)})
    return Sent(to, record.expires_at)


def _current(snap: firestore.DocumentSnapshot) -> OwnerCode | None:
    return OwnerCode.model_validate(snap.to_dict()) if snap.exists else None


def _may_send(previous: OwnerCode | None, now: datetime) -> None:
    if previous and previous.locked_until and previous.locked_until > now:
        raise _locked(previous.locked_until, now)
    if previous and previous.expires_at > now and now - previous.sent_at < RESEND_AFTER:
        wait = int((previous.sent_at + RESEND_AFTER - now).total_seconds()) + 1
        raise TooManyRequests("a code was sent less than a minute ago", retry_after_s=wait, code="code_sent_recently")


def _locked(until: datetime, now: datetime) -> TooManyRequests:
    return TooManyRequests(
        "five wrong codes: try again later",
        retry_after_s=max(1, int((until - now).total_seconds()) + 1),
        code="code_locked",
        details={"locked_until": until.isoformat()},
    )


def verify_code(
    db: firestore.Client, secret: str, claims: RegistrationClaims, purpose: Purpose, code: str
) -> OwnerCode:
    """The code this token was sent for `purpose`; a wrong one counts a try, the fifth locks the token."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise BadRequest("the code is 6 digits", code="bad_code")
    ref = _code_ref(db, claims, purpose)
    now = utcnow()
    wrong_today = f"owner-code-wrong:{claims.salon_id}"
    if rate_limit.count(db, wrong_today, 86400, now) >= WRONG_PER_SALON_DAY:
        log.warning("owner code locked after wrong tries", extra={"salon_id": claims.salon_id, "purpose": purpose})
        raise _locked(rate_limit.window_end(86400, now), now)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> tuple[str, OwnerCode | None]:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return "not_sent", None
        current = OwnerCode.model_validate(snap.to_dict())
        if current.locked_until and current.locked_until > now:
            return "locked", current
        if current.expires_at <= now:
            return "expired", current
        if hmac.compare_digest(current.code_hash, _hash(secret, claims, purpose, code)):
            tx.delete(ref)
            return "ok", current
        tries = current.tries + 1
        locked = now + LOCKED_FOR if tries >= MAX_TRIES else None
        tx.update(ref, {"tries": 0 if locked else tries, "locked_until": locked})
        return ("locked_now" if locked else "wrong"), current.model_copy(update={"tries": tries})

    outcome, current = run(db.transaction())
    if outcome == "ok" and current is not None:
        _event(db, current.salon_id, "owner_code_verified", {"purpose": purpose, "user_id": claims.uid})
        return current
    if outcome == "not_sent":
        raise BadRequest("no code was sent for this page: ask for one first", code="code_not_sent")
    assert current is not None
    if outcome == "expired":
        raise Gone("the code has expired: ask for a new one", code="code_expired")
    if outcome in ("wrong", "locked_now"):
        rate_limit.hit(db, wrong_today, WRONG_PER_SALON_DAY, 86400, now)
    if outcome == "locked_now":
        _event(db, current.salon_id, "owner_code_locked", {"purpose": purpose, "user_id": claims.uid})
        log.warning("owner code locked after wrong tries", extra={"salon_id": current.salon_id, "purpose": purpose})
        raise _locked(now + LOCKED_FOR, now)
    if outcome == "locked":
        assert current.locked_until is not None
        raise _locked(current.locked_until, now)
    raise Forbidden("wrong code", code="wrong_code", details={"tries_left": MAX_TRIES - current.tries})


def grant(db: firestore.Client, claims: RegistrationClaims, company: Company) -> None:
    record = OwnerGrant(salon_id=company.salon_id, granted_at=utcnow(), expire_at=_token_end(claims))
    db.collection(OWNER_GRANTS).document(claims.jti).set(record.to_firestore())


def _event(db: firestore.Client, salon_id: int, kind: str, data: dict) -> None:
    batch = db.batch()
    repositories.add_event(batch, db, Event(salon_id=salon_id, type=kind, data=data))  # type: ignore[arg-type]
    batch.commit()

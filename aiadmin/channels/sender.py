"""A Telegram or MAX message going out (the outbound queue's `channel_send_worker`): at most once per key, like a
WhatsApp send (`wa_outbox/{key}` is claimed before the call). A chat that refuses for good (the customer blocked
the bot; the salon removed it) passes the message down its cascade; an unknown outcome (a timeout after the request
left) is kept for a person, never resent; anything transient is retried by the queue and dead-lettered on its last
try."""

from __future__ import annotations

import logging

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from aiadmin.channels import bots
from aiadmin.channels.bot_api import BadToken, BotRefused, BotUnavailable, SendUnknown
from aiadmin.core.errors import ServiceUnavailable
from aiadmin.core.models import utcnow
from aiadmin.core.queues import OUTBOUND
from aiadmin.core.secret_box import SecretUnreadable
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import ChatMessage, DeadLetter, OutboxEntry, SendRequest

log = logging.getLogger("aiadmin.channels.sender")

IN_FLIGHT_S = 60.0


def _dead_letter(db: firestore.Client, req: SendRequest, reason: str, attempts: int, state: str) -> str:
    text = chat.PRIVATE_PLACEHOLDER if req.private_text else req.text
    batch = db.batch()
    letter = DeadLetter(
        key=req.key, salon_id=req.salon_id, phone=req.phone, text=text, reason=reason, attempts=attempts
    )
    batch.set(db.collection(chat.DEAD_LETTERS).document(req.key), letter.to_firestore())
    ended = OutboxEntry(key=req.key, salon_id=req.salon_id, phone=req.phone, state=state, error=reason)  # type: ignore[arg-type]
    batch.set(db.collection(chat.OUTBOX).document(req.key), ended.to_firestore())
    batch.commit()
    log.error(
        "send dead-lettered", extra={"salon_id": req.salon_id, "channel": chat.channel_of(req.phone), "reason": reason}
    )
    return "dead_letter"


def deliver(db: firestore.Client, queue: TaskQueue, settings: Settings, req: SendRequest, attempt: int = 0) -> str:
    """sent | duplicate | refused | fell_through | dead_letter; raises ServiceUnavailable to be retried."""
    channel = chat.channel_of(req.phone)
    ref = db.collection(chat.OUTBOX).document(req.key)
    snap = ref.get()
    if snap.exists:
        entry = OutboxEntry.model_validate(snap.to_dict())
        if entry.state != "sending":
            return "duplicate"
        if (utcnow() - entry.updated_at).total_seconds() < IN_FLIGHT_S:
            raise ServiceUnavailable("an attempt of this send is in flight", code="send_in_flight")
        return _dead_letter(db, req, "outcome unknown: an earlier attempt never finished", attempt + 1, "unknown")
    link = bots.get_link(db, req.salon_id, channel)
    if link is None:
        return refused(db, queue, settings, req, f"the salon's {channel} bot is not connected")
    try:
        api = bots.api_of(link, settings)
    except SecretUnreadable as exc:
        bots.mark_broken(db, link, f"the token cannot be read: {exc}")
        return refused(db, queue, settings, req, f"the salon's {channel} bot token cannot be read")
    try:
        ref.create(OutboxEntry(key=req.key, salon_id=req.salon_id, phone=req.phone).to_firestore())
    except AlreadyExists as exc:
        raise ServiceUnavailable("an attempt of this send is in flight", code="send_in_flight") from exc
    try:
        message_id = api.send(chat.bot_chat_id(req.phone), req.text, req.buttons, req.ask_contact)
    except (BotRefused, BadToken) as exc:
        if isinstance(exc, BadToken):  # revoked in @BotFather or the partner platform: nothing reaches anyone
            bots.mark_broken(db, link, f"the messenger no longer knows the token: {exc}")
        try:  # on to the next chat before this one is marked failed: a retry finds it unsent, not done
            outcome = refused(db, queue, settings, req, str(exc))
        except Exception:
            ref.delete()
            raise
        ref.update({"state": "failed", "error": str(exc)[:300], "updated_at": utcnow()})
        return outcome
    except SendUnknown as exc:
        return _dead_letter(db, req, f"outcome unknown: {exc}", attempt + 1, "unknown")
    except BotUnavailable as exc:
        ref.delete()
        if attempt + 1 >= OUTBOUND.max_attempts:
            return _dead_letter(db, req, str(exc), attempt + 1, "failed")
        raise ServiceUnavailable(f"{channel} did not take the message: {exc}", code="bot_api_down") from exc
    except Exception as exc:  # a bad request Telegram will never take (too long, malformed): not retried
        ref.update({"state": "failed", "error": f"{type(exc).__name__}: {exc}"[:300], "updated_at": utcnow()})
        return _dead_letter(db, req, f"{type(exc).__name__}: {exc}"[:300], attempt + 1, "failed")
    ref.update({"state": "sent", "message_id": message_id, "updated_at": utcnow()})
    text = chat.PRIVATE_PLACEHOLDER if req.private_text else req.text
    out = ChatMessage(
        message_id=f"{channel}-out-{message_id}",
        salon_id=req.salon_id,
        phone=req.phone,
        direction=req.author,
        text=text,
    )
    chat.store_message(db, out)
    log.info("bot message sent", extra={"salon_id": req.salon_id, "channel": channel, "key": req.key})
    return "sent"


def refused(db: firestore.Client, queue: TaskQueue, settings: Settings, req: SendRequest, error: str) -> str:
    """This chat will not take the message: the next chat of its cascade gets it, once; else it is recorded where
    the sender asked (a reminder) as refused."""
    if chat.fall_through(db, queue, settings.session_host_url, req, error):
        return "fell_through"
    if req.on_refused:
        db.document(req.on_refused).set({"state": "refused", "error": error[:300]}, merge=True)
    log.warning("bot message refused", extra={"salon_id": req.salon_id, "channel": chat.channel_of(req.phone)})
    return "refused"

"""Conversations: every message of a salon's WhatsApp chats, stored first (keyed by WhatsApp's message id, so a
redelivered message is one message), then handed to the AI turn as one Cloud Task."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Literal, get_args

from google.api_core import exceptions as gexc
from google.cloud import firestore
from pydantic import Field

from aiadmin.core.models import Document, utcnow
from aiadmin.core.queues import AI_TURNS, OUTBOUND
from aiadmin.core.settings import Settings, get_settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name

log = logging.getLogger("aiadmin.chat")

CONVERSATIONS = "conversations"
Direction = Literal["customer", "staff", "bot"]
Media = Literal["voice", "image", "video", "sticker", "document"]
MEDIA_KINDS: tuple[str, ...] = get_args(Media)


# A conversation idle this long is forgotten: Firestore TTL policies on `expire_at` delete the conversation
# (with the bot's memory of it) and each of its messages (web/firestore.indexes.json).
RETENTION = timedelta(days=30)


# A chat is named by the customer's phone digits (WhatsApp); for a customer WhatsApp shows only by their LID (a
# hidden number) by `lid:<digits>`; on the salon's Telegram or MAX bot by `tg:<chat id>` / `max:<user id>`. Only a
# phone chat knows the customer's number: the others are asked for it when the bot needs one (to book, move or
# cancel), answered where they wrote, and linked to the number once they give it (aiadmin.channels.contacts).
LID_CHAT = "lid:"
TELEGRAM_CHAT = "tg:"
MAX_CHAT = "max:"
CHAT = re.compile(r"^(\d{10,15}|lid:\d{1,24}|tg:\d{1,20}|max:\d{1,20})$")
Channel = Literal["whatsapp", "telegram", "max"]
CHANNELS: tuple[Channel, ...] = ("whatsapp", "telegram", "max")
_PREFIX: dict[str, Channel] = {TELEGRAM_CHAT: "telegram", MAX_CHAT: "max"}
CHAT_PREFIX: dict[Channel, str] = {"telegram": TELEGRAM_CHAT, "max": MAX_CHAT}
CONTACT_BUTTON = "📱 Отправить мой номер"  # the Telegram / MAX button that shares the customer's own number


def lid_chat(lid: str) -> str:
    return f"{LID_CHAT}{lid}"


def is_lid_chat(chat: str) -> bool:
    return chat.startswith(LID_CHAT)


def bot_chat(channel: Channel, chat_id: int | str) -> str:
    """The chat of a customer writing to the salon's Telegram or MAX bot."""
    return f"{CHAT_PREFIX[channel]}{chat_id}"


def channel_of(chat: str) -> Channel:
    return next((channel for prefix, channel in _PREFIX.items() if chat.startswith(prefix)), "whatsapp")


def bot_chat_id(chat: str) -> int:
    """The Telegram chat id or MAX user id a bot chat is named by."""
    return int(chat.split(":", 1)[1])


def knows_phone(chat: str) -> bool:
    """The chat is named by the customer's number (WhatsApp shows it): nothing to ask."""
    return chat.isdigit()


def shown(chat: str) -> str:
    """A chat as the owner reads it in a notice: +phone, that WhatsApp hides the number, or the messenger."""
    if is_lid_chat(chat):
        return "со скрытым номером"
    channel = channel_of(chat)
    return {"telegram": "в Telegram", "max": "в MAX"}[channel] if channel != "whatsapp" else f"+{chat}"


def conversation_id(salon_id: int, phone: str) -> str:
    return f"{salon_id}_{phone}"


def conversation_ref(db: firestore.Client, salon_id: int, chat: str) -> firestore.DocumentReference:
    """`conversations/{salon_id}_{chat}`: the one place the document of a conversation is named."""
    return db.collection(CONVERSATIONS).document(conversation_id(salon_id, chat))


# A booking made in a hidden-number chat: its reminders and notices go to that chat, not to the number typed
# there (which may be anyone's), and the answers to them arrive where the bot expects them.
BOOKING_CHATS = "booking_chats"
BOOKING_CHAT_KEEP = timedelta(days=120)


def remember_booking_chat(db: firestore.Client, salon_id: int, record_id: int, chat: str) -> None:
    doc = db.collection(BOOKING_CHATS).document(f"{salon_id}_{record_id}")
    doc.set({"salon_id": salon_id, "record_id": record_id, "chat": chat, "expire_at": utcnow() + BOOKING_CHAT_KEEP})


def booking_chat(db: firestore.Client, salon_id: int, record_id: int) -> str | None:
    """The chat a booking was made in, when that chat does not show the number it was booked at."""
    snap = db.collection(BOOKING_CHATS).document(f"{salon_id}_{record_id}").get()
    made_in = (snap.to_dict() or {}).get("chat") if snap.exists else None
    return str(made_in) if made_in else None


def chat_for_booking(db: firestore.Client, salon_id: int, record_id: int, phone: str) -> str:
    """Where to write about a booking: the chat it was made in if that chat hides its number, else its phone."""
    return booking_chat(db, salon_id, record_id) or phone


class ChatMessage(Document):
    """`conversations/{salon_id}_{phone}/messages/{whatsapp_message_id}`."""

    message_id: str
    salon_id: int
    phone: str  # the chat: the customer's phone digits, or `lid:<digits>` (see CHAT)
    direction: Direction
    text: str
    media: Media | None = None  # what came instead of (or with, as its caption) the text
    audio_seconds: int | None = None  # a voice note's length; its audio is kept aside (aiadmin.whatsapp.voice_notes)
    audio_pending: bool = False  # its sound is on its way from the host: the turn waits for it (AI_VOICE_WAIT_S)
    transcript: str | None = None  # what the model heard in a voice note, once a turn has heard it
    reaction_to: str | None = None  # a reaction (the emoji is the text) to this WhatsApp message of ours
    # A placeholder for a message WhatsApp could not decrypt: replaced by the readable copy if one comes; if
    # none comes within AI_UNREADABLE_WAIT_S the customer is asked to send it again.
    undecryptable: bool = False
    push_name: str | None = None
    # A number shared with the messenger's contact button: the sender's own (the messenger says whose it is).
    contact_phone: str | None = None
    sent_at: datetime | None = None  # the messenger's timestamp
    stored_at: datetime = Field(default_factory=utcnow)
    # queued -> answered (this message's turn replied), merged (a later message's turn answered it too),
    # skipped (no reply on purpose: salon inactive, staff in the chat, handed over); not_needed: not a customer's.
    turn: Literal["queued", "received", "answered", "merged", "skipped", "not_needed"] = "not_needed"
    expire_at: datetime = Field(default_factory=lambda data: data["stored_at"] + RETENTION)


class AiTurnTask(Document):
    salon_id: int
    phone: str
    message_id: str


def message_ref(db: firestore.Client, msg: ChatMessage) -> firestore.DocumentReference:
    conv = conversation_ref(db, msg.salon_id, msg.phone)
    return conv.collection("messages").document(msg.message_id)


def store_message(db: firestore.Client, msg: ChatMessage) -> bool:
    """Idempotent: False when this WhatsApp message id was stored already (redelivery, or our own echo)."""
    conv = conversation_ref(db, msg.salon_id, msg.phone)
    marker = {"customer": "last_customer_message_at", "staff": "last_staff_message_at", "bot": "last_bot_message_at"}
    batch = db.batch()  # the message and its conversation land together, or not at all
    batch.create(message_ref(db, msg), msg.to_firestore())
    summary = {
        "salon_id": msg.salon_id,
        "phone": msg.phone,
        marker[msg.direction]: msg.stored_at,
        "updated_at": msg.stored_at,
        "expire_at": msg.stored_at + RETENTION,
        # what the owner's inbox lists without reading the transcript
        "last_text": msg.text[:200] or (f"[{msg.media}]" if msg.media else ""),
        "last_direction": msg.direction,
    }
    if msg.direction == "customer" and msg.push_name:
        summary["name"] = msg.push_name
    if msg.direction == "staff":  # a person answered from the phone: nobody is waiting any more
        summary |= {"waiting_since": firestore.DELETE_FIELD, "waiting_reason": firestore.DELETE_FIELD}
    batch.set(conv, summary, merge=True)
    try:
        batch.commit()
    except gexc.Conflict:
        return False
    return True


def accept_inbound(db: firestore.Client, queue: TaskQueue, msg: ChatMessage, quiet_s: float | None = None) -> bool:
    """Store a message first, then (for a customer's) queue its AI turn. True when it was new.

    A customer message is stored as `turn: queued` before the task exists, so the task can never find it in an
    older state. If queueing fails it goes back to `not_needed`, and a redelivery queues it again (the task name
    makes a second queueing harmless)."""
    if msg.direction == "customer":
        msg = msg.model_copy(update={"turn": "queued"})
    new = store_message(db, msg)
    if msg.direction != "customer":
        return new
    if not new:
        if msg.undecryptable:
            return False  # this placeholder, or the readable copy itself, is stored already
        stored = message_ref(db, msg).get()
        if stored.exists and (stored.to_dict() or {}).get("undecryptable"):
            message_ref(db, msg).set(msg.to_firestore())  # the readable copy of a message we could not read
        elif stored.exists and stored.get("turn") != "not_needed":
            log.info("duplicate inbound message", extra={"salon_id": msg.salon_id, "message_id": msg.message_id})
            return False
        message_ref(db, msg).update({"turn": "queued"})
    unreadable = msg.undecryptable
    try:
        queue.enqueue(
            Task(
                queue=AI_TURNS.name,
                # an unreadable message gets its own, later turn: its readable copy, if it comes, has the usual one
                name=task_name("turn-unreadable" if unreadable else "turn", msg.salon_id, msg.message_id),
                function="ai_turn_worker",
                payload=AiTurnTask(salon_id=msg.salon_id, phone=msg.phone, message_id=msg.message_id).to_firestore(),
                # Waiting for a short quiet lets a burst of messages become one turn (see aiadmin.ai.turn).
                delay_s=_delay(msg, quiet_s),
            )
        )
    except Exception:
        message_ref(db, msg).update({"turn": "not_needed"})
        raise
    return new


def _delay(msg: ChatMessage, quiet_s: float | None) -> float:
    if msg.undecryptable:
        return get_settings().ai_unreadable_wait_s
    return quiet_for(msg.text, get_settings()) if quiet_s is None else quiet_s


def quiet_for(text: str, settings: Settings) -> float:
    """How long to wait for more before answering. A question is usually complete: a short wait still merges
    messages sent together; a fragment («Здравствуйте», «сколько стоит») waits the full burst window."""
    if text.rstrip().endswith("?"):
        return min(settings.ai_complete_quiet_s, settings.ai_burst_quiet_s)
    return settings.ai_burst_quiet_s


OUTBOX = "wa_outbox"
OUTBOX_RETENTION = timedelta(days=7)  # far past the last retry of a send: a key only needs to outlive those


class SendRequest(Document):
    """What the outbound queue delivers to the host's /send. `key` makes a retried send one message."""

    key: str = Field(min_length=1, max_length=300)
    salon_id: int
    phone: str
    text: str = Field(min_length=1, max_length=4096)
    # The bot answering a customer who just wrote: the first such reply skips the session's pacing (within a
    # cap), so a customer is not kept waiting behind other customers' replies.
    reply_to_customer: bool = False
    # A document to mark `refused` when WhatsApp refuses the message for good (a reminder to a customer who never
    # wrote to the salon's number: error 463); such a send is not retried.
    on_refused: str | None = None
    # Refused that way, it is sent again when the customer next writes, if that is before this time (a reminder
    # stays true until the visit and its «завтра» until midnight); None: never sent again.
    resend_until: datetime | None = None
    # Who is writing: the bot, or a person of the salon answering from the owner page (then it is a staff message,
    # and the bot keeps out of the chat as it does when the staff write from the phone).
    author: Literal["bot", "staff"] = "bot"
    # A one-time code: sent as it is, but kept in the transcript only as a placeholder.
    private_text: bool = False
    # Telegram and MAX: answer buttons under the message («1», «2», «3»), or the button sharing the customer's number.
    buttons: list[str] = Field(default_factory=list, max_length=6)
    ask_contact: bool = False
    # The cascade: where to try next, in order, if this chat refuses the message (a customer who blocked the bot,
    # or WhatsApp's 463); each is tried once (aiadmin.channels.cascade).
    fallbacks: list[str] = Field(default_factory=list, max_length=4)
    # Times the host put it back on the queue for later instead of answering 429 (a long pacing wait must not
    # use up the task's attempts); bounded.
    deferrals: int = Field(default=0, ge=0)


PRIVATE_PLACEHOLDER = "[одноразовый код AI Admin]"


class Reminded(Document):
    """`conversations/{id}.reminded`: the reminder last sent, so the customer's answer is read against it."""

    record_id: int
    kind: str
    at: datetime  # the appointment
    key: str  # the send's key: `wa_outbox/{key}.message_id` is the WhatsApp message a reaction points at
    sent_at: datetime = Field(default_factory=utcnow)


class OutboxEntry(Document):
    """`wa_outbox/{key}`."""

    key: str
    salon_id: int
    phone: str
    # unknown: handed to WhatsApp with no answer (a timeout, a crash): maybe delivered, never resent blindly
    state: Literal["sending", "sent", "failed", "unknown"] = "sending"
    message_id: str | None = None
    error: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    expire_at: datetime = Field(default_factory=lambda data: data["updated_at"] + OUTBOX_RETENTION)  # TTL


DEAD_LETTERS = "wa_dead_letters"


class DeadLetter(Document):
    """`wa_dead_letters/{key}`: a message the outbound queue gave up on (every retry failed); kept for a person
    to see and resend, alerted on, never silently gone."""

    key: str
    salon_id: int
    phone: str
    text: str
    reason: str
    attempts: int
    at: datetime = Field(default_factory=utcnow)
    expire_at: datetime = Field(default_factory=lambda data: data["at"] + RETENTION)


def queue_send(
    queue: TaskQueue, host_url: str | None, request: SendRequest, via: str | None = None, delay_s: float = 0.0
) -> bool:
    """Hand a message to the paced outbound queue: the session host sends a WhatsApp one, the channel worker a
    Telegram or MAX one. `via`: a host passing it to the session's holder (or to its own later self) names its
    task apart from the one it came in."""
    bot = channel_of(request.phone) != "whatsapp"
    if not bot and not host_url:
        raise ValueError("a WhatsApp message needs the session host's URL")
    return queue.enqueue(
        Task(
            queue=OUTBOUND.name,
            name=task_name("send", request.key, *(("via", via) if via else ())),
            function="channel_send_worker" if bot else "send",
            target_url=None if bot else f"{str(host_url).rstrip('/')}/send",
            payload=request.model_dump(mode="json"),  # a task body is JSON (resend_until as ISO text)
            delay_s=delay_s,
        )
    )


def fall_through(db: firestore.Client, queue: TaskQueue, host_url: str | None, req: SendRequest, error: str) -> bool:
    """Pass a refused message to the next chat of its cascade; what happened is recorded on the reminder."""
    if not req.fallbacks:
        return False
    nxt, rest = req.fallbacks[0], req.fallbacks[1:]
    channel = channel_of(nxt)
    if channel == "whatsapp" and not host_url:
        return False
    again = req.model_copy(
        update={"key": f"{req.key}-{channel}"[:300], "phone": nxt, "fallbacks": rest, "ask_contact": False}
    )
    queue_send(queue, host_url, again)
    if req.on_refused:
        tried = {"chat": channel_of(req.phone), "error": error[:200], "at": utcnow()}
        db.document(req.on_refused).set({"tried": firestore.ArrayUnion([tried]), "via": channel}, merge=True)
    log.info("message fell through", extra={"salon_id": req.salon_id, "from": channel_of(req.phone), "to": channel})
    return True

"""One customer across the salon's channels, and the order the salon's own messages try them in (the cascade).

`customer_channels/{salon}_{phone}` lists the Telegram and MAX chats whose owner shared that number with the
messenger's contact button (the messenger vouches it is theirs). A number only typed into a chat links nothing:
anyone can type anyone's number, and a link decides where that number's reminders go.

A reminder or notice goes first to the channel the customer last wrote on, then Telegram, MAX, WhatsApp; an owner
who set an order of their own (`Company.channel_order`) gets exactly that. A bot chat is a candidate only if the
customer wrote to the bot (Telegram and MAX bots may not write first) — a linked chat always did; WhatsApp is
tried whenever it is linked (its 463 refusal falls through to the next)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.cloud import firestore

from aiadmin.channels import bots
from aiadmin.core.models import Company, utcnow
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import Channel

CUSTOMER_CHANNELS = "customer_channels"
DEFAULT_ORDER: tuple[Channel, ...] = ("telegram", "max", "whatsapp")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ref(db: firestore.Client, salon_id: int, phone: str) -> firestore.DocumentReference:
    return db.collection(CUSTOMER_CHANNELS).document(f"{salon_id}_{phone}")


def link(db: firestore.Client, salon_id: int, phone: str, bot_chat: str) -> None:
    channel = chat.channel_of(bot_chat)
    expire = utcnow() + chat.RETENTION * 6
    data = {"salon_id": salon_id, "phone": phone, "chats": {channel: bot_chat}, "expire_at": expire}
    _ref(db, salon_id, phone).set(data, merge=True)
    conv = chat.conversation_ref(db, salon_id, bot_chat)
    conv.set({"customer_phone": phone, "phone_verified": True}, merge=True)


def chats_of(db: firestore.Client, salon_id: int, phone: str) -> dict[str, str]:
    snap = _ref(db, salon_id, phone).get()
    return dict((snap.to_dict() or {}).get("chats") or {}) if snap.exists else {}


def last_written(db: firestore.Client, salon_id: int, name: str) -> datetime | None:
    """When the customer last wrote in this chat (None: never, or its conversation has expired)."""
    snap = chat.conversation_ref(db, salon_id, name).get()
    return (snap.to_dict() or {}).get("last_customer_message_at") if snap.exists else None


def route(
    db: firestore.Client, company: Company, phone: str | None, made_in: str | None = None, wrote_only: bool = False
) -> list[str]:
    """The chats to try, in order. `made_in`: the chat a booking was made in (a hidden-number or bot chat):
    it comes first, as the customer chose it; `phone`: the number the booking carries. `wrote_only`: only the
    chats whose conversation shows the customer writing (what the salon's first messages may use)."""
    salon_id = company.salon_id
    live = {link.channel for link in bots.links(db, salon_id)}
    candidates: dict[str, str] = {}
    if phone and chat.knows_phone(phone) and company.whatsapp_connected:
        candidates["whatsapp"] = phone
    for channel, name in (chats_of(db, salon_id, phone) if phone else {}).items():
        if channel in live:
            candidates[channel] = name
    # A bot may write only to those who wrote to it: every linked bot chat did (its contact came as a message),
    # even when its conversation has since expired; the last time each wrote orders them.
    written = {ch: last_written(db, salon_id, name) for ch, name in candidates.items()}
    if company.channel_order:  # the owner's own order, as set
        rank = {ch: i for i, ch in enumerate(company.channel_order)}
        order = sorted(candidates, key=lambda ch: rank.get(ch, 99))
    else:
        rank = {ch: i for i, ch in enumerate(DEFAULT_ORDER)}
        last = max(candidates, key=lambda ch: written[ch] or _EPOCH, default=None)
        order = sorted(candidates, key=lambda ch: (ch != last or written[ch] is None, rank.get(ch, 99)))
    chats = [candidates[ch] for ch in order]
    if made_in and not chat.knows_phone(made_in):
        made_live = chat.channel_of(made_in) == "whatsapp" or chat.channel_of(made_in) in live
        chats = ([made_in] if made_live else []) + [c for c in chats if c != made_in]
    if wrote_only:  # the candidates' times are read already; only a chat the booking was made in may be new
        known = {name: written[ch] for ch, name in candidates.items()}
        chats = [c for c in chats if (known[c] if c in known else last_written(db, salon_id, c)) is not None]
    return chats

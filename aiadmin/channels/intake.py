"""A Telegram or MAX update reaching `POST /channels/{channel}/{salon_id}`: proved by the webhook's secret, read,
and stored as the customer's message under its update id (a redelivered update is one message), then answered by
the same AI turn as a WhatsApp message. The owner opening their one-time start link binds their chat for notices."""

from __future__ import annotations

import logging
from typing import Any

from google.cloud import firestore

from aiadmin.channels import bots, contacts
from aiadmin.channels.bot_api import Incoming
from aiadmin.core.errors import NotFound, Unauthorized
from aiadmin.core.models import normalize_phone
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import ChatMessage, SendRequest

log = logging.getLogger("aiadmin.channels.intake")

SECRET_HEADER = {"telegram": "X-Telegram-Bot-Api-Secret-Token", "max": "X-Max-Bot-Api-Secret"}
OWNER_BOUND = (
    "Готово: уведомления AI Admin для владельца салона и коды входа для сотрудников будут приходить сюда. "
    "Если отключить бота на странице владельца, уведомления снова пойдут в WhatsApp."
)


def parse(channel: str, data: dict[str, Any]) -> Incoming | None:
    if channel == "telegram":
        from aiadmin.channels.telegram_api import parse_update

        return parse_update(data)
    from aiadmin.channels.max_api import parse_update as parse_max

    return parse_max(data)


def accept(
    db: firestore.Client,
    queue: TaskQueue,
    settings: Settings,
    channel: str,
    salon_id: int,
    secret: str | None,
    data: dict[str, Any],
) -> str:
    """What became of the update: stored | duplicate | ignored | owner_bound."""
    if channel not in SECRET_HEADER:
        raise NotFound("no such channel", code="not_found")
    link = bots.get_link(db, salon_id, channel)
    if link is None or not bots.secret_matches(link, secret):
        raise Unauthorized("the webhook's secret does not match", code="bad_webhook_secret")
    incoming = parse(channel, data)
    if incoming is None:
        return "ignored"
    name = chat.bot_chat(link.channel, incoming.chat_id)
    if incoming.start and link.owner_chat == name:
        return "owner_bound"  # the owner's start link again (a redelivery, a second tap): bound already
    if incoming.start and bots.bind_owner(db, link, incoming.start, name):
        request = SendRequest(
            key=f"owner-bound-{channel}-{salon_id}-{incoming.update_id}",
            salon_id=salon_id,
            phone=name,
            text=OWNER_BOUND,
        )
        chat.queue_send(queue, None, request)
        log.info("owner's chat bound for notices", extra={"salon_id": salon_id, "channel": channel})
        return "owner_bound"
    if incoming.start and not incoming.text:
        incoming.text = "Здравствуйте"  # a start link with a payload that is no owner's code: a customer's hello
    if not (incoming.text or incoming.contact_phone or incoming.media):
        return "ignored"
    phone = normalize_phone(incoming.contact_phone) if incoming.contact_phone else None
    msg = ChatMessage(
        message_id=f"{channel}-{incoming.update_id}",
        salon_id=salon_id,
        phone=name,
        direction="customer",
        text=incoming.text[:4000],
        media=incoming.media if incoming.media in chat.MEDIA_KINDS else None,  # type: ignore[arg-type]
        push_name=incoming.name,
        contact_phone=phone if phone and len(phone) >= 10 else None,
        sent_at=incoming.sent_at,
    )
    if msg.contact_phone:  # before the turn reads it; again on a redelivery (a queueing that failed), harmlessly
        contacts.link(db, salon_id, msg.contact_phone, name)
    new = chat.accept_inbound(db, queue, msg)
    log.info("bot update", extra={"salon_id": salon_id, "channel": channel, "new": new})
    return "stored" if new else "duplicate"

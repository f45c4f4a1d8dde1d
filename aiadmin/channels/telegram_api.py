"""The Telegram Bot API through python-telegram-bot (typed objects for every method and update, tracks each Bot
API release, its own timeouts and error classes). Its calls are coroutines: each of ours runs one in a fresh event
loop with its own HTTP client, closed after, as a stateless function must."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import httpx
from telegram import Bot, KeyboardButton, ReplyKeyboardMarkup, Update
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from aiadmin.channels.bot_api import (
    CONTACT_BUTTON,
    BadToken,
    BotInfo,
    BotRefused,
    BotUnavailable,
    Incoming,
    SendUnknown,
)

log = logging.getLogger("aiadmin.channels.telegram")
# httpx logs every request's URL at INFO, and a Bot API URL carries the bot's token: never below WARNING.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(max(logging.WARNING, logging.getLogger(_name).level))

T = TypeVar("T")
# What Telegram answers when it will never deliver to that chat (the customer blocked the bot, deleted their
# account, or the chat id is not one that wrote to this bot).
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot can't initiate", "peer_id_invalid")


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _never_left(exc: BaseException) -> bool:
    """The request never reached Telegram: no connection was made, or none was free in the pool."""
    return isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """The coroutine in a fresh event loop; in a thread of its own when this one already runs a loop (a caller
    inside async code), as asyncio.run refuses to nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


class TelegramBot:
    channel = "telegram"

    def __init__(self, token: str, api_base: str, timeout_s: float):
        self.token, self.api_base, self.timeout_s = token, api_base.rstrip("/"), timeout_s

    def _run(self, call: Callable[[Bot], Awaitable[T]], *, sending: bool = False) -> T:
        async def go() -> T:
            request = HTTPXRequest(
                connection_pool_size=2,
                connect_timeout=self.timeout_s / 2,
                read_timeout=self.timeout_s,
                write_timeout=self.timeout_s,
                pool_timeout=self.timeout_s / 2,
            )
            bot = Bot(self.token, base_url=f"{self.api_base}/bot", request=request)
            try:
                return await call(bot)
            finally:
                await request.shutdown()

        try:
            return _run(go)
        except tg_error.InvalidToken as exc:
            raise BadToken(str(exc)) from exc
        except tg_error.Forbidden as exc:  # blocked by the user, or a bot that may not write there
            raise BotRefused(str(exc)) from exc
        except tg_error.RetryAfter as exc:
            raise BotUnavailable(str(exc), _seconds(exc.retry_after)) from exc
        except tg_error.TimedOut as exc:
            if sending and not _never_left(exc):  # the request may have reached Telegram: never sent again blindly
                raise SendUnknown(str(exc)) from exc
            raise BotUnavailable(str(exc)) from exc
        except tg_error.BadRequest as exc:
            if any(gone in exc.message.lower() for gone in _GONE):
                raise BotRefused(exc.message) from exc
            raise
        except tg_error.NetworkError as exc:
            # A connection lost while the answer was awaited: the message may be out. A connection never made, or
            # Telegram's own 5xx answer (no transport error behind it): not sent, tried again.
            lost = isinstance(exc.__cause__, httpx.TransportError) and not _never_left(exc)
            if sending and lost:
                raise SendUnknown(str(exc)) from exc
            raise BotUnavailable(str(exc)) from exc

    def me(self) -> BotInfo:
        user = self._run(lambda bot: bot.get_me())
        return BotInfo(id=user.id, username=user.username or "", name=user.first_name)

    def set_webhook(self, url: str, secret: str) -> None:
        self._run(lambda bot: bot.set_webhook(url, secret_token=secret, allowed_updates=["message"]))

    def delete_webhook(self, url: str) -> None:
        self._run(lambda bot: bot.delete_webhook())

    def send(self, chat_id: int, text: str, buttons: list[str], ask_contact: bool) -> str:
        markup = None
        if ask_contact:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(CONTACT_BUTTON, request_contact=True)]], resize_keyboard=True, one_time_keyboard=True
            )
        elif buttons:
            keys = [[KeyboardButton(b) for b in buttons]]
            markup = ReplyKeyboardMarkup(keys, resize_keyboard=True, one_time_keyboard=True)
        sent = self._run(lambda bot: bot.send_message(chat_id, text, reply_markup=markup), sending=True)
        return str(sent.message_id)


def parse_update(data: dict) -> Incoming | None:
    """A message in a private chat with the bot; anything else (groups, edits, channel posts) is None."""
    update = Update.de_json(data, None)
    message = update.message if update else None
    if message is None or message.chat.type != "private" or message.from_user is None:
        return None
    sender = message.from_user
    text = message.text or message.caption or ""
    contact_phone = None
    if message.contact is not None:
        if message.contact.user_id == sender.id:  # their own number, as Telegram knows it
            contact_phone = message.contact.phone_number
        else:  # someone's card: as good as a typed number
            text = text or message.contact.phone_number
    start = None
    if text.startswith("/start"):
        start = text.removeprefix("/start").strip() or None
        text = "" if start else "Здравствуйте"
    media = next((kind for attr, kind in _MEDIA if getattr(message, attr, None)), None)
    return Incoming(
        update_id=str(update.update_id),
        chat_id=message.chat.id,
        name=" ".join(x for x in (sender.first_name, sender.last_name) if x) or None,
        text=text,
        contact_phone=contact_phone,
        media=media,
        start=start,
        sent_at=message.date,
    )


_MEDIA = (("voice", "voice"), ("photo", "image"), ("video", "video"), ("sticker", "sticker"), ("document", "document"))

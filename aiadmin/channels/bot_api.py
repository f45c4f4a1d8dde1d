"""One interface over the messengers' Bot APIs (Telegram, MAX): what the rest of the product asks of a bot. Each
implementation keeps its library's exceptions inside and raises these."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from aiadmin.core.settings import Settings
from aiadmin.whatsapp.chat import CONTACT_BUTTON, Channel  # noqa: F401 - re-exported


class BotInfo(BaseModel):
    id: int
    username: str
    name: str


class BadToken(Exception):
    """The messenger does not know this token."""


class BotRefused(Exception):
    """The messenger will not deliver to this chat, for good: the customer blocked the bot or never wrote to it."""


class BotUnavailable(Exception):
    """Try again later (network, the messenger's 5xx, its rate limit)."""

    def __init__(self, message: str, retry_after_s: float = 15.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SendUnknown(Exception):
    """The request went out and no answer came (a timeout): the message may have been delivered."""


class BotApi(Protocol):
    channel: Channel

    def me(self) -> BotInfo: ...

    def set_webhook(self, url: str, secret: str) -> None: ...

    def delete_webhook(self, url: str) -> None: ...

    def send(self, chat_id: int, text: str, buttons: list[str], ask_contact: bool) -> str:
        """Send a text; returns the messenger's message id."""
        ...


def bot_api(channel: Channel, token: str, settings: Settings) -> BotApi:
    if channel == "telegram":
        from aiadmin.channels.telegram_api import TelegramBot

        return TelegramBot(token, settings.telegram_api_base, settings.bot_api_timeout_s)
    if channel == "max":
        from aiadmin.channels.max_api import MaxBot

        return MaxBot(token, settings.max_api_base, settings.bot_api_timeout_s, settings.max_ca_bundle)
    raise ValueError(f"no bot API for {channel!r}")


class Incoming(BaseModel):
    """A customer's message to the bot, as every messenger's update is read."""

    update_id: str  # the messenger's id of this update: a redelivery has the same
    chat_id: int  # where to answer (Telegram: the private chat; MAX: the user)
    name: str | None = None
    text: str = ""
    contact_phone: str | None = None  # shared with the contact button: the sender's own number
    media: str | None = None
    start: str | None = None  # the payload of a deep link the customer (or the owner) opened
    sent_at: datetime | None = None

"""The MAX Bot API (dev.max.ru/docs-api), a thin synchronous client on `requests` with pydantic models of the few
shapes we use. No Python client fits a synchronous function on Python 3.11: the maintained ones (maxapi,
python-max-bot) are async-only frameworks, the one sync client needs Python 3.12, the oldest still sends the token
as a query parameter MAX no longer accepts (docs/channels.md).

The token goes in the `Authorization` header; the host is platform-api2.max.ru, whose certificate chains to the
Russian Trusted Root CA (`MAX_CA_BUNDLE` names a bundle with it)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import BaseModel
from urllib3.exceptions import NameResolutionError, NewConnectionError

from aiadmin.channels.bot_api import (
    CONTACT_BUTTON,
    BadToken,
    BotInfo,
    BotRefused,
    BotUnavailable,
    Incoming,
    SendUnknown,
)

log = logging.getLogger("aiadmin.channels.max")

_TEL = re.compile(r"^TEL[^:]*:(.+)$", re.MULTILINE)


class MaxUser(BaseModel):
    user_id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False


class MaxAttachment(BaseModel):
    type: str
    payload: dict[str, Any] | None = None


class MaxBody(BaseModel):
    mid: str
    text: str | None = None
    attachments: list[MaxAttachment] | None = None


class MaxRecipient(BaseModel):
    chat_id: int | None = None
    chat_type: str | None = None
    user_id: int | None = None


class MaxMessage(BaseModel):
    sender: MaxUser | None = None
    recipient: MaxRecipient
    timestamp: int
    body: MaxBody


class MaxUpdate(BaseModel):
    update_type: str
    timestamp: int
    message: MaxMessage | None = None
    user: MaxUser | None = None  # bot_started
    chat_id: int | None = None
    payload: str | None = None


class _Sent(BaseModel):
    body: MaxBody


class _SendResult(BaseModel):
    message: _Sent


_MEDIA = {"audio": "voice", "image": "image", "video": "video", "sticker": "sticker", "file": "document"}


def _phone_from_vcard(vcf: str) -> str | None:
    found = _TEL.search(vcf or "")
    return found.group(1).strip() if found else None


def _never_connected(exc: BaseException) -> bool:
    """requests wraps urllib3's failure to open a connection (refused, DNS) as a ConnectionError too."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def parse_update(data: dict[str, Any]) -> Incoming | None:
    """A customer's message in a dialog with the bot, or their start of it (with a deep link's payload)."""
    update = MaxUpdate.model_validate(data)
    at = datetime.fromtimestamp(update.timestamp / 1000, UTC)
    if update.update_type == "bot_started" and update.user is not None:
        return Incoming(
            update_id=f"started-{update.user.user_id}-{update.timestamp}",
            chat_id=update.user.user_id,
            name=update.user.first_name or None,
            text="" if update.payload else "Здравствуйте",
            start=update.payload or None,
            sent_at=at,
        )
    message = update.message
    if update.update_type != "message_created" or message is None or message.sender is None:
        return None
    if message.recipient.chat_type not in (None, "dialog") or message.sender.is_bot:
        return None  # group chats and channels are not the salon's customers writing to it
    text, media = message.body.text or "", None
    for attachment in message.body.attachments or []:
        payload = attachment.payload or {}
        if attachment.type == "contact":
            # The request_contact button sends the sender's own card with a `hash` MAX says proves the number is
            # the account's; the algorithm is unpublished and the card's `max_info` and its vCard come apart (a
            # client may send its own id beside anyone's number). Until the hash can be checked, a shared card is
            # as good as a typed number: it books, but links nothing and sees only what was booked in this chat.
            phone = _phone_from_vcard(str(payload.get("vcf_info") or ""))
            if phone:
                text = "\n".join(x for x in (text, phone) if x)
        else:
            media = media or _MEDIA.get(attachment.type)
    return Incoming(
        update_id=message.body.mid,
        chat_id=message.sender.user_id,
        name=" ".join(x for x in (message.sender.first_name, message.sender.last_name) if x) or None,
        text=text,
        media=media,
        sent_at=at,
    )


class MaxBot:
    channel = "max"

    def __init__(self, token: str, api_base: str, timeout_s: float, ca_bundle: str | None = None):
        self.api_base, self.timeout_s = api_base.rstrip("/"), timeout_s
        self.session = requests.Session()
        self.session.headers["Authorization"] = token
        if ca_bundle:
            self.session.verify = ca_bundle

    def _call(self, method: str, path: str, *, sending: bool = False, **kw: Any) -> dict[str, Any]:
        try:
            resp = self.session.request(method, f"{self.api_base}{path}", timeout=self.timeout_s, **kw)
        except requests.ConnectTimeout as exc:  # never reached MAX
            raise BotUnavailable(f"MAX unreachable: {type(exc).__name__}") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            # Read timed out, or the connection dropped with the request sent: the message may be out.
            if sending and not _never_connected(exc):
                raise SendUnknown(f"MAX did not answer: {type(exc).__name__}") from exc
            raise BotUnavailable(f"MAX unreachable: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            raise BotUnavailable(f"MAX unreachable: {type(exc).__name__}") from exc
        body: dict[str, Any] = {}
        try:
            body = resp.json() if resp.content else {}
        except ValueError:
            body = {}
        code = str(body.get("code") or "")
        if resp.status_code == 401:
            raise BadToken(code or "unauthorized")
        if resp.status_code in (403, 404) and path == "/messages":
            raise BotRefused(f"{resp.status_code} {code} {body.get('message', '')}".strip())
        if resp.status_code == 429 or resp.status_code >= 500:
            retry = float(resp.headers.get("Retry-After") or 5)
            raise BotUnavailable(f"MAX answered {resp.status_code} {code}", retry)
        if resp.status_code >= 400:
            raise BotUnavailable(f"MAX answered {resp.status_code} {code}")
        return body

    def me(self) -> BotInfo:
        user = MaxUser.model_validate(self._call("GET", "/me"))
        return BotInfo(id=user.user_id, username=user.username or "", name=user.first_name)

    def set_webhook(self, url: str, secret: str) -> None:
        body = {"url": url, "update_types": ["message_created", "bot_started"], "secret": secret}
        answer = self._call("POST", "/subscriptions", json=body)
        if answer.get("success") is not True:  # a 200 that did not subscribe: the bot would hear nothing
            raise BotUnavailable(f"MAX did not subscribe the webhook: {str(answer.get('message'))[:200]}")

    def delete_webhook(self, url: str) -> None:
        self._call("DELETE", "/subscriptions", params={"url": url})

    def send(self, chat_id: int, text: str, buttons: list[str], ask_contact: bool) -> str:
        rows: list[list[dict[str, str]]] = []
        if ask_contact:
            rows = [[{"type": "request_contact", "text": CONTACT_BUTTON}]]
        elif buttons:  # MAX has no reply keyboard: a `message` button sends its text as the customer's message
            rows = [[{"type": "message", "text": b} for b in buttons[:7]]]
        body: dict[str, Any] = {"text": text[:4000]}
        if rows:
            body["attachments"] = [{"type": "inline_keyboard", "payload": {"buttons": rows}}]
        sent = self._call("POST", "/messages", sending=True, params={"user_id": chat_id}, json=body)
        return _SendResult.model_validate(sent).message.body.mid

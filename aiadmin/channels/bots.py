"""A salon's Telegram or MAX bot: connected by the owner pasting its token on the owner page, checked with the
messenger, its webhook pointed at us with a secret of its own; the token kept sealed (aiadmin.core.secret_box),
the secret kept only as a hash. One bot serves one salon.

`bot_links/{salon}_{channel}` is the link; `bot_ids/{channel}_{bot id}` claims the bot for that salon."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

from google.api_core import exceptions as gexc
from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field

from aiadmin.channels.bot_api import BadToken, BotApi, BotInfo, BotRefused, BotUnavailable, bot_api
from aiadmin.core import repositories, secret_box
from aiadmin.core.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from aiadmin.core.models import Document, utcnow
from aiadmin.core.secret_box import SealedSecret
from aiadmin.core.settings import Settings
from aiadmin.whatsapp.chat import Channel

log = logging.getLogger("aiadmin.channels.bots")

BOT_LINKS = "bot_links"
BOT_IDS = "bot_ids"
OWNER_LINK_TTL = timedelta(minutes=30)
# Telegram: «123456789:AA…» (BotFather); MAX: a long opaque string from the partner platform.
TOKEN_FORMAT: dict[str, re.Pattern[str]] = {
    "telegram": re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,80}$"),
    "max": re.compile(r"^[A-Za-z0-9_.:-]{20,300}$"),
}
DEEP_LINK = {"telegram": "https://t.me/{username}", "max": "https://max.ru/{username}"}


class BotLink(Document):
    salon_id: int
    channel: Channel
    bot_id: int
    username: str
    name: str
    token: SealedSecret
    secret_sha256: str  # of the webhook's secret: each update proves itself with it
    webhook_url: str
    connected_at: datetime = Field(default_factory=utcnow)
    # The owner's own chat with the bot, bound by a one-time start link: owner notices go there first.
    owner_chat: str | None = None
    owner_link_sha256: str | None = None
    owner_link_until: datetime | None = None

    def link(self) -> str:
        return DEEP_LINK[self.channel].format(username=self.username)

    def public(self) -> dict[str, object]:
        """What the owner page shows (never the token)."""
        return {
            "channel": self.channel,
            "username": self.username,
            "name": self.name,
            "link": self.link(),
            "connected_at": self.connected_at,
            "owner_notices": self.owner_chat is not None,
        }


class BotTokenIn(BaseModel):
    """`PUT /marketplace/owner/api/channels/{telegram|max}`."""

    model_config = ConfigDict(extra="forbid")

    bot_token: str = Field(min_length=20, max_length=300)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def link_ref(db: firestore.Client, salon_id: int, channel: str) -> firestore.DocumentReference:
    return db.collection(BOT_LINKS).document(f"{salon_id}_{channel}")


def get_link(db: firestore.Client, salon_id: int, channel: str) -> BotLink | None:
    snap = link_ref(db, salon_id, channel).get()
    return BotLink.model_validate(snap.to_dict()) if snap.exists else None


def links(db: firestore.Client, salon_id: int) -> list[BotLink]:
    return [link for channel in ("telegram", "max") if (link := get_link(db, salon_id, channel))]


def context(salon_id: int, channel: str) -> str:
    return f"{channel}:{salon_id}"


def token_of(link: BotLink) -> str:
    return secret_box.open_sealed(link.token, context(link.salon_id, link.channel))


def api_of(link: BotLink, settings: Settings) -> BotApi:
    return bot_api(link.channel, token_of(link), settings)


def secret_matches(link: BotLink, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(_sha(given or ""), link.secret_sha256)


def webhook_url(settings: Settings, channel: str, salon_id: int) -> str:
    return f"{settings.require('base_url')}/channels/{channel}/{salon_id}"


def _checked(api: BotApi) -> BotInfo:
    try:
        return api.me()
    except BadToken as exc:
        raise BadRequest("the messenger does not know this bot token", code="bad_bot_token") from exc
    except (BotUnavailable, BotRefused) as exc:
        raise ServiceUnavailable("the messenger did not answer; try again in a minute", code="bot_api_down") from exc


def _claim(db: firestore.Client, channel: str, bot_id: int, salon_id: int) -> None:
    """One bot, one salon: its webhook can point at one of them only."""
    ref = db.collection(BOT_IDS).document(f"{channel}_{bot_id}")

    @firestore.transactional
    def run(tx: firestore.Transaction) -> int | None:
        snap = ref.get(transaction=tx)
        holder = (snap.to_dict() or {}).get("salon_id") if snap.exists else None
        if holder is not None and holder != salon_id:
            return int(holder)
        tx.set(ref, {"salon_id": salon_id, "channel": channel, "bot_id": bot_id})
        return None

    if run(db.transaction()) is not None:
        raise Conflict("this bot is connected to another salon; create a bot of this salon's own", code="bot_taken")


def connect(db: firestore.Client, settings: Settings, salon_id: int, channel: Channel, token: str) -> BotLink:
    token = token.strip()
    if not TOKEN_FORMAT[channel].match(token):
        raise BadRequest(f"this does not look like a {channel} bot token", code="bad_bot_token")
    api = bot_api(channel, token, settings)
    info = _checked(api)
    earlier = get_link(db, salon_id, channel)
    _claim(db, channel, info.id, salon_id)
    secret = secrets.token_urlsafe(32)  # Telegram allows A-Z a-z 0-9 _ - in a secret_token, up to 256
    url = webhook_url(settings, channel, salon_id)
    try:
        api.set_webhook(url, secret)
    except (BotUnavailable, BotRefused) as exc:
        raise ServiceUnavailable("the messenger did not take the webhook; try again", code="bot_api_down") from exc
    link = BotLink(
        salon_id=salon_id,
        channel=channel,
        bot_id=info.id,
        username=info.username,
        name=info.name,
        token=secret_box.seal(token, context(salon_id, channel)),
        secret_sha256=_sha(secret),
        webhook_url=url,
    )
    link_ref(db, salon_id, channel).set(link.to_firestore())
    if earlier is not None and earlier.bot_id != info.id:  # the salon changed its bot: the old one is free
        db.collection(BOT_IDS).document(f"{channel}_{earlier.bot_id}").delete()
    log.info("bot connected", extra={"salon_id": salon_id, "channel": channel, "bot": info.username})
    return link


def disconnect(db: firestore.Client, settings: Settings, salon_id: int, channel: Channel) -> bool:
    """The webhook is deleted at the messenger (best effort: a token revoked there has none left), then the link."""
    link = get_link(db, salon_id, channel)
    if link is None:
        raise NotFound(f"no {channel} bot is connected", code="bot_not_connected")
    try:
        api_of(link, settings).delete_webhook(link.webhook_url)
    except BadToken:
        log.warning("bot token no longer valid; link removed", extra={"salon_id": salon_id, "channel": channel})
    except (BotUnavailable, BotRefused) as exc:
        raise ServiceUnavailable("the messenger did not answer; try again", code="bot_api_down") from exc
    batch = db.batch()
    if link.owner_chat:  # the owner's notices no longer have that chat
        batch.set(repositories.company_ref(db, salon_id), {"owner_bot_chat": None}, merge=True)
    batch.delete(link_ref(db, salon_id, channel))
    batch.delete(db.collection(BOT_IDS).document(f"{channel}_{link.bot_id}"))
    batch.commit()
    log.info("bot disconnected", extra={"salon_id": salon_id, "channel": channel})
    return True


def owner_start_link(db: firestore.Client, salon_id: int, channel: Channel) -> dict[str, object]:
    """A one-time deep link (`t.me/<bot>?start=<code>`): whoever opens it within OWNER_LINK_TTL becomes the chat
    the owner's notices go to. Only the owner page (an owner) asks for it."""
    link = get_link(db, salon_id, channel)
    if link is None:
        raise NotFound(f"no {channel} bot is connected", code="bot_not_connected")
    code = secrets.token_urlsafe(24)  # a start payload: up to 64 characters of A-Z a-z 0-9 _ -
    until = utcnow() + OWNER_LINK_TTL
    link_ref(db, salon_id, channel).update({"owner_link_sha256": _sha(code), "owner_link_until": until})
    return {"link": f"{link.link()}?start={code}", "expires_at": until}


def bind_owner(db: firestore.Client, link: BotLink, code: str, chat: str) -> bool:
    """The start link's code, once and in time: that chat is the owner's from now on."""
    ref = link_ref(db, link.salon_id, link.channel)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        current = BotLink.model_validate(ref.get(transaction=tx).to_dict())
        fresh = current.owner_link_until is not None and current.owner_link_until > utcnow()
        if not (fresh and current.owner_link_sha256 and hmac.compare_digest(_sha(code), current.owner_link_sha256)):
            return False
        tx.update(ref, {"owner_chat": chat, "owner_link_sha256": None, "owner_link_until": None})
        tx.set(repositories.company_ref(db, link.salon_id), {"owner_bot_chat": chat}, merge=True)
        return True

    try:
        return run(db.transaction())
    except gexc.NotFound:
        return False

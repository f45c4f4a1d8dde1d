"""A salon's Telegram or MAX bot: connected by the owner pasting its token on the owner page, checked with the
messenger, its webhook pointed at us with a secret of its own; the token kept sealed (aiadmin.core.secret_box),
the secret kept only as a hash. One bot serves one salon.

`bot_links/{salon}_{channel}` is the link; `bot_ids/{channel}_{bot id}` claims the bot for that salon."""

from __future__ import annotations

import base64
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
    broken: str | None = None  # why the bot stopped working (its token revoked); cleared by connecting it again
    broken_at: datetime | None = None

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
            "broken": self.broken is not None,
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


def webhook_secret(settings: Settings, channel: str, salon_id: int, bot_id: int) -> str:
    """The secret the messenger sends with each update: one per salon, channel and bot, derived from our webhook
    secret, so two connects racing set the same one (a random one each would leave the later-stored hash behind
    the secret the messenger kept). A-Z a-z 0-9 _ -, as Telegram and MAX allow."""
    key = settings.require("webhook_secret").encode()
    mac = hmac.new(key, f"bot-webhook:{channel}:{salon_id}:{bot_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def connect(db: firestore.Client, settings: Settings, salon_id: int, channel: Channel, token: str) -> BotLink:
    token = token.strip()
    if not TOKEN_FORMAT[channel].match(token):
        raise BadRequest(f"this does not look like a {channel} bot token", code="bad_bot_token")
    api = bot_api(channel, token, settings)
    info = _checked(api)
    earlier = get_link(db, salon_id, channel)
    same_bot = earlier is not None and earlier.bot_id == info.id
    sealed = secret_box.seal(token, context(salon_id, channel))  # before anything changes at the messenger
    _claim(db, channel, info.id, salon_id)
    secret = webhook_secret(settings, channel, salon_id, info.id)
    url = webhook_url(settings, channel, salon_id)
    try:
        api.set_webhook(url, secret)
    except (BotUnavailable, BotRefused, BadToken) as exc:
        if not same_bot:  # nothing of this bot was kept: it stays free for whoever connects it
            db.collection(BOT_IDS).document(f"{channel}_{info.id}").delete()
        raise ServiceUnavailable("the messenger did not take the webhook; try again", code="bot_api_down") from exc
    link = BotLink(
        salon_id=salon_id,
        channel=channel,
        bot_id=info.id,
        username=info.username,
        name=info.name,
        token=sealed,
        secret_sha256=_sha(secret),
        webhook_url=url,
        owner_chat=earlier.owner_chat if same_bot and earlier else None,  # the same bot: the owner's chat stays
    )
    link_ref(db, salon_id, channel).set(link.to_firestore())
    if earlier is not None and not same_bot:  # the salon changed its bot: the old one is let go
        _let_go(db, settings, earlier)
    log.info("bot connected", extra={"salon_id": salon_id, "channel": channel, "bot": info.username})
    return link


def _let_go(db: firestore.Client, settings: Settings, old: BotLink) -> None:
    """A bot the salon no longer uses: its webhook deleted (best effort), its claim freed, and the owner's chat
    with it no longer where notices go."""
    try:
        api_of(old, settings).delete_webhook(old.webhook_url)
    except (BadToken, BotUnavailable, BotRefused, secret_box.SecretUnreadable) as exc:
        log.warning("old bot's webhook not deleted", extra={"salon_id": old.salon_id, "error": type(exc).__name__})
    db.collection(BOT_IDS).document(f"{old.channel}_{old.bot_id}").delete()
    forget_owner_chat(db, old)


def forget_owner_chat(db: firestore.Client, link: BotLink) -> None:
    """The owner's notices stop going to this bot's chat (if that is where they go)."""
    if not link.owner_chat:
        return
    ref = repositories.company_ref(db, link.salon_id)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> None:
        snap = ref.get(transaction=tx)
        if snap.exists and (snap.to_dict() or {}).get("owner_bot_chat") == link.owner_chat:
            tx.update(ref, {"owner_bot_chat": None})

    run(db.transaction())


def mark_broken(db: firestore.Client, link: BotLink, why: str) -> None:
    """The messenger no longer knows the token (revoked in @BotFather) or it cannot be read: the owner page says
    so, and the owner connects the bot again."""
    link_ref(db, link.salon_id, link.channel).update({"broken": why[:200], "broken_at": utcnow()})
    log.error("bot link broken", extra={"salon_id": link.salon_id, "channel": link.channel, "why": why[:200]})


def disconnect(db: firestore.Client, settings: Settings, salon_id: int, channel: Channel) -> bool:
    """The webhook is deleted at the messenger (best effort: a token revoked there has none left), then the link."""
    link = get_link(db, salon_id, channel)
    if link is None:
        raise NotFound(f"no {channel} bot is connected", code="bot_not_connected")
    try:
        api_of(link, settings).delete_webhook(link.webhook_url)
    except (BadToken, secret_box.SecretUnreadable) as exc:  # nothing left to delete with: the link goes anyway
        log.warning("bot removed without its webhook", extra={"salon_id": salon_id, "error": type(exc).__name__})
    except (BotUnavailable, BotRefused) as exc:
        raise ServiceUnavailable("the messenger did not answer; try again", code="bot_api_down") from exc
    forget_owner_chat(db, link)
    batch = db.batch()
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

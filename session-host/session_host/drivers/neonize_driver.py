"""The production WhatsApp driver: neonize 0.5.x (whatsmeow) async clients, one per salon, all on one asyncio
loop in a thread of their own (neonize dispatches every client's events to one module-global loop).

What WhatsApp reports is translated to our driver events by the pure functions at the top, which the tests feed
with real neonize event objects. Credentials: WA_CREDENTIALS is either a directory (one SQLite store per salon)
or a postgres:// URL (one shared whatsmeow database, Cloud SQL in production)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiadmin.whatsapp import voice_notes
from session_host.device_registry import DeviceRegistry
from session_host.drivers.base import EventSink, Mode
from session_host.events import (
    ClientOutdated,
    Connected,
    Disconnected,
    DriverEvent,
    Failed,
    Inbound,
    KeepAliveRestored,
    KeepAliveTimeout,
    LinkExpired,
    LoggedOut,
    PairingCode,
    QrCode,
    SendError,
    SendOutcomeUnknown,
    StreamReplaced,
    TemporarilyBanned,
    VoiceAudio,
)

log = logging.getLogger("session_host.neonize")

QR_TTL_S = 20.0  # WhatsApp rotates the linking QR about every 20 s
PAIRING_TTL_S = 160.0
# A link (QR or pairing code) not completed in this long is ended here: neonize's QR loop and its Go call would
# otherwise hold a thread for as long as the process lives, and the session would stay owned forever.
LINK_TTL_S = 180.0
SEND_TIMEOUT_S = 30.0
# neonize's Stop() waits for whatsmeow's socket lock, which a dial in progress holds until its own timeout.
STOP_TIMEOUT_S = 10.0

# ConnectFailureReason numbers (neonize.proto.Neonize_pb2.ConnectFailureReason)
_LOGGED_OUT_REASONS = {"LOGGED_OUT", "MAIN_DEVICE_GONE", "UNKNOWN_LOGOUT"}


def _enum_name(message: Any, field: str) -> str:
    value = getattr(message, field)
    return message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[value].name if value else "UNSET"


def qr_event(data: bytes) -> QrCode:
    return QrCode(payload=data.decode(), ttl_s=QR_TTL_S)


def pair_status_event(ev: Any) -> DriverEvent | None:
    """PairStatus: SUCCESS is followed by Connected (reported then); ERROR ends the attempt."""
    if _enum_name(ev, "Status") == "SUCCESS":
        return None
    return Failed(f"pairing failed: {ev.Error or 'unknown error'}")


def connected_event(jid_user: str, push_name: str | None) -> Connected:
    return Connected(phone=jid_user, name=push_name or None)


def logged_out_event(ev: Any) -> LoggedOut:
    return LoggedOut(f"logged out by WhatsApp ({_enum_name(ev, 'Reason')})")


def connect_failure_event(ev: Any) -> DriverEvent:
    reason = _enum_name(ev, "Reason")
    if reason == "CLIENT_OUTDATED":
        return ClientOutdated()
    if reason in _LOGGED_OUT_REASONS:
        return LoggedOut(f"connect refused: {reason}")
    if reason == "TEMP_BANNED":  # the expiry comes with the TemporaryBan event; try again in an hour meanwhile
        return TemporarilyBanned(3600.0, f"connect refused: TEMP_BANNED {ev.Message}".strip())
    return Disconnected(f"connect failed: {reason} {ev.Message}".strip())


def _phone_of(*jids: Any) -> str | None:
    """The first JID that carries a phone number (`…@s.whatsapp.net`); LID-addressed chats carry it in *Alt."""
    for jid in jids:
        if jid is not None and jid.User and jid.Server == "s.whatsapp.net":
            return jid.User
    return None


MEDIA_FIELDS = (
    ("audioMessage", "voice"),
    ("ptvMessage", "video"),
    ("imageMessage", "image"),
    ("videoMessage", "video"),
    ("stickerMessage", "sticker"),
    ("documentMessage", "document"),
)


def media_of(message: Any) -> str | None:
    return next((kind for name, kind in MEDIA_FIELDS if message.HasField(name)), None)


VOICE_DOWNLOAD_S = 10.0  # after it, the message goes on without its sound
VOICE_DOWNLOADS = 2  # at once per host


def voice_wanted(ev: Any, event: Inbound | None) -> Inbound | None:
    """A customer's voice note is handed over at once, its length known and its sound marked as coming when it is
    short enough to be a message (voice_notes.fits): the journal never waits for a download."""
    if event is None or event.from_me or event.is_group or event.is_broadcast:
        return event  # only a customer's private chat: nobody else's voice is downloaded or kept
    if not ev.Message.HasField("audioMessage"):
        return event
    note = ev.Message.audioMessage
    seconds, size = int(note.seconds) or None, int(note.fileLength) or None
    return dataclasses.replace(event, audio_seconds=seconds, audio_pending=voice_notes.fits(seconds, size))


async def fetch_voice(
    client: Any, ev: Any, event: Inbound, session_id: str, slots: asyncio.Semaphore | None = None
) -> VoiceAudio:
    """The sound of a voice note marked as coming (neonize's download_any), a few at a time per host (`slots`),
    within VOICE_DOWNLOAD_S in all. When the download fails, is slow, or brings more than a note may hold, the
    sound is empty: the turn waiting for it asks for text at once instead of waiting out its time."""
    extra = {"session_id": session_id, "message_id": event.message_id, "seconds": event.audio_seconds}
    mime = (ev.Message.audioMessage.mimetype or voice_notes.MIME_DEFAULT).split(";", 1)[0].strip()
    data: bytes | None = None
    try:
        async with asyncio.timeout(VOICE_DOWNLOAD_S):
            async with slots or contextlib.nullcontext():
                data = await client.download_any(ev.Message)
    except Exception as exc:  # TimeoutError, neonize's DownloadError (expired media key, CDN refused), …
        log.warning("voice note not downloaded", extra={**extra, "error": f"{type(exc).__name__}: {exc}"[:200]})
    if data and len(data) > voice_notes.MAX_BYTES:
        log.warning("voice note larger than announced; not kept", extra={**extra, "bytes": len(data)})
        data = None
    return VoiceAudio(event.message_id, event.chat_phone, bytes(data or b""), mime, event.chat_lid)


def chat_jid(chat: str) -> Any:
    """A chat as the host names it (phone digits, or `lid:<digits>` for a customer whose number WhatsApp hides)."""
    from neonize.utils.jid import build_jid

    lid = chat.removeprefix("lid:")
    return build_jid(lid, server="lid") if lid != chat else build_jid(chat)


def lid_only(ev: Any) -> bool:
    """A private chat addressed by LID alone (no phone in the chat or its *Alt): the store may know the phone."""
    src = ev.Info.MessageSource
    alt = src.RecipientAlt if src.IsFromMe else src.SenderAlt
    return not src.IsGroup and src.Chat.Server == "lid" and _phone_of(src.Chat, alt) is None


def inbound_event(ev: Any, resolved_phone: str | None = None) -> Inbound | None:
    """A MessageEv as our Inbound; None for what has no customer phone (groups, broadcasts and status aside).
    `resolved_phone`: the phone whatsmeow's LID store gave for a LID-only chat."""
    from neonize.utils.message import extract_text

    info = ev.Info
    src = info.MessageSource
    is_broadcast = src.Chat.Server == "broadcast" or src.Chat.User == "status"
    alt = src.RecipientAlt if src.IsFromMe else src.SenderAlt
    phone = _phone_of(src.Chat, alt) or resolved_phone
    unknown_lid = src.Chat.User if phone is None and src.Chat.Server == "lid" else None
    if phone is None and unknown_lid is None and not (src.IsGroup or is_broadcast):
        return None
    reaction = ev.Message.reactionMessage if ev.Message.HasField("reactionMessage") else None
    return Inbound(
        message_id=info.ID,
        chat_phone=phone or "",
        text=reaction.text if reaction is not None else extract_text(ev.Message),
        reaction_to=reaction.key.ID if reaction is not None else None,
        from_me=src.IsFromMe,
        is_group=src.IsGroup,
        is_broadcast=is_broadcast,
        timestamp=float(info.Timestamp) if info.Timestamp else None,
        push_name=info.Pushname or None,
        media=media_of(ev.Message),
        chat_lid=unknown_lid,
    )


def undecryptable_event(ev: Any) -> Inbound | None:
    """UndecryptableMessage: WhatsApp delivered a message we cannot read yet (it retries); a placeholder."""
    src = ev.Info.MessageSource
    if src.IsFromMe or src.IsGroup:
        return None
    phone = _phone_of(src.Chat, src.SenderAlt)
    lid = src.Chat.User if phone is None and src.Chat.Server == "lid" else None
    if phone is None and lid is None:
        return None
    return Inbound(message_id=ev.Info.ID, chat_phone=phone or "", text="", undecryptable=True, chat_lid=lid)


def temporary_ban_event(ev: Any) -> TemporarilyBanned:
    return TemporarilyBanned(float(ev.Expire or 3600), f"temporarily banned by WhatsApp ({_enum_name(ev, 'Code')})")


def stream_replaced_event(_: Any) -> StreamReplaced:
    return StreamReplaced()


HISTORY_DAYS = 1  # a new link asks the phone for one day of history, not years of it (memory: all salons, one process)


def device_props() -> Any:
    """What our linked device tells WhatsApp: a desktop client that wants no full history sync. neonize merges it
    into whatsmeow's (process-wide) device properties at connect."""
    from neonize.proto.waCompanionReg.WAWebProtobufsCompanionReg_pb2 import DeviceProps

    limits = DeviceProps.HistorySyncConfig(
        fullSyncDaysLimit=HISTORY_DAYS,
        fullSyncSizeMbLimit=1,
        recentSyncDaysLimit=HISTORY_DAYS,
        storageQuotaMb=16,
    )
    return DeviceProps(os="AI Admin", platformType=DeviceProps.DESKTOP, requireFullSync=False, historySyncConfig=limits)


# neonize's Go side keeps every client in package-level maps written without a lock when a client starts
# (`Neonize()`) and stops (`Stop()`): two at once abort the whole process ("fatal error: concurrent map writes",
# seen with 200 clients started together by `bench/neonize_many.py`). Starts and stops therefore go one at a
# time, each given this long for its map writes before the next.
GO_MAP_GAP_S = 0.05

REUSE_FOR_S = 300.0  # whatsmeow reconnects its own client; after this long down, a new client is made


# whatsmeow errors raised before the message left (nothing sent: a retry is safe); anything else may come after
# the frame was written (a disconnect mid-send, a timed-out server ack), so the outcome is unknown.
_BEFORE_SENDING = (
    "not connected",
    "not logged in",
    "failed to get device list",
    "failed to fetch prekeys",
    "failed to encrypt",
    "no signal session",
)


def send_failure(exc: Exception) -> Exception:
    """What a failed neonize send means: 463 / not on WhatsApp is final, a failure before the message left is
    retried, and anything else may have been delivered (never resent)."""
    text = str(exc).lower()
    if "463" in text or "not on whatsapp" in text or "not registered" in text:
        return SendError(str(exc), permanent=True)
    if any(marker in text for marker in _BEFORE_SENDING):
        return SendError(str(exc), permanent=False)
    return SendOutcomeUnknown(str(exc))


def executor_threads(max_clients: int) -> int:
    """Every live client holds one thread inside its `Neonize()` call for its whole life; sends, stops and lookups
    need threads of their own besides, and a link ending or a stop still running holds one for a while."""
    return max(16, math.ceil(1.5 * max_clients) + 8)


def keep_client(alive: bool, connected: bool, down_for_s: float) -> bool:
    """On a reconnect: keep the client object whatsmeow is already reconnecting (its memory of recent sends answers
    the customers' retry receipts), unless it ended or has not come back for REUSE_FOR_S."""
    return alive and (connected or down_for_s < REUSE_FOR_S)


class SqliteStores:
    """One whatsmeow SQLite store per salon in a directory (a persistent volume in production). Each link has a
    store file of its own: `{session_id}.current` names the live one, `{session_id}.pending` a new link in the
    making. The pending one becomes live when it connects (`remember`), and only then is the old store deleted,
    so a relink that never completes leaves the working link intact. Files are never renamed while open."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _pointer(self, session_id: str, kind: str) -> Path:
        return self.directory / f"{session_id}.{kind}"

    def _named(self, session_id: str, kind: str) -> Path | None:
        pointer = self._pointer(session_id, kind)
        return self.directory / pointer.read_text().strip() if pointer.exists() else None

    def path(self, session_id: str) -> Path:
        """The live link's store (`{session_id}.sqlite3` for a store made before pointers)."""
        return self._named(session_id, "current") or self.directory / f"{session_id}.sqlite3"

    def client_args(self, session_id: str, mode: Mode) -> dict[str, Any]:
        if mode == "restore":
            return {"name": str(self.path(session_id))}
        self._drop_pending(session_id)  # an earlier relink that never connected
        fresh = self.directory / f"{session_id}.{uuid.uuid4().hex[:12]}.sqlite3"
        self._pointer(session_id, "pending").write_text(fresh.name)
        return {"name": str(fresh)}

    def has(self, session_id: str) -> bool:
        if not self.path(session_id).exists():
            return False
        try:
            with sqlite3.connect(str(self.path(session_id))) as con:
                return con.execute("SELECT count(*) FROM whatsmeow_device").fetchone()[0] > 0
        except sqlite3.Error:
            return False

    def remember(self, session_id: str, jid: Any) -> None:
        """Connected. A pending link becomes the live one, and the previous link's store goes only now."""
        pending = self._named(session_id, "pending")
        if pending is None:
            return  # a restore: the live store connected again
        previous = self.path(session_id)
        self._pointer(session_id, "current").write_text(pending.name)
        self._pointer(session_id, "pending").unlink(missing_ok=True)
        if previous != pending:
            _unlink_store(previous)

    def forget(self, session_id: str) -> None:
        _unlink_store(self.path(session_id))
        self._drop_pending(session_id)
        self._pointer(session_id, "current").unlink(missing_ok=True)

    def _drop_pending(self, session_id: str) -> None:
        pending = self._named(session_id, "pending")
        if pending is not None:
            _unlink_store(pending)
        self._pointer(session_id, "pending").unlink(missing_ok=True)


def _unlink_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresStore:
    """All salons' devices in one whatsmeow Postgres database (Cloud SQL): neonize takes the URL as the store name.
    A shared store resumes the right device only when given its JID, so each salon's device JID is kept in the
    registry (Firestore `wa_devices/{session_id}`); a new link asks neonize for a new device, and the registry
    keeps naming the old one until the new one has connected (`remember`)."""

    def __init__(self, url: str, registry: DeviceRegistry):
        self.url, self.registry = url, registry

    def client_args(self, session_id: str, mode: Mode) -> dict[str, Any]:
        from neonize.proto.Neonize_pb2 import JID

        known = self.registry.get(session_id) if mode == "restore" else None
        if known:
            return {"name": self.url, "jid": JID(**known)}
        return {"name": self.url, "uuid": session_id, "new_device": True}

    def has(self, session_id: str) -> bool:
        return self.registry.get(session_id) is not None

    def remember(self, session_id: str, jid: Any) -> None:
        self.registry.save(
            session_id,
            {
                "User": jid.User,
                "Server": jid.Server,
                "Device": jid.Device,
                "RawAgent": jid.RawAgent,
                "Integrator": jid.Integrator,
            },
        )

    def forget(self, session_id: str) -> None:
        self.registry.delete(session_id)  # the device rows themselves go with neonize's logout


class NeonizeWhatsApp:
    def __init__(
        self,
        sink: EventSink,
        stores: SqliteStores | PostgresStore,
        max_clients: int = 200,
        *,
        link_ttl_s: float = LINK_TTL_S,
        proxy_url: str | None = None,
    ):
        self._sink = sink
        self.stores = stores
        self.max_clients = max_clients
        self.link_ttl_s = link_ttl_s
        self.proxy_url = proxy_url
        self._clients: dict[str, Any] = {}
        self._up: set[str] = set()  # sessions whose current client reported Connected and not since a drop
        self._linked: set[str] = set()  # sessions whose current client connected once (its link is done)
        self._down_since: dict[str, float] = {}  # monotonic time a kept client was first found not connected
        self._phones: dict[str, str] = {}
        self._stopping: dict[str, asyncio.Future[Any]] = {}  # a Go Stop() still running past STOP_TIMEOUT_S
        self._hand_over_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neonize-inbound")
        self._lingering: set[asyncio.Future[Any]] = set()  # Go calls of clients we let go that have not returned
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._voice_downloads: asyncio.Semaphore | None = None  # made on the loop, when the first note comes
        self.threads = executor_threads(max_clients)
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="neonize")
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(self._executor)  # neonize runs every Go call through asyncio.to_thread
        self._go_maps = asyncio.Lock()  # see GO_MAP_GAP_S (created here, used only on the loop)
        self._thread = threading.Thread(target=self._loop.run_forever, name="neonize-loop", daemon=True)
        self._thread.start()

    @property
    def held_threads(self) -> int:
        """Threads held for long: clients inside their `Neonize()` call (ours, and ones we let go whose call has not
        returned — neonize's QR loop can outlive its Stop()) and Go stops still running."""
        live = [c for c in list(self._clients.values()) if c.connect_task is not None and not c.connect_task.done()]
        lingering = sum(1 for t in list(self._lingering) if not t.done())
        return len(live) + lingering + sum(1 for f in list(self._stopping.values()) if not f.done())

    def has_credentials(self, session_id: str) -> bool:
        return self.stores.has(session_id)

    # --- driver interface --------------------------------------------------------------------------------

    def _run(self, coro: Any, timeout_s: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def start(self, session_id: str, mode: Mode, phone: str | None = None) -> None:
        asyncio.run_coroutine_threadsafe(self._start_safely(session_id, mode, phone), self._loop)

    def stop(self, session_id: str) -> None:
        self._run_bounded(self._stop_locked(session_id), "stop", session_id)

    def logout(self, session_id: str) -> None:
        self._run_bounded(self._logout(session_id), "logout", session_id)

    def _run_bounded(self, coro: Any, what: str, session_id: str) -> None:
        """The host's actor does not wait past this for a start in progress or a Go call stuck in a dial: the
        stop goes on, on the loop, and the session's next start waits for it."""
        try:
            self._run(coro, timeout_s=STOP_TIMEOUT_S + 5)
        except TimeoutError:
            log.warning("neonize %s still running", what, extra={"session_id": session_id})

    def send_text(self, session_id: str, to_phone: str, text: str) -> str:
        future = asyncio.run_coroutine_threadsafe(self._send(session_id, to_phone, text), self._loop)
        try:
            return future.result(SEND_TIMEOUT_S)
        except TimeoutError as exc:
            future.cancel()  # the Go call runs on: whatever WhatsApp did with the message stands
            raise SendOutcomeUnknown(f"no answer from WhatsApp in {SEND_TIMEOUT_S:.0f} s") from exc

    def close(self) -> None:
        """SIGTERM: every client stopped within 8 s; stops still waiting on a dial are left to the process's end."""
        try:
            self._run(self._stop_all(), timeout_s=8.0)
        except TimeoutError:
            log.warning("neonize clients still stopping at close", extra={"held": self.held_threads})
        finally:
            still_stopping = self.held_threads
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5.0)
            if not self._loop.is_running() and not still_stopping:
                self._loop.close()

    # --- on the loop -------------------------------------------------------------------------------------

    def emit(self, session_id: str, event: DriverEvent | None) -> None:
        if event is not None:
            self._sink(session_id, event)

    async def _hand_over(self, session_id: str, event: DriverEvent | None) -> None:
        """The host journals a message before its sink returns (a Firestore write): on a thread of its own, off the
        loop every client shares and off the Go calls' pool, one at a time so one chat's messages keep their order."""
        await self._loop.run_in_executor(self._hand_over_pool, self.emit, session_id, event)

    def _voice_slots(self) -> asyncio.Semaphore:
        """Downloads of voice notes at once on this host: they share the Go calls' threads with every salon's sends."""
        if self._voice_downloads is None:
            self._voice_downloads = asyncio.Semaphore(VOICE_DOWNLOADS)
        return self._voice_downloads

    def _lock(self, session_id: str) -> asyncio.Lock:
        """One start or stop of a session at a time: two overlapping starts would leave a second client on one store."""
        return self._session_locks.setdefault(session_id, asyncio.Lock())

    async def _start_safely(self, session_id: str, mode: Mode, phone: str | None) -> None:
        """`start` returns at once: whatever goes wrong here still reaches the host (as a drop it backs off from)."""
        try:
            async with self._lock(session_id):
                await self._start(session_id, mode, phone)
        except Exception as exc:
            log.exception("neonize start failed", extra={"session_id": session_id, "mode": mode})
            self.emit(session_id, Disconnected(f"start failed: {exc}"))

    async def _start(self, session_id: str, mode: Mode, phone: str | None) -> None:
        from neonize.aioze.client import NewAClient

        if mode == "restore" and self._reuse(session_id):
            return
        await self._stop(session_id)
        if not await self._previous_stop_ended(session_id):
            return
        # A new link starts from an empty store of its own; the live link's store stays until the new one connects.
        args = await asyncio.to_thread(self.stores.client_args, session_id, mode)
        client = NewAClient(**args, props=device_props())
        self._clients[session_id] = client
        self._down_since.pop(session_id, None)
        self._subscribe(session_id, client, mode, phone)
        async with self._go_maps:
            try:
                task = await client.connect(self._proxy())
            except Exception as exc:
                self._forget_client(session_id)
                self._detach(client)
                self.emit(session_id, Disconnected(f"connect failed: {exc}"))
                return
            await asyncio.sleep(GO_MAP_GAP_S)  # the Go call registers the client in its maps first thing
        task.add_done_callback(lambda t: self._connect_ended(session_id, client, t))
        if mode != "restore":
            self._loop.call_later(self.link_ttl_s, self._link_timeout, session_id, client)

    def _proxy(self) -> Any:
        if not self.proxy_url:
            return None
        from neonize._binder import ProxySettings

        return ProxySettings(proxy_address=self.proxy_url)

    async def _previous_stop_ended(self, session_id: str) -> bool:
        """A Go Stop() of this session still running would, when it ends, delete the new client of the same store
        from neonize's maps (they are keyed by the store, not by the object): the new one waits for it."""
        pending = self._stopping.get(session_id)
        if pending is None:
            return True
        await asyncio.wait([pending], timeout=STOP_TIMEOUT_S)
        if pending.done():
            return True
        log.warning("previous client still stopping; start put off", extra={"session_id": session_id})
        self.emit(session_id, Disconnected("the previous client is still stopping"))
        return False

    def _current(self, session_id: str, client: Any) -> bool:
        return self._clients.get(session_id) is client

    def _guarded(self, session_id: str, client: Any, handler: Any, *, carries_message: bool = False) -> Any:
        """neonize runs a handler as a future nobody awaits (an exception vanishes) and may run it after the client
        stopped (a Go call then dereferences a client that is gone and aborts the process). So: a handler of a
        client that is no longer the session's makes no Go call — a message it carries still reaches the host
        (WhatsApp acknowledged it), without the LID lookup — and one that fails is logged; a failure outside the
        messages is reported as a drop."""

        async def run(c: Any, ev: Any) -> None:
            current = self._current(session_id, client)
            if not current and not carries_message:
                log.info("event of a stopped client ignored", extra={"session_id": session_id})
                return
            try:
                await handler(c, ev, current)
            except Exception as exc:
                if carries_message:  # the socket is fine: one message could not be read
                    log.exception("inbound message not readable", extra={"session_id": session_id})
                    return
                log.exception("neonize event handler failed", extra={"session_id": session_id})
                if self._current(session_id, client):
                    self._up.discard(session_id)
                    self.emit(session_id, Disconnected(f"event handler failed: {exc}"))

        return run

    def _subscribe(self, session_id: str, client: Any, mode: Mode, phone: str | None) -> None:
        from neonize.aioze.events import (
            ClientOutdatedEv,
            ConnectedEv,
            ConnectFailureEv,
            DisconnectedEv,
            KeepAliveRestoredEv,
            KeepAliveTimeoutEv,
            LoggedOutEv,
            MessageEv,
            PairStatusEv,
            StreamReplacedEv,
            TemporaryBanEv,
        )
        from neonize.proto.Neonize_pb2 import UndecryptableMessage as UndecryptableMessageEv  # not re-exported
        from neonize.utils.enum import ClientName, Presence

        pairing_requested = False

        def down(event: DriverEvent) -> None:
            self._up.discard(session_id)
            self.emit(session_id, event)

        async def on_qr(c: Any, data: bytes, _: bool) -> None:
            nonlocal pairing_requested
            if mode == "restore":
                self.emit(session_id, LoggedOut("stored credentials were refused: WhatsApp asks for a new link"))
            elif mode == "pairing":
                if not pairing_requested and phone:  # neonize: PairPhone only once the socket is up
                    pairing_requested = True
                    try:
                        code = await c.PairPhone(phone, True, client_name=ClientName.LINUX)
                    except Exception as exc:
                        self.emit(session_id, Failed(f"pairing code request failed: {exc}"))
                        return
                    self.emit(session_id, PairingCode(code, PAIRING_TTL_S))
            else:
                self.emit(session_id, qr_event(data))

        async def on_pair(c: Any, ev: Any, _: bool) -> None:
            self.emit(session_id, pair_status_event(ev))

        async def on_connected(c: Any, ev: Any, _: bool) -> None:
            # Never "online": a linked device shown online silences the notifications on the owner's phone.
            try:
                await c.send_presence(Presence.UNAVAILABLE)
            except Exception:
                log.warning("could not set presence unavailable", extra={"session_id": session_id})
            if not self._current(session_id, client):
                return  # stopped meanwhile: no Go call for it
            me = await c.get_me()
            if not self._current(session_id, client):
                return  # stopped while asking
            self._phones[session_id] = me.JID.User
            self._down_since.pop(session_id, None)
            await asyncio.to_thread(self.stores.remember, session_id, me.JID)
            self._up.add(session_id)
            self._linked.add(session_id)
            self.emit(session_id, connected_event(me.JID.User, me.PushName))

        async def on_message(c: Any, ev: Any, current: bool) -> None:
            resolved = None
            if current and lid_only(ev):  # WhatsApp hides more senders behind LIDs; whatsmeow's store maps most of them
                try:
                    pn = await c.get_pn_from_lid(ev.Info.MessageSource.Chat)
                    resolved = pn.User if pn.Server == "s.whatsapp.net" and pn.User else None
                except Exception as exc:
                    log.warning("LID lookup failed", extra={"session_id": session_id, "error": str(exc)[:200]})
            event = voice_wanted(ev, inbound_event(ev, resolved)) if current else inbound_event(ev, resolved)
            await self._hand_over(session_id, event)  # journaled before anything slow: the download comes after
            if event is not None and event.audio_pending:
                await self._hand_over(session_id, await fetch_voice(c, ev, event, session_id, self._voice_slots()))

        async def on_undecryptable(c: Any, ev: Any, _: bool) -> None:
            log.warning("undecryptable message", extra={"session_id": session_id, "message_id": ev.Info.ID})
            await self._hand_over(session_id, undecryptable_event(ev))

        handlers: dict[Any, Any] = {
            PairStatusEv: on_pair,
            ConnectedEv: on_connected,
            MessageEv: on_message,
            UndecryptableMessageEv: on_undecryptable,
            LoggedOutEv: lambda c, ev, _: _now(down, logged_out_event(ev)),
            ConnectFailureEv: lambda c, ev, _: _now(down, connect_failure_event(ev)),
            DisconnectedEv: lambda c, ev, _: _now(down, Disconnected("socket closed")),
            KeepAliveTimeoutEv: lambda c, ev, _: _now(self.emit, session_id, KeepAliveTimeout()),
            KeepAliveRestoredEv: lambda c, ev, _: _now(self.emit, session_id, KeepAliveRestored()),
            ClientOutdatedEv: lambda c, ev, _: _now(down, ClientOutdated()),
            StreamReplacedEv: lambda c, ev, _: _now(down, stream_replaced_event(ev)),
            TemporaryBanEv: lambda c, ev, _: _now(down, temporary_ban_event(ev)),
        }
        client.event.qr(self._guarded(session_id, client, on_qr))
        for event_type, handler in handlers.items():
            carries = event_type in (MessageEv, UndecryptableMessageEv)
            client.event(event_type)(self._guarded(session_id, client, handler, carries_message=carries))

    def _connect_ended(self, session_id: str, client: Any, task: asyncio.Task) -> None:
        """The Go call returns only when its client ends. Still the session's client: that is a drop, whatever
        ended it (a dial that failed, a Stop() from elsewhere), and the host must hear of it to reconnect."""
        error = None if task.cancelled() else task.exception()  # retrieved: else asyncio logs it as lost
        if not self._current(session_id, client) or task.cancelled():
            return  # stopped on purpose
        self._up.discard(session_id)
        self.emit(session_id, Disconnected(f"connection ended: {error}" if error else "the client ended"))

    def _link_timeout(self, session_id: str, client: Any) -> None:
        if self._current(session_id, client) and session_id not in self._linked:
            log.info("link not completed in time; client stopped", extra={"session_id": session_id})
            self._forget_client(session_id)
            self._begin_stop(session_id, client)  # before the host hears of it: a start waits for this stop
            self.emit(session_id, LinkExpired())

    def _reuse(self, session_id: str) -> bool:
        """A reconnect of a client whatsmeow is still holding: leave it to whatsmeow's own reconnect, and tell the
        host it is still down (which keeps the host's backoff, and its outage alert, going). Up or down is what
        the client's own events said (neonize's `is_connected` is a coroutine, and `connected` never goes back)."""
        client = self._clients.get(session_id)
        task = getattr(client, "connect_task", None)
        alive = task is not None and not task.done()
        connected = alive and session_id in self._up
        down_for = time.monotonic() - self._down_since.setdefault(session_id, time.monotonic())
        if not keep_client(alive, connected, down_for):
            return False
        if connected:
            self._down_since.pop(session_id, None)
            self.emit(session_id, Connected(phone=self._phones.get(session_id, ""), name=None))
        else:
            self.emit(session_id, Disconnected("whatsmeow is reconnecting the same client"))
        return True

    def _forget_client(self, session_id: str) -> Any:
        self._down_since.pop(session_id, None)
        self._up.discard(session_id)
        self._linked.discard(session_id)
        client = self._clients.pop(session_id, None)
        task = getattr(client, "connect_task", None)
        if task is not None and not task.done():
            self._lingering.add(task)
            task.add_done_callback(self._lingering.discard)
        return client

    async def _stop_locked(self, session_id: str) -> None:
        async with self._lock(session_id):
            await self._stop(session_id)

    async def _stop(self, session_id: str) -> None:
        client = self._forget_client(session_id)
        if client is None:
            return
        stopping = self._begin_stop(session_id, client)
        try:
            await asyncio.wait_for(asyncio.shield(stopping), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("neonize stop still running", extra={"session_id": session_id})

    def _begin_stop(self, session_id: str, client: Any) -> asyncio.Future[None]:
        self._detach(client)
        stopping = asyncio.ensure_future(self._stop_in_go(session_id, client))
        self._stopping[session_id] = stopping

        def ended(f: asyncio.Future[None]) -> None:
            if self._stopping.get(session_id) is f:
                del self._stopping[session_id]

        stopping.add_done_callback(ended)
        return stopping

    async def _stop_in_go(self, session_id: str, client: Any) -> None:
        """Held through the whole Go call: Stop() writes neonize's maps when it finally returns, and a start
        writing them at the same moment aborts the process. A stop during a dial holds it up to the dial's
        own timeout (about a minute)."""
        async with self._go_maps:
            try:
                await client.stop()
            except Exception:
                log.exception("neonize stop failed", extra={"session_id": session_id})

    @staticmethod
    def _detach(client: Any) -> None:
        """neonize stops a client's store again when the Python object is collected, by the store's key, which the
        next client of the same session shares: stopped by us, the old object must not stop the new client later."""
        finalizer = getattr(client, "_stop_finalizer", None)
        if finalizer is not None:
            finalizer.detach()

    async def _send(self, session_id: str, to_phone: str, text: str) -> str:
        client = self._clients.get(session_id)
        if client is None or session_id not in self._up:
            raise SendError("the session is not connected", permanent=False)
        try:
            response = await client.send_message(chat_jid(to_phone), text)
        except Exception as exc:
            raise send_failure(exc) from exc
        return response.ID

    async def _stop_all(self) -> None:
        await asyncio.gather(*(self._stop_locked(sid) for sid in list(self._clients)))

    async def _logout(self, session_id: str) -> None:
        async with self._lock(session_id):
            client = self._clients.get(session_id)
            if client is not None:
                try:
                    await client.logout()
                except Exception:
                    log.warning("neonize logout failed; wiping the store anyway", extra={"session_id": session_id})
            await self._stop(session_id)
            await asyncio.to_thread(self.stores.forget, session_id)


async def _now(call: Any, *args: Any) -> None:
    """A handler that only reports: the call made as a coroutine, as neonize runs handlers."""
    call(*args)

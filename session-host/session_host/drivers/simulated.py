"""A usable WhatsApp stand-in (WHATSAPP_DRIVER=simulated): QR codes that rotate and expire, pairing codes,
"the phone" scanning or entering a code, logouts and drops, all driven through the host's /simulator/ API.
Linked devices are kept in a SQLite file, so a restarted host restores them without a new scan, as neonize's
credential store does."""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiadmin.whatsapp import voice_notes
from session_host.drivers.base import EventSink, Mode
from session_host.events import (
    ClientOutdated,
    Connected,
    Disconnected,
    Inbound,
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

log = logging.getLogger("session_host.simulated")

PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789"


class SimulatorError(Exception):
    """A simulator request that the simulated phone cannot do (wrong code, no QR showing...)."""


@dataclass
class _Live:
    mode: Mode
    phone: str | None = None
    qr_payload: str | None = None
    pairing_code: str | None = None
    rotations: int = 0
    connected: bool = False
    timer: threading.Timer | None = None
    generation: int = field(default=0)


class SimulatedWhatsApp:
    def __init__(
        self,
        sink: EventSink,
        credentials_path: Path,
        *,
        qr_ttl_s: float = 20.0,
        qr_rotations: int = 6,
        pairing_ttl_s: float = 160.0,
        connect_delay_s: float = 0.05,
    ):
        self._sink = sink
        self._lock = threading.RLock()
        self._live: dict[str, _Live] = {}
        self.outbox: dict[str, list[dict[str, object]]] = {}
        # Numbers WhatsApp refuses a first message to (error 463), as it may for a customer who never wrote.
        self.refusing: set[str] = set()
        self.stalling: set[str] = set()  # sends to these are delivered but never answered
        self.down_until: dict[str, float] = {}  # an outage: reconnects fail until then
        self.banned_until: dict[str, float] = {}
        self.lid_store: dict[str, str] = {}  # LID → phone, as whatsmeow's LID store learns it
        self.qr_ttl_s, self.qr_rotations, self.pairing_ttl_s = qr_ttl_s, qr_rotations, pairing_ttl_s
        self.connect_delay_s = connect_delay_s
        credentials_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(credentials_path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS devices (session_id TEXT PRIMARY KEY, phone TEXT, name TEXT, linked_at REAL)"
        )

    # --- credentials -------------------------------------------------------------------------------------

    def has_credentials(self, session_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM devices WHERE session_id=?", (session_id,)).fetchone() is not None

    def _device(self, session_id: str) -> tuple[str, str | None] | None:
        with self._lock:
            return self._db.execute("SELECT phone, name FROM devices WHERE session_id=?", (session_id,)).fetchone()

    def _link(self, session_id: str, phone: str, name: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO devices VALUES (?, ?, ?, ?)", (session_id, phone, name, time.time())
            )

    # --- driver interface --------------------------------------------------------------------------------

    def start(self, session_id: str, mode: Mode, phone: str | None = None) -> None:
        with self._lock:
            self._cancel(session_id)
            live = _Live(mode=mode, phone=phone)
            self._live[session_id] = live
            if mode == "restore":
                self._later(session_id, live, self.connect_delay_s, self._restore)
            elif time.time() < self.down_until.get(session_id, 0.0):  # no socket: no QR, no code
                self._later(session_id, live, self.connect_delay_s, self._unreachable)
            elif mode == "qr":
                self._show_qr(session_id, live)
            else:
                live.pairing_code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))
                self._later(session_id, live, self.pairing_ttl_s, self._expire)
                self._emit(session_id, PairingCode(live.pairing_code, self.pairing_ttl_s))

    def stop(self, session_id: str) -> None:
        with self._lock:
            self._cancel(session_id)
            self._live.pop(session_id, None)

    def logout(self, session_id: str) -> None:
        with self._lock:
            self.stop(session_id)
            self._db.execute("DELETE FROM devices WHERE session_id=?", (session_id,))

    def close(self) -> None:
        with self._lock:
            for session_id in list(self._live):
                self.stop(session_id)

    def send_text(self, session_id: str, to_phone: str, text: str) -> str:
        with self._lock:
            live = self._live.get(session_id)
            if live is None or not live.connected:
                raise SendError("the session is not connected", permanent=False)
            lid = to_phone.removeprefix("lid:")
            if lid != to_phone and not (lid.isdigit() and 1 <= len(lid) <= 24):
                raise SendError(f"{to_phone} is no LID", permanent=True)
            if lid == to_phone and not (to_phone.isdigit() and 10 <= len(to_phone) <= 15):
                raise SendError(f"{to_phone} is not on WhatsApp", permanent=True)
            if to_phone in self.refusing:
                raise SendError("463: the recipient has not written to this number", permanent=True)
            message_id = "3EB0" + secrets.token_hex(8).upper()
            self.outbox.setdefault(session_id, []).append(
                {"id": message_id, "to": to_phone, "text": text, "at": time.time()}
            )
            if to_phone in self.stalling:  # delivered, but the answer never comes back (the real driver's timeout)
                raise SendOutcomeUnknown("no answer from WhatsApp in 30 s")
            return message_id

    # --- the simulated phone (the /simulator/ API) -------------------------------------------------------

    def customer_writes(
        self,
        session_id: str,
        from_phone: str,
        text: str,
        message_id: str | None = None,
        push_name: str | None = None,
        media: str | None = None,
        undecryptable: bool = False,
        lid: str | None = None,
        sent_s_ago: float = 0.0,
        audio: bytes | None = None,
        audio_seconds: int | None = None,
        audio_after_s: float = 0.0,
        audio_fails: bool = False,
    ) -> str:
        """`undecryptable`: WhatsApp delivers it but it cannot be read (send the same message_id again, readable,
        as the retry that usually follows). `lid`: the customer's LID; with `from` too, the LID store learns the
        pair; without `from`, WhatsApp shows the LID alone and the phone is what the store knows, if anything.
        `audio`: a voice note's sound, delivered after the message (`audio_after_s` later, as the real driver's
        download) only when the real driver would download it (voice_notes.fits); `audio_fails`: the download
        fails, and the sound comes empty."""
        if not (media == "voice" and audio and voice_notes.fits(audio_seconds, len(audio))):
            audio = None
        if lid and from_phone:
            self.lid_store[lid] = from_phone
        phone = from_phone or (self.lid_store.get(lid, "") if lid else "")
        message_id = self._incoming(
            session_id,
            phone,
            "" if undecryptable else text,
            from_me=False,
            message_id=message_id,
            push_name=push_name,
            media=media,
            undecryptable=undecryptable,
            chat_lid=lid if not phone else None,
            sent_s_ago=sent_s_ago,
            audio_pending=audio is not None,
            audio_seconds=audio_seconds if media == "voice" else None,
        )
        if audio is not None:
            heard = b"" if audio_fails else audio
            sound = VoiceAudio(message_id, phone, heard, voice_notes.MIME_DEFAULT, lid if not phone else None)
            timer = threading.Timer(audio_after_s, self._emit, args=(session_id, sound))
            timer.daemon = True
            timer.start()
        return message_id

    def customer_reacts(self, session_id: str, from_phone: str, message_id: str, emoji: str) -> str:
        return self._incoming(session_id, from_phone, emoji, from_me=False, reaction_to=message_id)

    def staff_writes(self, session_id: str, to_phone: str, text: str) -> str:
        """The salon's staff answer a customer from the phone itself."""
        return self._incoming(session_id, to_phone, text, from_me=True)

    def _incoming(
        self,
        session_id: str,
        phone: str,
        text: str,
        from_me: bool,
        message_id: str | None = None,
        push_name: str | None = None,
        media: str | None = None,
        reaction_to: str | None = None,
        undecryptable: bool = False,
        chat_lid: str | None = None,
        sent_s_ago: float = 0.0,
        audio_pending: bool = False,
        audio_seconds: int | None = None,
    ) -> str:
        with self._lock:
            live = self._live.get(session_id)
            if live is None or not live.connected:
                raise SimulatorError("the session is not connected")
        message_id = message_id or "3A" + secrets.token_hex(9).upper()
        self._emit(
            session_id,
            Inbound(
                message_id=message_id,
                chat_phone=phone,
                text=text,
                from_me=from_me,
                timestamp=time.time() - sent_s_ago,
                push_name=push_name,
                media=media,
                reaction_to=reaction_to,
                undecryptable=undecryptable,
                chat_lid=chat_lid,
                audio_pending=audio_pending,
                audio_seconds=audio_seconds,
            ),
        )
        if not from_me:
            self.refusing.discard(phone)  # a customer who wrote may be written to
        return message_id

    def scan(self, session_id: str, phone: str, name: str | None = None) -> None:
        with self._lock:
            live = self._live.get(session_id)
            if live is None or live.mode != "qr" or live.qr_payload is None or live.connected:
                raise SimulatorError("no QR code is showing for this session")
            self._connect(session_id, live, phone, name)

    def pair(self, session_id: str, code: str, name: str | None = None) -> None:
        with self._lock:
            live = self._live.get(session_id)
            if live is None or live.mode != "pairing" or live.pairing_code is None or live.connected:
                raise SimulatorError("no pairing code is waiting for this session")
            if code.replace("-", "").upper() != live.pairing_code:
                raise SimulatorError("wrong pairing code")
            assert live.phone is not None
            self._connect(session_id, live, live.phone, name)

    def unlink_from_phone(self, session_id: str) -> None:
        """The owner removed the linked device on the phone."""
        with self._lock:
            if not self.has_credentials(session_id):
                raise SimulatorError("this session has no linked device")
            self.logout(session_id)
        self._emit(session_id, LoggedOut("device removed on the phone"))

    def library_event(self, session_id: str, kind: str, expire_s: float = 3600.0) -> None:
        """What whatsmeow reports without the network dropping: `client_outdated` (WhatsApp refuses the client
        version, 405), `keepalive_timeout` (the socket went deaf; whatsmeow reconnects) or `temporary_ban`
        (the number is blocked for `expire_s`; reconnecting before then is refused again)."""
        events = {
            "client_outdated": ClientOutdated(),
            "keepalive_timeout": KeepAliveTimeout(),
            "temporary_ban": TemporarilyBanned(expire_s, "temporarily banned by WhatsApp (SEND_TO_TOO_MANY_PEOPLE)"),
            "stream_replaced": StreamReplaced(),
        }
        with self._lock:
            live = self._live.get(session_id)
            if live is None or not live.connected:
                raise SimulatorError("the session is not connected")
            if kind not in events:
                raise SimulatorError(f"kind must be one of {', '.join(events)}")
            if kind == "temporary_ban":
                self.banned_until[session_id] = time.time() + expire_s
            if kind != "keepalive_timeout":  # a deaf socket stays open: nothing but the keepalive says so
                self.stop(session_id)
        self._emit(session_id, events[kind])

    def drop(self, session_id: str, for_s: float = 0.0) -> None:
        """A transient network drop, linked or while a QR or pairing code shows; the credentials stay. `for_s`: an
        outage, every reconnect (and every new QR) fails until then."""
        with self._lock:
            live = self._live.get(session_id)
            if live is None:
                raise SimulatorError("the session is not running")
            self.down_until[session_id] = time.time() + for_s
            self.stop(session_id)
        self._emit(session_id, Disconnected("connection lost"))

    def snapshot(self, session_id: str) -> dict[str, object]:
        with self._lock:
            live = self._live.get(session_id)
            device = self._device(session_id)
            return {
                "session_id": session_id,
                "running": live is not None,
                "mode": live.mode if live else None,
                "connected": bool(live and live.connected),
                "linked_phone": device[0] if device else None,
                "pairing_code": live.pairing_code if live else None,
            }

    # --- internals ---------------------------------------------------------------------------------------

    def _emit(self, session_id: str, event: object) -> None:
        try:
            self._sink(session_id, event)  # type: ignore[arg-type]
        except Exception:
            log.exception("event sink failed", extra={"session_id": session_id})

    def _cancel(self, session_id: str) -> None:
        live = self._live.get(session_id)
        if live and live.timer:
            live.timer.cancel()
        if live:
            live.generation += 1

    def _later(self, session_id: str, live: _Live, delay: float, fn) -> None:
        generation = live.generation

        def fire() -> None:
            with self._lock:
                if self._live.get(session_id) is not live or live.generation != generation:
                    return  # superseded
            fn(session_id, live)

        live.timer = threading.Timer(delay, fire)
        live.timer.daemon = True
        live.timer.start()

    def _show_qr(self, session_id: str, live: _Live) -> None:
        with self._lock:
            if live.rotations >= self.qr_rotations:
                live.qr_payload = None
                self._emit(session_id, LinkExpired())
                return
            live.rotations += 1
            live.generation += 1
            live.qr_payload = f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(32)},{secrets.token_urlsafe(32)}"
            self._later(session_id, live, self.qr_ttl_s, self._show_qr)
        self._emit(session_id, QrCode(live.qr_payload, self.qr_ttl_s))

    def _expire(self, session_id: str, live: _Live) -> None:
        with self._lock:
            live.pairing_code = None
        self._emit(session_id, LinkExpired())

    def _unreachable(self, session_id: str, live: _Live) -> None:
        self._emit(session_id, Disconnected("connection refused: WhatsApp unreachable"))

    def _restore(self, session_id: str, live: _Live) -> None:
        device = self._device(session_id)
        if device is None:
            self._emit(session_id, LoggedOut("no stored credentials"))
            return
        if time.time() < self.down_until.get(session_id, 0.0):  # WhatsApp (or the network) is still away
            self._emit(session_id, Disconnected("connection refused: WhatsApp unreachable"))
            return
        if (left := self.banned_until.get(session_id, 0.0) - time.time()) > 0:
            self._emit(session_id, TemporarilyBanned(left, "connect refused: TEMP_BANNED"))
            return
        with self._lock:
            live.connected = True
        self._emit(session_id, Connected(phone=device[0], name=device[1]))

    def _connect(self, session_id: str, live: _Live, phone: str, name: str | None) -> None:
        self._cancel(session_id)
        live.connected, live.qr_payload, live.pairing_code = True, None, None
        self._link(session_id, phone, name)
        self._emit(session_id, Connected(phone=phone, name=name))

"""The session manager: one actor thread owns every decision about the host's sessions. Driver events, commands
from `wa_commands`, reconnect timers and lease ticks all arrive in one inbox and are handled in order, so two
things never change one session at once."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.core import repositories
from aiadmin.core.logs import mask_phone
from aiadmin.core.models import Event, WaCommand, salon_id_from_session, utcnow
from aiadmin.core.settings import get_settings
from aiadmin.core.task_queue import TaskQueue, get_task_queue
from aiadmin.whatsapp import chat, owner_notices, refusals, session_lease, voice_notes
from aiadmin.whatsapp.chat import ChatMessage
from aiadmin.whatsapp.session_status import (
    LINKED,
    WA_SESSIONS,
    SessionState,
    SessionStatus,
    ViewRef,
    format_pairing_code,
    live_views,
    status_for,
)
from aiadmin.whatsapp.voice_notes import VoiceNote
from session_host import host_load, inbound_journal
from session_host.drivers.base import Mode, WhatsAppDriver
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
    StreamReplaced,
    TemporarilyBanned,
    VoiceAudio,
)
from session_host.status_writer import StatusWriter

log = logging.getLogger("session_host.sessions")

St = SessionState
# A dropped session is tried again forever, the last delay repeating: a WhatsApp or network outage of any length
# must not leave a salon dead until its owner relinks. An empty tuple means no reconnecting at all (tests).
DEFAULT_RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DOWN_ALERT_AFTER_S = 600.0  # a session down this long is alerted on (once per outage)
REPLACED_RETRY_S = 30.0  # stream replaced while the lease is still ours: one more try after this long
REPLACED_AGAIN = timedelta(minutes=10)  # a second takeover within this of the retry ends the session
DEAF_RESTART_AFTER_S = 120.0  # keepalives unanswered this long: the client is restarted (whatsmeow may not)
# Restores at host start are spread out (200 salons over ~10 s): every client at once means 200 handshakes, key
# uploads and offline-message floods in the same second, in one process.
RESTORE_SPACING_S = 0.05
# A journaled message not stored after this long is tried again by the watchdog tick (a failed store, or a host
# that died holding it); younger ones are still on their way through the actor.
JOURNAL_REPLAY_AFTER_S = 30.0
JOURNAL_ALERT_AFTER = 5  # tries: a message that cannot be stored is alerted on (and still kept, and tried)
LINK_DEFER_S = 5.0  # a new link left to a lighter host is taken here after this long if that host has not


class SessionHost:
    def __init__(
        self,
        db: firestore.Client,
        driver_factory: Callable[[Callable[[str, DriverEvent], None]], WhatsAppDriver],
        holder: str,
        *,
        lease_ttl_s: float = 30.0,
        reconnect_delays: Sequence[float] = DEFAULT_RECONNECT_DELAYS,
        down_alert_after_s: float = DOWN_ALERT_AFTER_S,
        journal_replay_after_s: float = JOURNAL_REPLAY_AFTER_S,
        deaf_restart_after_s: float = DEAF_RESTART_AFTER_S,
        replaced_retry_s: float = REPLACED_RETRY_S,
        restore_spacing_s: float = RESTORE_SPACING_S,
        tasks: TaskQueue | None = None,
        max_sessions: int | None = None,
        url: str | None = None,
        link_defer_s: float = LINK_DEFER_S,
    ):
        self.db = db
        self.holder = holder
        self.lease_ttl_s = lease_ttl_s
        self.reconnect_delays = tuple(reconnect_delays)
        self.down_alert_after_s = down_alert_after_s
        self.journal_replay_after_s = journal_replay_after_s
        self.deaf_restart_after_s = deaf_restart_after_s
        self._deaf_since: dict[str, datetime] = {}  # keepalives unanswered since…
        self._replaced: dict[str, datetime] = {}  # when a session was last retried after a stream replaced
        self.replaced_retry_s = replaced_retry_s
        self.restore_spacing_s = restore_spacing_s
        # Past this many sessions the host claims no more: the others hold them (and its driver has a thread each).
        self.max_sessions = max_sessions or get_settings().wa_sessions_per_host
        self.url = url or get_settings().session_host_url  # kept in our leases: other hosts pass sends here
        self.link_defer_s = link_defer_s
        self._deferred: dict[str, float] = {}  # new-link commands left to a lighter host, since (monotonic)
        self._down_since: dict[str, datetime] = {}  # sessions dropping since…, until they connect again
        self._alerted: set[str] = set()
        self.driver = driver_factory(self._sink)
        self.tasks = tasks or get_task_queue()
        self._sent: deque[str] = deque(maxlen=5000)
        self._sockets_up: set[str] = set()
        self.writer = StatusWriter(db)
        self._lease_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lease")
        self._renewing = threading.Event()  # sessions whose driver reported Connected since their last drop
        self._inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._status: dict[str, SessionStatus] = {}
        self._owned: set[str] = set()
        self._pairing_phone: dict[str, str] = {}
        self._qr_payload: dict[str, str] = {}  # the QR showing, to render it again for a page that joins late
        self._reconnects: dict[str, int] = {}
        self._seen_commands = SeenIds()
        self._stopping = threading.Event()
        self.listening = threading.Event()  # set once the command listener has its first snapshot
        self._threads: list[threading.Thread] = []
        self._watch: Any = None

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._run, name="sessions", daemon=True),
            threading.Thread(target=self._tick_leases, name="leases", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._publish_load(0)  # seen by the other hosts at once: new links come here while it is the emptiest
        self._inbox.put(("adopt", True))  # restore every linked session this host can hold, without a scan
        pending = self.db.collection(repositories.WA_COMMANDS).where(filter=FieldFilter("state", "==", "pending"))
        self._watch = pending.on_snapshot(self._on_commands)
        log.info("session host started", extra={"holder": self.holder})

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """SIGTERM: stop listening, close every client, release every lease. Bounded by timeout_s."""
        began = time.monotonic()
        if self._watch is not None:  # a stream reopening can hold its lock for long: not past our budget
            closing = threading.Thread(target=self._watch.unsubscribe, name="unsubscribe", daemon=True)
            closing.start()
            closing.join(min(2.0, timeout_s / 4))
            if closing.is_alive():
                log.warning("command listener did not close in time", extra={"holder": self.holder})
        done = threading.Event()
        self._inbox.put(("shutdown", done))
        if not done.wait(max(0.0, timeout_s - (time.monotonic() - began))):
            pending = self._inbox.qsize()
            log.warning("sessions not all let go in time", extra={"holder": self.holder, "pending": pending})
        self._lease_pool.shutdown(wait=False, cancel_futures=True)
        self._stopping.set()
        log.info("session host stopped", extra={"holder": self.holder})

    @property
    def owned(self) -> frozenset[str]:
        return frozenset(self._owned)

    @property
    def sockets_up(self) -> int:
        return len(self._sockets_up)

    @property
    def sent_ids(self) -> deque[str]:
        """Ids of the messages this host sent recently, so their echoes are not taken for staff messages."""
        return self._sent

    # --- inputs ------------------------------------------------------------------------------------------

    def _sink(self, session_id: str, event: DriverEvent) -> None:
        """Called on the driver's thread. A message is journaled before this returns (the driver's handler waits for
        it): WhatsApp has acknowledged it and will not send it again."""
        if isinstance(event, VoiceAudio):  # beside its message, which waits for it; a miss costs only the sound
            if session_id in self._owned:
                self._store_voice(session_id, event)
            return
        if isinstance(event, Inbound) and _worth_keeping(event) and session_id in self._owned and not self._echo(event):
            try:
                inbound_journal.record(self.db, session_id, event)
            except Exception as exc:  # still handled below; only a crash before it is stored would lose it now
                log.warning("inbound message not journaled", extra={"session_id": session_id, "error": str(exc)})
        self._inbox.put(("event", session_id, event))

    def _store_voice(self, sid: str, event: VoiceAudio) -> None:
        note = VoiceNote(
            salon_id=salon_id_from_session(sid),
            phone=_chat_of(event),
            message_id=event.message_id,
            mime=event.mime,
            data=event.audio,
        )
        try:
            voice_notes.store(self.db, note)
        except Exception as exc:  # the turn waits out AI_VOICE_WAIT_S for it, then asks for text
            log.warning("voice note not stored", extra={"session_id": sid, "error": str(exc)[:200]})

    def _on_commands(self, docs: list, changes: list, read_time: Any) -> None:
        self.listening.set()
        for change in changes:
            if change.type.name == "ADDED":
                self._inbox.put(("command", change.document.id, WaCommand.model_validate(change.document.to_dict())))

    def _tick_leases(self) -> None:
        while not self._stopping.wait(self.lease_ttl_s / 3):
            self._inbox.put(("renew",))
            self._inbox.put(("adopt",))
            self._inbox.put(("watchdog",))

    # --- the actor ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._inbox.get()
            kind = item[0]
            try:
                if kind == "shutdown":
                    self._shutdown()
                    item[1].set()
                    return
                handler = getattr(self, f"_handle_{kind}")
                handler(*item[1:])
            except Exception:
                log.exception("session host step failed", extra={"step": kind})

    def _handle_command(self, command_id: str, cmd: WaCommand) -> None:
        if command_id in self._seen_commands:
            return
        sid = cmd.session_id
        if cmd.command in ("stop", "pause"):
            if sid not in self._owned and not self._acquire(sid):
                return  # a live host holds it and will act on the command
            self._seen_commands.add(command_id)
            if cmd.command == "stop":  # uninstalled: unlink the device too
                self.driver.logout(sid)
            else:  # frozen: close the socket, keep the link for when the salon pays
                self.driver.stop(sid)
            state = St.STOPPED if cmd.command == "stop" else St.PAUSED
            self._write_status(sid, status_for(sid, salon_id_from_session(sid), state))
            self._let_go(sid)
            self._done(command_id, f"session {state}")
            return
        if cmd.command == "watch":
            self._handle_watch(command_id, cmd)
            return
        if sid not in self._owned and not self._has_room(sid):
            return  # left pending for a host with room
        if cmd.command == "resume":
            if not self._acquire(sid):
                return
            self._seen_commands.add(command_id)
            self._owned.add(sid)
            self.driver.start(sid, "restore")
            self._done(command_id, "resuming with the stored link")
            return
        if sid not in self._owned and self._leave_to_lighter(command_id, cmd):
            return
        if not self._acquire(sid):
            return
        self._seen_commands.add(command_id)
        if sid not in self._owned:
            self._owned.add(sid)
            self._publish_load()
        if cmd.view is not None:
            self._bind_view(sid, cmd.view)
        current = self._current_status(sid)
        now = utcnow()
        if current and current.state == St.CONNECTED:
            self._done(command_id, "already connected")
            return
        if current and current.state == St.RECONNECTING:  # the API refuses this too; a link that may come back
            self._done(command_id, "refused: reconnecting, the stored link is kept")
            return
        if current and current.state == St.TEMPORARILY_BANNED:  # a new link would not lift the block
            self._done(command_id, "refused: temporarily banned, the stored link is kept")
            return
        if (
            cmd.command == "start_qr"
            and current
            and current.state == St.QR
            and current.qr_expires_at
            and (current.qr_expires_at - now > timedelta(seconds=5))
        ):
            self._done(command_id, "QR already showing")
            return
        if (
            cmd.command == "start_pairing"
            and current
            and current.state == St.PAIRING_CODE
            and self._pairing_phone.get(sid) == cmd.phone_number
            and current.pairing_expires_at
            and current.pairing_expires_at - now > timedelta(seconds=30)
        ):
            self._done(command_id, "pairing code already showing")
            return
        mode: Mode = "qr" if cmd.command == "start_qr" else "pairing"
        if mode == "pairing" and cmd.phone_number:
            self._pairing_phone[sid] = cmd.phone_number
        self._reconnects.pop(sid, None)
        views = [cmd.view] if cmd.view else []
        self._write_status(sid, status_for(sid, salon_id_from_session(sid), St.STARTING, mode=mode, views=views))
        self.driver.start(sid, mode, cmd.phone_number)
        self._done(command_id, f"started in {mode} mode")

    def _handle_watch(self, command_id: str, cmd: WaCommand) -> None:
        """A page opened for this session (a second link, a new tab): it follows every status from now on.
        Only the lease holder writes a status: the host running the session binds it; a session nobody runs is
        held just long enough to bind the view and project the current status into it."""
        sid = cmd.session_id
        if cmd.view is None:
            self._seen_commands.add(command_id)
            self._done(command_id, "no view to watch")
            return
        running = sid in self._owned
        if not running and not self._acquire(sid):
            return  # a live host holds it and will bind the view
        self._seen_commands.add(command_id)
        if not running:
            self._status.pop(sid, None)  # another host may have written since: bind to what is stored
        self._bind_view(sid, cmd.view)
        if not running:
            self._let_go(sid)
        self._done(command_id, "view bound")

    def _handle_event(self, sid: str, event: DriverEvent) -> None:
        if sid not in self._owned:
            log.info("event for a session this host does not hold", extra={"session_id": sid})
            return
        salon_id = salon_id_from_session(sid)
        current = self._current_status(sid)
        mode = current.mode if current else None
        now = utcnow()
        if isinstance(event, KeepAliveTimeout):
            if sid not in self._deaf_since:
                log.warning("keepalive timeout", extra={"session_id": sid})
            self._deaf_since.setdefault(sid, now)
            return
        self._deaf_since.pop(sid, None)  # anything heard from WhatsApp: the socket is alive
        if isinstance(event, KeepAliveRestored):
            return
        if isinstance(event, Connected):
            self._sockets_up.add(sid)
        elif not isinstance(event, Inbound):
            self._sockets_up.discard(sid)
        match event:
            case QrCode(payload=payload, ttl_s=ttl):
                expires = now + timedelta(seconds=ttl)
                self._write_status(
                    sid, status_for(sid, salon_id, St.QR, mode="qr", qr_expires_at=expires), qr_payload=payload
                )
            case PairingCode(code=code, ttl_s=ttl):
                self._write_status(
                    sid,
                    status_for(
                        sid,
                        salon_id,
                        St.PAIRING_CODE,
                        mode="pairing",
                        pairing_code=format_pairing_code(code),
                        pairing_expires_at=now + timedelta(seconds=ttl),
                    ),
                )
            case LinkExpired():
                self.driver.stop(sid)
                if self.driver.has_credentials(sid):  # a relink nobody finished: the old link is still there
                    log.info("relink expired; resuming the stored link", extra={"session_id": sid})
                    self._write_status(sid, status_for(sid, salon_id, St.RECONNECTING, mode=mode))
                    self.driver.start(sid, "restore")
                else:
                    self._write_status(sid, status_for(sid, salon_id, St.EXPIRED, mode=mode))
                    self._let_go(sid)
            case Connected(phone=phone, name=name):
                self._reconnects.pop(sid, None)
                self._recovered(sid, salon_id, now)
                if current is None or current.state not in (*LINKED, St.PAUSED, St.TEMPORARILY_BANNED):
                    # The company first: the page activates as soon as it sees `connected`.
                    self._company(
                        salon_id,
                        {"whatsapp_connected": True, "whatsapp_phone": phone, "whatsapp_connected_at": now},
                        Event(
                            salon_id=salon_id,
                            type="whatsapp_connected",
                            data={"phone": mask_phone(phone), "mode": mode},
                        ),
                    )
                self._write_status(
                    sid, status_for(sid, salon_id, St.CONNECTED, mode=mode, phone_masked=mask_phone(phone), name=name)
                )
            case Disconnected(reason=reason):
                attempt = self._reconnects.get(sid, 0)
                if not self.reconnect_delays:
                    self._give_up(sid, salon_id, St.FAILED, f"disconnected, reconnecting is off: {reason}")
                    return
                self._reconnects[sid] = attempt + 1
                self._still_down(sid, salon_id, now, reason)
                self._write_status(
                    sid,
                    status_for(
                        sid,
                        salon_id,
                        St.RECONNECTING,
                        mode=mode,
                        phone_masked=current.phone_masked if current else None,
                    ),
                )
                self._later(self.reconnect_delays[min(attempt, len(self.reconnect_delays) - 1)], "reconnect", sid)
                log.warning(
                    "session dropped, reconnecting", extra={"session_id": sid, "attempt": attempt + 1, "reason": reason}
                )
            case LoggedOut(reason=reason):
                self.driver.logout(sid)
                self._give_up(sid, salon_id, St.LOGGED_OUT, reason)
                self._tell_owner_logged_out(salon_id, now)
            case StreamReplaced():
                self._stream_replaced(sid, salon_id, current)
            case TemporarilyBanned(expire_s=expire_s, reason=reason):
                self.driver.stop(sid)
                self._banned(sid, salon_id, now + timedelta(seconds=expire_s), reason, current)
            case ClientOutdated():
                self.driver.stop(sid)
                self._give_up(sid, salon_id, St.CLIENT_OUTDATED, "WhatsApp refused the client version (405)")
            case Failed(reason=reason):
                self.driver.stop(sid)
                self._give_up(sid, salon_id, St.FAILED, reason)
            case Inbound():
                self._inbound(sid, salon_id, event)

    def _inbound(self, sid: str, salon_id: int, event: Inbound, attempts: int = 0) -> None:
        if not _worth_keeping(event):
            return  # the bot answers people in private chats, nothing else
        if self._echo(event):
            return  # our own send coming back
        try:
            if _chat_of(event):
                chat.accept_inbound(self.db, self.tasks, self._message(salon_id, event))
            inbound_journal.done(self.db, sid, event)
        except Exception as exc:  # kept in the journal: the watchdog tick tries again, whichever host holds it then
            extra = {"salon_id": salon_id, "message_id": event.message_id, "attempt": attempts + 1, "error": str(exc)}
            if attempts + 1 >= JOURNAL_ALERT_AFTER:
                log.error("inbound message still not stored", extra=extra)  # alerted on
            else:
                log.warning("inbound message not stored yet; kept for a retry", extra=extra)
            try:  # written whole: the first journal write may have failed too
                inbound_journal.record(self.db, sid, event, attempts + 1)
            except Exception:  # Firestore is away: only this process holds it now
                log.error("inbound message held in memory only", extra=extra)  # alerted on
                self._later(self.journal_replay_after_s, "inbound_retry", sid, salon_id, event, attempts + 1)
            return
        if not event.from_me and event.chat_phone:
            try:  # a customer who writes opens a chat WhatsApp had locked (463): what still holds is sent now
                host_url = get_settings().require("session_host_url")
                refusals.reopen(self.db, self.tasks, host_url, salon_id, event.chat_phone)
            except Exception:
                log.exception("could not reopen a refused chat", extra={"salon_id": salon_id})

    @staticmethod
    def _message(salon_id: int, event: Inbound) -> ChatMessage:
        return ChatMessage(
            message_id=event.message_id,
            salon_id=salon_id,
            phone=_chat_of(event),
            text=event.text,
            media=event.media,
            audio_seconds=event.audio_seconds,
            audio_pending=event.audio_pending,
            reaction_to=event.reaction_to,
            undecryptable=event.undecryptable,
            direction="staff" if event.from_me else "customer",
            push_name=event.push_name,
            sent_at=datetime.fromtimestamp(event.timestamp, UTC) if event.timestamp else None,
        )

    def _echo(self, event: Inbound) -> bool:
        return event.from_me and event.message_id in self._sent

    def _replay_journal(self, sessions: frozenset[str] | None = None, older_than_s: float | None = None) -> None:
        """Messages journaled but not stored: a store that failed, or a host that died holding them."""
        if sessions is not None and not sessions:
            return
        older_than_s = self.journal_replay_after_s if older_than_s is None else older_than_s
        try:
            entries = inbound_journal.waiting(self.db, self.owned if sessions is None else sessions, older_than_s)
        except Exception:
            log.exception("inbound journal not readable")
            return
        for entry in entries:
            try:
                event = entry.event()
            except Exception:
                log.exception("inbound journal entry not readable", extra={"session_id": entry.session_id})
                continue
            self._inbound(entry.session_id, salon_id_from_session(entry.session_id), event, entry.attempts)

    def _handle_inbound_retry(self, sid: str, salon_id: int, event: Inbound, attempts: int) -> None:
        if sid in self._owned:
            self._inbound(sid, salon_id, event, attempts)

    def _leave_to_lighter(self, command_id: str, cmd: WaCommand) -> bool:
        """New links go to the least-loaded host: while another live host with room holds fewer sessions, this one
        leaves the link to it, and takes it after `link_defer_s` if nobody has (that host may have died)."""
        first = self._deferred.setdefault(command_id, time.monotonic())
        if time.monotonic() - first >= self.link_defer_s:
            self._deferred.pop(command_id, None)
            return False
        try:
            lighter = host_load.lighter_host(self.db, self.holder, len(self._owned))
        except Exception as exc:
            log.warning("host loads not readable; taking the link", extra={"error": str(exc)[:200]})
            lighter = None
        if lighter is None:
            self._deferred.pop(command_id, None)
            return False
        log.info("new link left to a lighter host", extra={"session_id": cmd.session_id, "to": lighter})
        self._later(self.link_defer_s, "command", command_id, cmd)
        return True

    def _publish_load(self, held: int | None = None) -> None:
        if self._stopping.is_set():
            return  # leaving: a late renewal must not bring this host's load back after it withdrew it
        try:
            count = len(self._owned) if held is None else held
            host_load.publish(self.db, self.holder, self.url, count, self.max_sessions, self.lease_ttl_s)
        except Exception as exc:
            log.warning("host load not published", extra={"error": str(exc)[:200]})

    def _acquire(self, sid: str) -> bool:
        return session_lease.try_acquire(self.db, sid, self.holder, self.lease_ttl_s, self.url)

    def _has_room(self, sid: str) -> bool:
        if len(self._owned) < self.max_sessions:
            return True
        # Alerted on (infra/modules/monitoring): with no other host with room, the salon waits for one.
        log.error("host full; session left to another host", extra={"session_id": sid, "held": len(self._owned)})
        return False

    def _handle_watchdog(self) -> None:
        """A session whose keepalives have gone unanswered for long is restarted: "connected" but deaf otherwise
        stays so (whatsmeow does not always report a disconnect)."""
        held, threads = getattr(self.driver, "held_threads", 0), getattr(self.driver, "threads", 0)
        if threads and held >= 0.8 * threads:  # alerted on: past the pool, every send and stop would queue
            log.error("whatsapp driver threads nearly exhausted", extra={"held": held, "threads": threads})
        self._replay_journal()
        now = utcnow()
        for sid, since in list(self._deaf_since.items()):
            if sid not in self._owned or (now - since).total_seconds() < self.deaf_restart_after_s:
                continue
            del self._deaf_since[sid]
            log.warning("deaf session restarted", extra={"session_id": sid, "deaf_s": (now - since).total_seconds()})
            self.driver.stop(sid)
            self._sockets_up.discard(sid)
            self._inbox.put(("event", sid, Disconnected("keepalive timeouts: restarted by the watchdog")))

    def _handle_reconnect(self, sid: str) -> None:
        """With a stored link, the link is restored. A salon that dropped while its first QR or pairing code showed
        has none: it gets a new one (restoring nothing would read as "logged out" and tell the owner so)."""
        current = self._current_status(sid)
        if sid not in self._owned or not current or current.state not in (St.RECONNECTING, St.TEMPORARILY_BANNED):
            return
        if current.mode in ("qr", "pairing") and not self.driver.has_credentials(sid):
            self.driver.start(sid, current.mode, self._pairing_phone.get(sid))
        else:
            self.driver.start(sid, "restore")

    def _handle_renew(self) -> None:
        """Renewals run off the actor, in parallel: 100 sessions are 200 round trips the events must not wait for."""
        if self._renewing.is_set():
            return
        self._renewing.set()
        threading.Thread(target=self._renew_all, args=(list(self._owned),), daemon=True).start()

    def _renew_all(self, sids: list[str]) -> None:
        try:
            renewed = self._lease_pool.map(
                lambda sid: session_lease.renew(self.db, sid, self.holder, self.lease_ttl_s), sids
            )
            for sid, ok in zip(sids, renewed, strict=True):
                if not ok:
                    self._inbox.put(("lost", sid))
            self._publish_load(len(sids))
        except Exception:
            log.exception("lease renewal failed")
        finally:
            self._renewing.clear()

    def _handle_lost(self, sid: str) -> None:
        if sid not in self._owned:
            return  # released on purpose meanwhile
        log.error("lease lost to another host; closing the session here", extra={"session_id": sid})
        self.driver.stop(sid)
        self._owned.discard(sid)
        self._sockets_up.discard(sid)
        self._status.pop(sid, None)
        self._qr_payload.pop(sid, None)

    def _handle_adopt(self, at_start: bool = False) -> None:
        """Hold every linked session nobody live holds: restore after a restart, take over from a dead host.
        Commands still pending (their session's holder died before acting) are looked at again too. At start,
        sessions WhatsApp refused as outdated are tried again: a new deploy may carry a newer client."""
        pending = self.db.collection(repositories.WA_COMMANDS).where(filter=FieldFilter("state", "==", "pending"))
        for doc in pending.stream():
            if doc.id not in self._seen_commands:
                self._inbox.put(("command", doc.id, WaCommand.model_validate(doc.to_dict())))
        states = [s.value for s in (*LINKED, St.TEMPORARILY_BANNED)]
        states += [St.CLIENT_OUTDATED.value] if at_start else []
        linked = self.db.collection(WA_SESSIONS).where(filter=FieldFilter("state", "in", states))
        adopted: set[str] = set()
        try:
            self._adopt_linked(linked, adopted)
        finally:
            # Taken from a host that stopped renewing: nothing of theirs is on its way any more, so what they
            # journaled and never stored is stored now, not after the usual replay delay.
            self._replay_journal(frozenset(adopted), 0.0)

    def _adopt_linked(self, linked: Any, adopted: set[str]) -> None:
        restoring = 0
        for doc in linked.stream():
            sid = doc.id
            if sid in self._owned:
                continue
            if len(self._owned) >= self.max_sessions:
                if session_lease.live_holder(self.db, sid) is None:  # nobody holds it: say so (alerted)
                    self._has_room(sid)
                break  # full: the other hosts adopt the rest
            if not self._acquire(sid):
                continue
            self._owned.add(sid)
            adopted.add(sid)
            self._status[sid] = stored = SessionStatus.model_validate(doc.to_dict())
            if stored.state == St.TEMPORARILY_BANNED and stored.banned_until and stored.banned_until > utcnow():
                self._resume_at(sid, stored.banned_until)  # held, and opened when the ban ends
                continue
            log.info("restoring session", extra={"session_id": sid})
            if restoring and self.restore_spacing_s:
                self._later(restoring * self.restore_spacing_s, "restore", sid)
            else:
                self.driver.start(sid, "restore")
            restoring += 1

    def _handle_restore(self, sid: str) -> None:
        if sid in self._owned:
            self.driver.start(sid, "restore")

    def _shutdown(self) -> None:
        for sid in list(self._owned):
            self.driver.stop(sid)
        self.writer.flush(3.0)
        for sid in list(self._owned):
            try:
                session_lease.release(self.db, sid, self.holder)
            except Exception:
                log.exception("lease release failed", extra={"session_id": sid})
        self._owned.clear()
        try:
            host_load.forget(self.db, self.holder)  # new links stop waiting for this host at once
        except Exception:
            log.exception("host load not withdrawn")
        self.driver.close()

    # --- helpers -----------------------------------------------------------------------------------------

    def _current_status(self, sid: str) -> SessionStatus | None:
        if sid not in self._status:
            snap = self.db.collection(WA_SESSIONS).document(sid).get()
            if snap.exists:
                self._status[sid] = SessionStatus.model_validate(snap.to_dict())
        return self._status.get(sid)

    def _write_status(self, sid: str, status: SessionStatus, qr_payload: str | None = None) -> None:
        """Decided now, written by the status writer; nothing is written when nothing the page shows changed.
        The pages watching the session stay bound to it across statuses until their views expire."""
        previous = self._status.get(sid)
        status = status.model_copy(update={"views": live_views(previous.views if previous else [], status.views)})
        if qr_payload is None and status.same_as(previous):
            return
        if qr_payload is not None:
            self._qr_payload[sid] = qr_payload
        elif status.state != St.QR:
            self._qr_payload.pop(sid, None)
        self._status[sid] = status
        self.writer.submit(status, qr_payload)
        log.info("session %s", status.state, extra={"session_id": sid, "salon_id": status.salon_id})

    def _bind_view(self, sid: str, view: ViewRef) -> None:
        """A page joined: from now on its view gets every status, starting with the current one."""
        current = self._current_status(sid)
        if current is None or any(v.id == view.id for v in current.views):
            return  # no status yet: the first one carries the view
        rebound = current.model_copy(update={"views": [*current.views, view]})
        payload = self._qr_payload.get(sid) if current.state == St.QR else None
        self._write_status(sid, rebound, qr_payload=payload)

    def _give_up(self, sid: str, salon_id: int, state: SessionState, reason: str) -> None:
        # Alerted on (infra/modules/monitoring): a logged-out salon's customers get no answers until it relinks.
        log.warning("whatsapp session ended", extra={"salon_id": salon_id, "state": state.value, "reason": reason})
        self._company(
            salon_id,
            {"whatsapp_connected": False},
            Event(salon_id=salon_id, type=f"whatsapp_{state.value}", data={"reason": reason}),
        )
        self._write_status(sid, status_for(sid, salon_id, state))
        self._let_go(sid)

    def _tell_owner(
        self,
        salon_id: int,
        kind: owner_notices.Kind,
        dedup: str,
        text: str,
        at: datetime,
        *,
        send: bool = True,
        by_whatsapp: bool = True,
    ) -> None:
        """`{since}` in the text becomes `at` on the salon's clock. Never lets a notice stop the session's work.
        `by_whatsapp=False`: the salon's WhatsApp is what went; only the owner's Telegram or MAX chat can carry it."""
        try:
            company = repositories.get_company(self.db, salon_id)
            if company is None:
                return
            text = text.replace("{since}", f"{at.astimezone(company.zone()):%d.%m %H:%M}")
            host_url = get_settings().session_host_url if send and by_whatsapp else None
            owner_notices.notify(self.db, self.tasks, host_url, company, kind, dedup, text, send=send)
        except Exception:
            log.exception("owner notice failed", extra={"salon_id": salon_id, "kind": kind})

    def _tell_owner_logged_out(self, salon_id: int, now: datetime) -> None:
        """Sent to the owner's Telegram or MAX chat if they bound one; otherwise kept for the owner page (the salon's
        WhatsApp, their other channel, is what just went)."""
        text = (
            "WhatsApp салона отключён от AI Admin ({since}): бот не отвечает клиентам в WhatsApp. "
            "Откройте AI Admin в YCLIENTS и нажмите «Подключить WhatsApp заново»."
        )
        self._tell_owner(salon_id, "logged_out", f"{now:%Y%m%d%H%M}", text, now, by_whatsapp=False)

    def _stream_replaced(self, sid: str, salon_id: int, current: SessionStatus | None) -> None:
        """Another client took the link. If another host holds the lease, it is that host's session now: let go
        without a word (only the lease holder writes a status). If the lease is still ours, try once more after a
        while (a stale client of ours elsewhere dies); a second takeover ends in `failed`, alerted."""
        self.driver.stop(sid)
        self._sockets_up.discard(sid)
        lease = session_lease.lease_ref(self.db, sid).get()
        if not lease.exists or lease.get("holder") != self.holder:
            log.warning("stream replaced by the lease holder; letting go", extra={"session_id": sid})
            self._owned.discard(sid)
            self._status.pop(sid, None)
            return
        last = self._replaced.get(sid)
        if last is not None and utcnow() - last < REPLACED_AGAIN:  # taken over again soon after the retry
            self._replaced.pop(sid, None)
            log.error("whatsapp stream replaced", extra={"salon_id": salon_id, "session_id": sid})  # alerted on
            self._give_up(sid, salon_id, St.FAILED, "another client took over this WhatsApp link (stream replaced)")
            return
        self._replaced[sid] = utcnow()
        log.warning("stream replaced; trying once more", extra={"session_id": sid})
        phone = current.phone_masked if current else None
        self._write_status(sid, status_for(sid, salon_id, St.RECONNECTING, phone_masked=phone))
        self._later(self.replaced_retry_s, "reconnect", sid)

    def _banned(self, sid: str, salon_id: int, until: datetime, reason: str, current: SessionStatus | None) -> None:
        """Kept (the lease, the link); the owner is told when it ends and that no relink is needed; the socket
        is opened again at the expiry."""
        company = repositories.get_company(self.db, salon_id)
        local = until.astimezone(company.zone()) if company else until
        day = "" if local.date() == utcnow().astimezone(local.tzinfo).date() else f" {local:%d.%m}"
        message = (
            f"WhatsApp временно ограничил номер салона — до {local:%H:%M}{day}. Привязывать заново не нужно: "
            "потом бот продолжит работу сам."
        )
        # Alerted on (infra/modules/monitoring): the salon's customers get no answers until it ends.
        log.error("whatsapp temporarily banned", extra={"salon_id": salon_id, "until": until, "reason": reason})
        self._company(
            salon_id,
            {},
            Event(salon_id=salon_id, type="whatsapp_temporarily_banned", data={"until": until, "reason": reason}),
        )
        self._write_status(
            sid,
            status_for(
                sid,
                salon_id,
                St.TEMPORARILY_BANNED,
                message=message,
                banned_until=until,
                phone_masked=current.phone_masked if current else None,
            ),
        )
        self._resume_at(sid, until)

    def _resume_at(self, sid: str, until: datetime) -> None:
        self._later(max(0.0, (until - utcnow()).total_seconds()), "reconnect", sid)

    def _later(self, delay_s: float, *item: Any) -> None:
        """Put `item` into the actor's inbox after `delay_s` (reconnects, retries): decided in order, like the rest."""
        timer = threading.Timer(delay_s, self._inbox.put, args=(item,))
        timer.daemon = True
        timer.start()

    def _still_down(self, sid: str, salon_id: int, now: datetime, reason: str) -> None:
        since = self._down_since.setdefault(sid, now)
        if sid in self._alerted or (now - since).total_seconds() < self.down_alert_after_s:
            return
        self._alerted.add(sid)
        # Alerted on (infra/modules/monitoring): customers get no answers while it lasts; it recovers by itself.
        minutes = round((now - since).total_seconds() / 60, 1)
        log.error("whatsapp session down", extra={"salon_id": salon_id, "down_min": minutes, "reason": reason[:200]})
        self._company(
            salon_id, {}, Event(salon_id=salon_id, type="whatsapp_down", data={"since": since, "reason": reason})
        )
        self._tell_owner(
            salon_id,
            "whatsapp_down",
            f"{since:%Y%m%d%H%M%S}",
            "WhatsApp салона недоступен с {since}: бот переподключается сам и ответит клиентам, когда связь вернётся.",
            since,
            send=False,  # the session that would carry it is the one that is down
        )

    def _recovered(self, sid: str, salon_id: int, now: datetime) -> None:
        since = self._down_since.pop(sid, None)
        if sid in self._alerted and since is not None:
            self._alerted.discard(sid)
            minutes = round((now - since).total_seconds() / 60, 1)
            log.warning("whatsapp session recovered", extra={"salon_id": salon_id, "down_min": minutes})
            self._company(salon_id, {}, Event(salon_id=salon_id, type="whatsapp_recovered", data={"down_min": minutes}))
            self._tell_owner(
                salon_id,
                "whatsapp_back",
                f"{since:%Y%m%d%H%M%S}",
                f"WhatsApp салона был недоступен с {{since}} ({round(minutes)} мин). Связь восстановлена, бот снова "
                "отвечает; сообщения клиентов за это время он получил.",
                since,
            )

    def _let_go(self, sid: str) -> None:
        self.writer.flush(2.0)  # our last status lands before another host may write one
        session_lease.release(self.db, sid, self.holder)  # released before we stop calling it ours
        self._sockets_up.discard(sid)
        self._owned.discard(sid)
        self._reconnects.pop(sid, None)
        self._down_since.pop(sid, None)
        self._alerted.discard(sid)
        self._deaf_since.pop(sid, None)

    def _company(self, salon_id: int, fields: dict[str, Any], event: Event) -> None:
        batch = self.db.batch()
        batch.set(repositories.company_ref(self.db, salon_id), {**fields, "updated_at": utcnow()}, merge=True)
        repositories.add_event(batch, self.db, event)
        batch.commit()

    def _done(self, command_id: str, result: str) -> None:
        self.db.collection(repositories.WA_COMMANDS).document(command_id).update(
            {"state": "done", "result": result, "done_at": utcnow()}
        )


class SeenIds:
    """The commands this host acted on, the newest `limit` of them: a command document lives a day (its TTL) and
    is done once acted on, so older ids are never seen again; the set must not grow for the host's lifetime."""

    def __init__(self, limit: int = 10_000):
        self.limit = limit
        self._ids: dict[str, None] = {}

    def add(self, item: str) -> None:
        self._ids[item] = None
        if len(self._ids) > self.limit:
            del self._ids[next(iter(self._ids))]

    def __contains__(self, item: object) -> bool:
        return item in self._ids


def _chat_of(event: Inbound | VoiceAudio) -> str:
    """The chat a message belongs to: the customer's phone, else (WhatsApp hid the number) their LID."""
    return event.chat_phone or (chat.lid_chat(event.chat_lid) if event.chat_lid else "")


def _worth_keeping(event: Inbound) -> bool:
    return not (event.is_group or event.is_broadcast) and bool(event.text or event.media or event.undecryptable)

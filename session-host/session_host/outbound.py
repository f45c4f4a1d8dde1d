"""The host's /send: one message to one customer, paced per session, sent once per key.

Pacing: replies to customers draw on a per-session token bucket (WA_SEND_BURST tokens, one back every
WA_SEND_INTERVAL_S): a burst of new customers is answered at once, and a customer writing in pieces is not held
behind the session's send interval, while the rate over minutes stays one per interval. Two messages to one chat
keep CHAT_GAP_S apart. Everything else (reminders, notices, the owner's replies) goes one per interval (plus
jitter) and only while the bucket holds more than REPLY_RESERVE tokens, so it never eats the replies' burst.
A freshly linked number warms up (WA_WARMUP_DAYS): a smaller burst, and what it starts to people who never wrote
to it goes one per WA_WARMUP_COLD_INTERVAL_S.
A request that comes too early gets 429 with Retry-After and Cloud Tasks brings it back; one that would wait
DEFER_AFTER_S or more is put back on the queue as a task of its own, due when its turn comes (429s use up the
task's attempts). Permanent refusals (not on
WhatsApp, 463) are recorded and answered 200 so they are not retried; transient ones are 503. A send handed to
WhatsApp with no answer back (a timeout, a driver failure, a host that died mid-send) may have arrived: it is never
resent, but kept as a dead letter for a person to check the chat. Whatever keeps a send from going, its last try is
a dead letter too."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from aiadmin.core import repositories
from aiadmin.core.logs import mask_phone, phone_ref
from aiadmin.core.models import session_id_for, utcnow
from aiadmin.core.queues import OUTBOUND
from aiadmin.core.settings import get_settings
from aiadmin.whatsapp import chat, owner_feed, owner_notices, refusals, session_lease
from aiadmin.whatsapp.chat import ChatMessage, DeadLetter, OutboxEntry, SendRequest
from session_host.events import SendError, SendOutcomeUnknown
from session_host.sessions import SessionHost

log = logging.getLogger("session_host.outbound")


# An entry `sending` this long after its send began has no live attempt behind it (the driver gives up after 30 s):
# the host died or timed out between handing it to WhatsApp and hearing back. It may have arrived.
IN_FLIGHT_S = 60.0
CHAT_GAP_S = 1.0  # two messages to one chat at least this far apart
REPLY_RESERVE = 5  # bucket tokens only replies may take
LINKED_AT_CACHE_S = 300.0  # how long a salon's link time is trusted before it is read again
# A pacing wait this long is a task of its own, due then, not a 429: every 429 is one of the task's attempts
# (20, ~26 min of backoff), and a warming number's queue of cold messages would run out of them.
DEFER_AFTER_S = 30.0
MAX_DEFERRALS = 100


class TokenBucket:
    """`capacity` tokens, one back every `refill_s`; full at the start."""

    def __init__(self, capacity: int, refill_s: float, now: float):
        self.capacity, self.refill_s = capacity, refill_s
        self.tokens, self.at = float(capacity), now

    def take(self, now: float, keep: int = 0) -> float:
        """0 when a token was taken, else the seconds until one above `keep` is back."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) / self.refill_s)
        self.at = now
        if self.tokens >= keep + 1:
            self.tokens -= 1
            return 0.0
        return (keep + 1 - self.tokens) * self.refill_s


class Sender:
    def __init__(
        self,
        db: firestore.Client,
        host: SessionHost,
        interval_s: float = 3.0,
        jitter_s: float = 2.0,
        burst: int = 20,
        clock: Callable[[], float] = time.monotonic,
        warmup_days: int | None = None,
        warmup_burst: int | None = None,
        warmup_cold_interval_s: float | None = None,
        defer_after_s: float = DEFER_AFTER_S,
    ):
        self.db, self.host = db, host
        self.interval_s, self.jitter_s, self.burst = interval_s, jitter_s, burst
        settings = get_settings()
        self.warmup = timedelta(days=settings.wa_warmup_days if warmup_days is None else warmup_days)
        self.warmup_burst = min(burst, warmup_burst or settings.wa_warmup_burst)
        self.warmup_cold_interval_s = warmup_cold_interval_s or settings.wa_warmup_cold_interval_s
        self.defer_after_s = defer_after_s
        self.clock = clock
        self._linked_at: dict[int, tuple[datetime | None, float]] = {}  # salon → (link time, read at)
        self._next_cold: dict[str, float] = {}
        self._deferred_until: dict[str, float] = {}  # the last deferred send's due time, per session
        self._next: dict[str, float] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._last_to: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def reserve(self, session_id: str, phone: str, reply: bool, warming: bool = False, cold: bool = False) -> float:
        """0 when this send may go now (its token and slot are taken), else the seconds to wait. `warming`: the
        number was linked days ago; `cold`: the recipient never wrote to it."""
        with self._lock:
            now = self.clock()
            last = self._last_to.get((session_id, phone))
            if last is not None and now - last < CHAT_GAP_S:
                return CHAT_GAP_S - (now - last)
            waits = []  # the longest of the gaps it must keep: a deferral is decided on the real wait
            if not reply:
                waits.append(self._next.get(session_id, 0.0) - now)
                if warming and cold:
                    waits.append(self._next_cold.get(session_id, 0.0) - now)
            if waits and max(waits) > 0:
                return max(waits)
            capacity = self.warmup_burst if warming else self.burst
            bucket = self._buckets.setdefault(session_id, TokenBucket(capacity, self.interval_s, now))
            bucket.capacity = capacity
            bucket.tokens = min(bucket.tokens, capacity)
            wait = bucket.take(now, keep=0 if reply else min(REPLY_RESERVE, capacity - 1))
            if wait > 0:
                return wait
            if not reply:
                self._next[session_id] = now + self.interval_s + random.uniform(0, self.jitter_s)  # noqa: S311
            if warming and cold and not reply:
                self._next_cold[session_id] = now + self.warmup_cold_interval_s
            self._remember(session_id, phone, now)
            return 0.0

    def _defer(self, req: SendRequest, session_id: str, wait: float, step: float) -> float | None:
        """Back on the queue, due when its turn comes: deferred sends of a session line up `step` apart rather
        than all coming back at the same moment. Two deliveries of one attempt make one task (same name)."""
        with self._lock:
            now = self.clock()
            due = max(now + wait, self._deferred_until.get(session_id, 0.0) + step)
            self._deferred_until[session_id] = due
        later = req.model_copy(update={"deferrals": req.deferrals + 1})
        try:
            chat.queue_send(self.host.tasks, self.host.url, later, via=f"later-{later.deferrals}", delay_s=due - now)
        except Exception as exc:
            log.warning("send not deferred; paced by retries", extra={"error": str(exc)[:200]})
            return None
        log.info("send deferred", extra={"session_id": session_id, "after_s": round(due - now, 1)})
        return due - now

    def _warming(self, salon_id: int) -> bool:
        """Linked less than WA_WARMUP_DAYS ago (a new link restarts the warm-up: the number may be new too)."""
        if not self.warmup:
            return False
        now = self.clock()
        linked_at, read_at = self._linked_at.get(salon_id, (None, -math.inf))
        if now - read_at > LINKED_AT_CACHE_S:
            company = repositories.get_company(self.db, salon_id)
            linked_at = company.whatsapp_connected_at if company else None
            self._linked_at[salon_id] = (linked_at, now)
        return linked_at is not None and utcnow() - linked_at < self.warmup

    def _cold(self, req: SendRequest) -> bool:
        """The recipient never wrote to the salon's number (as far as the kept conversations tell). A one-time code
        and the owner's own notices are never held: they are few, and late they are worthless."""
        if req.private_text:
            return False
        company = repositories.get_company(self.db, req.salon_id)
        if company is not None and company.owner_phone() == req.phone:
            return False
        conv = chat.conversation_ref(self.db, req.salon_id, req.phone).get()
        return not (conv.exists and (conv.to_dict() or {}).get("last_customer_message_at"))

    def _remember(self, session_id: str, phone: str, now: float) -> None:
        self._last_to[(session_id, phone)] = now
        if len(self._last_to) > 10_000:  # only the last CHAT_GAP_S matters
            self._last_to = {k: at for k, at in self._last_to.items() if now - at < CHAT_GAP_S}

    def _pass_on(self, req: SendRequest, session_id: str, attempt: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        """With several hosts a send may reach one that does not hold its session: it goes on to the holder's URL
        (kept in the lease) as a task of its own; the outbox key still sends it once."""
        lease = session_lease.live_holder(self.db, session_id)
        if lease is None or not lease.url or lease.holder == self.host.holder or lease.url == self.host.url:
            return 503, {"error": "this host does not hold the session"}, {"Retry-After": "10"}
        if not chat.queue_send(self.host.tasks, lease.url, req, via=f"{lease.holder}-{attempt}"):
            return 503, {"error": "could not pass the send on"}, {"Retry-After": "10"}
        log.info("send passed to the session's host", extra={"session_id": session_id, "holder": lease.holder})
        return 200, {"state": "passed_on", "holder": lease.holder}, {}

    def _refused(self, req: SendRequest, error: str) -> None:
        """Recorded where the sender asked (the reminder), and counted per salon; never retried."""
        assert req.on_refused is not None
        batch = self.db.batch()
        batch.set(self.db.document(req.on_refused), {"state": "refused", "error": error[:300]}, merge=True)
        counter = {"reminders_refused": firestore.Increment(1)}
        batch.set(repositories.company_ref(self.db, req.salon_id), counter, merge=True)
        batch.commit()

    def _tell_owner_once(self, req: SendRequest, error: str) -> None:
        """A customer WhatsApp will not let us write to (463: they never wrote to this number) is marked on their
        conversation, and the owner is told once per customer — a message from the customer opens the chat."""
        if not refusals.record(self.db, req, error):
            return  # told already
        company = repositories.get_company(self.db, req.salon_id)
        if company is None or company.owner_phone() == req.phone:
            return
        text = (
            f"WhatsApp не доставил сообщение клиенту {chat.shown(req.phone)}: он ещё не писал на номер салона, "
            "и WhatsApp не даёт написать первым. Напишите ему с телефона салона — после его ответа бот сможет "
            "писать сам."
        )
        dedup = f"{phone_ref(req.phone)}-{utcnow():%Y%m%d%H%M}"
        host_url = get_settings().require("session_host_url")
        owner_notices.notify(self.db, self.host.tasks, host_url, company, "refused", dedup, text, customer=req.phone)

    def send(self, req: SendRequest, attempt: int = 0) -> tuple[int, dict[str, Any], dict[str, str]]:
        """`attempt`: Cloud Tasks' retry count of this task. On the queue's last attempt a send that still
        cannot go is dead-lettered instead of vanishing with the task, whatever kept it from going."""
        try:
            status, body, headers = self._attempt(req, attempt)
        except Exception as exc:  # Firestore down, a driver bug: retried, and dead-lettered on the last try
            log.exception("send attempt failed", extra={"salon_id": req.salon_id, "key": req.key})
            status, body, headers = 500, {"error": f"{type(exc).__name__}: {exc}"[:300]}, {}
        if status >= 429 and attempt + 1 >= OUTBOUND.max_attempts:
            return self._last_try_failed(req, str(body.get("error")), attempt + 1)
        return status, body, headers

    def _last_try_failed(
        self, req: SendRequest, reason: str, attempts: int
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Cloud Tasks gives up after this. What the outbox says decides: sent stays sent (a failure after the
        send), an attempt still in flight may yet deliver (unknown), anything else never went (failed)."""
        snap = self.db.collection(chat.OUTBOX).document(req.key).get()
        state = snap.get("state") if snap.exists else None
        if state == "sending":
            return self._dead_letter(req, f"outcome unknown: {reason}", attempts, state="unknown")
        if state is not None:
            return 200, {"state": state, "duplicate": True}, {}
        return self._dead_letter(req, reason, attempts)

    def _dead_letter(
        self, req: SendRequest, reason: str, attempts: int, state: str = "failed"
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        text = chat.PRIVATE_PLACEHOLDER if req.private_text else req.text  # a code is no use to a person later
        letter = DeadLetter(
            key=req.key, salon_id=req.salon_id, phone=req.phone, text=text, reason=reason, attempts=attempts
        )
        batch = self.db.batch()
        batch.set(self.db.collection(chat.DEAD_LETTERS).document(req.key), letter.to_firestore())
        ended = OutboxEntry(key=req.key, salon_id=req.salon_id, phone=req.phone, state=state, error=reason)
        batch.set(self.db.collection(chat.OUTBOX).document(req.key), ended.to_firestore())  # a late retry: no send
        batch.commit()
        # Alerted on (infra/modules/monitoring): a customer did not get a message.
        log.error(
            "send dead-lettered",
            extra={"salon_id": req.salon_id, "to": mask_phone(req.phone), "attempts": attempts, "reason": reason},
        )
        return 200, {"state": "dead_letter", "error": reason}, {}

    def _outcome_unknown(self, req: SendRequest, reason: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Maybe delivered: kept for a person to check the chat (and resend if it is not there), never resent."""
        return self._dead_letter(req, f"outcome unknown: {reason}", 1, state="unknown")

    def _attempt(self, req: SendRequest, attempt: int = 0) -> tuple[int, dict[str, Any], dict[str, str]]:
        ref = self.db.collection(chat.OUTBOX).document(req.key)
        snap = ref.get()
        if snap.exists:
            entry = OutboxEntry.model_validate(snap.to_dict())
            if entry.state != "sending":
                return 200, {"state": entry.state, "message_id": entry.message_id, "duplicate": True}, {}
            if (utcnow() - entry.updated_at).total_seconds() < IN_FLIGHT_S:
                return 429, {"error": "an attempt is in flight"}, {"Retry-After": str(int(IN_FLIGHT_S))}
            return self._outcome_unknown(req, "an earlier attempt never finished (host stopped or timed out)")
        session_id = session_id_for(req.salon_id)
        if session_id not in self.host.owned:
            return self._pass_on(req, session_id, attempt)
        warming = self._warming(req.salon_id)
        cold = warming and not req.reply_to_customer and self._cold(req)
        wait = self.reserve(session_id, req.phone, req.reply_to_customer, warming, cold)
        if wait >= self.defer_after_s and req.deferrals < MAX_DEFERRALS:
            step = self.warmup_cold_interval_s if cold else self.interval_s
            if (after := self._defer(req, session_id, wait, step)) is not None:
                return 200, {"state": "deferred", "after_s": round(after, 2)}, {}
        if wait > 0:
            return 429, {"error": "paced", "retry_after_s": round(wait, 2)}, {"Retry-After": str(math.ceil(wait))}
        entry = OutboxEntry(key=req.key, salon_id=req.salon_id, phone=req.phone)
        try:
            ref.create(entry.to_firestore())  # the claim: of two deliveries of one task, one sends
        except AlreadyExists:
            return 429, {"error": "an attempt is in flight"}, {"Retry-After": str(int(IN_FLIGHT_S))}
        try:
            message_id = self.host.driver.send_text(session_id, req.phone, req.text)
        except SendOutcomeUnknown as exc:
            log.warning("send outcome unknown", extra={"session_id": session_id, "to": mask_phone(req.phone)})
            return self._outcome_unknown(req, str(exc))
        except SendError as exc:
            log.warning(
                "send failed",
                extra={
                    "session_id": session_id,
                    "to": mask_phone(req.phone),
                    "permanent": exc.permanent,
                    "error": str(exc),
                },
            )
            if not exc.permanent:
                ref.delete()
                return 503, {"error": str(exc)}, {"Retry-After": "15"}
            try:  # on to the customer's Telegram or MAX before this send is marked failed: a retry finds it unsent
                fell = chat.fall_through(self.db, self.host.tasks, get_settings().session_host_url, req, str(exc))
            except Exception:
                ref.delete()
                raise
            ref.update({"state": "failed", "error": str(exc), "updated_at": utcnow()})
            if fell:
                return 200, {"state": "fell_through", "error": str(exc)}, {}
            if req.on_refused:
                self._refused(req, str(exc))
            self._tell_owner_once(req, str(exc))
            return 200, {"state": "failed", "error": str(exc)}, {}
        except Exception as exc:  # the driver failed mid-send: the message may have gone
            log.exception("send failed in the driver", extra={"session_id": session_id, "to": mask_phone(req.phone)})
            return self._outcome_unknown(req, f"{type(exc).__name__}: {exc}"[:300])
        self.host.sent_ids.append(message_id)
        ref.update({"state": "sent", "message_id": message_id, "updated_at": utcnow()})
        chat.store_message(
            self.db,
            ChatMessage(
                message_id=message_id,
                salon_id=req.salon_id,
                phone=req.phone,
                direction=req.author,
                text=chat.PRIVATE_PLACEHOLDER if req.private_text else req.text,
            ),
        )
        if req.author == "staff":  # the owner's reply from the page: the open page shows it sent
            company = repositories.get_company(self.db, req.salon_id)
            if company is not None:
                owner_feed.changed(self.host.tasks, company, f"sent-{req.key}")
        log.info("message sent", extra={"session_id": session_id, "to": mask_phone(req.phone)})
        return 200, {"state": "sent", "message_id": message_id}, {}

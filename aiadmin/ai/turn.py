"""One AI turn: the customer's unanswered messages of one conversation → Stage 1 → commands executed → Stage 2 →
the reply through the session host. One turn at a time per conversation, in order; a burst of messages is one
turn; a frozen or uninstalled salon, a bot the owner switched off, a chat the staff are answering, or a
handed-over chat gets silence. Each turn counts the day's activity and, while an owner page is open, refreshes it."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.ai import (
    catalogue,
    conversation,
    english,
    executor,
    normalise,
    nudges,
    party,
    phone_numbers,
    review_answers,
    rules,
)
from aiadmin.ai.commands import Stage1
from aiadmin.ai.providers import Provider
from aiadmin.core import firestore_clock, repositories
from aiadmin.core.errors import ServiceUnavailable
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, utcnow
from aiadmin.core.queues import AI_TURNS
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync import documents as d
from aiadmin.whatsapp import activity, chat, owner_feed, voice_notes
from aiadmin.whatsapp.chat import AiTurnTask, ChatMessage, Reminded, SendRequest
from aiadmin.whatsapp.voice_notes import VoiceNote
from aiadmin.yclients.client import YclientsClient

log = logging.getLogger("aiadmin.ai.turn")

LOCK_TTL = dt.timedelta(seconds=60)
VOICE_POLL_S = 1.5  # how often a turn looks again for a voice note's sound still downloading


@dataclass(frozen=True)
class TurnResult:
    state: str  # answered | merged | skipped | nothing | waiting (for a voice note's sound)
    reply: str | None = None
    commands: tuple[str, ...] = ()
    model_calls: int = 0
    ms: float = 0.0


def _queued(db: firestore.Client, task: AiTurnTask) -> list[ChatMessage]:
    msgs = (
        conversation.conversation_ref(db, task.salon_id, task.phone)
        .collection("messages")
        .where(filter=FieldFilter("turn", "==", "queued"))
        .stream()
    )
    return sorted((ChatMessage.model_validate(m.to_dict()) for m in msgs), key=lambda m: m.stored_at)


def _mark(db: firestore.Client, task: AiTurnTask, messages: list[ChatMessage], state: str) -> None:
    batch = db.batch()
    base = conversation.conversation_ref(db, task.salon_id, task.phone).collection("messages")
    for msg in messages:
        batch.update(base.document(msg.message_id), {"turn": state})
    batch.commit()


def _lock(db: firestore.Client, ref: firestore.DocumentReference, holder: str) -> bool:
    """Take the conversation's turn lock unless another turn holds it. The lock lives `LOCK_TTL` on Firestore's
    clock (stamped by it, judged by the read's time), so no function's skewed clock can hold a conversation."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        before = utcnow()
        snap = ref.get(transaction=tx)
        firestore_clock.observe(snap.read_time, before)
        lock = (snap.to_dict() or {}).get("turn_lock") if snap.exists else None
        taken_at = lock.get("at") if lock else None
        if lock and lock.get("by") != holder and taken_at and taken_at + LOCK_TTL > snap.read_time:
            return False
        tx.set(ref, {"turn_lock": {"by": holder, "at": firestore.SERVER_TIMESTAMP}}, merge=True)
        return True

    return run(db.transaction())


def staff_pause(company: Company, settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=company.owner.staff_pause_min or settings.ai_staff_pause_min)


def _silence_reason(conv: dict, company: Company | None, settings: Settings) -> str | None:
    if company is None or company.integration_status != IntegrationStatus.ACTIVE:
        return f"salon is {company.integration_status if company else 'not registered'}"
    if not company.owner.bot_enabled:
        return "the owner switched the bot off"
    now = utcnow()
    staff_at = conv.get("last_staff_message_at")
    if staff_at and now - staff_at < staff_pause(company, settings):
        return "the staff are answering this customer"
    paused = conv.get("paused_until")
    if paused and paused > now:
        return "handed over to a person"
    return None


def _late(msg: ChatMessage, settings: Settings) -> bool:
    return msg.sent_at is not None and utcnow() - msg.sent_at > dt.timedelta(minutes=settings.ai_late_after_min)


def _off_hours(db: firestore.Client, company: Company) -> bool:
    """Now is outside the salon's hours today (its masters' schedules; no schedule today: closed)."""
    now = dt.datetime.now(company.zone())
    ref = repositories.company_ref(db, company.salon_id).collection(d.SCHEDULES)
    query = ref.where(filter=FieldFilter("date", "==", now.date().isoformat()))
    slots = [slot for snap in query.stream() for slot in (snap.to_dict() or {}).get("slots", [])]
    clock = now.strftime("%H:%M")
    return not slots or not (min(s["start"] for s in slots) <= clock < max(s["end"] for s in slots))


ACTIONS = ("booked", "rescheduled", "cancelled")


def _count(db: firestore.Client, company: Company, task: AiTurnTask, outcomes: list[executor.Outcome]) -> None:
    """The day's activity for the owner page and the daily summary."""
    kinds = {o.kind for o in outcomes}
    actions = [
        activity.BotAction(
            kind=o.kind,
            record_id=o.data.get("record_id"),
            service=o.data.get("service"),
            at=o.data.get("at"),
            customer=task.phone,
        )
        for o in outcomes
        if o.kind in ACTIONS
    ]
    try:
        turn = activity.TurnActivity(
            customer=task.phone,
            message_id=task.message_id,
            off_hours=_off_hours(db, company),
            handed_over="handed_over" in kinds,
            unanswered="unknown_question" in kinds,
            actions=actions,
        )
        activity.record(db, company.salon_id, company.today(), turn)
    except Exception:  # counting must never cost the customer their reply
        log.exception("activity not counted", extra={"salon_id": company.salon_id})


def _customer_phone(conv: dict, chat_name: str, text: str, asked: bool) -> tuple[str | None, bool, str]:
    """The customer's phone, whether this message gave it, and what else the message says.

    A chat WhatsApp names by phone is that phone. A customer whose number WhatsApp hides (`lid:` chat), or who
    writes to the salon's Telegram or MAX bot, is asked for it when the bot needs it: a number is theirs when it
    answers that question or is all the message says («мой друг, 8916…» is not); it is kept for the conversation.
    A number is never read as a date or time."""
    if chat.knows_phone(chat_name):
        return chat_name, False, text
    known = conv.get("customer_phone")
    digits, rest = phone_numbers.find(text)
    said = rest if phone_numbers.says_more(rest) else ""
    if known or digits is None:
        return (str(known) if known else None), False, (text if digits is None else said)
    if asked or not said:
        return digits, True, said
    return None, False, said


def _sound_coming(db: firestore.Client, task: AiTurnTask, queued: list[ChatMessage], settings: Settings) -> bool:
    """A voice note whose sound the host is still downloading, within the wait (judged on Firestore's clock; a
    stamp from a host whose clock is far off is not waited for, so the wait stays bounded)."""
    now = firestore_clock.server_now()
    young = [
        m.message_id
        for m in queued
        if m.audio_pending and 0 <= (now - m.stored_at).total_seconds() < settings.ai_voice_wait_s
    ]
    return bool(young) and len(voice_notes.load(db, task.salon_id, task.phone, young)) < len(young)


def _voice_notes(db: firestore.Client, task: AiTurnTask, queued: list[ChatMessage]) -> list[VoiceNote]:
    """The sound of the turn's voice notes that have any (a failed download leaves an empty note), the latest
    few: one model call hears at most MAX_NOTES, within MAX_BYTES_PER_CALL."""
    voiced = [m.message_id for m in queued if m.media == "voice"]
    notes = [n for n in voice_notes.load(db, task.salon_id, task.phone, voiced) if n.data] if voiced else []
    kept: list[VoiceNote] = []
    for note in reversed(notes[-voice_notes.MAX_NOTES :]):
        if sum(len(n.data) for n in kept) + len(note.data) > voice_notes.MAX_BYTES_PER_CALL:
            break
        kept.insert(0, note)
    return kept


def _heard(db: firestore.Client, audio: list[VoiceNote], stage1: Stage1) -> str:
    """The words the model heard in the turn's voice notes, kept on their messages; "" when none came back."""
    words = [w.strip() for w in stage1.heard[: len(audio)]] if audio else []
    if any(words):
        voice_notes.heard(db, audio, words)
    return " ".join(w for w in words if w)


def _after_visit(
    db: firestore.Client,
    company: Company,
    task: AiTurnTask,
    conv: dict,
    text: str,
    queue: TaskQueue,
    settings: Settings,
    turn: executor.Turn,
) -> executor.Outcome | None:
    """«Стоп» to the salon's own messages, or the answer to a review request — unless the bot has just asked
    something else (a reminder's «1/2/3», which booking, which time): then the message answers that."""
    if conv.get("reminded") or review_answers.busy(turn.state):
        return None
    if review_answers.wants_no_more(text):
        number = turn.phone if turn.phone and turn.phone_verified else None
        return review_answers.opt_out(db, company.salon_id, [task.phone, number or ""])
    if not conv.get("review_asked"):
        return None
    requests = {c.type for c in rules.stage1(turn.text or text, turn.salon, turn.state, turn.today).commands}
    host_url = settings.session_host_url
    return review_answers.read(db, company, task.phone, conv, text, queue, host_url, turn.who, requests)


# What a message may say beside the number the bot asked for without asking for something else.
PASSIVE = frozenset({"confirm", "small_talk", "greeting", "unclear"})


def handle(
    db: firestore.Client,
    task: AiTurnTask,
    yclients: YclientsClient,
    queue: TaskQueue,
    settings: Settings,
    provider: Provider,
) -> TurnResult:
    started = time.perf_counter()
    ref = conversation.conversation_ref(db, task.salon_id, task.phone)
    queued = _queued(db, task)
    if not queued:
        return TurnResult("nothing")  # answered already (a retried task)
    if queued[-1].message_id != task.message_id:
        return TurnResult("merged")  # a later message of the burst will answer all of them
    company = repositories.get_company(db, task.salon_id)
    snap = ref.get()
    reason = _silence_reason(snap.to_dict() or {}, company, settings)
    if reason:
        _mark(db, task, queued, "skipped")
        if company is not None:
            owner_feed.changed(queue, company, task.message_id)
        log.info("turn skipped", extra={"salon_id": task.salon_id, "reason": reason})
        return TurnResult("skipped")
    assert company is not None
    if _late(queued[-1], settings):
        _mark(db, task, queued, "skipped")
        ref.set({"waiting_since": utcnow(), "waiting_reason": "late"}, merge=True)
        owner_feed.changed(queue, company, task.message_id)
        log.warning(
            "late message left for a person", extra={"salon_id": task.salon_id, "sent_at": str(queued[-1].sent_at)}
        )
        return TurnResult("skipped")
    if provider.hears_audio and _sound_coming(db, task, queued, settings):
        # Asked again shortly by a task of its own, not by failing this one: the queue's retries are for failures.
        again = task_name("turn-voice", task.salon_id, task.message_id, time.time_ns())
        queue.enqueue(Task(AI_TURNS.name, again, "ai_turn_worker", task.to_firestore(), delay_s=VOICE_POLL_S))
        log.info("turn waits for a voice note's sound", extra={"salon_id": task.salon_id})
        return TurnResult("waiting")
    if not _lock(db, ref, task.message_id):
        raise ServiceUnavailable("another turn of this conversation is running", code="turn_busy")
    try:
        current = ref.get()
        state = conversation.load(current)
        state.forget_stale_topic(utcnow())
        conv = current.to_dict() or {}
        marker = conv.get("reminded")
        if marker:  # a reminder was sent since the last turn: what the customer says now may answer it
            state.reminded = Reminded.model_validate(marker).record_id
        text = "\n".join(m.text for m in queued if m.text)
        shared = next((m.contact_phone for m in reversed(queued) if m.contact_phone), None)
        if shared:  # sent with the messenger's contact button: the customer's own number, as it knows
            phone, given, said = shared, True, text
        else:
            phone, given, said = _customer_phone(conv, task.phone, text, state.awaiting == "phone")
        verified = chat.knows_phone(task.phone) or bool(shared) or bool(conv.get("phone_verified"))
        own = None if verified else set(conv.get("own_records") or [])
        salon = catalogue.load(db, company, phone or "", company.today().isoformat(), own_records=own)
        if state.reminded and salon.booking(state.reminded) is None:
            state.reminded = None  # that visit is past, cancelled or moved away
        if all(m.reaction_to for m in queued) and not state.reminded:
            _mark(db, task, queued, "skipped")  # a 👍 to an ordinary message needs no answer
            conversation.save(db, task.salon_id, task.phone, state)
            return TurnResult("skipped")
        said = normalise.normalise(said, salon.vocabulary)  # Latin-typed Russian in Cyrillic, misspellings put right
        turn = executor.Turn(
            db,
            yclients,
            salon,
            state,
            phone,
            queued[-1].push_name,
            said,
            queue=queue,
            host_url=settings.session_host_url,
            staff_pause=staff_pause(company, settings),
            seed=task.message_id,
            chat=task.phone,
            phone_verified=verified,
        )
        calls_before = provider.calls
        audio = _voice_notes(db, task, queued) if provider.hears_audio else []
        if text:
            state.language = english.language_of(said or text, state.language)  # type: ignore[assignment]
            state.remember("customer", text)
        after_visit = (
            _after_visit(db, company, task, conv, text, queue, settings, turn) if text and not shared else None
        )
        if after_visit is not None:  # «стоп», or a rating and the words after it: answered without the model
            stage1, outcomes = Stage1(), [after_visit]
        elif shared and not said and not audio:  # only the number, shared with the button the bot offered
            state.remember("customer", "[номер телефона]")
            stage1, outcomes = Stage1(), party.phone_given(turn)
        elif text or audio:
            stage1 = provider.stage1(said, turn.salon, state, turn.today, audio) if said or audio else Stage1()
            heard = _heard(db, audio, stage1)
            if heard:  # understood with the text in the same call; the executor reads the words as if typed
                state.remember("customer", f"[голосовое] {heard}")
                said = turn.text = "\n".join(x for x in (said, normalise.normalise(heard, salon.vocabulary)) if x)
                state.language = english.language_of(said, state.language)  # type: ignore[assignment]
            if not text and not heard:  # nothing came out of the audio (or the model failed): ask for text
                state.remember("customer", "[voice]")
                outcomes = [executor.media_received("voice_unheard")]
            elif given and not any(c.type not in PASSIVE for c in stage1.commands):
                outcomes = party.phone_given(turn)  # the number the bot asked for: what waited for it now
            else:  # anything new the customer asks for wins over what waited for the number
                outcomes = party.execute(turn, stage1.commands)
            if text and not heard and any(m.media == "voice" for m in queued):  # said, not heard: not ignored
                outcomes.append(executor.media_received("voice_unheard" if provider.hears_audio else "voice"))
        elif queued[-1].undecryptable:  # WhatsApp never gave a readable copy: ask for the message again
            state.remember("customer", "[unreadable]")
            stage1, outcomes = Stage1(), [executor.Outcome("unreadable", {})]
        else:  # a voice note or a picture alone: nothing to understand yet, ask for text
            state.remember("customer", f"[{queued[-1].media}]")
            kind = queued[-1].media
            if kind == "voice" and provider.hears_audio:  # it would have listened: the sound never came (too long)
                kind = "voice_unheard"
            stage1, outcomes = Stage1(), [executor.media_received(kind)]
        reply = provider.stage2(said or text, outcomes, turn.salon, state, turn.today)
        state.remember("bot", reply)
        conversation.save(db, task.salon_id, task.phone, state)
        if given:  # with the state that used it: a retried turn reads the number from the message again
            ref.set({"customer_phone": phone, "phone_verified": verified}, merge=True)
        if marker:
            ref.update({"reminded": firestore.DELETE_FIELD})  # now in the bot's memory of the conversation
        kinds_done = {o.kind for o in outcomes}
        if "handed_over" in kinds_done:
            now = utcnow()
            waiting = {"waiting_since": now, "waiting_reason": "handoff"}
            ref.set({"paused_until": now + staff_pause(company, settings), **waiting}, merge=True)
        elif "unknown_question" in kinds_done:
            ref.set({"waiting_since": utcnow(), "waiting_reason": "unanswered"}, merge=True)
        _count(db, company, task, outcomes)
        nudges.credit(db, task.salon_id, task.phone, conv, outcomes)
        chat.queue_send(
            queue,
            settings.require("session_host_url"),
            SendRequest(
                key=f"reply-{task.salon_id}-{task.message_id}",
                salon_id=task.salon_id,
                phone=task.phone,
                text=reply,
                reply_to_customer=True,
                ask_contact=chat.channel_of(task.phone) != "whatsapp" and "phone_needed" in {o.kind for o in outcomes},
            ),
        )
        _mark(db, task, queued[:-1], "merged")
        _mark(db, task, queued[-1:], "answered")
    finally:
        ref.set({"turn_lock": None}, merge=True)
    owner_feed.changed(queue, company, task.message_id)
    ms = round((time.perf_counter() - started) * 1000, 1)
    kinds = tuple(c.type for c in stage1.commands)
    log.info(
        "turn answered",
        extra={"salon_id": task.salon_id, "commands": list(kinds), "outcomes": [o.kind for o in outcomes], "ms": ms},
    )
    return TurnResult("answered", reply, kinds, provider.calls - calls_before, ms)

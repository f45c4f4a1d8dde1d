"""Runs a written dialogue against the real AI turn: Firestore emulator, the YCLIENTS stand-in, the executor and a
provider (rules, or the real google-genai client against the scripted Gemini stand-in). WhatsApp and the quiet
window are left out on purpose (the session-host tests cover them), so 80 dialogues take about a minute.

Each reply is checked for what the dialogue expects and for what no reply may ever do: answer «не понял» where
the dialogue does not allow it, break Russian grammar the templates are known to risk, leak a template hole,
or say a booking was made, moved or cancelled when YCLIENTS shows no such change."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from aiadmin.ai import catalogue, conversation, english, normalise, rules, turn
from aiadmin.ai.providers import Provider
from aiadmin.core import repositories
from aiadmin.core.models import utcnow
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task
from aiadmin.sync.modules import booking_doc
from aiadmin.sync.writer import upsert
from aiadmin.whatsapp import chat
from aiadmin.whatsapp.chat import AiTurnTask, ChatMessage
from aiadmin.yclients.client import YclientsClient
from tests.dialogues.dialogue import Dialogue

NOT_UNDERSTOOD = "Не совсем понял"
# Grammar the templates once got wrong (issue 15) and holes a template can leave.
BAD_RUSSIAN = [
    (re.compile(r"\bв в\b|\bна в\b|\bв на\b", re.I), "doubled preposition"),
    (re.compile(r"\bв вторник", re.I), "«в вторник» (во вторник)"),
    (re.compile(r"\bу мастера \w+ов\b|\bу мастера (Анна|Ирина|Дмитрий|Рамзан)\b"), "name not in the genitive"),
    (re.compile(r"None|\{|\}|\[|\]|nan\b"), "a template hole"),
    (re.compile(r"[^\S\n]{2,}"), "double space"),
    (re.compile(r"\s[,.!?]"), "space before punctuation"),
]
CLAIMS = {
    "booked": re.compile(r"Вы записаны|You are booked"),
    "moved": re.compile(r"перенесена|moved to", re.I),
    "cancelled": re.compile(r"отменена\.|is cancelled", re.I),
}


class RecordingQueue:
    """The turn's sends and handovers, kept instead of dispatched: the replies are read from here."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []

    def enqueue(self, task: Task) -> bool:
        self.tasks.append(task)
        return True

    def ping(self) -> None:
        return None


@dataclass
class World:
    db: Any
    yclients: YclientsClient
    settings: Settings
    salon_id: int
    standin: Any  # devstack.yclients_salon.Salon

    def records_of(self, phone: str) -> list[dict[str, Any]]:
        with self.standin.lock:
            return [
                dict(r) for r in self.standin.records.values() if (r.get("client") or {}).get("phone") == f"+{phone}"
            ]

    def give_booking(self, phone: str, name: str, service_title: str, days_ahead: int = 2) -> dict[str, Any]:
        """A booking the customer already has (made at the front desk), in YCLIENTS and in the synced data."""
        today = repositories.get_company(self.db, self.salon_id).today()
        svc = next(s for s in self.standin.services.values() if s["title"] == service_title)
        length = int(svc.get("duration") or 3600)
        masters = sorted(int(m["id"]) for m in svc["staff"])
        for offset, staff_id in itertools.product(range(days_ahead, days_ahead + 14), masters):
            day = today + dt.timedelta(days=offset)
            free = self.standin.free_times(staff_id, day, length)
            if free:
                at = dt.datetime.fromisoformat(f"{day.isoformat()}T{free[len(free) // 2]['time']}")
                rid = self.standin.book(staff_id, int(svc["id"]), at, phone, name, None)
                record = self.yclients.get_record(self.salon_id, rid)
                bookings = repositories.company_ref(self.db, self.salon_id).collection("bookings")
                upsert(bookings, str(rid), booking_doc(record))
                return dict(self.standin.records[rid])
        raise AssertionError(f"no free time for {service_title} in two weeks")


@dataclass
class Result:
    dialogue: Dialogue
    provider: str
    transcript: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    turns: list[tuple[int, float]] = field(default_factory=list)  # per turn: model calls, milliseconds

    @property
    def passed(self) -> bool:
        return not self.problems

    def story(self) -> str:
        lines = [f"{self.dialogue.name} [{self.provider}]"]
        for said, reply in self.transcript:
            lines += [f"  > {said}", *(f"  < {x}" for x in reply.splitlines())]
        return "\n".join([*lines, *(f"  ! {p}" for p in self.problems)])


_ids = itertools.count(1)


def _times(reply: str) -> list[str]:
    return re.findall(r"\b(\d{2}:\d{2})\b", reply)


def _fill(text: str, previous: str, known: dict[str, str] | None = None) -> str:
    times = _times(previous)
    values = {f"t{i + 1}": t for i, t in enumerate(times)} | ({"tlast": times[-1]} if times else {}) | (known or {})
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _rules_commands(world: World, phone: str, text: str) -> dict[str, Any]:
    """What the scripted model answers when the dialogue gives no Stage 1 of its own: the rules parser's reading
    of the same message and state (so the Gemini run checks the model path, not a second understanding)."""
    ref = conversation.conversation_ref(world.db, world.salon_id, phone)
    state = conversation.load(ref.get())
    company = repositories.get_company(world.db, world.salon_id)
    state.forget_stale_topic(utcnow())
    salon = catalogue.load(world.db, company, phone, company.today().isoformat())
    text = normalise.normalise(text, salon.vocabulary)  # what the turn gives the model too
    state.language = english.language_of(text, state.language)  # type: ignore[assignment]
    return rules.stage1(text, salon, state, company.today()).model_dump(exclude_none=True)


def run(world: World, dialogue: Dialogue, provider: Provider, script: Any | None, phone: str) -> Result:
    result = Result(dialogue, provider.name)
    before = {r["id"]: r for r in world.records_of(phone)}
    known: dict[str, str] = {}
    if dialogue.has_booking:
        given = world.give_booking(phone, dialogue.push_name or "Клиент", dialogue.has_booking)
        before[given["id"]] = given
        known = {"master": given["staff"]["name"], "booked_at": given["datetime"][11:16]}
    previous = ""
    for step in dialogue.turns:
        text = _fill(step.say, previous, known)
        if script is not None:
            stage1 = {"commands": step.gemini} if step.gemini is not None else _rules_commands(world, phone, text)
            script.play({"json": stage1}, {"draft": True})
        seen = _snapshot(world, phone)
        queue = RecordingQueue()
        message_id = f"DLG-{next(_ids)}"
        msg = ChatMessage(
            message_id=message_id,
            salon_id=world.salon_id,
            phone=phone,
            direction="customer",
            text=text,
            push_name=dialogue.push_name,
            turn="queued",
        )
        chat.store_message(world.db, msg)
        task = AiTurnTask(salon_id=world.salon_id, phone=phone, message_id=message_id)
        outcome = turn.handle(world.db, task, world.yclients, queue, world.settings, provider)
        reply = outcome.reply or ""
        result.transcript.append((text, reply))
        result.turns.append((outcome.model_calls, outcome.ms))
        expected = [_fill(x, previous, known) for x in step.has]
        result.problems += [f"turn {text!r}: expected {x!r}" for x in expected if not _contains(reply, x)]
        result.problems += [
            f"turn {text!r}: must not say {x!r}"
            for x in (_fill(y, previous, known) for y in step.lacks)
            if _contains(reply, x)
        ]
        if NOT_UNDERSTOOD in reply and not step.may_not_understand:
            result.problems.append(f"turn {text!r}: «не понял»")
        result.problems += [f"turn {text!r}: {why}" for pattern, why in BAD_RUSSIAN if pattern.search(reply)]
        changed = _changes(seen, _snapshot(world, phone))
        for claim, pattern in CLAIMS.items():
            if pattern.search(reply) and claim not in changed:
                result.problems.append(f"turn {text!r}: claims {claim} but YCLIENTS shows no change")
        if step.handover and not any(t.queue == "outbound" and "администратора" in str(t.payload) for t in queue.tasks):
            result.problems.append(f"turn {text!r}: no handover message to the owner")
        previous = reply
    result.problems += _writes(world, dialogue, phone, before)
    return result


def _contains(reply: str, expected: str) -> bool:
    if expected.startswith("re:"):
        return re.search(expected[3:], reply, re.I) is not None
    return expected.lower() in reply.lower()


def _snapshot(world: World, phone: str) -> dict[int, tuple[str, bool]]:
    return {r["id"]: (r["datetime"], bool(r["deleted"])) for r in world.records_of(phone)}


def _changes(before: dict[int, tuple[str, bool]], after: dict[int, tuple[str, bool]]) -> set[str]:
    out = set()
    for rid, (at, deleted) in after.items():
        if rid not in before:
            out.add("booked")
        elif deleted and not before[rid][1]:
            out.add("cancelled")
        elif at != before[rid][0]:
            out.add("moved")
    return out


def _writes(world: World, dialogue: Dialogue, phone: str, before: dict[int, dict[str, Any]]) -> list[str]:
    """The YCLIENTS writes the dialogue must leave behind, exactly."""
    now = {r["id"]: r for r in world.records_of(phone)}
    made = [r for rid, r in now.items() if rid not in before and not r["deleted"]]
    cancelled = [r for rid, r in now.items() if rid in before and r["deleted"] and not before[rid]["deleted"]]
    moved = [
        r for rid, r in now.items() if rid in before and not r["deleted"] and r["datetime"] != before[rid]["datetime"]
    ]
    problems = []
    for what, got, want in (
        ("bookings made", made, dialogue.books),
        ("bookings cancelled", cancelled, dialogue.cancels),
        ("bookings moved", moved, dialogue.moves),
    ):
        if len(got) != want:
            problems.append(f"{what}: {len(got)}, expected {want}")
    if dialogue.service_booked and made and made[0]["services"][0]["title"] != dialogue.service_booked:
        problems.append(f"booked {made[0]['services'][0]['title']!r}, expected {dialogue.service_booked!r}")
    return problems

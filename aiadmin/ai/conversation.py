"""What the bot remembers of one conversation (`conversations/{salon}_{phone}`, field `ai`): the service, master
and day under discussion, the slots it offered, the proposal awaiting a yes, the customer's name, a bounded
transcript. Saving it extends the conversation's `expire_at` (`chat.RETENTION`, enforced by a TTL policy)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal

from google.cloud import firestore
from pydantic import Field

from aiadmin.ai.commands import Command
from aiadmin.core.models import Document, utcnow
from aiadmin.whatsapp.chat import RETENTION, conversation_ref

TRANSCRIPT_LINES = 12
TOPIC_TTL = timedelta(hours=6)  # a booking being built is forgotten after this long without a word


class Slot(Document):
    staff_id: int
    at: datetime


class Proposal(Document):
    """A change the bot described and asked the customer to confirm; only a yes to exactly this executes it."""

    id: str
    kind: Literal["create", "cancel", "reschedule"]
    service_id: int | None = None
    staff_id: int | None = None
    at: datetime | None = None  # create / reschedule: the new time
    record_id: int | None = None  # cancel / reschedule: which booking
    old_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Together(Document):
    """A time several people can come at once: a slot per person (Firestore keeps no arrays of arrays)."""

    slots: list[Slot]


class Line(Document):
    role: Literal["customer", "bot"]
    text: str
    at: datetime = Field(default_factory=utcnow)


class WaitWish(Document):
    """A taken time the customer may ask to wait for (the last one the bot said was taken)."""

    service_id: int
    staff_id: int | None = None  # the master asked for; None: any who does the service
    day: date
    at: time


class State(Document):
    service_id: int | None = None
    staff_id: int | None = None
    day: date | None = None
    after: time | None = None  # the part of the day asked for («вечером»: after 17:00), kept with the day
    before: time | None = None
    at: time | None = None  # the exact time last asked for or proposed («а в субботу в то же время?»)
    moving: int | None = None  # the booking being rescheduled while its new time is chosen
    reminded: int | None = None  # the booking of the reminder just sent: «1», «да, буду», 👍, «3» are about it
    choices: list[int] = Field(default_factory=list)  # services of the «which one?» question just asked
    offered: list[Slot] = Field(default_factory=list)
    pending: Proposal | None = None
    waitlist: WaitWish | None = None  # «поставьте в лист ожидания» waits for this
    linked: list[Proposal] = Field(default_factory=list)  # booked with the same «да» as `pending` (several people)
    group_services: list[int] = Field(default_factory=list)  # a party's services, one per person
    group_offers: list[Together] = Field(default_factory=list)  # times offered to a party
    awaiting: Literal["name", "which_booking", "day", "service", "handover_offer", "phone"] | None = None
    held: list[Command] = Field(default_factory=list)  # waiting for the phone of a customer WhatsApp hides
    open_question: str | None = None  # a question the bot could not answer, kept for the salon's staff
    client_name: str | None = None
    language: Literal["ru", "en"] = "ru"  # the customer's, from their last message with enough letters
    transcript: list[Line] = Field(default_factory=list)

    def forget_stale_topic(self, now: datetime, after: timedelta = TOPIC_TTL) -> None:
        """A conversation resumed hours later starts a new topic: yesterday's service, day and offers do not
        carry into today's «запишите на 12:00». The name and the transcript stay."""
        last = self.transcript[-1].at if self.transcript else None
        if last is not None and now - last > after:
            self.service_id = self.staff_id = self.day = self.awaiting = self.open_question = None
            self.after = self.before = self.at = self.moving = None
            self.offered, self.choices, self.held, self.waitlist = [], [], [], None
            self.group_services, self.group_offers = [], []

    def remember(self, role: Literal["customer", "bot"], text: str) -> None:
        self.transcript = [*self.transcript, Line(role=role, text=text[:1000])][-TRANSCRIPT_LINES:]


def load(snapshot: firestore.DocumentSnapshot) -> State:
    data = (snapshot.to_dict() or {}).get("ai") if snapshot.exists else None
    return State.model_validate(data) if data else State()


def save(db: firestore.Client, salon_id: int, phone: str, state: State) -> None:
    data = state.model_dump(mode="json")
    conversation_ref(db, salon_id, phone).set({"ai": data, "expire_at": utcnow() + RETENTION}, merge=True)


def engaged(snapshot: firestore.DocumentSnapshot, now: datetime) -> bool:
    """The bot has a proposal or a question of its own open here, or the chat is handed to a person: the salon's
    own offers (a waitlist time, «пора на…») do not break into it."""
    paused = (snapshot.to_dict() or {}).get("paused_until") if snapshot.exists else None
    state = load(snapshot)
    return bool(state.pending or state.linked or state.awaiting or state.moving or (paused and paused > now))

"""Carrying out Stage 1's commands against the salon's synced data and YCLIENTS.

Rules that protect the salon live here, not in a prompt: nothing is written to YCLIENTS without a yes to the exact
proposal the bot described; a confirmed action runs once however often the task is retried (`ai_actions/`, and
the proposal id as the booking's `api_id`); a taken time always comes with the nearest free alternatives; only
real services, prices and masters are named; a failed action is reported as failed."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.ai import catalogue, normalise
from aiadmin.ai.commands import Command
from aiadmin.ai.conversation import Proposal, Slot, State, WaitWish, conversation_ref
from aiadmin.ai.dates import SAME_MASTER, When, parse_when, relative_time
from aiadmin.core import repositories
from aiadmin.core.logs import phone_ref
from aiadmin.core.models import utcnow
from aiadmin.core.names import as_name
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync import documents as d
from aiadmin.sync import notice_plan, outreach_plan, reminder_plan
from aiadmin.sync.modules import booking_doc, bury_record
from aiadmin.sync.writer import upsert
from aiadmin.whatsapp import chat, owner_notices
from aiadmin.yclients.client import YclientsClient, YclientsError, YclientsRejected

log = logging.getLogger("aiadmin.ai.executor")

TODAY_WORD = re.compile(r"сегодн|\btoday\b|\btonight\b", re.IGNORECASE)

AI_ACTIONS = "ai_actions"
PROPOSAL_TTL = dt.timedelta(minutes=30)
SEARCH_DAYS = 7
OFFER = 3


@dataclass
class Outcome:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    db: firestore.Client
    yclients: YclientsClient
    salon: catalogue.Salon
    state: State
    phone: str | None  # the customer's, for YCLIENTS; None while a customer whose number WhatsApp hides has not said it
    push_name: str | None
    text: str
    queue: TaskQueue | None = None
    host_url: str | None = None
    staff_pause: dt.timedelta = dt.timedelta(hours=2)
    seed: str = ""  # the message this turn answers: a retried turn makes the same proposal ids
    chat: str = ""  # the conversation (chat.CHAT); "": the phone's
    # The phone is the customer's as the messenger vouches (WhatsApp's chat, a contact shared with the button);
    # False: a number typed into a chat that does not show one, which may be anyone's.
    phone_verified: bool = True
    _ids: int = 0

    def __post_init__(self) -> None:
        self.chat = self.chat or self.phone or ""

    @property
    def hidden_number(self) -> bool:
        """The chat does not show the customer's number: a phone they type is their word, not the messenger's."""
        return not chat.knows_phone(self.chat) and not self.phone_verified

    @property
    def channel(self) -> str:
        return chat.channel_of(self.chat)

    @property
    def who(self) -> str:
        """The customer as the owner's notices name them."""
        if chat.knows_phone(self.chat):
            return chat.shown(self.chat)
        name = as_name(self.push_name) or self.state.client_name or "без имени"
        if self.channel != "whatsapp":
            number = f", номер +{self.phone}" + ("" if self.phone_verified else ", назвал сам") if self.phone else ""
            return f"{name} ({'Telegram' if self.channel == 'telegram' else 'MAX'}{number})"
        said = f", назвал номер +{self.phone}" if self.phone else ""
        return f"{name} (WhatsApp скрыл номер{said})"

    @property
    def answer_where(self) -> str:
        """Where the owner answers this customer."""
        if self.channel == "whatsapp":
            return "в WhatsApp или на странице AI Admin"
        return f"на странице AI Admin (клиент пишет в {'Telegram' if self.channel == 'telegram' else 'MAX'})"

    def new_id(self) -> str:
        self._ids += 1
        return hashlib.sha256(f"{self.seed}:{self._ids}".encode()).hexdigest()[:16]

    @property
    def zone(self) -> ZoneInfo:
        return self.salon.company.zone()

    @property
    def today(self) -> dt.date:
        return self.salon.company.today()

    @property
    def salon_id(self) -> int:
        return self.salon.company.salon_id


# --- helpers ---------------------------------------------------------------------------------------------


# «ещё через неделю в то же время» after a visit was settled: a week after that visit, not after today
AFTER_THE_VISIT = re.compile(r"(?:ещ[её]|снова|опять).{0,20}через|через.{0,30}(?:в то же время|в тоже время)", re.I)


def _when(turn: Turn, cmd: Command) -> When:
    said = " ".join(x for x in (cmd.date, cmd.time) if x) or turn.text
    base = turn.state.day if turn.state.day and AFTER_THE_VISIT.search(said) else turn.today
    when = parse_when(said, base)
    relative = relative_time(said) if not when.has_time else None
    return _not_passed(turn, _relative(turn, when, relative) if relative else when, said)


def _not_passed(turn: Turn, when: When, said: str) -> When:
    """«в четверг в 10:00» said on a Thursday afternoon means next Thursday: a weekday, unlike «сегодня», names
    today only while its time is still ahead."""
    if when.days != [turn.today] or when.at is None or TODAY_WORD.search(said):
        return when
    if when.at > dt.datetime.now(turn.zone).time():
        return when
    return replace(when, days=[turn.today + dt.timedelta(days=7)])


def _relative(turn: Turn, when: When, relative: str) -> When:
    """«в то же время», «пораньше», «попозже»: against the time asked for or the times just offered."""
    if relative == "same":
        return When(days=when.days, at=turn.state.at, unclear=when.unclear) if turn.state.at else when
    day = turn.state.day
    offered = [s.at.astimezone(turn.zone) for s in turn.state.offered]
    times = [x.time() for x in offered if day is None or x.date() == day] or [x.time() for x in offered]
    if not times and turn.state.at:
        times = [turn.state.at]
    if not times:
        return when
    if relative == "earlier":
        return When(days=when.days, before=min(times), unclear=when.unclear)
    later = (dt.datetime.combine(dt.date.min, max(times)) + dt.timedelta(minutes=1)).time()
    return When(days=when.days, after=later, unclear=when.unclear)


def _same_master(turn: Turn) -> d.StaffDoc | None:
    """«к тому же мастеру»: the one under discussion, else of the times just offered, else of the next visit."""
    for staff_id in (
        turn.state.staff_id,
        turn.state.pending.staff_id if turn.state.pending else None,
        turn.state.offered[0].staff_id if turn.state.offered else None,
        turn.salon.bookings[0].staff_id if turn.salon.bookings else None,
    ):
        if master := turn.salon.master(staff_id):
            return master
    return None


def _local(turn: Turn, at: dt.datetime | None) -> str | None:
    """Times the customer reads are the salon's wall clock (Firestore gives UTC back)."""
    if at is None:
        return None
    return (at.astimezone(turn.zone) if at.tzinfo else at.replace(tzinfo=turn.zone)).replace(tzinfo=None).isoformat()


def _slot_view(turn: Turn, slot: Slot) -> dict[str, Any]:
    master = turn.salon.master(slot.staff_id)
    return {"at": _local(turn, slot.at), "staff": master.name if master else None}


def _working(turn: Turn, masters: list[d.StaffDoc], day: dt.date) -> list[d.StaffDoc]:
    """Masters with working hours that day (synced schedules); all of them if the schedule is not synced."""
    base = repositories.company_ref(turn.db, turn.salon_id).collection(d.SCHEDULES)
    refs = [base.document(f"{m.id}_{day.isoformat()}") for m in masters]
    present = {snap.id.split("_")[0] for snap in turn.db.get_all(refs) if snap.exists}
    same_day = base.where(filter=FieldFilter("date", "==", day.isoformat())).limit(1)
    any_synced = next(iter(same_day.stream()), None) is not None
    return [m for m in masters if str(m.id) in present] if any_synced else masters


def fits(local: dt.time, when: When) -> bool:
    """A start at this wall-clock time is what was asked: the exact time, after or before the part of day."""
    if when.at and local != when.at:
        return False
    if when.after and local < when.after:
        return False
    return not (when.before and local >= when.before)


def find_slots(
    turn: Turn,
    service: d.ServiceDoc,
    masters: list[d.StaffDoc],
    days: list[dt.date],
    when: When,
    limit: int = OFFER,
) -> list[Slot]:
    found: list[Slot] = []
    now = dt.datetime.now(turn.zone)
    for day in days:
        if day < turn.today:
            continue
        for master in _working(turn, masters, day):
            for slot in turn.yclients.book_times(turn.salon_id, master.id, day, [service.id]):
                at = slot.datetime if slot.datetime.tzinfo else slot.datetime.replace(tzinfo=turn.zone)
                if at <= now:
                    continue  # whatever the source says, a time already gone is never offered or booked
                if not fits(at.astimezone(turn.zone).time(), when):
                    continue
                found.append(Slot(staff_id=master.id, at=slot.datetime))
        if len(found) >= limit:
            break
    return sorted(found, key=lambda s: (s.at, s.staff_id))[:limit]


def alternatives(turn: Turn, service: d.ServiceDoc, masters: list[d.StaffDoc], around: dt.date) -> list[Slot]:
    """The nearest free times: that day with any of the masters, then the following days."""
    days = [around + dt.timedelta(days=i) for i in range(SEARCH_DAYS)]
    return find_slots(turn, service, masters, days, When())


class Ambiguous(Exception):
    def __init__(self, options: list[d.ServiceDoc]):
        self.options = options


def _nearest(
    turn: Turn, service: d.ServiceDoc, masters: list[d.StaffDoc], day: dt.date, at: dt.time | None = None
) -> list[Slot]:
    """What to offer instead of a taken time: the free times nearest to it that day (another master at that very
    time first), else the first following day with any, again nearest to that time of day; in time order."""
    wanted = at or dt.time(12, 0)

    def distance(slot: Slot) -> float:
        local = slot.at.astimezone(turn.zone) if slot.at.tzinfo else slot.at
        minutes = local.hour * 60 + local.minute
        return abs(minutes - (wanted.hour * 60 + wanted.minute))

    for offset in range(SEARCH_DAYS + 1):
        found = find_slots(turn, service, masters, [day + dt.timedelta(days=offset)], When(), limit=500)
        if found:
            chosen = sorted(found, key=lambda s: (distance(s), s.at, s.staff_id))[:OFFER]
            return sorted(chosen, key=lambda s: (s.at, s.staff_id))
    return []


def _time_taken(
    turn: Turn,
    service: d.ServiceDoc,
    masters: list[d.StaffDoc],
    day: dt.date,
    at: dt.time,
    asked: str | None = None,
    waitlist: bool = True,
) -> Outcome:
    """Never "busy" alone: the wanted time is taken (with the master asked for, if one was), here are the free
    times nearest to it with any master who does the service (remembered as offered)."""
    alt = _nearest(turn, service, masters, day, at)
    turn.state.offered = alt
    waits = waitlist and turn.salon.company.retention.waitlist.enabled and _on_schedule(turn, masters, day, at)
    if waits:  # «поставьте в лист ожидания» now means this time
        staff_id = next((m.id for m in masters if m.name == asked), None) if asked else None
        turn.state.waitlist = WaitWish(service_id=service.id, staff_id=staff_id, day=day, at=at)
    return Outcome(
        "time_taken",
        {
            "service": service.title,
            "at": dt.datetime.combine(day, at).isoformat(),
            "staff": asked,
            "alternatives": [_slot_view(turn, s) for s in alt],
            "waitlist": waits,
        },
    )


def _on_schedule(turn: Turn, masters: list[d.StaffDoc], day: dt.date, at: dt.time) -> bool:
    """Some master works at that time that day: a time outside the hours can never free up."""
    clock = at.strftime("%H:%M")
    base = repositories.company_ref(turn.db, turn.salon_id).collection(d.SCHEDULES)
    refs = [base.document(f"{m.id}_{day.isoformat()}") for m in masters]
    for snap in turn.db.get_all(refs):
        if any(s["start"] <= clock < s["end"] for s in (snap.to_dict() or {}).get("slots", [])):
            return True
    return False


def _service_for(turn: Turn, cmd: Command) -> d.ServiceDoc | None:
    """The service meant: named exactly, or the only one the words fit, or the one under discussion. Words that
    fit several ("маникюр": with or without gel polish) raise Ambiguous: the customer is asked, not guessed for."""
    current = turn.salon.service(turn.state.service_id)
    if not cmd.service:
        return current
    exact = next((s for s in turn.salon.services if s.title.lower() == cmd.service.strip().lower()), None)
    if exact:
        return exact
    options = turn.salon.services_in(cmd.service)
    if len(options) == 1:
        return options[0]
    if len(options) > 1:
        if current in options:
            return current
        raise Ambiguous(options)
    return turn.salon.match_service(cmd.service) or current


def _client_name(turn: Turn) -> str | None:
    # YCLIENTS's name for a known client; for a new one, WhatsApp's profile name when it reads as a name.
    return turn.state.client_name or (turn.salon.client.name if turn.salon.client else None) or as_name(turn.push_name)


# --- commands --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wish:
    service: d.ServiceDoc
    when: When
    master: d.StaffDoc | None


# Nouns that ask for the price list, not for a service called so («все услуги», «что по ценам», «ваш прайс»)
PRICE_LIST_NOUNS = frozenset({"цена", "услуга", "прайс", "стоимость", "список", "прейскурант", "всё", "что", "это"})


def _names_a_service(words: str) -> bool:
    """Words that name some service (a Russian noun beyond the price list's own), so «not ours» can be said."""
    return any(noun not in PRICE_LIST_NOUNS for noun in normalise.nouns(words))


def _first_name(said: str) -> str | None:
    """The first name in a master as the customer (or the model) wrote it, in the nominative; None if none."""
    return next(
        (n for w in re.findall(r"[а-яё]+", said.lower()) if len(w) >= 3 and (n := normalise.first_name(w))), None
    )


def _wish(turn: Turn, cmd: Command) -> tuple[_Wish | None, Outcome | None]:
    """What a slot search and a booking both start from: the service, the day said and the master, each
    remembered in the conversation; or the question to ask first. A service the salon does not have is answered
    with the salon's own list, not just "which service?"."""
    when = _when(turn, cmd)
    if when.days:  # the day said is kept even when the service is asked for first, and so is the part of day
        turn.state.day = when.days[0]
    if when.after or when.before:
        turn.state.after, turn.state.before = when.after, when.before
    elif not when.at and (turn.state.after or turn.state.before):
        when = When(days=when.days, after=turn.state.after, before=turn.state.before, unclear=when.unclear)
    if when.at:
        turn.state.at = when.at
    master = turn.salon.match_staff(cmd.staff)
    if master is None and SAME_MASTER.search(f"{cmd.staff or ''} {turn.text}"):
        master = _same_master(turn)
    master = master or turn.salon.master(turn.state.staff_id)
    if master:
        turn.state.staff_id = master.id
    service = _service_for(turn, cmd)
    if service is None:
        turn.state.awaiting = "service"
        if cmd.service:
            known = [s.title for s in turn.salon.services[:8]]
            return None, Outcome("unknown_service", {"asked": cmd.service, "known": known})
        return None, Outcome("need_service", {"examples": [s.title for s in turn.salon.services[:5]]})
    turn.state.service_id = service.id
    if turn.state.awaiting == "service":
        turn.state.awaiting, turn.state.choices = None, []
    asked = _first_name(cmd.staff) if cmd.staff and master is None and not SAME_MASTER.search(cmd.staff) else None
    if asked:  # «к Ольге»: one who left, or never worked here; «мой мастер», «любой» are no name, as before
        turn.state.staff_id = None
        names = [m.name for m in turn.salon.masters_for(service)]
        return None, Outcome("unknown_master", {"asked": asked, "service": service.title, "staff": names})
    if when.unclear:
        turn.state.awaiting = "day"
        return None, Outcome("unclear_date", {"said": cmd.date or turn.text})
    if master and master not in turn.salon.masters_for(service):
        master = None  # the remembered master does not do this service: any master who does
    return _Wish(service, when, master), None


def search_slots(turn: Turn, cmd: Command) -> Outcome:
    wish, ask = _wish(turn, cmd)
    if wish is None:
        return ask
    service, when, master = wish.service, wish.when, wish.master
    masters = [master] if master else turn.salon.masters_for(service)
    days = when.days or (
        [turn.state.day] if turn.state.day else [turn.today + dt.timedelta(days=i) for i in range(SEARCH_DAYS)]
    )
    if when.days:
        turn.state.day = when.days[0]
    slots = find_slots(turn, service, masters, days, when)
    if not slots:
        # The master asked for first (their next free days), then anyone who does the service.
        after = days[-1] + dt.timedelta(days=1)
        alt = alternatives(turn, service, masters, after) or alternatives(
            turn, service, turn.salon.masters_for(service), after
        )
        turn.state.offered = alt
        return Outcome(
            "no_slots",
            {
                "service": service.title,
                "days": [x.isoformat() for x in days],
                "alternatives": [_slot_view(turn, s) for s in alt],
            },
        )
    turn.state.offered = slots
    return Outcome("slots", {"service": service.title, "slots": [_slot_view(turn, s) for s in slots]})


def _pick_offered(turn: Turn, cmd: Command) -> Outcome:
    """«давайте второй вариант»: the N-th of the times just offered, with its master."""
    offered, n = turn.state.offered, cmd.pick or 1
    index = n - 1 if n > 0 else n
    if not -len(offered) <= index < len(offered) or not offered:
        return Outcome("no_such_option", {"count": len(offered), "slots": [_slot_view(turn, s) for s in offered]})
    slot = offered[index]
    local = slot.at.astimezone(turn.zone)
    turn.state.staff_id = slot.staff_id
    again = Command(type=cmd.type, date=local.date().isoformat(), time=local.strftime("%H:%M"))
    return reschedule_booking(turn, again) if turn.state.moving else create_booking(turn, again)


def _same_service(turn: Turn, cmd: Command, booking: d.BookingDoc) -> bool:
    if not cmd.service:
        return True
    ids = {s.id for s in booking.services}
    return any(s.id in ids for s in turn.salon.services_in(cmd.service))


def create_booking(turn: Turn, cmd: Command) -> Outcome:
    if cmd.pick is not None:
        return _pick_offered(turn, cmd)
    if (moving := turn.salon.booking(turn.state.moving)) and _same_service(turn, cmd, moving):
        # a time chosen while a booking is being moved moves it; it never makes a second booking
        return reschedule_booking(turn, cmd)
    wish, ask = _wish(turn, cmd)
    if wish is None:
        return ask
    service, when, master = wish.service, wish.when, wish.master
    day = when.days[0] if when.days else turn.state.day
    if not when.days and when.at:  # «давайте в 11:30» after the bot offered times, maybe of another day than asked
        offered = [s for s in turn.state.offered if s.at.astimezone(turn.zone).time() == when.at]
        day = offered[0].at.astimezone(turn.zone).date() if offered else day
    if day is None:
        turn.state.awaiting = "day"
        return Outcome("need_day", {"service": service.title})
    turn.state.day = day
    if when.at is None:
        return search_slots(
            turn, Command(type="search_slots", service=service.title, date=day.isoformat(), time=cmd.time)
        )
    masters = [master] if master else turn.salon.masters_for(service)
    exact = find_slots(turn, service, masters, [day], When(at=when.at), limit=1)
    if not exact:
        asked = master.name if master else None
        return _time_taken(turn, service, turn.salon.masters_for(service), day, when.at, asked)
    if not _client_name(turn):
        turn.state.awaiting = "name"
        turn.state.offered = exact
        return Outcome("need_name", {})
    slot = exact[0]
    turn.state.at = when.at
    turn.state.pending = Proposal(
        id=turn.new_id(), kind="create", service_id=service.id, staff_id=slot.staff_id, at=slot.at
    )
    return Outcome("propose", _proposal_view(turn, turn.state.pending))


def _proposal_view(turn: Turn, p: Proposal) -> dict[str, Any]:
    service, master = turn.salon.service(p.service_id), turn.salon.master(p.staff_id)
    return {
        "kind": p.kind,
        "service": service.title if service else None,
        "price": service.price_min if service else None,
        "staff": master.name if master else None,
        "at": _local(turn, p.at),
        "old_at": _local(turn, p.old_at),
    }


def _pick_booking(turn: Turn, cmd: Command) -> tuple[d.BookingDoc | None, Outcome | None]:
    bookings = turn.salon.bookings
    if not bookings:
        return None, _no_bookings(turn)
    if cmd.type == "reschedule_booking" and (moving := turn.salon.booking(turn.state.moving)):
        return moving, None
    if reminded := turn.salon.booking(turn.state.reminded):  # the answer to a reminder is about its booking
        return reminded, None
    if len(bookings) == 1:
        return bookings[0], None
    when = parse_when(cmd.date or "", turn.today) if cmd.date else When()
    chosen = [b for b in bookings if when.days and b.date in {x.isoformat() for x in when.days}]
    if len(chosen) == 1:
        return chosen[0], None
    turn.state.awaiting = "which_booking"
    return None, Outcome("which_booking", {"bookings": [_booking_view(turn, b) for b in bookings]})


def _booking_view(turn: Turn, b: d.BookingDoc) -> dict[str, Any]:
    master = turn.salon.master(b.staff_id)
    return {
        "id": b.id,
        "at": _local(turn, b.starts_at),
        "services": [s.title for s in b.services],
        "staff": master.name if master else None,
    }


def cancel_booking(turn: Turn, cmd: Command) -> Outcome:
    booking, problem = _pick_booking(turn, cmd)
    if problem:
        return problem
    assert booking is not None
    offer_move = turn.state.reminded == booking.id  # «3» to a reminder: moving is offered before cancelling
    turn.state.pending = Proposal(
        id=turn.new_id(),
        kind="cancel",
        record_id=booking.id,
        staff_id=booking.staff_id,
        service_id=booking.services[0].id if booking.services else None,
        old_at=booking.starts_at,
    )
    return Outcome("propose", {**_proposal_view(turn, turn.state.pending), "offer_move": offer_move})


def reschedule_booking(turn: Turn, cmd: Command) -> Outcome:
    booking, problem = _pick_booking(turn, Command(type="reschedule_booking"))
    if problem:
        return problem
    assert booking is not None and booking.starts_at is not None
    service = turn.salon.service(booking.services[0].id if booking.services else None)
    if service is None:
        return Outcome("action_failed", {"reason": "unknown_service"})
    when = _when(turn, cmd)
    if when.unclear:
        return Outcome("unclear_date", {"said": cmd.date or turn.text})
    old_day = booking.starts_at.astimezone(turn.zone).date()
    chosen_day = turn.state.day if turn.state.moving == booking.id else None
    day = when.days[0] if when.days else chosen_day or old_day
    if when.at is None:
        # the new time is chosen turn by turn; whatever time comes next moves this booking, with its master
        turn.state.service_id, turn.state.staff_id, turn.state.moving = service.id, booking.staff_id, booking.id
        return search_slots(
            turn, Command(type="search_slots", service=service.title, date=day.isoformat(), time=cmd.time)
        )
    master = turn.salon.master(booking.staff_id)
    masters = [master] if master else turn.salon.masters_for(service)
    exact = find_slots(turn, service, masters, [day], When(at=when.at), limit=1)
    if not exact:  # a booking moves with its master
        return _time_taken(turn, service, masters, day, when.at, waitlist=False)  # a move waits for no one
    turn.state.pending = Proposal(
        id=turn.new_id(),
        kind="reschedule",
        record_id=booking.id,
        service_id=service.id,
        staff_id=exact[0].staff_id,
        at=exact[0].at,
        old_at=booking.starts_at,
    )
    return Outcome("propose", _proposal_view(turn, turn.state.pending))


def confirm(turn: Turn, cmd: Command) -> Outcome:
    p = turn.state.pending
    if p is None:
        return Outcome("nothing_to_confirm", {})
    if utcnow() - p.created_at > PROPOSAL_TTL:
        turn.state.pending = None
        return Outcome("proposal_expired", _proposal_view(turn, p))
    outcome = _execute_once(turn, p)
    turn.state.pending = None
    if outcome.kind in ("booked", "rescheduled", "cancelled"):
        turn.state.offered, turn.state.moving = [], None
    if outcome.kind in ("rescheduled", "cancelled"):
        turn.state.reminded = None
    return outcome


def _execute_once(turn: Turn, p: Proposal) -> Outcome:
    """At most once per proposal: a retried task finds the action's record and reports it again."""
    ref = turn.db.collection(AI_ACTIONS).document(f"{turn.salon_id}_{p.id}")
    try:
        ref.create(
            {
                "salon_id": turn.salon_id,
                "phone": turn.chat,
                "proposal": p.model_dump(mode="json"),
                "state": "executing",
                "at": utcnow(),
            }
        )
    except gexc.Conflict:
        done = ref.get().to_dict() or {}
        if done.get("state") == "done":
            return _own(turn, Outcome(done["outcome_kind"], done.get("outcome", {})))
        recovered = _recover(turn, p)
        if recovered is not None:
            ref.update({"state": "done", "outcome_kind": recovered.kind, "outcome": recovered.data})
            return _own(turn, recovered)
    outcome = _own(turn, _execute(turn, p))
    ref.update({"state": "done", "outcome_kind": outcome.kind, "outcome": outcome.data, "done_at": utcnow()})
    return outcome


def _own(turn: Turn, outcome: Outcome) -> Outcome:
    """A chat whose number WhatsApp hides may see and change what it booked, nothing else of the number it typed
    (however the booking was learned: made now, found after a crash, or answered again to a retried task)."""
    if turn.hidden_number and outcome.kind == "booked" and outcome.data.get("record_id"):
        record_id = int(outcome.data["record_id"])
        chat.remember_booking_chat(turn.db, turn.salon_id, record_id, turn.chat)  # its reminders come here
        ref = conversation_ref(turn.db, turn.salon_id, turn.chat)
        ref.set({"own_records": firestore.ArrayUnion([record_id])}, merge=True)
    return outcome


def _recover(turn: Turn, p: Proposal) -> Outcome | None:
    """An earlier attempt died mid-way: did YCLIENTS get the booking? (we sent the proposal id as `api_id`)"""
    if p.kind != "create" or p.at is None:
        return None
    day = p.at.astimezone(turn.zone).date().isoformat()
    records, _ = turn.yclients.get_records(turn.salon_id, 1, start_date=day, end_date=day, staff_id=p.staff_id)
    mine = next((r for r in records if r.api_id == p.id and not r.deleted), None)
    return Outcome("booked", {**_proposal_view(turn, p), "record_id": mine.id}) if mine else None


def _execute(turn: Turn, p: Proposal) -> Outcome:
    view = _proposal_view(turn, p)
    service = turn.salon.service(p.service_id)
    try:
        if p.kind == "create":
            assert p.at is not None and p.staff_id is not None and p.service_id is not None and turn.phone
            record_id = turn.yclients.book_record(
                turn.salon_id,
                phone=turn.phone,
                name=_client_name(turn) or "Клиент",
                staff_id=p.staff_id,
                service_id=p.service_id,
                at=p.at.astimezone(turn.zone).replace(tzinfo=None),
                api_id=p.id,
            )
            _reflect(turn, record_id)
            return Outcome("booked", {**view, "record_id": record_id})
        if p.kind == "cancel":
            assert p.record_id is not None
            before = turn.salon.booking(p.record_id)
            turn.yclients.delete_record(turn.salon_id, p.record_id)
            bury_record(_bookings(turn), p.record_id)
            gone = d.BookingDoc(id=p.record_id, deleted=True)
            notice_plan.remember_told(turn.db, turn.salon_id, gone)
            _free(turn, before, gone)
            return Outcome("cancelled", {**view, "record_id": p.record_id})
        assert p.record_id is not None and p.at is not None and p.staff_id is not None and p.service_id is not None
        before = turn.salon.booking(p.record_id)
        turn.yclients.move_record(
            turn.salon_id,
            p.record_id,
            staff_id=p.staff_id,
            service_id=p.service_id,
            at=p.at.astimezone(turn.zone).replace(tzinfo=None),
        )
        _reflect(turn, p.record_id)
        _free(turn, before, d.BookingDoc(id=p.record_id, starts_at=p.at, staff_id=p.staff_id))
        return Outcome("rescheduled", {**view, "record_id": p.record_id})
    except YclientsRejected as exc:
        alt: list[Slot] = []
        if service is not None and p.at is not None and p.kind != "cancel":
            local = p.at.astimezone(turn.zone)
            alt = _nearest(turn, service, turn.salon.masters_for(service), local.date(), local.time())
            alt = [s for s in alt if (s.at, s.staff_id) != (p.at, p.staff_id)]  # not the time just refused
            turn.state.offered = alt
        log.warning(
            "action refused by YCLIENTS", extra={"salon_id": turn.salon_id, "kind": p.kind, "reason": exc.message}
        )
        return Outcome(
            "action_failed", {**view, "reason": exc.message, "alternatives": [_slot_view(turn, s) for s in alt]}
        )
    except YclientsError as exc:
        log.error("action failed", extra={"salon_id": turn.salon_id, "kind": p.kind, "reason": exc.message})
        if p.kind == "create":  # no answer is not a no: YCLIENTS may have booked it
            try:
                recovered = _recover(turn, p)
            except YclientsError:
                recovered = None
            if recovered is not None:
                return recovered
        return Outcome("action_failed", {**view, "reason": "unavailable", "alternatives": []})


def _bookings(turn: Turn) -> firestore.CollectionReference:
    return repositories.company_ref(turn.db, turn.salon_id).collection(d.BOOKINGS)


def _reflect(turn: Turn, record_id: int) -> None:
    """Our own change is in the synced bookings at once ("my bookings" right after a yes must show it); the
    record webhook that follows finds it unchanged. A failure here is logged: the next sync pass repairs it."""
    try:
        doc = booking_doc(turn.yclients.get_record(turn.salon_id, record_id))
        notice_plan.remember_told(turn.db, turn.salon_id, doc)  # the customer hears it from the bot: no notice
        if upsert(_bookings(turn), str(record_id), doc) and turn.queue is not None:
            reminder_plan.schedule(turn.queue, turn.salon.company, [doc])
    except YclientsError as exc:
        log.warning(
            "booking not reflected yet", extra={"salon_id": turn.salon_id, "record_id": record_id, "error": exc.message}
        )


def _free(turn: Turn, before: d.BookingDoc | None, after: d.BookingDoc) -> None:
    """The time a customer cancelled or moved away from goes to whoever waits for it (the record webhook that
    follows finds the booking already changed here)."""
    if turn.queue is None or before is None:
        return
    try:
        outreach_plan.queue_freed(turn.queue, turn.salon.company, before, after)
    except Exception:  # the waitlist must never cost the customer their cancellation's answer
        log.exception("freed time not offered to the waitlist", extra={"salon_id": turn.salon_id})


def confirm_visit(turn: Turn, cmd: Command) -> Outcome:
    """«Буду» to a reminder: attendance 2 (confirmed) in YCLIENTS, once however often the answer arrives."""
    booking = turn.salon.booking(turn.state.reminded)
    if booking is None:
        turn.state.reminded = None
        return Outcome("nothing_to_confirm", {})
    view = _booking_view(turn, booking)
    if booking.attendance != 2:
        ref = turn.db.collection(AI_ACTIONS).document(f"{turn.salon_id}_visit_{booking.id}")
        try:
            ref.create({"salon_id": turn.salon_id, "record_id": booking.id, "state": "executing", "at": utcnow()})
        except gexc.Conflict:
            if (ref.get().to_dict() or {}).get("state") == "done":
                turn.state.reminded = None
                return Outcome("visit_confirmed", view)
        try:
            visit_id = booking.visit_id or turn.yclients.get_record(turn.salon_id, booking.id).visit_id
            if visit_id is None:
                raise YclientsError("the record has no visit")
            turn.yclients.set_attendance(visit_id, booking.id, 2)
        except YclientsError as exc:
            ref.delete()  # not done: a later «да» may try again
            log.error("attendance not set", extra={"salon_id": turn.salon_id, "error": exc.message})
            return Outcome("action_failed", {"kind": "confirm_visit", "reason": "unavailable"})
        ref.update({"state": "done", "done_at": utcnow()})
        _bookings(turn).document(str(booking.id)).update({"attendance": 2})  # the 2-hour reminder now skips it
    turn.state.reminded = None
    return Outcome("visit_confirmed", view)


def decline(turn: Turn, cmd: Command) -> Outcome:
    had = turn.state.pending is not None
    turn.state.pending, turn.state.moving = None, None
    if turn.state.awaiting == "handover_offer":  # «не надо» to «передать вопрос администратору?»
        turn.state.awaiting, turn.state.open_question = None, None
    return Outcome("declined", {"had_proposal": had})


def show_prices(turn: Turn, cmd: Command) -> Outcome:
    wanted = cmd.category or cmd.service
    services = [s for s in turn.salon.services if s.active]
    exact = [s for s in services if wanted and s.title.lower() == wanted.strip().lower()]
    if exact:
        services = exact
    elif wanted:
        chosen = turn.salon.sharing_words(wanted)
        if not chosen and _names_a_service(wanted):  # «наращивание ресниц» where there is none: no other price
            return Outcome("unknown_service", {"asked": wanted, "known": [s.title for s in services[:8]]})
        services = chosen or services
    if wanted and len(services) == 1:
        turn.state.service_id = services[0].id  # «сколько стоит X?» then «запишите на завтра»: X is meant
    rows = [{"title": s.title, "price_min": s.price_min, "price_max": s.price_max} for s in services[:25]]
    data: dict[str, Any] = {
        "filter": wanted if wanted and len(services) < len(turn.salon.services) else None,
        "services": rows,
    }
    if cmd.people and 1 < cmd.people <= 4 and len(services) == 1 and wanted:  # «стрижка мне и дочке»: the total
        data |= {"people": cmd.people, "total_min": rows[0]["price_min"] * cmd.people}
        data["total_max"] = rows[0]["price_max"] * cmd.people if rows[0]["price_max"] else None
    return Outcome("prices", data)


def explain_service(turn: Turn, cmd: Command) -> Outcome:
    service = turn.salon.match_service(cmd.service) or (
        turn.salon.find_services_in(cmd.service) if cmd.service else None
    )
    if cmd.topic == "masters":  # «а к кому можно попасть?»: who does it (or who works here at all)
        if service is None and not cmd.service:
            service = turn.salon.service(turn.state.service_id)
        masters = turn.salon.masters_for(service) if service else [m for m in turn.salon.staff if not m.hidden]
        if service is not None:
            turn.state.service_id = service.id
        title = service.title if service else None
        return Outcome("service_masters", {"title": title, "staff": [m.name for m in masters]})
    if service is None:
        return Outcome("unknown_service", {"asked": cmd.service, "known": [s.title for s in turn.salon.services[:8]]})
    turn.state.service_id = service.id
    if cmd.topic == "duration":
        return Outcome("service_duration", {"title": service.title, "minutes": (service.duration_s or 0) // 60})
    return Outcome(
        "service_info",
        {
            "title": service.title,
            "price_min": service.price_min,
            "price_max": service.price_max,
            "minutes": (service.duration_s or 0) // 60,
            "comment": service.comment,
        },
    )


def staff_schedule(turn: Turn, cmd: Command) -> Outcome:
    master = turn.salon.match_staff(cmd.staff)
    if master is None:
        return Outcome(
            "unknown_staff", {"asked": cmd.staff, "staff": [m.name for m in turn.salon.staff if not m.hidden]}
        )
    turn.state.staff_id = master.id
    when = _when(turn, cmd)
    day = when.days[0] if when.days else turn.today
    turn.state.day = day
    base = repositories.company_ref(turn.db, turn.salon_id).collection(d.SCHEDULES)
    snap = base.document(f"{master.id}_{day.isoformat()}").get()
    hours = [f"{i['start']}–{i['end']}" for i in (snap.to_dict() or {}).get("slots", [])] if snap.exists else []
    upcoming = [
        s.to_dict()["date"]
        for s in base.where(filter=FieldFilter("staff_id", "==", master.id)).stream()
        if s.to_dict()["date"] > day.isoformat()
    ]
    return Outcome(
        "staff_day", {"staff": master.name, "day": day.isoformat(), "hours": hours, "next_days": sorted(upcoming)[:3]}
    )


def _no_bookings(turn: Turn) -> Outcome:
    if not turn.hidden_number:
        return Outcome("no_bookings", {})
    # The number was typed, not shown by the messenger: its other bookings are not this chat's to see or change.
    turn.state.open_question = turn.text[:500]
    turn.state.awaiting = "handover_offer"
    return Outcome("bookings_elsewhere", {"channel": turn.channel})


def my_bookings(turn: Turn, cmd: Command) -> Outcome:
    if not turn.salon.bookings:
        return _no_bookings(turn)
    return Outcome("bookings", {"bookings": [_booking_view(turn, b) for b in turn.salon.bookings]})


def remember_name(turn: Turn, cmd: Command) -> Outcome:
    name = as_name(cmd.name)
    if not name or turn.salon.match_service(name):
        return Outcome("need_name", {})  # "да", "Да, всё верно" and "Стрижка" are not names
    asked = turn.state.awaiting == "name"
    turn.state.client_name = name
    turn.state.awaiting = None
    if asked and turn.state.offered and turn.state.service_id:  # finish the booking the name was asked for
        slot = turn.state.offered[0]
        turn.state.pending = Proposal(
            id=turn.new_id(), kind="create", service_id=turn.state.service_id, staff_id=slot.staff_id, at=slot.at
        )
        return Outcome("propose", {**_proposal_view(turn, turn.state.pending), "name": name})
    return Outcome("name_saved", {"name": name})


def salon_info(turn: Turn, cmd: Command) -> Outcome:
    """What the synced company document and schedules hold; anything else is an honest «I don't know»."""
    company = turn.salon.company
    if cmd.topic == "address" and company.address:
        return Outcome("salon_address", {"address": company.address, "city": company.city, "title": company.title})
    if cmd.topic == "phone" and company.phone:
        return Outcome("salon_phone", {"phone": company.phone})
    if cmd.topic == "hours":
        hours = _opening_hours(turn)
        if hours:
            return Outcome("salon_hours", hours)
    return unknown_question(turn, cmd)


def _opening_hours(turn: Turn) -> dict[str, str] | None:
    """The salon's hours this week: from the earliest start to the latest end of its masters' schedules."""
    week = [(turn.today + dt.timedelta(days=i)).isoformat() for i in range(7)]
    base = repositories.company_ref(turn.db, turn.salon_id).collection(d.SCHEDULES)
    query = base.where(filter=FieldFilter("date", ">=", week[0])).where(filter=FieldFilter("date", "<=", week[-1]))
    slots = [slot for snap in query.stream() for slot in (snap.to_dict() or {}).get("slots", [])]
    if not slots:
        return None
    return {"from": min(s["start"] for s in slots), "to": max(s["end"] for s in slots)}


def unknown_question(turn: Turn, cmd: Command) -> Outcome:
    """A question the salon's data does not answer (cards, parking, …): never invented, never a non sequitur.
    The bot says so, keeps the question for the staff and offers to pass it on."""
    turn.state.open_question = turn.text[:500]
    turn.state.awaiting = "handover_offer"
    _tell_owner(
        turn,
        "unanswered",
        f"Клиент {turn.who} спросил то, на что у бота нет ответа: «{turn.text[:300]}». "
        f"Бот предложил передать вопрос вам; ответьте клиенту {turn.answer_where}.",
    )
    return Outcome("unknown_question", {})


def _tell_owner(turn: Turn, kind: owner_notices.Kind, text: str) -> None:
    """One notice per event: the message this turn answers names it, so a retried turn sends nothing more."""
    dedup = f"{phone_ref(turn.chat)}-{turn.seed or utcnow().isoformat()}"
    owner_notices.notify(turn.db, turn.queue, turn.host_url, turn.salon.company, kind, dedup, text, customer=turn.chat)


def media_received(kind: str | None) -> Outcome:
    """What we cannot read (pictures, files; voice with the rules provider, or a voice note the model could not make
    out: `voice_unheard`): a sticker is small talk, the rest asks for text."""
    if kind == "sticker":
        return Outcome("small_talk", {"topic": "emoji"})
    return Outcome("media", {"kind": kind or "file"})


def small_talk(turn: Turn, cmd: Command) -> Outcome:
    return Outcome("small_talk", {"topic": cmd.topic or "ok"})


def call_human(turn: Turn, cmd: Command) -> Outcome:
    asked = turn.state.open_question or turn.text  # after «передать вопрос?» — «да»: the question, not the yes
    turn.state.open_question = None
    if turn.state.awaiting == "handover_offer":
        turn.state.awaiting = None
    _tell_owner(
        turn,
        "handoff",
        f"Клиент {turn.who} просит администратора. Его вопрос: «{asked[:300]}». "
        f"Ответьте ему {turn.answer_where} — бот в этом чате замолчит на {_duration(turn.staff_pause)}. "
        "Переписка — на странице AI Admin (откройте приложение в YCLIENTS).",
    )
    return Outcome("handed_over", {"pause_minutes": int(turn.staff_pause.total_seconds() // 60)})


def _join_waitlist(turn: Turn) -> Outcome:
    from aiadmin.ai import waitlist  # it books through this module's proposals

    return waitlist.join(turn)


def _duration(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} ч"
    return f"{minutes} мин"


HANDLERS = {
    "search_slots": search_slots,
    "create_booking": create_booking,
    "cancel_booking": cancel_booking,
    "reschedule_booking": reschedule_booking,
    "confirm": confirm,
    "confirm_visit": confirm_visit,
    "decline": decline,
    "show_prices": show_prices,
    "explain_service": explain_service,
    "staff_schedule": staff_schedule,
    "my_bookings": my_bookings,
    "remember_name": remember_name,
    "call_human": call_human,
    "join_waitlist": lambda turn, cmd: _join_waitlist(turn),
    "greeting": lambda turn, cmd: Outcome(
        "greeting", {"salon": turn.salon.company.title, "welcome": turn.salon.company.owner.welcome_text}
    ),
    "salon_info": salon_info,
    "small_talk": small_talk,
    "unknown_question": unknown_question,
    "unclear": lambda turn, cmd: Outcome("unclear", {}),
}


def _handle(turn: Turn, cmd: Command) -> Outcome:
    try:
        return HANDLERS[cmd.type](turn, cmd)
    except Ambiguous as which:
        turn.state.awaiting = "service"
        turn.state.choices = [s.id for s in which.options[:6]]
        return Outcome("which_service", {"options": [s.title for s in which.options[:6]]})


# What needs the customer's phone: their bookings are found, and a booking is made, by it.
NEEDS_PHONE = ("cancel_booking", "reschedule_booking", "my_bookings", "confirm_visit", "join_waitlist")


def _needs_phone(turn: Turn, cmd: Command) -> bool:
    if turn.phone:
        return False
    pending = turn.state.pending
    return cmd.type in NEEDS_PHONE or (cmd.type == "confirm" and pending is not None and pending.kind == "create")


def execute(turn: Turn, commands: list[Command]) -> list[Outcome]:
    if not commands:
        return [Outcome("unclear", {})]
    if turn.state.pending and not any(c.type in ("confirm", "decline") for c in commands):
        turn.state.pending = None  # the customer moved on: the proposal is void, nothing is executed
    turn.state.held = []  # what waited for a phone number is void too once the customer says something else
    if not any(c.type == "join_waitlist" for c in commands):
        turn.state.waitlist = None  # «в лист ожидания» answers the «занято» just said, nothing older
    if turn.state.awaiting == "phone":
        turn.state.awaiting = None
    outcomes = []
    for cmd in commands[:4]:
        if cmd.type != "remember_name" and turn.state.awaiting == "name" and cmd.type == "unclear":
            cmd = Command(type="remember_name", name=turn.text)
        if _needs_phone(turn, cmd):  # kept until the customer gives their number, then carried out
            turn.state.held = [*turn.state.held, cmd][-4:]
            turn.state.awaiting = "phone"
            if not any(o.kind == "phone_needed" for o in outcomes):
                outcomes.append(Outcome("phone_needed", {"booking": cmd.type == "confirm", "channel": turn.channel}))
            continue
        outcomes.append(_handle(turn, cmd))
    return outcomes


def phone_given(turn: Turn) -> list[Outcome]:
    """The customer just gave the number the bot asked for: what waited for it is carried out now."""
    held, turn.state.held = turn.state.held, []
    if turn.state.awaiting == "phone":
        turn.state.awaiting = None
    if not held:
        return [Outcome("phone_saved", {"phone": turn.phone})]
    return [_handle(turn, cmd) for cmd in held]

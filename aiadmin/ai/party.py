"""Several people in one message («мне укладку, ему мужскую стрижку», «с подругой на маникюр»): times when every
one of them can be done at once, by different masters; one proposal per person, linked so that one «да» books
them all; a price question for several answered with the total."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiadmin.ai import executor
from aiadmin.ai.catalogue import Salon
from aiadmin.ai.commands import Command
from aiadmin.ai.conversation import Proposal, Slot, Together
from aiadmin.ai.dates import When
from aiadmin.ai.executor import Outcome, Turn
from aiadmin.core.models import utcnow
from aiadmin.sync import documents as d

BOOKING = ("create_booking", "search_slots")
MAX_PEOPLE = 4  # a family at most; a bigger group is the staff's to arrange


# --- reading: who the message is for ------------------------------------------------------------------

_KIN = (
    r"(?:муж(?:ем|а|у)?\b|жен(?:ой|а|у|е)\b|подруг\w*|друг(?:ом|а|у)?\b|друзья\w*|сын\w*|доч\w*|мам\w*|пап\w*|"
    r"сестр\w*|брат\w*|реб[её]н\w*|дет(?:и|ей|ьми|ям)\b|внук\w*|внучк\w*|коллег\w*|свекров\w*|т[её]щ\w*)"
)
PARTY = re.compile(rf"\b(?:со?\s+{_KIN}|(?:я|меня|мне|нас)\s+и\s+{_KIN})", re.I)
COUNTED = {"двое": 2, "двоих": 2, "вдвоем": 2, "вдвоём": 2, "трое": 3, "троих": 3, "втроем": 3, "втроём": 3}
COUNT_BEFORE = re.compile(r"\b(две|два|три|четыре)\s+(\w+(?:\s+\w+)?)")
NUMBERS = {"две": 2, "два": 2, "три": 3, "четыре": 4}


def _people(low: str, salon: Salon) -> int | None:
    """How many people a message books or prices for: «на двоих», «две детские стрижки» (a number before a
    service, not «в два»), «нас с мужем», «я и мама»; None for one."""
    for word in re.findall(r"\w+", low):
        if word in COUNTED:
            return COUNTED[word]
    for number, after in COUNT_BEFORE.findall(low):
        if salon.services_in(after):
            return NUMBERS[number]
    return 2 if PARTY.search(low) else None


def _named_each(low: str, salon: Salon) -> list[Any]:
    """The services of a message naming one per person («мне укладку, ему мужскую стрижку»), in the order said:
    each clause's own, so one person's service does not hide another's."""
    found: list[Any] = []
    for clause in re.split(r"[,;:?.!]|\s+а\s+|\s+и\s+(?=(?:ему|ей|мне|им|сыну|дочк\w*|мужу|маме)\b)", low):
        for service in salon.services_in(clause):
            if service not in found:
                found.append(service)
    return found


def read(commands: list[Command], low: str, salon: Salon, named: list[Any]) -> list[Command]:
    """Several people: a service named for each («мне укладку, ему мужскую стрижку») becomes a booking each, with
    the same day and time; one service for all carries the count. More services named than people: which?"""
    people = _people(low, salon)
    if not people:
        return commands
    named = _named_each(low, salon) or named
    out: list[Command] = []
    for cmd in commands:
        if cmd.type in ("create_booking", "search_slots") and 1 < len(named) <= people:
            out += [cmd.model_copy(update={"service": s.title}) for s in named]
        elif cmd.type in ("create_booking", "search_slots", "show_prices") and len(named) <= 1:
            out.append(cmd.model_copy(update={"people": people}))
        else:
            out.append(cmd)
    return out


# --- booking: times for all, linked proposals -------------------------------------------------------------


def execute(turn: Turn, commands: list[Command]) -> list[Outcome]:
    """The turn's commands, with a party's booking handled here and everything else by the executor."""
    if turn.state.linked and turn.phone and any(c.type == "confirm" for c in commands) and turn.state.pending:
        return _confirm_all(turn)
    if turn.state.awaiting == "name" and len(turn.state.group_offers) == 1:  # the name a party's time waited for
        outcomes = executor.execute(turn, commands)
        if turn.state.client_name and turn.state.pending is None and turn.state.awaiting is None:
            return [_propose(turn, turn.state.group_offers[0].slots)]
        return outcomes
    picked = _picked_option(turn, commands)
    if picked is not None:
        return [picked]
    services = _party(turn, commands)
    if services is None:
        turn.state.group_offers = []
        before = turn.state.pending.id if turn.state.pending else None
        outcomes = executor.execute(turn, commands)
        if turn.state.pending is None or turn.state.pending.id != before:
            turn.state.linked = []  # the proposal they belonged to is gone or replaced: never booked with another
        return outcomes
    # a new wish, as the executor treats one: the proposal and whatever waited for a phone are void
    turn.state.pending, turn.state.linked, turn.state.held = None, [], []
    if turn.state.awaiting in ("phone", "service"):
        turn.state.awaiting, turn.state.choices = None, []
    for said in (c for c in commands if c.type == "remember_name"):  # «меня зовут Ольга, запишите нас с мужем…»
        executor.remember_name(turn, said)
    wish = next(c for c in commands if c.type in BOOKING)
    return [_offer(turn, services, wish)]


def _party(turn: Turn, commands: list[Command]) -> list[d.ServiceDoc] | None:
    """The services of a party's booking, one per person, or None when this is one person's."""
    wishes = [c for c in commands if c.type in BOOKING and c.pick is None]
    if not wishes or any(c.type not in (*BOOKING, "remember_name", "greeting") for c in commands):
        return None
    services = [turn.salon.match_service(c.service) for c in wishes]
    if any(s is None for s in services):
        return None
    people = max((c.people or 1 for c in wishes), default=1)
    found = [s for s in services if s is not None]
    if len(found) == 1:
        found = found * min(people, MAX_PEOPLE)
    return found[:MAX_PEOPLE] if len(found) > 1 else None


def _offer(turn: Turn, services: list[d.ServiceDoc], wish: Command) -> Outcome:
    when = executor._when(turn, wish)
    if when.unclear:
        turn.state.awaiting = "day"
        return Outcome("unclear_date", {"said": wish.date or turn.text})
    days = when.days or ([turn.state.day] if turn.state.day else [])
    days = days or [turn.today + dt.timedelta(days=i) for i in range(executor.SEARCH_DAYS)]
    turn.state.day = days[0] if when.days else turn.state.day
    turn.state.service_id = services[0].id
    free = FreeTimes(turn)
    options = together(free, services, days, when)
    titles = [s.title for s in services]
    if not options and when.at:  # nothing at that very time: the nearest that day
        options = together(free, services, days[:1], When(days=days[:1], after=when.after, before=when.before))
    if not options:  # not at once (one master for the service, say): one after another
        options = one_after_another(free, services, days, when)
    instead = False
    if not options and when.days:  # nothing those days: the nearest after them
        later = [days[-1] + dt.timedelta(days=i + 1) for i in range(executor.SEARCH_DAYS)]
        options = together(free, services, later, When()) or one_after_another(free, services, later, When())
        instead = bool(options)
    turn.state.group_services = [s.id for s in services]
    turn.state.group_offers = [Together(slots=o) for o in options]
    if not options:
        return Outcome("no_group_slots", {"services": titles, "days": [x.isoformat() for x in days]})
    exact = [o for o in options if when.at and o[0].at.astimezone(turn.zone).time() == when.at]
    if exact:
        return _propose(turn, exact[0])
    views = [_option_view(turn, o) for o in options]
    asked = [x.isoformat() for x in days] if instead else None  # those days were full: these are the nearest
    return Outcome("group_slots", {"services": titles, "options": views, "instead_of": asked})


class FreeTimes:
    """Each service's free times of a day, asked of YCLIENTS once per turn (the searches below go over the same
    days again and again), then narrowed to a wish here."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self._days: dict[tuple[int, dt.date], dict[dt.datetime, list[int]]] = {}

    def of(self, service: d.ServiceDoc, day: dt.date, when: When | None = None) -> dict[dt.datetime, list[int]]:
        key = (service.id, day)
        if key not in self._days:
            masters = self.turn.salon.masters_for(service)
            found: dict[dt.datetime, list[int]] = {}
            for s in executor.find_slots(self.turn, service, masters, [day], When(), limit=500):
                found.setdefault(s.at, []).append(s.staff_id)
            self._days[key] = found
        if when is None:
            return self._days[key]
        zone = self.turn.zone

        def local(at: dt.datetime) -> dt.time:
            return (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(zone).time()

        return {at: masters for at, masters in self._days[key].items() if executor.fits(local(at), when)}


def together(free: FreeTimes, services: list[d.ServiceDoc], days: list[dt.date], when: When) -> list[list[Slot]]:
    """Start times at which every service can be done at once by different masters: one slot per service."""
    options: list[list[Slot]] = []
    for day in days:
        by_service = [free.of(s, day, when) for s in services]
        for at in sorted(by_service[0]):
            chosen: list[Slot] = []
            for by_time in by_service:
                master = next((m for m in by_time.get(at, []) if m not in {c.staff_id for c in chosen}), None)
                if master is None:
                    break
                chosen.append(Slot(staff_id=master, at=at))
            if len(chosen) == len(services):
                options.append(chosen)
            if len(options) >= executor.OFFER:
                return options
    return options


def one_after_another(
    free: FreeTimes, services: list[d.ServiceDoc], days: list[dt.date], when: When
) -> list[list[Slot]]:
    """Start times from which each person follows the one before as soon as their service ends (any master who is
    free then): for a service only one master does, or a day too full to take everyone at once."""
    options: list[list[Slot]] = []
    for day in days:
        starts = free.of(services[0], day, when)
        for at in sorted(starts):
            chosen = [Slot(staff_id=starts[at][0], at=at)]
            for i in range(1, len(services)):
                start = chosen[-1].at + dt.timedelta(seconds=_length(services[i - 1], chosen[-1].staff_id))
                masters = free.of(services[i], day).get(start)
                if not masters:
                    break
                chosen.append(Slot(staff_id=masters[0], at=start))
            if len(chosen) == len(services):
                options.append(chosen)
            if len(options) >= executor.OFFER:
                return options
    return options


def _length(service: d.ServiceDoc, staff_id: int) -> int:
    return int(service.staff_durations.get(str(staff_id)) or service.duration_s or 3600)


def _picked_option(turn: Turn, commands: list[Command]) -> Outcome | None:
    """«давайте в 17:00», «второй вариант» after a party's times were offered: that option, proposed."""
    offers = [o.slots for o in turn.state.group_offers]
    if not offers or len(commands) != 1 or commands[0].type not in BOOKING:
        return None
    cmd = commands[0]
    if cmd.service and turn.salon.match_service(cmd.service) is not None:
        return None  # a new wish
    if cmd.pick is not None:
        index = cmd.pick - 1 if cmd.pick > 0 else cmd.pick
        return _propose(turn, offers[index]) if -len(offers) <= index < len(offers) else None
    when = executor._when(turn, cmd)
    if when.at is None:
        return None
    day = when.days[0] if when.days else None
    fitting = [
        o
        for o in offers
        if o[0].at.astimezone(turn.zone).time() == when.at and day in (None, o[0].at.astimezone(turn.zone).date())
    ]
    if fitting:
        return _propose(turn, fitting[0])
    services = [s for s in (turn.salon.service(i) for i in turn.state.group_services) if s is not None]
    return _offer(turn, services, cmd) if len(services) > 1 else None


def _propose(turn: Turn, option: list[Slot]) -> Outcome:
    if not executor._client_name(turn):  # the chosen time waits for the name, alone among the offers
        turn.state.awaiting, turn.state.offered = "name", []
        turn.state.group_offers = [Together(slots=option)]
        return Outcome("need_name", {})
    services = turn.state.group_services
    proposals = [
        Proposal(id=turn.new_id(), kind="create", service_id=service_id, staff_id=slot.staff_id, at=slot.at)
        for service_id, slot in zip(services, option, strict=False)
    ]
    turn.state.pending, turn.state.linked = proposals[0], proposals[1:]
    turn.state.group_offers = []
    turn.state.at = option[0].at.astimezone(turn.zone).time()
    views = [executor._proposal_view(turn, p) for p in proposals]
    return Outcome("propose_group", {"items": views, "total": _total(views)})


def _confirm_all(turn: Turn) -> list[Outcome]:
    """One «да» books every linked proposal, each at most once (a retried turn reports what was done)."""
    proposals = [p for p in (turn.state.pending, *turn.state.linked) if p is not None]
    if utcnow() - proposals[0].created_at > executor.PROPOSAL_TTL:
        turn.state.pending, turn.state.linked = None, []
        return [Outcome("proposal_expired", executor._proposal_view(turn, proposals[0]))]
    turn.state.pending, turn.state.linked = None, []
    outcomes: list[Outcome] = []
    for p in proposals:  # a refusal stops the rest: nobody is booked on without being told what failed
        outcomes.append(executor._execute_once(turn, p))
        if outcomes[-1].kind != "booked":
            return outcomes  # its alternatives stay offered
    turn.state.offered = []
    for later in outcomes[1:]:
        later.data["linked"] = True  # said as «ещё одна запись», after the first
    return outcomes


def _total(views: list[dict[str, Any]]) -> int | None:
    prices = [v.get("price") for v in views]
    return sum(p for p in prices if p) if all(prices) else None


def _option_view(turn: Turn, option: list[Slot]) -> dict[str, Any]:
    """One time for all (`staff`: a master each), or a start time each (`each`: one after another)."""
    views = [executor._slot_view(turn, s) for s in option]
    if len({s.at for s in option}) == 1:
        return {"at": views[0]["at"], "staff": [v["staff"] for v in views]}
    return {"at": views[0]["at"], "each": views}


def phone_given(turn: Turn) -> list[Outcome]:
    """The number a hidden-number customer was asked for: a party's «да» that waited for it books them all."""
    if turn.state.linked and turn.state.pending and any(c.type == "confirm" for c in turn.state.held):
        turn.state.held = []
        if turn.state.awaiting == "phone":
            turn.state.awaiting = None
        return _confirm_all(turn)
    return executor.phone_given(turn)

"""A written dialogue: what the customer says, turn by turn, what each reply must (not) contain, and the YCLIENTS
writes it must leave behind. `{t1}`, `{t2}`, `{tlast}` in a turn are the times («14:30») of the bot's previous
reply, in order, so a dialogue follows whatever the salon's calendar offers; `re:` starts a regular expression."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Say:
    say: str
    has: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    may_not_understand: bool = False
    handover: bool = False  # the owner must be told (a handover message queued)
    gemini: list[dict[str, Any]] | None = None  # Stage 1 the scripted model returns; None: the rules' reading


def S(say: str, *has: str, lacks: tuple[str, ...] = (), **kw: Any) -> Say:
    return Say(say, tuple(has), tuple(lacks), **kw)


@dataclass(frozen=True)
class Dialogue:
    name: str
    turns: tuple[Say, ...]
    books: int = 0
    cancels: int = 0
    moves: int = 0
    service_booked: str | None = None
    has_booking: str | None = None  # the title of a booking the customer already has before the dialogue
    push_name: str | None = "Мария"
    notes: str = field(default="", compare=False)
    kind: str = ""  # the class of phrasing it stands for (the by-class set reports its share per class)


def D(name: str, *turns: Say, **kw: Any) -> Dialogue:
    return Dialogue(name, tuple(turns), **kw)

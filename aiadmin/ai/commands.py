"""Stage 1's output: what the customer wants, as typed commands. Words stay as the customer said them ("завтра",
"после 18", "к Марине"); the executor resolves them against the salon's data and calendar, so the model never
computes a date or invents an id. The same schema constrains Gemini's JSON and is produced by the rules parser."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

CommandType = Literal[
    "search_slots",
    "create_booking",
    "cancel_booking",
    "reschedule_booking",
    "show_prices",
    "explain_service",
    "staff_schedule",
    "my_bookings",
    "remember_name",
    "call_human",
    "join_waitlist",  # «поставьте в лист ожидания» after the bot said the wanted time is taken
    "confirm",  # yes to the proposal the bot just made
    "confirm_visit",  # «1», «да, буду», 👍 to a reminder: the customer will come
    "decline",  # no to it
    "greeting",
    "salon_info",  # the salon's address, phone or hours (topic)
    "small_talk",  # thanks, goodbye, ok, an emoji (topic)
    "unknown_question",  # a question about the salon the bot has no data for: it offers to ask a person
    "unclear",
]


class Command(BaseModel):
    type: CommandType
    service: str | None = Field(default=None, description="the service as the customer named it")
    staff: str | None = Field(default=None, description="the master's name as written")
    date: str | None = Field(default=None, description="the day as written: завтра, в пятницу, 25.12")
    time: str | None = Field(default=None, description="the time as written: 15:00, после 18, вечером")
    category: str | None = Field(default=None, description="a price-list category, for show_prices")
    name: str | None = Field(default=None, description="the customer's own name, for remember_name")
    people: int | None = Field(
        default=None, description="how many people a booking or price is for, when the customer asks for several"
    )
    pick: int | None = Field(
        default=None, description="create_booking: the N-th of the times the bot just offered (1-based, -1 = last)"
    )
    topic: str | None = Field(
        default=None,
        description="salon_info: address|phone|hours; small_talk: thanks|bye|ok|emoji|offer (advertising); "
        "explain_service: duration when the customer asks how long it takes, masters when they ask who does it",
    )


class Stage1(BaseModel):
    commands: list[Command] = Field(default_factory=list)
    heard: list[str] = Field(
        default_factory=list,
        description="for each voice note given, in order: its words as said, in the language said; empty when none",
    )

"""What a customer answers to the salon's questions after a visit, and «стоп».

A review request (`aiadmin.reminders.outreach`) leaves `review_asked` on the customer's chats. The next message
that is a rating («5», «4!», «пять», «3 из 5») is stored on the event (`outreach/`): 4–5 get thanks and the salon's
review link, 1–3 an apology and «что было не так?»; the words that answer that go to the owner (a notice, and the
inbox shows the chat as waiting) and nowhere public. Anything else is an ordinary turn and the question stays
open for a week.

«Стоп», «не пишите», «отпишите» (the whole message) stop every message the salon sends first for that customer —
review requests, rebooking words — never the reminders of a booking they have."""

from __future__ import annotations

import datetime as dt
import logging
import re

from google.cloud import firestore

from aiadmin.ai.conversation import State
from aiadmin.ai.executor import Outcome
from aiadmin.core.models import Company, utcnow
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync.outreach_plan import OPT_OUTS, OUTREACH, outreach_id
from aiadmin.whatsapp import chat, owner_notices

log = logging.getLogger("aiadmin.ai.review_answers")

OPEN_FOR = dt.timedelta(days=7)
_RATING = re.compile(r"^\s*(?:оценка|ставлю)?\s*([1-5])\s*(?:(?:из|/)\s*5)?\s*[!.)👍❤️]*\s*$", re.IGNORECASE)
_STARS = re.compile(r"^\s*(⭐{1,5})\s*$")
_WORDS = {"пять": 5, "четыре": 4, "три": 3, "два": 2, "один": 1, "единица": 1, "двойка": 2, "тройка": 3}
_STOP = re.compile(
    r"^\s*(?:/?стоп|/?stop|отписка|отпиши(?:те)?(?:\s+меня)?|отписаться|"
    r"(?:пожалуйста,?\s+)?(?:больше\s+)?не\s+(?:пишите|присылайте)(?:\s+мне)?(?:\s+больше)?)"
    r"[\s.!🙏]*$",
    re.IGNORECASE,
)
COMMENT_FOR = dt.timedelta(hours=6)  # «что было не так?» expects its answer soon; later words are a new talk
# What a customer asks for as an ordinary conversation: never taken as the complaint after a low rating.
REQUESTS = frozenset(
    {
        "search_slots",
        "create_booking",
        "cancel_booking",
        "reschedule_booking",
        "show_prices",
        "explain_service",
        "staff_schedule",
        "my_bookings",
        "call_human",
        "salon_info",
        "confirm_visit",
    }
)


def rating_in(text: str) -> int | None:
    if found := _RATING.match(text):
        return int(found.group(1))
    if stars := _STARS.match(text):
        return len(stars.group(1))
    word = text.strip().strip("!.").lower()
    return _WORDS.get(word)


def wants_no_more(text: str) -> bool:
    return bool(_STOP.match(text))


def opt_out(db: firestore.Client, salon_id: int, keys: list[str]) -> Outcome:
    for key in {k for k in keys if k}:
        db.collection(OPT_OUTS).document(f"{salon_id}_{key}").set({"salon_id": salon_id, "at": utcnow()})
    log.info("customer opted out of the salon's first messages", extra={"salon_id": salon_id})
    return Outcome("opted_out", {})


def _asked(conv: dict) -> dict | None:
    asked = conv.get("review_asked")
    if not asked or not asked.get("at") or utcnow() - asked["at"] > OPEN_FOR:
        return None
    return asked


def busy(state: State) -> bool:
    """The bot just asked something else (which booking, which time, «да?», a reminder's «1/2/3»): a bare digit
    or «стоп» answers that, not the salon's question after a visit."""
    return bool(state.pending or state.awaiting or state.offered or state.choices or state.reminded)


def _close(db: firestore.Client, salon_id: int, chats: list[str]) -> None:
    for name in chats:
        ref = chat.conversation_ref(db, salon_id, name)
        ref.set({"review_asked": firestore.DELETE_FIELD}, merge=True)


def read(
    db: firestore.Client,
    company: Company,
    chat_name: str,
    conv: dict,
    text: str,
    queue: TaskQueue | None,
    host_url: str | None,
    who: str,
    requests: set[str],
) -> Outcome | None:
    """The answer to an open review question, or None when this message is not one. `requests`: what the rules
    read in the message (a booking, a price question…), which is never a rating's comment."""
    asked = _asked(conv)
    if asked is None or not text.strip():
        return None
    record_id = int(asked["record_id"])
    event = db.collection(OUTREACH).document(outreach_id(company.salon_id, "review", record_id))
    shown = event.get().to_dict() or {}
    chats = list(dict.fromkeys([*(shown.get("chats") or []), chat_name]))
    if asked.get("stage") == "comment":
        since = asked.get("rated_at") or asked["at"]
        if requests & REQUESTS or utcnow() - since > COMMENT_FOR:  # a new conversation, not the complaint
            _close(db, company.salon_id, chats)
            return None
        comment = " ".join(text.split())[:300]  # one line: it is quoted inside a notice from the salon's bot
        event.set({"comment": comment, "commented_at": utcnow()}, merge=True)
        _close(db, company.salon_id, chats)
        conv_ref = chat.conversation_ref(db, company.salon_id, chat_name)
        conv_ref.set({"waiting_since": utcnow(), "waiting_reason": "review"}, merge=True)
        master = f" (мастер — {shown['master']})" if shown.get("master") else ""
        notice = (
            f"Клиент {who} оценил визит на {shown.get('rating', '?')} из 5{master} и написал: «{comment}». "
            "Ответьте ему на странице AI Admin."
        )
        owner_notices.notify(db, queue, host_url, company, "review", str(record_id), notice, customer=chat_name)
        return Outcome("review_passed", {})
    rating = rating_in(text)
    if rating is None:
        return None
    if shown.get("rating") is not None:  # rated already (in another of the customer's chats)
        _close(db, company.salon_id, chats)
        return None
    now = utcnow()
    event.set({"rating": rating, "state": "answered", "answered_at": now}, merge=True)
    if rating >= 4:
        _close(db, company.salon_id, chats)
        return Outcome("review_thanks", {"rating": rating, "link": company.retention.reviews.link})
    _close(db, company.salon_id, [c for c in chats if c != chat_name])
    conv_ref = chat.conversation_ref(db, company.salon_id, chat_name)
    conv_ref.set({"review_asked": {**asked, "stage": "comment", "rated_at": now}}, merge=True)
    return Outcome("review_sorry", {"rating": rating})

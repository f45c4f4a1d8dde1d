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

from aiadmin.ai.executor import Outcome
from aiadmin.core.logs import phone_ref
from aiadmin.core.models import Company, utcnow
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync.outreach_plan import OPT_OUTS, OUTREACH, outreach_id
from aiadmin.whatsapp import chat, owner_notices

log = logging.getLogger("aiadmin.ai.review_answers")

OPEN_FOR = dt.timedelta(days=7)
_RATING = re.compile(r"^\s*(?:оценка|ставлю)?\s*([1-5])\s*(?:(?:из|/)\s*5)?\s*[!.)👍❤️⭐]*\s*$", re.IGNORECASE)
_WORDS = {"пять": 5, "четыре": 4, "три": 3, "два": 2, "один": 1, "единица": 1, "двойка": 2, "тройка": 3}
_STOP = re.compile(
    r"^\s*(?:стоп|stop|отпиши(?:те)?(?:\s+меня)?|отписаться|(?:больше\s+)?не\s+пишите(?:\s+мне)?(?:\s+больше)?)"
    r"[\s.!]*$",
    re.IGNORECASE,
)


def rating_in(text: str) -> int | None:
    if found := _RATING.match(text):
        return int(found.group(1))
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


def read(
    db: firestore.Client,
    company: Company,
    chat_name: str,
    conv: dict,
    text: str,
    queue: TaskQueue | None,
    host_url: str | None,
    who: str,
) -> Outcome | None:
    """The answer to an open review question, or None when this message is not one."""
    asked = _asked(conv)
    if asked is None or not text.strip():
        return None
    record_id = int(asked["record_id"])
    event = db.collection(OUTREACH).document(outreach_id(company.salon_id, "review", record_id))
    conv_ref = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(company.salon_id, chat_name))
    if asked.get("stage") == "comment":
        event.set({"comment": text[:1000], "commented_at": utcnow()}, merge=True)
        conv_ref.set(
            {"review_asked": firestore.DELETE_FIELD, "waiting_since": utcnow(), "waiting_reason": "review"}, merge=True
        )
        shown = event.get().to_dict() or {}
        master = f", мастер — {shown['master']}" if shown.get("master") else ""
        notice = (
            f"Клиент {who} оценил визит{master} на {shown.get('rating', '?')} из 5 и написал: «{text[:500]}». "
            "Ответьте ему на странице AI Admin."
        )
        dedup = f"{phone_ref(chat_name)}-{record_id}"
        owner_notices.notify(db, queue, host_url, company, "review", dedup, notice, customer=chat_name)
        return Outcome("review_passed", {})
    rating = rating_in(text)
    if rating is None:
        return None
    event.set({"rating": rating, "state": "answered", "answered_at": utcnow()}, merge=True)
    if rating >= 4:
        conv_ref.set({"review_asked": firestore.DELETE_FIELD}, merge=True)
        return Outcome("review_thanks", {"rating": rating, "link": company.retention.reviews.link})
    conv_ref.set({"review_asked": {**asked, "stage": "comment"}}, merge=True)
    return Outcome("review_sorry", {"rating": rating})

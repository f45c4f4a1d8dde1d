"""English for the `rules` provider: salons in tourist cities (and Altegio's markets) get messages in English. The
customer's words are mapped to the Russian words the parser and the salon's Russian catalogue know («men's haircut»
→ «мужская стрижка», «tomorrow» → «завтра»), so one parser serves both; replies are rendered in English. Service
and master names stay as the salon wrote them. Gemini handles other languages; this is the floor when it fails."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiadmin.core.russian import price

Language = str  # "ru" | "en"

_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")

# English phrase → the Russian words the rules parser and the catalogue match. Longer phrases first.
PHRASES = [
    (r"\b(talk|speak) to (a |an )?(human|person|manager|administrator|someone)\b|\b(human|manager|operator)\b",
     "позовите администратора"),
    (r"\bhow much\b|\bprice(s)?\b|\bcost(s)?\b|\bprice list\b", "сколько стоит"),
    (r"\b(book|booking|appointment|reserve|schedule me|sign me up)\b", "записаться"),
    (r"\b(available|free|any (time|slots?)|openings?)\b", "свободно"),
    (r"\bmy (appointments?|bookings?)\b", "мои записи"),
    (r"\bcancel\b", "отменить"),
    (r"\b(reschedule|move)\b", "перенести"),
    # Services in the singular or plural («men's haircuts», «facials»).
    (r"\bmen'?s haircuts?\b|\bhaircuts? for men\b", "мужская стрижка"),
    (r"\bwomen'?s haircuts?\b|\bladies'? haircuts?\b", "женская стрижка"),
    (r"\b(kids'?|children'?s) haircuts?\b", "детская стрижка"),
    (r"\bhaircuts?\b", "стрижка"),
    (r"\b(hair )?colou?ring\b|\bdye\b", "окрашивание"),
    (r"\bhighlights?\b", "мелирование"),
    (r"\bstyling\b|\bblow[- ]?dry\b", "укладка"),
    (r"\bmanicures?\b", "маникюр"),
    (r"\bpedicures?\b", "педикюр"),
    (r"\bfacials?\b|\bface cleaning\b", "чистка лица"),
    (r"\bface massage\b", "массаж лица"),
    (r"\bday after tomorrow\b", "послезавтра"),
    (r"\btomorrow\b", "завтра"),
    (r"\btoday\b", "сегодня"),
    (r"\b(in the )?evening\b", "вечером"),
    (r"\b(in the )?morning\b", "утром"),
    (r"\bmonday\b", "в понедельник"),
    (r"\btuesday\b", "во вторник"),
    (r"\bwednesday\b", "в среду"),
    (r"\bthursday\b", "в четверг"),
    (r"\bfriday\b", "в пятницу"),
    (r"\bsaturday\b", "в субботу"),
    (r"\bsunday\b", "в воскресенье"),
    (r"\b(where are you|address|location)\b", "адрес"),
    (r"\b(opening hours|what time do you open|when are you open|hours)\b", "часы работы"),
    (r"\b(thanks|thank you)\b", "спасибо"),
    (r"\b(bye|goodbye|see you)\b", "до свидания"),
    (r"^\W*(hi|hello|hey)\W*$", "здравствуйте"),
    (r"^\W*(yes|yeah|yep|sure|ok|okay|confirm)\W*$", "да"),
    (r"^\W*(no|nope)\W*$", "нет"),
]  # fmt: skip
_PHRASES = [(re.compile(p, re.I), ru) for p, ru in PHRASES]
_TIME_12H = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b", re.I)


def language_of(text: str, current: Language = "ru") -> Language:
    """ "en" when the message is mostly Latin letters, "ru" when mostly Cyrillic; otherwise what it was."""
    latin, cyrillic = len(_LATIN.findall(text)), len(_CYRILLIC.findall(text))
    if latin >= 3 and latin > 2 * cyrillic:
        return "en"
    if cyrillic >= 2 and cyrillic >= latin:
        return "ru"
    return current


def to_russian(text: str) -> str:
    """The English words the parser needs, in Russian; anything else (names, digits) is kept."""
    out = _TIME_12H.sub(lambda m: f"{(int(m[1]) % 12) + (12 if m[3].lower() == 'pm' else 0):02d}:{m[2] or '00'}", text)
    out = re.sub(r"\bat (\d{1,2}:\d{2})", r"в \1", out, flags=re.I)
    for pattern, russian in _PHRASES:
        out = pattern.sub(russian, out)
    return out


def _when(iso: str | None, today: dt.date) -> str:
    if not iso:
        return ""
    at = dt.datetime.fromisoformat(iso)
    delta = (at.date() - today).days
    day = {0: "today", 1: "tomorrow"}.get(delta) or f"on {at:%A}, {at.day} {at:%B}"
    return f"{day} at {at:%H:%M}"


def _slots(items: list[dict[str, Any]], today: dt.date) -> str:
    return "\n".join(f"• {_when(s['at'], today)}" + (f" — {s['staff']}" if s.get("staff") else "") for s in items)


def render(kind: str, x: dict[str, Any], today: dt.date) -> str | None:
    """The reply in English, or None for an outcome that has no English text yet (the Russian one is used)."""
    if kind == "prices":
        lines = "\n".join(f"• {s['title']} — {price(s['price_min'], s['price_max'])}" for s in x["services"])
        if x.get("people"):
            lines += f"\nFor {x['people']} people: {price(x['total_min'], x['total_max'])}"
        return "Our prices:\n" + lines
    if kind == "group_slots":
        options = []
        for o in x["options"]:
            if "staff" in o:
                options.append(f"• {_when(o['at'], today)} — {' and '.join(m for m in o['staff'] if m)}")
            else:
                times = ", then ".join(f"{e['at'][11:16]} — {e['staff']}" for e in o["each"])
                options.append(f"• {_when(o['at'], today)}: {times}")
        how = "at the same time" if all("staff" in o for o in x["options"]) else "one after the other"
        head = "Those days are full; the nearest times" if x.get("instead_of") else "You can come together"
        return f"{head} ({', '.join(x['services'])}), {how}:\n" + "\n".join(options) + "\nWhich time suits you?"
    if kind == "no_group_slots":
        return "There is no time those days to take you all together or one after the other. Which other day suits you?"
    if kind == "propose_group":
        items = "\n".join(
            f"• «{v['service']}», {_when(v['at'], today)}" + (f", with {v['staff']}" if v.get("staff") else "")
            for v in x["items"]
        )
        total = f"\nTotal {price(x['total'], x['total'])}." if x.get("total") else ""
        return f"Booking you:\n{items}{total}\nShall I confirm?"
    if kind == "booked" and x.get("linked"):
        return f"And one more: «{x['service']}», {_when(x['at'], today)}" + (
            f", with {x['staff']}." if x.get("staff") else "."
        )
    if kind == "service_info":
        return f"«{x['title']}» — {price(x['price_min'], x['price_max'])}. Shall I book you in?"
    if kind == "slots":
        return f"Free times for «{x['service']}»:\n{_slots(x['slots'], today)}\nWhich time suits you?"
    if kind in ("no_slots", "time_taken"):
        alt = x["alternatives"]
        head = "That time is taken." if kind == "time_taken" else f"No free time for «{x['service']}» then."
        return head + (f" Nearest free times:\n{_slots(alt, today)}\nDoes one of these suit you?" if alt else "")
    if kind == "service_masters":
        who = ", ".join(x["staff"])
        if x.get("title"):
            return f"«{x['title']}» is done by: {who}. Who would you like?"
        return f"Our masters: {who}. Which service would you like?"
    if kind == "unknown_master":
        done_by = ", ".join(x["staff"])
        return f"We have no master called {x['asked']}. «{x['service']}» is done by: {done_by}. Who would you like?"
    if kind == "need_service":
        return "Which service would you like? For example: " + ", ".join(x["examples"][:4]) + "."
    if kind == "which_service":
        return "Which one do you mean: " + "; ".join(f"«{o}»" for o in x["options"]) + "?"
    if kind == "need_day":
        return f"Which day would you like for «{x['service']}»?"
    if kind == "need_name":
        return "What name should I put on the booking?"
    if kind == "phone_needed":
        what = "book you in" if x.get("booking") else "find your booking"
        return f"WhatsApp doesn't show us your number. To {what}, please send your phone number."
    if kind == "service_duration":
        minutes = int(x["minutes"])
        length = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
        return f"«{x['title']}» takes about {length.replace(' 0 min', '')}. Shall I book you in?"
    if kind == "phone_saved":
        return "Thank you, I've saved your number. How can I help?"
    if kind == "bookings_elsewhere":
        return (
            "In this chat I can only see bookings made here: WhatsApp hides your number, so I can't show or change "
            "other bookings. Shall I pass your question to the administrator?"
        )
    if kind == "propose" and x["kind"] == "create":
        staff = f", with {x['staff']}" if x.get("staff") else ""
        cost = f", {price(x['price'], x['price'])}" if x.get("price") else ""
        return f"Booking you for «{x['service']}», {_when(x['at'], today)}{staff}{cost}. Shall I confirm?"
    if kind == "booked":
        staff = f", with {x['staff']}" if x.get("staff") else ""
        return f"Done! You are booked for «{x['service']}», {_when(x['at'], today)}{staff}. See you then!"
    if kind == "handed_over":
        return "I've passed your question to the salon's administrator — they will reply here in WhatsApp."
    if kind == "unknown_question":
        return "I don't have reliable information on that. Shall I pass your question to the administrator?"
    if kind == "greeting":
        name = x["salon"] if "«" in x["salon"] else f"«{x['salon']}»"  # never quotes inside quotes
        return f"Hello! This is the administrator of {name}. I can tell you prices, find a free time and book you."
    if kind == "small_talk":
        return {
            "thanks": "You're welcome!",
            "bye": "Goodbye! We look forward to seeing you.",
            "offer": "Thank you! The salon considers offers itself: the administrator will see your message.",
        }.get(x["topic"], "Great! Write any time you need a booking or a price.")
    if kind == "visit_confirmed":
        return f"Thank you for confirming! See you {_when(x['at'], today)}."
    if kind == "unreadable":
        return "Sorry, your message did not reach us in full — WhatsApp could not decrypt it. Please send it again."
    if kind == "media":
        what = {
            "voice": "I can't listen to voice messages yet",
            "voice_unheard": "I couldn't make out your voice message",
        }.get(x["kind"], "I can't open pictures or files yet")
        return f"{what} — please write to me in text and I'll answer right away."
    if kind == "declined":
        return "All right, nothing changed. Anything else I can help with?"
    if kind == "unclear":
        return "Sorry, I didn't quite get that. I can tell you prices, find a free time or book you. Shall I?"
    return None

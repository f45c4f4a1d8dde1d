"""English for the `rules` provider: salons in tourist cities (and Altegio's markets) get messages in English. The
customer's words are mapped to the Russian words the parser and the salon's Russian catalogue know («men's haircut»
→ «мужская стрижка», «tomorrow» → «завтра»), so one parser serves both; the replies are written in English by
`replies.render_en`. Service and master names stay as the salon wrote them. Gemini handles other languages; this
is the floor when it fails."""

from __future__ import annotations

import re

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

"""Russian dates and times as customers write them, resolved in the salon's time zone.

"завтра", "в пятницу" (any case), "на выходных", "на этой неделе", "25.12", "25 декабря", "5 числа",
"через неделю", "через 2 дня"; "в 15:00", "15 часов", "на час" (= 13:00), "на 6 вечера", "в 10 утра",
"после 18", "до 12", "утром", "вечером". Nothing found is `None`, never "today": the bot asks instead."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

WEEKDAYS = {
    0: r"понедельник\w*",
    1: r"вторник\w*",
    2: r"сред[аеуы]",
    3: r"четверг\w*",
    4: r"пятниц\w*",
    5: r"суббот\w*",
    6: r"воскресень\w*",
}
MONTHS = {
    "январ": 1,
    "феврал": 2,
    "март": 3,
    "апрел": 4,
    "ма[йя]": 5,
    "июн": 6,
    "июл": 7,
    "август": 8,
    "сентябр": 9,
    "октябр": 10,
    "ноябр": 11,
    "декабр": 12,
}
NUMBER_WORDS = {
    "час": 1,
    "один": 1,
    "одну": 1,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "восемь": 8,
    "девять": 9,
    "десять": 10,
    "одиннадцать": 11,
    "двенадцать": 12,
}
PARTS_OF_DAY = {  # (from, to); the longer phrases first
    r"после\s+обеда": (dt.time(13), dt.time(22)),
    r"(?:ближе\s+)?к\s+вечеру": (dt.time(16), dt.time(22)),
    r"в\s+обед|в\s+обеденное\s+время": (dt.time(12), dt.time(15)),
    r"утр(?:ом|а)": (dt.time(9), dt.time(12)),
    r"дн[её]м": (dt.time(12), dt.time(17)),
    r"вечер(?:ом|а)?": (dt.time(17), dt.time(22)),
}


@dataclass
class When:
    days: list[dt.date] = field(default_factory=list)  # empty: no day said
    at: dt.time | None = None
    after: dt.time | None = None
    before: dt.time | None = None
    unclear: bool = False  # something date-like we could not read: ask, do not guess

    @property
    def has_day(self) -> bool:
        return bool(self.days)

    @property
    def has_time(self) -> bool:
        return self.at is not None or self.after is not None or self.before is not None


def _hour(raw: str, qualifier: str | None) -> int | None:
    value = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw)
    if value is None or not 0 <= value <= 24:
        return None
    q = (qualifier or "").lower()
    if q.startswith(("вечер", "дня")) and value < 12:
        value += 12
    elif q.startswith("утр") and value == 12:
        value = 0
    elif not q and 1 <= value <= 8:
        value += 12  # "на 5", "на час": salons work in the daytime
    return value % 24


MONTH_AHEAD = r"\s*(?:-?го\s+)?(?:числ|январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр)"


def parse_time(text: str) -> tuple[dt.time | None, dt.time | None, dt.time | None]:
    """(exact, after, before) from the text."""
    t = text.lower()
    m = re.search(r"(?:после|позже)\s+(\d{1,2})(?::(\d{2}))?", t)
    after = dt.time(int(m.group(1)) % 24, int(m.group(2) or 0)) if m else None
    m = re.search(r"(?:^|\s)до\s+(\d{1,2})(?::(\d{2}))?\b", t)
    before = None
    if m and not re.match(MONTH_AHEAD, t[m.end() :]):
        before = dt.time(int(m.group(1)) % 24, int(m.group(2) or 0))
    if after or before:
        return None, after, before
    m = re.search(r"\b([01]?\d|2[0-3]):([0-5]\d)\b", t)
    if m:
        return dt.time(int(m.group(1)), int(m.group(2))), None, None
    # «в 17-45», «на 9-30»: after a time's preposition; not «с 14-16» (a range), «10-15%», «555-12-34»
    m = re.search(r"(?:\bв|\bна|\bк)\s+([01]?\d|2[0-3])-([0-5]\d)(?![\d-])(?!\s*(%|мин|час|проц|руб|₽))", t)
    if m and not re.match(MONTH_AHEAD, t[m.end() :]):  # nor «на 12-15 число»
        return dt.time(int(m.group(1)), int(m.group(2))), None, None
    for m in re.finditer(r"\b([01]?\d|2[0-3])\.([0-5]\d)\b(?![./]\d)", t):
        as_date = re.search(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b", t[m.start() :])
        if as_date and _looks_like_date(t, as_date):
            continue
        return dt.time(int(m.group(1)), int(m.group(2))), None, None
    words = "|".join(NUMBER_WORDS)
    for m in re.finditer(
        rf"(?:\bв|\bна|\bк)\s*(\d{{1,2}}|{words})\b(?!\s*[./]\d)(?:\s*час\w*)?"
        rf"(?:\s+(утра|дня|вечера|ночи))?",
        t,
    ):
        if re.match(MONTH_AHEAD, t[m.end() :]):
            continue
        hour = _hour(m.group(1), m.group(2))
        if hour is not None:
            return dt.time(hour), None, None
    m = re.search(r"\b(\d{1,2})\s*час\w*(?:\s+(утра|дня|вечера|ночи))?", t)
    if m:
        hour = _hour(m.group(1), m.group(2))
        if hour is not None:
            return dt.time(hour), None, None
    for stem, (start, end) in PARTS_OF_DAY.items():
        if re.search(rf"\b{stem}\b", t):
            return None, start, end
    return None, None, None


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


def parse_days(text: str, today: dt.date) -> tuple[list[dt.date], bool]:
    """(days, unclear)."""
    t = text.lower()
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", t)  # ISO, as the executor (or a model) may pass it on
    if m:
        return _calendar_day(today, int(m.group(3)), int(m.group(2)), m.group(1))
    if re.search(r"\bпослезавтра\b", t):
        return [today + dt.timedelta(days=2)], False
    if re.search(r"\bзавтра\b", t):
        return [today + dt.timedelta(days=1)], False
    if re.search(r"\bсегодня\b", t):
        return [today], False
    m = re.search(r"через\s+(\d+|один|два|три|четыре|пять|шесть|семь)?\s*(дн|день|недел)", t)
    if m:
        n = int(m.group(1)) if m.group(1) and m.group(1).isdigit() else NUMBER_WORDS.get(m.group(1) or "", 1)
        return [today + dt.timedelta(days=n * (7 if m.group(2).startswith("недел") else 1))], False
    if re.search(r"выходн", t):
        sat = _next_weekday(today, 5)
        days = [sat, sat + dt.timedelta(days=1)]
        return [d for d in days if d >= today] if today.weekday() != 6 else [today], False
    if re.search(r"следующ\w+\s+недел", t):
        monday = today + dt.timedelta(days=7 - today.weekday())
        return [monday + dt.timedelta(days=i) for i in range(7)], False
    if re.search(r"(эт\w+|текущ\w+)\s+недел", t):
        return [today + dt.timedelta(days=i) for i in range(7 - today.weekday())], False
    for weekday, pattern in WEEKDAYS.items():
        if re.search(rf"\b{pattern}\b", t):
            day = _next_weekday(today, weekday)
            if re.search(rf"следующ\w+\s+{pattern}", t) and day == today:
                day += dt.timedelta(days=7)
            return [day], False
    m = re.search(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b", t)
    if m and _looks_like_date(t, m):
        return _calendar_day(today, int(m.group(1)), int(m.group(2)), m.group(3))
    if m and not (int(m.group(1)) <= 23 and int(m.group(2)) <= 59 and not m.group(3)):
        return [], True  # "32.13": neither a date nor a time
    for stem, month in MONTHS.items():
        m = re.search(rf"\b(\d{{1,2}})\s+{stem}\w*", t)
        if m:
            return _calendar_day(today, int(m.group(1)), month, None)
    m = re.search(r"\b(\d{1,2})\s*(?:-?го\s+)?числа\b", t)
    if m:
        day = int(m.group(1))
        month, year = today.month, today.year
        if day < today.day:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        return _calendar_day(today, day, month, str(year))
    unclear = bool(
        re.search(
            r"числа|недел|месяц|следующ|январ|феврал|март|апрел|июн|июл|август|"
            r"сентябр|октябр|ноябр|декабр",
            t,
        )
    )
    return [], unclear


def _looks_like_date(text: str, m: re.Match[str]) -> bool:
    """ "25.12" and "на 10.12" are dates; "в 10.30", "15.30" and "в 10.12" are times."""
    if m.group(3):
        return True
    day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    return not (day <= 23 and re.search(rf"(?:\bв|\bк)\s+{re.escape(m.group(0))}", text))


def _calendar_day(today: dt.date, day: int, month: int, year: str | None) -> tuple[list[dt.date], bool]:
    try:
        if year:
            y = int(year) + (2000 if len(year) == 2 else 0)
            return [dt.date(y, month, day)], False
        candidate = dt.date(today.year, month, day)
        if candidate < today:
            candidate = dt.date(today.year + 1, month, day)
        return [candidate], False
    except ValueError:
        return [], True


# A customer correcting themselves: what is said after the correction is their word on the day and the time, and
# what they negate is not a wish at all («не в два, а в три», «в субботу в 15, нет, лучше в 16»).
# «не в два, а в три» (not «если не в 15, то в 16»: 15 is still the wish); «…, нет, лучше в 16» (not «если нет»,
# nor a «нет» that is about something else: a day or time must follow it).
NEGATED = re.compile(r"(?<!если )\bне\s+(?:в|во|на|к)\s+[^,.!?]*?(?=,?\s+а\s+)", re.I)
CORRECTION = re.compile(
    r"(?<!если)(?:^|,|\s)\s*(?:нет|вернее|точнее)[,!\s]+(?:лучше\s+|давайте\s+)*"
    r"(?=(?:в|во|на|к|после|до)\s|\d|завтра|послезавтра|сегодня|утр|вечер|дн[её]м)",
    re.I,
)


def parse_when(text: str, today: dt.date) -> When:
    text = NEGATED.sub(" ", text)
    marks = list(CORRECTION.finditer(text))
    head, tail = (text[: marks[-1].start()], text[marks[-1].end() :]) if marks else (text, "")
    days, unclear = parse_days(tail, today) if tail else ([], False)
    at, after, before = parse_time(tail) if tail else (None, None, None)
    if not days:
        days, unclear = parse_days(head, today)
    if at is None and after is None and before is None:
        at, after, before = parse_time(head)
    return When(days=days, at=at, after=after, before=before, unclear=unclear and not days)


# Follow-ups that mean something only against what was just discussed; the executor resolves them.
SAME_TIME = re.compile(r"(в|на) (то|это) же (самое )?время|в тоже время|в то же самое", re.I)
EARLIER = re.compile(r"(?<!день )(?<!днём )(?<!дн[её]м )\bпо?раньше\b", re.I)
LATER = re.compile(r"(?<!день )(?<!днём )(?<!дн[её]м )\bпо?позже\b(?!\s+\d)", re.I)
SAME_MASTER = re.compile(
    r"(к|у) (тому|этому|той|этой) же( самому| самой)?( мастеру| мастера)?|к (нему|ней) же|тот же (мастер|самый)|"
    r"(тому|той) же мастер",
    re.I,
)
_ORDINALS = {"перв": 1, "втор": 2, "трет": 3, "четв": 4, "пят": 5, "последн": -1}
PICK = re.compile(
    r"\b(перв|втор(?!ник)|трет|четв[её]рт(?!ок|ак|г)|последн)\w*\b(?:\s+(вариант|время|окно|окошко|слот))?|"
    r"\bвариант\s*(\d)\b",
    re.I,
)


def relative_time(text: str) -> str | None:
    """«пораньше» / «попозже» / «в то же время» (than the times under discussion), or None."""
    if SAME_TIME.search(text):
        return "same"
    if EARLIER.search(text):
        return "earlier"
    if LATER.search(text):
        return "later"
    return None


def option_number(text: str) -> int | None:
    """«второй вариант», «давайте первое», «последний», «вариант 2»: 1-based, -1 for the last."""
    m = PICK.search(text)
    if not m or "половин" in text.lower():  # «в первой половине дня» is a time, not an option
        return None
    if m.group(3):
        return int(m.group(3))
    stem = m.group(1).lower().replace("ё", "е")
    return next(v for k, v in _ORDINALS.items() if stem.startswith(k))

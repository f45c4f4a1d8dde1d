"""The `rules` provider: a deterministic Russian intent and slot parser (Stage 1) and templated replies (Stage 2).
It is the local default without a Gemini key and the fallback whenever Gemini fails, so a customer always gets
a sensible answer."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiadmin.ai import catalogue, english
from aiadmin.ai.catalogue import Salon
from aiadmin.ai.commands import Command, Stage1
from aiadmin.ai.conversation import State
from aiadmin.ai.dates import SAME_MASTER, option_number, parse_when, relative_time
from aiadmin.ai.executor import Outcome
from aiadmin.core.names import as_name
from aiadmin.core.russian import (
    Preposition,
    date_text,
    day_phrase,
    duration_text,
    plural,
    price,
    salon_introduction,
    when_phrase,
    with_master,
)

# A yes is only a yes: "да, но давайте в 16:00" is a new request, not a confirmation of the old proposal.
_AFFIRM = (
    r"да|ага|угу|ок|окей|ok|хорошо|конечно|подтверждаю|верно|вс[её] верно|давайте|давай|записывайте|отменяйте|"
    r"переносите|пожалуйста|спасибо|\+|👍"
)
YES = re.compile(
    rf"^\s*(?:{_AFFIRM})(?:[\s,.!]+(?:{_AFFIRM}))*[\s.!)]*$",
    re.I,
)
NO = re.compile(
    r"^(нет|не надо|не нужно|не хочу|передумал\w*|отбой)([.!,\s]+(нет|не надо|спасибо|пожалуйста))*[.!,\s]*$", re.I
)
HUMAN = re.compile(r"администратор|жив\w* человек|с человеком|оператор|позов\w*|менеджер|хозя", re.I)
# A complaint or an insult is for a person, never answered with an offer to book. Whole words and phrases only
# («ужасно хочу записаться» and «обманка» are none), and not when denied («претензий нет», «без жалоб»).
COMPLAINT = re.compile(
    r"\bжалоб\w*|\bпожаловаться|\bпретензи\w*|верните деньги|\bобман(ули|ул|ула|ывают|щики)?\b|безобрази\w*|"
    r"\bхамств\w*|\bнахамил\w*|отвратительн\w*|"
    r"\b(дурак\w*|дуры|идиоты|тупые|уроды)\b|"
    r"\b(испортил\w*|изуродовал\w*)\s+(мне\s+)?(волосы|стрижку|ногти|маникюр|цвет|брови|лицо)|"
    r"ужасн\w+\s+(сервис|обслуживани\w*|мастер\w*|стрижк\w*|маникюр\w*|работ\w*|отношени\w*)",
    re.I,
)
DENIED = re.compile(r"(\bнет|\bбез|\bникаких|\bне)\s+(\w+\s+)?$", re.I)


def _complaint(low: str) -> bool:
    return any(
        not DENIED.search(low[: m.start()]) and not re.match(r"\s+нет\b", low[m.end() :])
        for m in COMPLAINT.finditer(low)
    )


CANCEL = re.compile(r"отмен|не смогу прийти|не приду|не получится прийти", re.I)
RESCHEDULE = re.compile(r"перенес|перенос|перезапис|передвин|сдвин|поменять время|другое время", re.I)
MINE = re.compile(r"мо(и|я|ю|ей) запис|когда я записан|на когда я|я записан|у меня запис", re.I)
PRICES = re.compile(r"цен|стоит|стоимост|прайс|скок|сколько|поч[её]м", re.I)
EXPLAIN = re.compile(r"что так\w+|что это|это что|\s-\s*это\??$|^\S+\s*-?\s*это\?$|расскажите про|что входит", re.I)
SCHEDULE = re.compile(r"работает|работают|кто (сегодня |завтра )?работ|график", re.I)
BOOK = re.compile(
    r"запиш|записать|записаться|записа|хочу прийти|нужна запись|хочу на|хочу к |хочу подстри|можно записа|"
    r"давайте в|давай в|давай на|давайте на|бронь|забронир",
    re.I,
)
SLOTS = re.compile(r"свободн|окн|окош|время есть|есть время|когда можно|когда есть|что есть на|есть на", re.I)
# «можно?», «есть ли?» ask about free time only with a service, a master, a day or a time beside them:
# «у вас можно оплатить картой?» is no slot search.
MAYBE_SLOTS = re.compile(r"можно ли|\bможно\b|есть ли", re.I)
# «а что есть?», «какие есть варианты?» while a service is under discussion: its free times, not the list.
WHAT_IS_FREE = re.compile(
    r"^\W*(а )?что (у вас )?(есть|свободно)\W*$|какие (есть )?(окна|варианты)|какое время есть", re.I
)
FULL_LIST = re.compile(r"прайс|все цены|вс[её] услуг|какие услуги|список", re.I)
# «запишите на наращивание ресниц»: what follows «на» after a booking verb, less the words of a day or time.
BOOKED_WHAT = re.compile(r"(?:запиш\w*|записать\w*|записаться|хочу)\s+(?:меня\s+)?на\s+([а-яё][а-яё\s-]+)", re.I)
NOT_A_SERVICE = re.compile(
    r"^(завтра|сегодня|послезавтра|понедельн|вторн|сред|четверг|пятниц|суббот|воскрес|выходн|недел|следующ|"
    r"утр|вечер|дн[её]м|час|числ|время|врем|при[её]м|запис|консульт|друг|ближайш|какое|какую|свободн|эт[оуи])",
)
LIST = re.compile(r"какие (\w+ )?(у вас )?(есть|бывают)|какие услуги|что у вас есть|список услуг", re.I)
GREETING = re.compile(r"^(привет|здравствуй\w*|добр\w+ (день|утро|вечер)|hello|hi)\W*$", re.I)  # «Доброе утро)»
# Thanks, also after a word of assent («ок, спасибо», «хорошо, благодарю»).
THANKS = re.compile(
    r"^\W*((ок|окей|ok|хорошо|ладно|понятно|ясно|отлично|супер|поняла?)\W+)?"
    r"(спасибо|спс|благодар\w*|мерси|thanks?( you)?)\b",
    re.I,
)
# How long a service takes («сколько длится», «долго делается», «по времени сколько»): its length, not its price.
# Not «сколько времени свободно», not «как долго держится», not beside a day or time (that is a booking).
DURATION = re.compile(
    r"сколько\s+(\w+\s+)?(длится|по времени|времени(?!\s+(свобод|есть|остал))|идёт|идет|занимает)|"
    r"по времени\s+сколько|как\s+долго(?!\s+(держ|нос|сохран|будет))|долго\s+(дела|длит)|продолжительност",
    re.I,
)
BYE = re.compile(r"до свидания|всего (вам )?доброго|хорошего (вам )?дня|до встречи|^\W*пока\W*$", re.I)
OK = re.compile(r"^\W*(ок|окей|ok|хорошо|понятно|ясно|ладно|отлично|супер|договорились)\W*$", re.I)
ADDRESS = re.compile(r"адрес|где (вы )?находит|как (к вам )?(добраться|пройти|проехать)|как вас найти", re.I)
PHONE = re.compile(r"ваш (номер )?телефон|номер (телефона )?салона|как (вам )?позвонить|телефон салона", re.I)
HOURS = re.compile(
    r"во сколько (вы )?(работаете|открываетесь|закрываетесь|откры|закры)|до скольки|режим работы|часы работы|"
    r"когда (вы )?(работаете|открыты)|с какого времени",
    re.I,
)
# Answers to a reminder («1 — подтверждаю, 2 — перенести, 3 — отменить»), and reactions to it.
VISIT_YES = re.compile(
    r"^\W*(1|да|буду|приду|подтвержда\w*|ок|окей|конечно|обязательно|хорошо|спасибо|👍|❤️|❤|🙏|👌|✅|😊|🥰)"
    r"([\s,.!)]+(да|буду|приду|обязательно|конечно|спасибо|подтверждаю|👍|❤️|🙏))*[\s,.!)]*$",
    re.I,
)
VISIT_NO = re.compile(r"^\W*3\W*$|не смогу|не приду|не получится|не успеваю|👎|😢", re.I)
VISIT_MOVE = re.compile(r"^\W*2\W*$", re.I)
PASS_ON = re.compile(r"^\W*(да|давайте|передайте|передай|спросите|уточните)\b", re.I)  # to «передать вопрос?»
# «а на день позже?», «на следующий день», «а днём раньше?»: the day under discussion, moved.
DAY_LATER = re.compile(r"(на )?(день|днём|денек) (позже|попозже)|на следующий день|на другой день", re.I)
DAY_EARLIER = re.compile(r"(на )?(день|днём) (раньше|пораньше)|на день раньше|накануне", re.I)


def _variant_named(current: Any, variants: list[Any], low: str) -> Any | None:
    """The one variant whose own words the message says, and not after «без» unless its title has that «без»:
    «без разницы», «без дизайна», «только без лака» name no variant."""
    have = catalogue._stems(current.title)
    said = re.findall(r"[а-яё]+", low.replace("ё", "е"))
    named = []
    for variant in variants:
        own = [w for w in catalogue._stems(variant.title) if w != "без" and w not in have]
        negated = re.search(r"\bбез\s+([а-яё]+)", variant.title.lower())
        if negated:  # «без покрытия»: said as «без покрыт…»
            hit = any(said[i] == "без" and said[i + 1].startswith(negated.group(1)[:5]) for i in range(len(said) - 1))
        else:  # said, and not right after «без»; a word «без» negates in the current title counts as its own
            own += [m.group(1)[:5] for m in re.finditer(r"\bбез\s+([а-яё]+)", current.title.lower())]
            hit = any(
                any(w.startswith(o) or o.startswith(w) for o in own) and (i == 0 or said[i - 1] != "без")
                for i, w in enumerate(said)
                if len(w) >= 3
            )
        if hit:
            named.append(variant)
    return named[0] if len(named) == 1 else None


def _without_titles(text: str, services: list[Any]) -> str:
    """The text less the services' titles as said (any ending), so a number word in a title is no time."""
    for svc in services:
        words = re.findall(r"[а-яёa-z]+", svc.title.lower())
        if len(words) < 2:
            continue
        pattern = r"\W+".join(rf"{re.escape(w[: max(3, len(w) - 2)])}\w*" for w in words)
        text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return text


def _has_time_or_day(text: str, today: dt.date) -> bool:
    when = parse_when(text, today)
    return when.has_day or when.has_time


def stage1(text: str, salon: Salon, state: State, today: dt.date) -> Stage1:
    if english.language_of(text, state.language) == "en":
        text = english.to_russian(text)  # one parser for both: English words mapped to the ones it knows
    t = text.strip()
    low = t.lower()
    named = salon.services_in(t)
    if state.awaiting == "service" and state.choices and (chosen := salon.choose_among(state.choices, t)):
        named = [chosen]  # «с покрытием» answering «which manicure?»
    elif not named and (current := salon.service(state.service_id)) and not _has_time_or_day(t, today):
        # «ой, лучше с покрытием» while «без покрытия» is under discussion: the variant its own words name
        named = [chosen] if (chosen := _variant_named(current, salon.variants_of(current), low)) else []
    service = named[0] if named else None
    staff = salon.match_staff(t)
    timed = _without_titles(t, named)  # «окрашивание в один тон»: «в один» is the title's, not 13:00
    base: dict[str, Any] = {
        # One service named: its title. Several fit the words: the words, so the executor asks which.
        "service": (service.title if len(named) == 1 else t) if service else None,
        "staff": staff.name if staff else None,
        "date": timed,
        "time": None,
    }
    commands: list[Command] = []
    if state.pending and YES.match(low):
        return Stage1(commands=[Command(type="confirm")])
    if state.pending and NO.match(low):
        return Stage1(commands=[Command(type="decline")])
    if state.awaiting == "handover_offer" and (YES.match(low) or PASS_ON.match(low)):
        return Stage1(commands=[Command(type="call_human")])
    if state.awaiting == "handover_offer" and NO.match(low):
        return Stage1(commands=[Command(type="decline")])
    if state.reminded and not state.pending:
        if VISIT_YES.match(low):
            return Stage1(commands=[Command(type="confirm_visit")])
        if VISIT_NO.search(low):
            return Stage1(commands=[Command(type="cancel_booking")])
        if VISIT_MOVE.match(low):
            return Stage1(commands=[Command(type="reschedule_booking")])
    if HUMAN.search(low) or _complaint(low):
        return Stage1(commands=[Command(type="call_human")])
    if state.awaiting == "name" and (name := as_name(t)) and not service:
        return Stage1(commands=[Command(type="remember_name", name=name)])
    if CANCEL.search(low):
        return Stage1(commands=[Command(type="cancel_booking", date=t)])
    if RESCHEDULE.search(low):
        return Stage1(commands=[Command(type="reschedule_booking", date=t, time=t)])
    if MINE.search(low):
        return Stage1(commands=[Command(type="my_bookings")])
    for topic, pattern in (("address", ADDRESS), ("phone", PHONE), ("hours", HOURS)):
        if pattern.search(low):
            return Stage1(commands=[Command(type="salon_info", topic=topic)])
    said = parse_when(timed, today)
    offered = state.offered or state.group_offers
    if offered and (n := option_number(low)) is not None and not (said.has_day or said.has_time or said.unclear):
        return Stage1(commands=[Command(type="create_booking", pick=n)])
    if state.service_id and (relative_time(low) or SAME_MASTER.search(low)) and not BOOK.search(low):
        return Stage1(commands=[Command(type="search_slots", **base)])  # «а пораньше?», «к тому же мастеру?»
    if state.day and (shift := 1 if DAY_LATER.search(low) else -1 if DAY_EARLIER.search(low) else 0):
        moved = state.day + dt.timedelta(days=shift)
        return Stage1(commands=[Command(type="search_slots", date=moved.isoformat(), staff=base["staff"])])
    if SCHEDULE.search(low) and staff:
        commands.append(Command(type="staff_schedule", staff=staff.name, date=t))
    asked_length = DURATION.search(low) and not (
        BOOK.search(low) or SLOTS.search(low) or _has_time_or_day(timed, today)
    )
    if asked_length:  # the one named, else the one under discussion (also among several named: «маникюр»)
        current = service if len(named) == 1 else salon.service(state.service_id) or service
        if current is not None:
            return Stage1(commands=[Command(type="explain_service", service=current.title, topic="duration")])
    if EXPLAIN.search(low) and not BOOK.search(low):
        commands.append(Command(type="explain_service", service=service.title if service else _after_what(t)))
    if state.service_id and not service and WHAT_IS_FREE.search(low):
        return Stage1(commands=[Command(type="search_slots", **base)])
    if PRICES.search(low) or LIST.search(low):
        commands.append(Command(type="show_prices", service=_priced(t, low, salon, named, state)))
    if BOOK.search(low) and not service and (unknown := _unknown_service(t)):
        base["service"] = unknown  # the executor answers with the salon's own list
    if BOOK.search(low) or (
        _has_time_or_day(timed, today) and parse_when(timed, today).at is not None and (service or state.service_id)
    ):
        commands.append(Command(type="create_booking", **base))
    elif (
        SLOTS.search(low)
        or (MAYBE_SLOTS.search(low) and (service or staff or _has_time_or_day(timed, today)))
        or (service and _has_time_or_day(timed, today))
    ):
        commands.append(Command(type="search_slots", **base))
    if not commands and service:
        continuing = state.service_id or state.awaiting == "service" or state.day or state.staff_id
        commands.append(
            Command(type="search_slots", **base)
            if continuing
            else Command(type="explain_service", service=service.title)
        )
    if not commands and _has_time_or_day(timed, today) and state.service_id:
        commands.append(Command(type="search_slots", **base))
    if not commands and GREETING.match(low):
        commands.append(Command(type="greeting"))
    if not commands:
        commands += _small_talk(t, low)
    if not commands and "?" in t:
        commands.append(Command(type="unknown_question"))  # a question we have no data for: say so, offer a person
    return Stage1(commands=_for_several(commands, low, salon, named) or [Command(type="unclear")])


_KIN = r"(?:муж|жен|подруг|друг|сын|доч|мам|пап|сестр|брат|реб[её]н|дет|внук|внучк|коллег|свекров|т[её]щ)\w*"
PARTY = re.compile(rf"\b(?:нас\s+с|мы\s+с|с\s+{_KIN}|(?:я|меня|мне)\s+и\s+{_KIN})", re.I)
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


def _for_several(commands: list[Command], low: str, salon: Salon, named: list[Any]) -> list[Command]:
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


def _priced(text: str, low: str, salon: Salon, named: list[Any], state: State) -> str | None:
    """Which services a price question is about: the one named when nothing else in it names another («стрижка
    женская» is not every haircut), every one it names, the one under discussion («а сколько она стоит?»),
    or all of them."""
    if len(named) == 1 and (category := _category_asked(text, named[0], salon)):
        return category  # «цены на окрашивание»: the category, not its first service
    if len(named) == 1:
        covered = catalogue._stems(named[0].title)
        rest = [w for w in catalogue._stems(text) if not any(c.startswith(w) or w.startswith(c) for c in covered)]
        return named[0].title if salon.match_service(" ".join(rest)) is None else text
    if named:
        return text
    current = salon.service(state.service_id)
    if current and not FULL_LIST.search(low) and not LIST.search(low) and salon.match_service(text) is None:
        return current.title
    return text if salon.match_service(text) else None


def _category_asked(text: str, named: Any, salon: Salon) -> str | None:
    """The price-list category the words name in full, not the one service found in it: «окрашивание» is the
    category «Окрашивание» (three services); «окрашивание в один тон» is the service, and «педикюр» is no
    «Маникюр и педикюр»."""
    category = named.category
    if not category or sum(s.category == category for s in salon.services if s.active) < 2:
        return None
    said = catalogue._stems(text)
    in_category = all(any(c.startswith(w) or w.startswith(c) for w in said) for c in catalogue._stems(category))
    rest = [w for w in catalogue._stems(named.title) if not any(w.startswith(s) or s.startswith(w) for s in said)]
    return category if in_category and rest else None


def _unknown_service(text: str) -> str | None:
    m = BOOKED_WHAT.search(text)
    if not m:
        return None
    words = [w for w in m.group(1).lower().split() if len(w) >= 4 and not NOT_A_SERVICE.match(w)]
    return " ".join(words) or None


def _small_talk(text: str, low: str) -> list[Command]:
    if THANKS.search(low):
        return [Command(type="small_talk", topic="thanks")]
    if BYE.search(low):
        return [Command(type="small_talk", topic="bye")]
    if OK.match(low):
        return [Command(type="small_talk", topic="ok")]
    if text and not any(ch.isalnum() for ch in text):  # 👍, 🙏, ))) and the like
        return [Command(type="small_talk", topic="emoji")]
    return []


def _after_what(text: str) -> str:
    m = re.search(r"(?:что так\w+|расскажите про|что входит в)\s+(.+?)[?!.]*$", text, re.I)
    if m:
        return m.group(1)
    return re.sub(r"\s*-?\s*это\s*\??$", "", text).strip() or text


# --- Stage 2: replies --------------------------------------------------------------------------------------


def when_text(iso: str | None, today: dt.date, prep: Preposition = "в") -> str:
    return when_phrase(dt.datetime.fromisoformat(iso), today, prep) if iso else ""


def day_text(iso: str, today: dt.date) -> str:
    day = dt.date.fromisoformat(iso)
    return day_phrase(day, today) if (day - today).days <= 2 else date_text(day)


PEOPLE_GEN = {2: "двоих", 3: "троих", 4: "четверых"}


def _together(option: dict[str, Any], today: dt.date) -> str:
    """• завтра в 17:00 — Анна Соколова и Ирина Морозова; one after another: each one's time and master."""
    if "staff" in option:
        return f"• {when_text(option['at'], today)} — {' и '.join(m for m in option['staff'] if m)}"
    each = [f"в {s['at'][11:16]}" + (f" — {s['staff']}" if s.get("staff") else "") for s in option["each"]]
    return f"• {day_phrase(dt.date.fromisoformat(option['at'][:10]), today)} {', затем '.join(each)}"


def _titles(titles: list[str]) -> str:
    """«Укладка» и «Мужская стрижка»; the same service for each: «Маникюр» для двоих."""
    if len(set(titles)) == 1:
        return f"«{titles[0]}» для {PEOPLE_GEN.get(len(titles), str(len(titles)))}"
    quoted = [f"«{t}»" for t in titles]
    return ", ".join(quoted[:-1]) + " и " + quoted[-1]


def _slots(items: list[dict[str, Any]], today: dt.date) -> str:
    return "\n".join(f"• {when_text(s['at'], today)}" + (f" — {s['staff']}" if s.get("staff") else "") for s in items)


def render(outcome: Outcome, today: dt.date) -> str:
    k, x = outcome.kind, outcome.data
    if k == "slots":
        return f"Свободное время на «{x['service']}»:\n{_slots(x['slots'], today)}\nНа какое время вас записать?"
    if k == "no_slots":
        alt = x["alternatives"]
        head = f"На эти дни свободного времени на «{x['service']}» нет."
        return head + (
            f" Ближайшие свободные окна:\n{_slots(alt, today)}\nПодойдёт что-то из этого?"
            if alt
            else " Напишите, какой день вам удобен, — поищу ещё."
        )
    if k == "time_taken":
        alt = x["alternatives"]
        head = f"{when_text(x['at'], today).capitalize()} на «{x['service']}» уже занято."
        return head + (
            f" Могу предложить:\n{_slots(alt, today)}\nКакое время выберете?"
            if alt
            else " На ближайшую неделю свободного времени нет — напишите, какой день удобен."
        )
    if k == "which_service":
        return "Уточните, пожалуйста, какую услугу: " + "; ".join(f"«{o}»" for o in x["options"]) + "?"
    if k == "need_service":
        return "На какую услугу вас записать? Например: " + ", ".join(x["examples"][:4]) + "."
    if k == "unknown_service":
        return (
            f"Услуги «{x['asked']}» в нашем прайсе нет. Есть, например: "
            + ", ".join(x["known"][:6])
            + ". Что из этого вам подходит?"
        )
    if k == "need_day":
        return f"На какой день записать вас на «{x['service']}»?"
    if k == "unclear_date":
        return "Не понял, на какой день. Напишите, пожалуйста, дату (например, 25.12) или день недели."
    if k == "need_name":
        return "Как вас зовут? Укажу имя в записи."
    if k == "phone_needed":
        what = "оформить запись" if x.get("booking") else "найти вашу запись"
        return f"WhatsApp не показывает нам ваш номер. Чтобы {what}, напишите, пожалуйста, номер телефона."
    if k == "phone_saved":
        return "Спасибо, номер сохранил. Чем могу помочь?"
    if k == "bookings_elsewhere":
        return (
            "В этом чате я вижу только записи, сделанные здесь: WhatsApp скрывает ваш номер, поэтому другие записи "
            "я показать или изменить не могу. Передать ваш вопрос администратору? Он ответит здесь."
        )
    if k == "propose":
        if x["kind"] == "create":
            return (
                f"Записываю вас{(', ' + x['name']) if x.get('name') else ''}: «{x['service']}», "
                f"{when_text(x['at'], today)}{with_master(x.get('staff'))}"
                f"{(', ' + price(x['price'], x['price'])) if x.get('price') else ''}. Подтверждаете?"
            )
        if x["kind"] == "cancel" and x.get("offer_move"):
            return (
                f"Жаль! Могу перенести вашу запись «{x['service']}» на другое время — напишите, какой день удобен. "
                f"Или отменить её ({when_text(x['old_at'], today)})? Для отмены ответьте «да»."
            )
        if x["kind"] == "cancel":
            return f"Отменить вашу запись «{x['service']}» {when_text(x['old_at'], today)}? Подтвердите, пожалуйста."
        return (
            f"Переношу вашу запись «{x['service']}» (сейчас — {when_text(x['old_at'], today)}) "
            f"{when_text(x['at'], today, 'на')}{with_master(x.get('staff'))}. Подтверждаете?"
        )
    if k == "booked" and x.get("linked"):
        return f"И ещё запись: «{x['service']}», {when_text(x['at'], today)}{with_master(x.get('staff'))}."
    if k == "booked":
        return (
            f"Готово! Вы записаны: «{x['service']}», {when_text(x['at'], today)}{with_master(x.get('staff'))}. "
            "Ждём вас!"
        )
    if k == "cancelled":
        return f"Запись «{x['service']}» {when_text(x['old_at'], today)} отменена."
    if k == "rescheduled":
        return f"Готово, запись «{x['service']}» перенесена {when_text(x['at'], today, 'на')}."
    if k == "action_failed":
        alt = x.get("alternatives") or []
        what = {
            "create": "записать вас",
            "cancel": "отменить запись",
            "reschedule": "перенести запись",
            "confirm_visit": "отметить подтверждение",
        }[x["kind"]]
        if x.get("reason") == "unavailable":
            return (
                f"Не получилось {what}: YCLIENTS сейчас не отвечает. "
                "Попробуйте через несколько минут или позвоните в салон."
            )
        return f"Не получилось {what}: это время уже занято." + (
            f" Свободно:\n{_slots(alt, today)}\nВыберете другое?" if alt else ""
        )
    if k == "no_such_option":
        if not x["slots"]:
            return "Сейчас у меня нет предложенных вариантов. На какой день и время вас записать?"
        count = plural(x["count"], "вариант", "варианта", "вариантов")
        return f"Я предложил {count}:\n{_slots(x['slots'], today)}\nКакой из них выберете?"
    if k == "visit_confirmed":
        return f"Спасибо, что подтвердили! Ждём вас {when_text(x['at'], today)}."
    if k == "nothing_to_confirm":
        return "Уточните, пожалуйста, что именно вы хотите сделать?"
    if k == "proposal_expired":
        return "Прошло много времени — давайте сверим ещё раз. На какое время вас записать?"
    if k == "declined":
        return "Хорошо, ничего не меняю. Чем ещё могу помочь?"
    if k == "prices":
        head = "Цены:" if x.get("filter") else "Наши цены:"
        lines = "\n".join(f"• {s['title']} — {price(s['price_min'], s['price_max'])}" for s in x["services"])
        if x.get("people"):
            lines += f"\nЗа {PEOPLE_GEN[x['people']]}: {price(x['total_min'], x['total_max'])}"
        return head + "\n" + lines
    if k == "group_slots":
        options = "\n".join(_together(o, today) for o in x["options"])
        at_once = all("staff" in o for o in x["options"])
        titles = _titles(x["services"])
        head = (
            f"Можно прийти вместе ({titles}), мастера примут вас одновременно"
            if at_once
            else f"Одновременно не получится, но можно друг за другом ({titles})"
        )
        if x.get("instead_of"):
            head = f"На эти дни вместе не получится. Ближайшее время ({titles}{'' if at_once else ', друг за другом'})"
        return f"{head}:\n{options}\nНа какое время вас записать?"
    if k == "no_group_slots":
        return (
            f"На эти дни нет времени, когда {_titles(x['services'])} можно сделать вместе или друг за другом. "
            "Напишите другой день — поищу ещё."
        )
    if k == "propose_group":
        items = "\n".join(
            f"• «{v['service']}», {when_text(v['at'], today)}{with_master(v.get('staff'))}" for v in x["items"]
        )
        total = f"\nВсего {price(x['total'], x['total'])}." if x.get("total") else ""
        return f"Записываю вас:\n{items}{total}\nПодтверждаете?"
    if k == "service_duration":
        return f"«{x['title']}» длится около {duration_text(x['minutes'])}. Записать вас?"
    if k == "service_info":
        extra = f" {x['comment']}" if x.get("comment") else ""
        mins = f", около {x['minutes']} мин" if x.get("minutes") else ""
        return f"«{x['title']}» — {price(x['price_min'], x['price_max'])}{mins}.{extra} Записать вас?"
    if k == "unknown_staff":
        return "У нас работают: " + ", ".join(x["staff"]) + ". О ком вы спрашиваете?"
    if k == "staff_day":
        day = day_phrase(dt.date.fromisoformat(x["day"]), today)
        if x["hours"]:
            return f"{x['staff']} работает {day}: {', '.join(x['hours'])}."
        nxt = ", ".join(day_text(d, today) for d in x["next_days"])
        closing = "," if "," in day else ""  # «во вторник, 1 декабря, не работает»
        return f"{x['staff']} {day}{closing} не работает." + (f" Ближайшие рабочие дни: {nxt}." if nxt else "")
    if k == "bookings":
        rows = [
            f"• {when_text(b['at'], today)} — {', '.join(b['services'])}"
            + (f" ({b['staff']})" if b.get("staff") else "")
            for b in x["bookings"]
        ]
        return "Ваши записи:\n" + "\n".join(rows)
    if k == "no_bookings":
        return "У вас нет предстоящих записей. Хотите записаться?"
    if k == "which_booking":
        rows = [f"• {when_text(b['at'], today)} — {', '.join(b['services'])}" for b in x["bookings"]]
        return "У вас несколько записей:\n" + "\n".join(rows) + "\nКакую именно? Напишите дату."
    if k == "name_saved":
        return f"Приятно познакомиться, {x['name']}! Чем могу помочь?"
    if k == "handed_over":
        return "Передал ваш вопрос администратору — вам ответят здесь, в WhatsApp, как только смогут."
    if k == "salon_address":
        city = f"{x['city']}, " if x.get("city") else ""
        return f"Наш адрес: {city}{x['address']}. Ждём вас!"
    if k == "salon_phone":
        return f"Телефон салона: {x['phone']}."
    if k == "salon_hours":
        return f"Мы работаем с {x['from']} до {x['to']}. Подобрать вам время?"
    if k == "unknown_question":
        return (
            "Точной информации об этом у меня нет, а гадать не хочу. "
            "Передать ваш вопрос администратору? Он ответит здесь, в WhatsApp."
        )
    if k == "unreadable":
        return (
            "К сожалению, ваше сообщение не дошло до нас целиком — WhatsApp не смог его расшифровать. "
            "Пожалуйста, отправьте его ещё раз."
        )
    if k == "media":
        what = {
            "voice": "Голосовые сообщения я пока не слушаю",
            "voice_unheard": "Не получилось разобрать голосовое сообщение",
        }.get(x["kind"], "Картинки и файлы я пока не открываю")
        return f"{what} — напишите, пожалуйста, текстом, и я сразу отвечу."
    if k == "small_talk":
        return {
            "thanks": "Пожалуйста! Если понадобится что-то ещё — пишите.",
            "bye": "До свидания! Будем рады видеть вас в салоне.",
            "ok": "Хорошо! Если понадобится запись или цены — пишите.",
            "emoji": "😊 Если нужна запись или цены — напишите, подскажу.",
        }.get(x["topic"], "Хорошо! Если понадобится запись или цены — пишите.")
    if k == "greeting":
        if x.get("welcome"):  # the owner's own words (owner page)
            return str(x["welcome"])
        return f"Здравствуйте! {salon_introduction(x['salon'])}. Подскажу цены, свободное время и запишу вас."
    return (
        "Не совсем понял вас. Я могу подсказать цены, найти свободное время, записать, перенести или отменить "
        "запись. Вы хотите записаться?"
    )


def stage2(outcomes: list[Outcome], today: dt.date, language: str = "ru") -> str:
    """The reply in the customer's language (English where a text exists, Russian otherwise)."""
    return "\n\n".join(
        (english.render(o.kind, o.data, today) if language == "en" else None) or render(o, today) for o in outcomes
    )

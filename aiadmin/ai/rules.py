"""The `rules` provider's Stage 1: a deterministic Russian intent and slot parser (its replies are
`aiadmin.ai.replies`). It is the local default without a Gemini key and the fallback whenever Gemini fails, so a
customer always gets a sensible answer."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiadmin.ai import catalogue, english, party
from aiadmin.ai.catalogue import Salon
from aiadmin.ai.commands import Command, Stage1
from aiadmin.ai.conversation import State
from aiadmin.ai.dates import SAME_MASTER, option_number, parse_when, relative_time
from aiadmin.core.names import as_name

# A yes is only a yes: "да, но давайте в 16:00" is a new request, not a confirmation of the old proposal.
_AFFIRM = (
    r"да|ага|угу|ок|окей|ok|хорошо|конечно|подтверждаю|верно|вс[её] верно|давайте|давай|записывайте|отменяйте|"
    r"переносите|пожалуйста|спасибо|\+|👍"
)
# «поставьте в лист ожидания», «в лист ожидания, пожалуйста», «буду ждать, если освободится», «в очередь»
WAITLIST = re.compile(r"лист\w* ожидани|в очередь|(?:буду|подожду|готов\w*) ждать", re.IGNORECASE)
CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
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
PRICED_WHAT = re.compile(
    r"(?:стоит|стоимость|цена на|цены на|поч[её]м|прайс на)\s+(?:у вас\s+)?([а-яё][а-яё\s-]+)", re.I
)
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
OFFER = re.compile(
    r"продвижени|реклам|раскрут|подписчик|таргет|\bseo\b|сотрудничеств|коммерческое предложение|"
    r"предлагаем (вам |вашему салону )?(услуг|сотруднич|продвиж|рекламу|размещ)",
    re.I,
)
NAME_GIVEN = re.compile(r"\bменя зовут\s+([А-ЯЁа-яё]+(?:\s+[А-ЯЁ][а-яё]+)?)", re.I)
WHO = re.compile(  # who does a service; «кто работает завтра» is a day's schedule
    r"к кому (можно|лучше|записаться|попасть)|кто (у вас )?(делает|стрижет|стрижёт|красит)\b|"
    r"какие (у вас )?мастера|какой мастер",
    re.I,
)
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
        "staff": staff.name if staff else salon.unknown_master(t),  # a master we do not have: said so
        "date": timed,
        "time": None,
    }
    commands: list[Command] = []
    if state.pending and YES.match(low):
        return Stage1(commands=[Command(type="confirm")])
    if state.pending and NO.match(low):
        return Stage1(commands=[Command(type="decline")])
    if state.waitlist and WAITLIST.search(low) and not CLOCK.search(low):  # «а в 16:00?» asks for another time
        return Stage1(commands=[Command(type="join_waitlist")])
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
    if OFFER.search(low) and not service:  # advertising, «предлагаем сотрудничество»: never a booking
        return Stage1(commands=[Command(type="small_talk", topic="offer")])
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
    if offered and not state.pending and YES.match(low):  # «да, давайте» to the times offered: the first, proposed
        return Stage1(commands=[Command(type="create_booking", pick=1)])
    if offered and (n := option_number(low)) is not None and not (said.has_day or said.has_time or said.unclear):
        return Stage1(commands=[Command(type="create_booking", pick=n)])
    if state.service_id and not service and staff and not said.has_time:  # «давайте к Анне»: her free times
        return Stage1(commands=[Command(type="search_slots", **base)])
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
    if WHO.search(low) and (not BOOK.search(low) or "к кому" in low):  # «а к кому можно попасть?», «кто у вас стрижёт?»
        about = service.title if len(named) == 1 else None
        return Stage1(commands=[Command(type="explain_service", service=about, topic="masters")])
    if asked_length:  # the one named, else the one under discussion (also among several named: «маникюр»)
        current = service if len(named) == 1 else salon.service(state.service_id) or service
        if current is not None:
            return Stage1(commands=[Command(type="explain_service", service=current.title, topic="duration")])
    if EXPLAIN.search(low) and not BOOK.search(low):
        commands.append(Command(type="explain_service", service=service.title if service else _after_what(t)))
    if state.service_id and not service and WHAT_IS_FREE.search(low):
        return Stage1(commands=[Command(type="search_slots", **base)])
    unknown = None if named else _unknown_service(t, PRICED_WHAT)
    if PRICES.search(low) and unknown and _not_ours(unknown, salon) and not FULL_LIST.search(low):
        commands.append(Command(type="show_prices", service=unknown))  # not ours: said so, never another's price
    elif PRICES.search(low) or LIST.search(low):
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
    if (given := NAME_GIVEN.search(t)) and (name := as_name(given.group(1))):
        commands = [c for c in commands if c.type not in ("greeting", "unclear")]  # «Здравствуйте, меня зовут …»
        commands.insert(0, Command(type="remember_name", name=name))  # «меня зовут Ольга, запишите …»
    return Stage1(commands=party.read(commands, low, salon, named) or [Command(type="unclear")])


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


def _unknown_service(text: str, asked: re.Pattern[str] = BOOKED_WHAT) -> str | None:
    """The words after «запишите на …» (or «сколько стоит …»), when they may name a service: checked by the caller
    against the salon's own."""
    m = asked.search(text)
    if not m:
        return None
    words = [w for w in m.group(1).lower().split() if len(w) >= 4 and not NOT_A_SERVICE.match(w)]
    return " ".join(words) or None


def _not_ours(words: str, salon: Salon) -> bool:
    """No word of these is in any service's title or category."""
    return bool(catalogue._stems(words)) and not salon.sharing_words(words)


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

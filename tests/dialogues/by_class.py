"""Held-out first conversations by class of phrasing: typos, Russian in Latin letters, times said the way people
say them, corrections, categories, durations, several people, other languages, small talk, off-topic. Written as
customers write before the parser was changed for them, and frozen: a failure is a finding for the parser, never a
reason to edit a dialogue. The share passed is reported per class (test-output/dialogue-report.json)."""

from __future__ import annotations

from dataclasses import replace

from tests.dialogues.dialogue import D, Dialogue, S

PROPOSES = "Подтверждаете?"
BOOKED = "Готово! Вы записаны"
SLOTS = "Свободное время"


def _tag(kind: str, *dialogues: Dialogue) -> list[Dialogue]:
    return [replace(d, kind=kind) for d in dialogues]


DIALOGUES = [
    *_tag(
        "typos",
        D("a men's haircut, spelt by ear", S("скока стоит мужская стришка", "1300")),
        D("a gel manicure without the hyphen", S("сколько стоит маникур с гель лаком", "2200")),
        D("a pedicure with a swapped vowel", S("запишите на педекюр завтра", "«Педикюр с покрытием»")),
        D("a master's name with swapped letters", S("можно к Дмитирию на мужскую стрижку завтра", "Дмитрий Козлов")),
        D("highlights misspelt", S("цена на мелированые", "4500")),
        D("a facial with a letter missing", S("есть время на чиску лица в пятницу?", "«Чистка лица»")),
    ),
    *_tag(
        "latin",
        D("the price in Latin letters", S("skolko stoit muzhskaya strizhka", "1300")),
        D(
            "a booking in Latin letters",
            S("zdravstvuyte, mozhno zapisatsya na manikyur bez pokrytiya zavtra?", "«Маникюр без покрытия»"),
        ),
        D("a pedicure price in Latin letters", S("a pedikyur skolko stoit?", "2800")),
        D("a facial on Saturday in Latin letters", S("est' vremya na chistku litsa v subbotu?", "«Чистка лица»")),
        D("colouring in Latin letters", S("Privet! Skolko stoit okrashivanie?", "3500")),
        D("the address in Latin letters", S("kakoi u vas adres?", "Тверская")),
    ),
    *_tag(
        "colloquial_time",
        D("about five", S("Запишите на мужскую стрижку завтра часов в пять", "17:00")),
        D("half past ten in words", S("Завтра на маникюр без покрытия в пол одиннадцатого можно?", "10:30")),
        D("a time with a dash", S("на женскую стрижку послезавтра в 17-45", "17:45")),
        D("a time with a dot", S("детская стрижка завтра в 12.30 есть?", "12:30")),
        D("after lunch", S("хочу на массаж лица завтра после обеда", "«Массаж лица»", "re:в 1[3-9]:|в 20:")),
        D(
            "closer to the evening",
            S("мужская стрижка завтра ближе к вечеру", "«Мужская стрижка»", "re:в (1[6-9]|20):"),
        ),
    ),
    *_tag(
        "corrections",
        D(
            "the child's haircut, not mine",
            S("Запишите на мужскую стрижку завтра", SLOTS),
            S("а нет, мне детскую надо", "«Детская стрижка»"),
        ),
        D(
            "with polish after all",
            S("запишите на маникюр без покрытия завтра", "«Маникюр без покрытия»"),
            S("ой, лучше с покрытием", "«Маникюр с покрытием гель-лак»"),
        ),
        D(
            "the day after, not tomorrow",
            S("Можно на укладку завтра?", "«Укладка»"),
            S("давайте {t1}", PROPOSES),
            S("а можно не завтра, а послезавтра?", "послезавтра", lacks=(BOOKED,)),
        ),
        D(
            "no, then Sunday",
            S("Есть время на женскую стрижку в субботу?", "«Женская стрижка»"),
            S("давайте {t1}", PROPOSES),
            S("нет, не надо", lacks=(BOOKED,)),
            S("а в воскресенье?", "воскресень", lacks=(BOOKED,)),
        ),
        D(
            "another master",
            S("Хочу к Анне на женскую стрижку завтра", "Анна Соколова"),
            S("а к Ирине можно?", "Ирина Морозова"),
        ),
        D(
            "the massage, not the cleansing",
            S("Запишите меня на чистку лица послезавтра", "«Чистка лица»"),
            S("ой, перепутала, на массаж лица", "«Массаж лица»"),
        ),
    ),
    *_tag(
        "categories",
        D(
            "all the haircuts",
            S("Какие у вас есть стрижки и сколько стоят?", "Мужская стрижка", "Женская стрижка", "Детская стрижка"),
        ),
        D("manicure in general", S("сколько стоит маникюр?", "2200", "1200")),
        D("the face care", S("Что у вас есть по уходу за лицом?", "Чистка лица", "Массаж лица")),
        D("colouring prices", S("Цены на окрашивание", "Мелирование", "Тонирование")),
        D("every service", S("Какие услуги у вас вообще есть?", "Мужская стрижка", "Чистка лица")),
        D("the price list", S("прайс скиньте пожалуйста", "Мужская стрижка", "Педикюр")),
    ),
    *_tag(
        "durations",
        D("how long a men's haircut", S("Сколько длится мужская стрижка?", "45 мин", lacks=("1300",))),
        D("how long colouring", S("Окрашивание сколько по времени занимает?", "re:2 ч|120 мин")),
        D("how long a gel manicure", S("Маникюр с гель-лаком долго делается?", "re:1,5 ч|90 мин|1 ч 30")),
        D("how long a cleansing", S("Чистка лица сколько времени?", "re:75 мин|1 ч 15")),
        D("how long highlights", S("как долго длится мелирование", "re:2,5 ч|150 мин|2 ч 30")),
        D("how long a face massage", S("Сколько по времени массаж лица?", "40 мин")),
    ),
    *_tag(
        "several_people",
        D(
            "me and my son",
            S("Можно меня и сына подстричь завтра? Мне женскую, ему детскую", "«Женская стрижка»", "«Детская стрижка»"),
        ),
        D(
            "two friends' manicure",
            S("Хотим с подругой на маникюр с покрытием в субботу", "«Маникюр с покрытием гель-лак»"),
        ),
        D(
            "me and my husband",
            S(
                "Запишите нас с мужем: мне укладку, ему мужскую стрижку, завтра вечером",
                "«Укладка»",
                "«Мужская стрижка»",
            ),
        ),
        D("the price for two", S("сколько будет стоить стрижка мне и дочке (детская)?", "900", "re:1800|2500")),
        D("two children's haircuts", S("Две детские стрижки на завтра можно?", "«Детская стрижка»")),
        D("me and mum", S("Я и мама хотим на педикюр в пятницу", "«Педикюр с покрытием»")),
    ),
    *_tag(
        "languages",
        D("a manicure price in English", S("Hello, how much is a manicure?", "re:2200|1200")),
        D("a facial in English", S("Can I book a facial cleansing on Saturday?", "«Чистка лица»")),
        D("opening hours in English", S("What are your opening hours?", "10:00")),
        D("where in English", S("Where are you located?", "Тверская")),
        D(
            "a men's haircut tomorrow evening in English",
            S("Do you do men's haircuts tomorrow evening?", "«Мужская стрижка»"),
        ),
        D("thanks and bye in English", S("Thanks, bye!", "re:Goodbye|welcome|See you")),
    ),
    *_tag(
        "small_talk",
        D("thanks a lot", S("Спасибо большое!", "Пожалуйста")),
        D("ok, thanks", S("ок, спасибо", lacks=("Вы хотите записаться",))),
        D("a thumbs up", S("👍", lacks=("Вы хотите записаться",))),
        D(
            "ok, thanks after a booking",
            S("Можно на детскую стрижку завтра?", "«Детская стрижка»"),
            S("давайте {t1}", PROPOSES),
            S("да", BOOKED),
            S("ок, спасибо", "re:Пожалуйста|Ждём|Хорошо"),
            books=1,
            service_booked="Детская стрижка",
        ),
        D("good morning with a smile", S("Доброе утро)", "re:Здравствуйте|Доброе")),
        D("have a nice day", S("хорошего дня!", lacks=("Вы хотите записаться",))),
    ),
    *_tag(
        "off_topic",
        D("an advert", S("Продаю базы клиентов для салонов, интересно?", lacks=(PROPOSES, SLOTS, "Наши цены"))),
        D("rudeness", S("Вы дураки, ничего не работает", lacks=(PROPOSES, SLOTS, "Наши цены"))),
        D("parking", S("А парковка у вас есть?", "администратору")),
        D("paying by card", S("Можно оплатить картой?", "администратору")),
        D("the weather", S("Какая погода завтра?", lacks=(SLOTS, "Наши цены", PROPOSES))),
        D("gift certificates", S("У вас есть подарочные сертификаты?", "администратору")),
    ),
]

"""The 20 held-out dialogues: written after the code of issue 15 was finished and never used to tune it. Their
share is reported on its own; a failure here is a finding for the next change, not something to fit."""

from __future__ import annotations

from tests.dialogues.dialogue import D, S

PROPOSES = "Подтверждаете?"
BOOKED = "Готово! Вы записаны"

DIALOGUES = [
    D(
        "good evening, a haircut for my son tomorrow",
        S("Добрый вечер! Можно сына подстричь завтра?", "«Детская стрижка»"),
        S("давайте {t1}", PROPOSES),
        S("да, спасибо", BOOKED),
        books=1,
        service_booked="Детская стрижка",
    ),
    D("how much is colouring", S("Сколько у вас стоит покраска волос?", "Окрашивание в один тон")),
    D(
        "a facial on the weekend",
        S("Есть ли запись на чистку лица на выходных?", "«Чистка лица»"),
        S("первый вариант подойдёт", PROPOSES),
        S("подтверждаю", BOOKED),
        books=1,
        service_booked="Чистка лица",
    ),
    D(
        "who works tomorrow",
        S("Дмитрий завтра работает?", "re:Дмитрий Козлов"),
    ),
    D(
        "a move without a day",
        S("Мне нужно перенести запись", "«Массаж лица»"),
        S("давайте {tlast}", "Переношу"),
        S("да", "перенесена"),
        moves=1,
        has_booking="Массаж лица",
    ),
    D("is there wifi", S("А у вас есть вай-фай?", "администратору")),
    D(
        "thanks, bye after prices",
        S("Сколько стоит массаж лица?", "2000 ₽"),
        S("Спасибо, до свидания!", "re:Пожалуйста|До свидания"),
    ),
    D(
        "a manicure with gel polish on Friday",
        S("Хочу маникюр с гель-лаком в пятницу", "«Маникюр с покрытием гель-лак»"),
    ),
    D(
        "cancel, I am ill",
        S("Здравствуйте, я заболела, отмените пожалуйста запись", "Отменить вашу запись"),
        S("Да", "отменена"),
        cancels=1,
        has_booking="Педикюр с покрытием",
    ),
    D(
        "after 6 pm tomorrow",
        S("Есть что-нибудь на мужскую стрижку завтра после 18?", "«Мужская стрижка»", "re:в (1[89]|2\\d):"),
    ),
    D(
        "the third option",
        S("Свободно на укладку послезавтра?", "«Укладка»"),
        S("третий", "{t3}", PROPOSES),
        S("ага", BOOKED),
        books=1,
        service_booked="Укладка",
    ),
    D("an emoji of thanks", S("🙏", lacks=("Наши цены",))),
    D("the phone number", S("Дайте номер телефона салона", "+7 495 123-45-67")),
    D(
        "a booking in English with a day later",
        S("Do you have time for a women's haircut tomorrow?", "«Женская стрижка»"),
        S("what about the day after?", "«Женская стрижка»"),
    ),
    D(
        "one question, several messages",
        S("Здравствуйте\nПодскажите\nсколько стоит мелирование", "Мелирование — 4500–8000 ₽"),
    ),
    D(
        "an earlier time for a manicure",
        S("Когда можно на маникюр без покрытия завтра вечером?", "«Маникюр без покрытия»"),
        S("а пораньше можно?", "«Маникюр без покрытия»", "re:в 1[0-6]:"),
    ),
    D(
        "a booking I already have, and when",
        S("Подскажите, на какое время я записана?", "Тонирование", "{booked_at}"),
        has_booking="Тонирование",
    ),
    D("opening time", S("С какого времени вы открыты?", "10:00")),
    D(
        "a complaint goes to a person",
        S("Мне не понравилась стрижка, хочу поговорить с администратором", "администратору", handover=True),
    ),
    D(
        "no, a different day",
        S("Можно на женскую стрижку завтра?", "«Женская стрижка»"),
        S("давайте {t1}", PROPOSES),
        S("нет, лучше в субботу", "re:суббот|«Женская стрижка»", lacks=(BOOKED,)),
    ),
]

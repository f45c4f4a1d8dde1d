"""Demo salon 962302 for the YCLIENTS stand-in: realistic Russian data, generated deterministically."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

DEMO_SALON_ID = 962302
DEMO_BRANCHES = (962302, 962303)  # two branches of one network («Лилия» and its second salon)
DEMO_NETWORK = 9206

CATEGORIES = [
    (101, "Стрижки"),
    (102, "Окрашивание"),
    (103, "Маникюр и педикюр"),
    (104, "Уход за лицом"),
]
SERVICES = [  # id, category, title, price_min, price_max, minutes
    (1001, 101, "Женская стрижка", 1800, 2500, 60),
    (1002, 101, "Мужская стрижка", 1300, 1300, 45),
    (1003, 101, "Детская стрижка", 900, 900, 30),
    (1004, 101, "Укладка", 1200, 2000, 45),
    (1011, 102, "Окрашивание в один тон", 3500, 6000, 120),
    (1012, 102, "Мелирование", 4500, 8000, 150),
    (1013, 102, "Тонирование", 2500, 4000, 90),
    (1021, 103, "Маникюр с покрытием гель-лак", 2200, 2200, 90),
    (1022, 103, "Маникюр без покрытия", 1200, 1200, 45),
    (1023, 103, "Педикюр с покрытием", 2800, 2800, 90),
    (1031, 104, "Чистка лица", 3200, 3200, 75),
    (1032, 104, "Массаж лица", 2000, 2000, 40),
]
STAFF = [  # id, name, specialization, services' categories
    (2001, "Анна Соколова", "Парикмахер-стилист", (101, 102)),
    (2002, "Ирина Морозова", "Колорист", (102, 101)),
    (2003, "Екатерина Волкова", "Мастер маникюра", (103,)),
    (2004, "Марина Лебедева", "Косметолог", (104,)),
    (2005, "Дмитрий Козлов", "Барбер", (101,)),
]
FIRST_NAMES = [
    "Ольга",
    "Татьяна",
    "Елена",
    "Наталья",
    "Мария",
    "Светлана",
    "Юлия",
    "Алина",
    "Ксения",
    "Дарья",
    "Виктория",
    "Полина",
    "Алексей",
    "Сергей",
    "Андрей",
    "Максим",
]
LAST_NAMES = [
    "Иванова",
    "Петрова",
    "Смирнова",
    "Кузнецова",
    "Попова",
    "Васильева",
    "Новикова",
    "Фёдорова",
    "Михайлова",
    "Егорова",
]


def company(salon_id: int = DEMO_SALON_ID) -> dict[str, Any]:
    return {
        "id": salon_id,
        "title": "Салон красоты «Лилия»" if salon_id == DEMO_SALON_ID else f"Салон {salon_id}",
        "country_id": 1,
        "country": "Россия",
        "city_id": 1,
        "city": "Москва",
        "timezone_name": "Europe/Moscow",
        "timezone": 3,
        "address": "ул. Тверская, д. 12, стр. 1",
        "zip": 125009,
        "coordinate_lat": 55.7612,
        "coordinate_lon": 37.6094,
        "short_descr": "Салон красоты",
        "phone": "+7 495 123-45-67",
        "site": "lilia-salon.ru",
        "business_type_id": 1,
        "phone_confirmation": False,
        "active_staff_count": len(STAFF),
        "main_group_id": DEMO_NETWORK if salon_id in DEMO_BRANCHES else salon_id,  # any other salon: its own network
        "social": {"vk": "", "instagram": "", "telegram": "", "whatsapp": "", "viber": "", "facebook": ""},
    }


OWNER_USER = {"id": 1234567, "name": "Анна Иванова", "phone": "79001234567", "email": "anna@example.com"}
ADMIN_USER = {"id": 2345678, "name": "Ольга Смирнова", "phone": "79002345678", "email": "olga@example.com"}


def users(salon_id: int = DEMO_SALON_ID) -> list[dict[str, Any]]:
    """The salon's YCLIENTS accounts, as `GET /company/{id}/users` lists them: the network's owner and an
    administrator in «Лилия»'s branches; any other salon has an owner of its own."""
    if salon_id in DEMO_BRANCHES:
        return [
            {**OWNER_USER, "information": "Владелец", "is_approved": True, "user_role_slug": "owner"},
            {**ADMIN_USER, "information": "Администратор", "is_approved": True, "user_role_slug": "administrator"},
        ]
    own = {"id": 7_000_000 + salon_id % 1_000_000, "name": "Владелец салона", "phone": f"7999{salon_id % 10**7:07d}"}
    return [{**own, "email": "", "information": "", "is_approved": True, "user_role_slug": "owner"}]


def services() -> list[dict[str, Any]]:
    out = []
    for sid, cat, title, pmin, pmax, minutes in SERVICES:
        staff = [{"id": s[0], "seance_length": minutes * 60} for s in STAFF if cat in s[3]]
        out.append(
            {
                "id": sid,
                "title": title,
                "category_id": cat,
                "price_min": pmin,
                "price_max": pmax,
                "discount": 0,
                "comment": "",
                "weight": 0,
                "active": 1,
                "duration": minutes * 60,
                "service_type": 1,
                "staff": staff,
            }
        )
    return out


def categories() -> list[dict[str, Any]]:
    return [{"id": cid, "title": title, "weight": 10 * i} for i, (cid, title) in enumerate(CATEGORIES)]


def staff() -> list[dict[str, Any]]:
    return [
        {
            "id": sid,
            "name": name,
            "company_id": DEMO_SALON_ID,
            "specialization": spec,
            "position": {"id": 1, "title": spec},
            "avatar": "",
            "fired": 0,
            "status": 0,
            "hidden": 0,
            "weight": 10,
            "rating": 5,
        }
        for sid, name, spec, _ in STAFF
    ]


def clients(count: int = 40, seed: int = 962302) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = []
    for i in range(count):
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        if first in ("Алексей", "Сергей", "Андрей", "Максим"):
            last = last[:-1] if last.endswith("а") else last
        out.append(
            {
                "id": 5000 + i,
                "name": f"{first} {last}",
                "phone": 79160000000 + rnd.randint(0, 9999999),
                "email": "",
                "visits_count": rnd.randint(0, 30),
                "sold_amount": rnd.randint(0, 90000),
            }
        )
    return out


DAYS_OFF = 2  # each master has two days off a week, staggered by id
WORKING_HOURS = (("10:00", "14:00"), ("15:00", "21:00"))


def works(staff_id: int, day: date, days_off: int = DAYS_OFF) -> bool:
    """Who works when: the one rule the stand-in's schedules follow and its records are placed on."""
    return (day.toordinal() + int(staff_id)) % 7 >= days_off


def minutes_of(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def fits(start_min: int, length_min: int, taken: list[tuple[int, int]]) -> bool:
    """Inside one working interval and clear of the master's other records that day."""
    end = start_min + length_min
    inside = any(minutes_of(a) <= start_min and end <= minutes_of(b) for a, b in WORKING_HOURS)
    return inside and all(end <= t0 or start_min >= t1 for t0, t1 in taken)


def records(today: date, count: int = 30, seed: int = 7) -> list[dict[str, Any]]:
    """Upcoming records, consistent with the schedule by construction: from tomorrow on (so none is already past,
    whatever the hour), on a day their master works, inside working hours, never overlapping."""
    rnd = random.Random(seed)
    pool = clients()
    taken: dict[tuple[int, date], list[tuple[int, int]]] = {}
    out = []
    for i in range(count):
        sid, cat, title, pmin, _, minutes = rnd.choice(SERVICES)
        master = next(s for s in STAFF if cat in s[3])
        while True:
            day = today + timedelta(days=rnd.randint(1, 14))
            start = rnd.choice([10, 11, 12, 15, 16, 17, 18]) * 60
            busy = taken.setdefault((master[0], day), [])
            if works(master[0], day) and fits(start, minutes, busy):
                busy.append((start, start + minutes))
                break
        when = datetime.combine(day, datetime.min.time()) + timedelta(minutes=start)
        client = rnd.choice(pool)
        out.append(
            {
                "id": 700000 + i,
                "company_id": DEMO_SALON_ID,
                "staff_id": master[0],
                "date": when.strftime("%Y-%m-%d %H:%M:%S"),
                "datetime": when.strftime("%Y-%m-%dT%H:%M:%S+03:00"),
                # made at the front desk a few days ago
                "create_date": f"{today - timedelta(days=rnd.randint(1, 5)):%Y-%m-%d}T12:00:00+0300",
                "seance_length": minutes * 60,
                "length": minutes * 60,
                "attendance": 0,
                "visit_id": 5_700_000 + i,
                "confirmed": 1,
                "deleted": False,
                "comment": "",
                "services": [{"id": sid, "title": title, "cost": pmin, "first_cost": pmin, "discount": 0, "amount": 1}],
                "staff": {"id": master[0], "name": master[1], "specialization": master[2]},
                "client": {"id": client["id"], "name": client["name"], "phone": f"+{client['phone']}"},
            }
        )
    return out

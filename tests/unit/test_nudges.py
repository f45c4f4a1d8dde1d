"""When «пора на…» is due: the customer's own median interval, else the owner's for the service, else the default;
within two weeks after it passed; one per (customer, service); and what the message says in Russian."""

from __future__ import annotations

import datetime as dt

from aiadmin.ai.nudges import due, interval_days, text_of
from aiadmin.core.models import Company
from aiadmin.sync.documents import BookedService, BookingDoc

TODAY = dt.date(2027, 3, 10)


def _company(**rebooking) -> Company:
    return Company.model_validate({"salon_id": 1, "title": "Лилия", "retention": {"rebooking": rebooking}})


def _visit(rid: int, days_ago: int, phone: str = "79160000001", service: int = 5, attendance: int = 1) -> BookingDoc:
    day = TODAY - dt.timedelta(days=days_ago)
    return BookingDoc(
        id=rid,
        date=day.isoformat(),
        client_phone=phone,
        attendance=attendance,
        services=[BookedService(id=service, title="Мужская стрижка", cost=1300, amount=1)],
    )


def test_the_interval_is_the_customers_own_median_else_the_owners_for_the_service_else_the_default():
    company = _company(enabled=True, default_interval_days=28, per_service={"7": 45})
    dates = [TODAY - dt.timedelta(days=n) for n in (95, 60, 40)]
    assert interval_days(company, dates, 5) == 27  # gaps 35 and 20: the median
    assert interval_days(company, dates[-1:], 7) == 45
    assert interval_days(company, dates[-1:], 5) == 28
    same_week = [TODAY - dt.timedelta(days=n) for n in (33, 30)]  # two visits days apart are one visit's fix
    assert interval_days(company, same_week, 5) == 28


def test_due_takes_each_customers_last_visit_once_its_interval_has_passed_and_not_long_after():
    company = _company(enabled=True)
    visits = [
        _visit(1, 58, "79160000001"),
        _visit(2, 29, "79160000001"),  # due: own interval 29, 29 days since
        _visit(3, 20, "79160000002"),  # not yet: default 28
        _visit(4, 50, "79160000003"),  # gone: 22 days past the default, beyond the two weeks
        _visit(5, 30, "79160000004", attendance=-1),  # a missed visit is no visit
        _visit(6, 30, "79160000005"),
        _visit(7, 30, "79160000005", service=9),  # the same customer, another service: its own nudge
    ]
    assert sorted(v.id for v in due(company, visits, TODAY)) == [2, 6, 7]


def test_the_nudge_says_how_long_it_has_been_and_offers_the_times():
    text = text_of("Анна", "Мужская стрижка", 5, "Ольга", "Свободное время…")
    assert text.startswith("Анна, здравствуйте! С вашего визита «Мужская стрижка» прошло 5 недель.")
    assert "Записать вас снова (мастер — Ольга)?" in text and "«стоп»" in text
    assert "прошла неделя" in text_of(None, "Маникюр", 1, None, "")
    assert "прошла 21 неделя" in text_of(None, "Маникюр", 21, None, "")
    assert "прошло 3 недели" in text_of(None, "Маникюр", 3, None, "")

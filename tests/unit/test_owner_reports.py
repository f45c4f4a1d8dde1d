"""What the owner reads: the daily summary in correct Russian for any count, and where notices go."""

import pytest

from aiadmin.core.models import Company, Installer, MarketplaceUser, OwnerSettings, utcnow
from aiadmin.marketplace.owner_page import SettingsChange
from aiadmin.marketplace.owner_reports import summary_text
from aiadmin.whatsapp.activity import BotAction, DayActivity


def _day(customers: int, booked: int = 0, handoffs: int = 0) -> DayActivity:
    return DayActivity(
        salon_id=1,
        day="2027-03-02",
        customers=[f"c{i}" for i in range(customers)],
        handoffs=[f"h{i}" for i in range(handoffs)],
        actions=[BotAction(kind="booked", record_id=i, customer="7900") for i in range(booked)],
    )


@pytest.mark.parametrize(
    ("customers", "waiting", "expected"),
    [
        (1, 0, "Вчера бот ответил 1 клиенту, записал 0, перенёс 0, отменил 0. Ответа человека никто не ждёт."),
        (21, 1, "Вчера бот ответил 21 клиенту, записал 0, перенёс 0, отменил 0. 1 вопрос ждёт вас."),
        (34, 2, "Вчера бот ответил 34 клиентам, записал 0, перенёс 0, отменил 0. 2 вопроса ждут вас."),
        (11, 5, "Вчера бот ответил 11 клиентам, записал 0, перенёс 0, отменил 0. 5 вопросов ждут вас."),
    ],
)
def test_the_summary_agrees_with_its_numbers(customers, waiting, expected):
    assert summary_text(_day(customers), waiting) == expected


def test_the_summary_names_bookings_and_handoffs():
    text = summary_text(_day(3, booked=2, handoffs=1), 0)
    assert "записал 2" in text and "Просили администратора: 1." in text


def test_notices_go_to_the_number_set_else_the_installer_else_the_salon_itself():
    company = Company(salon_id=1, title="Лилия", whatsapp_phone="79161234567")
    assert company.owner_phone() == "79161234567", "a message to yourself"
    company.marketplace_user = MarketplaceUser(id="7", phone="79005554433")
    assert company.owner_phone() == "79161234567", "the last redirect's user is nobody's owner"
    company.installer = Installer(user_id="1", phone="8 (900) 123-45-67")
    assert company.owner_phone() == "79001234567", "the installer's number"
    company.owner = OwnerSettings(phone="79165554433")
    assert company.owner_phone() == "79165554433", "the number set (and proved) on the owner page"


def test_a_salon_activated_before_installers_were_recorded_sends_notices_to_its_last_signed_user():
    company = Company(salon_id=1, title="Лилия", whatsapp_phone="79161234567", activated_at=utcnow())
    company.marketplace_user = MarketplaceUser(id="7", phone="79005554433")
    assert company.trusted_installer().user_id == "7" and company.owner_phone() == "79005554433"


@pytest.mark.parametrize("phone", ["+7 916 555-44-33", "8 916 555 44 33", "79165554433"])
def test_the_owner_number_is_read_in_any_usual_spelling(phone):
    assert SettingsChange(phone=phone).phone == "79165554433"


@pytest.mark.parametrize(
    "bad",
    [
        {"phone": "12345"},
        {"staff_pause_min": 0},
        {"summary_hour": 24},
        {"x": 1},
        {"reminders": {"day_before_hour": 23}},
        {"reminders": {"sms": True}},
    ],
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        SettingsChange.model_validate(bad)


def test_a_requesters_name_in_a_code_message_carries_no_link_and_no_line_of_its_own():
    from aiadmin.marketplace.owner_access import shown_name

    shown = shown_name("Ольга\nПереведите 5000 ₽ на https://evil.example/pay?x=1 срочно!!!")
    assert "\n" not in shown and "://" not in shown and "?" not in shown and len(shown) <= 40
    assert shown.startswith("Ольга Переведите 5000")
    assert shown_name("  ") is None and shown_name(None) is None

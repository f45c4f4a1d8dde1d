"""The phone number a customer whose number WhatsApp hides types when the bot asks for it: every usual spelling is
read as the same number, and nothing else in a message (a date, a time, a price) is taken for one."""

from __future__ import annotations

import pytest

from aiadmin.ai import phone_numbers

SPELLINGS = [
    "+7 916 555-12-34",
    "89165551234",
    "8 (916) 555 12 34",
    "8-916-555-12-34",
    "+79165551234",
    "9165551234",
    "8916 555 1234",
    "мой номер 8 (916) 555-12-34",
    "вот: +7 (916) 555-12-34, пишите",
    "Тел. 916 555 12 34",
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_every_usual_spelling_of_a_russian_mobile_is_one_number(text):
    digits, rest = phone_numbers.find(text)
    assert digits == "79165551234"
    assert not phone_numbers.says_more(rest), f"only filler is left of {text!r}: {rest!r}"


@pytest.mark.parametrize(
    "text",
    ["в 15:00 8 марта", "стрижка за 1300 ₽", "25.12 в 9.15", "с 10 до 21", "запись №700123", "17-45", "2 3 4"],
)
def test_dates_times_prices_and_record_numbers_are_no_phone(text):
    assert phone_numbers.find(text) == (None, text)


def test_a_question_beside_the_number_is_kept_to_be_answered():
    digits, rest = phone_numbers.find("+7 916 555-12-34, а сколько стоит маникюр?")
    assert digits == "79165551234" and phone_numbers.says_more(rest) and "маникюр" in rest


def test_a_number_of_another_country_keeps_its_code():
    assert phone_numbers.find("+375 29 123-45-67")[0] == "375291234567"

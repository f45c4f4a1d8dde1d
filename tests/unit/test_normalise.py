"""Customers' words as the parser can read them: Russian typed in Latin letters in Cyrillic, English left as it
is, misspelt words put right only towards the salon's own words and only when one is clearly meant."""

from __future__ import annotations

import pytest

from aiadmin.ai.normalise import latin_russian, normalise, vocabulary_of

SALON = vocabulary_of(
    [
        "Женская стрижка",
        "Мужская стрижка",
        "Маникюр с покрытием гель-лак",
        "Педикюр с покрытием",
        "Чистка лица",
        "Мелирование",
        "Тонирование",
        "Анна Соколова",
        "Дмитрий Козлов",
    ]
)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("skolko stoit muzhskaya strizhka", "сколько стоит мужская стрижка"),
        ("est' vremya na chistku litsa v subbotu?", "есть время на чистку лица в субботу?"),
        ("kakoi u vas adres?", "какой у вас адрес?"),
        ("a pedikyur skolko stoit?", "а педикюр сколько стоит?"),
    ],
)
def test_russian_typed_in_latin_letters_is_read_in_cyrillic(typed, read):
    assert normalise(typed, SALON) == read


@pytest.mark.parametrize(
    "english", ["Hello, how much is a manicure?", "Where are you located?", "Thanks, bye!", "Can I book on Friday?"]
)
def test_english_stays_english(english):
    assert not latin_russian(english) and normalise(english, SALON) == english


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("мужская стришка", "стрижка"),
        ("маникур с гель лаком", "маникюр"),
        ("запишите на педекюр", "педикюр"),
        ("цена на мелированые", "мелирование"),
        ("на чиску лица", "чистка"),
        ("скока стоит", "сколько"),
        ("запишите на завтро", "завтра"),
    ],
)
def test_a_misspelt_word_is_put_right_towards_the_salons_words(typed, meant):
    assert meant in normalise(typed, SALON)


@pytest.mark.parametrize(
    "written", ["хочу к Ирине на стрижку", "стрижечку можно", "запишите на шугаринг", "можно в пн", "ок спасибо"]
)
def test_real_words_and_words_nothing_is_close_to_are_left_as_written(written):
    assert normalise(written, SALON) == written


def test_a_word_equally_close_to_two_different_words_is_left_alone():
    vocabulary = vocabulary_of(["Тонирование", "Полирование"])
    assert normalise("оирование", vocabulary) == "оирование"

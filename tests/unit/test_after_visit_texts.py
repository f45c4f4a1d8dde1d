"""What the salon says after a visit, and how a customer's short answers are read, in Russian."""

from __future__ import annotations

import pytest

from aiadmin.ai.review_answers import rating_in, wants_no_more
from aiadmin.reminders.outreach import missed_visit, review_request


@pytest.mark.parametrize(
    ("text", "rating"),
    [("5", 5), ("4!", 4), (" 3 из 5 ", 3), ("2/5", 2), ("пять", 5), ("Четыре", 4), ("⭐⭐⭐", 3), ("оценка 1", 1)],
)
def test_a_rating_is_read_however_it_is_written(text, rating):
    assert rating_in(text) == rating


@pytest.mark.parametrize("text", ["6", "0", "5 вечера", "в 5", "25.12", "5 звёзд за стрижку, но ждала долго", "да"])
def test_what_is_not_a_rating_is_not_read_as_one(text):
    assert rating_in(text) is None


@pytest.mark.parametrize(
    "text", ["стоп", "Стоп!", "/stop", "STOP", "не пишите", "больше не пишите мне", "Отпишите меня", "отписка"]
)
def test_stop_in_its_usual_spellings(text):
    assert wants_no_more(text)


@pytest.mark.parametrize("text", ["Стоп, я передумал", "не пишите мне в выходные", "остановка у салона есть?"])
def test_stop_inside_a_sentence_is_not_an_opt_out(text):
    assert not wants_no_more(text)


def test_the_review_request_names_the_services_and_the_master_without_declining_names():
    text = review_request("Анна", ["Стрижка", "Укладка"], "Ольга Петрова")
    assert text.startswith("Анна, здравствуйте! Как прошёл ваш визит («Стрижка», «Укладка», мастер — Ольга Петрова)?")
    assert "от 1 до 5" in text and "напишите «стоп»" in text
    assert review_request(None, [], None).startswith("Здравствуйте! Как прошёл ваш визит в салон?")


def test_the_word_after_a_missed_visit_says_when():
    text = missed_visit("Иван", ["Мужская стрижка"], "вчера")
    assert text.startswith("Иван, здравствуйте! Жаль, что вчера не получилось прийти на запись («Мужская стрижка»).")
    dated = missed_visit(None, [], "во вторник, 1 декабря,")
    assert "Жаль, что во вторник, 1 декабря, не получилось прийти на запись." in dated

"""What the bot takes for a customer's name: a name, never an answer, a question or a number."""

from __future__ import annotations

import pytest

from aiadmin.core.names import as_name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Анна", "Анна"),
        ("анна петрова", "Анна Петрова"),
        ("Меня зовут Ольга", "Ольга"),
        ("это Пётр", "Пётр"),
        ("Анна-Мария", "Анна-Мария"),
        ("Ольга 💅", "Ольга"),
        ("Ivan Petrov", "Ivan Petrov"),
        ("да", None),
        ("Да", None),
        ("Да, всё верно", None),
        ("нет", None),
        ("ок", None),
        ("Спасибо!", None),
        ("А зачем?", None),
        ("Как вас зовут?", None),
        ("89161234567", None),
        ("Анна 2", None),
        ("я хочу записаться на стрижку завтра", None),
        ("", None),
        ("💅💅", None),
        (None, None),
    ],
)
def test_only_a_name_is_taken_for_a_name(text, name):
    assert as_name(text) == name

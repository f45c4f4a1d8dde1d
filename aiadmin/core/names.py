"""Is this a person's name? Asked «Как вас зовут?», a customer may answer «да», «Да, всё верно» or a question;
WhatsApp's profile name may be «💅 Nails by Olga» or «Мама». Only what reads as a name goes into a booking."""

from __future__ import annotations

import re

MAX_WORDS = 4
_INTRO = re.compile(r"^(?:меня\s+зовут|зовут|я|это|my\s+name\s+is|i\s+am|i'm)\s+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-zА-ЯЁа-яё]+(?:[-'][A-Za-zА-ЯЁа-яё]+)*")
# Words no name is made of: answers, greetings, politeness, and what people write instead of a name.
_NOT_NAME_WORDS = frozenset(
    {
        "да",
        "нет",
        "ага",
        "угу",
        "неа",
        "ок",
        "окей",
        "ok",
        "okay",
        "yes",
        "no",
        "хорошо",
        "ладно",
        "конечно",
        "верно",
        "всё",
        "все",
        "правильно",
        "точно",
        "подтверждаю",
        "согласен",
        "согласна",
        "спасибо",
        "пожалуйста",
        "здравствуйте",
        "привет",
        "добрый",
        "день",
        "вечер",
        "утро",
        "hi",
        "hello",
        "thanks",
        "не",
        "знаю",
        "зачем",
        "почему",
        "что",
        "кто",
        "как",
        "где",
        "когда",
        "можно",
        "нужно",
        "надо",
        "запишите",
        "записаться",
        "запись",
    }
)


def as_name(text: str | None) -> str | None:
    """The name, tidied («анна» → «Анна»), or None when the text is not a name."""
    if not text or "?" in text or any(ch.isdigit() for ch in text):
        return None
    words = _WORD.findall(_INTRO.sub("", text.strip()))
    if not words or len(words) > MAX_WORDS or len("".join(words)) < 2:
        return None
    if any(word.lower() in _NOT_NAME_WORDS for word in words):
        return None
    return " ".join(word[:1].upper() + word[1:] for word in words)[:60]

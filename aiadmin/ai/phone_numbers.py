"""A phone number typed into a chat: «+7 916 123-45-67», «89161234567», «мой номер 916 123 45 67».

Found with libphonenumber's matcher (the `phonenumbers` port): it knows each country's lengths and trunk prefixes
and does not take a date, a time or a price for a number."""

from __future__ import annotations

import re

import phonenumbers

REGION = "RU"  # how a number without a country code is read; most salons on YCLIENTS are in Russia
# What people write around a number they give: nothing to answer once the number is taken out.
_FILLER = re.compile(
    r"\b(вот|мой|моя|мои|номер|телефон[а]?|тел|это|пожалуйста|пож|пжл|пишите|записывайте|на него|да|ок)\b|[^\w]+",
    re.IGNORECASE,
)


def find(text: str, region: str = REGION) -> tuple[str | None, str]:
    """The first phone number in `text` as digits with the country code, and the text without it."""
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        digits = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
        return digits, f"{text[: match.start]} {text[match.end :]}".strip()
    return None, text


def says_more(rest: str) -> bool:
    """Whether what is left beside the number asks or says something of its own («…, а сколько стоит?»)."""
    return bool(_FILLER.sub("", rest).strip())

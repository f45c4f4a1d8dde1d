"""What a customer typed, as the rules parser and the catalogue can read it: Russian typed in Latin letters back in
Cyrillic, and misspelt words put right against the words that matter (the salon's services and masters, and the
words of a request). Libraries do the work:

- `cyrtranslit` transliterates Latin to Cyrillic (the common Russian scheme: «zh» → «ж», «ya» → «я»);
- `pymorphy3` (OpenCorpora dictionary) says whether a word is Russian at all: only unknown words are corrected,
  so a real word is never turned into another, and a Latin message is Russian when its transliteration is mostly
  Russian words and not English;
- `rapidfuzz` finds the closest vocabulary word for a misspelt one, and only when it is clearly the closest
  (never a silent wrong match: two close candidates leave the word as it was)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import cyrtranslit
import pymorphy3
from rapidfuzz import fuzz, process

# Words a request is made of. Misspelt, they are put right like the salon's own words.
REQUEST_WORDS = [
    "сколько",
    "стоит",
    "цена",
    "прайс",
    "запишите",
    "записаться",
    "записать",
    "запись",
    "отменить",
    "перенести",
    "свободно",
    "свободное",
    "время",
    "завтра",
    "послезавтра",
    "сегодня",
    "понедельник",
    "вторник",
    "среда",
    "среду",
    "четверг",
    "пятница",
    "пятницу",
    "суббота",
    "субботу",
    "воскресенье",
    "утром",
    "вечером",
    "днём",
    "мастер",
    "администратор",
    "адрес",
    "телефон",
    "спасибо",
    "здравствуйте",
]
# Spellings of speech that are words of their own, not typos.
SPOKEN = {"скока": "сколько", "скоко": "сколько", "скок": "сколько", "щас": "сейчас", "чё": "что", "че": "что"}
# English words that are rarely also Russian words typed in Latin.
_ENGLISH = set(
    [
        "the",
        "an",
        "is",
        "are",
        "you",
        "your",
        "do",
        "does",
        "can",
        "could",
        "how",
        "much",
        "what",
        "when",
        "where",
        "which",
        "who",
        "my",
        "me",
        "we",
        "our",
        "to",
        "for",
        "on",
        "at",
        "in",
        "of",
        "and",
        "or",
        "with",
        "please",
        "thanks",
        "thank",
        "hello",
        "hi",
        "book",
        "have",
        "has",
        "any",
        "there",
        "this",
        "that",
        "time",
        "price",
        "here",
        "tomorrow",
        "today",
        "morning",
        "evening",
        "pm",
        "am",
        "manicure",
        "pedicure",
        "haircut",
        "appointment",
        "free",
        "available",
    ]
)
_LATIN_WORD = re.compile(r"[a-z']+", re.IGNORECASE)
_CYRILLIC_WORD = re.compile(r"[а-яё]+", re.IGNORECASE)
CUTOFF = 80  # rapidfuzz ratio a correction needs (0-100)
MARGIN = 6  # and by how much it must beat the second-closest word


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def first_name(word: str) -> str | None:
    """«ольге» -> «Ольга»: the word as a first name in the nominative, when the dictionary knows it as one."""
    for parse in _morph().parse(word):
        if "Name" in parse.tag and parse.score >= 0.1:
            return parse.normal_form.capitalize()
    return None


def nouns(text: str) -> list[str]:
    """The dictionary forms of the Russian nouns in the text («ценам» -> «цена»), Latin words left out."""
    found = []
    for word in _CYRILLIC_WORD.findall(text.lower()):
        parse = _morph().parse(word)[0]
        if "NOUN" in parse.tag:
            found.append(parse.normal_form)
    return found


def _known(word: str) -> bool:
    return _morph().word_is_known(word.lower())


def _transliterated(text: str) -> str:
    out = cyrtranslit.to_cyrillic(text.lower(), "ru")
    out = re.sub(r"тс(?=[аоуыэ])", "ц", out)  # «litsa» → «лица», not «литса»; «detskaya» stays «детская»
    return re.sub(r"(?<=[иоы])и\b", "й", out)  # «kakoi» → «какой», «novyi» → «новый»


def latin_russian(text: str) -> bool:
    """Russian typed in Latin letters («skolko stoit strizhka»), not English and not a Latin name or two."""
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if len(words) < 2 or _CYRILLIC_WORD.search(text):
        return False
    if sum(w in _ENGLISH for w in words) / len(words) >= 0.25:
        return False
    russian = [w for w in _CYRILLIC_WORD.findall(_transliterated(" ".join(words))) if len(w) >= 3]
    return bool(russian) and sum(_known(w) for w in russian) / len(russian) >= 0.5


def vocabulary_of(titles: Iterable[str]) -> tuple[str, ...]:
    """The words of the salon's services and masters' names, with the request words."""
    words = {w.lower() for t in titles for w in _CYRILLIC_WORD.findall(t.replace("ё", "е")) if len(w) >= 4}
    return tuple(sorted(words | set(REQUEST_WORDS)))


def _stem(word: str) -> str:
    """Without its last letter or two: «чиску» and «чистка» are compared as «чиск» and «чистк»."""
    return word[:-2] if len(word) > 7 else word[:-1] if len(word) > 4 else word


def _corrected(word: str, vocabulary: tuple[str, ...]) -> str:
    low = word.lower().replace("ё", "е")
    if low in SPOKEN:
        return SPOKEN[low]
    if len(low) < 4 or _known(low) or low in vocabulary:
        return word
    stems = [_stem(v) for v in vocabulary]
    found = process.extract(_stem(low), stems, scorer=fuzz.ratio, limit=2)
    if not found or found[0][1] < CUTOFF:
        return word
    best, runner_up = vocabulary[found[0][2]], vocabulary[found[1][2]] if len(found) > 1 else ""
    if runner_up and found[0][1] - found[1][1] < MARGIN and runner_up[:4] != best[:4]:
        return word  # two different words are about as close: not ours to choose
    return best


# Latin letters that look like Cyrillic ones, typed inside a Russian word («мaникюр» with a Latin «a»).
_LOOKALIKE = str.maketrans("aceopxykmtbhACEOPXYKMTBH", "асеорхукмтвнАСЕОРХУКМТВН")
_MIXED = re.compile(r"\b(?=\w*[а-яё])(?=\w*[a-z])[a-zа-яё]+\b", re.IGNORECASE)


def normalise(text: str, vocabulary: tuple[str, ...]) -> str:
    """The message with Latin-typed Russian in Cyrillic and misspelt words corrected; otherwise as written."""
    text = _MIXED.sub(lambda m: m.group(0).translate(_LOOKALIKE), text)
    if latin_russian(text):  # word by word: «5pm», «15:00» and the like stay as written
        text = re.sub(r"(?<![\w:])[a-z']+(?![\w:])", lambda m: _transliterated(m.group(0)), text, flags=re.I)
    return _CYRILLIC_WORD.sub(lambda m: _corrected(m.group(0), vocabulary), text)

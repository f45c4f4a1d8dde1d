"""The salon as the bot knows it, read from the synced Firestore data: services, staff, the customer's client
record and upcoming bookings; and matching what a customer wrote to a real service or master."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from rapidfuzz import fuzz

from aiadmin.ai import normalise
from aiadmin.core import repositories
from aiadmin.core.models import Company
from aiadmin.sync import documents as d

# How customers say it -> how price lists say it (stems).
SYNONYMS = {
    "подстри": "стриж",
    "постри": "стриж",
    "стричь": "стриж",
    "сын": "детск",
    "сыну": "детск",
    "ребен": "детск",
    "ребён": "детск",
    "доч": "детск",
    "покраск": "окраш",
    "окраск": "окраш",
    "покрас": "окраш",
    "покраси": "окраш",
    "ноготк": "маникю",
    "ногт": "маникю",
}


# Words after which a name surely means a master, so one the salon does not have is said to be unknown (not «у»,
# «с»: «у Лены делала», «приду с Машей»).
POINTING_WORDS = frozenset({"к", "ко", "мастер", "мастеру", "мастера", "мастером"})
# The everyday forms of first names, to their full ones' beginnings («к Кате» is Екатерина); data, not rules.
DIMINUTIVES = {
    "катя": "екатерин",
    "саша": "александр",
    "маша": "мари",
    "лена": "елен",
    "оля": "ольг",
    "наташа": "натал",
    "таня": "татьян",
    "света": "светлан",
    "ира": "ирин",
    "аня": "анн",
    "женя": "евгени",
    "настя": "анастаси",
    "юля": "юли",
    "даша": "дарь",
    "дима": "дмитри",
    "вика": "виктори",
    "галя": "галин",
    "люда": "людмил",
    "надя": "надежд",
    "ксюша": "ксени",
    "леша": "алексе",
    "сережа": "серге",
    "миша": "михаил",
    "коля": "никола",
    "паша": "павел",
    "вова": "владимир",
    "володя": "владимир",
    "витя": "виктор",
    "рита": "маргарит",
    "лиза": "елизавет",
    "соня": "софь",
    "поля": "полин",
    "валя": "валентин",
    "толя": "анатоли",
    "гена": "геннади",
}
# Words after which a misspelt name is matched to a master: «к Анне», «у Ирины», «мастер Дмитрий», «с Мариной».
MASTER_WORDS = frozenset({"к", "ко", "у", "с", "мастер", "мастеру", "мастера", "мастером", "парикмахер", "барбер"})


def _stems(text: str) -> list[str]:
    """Crude Russian stems: lowercase words of 3+ letters without their last 1-2 letters of ending; everyday
    words mapped to the price list's (SYNONYMS)."""
    words = re.findall(r"[a-zа-яё]+", text.lower().replace("ё", "е"))
    out = []
    for w in words:
        if len(w) < 3:
            continue
        stem = w[:-2] if len(w) > 6 else w[:-1] if len(w) > 4 else w
        out.append(next((v for k, v in SYNONYMS.items() if w.startswith(k)), stem))
    return out


def _said_for(title: str, text: str) -> list[str]:
    """The message's stems that may name this title: a word after «без» («без гель-лака») names only a title that
    has that «без» too."""
    if "без" in title.lower().split():
        return _stems(text)
    kept = re.sub(r"\bбез\s+[а-яё-]+", " ", text.lower().replace("ё", "е"))
    return _stems(kept)


def _negated(title: str, text: str) -> bool:
    """«Маникюр без покрытия» is not what «маникюр с покрытием» asks for."""
    m = re.search(r"\bбез\s+([а-яё]+)", title.lower())
    if not m:
        return False
    said = text.lower()
    return "без" not in said and any(w.startswith(m.group(1)[:5]) for w in re.findall(r"[а-яё]+", said))


@dataclass
class Salon:
    company: Company
    services: list[d.ServiceDoc]
    staff: list[d.StaffDoc]
    client: d.ClientDoc | None = None
    bookings: list[d.BookingDoc] = field(default_factory=list)

    @functools.cached_property
    def vocabulary(self) -> tuple[str, ...]:
        """The words a misspelt message is corrected towards (aiadmin.ai.normalise)."""
        return normalise.vocabulary_of([*(s.title for s in self.services), *(m.name for m in self.staff)])

    def service(self, service_id: int | None) -> d.ServiceDoc | None:
        return next((s for s in self.services if s.id == service_id), None)

    def master(self, staff_id: int | None) -> d.StaffDoc | None:
        return next((s for s in self.staff if s.id == staff_id), None)

    def booking(self, record_id: int | None) -> d.BookingDoc | None:
        return next((b for b in self.bookings if b.id == record_id), None) if record_id else None

    def match_service(self, text: str | None) -> d.ServiceDoc | None:
        """The real service the words name, or None. The shortest title that covers every stem wins, so
        "стрижка" is "Стрижка", not "Стрижка + борода"; "детская" is "Детская стрижка"."""
        if not text:
            return None
        want = _stems(text)
        if not want:
            return None
        best: tuple[int, int, d.ServiceDoc] | None = None
        for svc in self.services:
            if not svc.active:
                continue
            have = _stems(svc.title)
            hits = sum(1 for w in want if any(h.startswith(w) or w.startswith(h) for h in have))
            if hits == 0:
                continue
            score = (hits, -len(have))
            if best is None or score > best[:2]:
                best = (*score, svc)
        if best is None or best[0] < max(1, len(want) // 2):
            return None
        return best[2]

    def services_in(self, text: str) -> list[d.ServiceDoc]:
        """The services a message names ("запишите на стрижку завтра"): every title whose first word it contains,
        keeping those it covers best. Several left means the customer must say which."""
        scored = []
        for svc in self.services:
            have = _stems(svc.title)
            if _negated(svc.title, text):
                continue
            words = _said_for(svc.title, text)
            if have and any(w.startswith(have[0]) or have[0].startswith(w) for w in words):
                covered = sum(1 for h in have if any(w.startswith(h) or h.startswith(w) for w in words))
                scored.append((covered, len(have) - covered, svc))
        if not scored:
            return []
        best = max(c for c, _, _ in scored)
        top = [(missing, svc) for c, missing, svc in scored if c == best]
        if any(m == 0 for m, _ in top):  # a title said in full ("стрижка" beside "стрижка + борода")
            return [svc for m, svc in top if m == 0]
        return [svc for _, svc in top]  # "маникюр": with or without polish, the customer must say which

    def choose_among(self, options: list[int], text: str) -> d.ServiceDoc | None:
        """The answer to «which of these?»: the one option the words fit best (words in the option's title)."""
        words = _stems(text)
        scored = []
        for svc in (s for s in self.services if s.id in options and not _negated(s.title, text)):
            have = _stems(svc.title)
            scored.append((sum(1 for w in words if any(h.startswith(w) or w.startswith(h) for h in have)), svc))
        top = max((n for n, _ in scored), default=0)
        best = [svc for n, svc in scored if n == top]
        return best[0] if top and len(best) == 1 else None

    def variants_of(self, service: d.ServiceDoc) -> list[d.ServiceDoc]:
        """The other services of the same kind: «Маникюр без покрытия» for «Маникюр с покрытием гель-лак»."""
        first = _stems(service.title)[:1]
        return [s for s in self.services if s.active and s.id != service.id and _stems(s.title)[:1] == first]

    def sharing_words(self, text: str) -> list[d.ServiceDoc]:
        """The active services whose title or category shares a word with the text (stems, synonyms mapped:
        «покраска» is «окрашивание»): what a price question about these words may be about."""
        said = _stems(text)
        return [
            s
            for s in self.services
            if s.active
            and any(c.startswith(w) or w.startswith(c) for c in _stems(f"{s.category or ''} {s.title}") for w in said)
        ]

    def find_services_in(self, text: str) -> d.ServiceDoc | None:
        found = self.services_in(text)
        return found[0] if found else None

    def match_staff(self, text: str | None) -> d.StaffDoc | None:
        """The master a name names («к Анне», «Дмитрий»), also misspelt after a word that points at a master
        («к Дмитирию», «мастер Ирена»): only when one master's name is clearly the closest, and never the
        customer's own name («меня зовут Арина»)."""
        if not text:
            return None
        words = re.findall(r"[а-яё]+", text.lower().replace("ё", "е"))
        stems = []
        for member in self.staff:
            first = member.name.split()[0].lower().replace("ё", "е")
            stem = first[:-1] if first[-1] in "аяйьо" and len(first) > 3 else first
            if any(w.startswith(stem) for w in words):
                return member
            stems.append(stem)
        pointed_at = [
            w for prev, w in zip(["", *words], words, strict=False) if prev in POINTING_WORDS or len(words) == 1
        ]
        for word in pointed_at:  # «к Кате»: Екатерина; «к Саше»: Александр(а)
            full = DIMINUTIVES.get((normalise.first_name(word) or "").lower().replace("ё", "е"))
            if full:
                match = [m for m in self.staff if m.name.lower().replace("ё", "е").startswith(full)]
                if len(match) == 1:
                    return match[0]
        pointed = [w for prev, w in zip(["", *words], words, strict=False) if prev in MASTER_WORDS and len(w) >= 4]
        scored = sorted(
            ((fuzz.ratio(w[: len(stem) + 1], stem), i) for w in pointed for i, stem in enumerate(stems)), reverse=True
        )
        if (
            scored
            and scored[0][0] >= normalise.CUTOFF
            and (len(scored) < 2 or scored[1][1] == scored[0][1] or scored[0][0] - scored[1][0] >= normalise.MARGIN)
        ):
            return self.staff[scored[0][1]]
        return None

    def unknown_master(self, text: str | None) -> str | None:
        """A first name the message points at as a master («к Ольге», «мастер Света») that is none of this salon's
        masters (one who left, or a wrong salon), in the nominative; None when there is none or it is one of ours.
        «с Машей», «у Лены» are not asked: a companion, a friend's place."""
        if not text or self.match_staff(text):
            return None
        words = re.findall(r"[а-яё]+", text.lower())
        for prev, word in zip(["", *words], words, strict=False):
            if prev in POINTING_WORDS and len(word) >= 3:
                parsed = normalise.first_name(word)
                if parsed:
                    return parsed
        return None

    def masters_for(self, service: d.ServiceDoc) -> list[d.StaffDoc]:
        ids = {int(k) for k in service.staff_durations}
        found = [m for m in self.staff if m.id in ids and not m.hidden]
        return found or [m for m in self.staff if not m.hidden]


def load(db: firestore.Client, company: Company, phone: str, today: str, own_records: set[int] | None = None) -> Salon:
    """`own_records`: a phone the customer typed (WhatsApp hid theirs) shows only the bookings made in that chat,
    and not the name YCLIENTS has for the number: anyone can type anyone's number."""
    base = repositories.company_ref(db, company.salon_id)
    services = [d.ServiceDoc.model_validate(s.to_dict()) for s in base.collection(d.SERVICES).stream()]
    staff = [d.StaffDoc.model_validate(s.to_dict()) for s in base.collection(d.STAFF).stream()]
    clients = base.collection(d.CLIENTS).where(filter=FieldFilter("phone", "==", phone)).limit(1).stream()
    client = next((d.ClientDoc.model_validate(c.to_dict()) for c in clients), None)
    upcoming = (
        base.collection(d.BOOKINGS)
        .where(filter=FieldFilter("client_phone", "==", phone))
        .where(filter=FieldFilter("date", ">=", today))
        .stream()
    )
    live = (d.BookingDoc.model_validate(b.to_dict()) for b in upcoming)
    bookings = sorted((b for b in live if not b.deleted), key=lambda b: b.starts_at or 0)
    if own_records is not None:
        client = None
        bookings = [b for b in bookings if b.id in own_records]
    return Salon(company, sorted(services, key=lambda s: (s.category or "", s.title)), staff, client, bookings)

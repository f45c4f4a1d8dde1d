"""The replies in Russian (and in English, `render_en`, where a text exists), written from the outcomes of a turn:
the reply itself with the `rules` provider, and the draft Gemini's Stage 2 may only reword. Numbers, dates and
names are declined by `aiadmin.core.russian`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiadmin.ai.executor import Outcome
from aiadmin.core.russian import (
    Preposition,
    date_text,
    day_phrase,
    duration_text,
    plural,
    price,
    salon_introduction,
    when_phrase,
    with_master,
)
from aiadmin.whatsapp.chat import CONTACT_BUTTON


def when_text(iso: str | None, today: dt.date, prep: Preposition = "в") -> str:
    return when_phrase(dt.datetime.fromisoformat(iso), today, prep) if iso else ""


def day_text(iso: str, today: dt.date) -> str:
    day = dt.date.fromisoformat(iso)
    return day_phrase(day, today) if (day - today).days <= 2 else date_text(day)


PEOPLE_GEN = {2: "двоих", 3: "троих", 4: "четверых"}


def _together(option: dict[str, Any], today: dt.date) -> str:
    """• завтра в 17:00 — Анна Соколова и Ирина Морозова; one after another: each one's time and master."""
    if "staff" in option:
        return f"• {when_text(option['at'], today)} — {' и '.join(m for m in option['staff'] if m)}"
    each = [f"в {s['at'][11:16]}" + (f" — {s['staff']}" if s.get("staff") else "") for s in option["each"]]
    return f"• {day_phrase(dt.date.fromisoformat(option['at'][:10]), today)} {', затем '.join(each)}"


def _titles(titles: list[str]) -> str:
    """«Укладка» и «Мужская стрижка»; the same service for each: «Маникюр» для двоих."""
    if len(set(titles)) == 1:
        return f"«{titles[0]}» для {PEOPLE_GEN.get(len(titles), str(len(titles)))}"
    quoted = [f"«{t}»" for t in titles]
    return ", ".join(quoted[:-1]) + " и " + quoted[-1]


def _slots(items: list[dict[str, Any]], today: dt.date) -> str:
    return "\n".join(f"• {when_text(s['at'], today)}" + (f" — {s['staff']}" if s.get("staff") else "") for s in items)


def render(outcome: Outcome, today: dt.date) -> str:
    k, x = outcome.kind, outcome.data
    if k == "slots":
        return f"Свободное время на «{x['service']}»:\n{_slots(x['slots'], today)}\nНа какое время вас записать?"
    if k == "no_slots":
        alt = x["alternatives"]
        head = f"На эти дни свободного времени на «{x['service']}» нет."
        return head + (
            f" Ближайшие свободные окна:\n{_slots(alt, today)}\nПодойдёт что-то из этого?"
            if alt
            else " Напишите, какой день вам удобен, — поищу ещё."
        )
    if k == "time_taken":
        alt = x["alternatives"]
        asked = f" (мастер — {x['staff']})" if x.get("staff") else ""
        head = f"{when_text(x['at'], today).capitalize()} на «{x['service']}»{asked} уже занято."
        wait = (
            "\nЕсли хотите именно это время, напишите «в лист ожидания» — сообщу, если оно освободится."
            if x.get("waitlist")
            else ""
        )
        return (
            head
            + (
                f" Могу предложить:\n{_slots(alt, today)}\nКакое время выберете?"
                if alt
                else " На ближайшую неделю свободного времени нет — напишите, какой день удобен."
            )
            + wait
        )
    if k == "waitlisted":
        return (
            f"Готово, записал вас в лист ожидания: {when_text(x['at'], today)}, «{x['service']}». Если это время "
            "освободится, я сразу напишу — останется ответить «да»."
        )
    if k == "service_masters":
        if x.get("title"):
            return f"«{x['title']}» делают: {', '.join(x['staff'])}. К кому вас записать?"
        return f"У нас работают: {', '.join(x['staff'])}. На какую услугу вас записать?"
    if k == "unknown_master":
        return (
            f"Мастера по имени {x['asked']} у нас нет. «{x['service']}» делают: {', '.join(x['staff'])}. "
            "К кому вас записать?"
        )
    if k == "which_service":
        return "Уточните, пожалуйста, какую услугу: " + "; ".join(f"«{o}»" for o in x["options"]) + "?"
    if k == "need_service":
        return "На какую услугу вас записать? Например: " + ", ".join(x["examples"][:4]) + "."
    if k == "unknown_service":
        return (
            f"Услуги «{x['asked']}» в нашем прайсе нет. Есть, например: "
            + ", ".join(x["known"][:6])
            + ". Что из этого вам подходит?"
        )
    if k == "need_day":
        return f"На какой день записать вас на «{x['service']}»?"
    if k == "unclear_date":
        return "Не понял, на какой день. Напишите, пожалуйста, дату (например, 25.12) или день недели."
    if k == "need_name":
        return "Как вас зовут? Укажу имя в записи."
    if k == "phone_needed":
        what = "оформить запись" if x.get("booking") else "найти вашу запись"
        if x.get("channel") in ("telegram", "max"):  # the button under the message shares it in one tap
            return f"Чтобы {what}, нужен ваш номер телефона: нажмите кнопку «{CONTACT_BUTTON}» ниже или напишите его."
        return f"WhatsApp не показывает нам ваш номер. Чтобы {what}, напишите, пожалуйста, номер телефона."
    if k == "phone_saved":
        return "Спасибо, номер сохранил. Чем могу помочь?"
    if k == "review_thanks":
        link = f" Будем рады, если вы оставите отзыв: {x['link']}" if x.get("link") else " Будем рады видеть вас снова!"
        return f"Спасибо за оценку!{link}"
    if k == "review_sorry":
        return (
            "Спасибо, что ответили, и простите, что визит вас огорчил. Что было не так? Напишите, пожалуйста, — "
            "владелец салона прочитает лично."
        )
    if k == "review_passed":
        return "Спасибо, передал ваши слова владельцу салона. С вами свяжутся, если понадобится."
    if k == "opted_out":
        return (
            "Хорошо, больше не будем присылать вам такие сообщения. Напоминания о ваших записях будут приходить, "
            "как раньше."
        )
    if k == "bookings_elsewhere":
        why = (
            "WhatsApp скрывает ваш номер"
            if x.get("channel", "whatsapp") == "whatsapp"
            else "номер, написанный в чате, не подтверждает, что записи ваши"
        )
        return (
            f"В этом чате я вижу только записи, сделанные здесь: {why}, поэтому другие записи "
            "я показать или изменить не могу. Передать ваш вопрос администратору? Он ответит здесь."
        )
    if k == "propose":
        if x["kind"] == "create":
            return (
                f"Записываю вас{(', ' + x['name']) if x.get('name') else ''}: «{x['service']}», "
                f"{when_text(x['at'], today)}{with_master(x.get('staff'))}"
                f"{(', ' + price(x['price'], x['price'])) if x.get('price') else ''}. Подтверждаете?"
            )
        if x["kind"] == "cancel" and x.get("offer_move"):
            return (
                f"Жаль! Могу перенести вашу запись «{x['service']}» на другое время — напишите, какой день удобен. "
                f"Или отменить её ({when_text(x['old_at'], today)})? Для отмены ответьте «да»."
            )
        if x["kind"] == "cancel":
            return f"Отменить вашу запись «{x['service']}» {when_text(x['old_at'], today)}? Подтвердите, пожалуйста."
        return (
            f"Переношу вашу запись «{x['service']}» (сейчас — {when_text(x['old_at'], today)}) "
            f"{when_text(x['at'], today, 'на')}{with_master(x.get('staff'))}. Подтверждаете?"
        )
    if k == "booked" and x.get("linked"):
        return f"И ещё запись: «{x['service']}», {when_text(x['at'], today)}{with_master(x.get('staff'))}."
    if k == "booked":
        return (
            f"Готово! Вы записаны: «{x['service']}», {when_text(x['at'], today)}{with_master(x.get('staff'))}. "
            "Ждём вас!"
        )
    if k == "cancelled":
        return f"Запись «{x['service']}» {when_text(x['old_at'], today)} отменена."
    if k == "rescheduled":
        return f"Готово, запись «{x['service']}» перенесена {when_text(x['at'], today, 'на')}."
    if k == "action_failed":
        alt = x.get("alternatives") or []
        what = {
            "create": "записать вас",
            "cancel": "отменить запись",
            "reschedule": "перенести запись",
            "confirm_visit": "отметить подтверждение",
        }[x["kind"]]
        if x.get("reason") == "unavailable":
            return (
                f"Не получилось {what}: YCLIENTS сейчас не отвечает. "
                "Попробуйте через несколько минут или позвоните в салон."
            )
        return f"Не получилось {what}: это время уже занято." + (
            f" Свободно:\n{_slots(alt, today)}\nВыберете другое?" if alt else ""
        )
    if k == "no_such_option":
        if not x["slots"]:
            return "Сейчас у меня нет предложенных вариантов. На какой день и время вас записать?"
        count = plural(x["count"], "вариант", "варианта", "вариантов")
        return f"Я предложил {count}:\n{_slots(x['slots'], today)}\nКакой из них выберете?"
    if k == "visit_confirmed":
        return f"Спасибо, что подтвердили! Ждём вас {when_text(x['at'], today)}."
    if k == "nothing_to_confirm":
        return "Уточните, пожалуйста, что именно вы хотите сделать?"
    if k == "proposal_expired":
        return "Прошло много времени — давайте сверим ещё раз. На какое время вас записать?"
    if k == "declined":
        return "Хорошо, ничего не меняю. Чем ещё могу помочь?"
    if k == "prices":
        head = "Цены:" if x.get("filter") else "Наши цены:"
        lines = "\n".join(f"• {s['title']} — {price(s['price_min'], s['price_max'])}" for s in x["services"])
        if x.get("people"):
            lines += f"\nЗа {PEOPLE_GEN[x['people']]}: {price(x['total_min'], x['total_max'])}"
        return head + "\n" + lines
    if k == "group_slots":
        options = "\n".join(_together(o, today) for o in x["options"])
        at_once = all("staff" in o for o in x["options"])
        titles = _titles(x["services"])
        head = (
            f"Можно прийти вместе ({titles}), мастера примут вас одновременно"
            if at_once
            else f"Одновременно не получится, но можно друг за другом ({titles})"
        )
        if x.get("instead_of"):
            head = f"На эти дни вместе не получится. Ближайшее время ({titles}{'' if at_once else ', друг за другом'})"
        return f"{head}:\n{options}\nНа какое время вас записать?"
    if k == "no_group_slots":
        return (
            f"На эти дни нет времени, когда {_titles(x['services'])} можно сделать вместе или друг за другом. "
            "Напишите другой день — поищу ещё."
        )
    if k == "propose_group":
        items = "\n".join(
            f"• «{v['service']}», {when_text(v['at'], today)}{with_master(v.get('staff'))}" for v in x["items"]
        )
        total = f"\nВсего {price(x['total'], x['total'])}." if x.get("total") else ""
        return f"Записываю вас:\n{items}{total}\nПодтверждаете?"
    if k == "service_duration":
        return f"«{x['title']}» длится около {duration_text(x['minutes'])}. Записать вас?"
    if k == "service_info":
        extra = f" {x['comment']}" if x.get("comment") else ""
        mins = f", около {x['minutes']} мин" if x.get("minutes") else ""
        return f"«{x['title']}» — {price(x['price_min'], x['price_max'])}{mins}.{extra} Записать вас?"
    if k == "unknown_staff":
        return "У нас работают: " + ", ".join(x["staff"]) + ". О ком вы спрашиваете?"
    if k == "staff_day":
        day = day_phrase(dt.date.fromisoformat(x["day"]), today)
        if x["hours"]:
            return f"{x['staff']} работает {day}: {', '.join(x['hours'])}."
        nxt = ", ".join(day_text(d, today) for d in x["next_days"])
        closing = "," if "," in day else ""  # «во вторник, 1 декабря, не работает»
        return f"{x['staff']} {day}{closing} не работает." + (f" Ближайшие рабочие дни: {nxt}." if nxt else "")
    if k == "bookings":
        rows = [
            f"• {when_text(b['at'], today)} — {', '.join(b['services'])}"
            + (f" ({b['staff']})" if b.get("staff") else "")
            for b in x["bookings"]
        ]
        return "Ваши записи:\n" + "\n".join(rows)
    if k == "no_bookings":
        return "У вас нет предстоящих записей. Хотите записаться?"
    if k == "which_booking":
        rows = [f"• {when_text(b['at'], today)} — {', '.join(b['services'])}" for b in x["bookings"]]
        return "У вас несколько записей:\n" + "\n".join(rows) + "\nКакую именно? Напишите дату."
    if k == "name_saved":
        return f"Приятно познакомиться, {x['name']}!" + ("" if x.get("brief") else " Чем могу помочь?")
    if k == "handed_over":
        return "Передал ваш вопрос администратору — вам ответят здесь, в этом чате, как только смогут."
    if k == "salon_address":
        city = f"{x['city']}, " if x.get("city") else ""
        return f"Наш адрес: {city}{x['address']}. Ждём вас!"
    if k == "salon_phone":
        return f"Телефон салона: {x['phone']}."
    if k == "salon_hours":
        return f"Мы работаем с {x['from']} до {x['to']}. Подобрать вам время?"
    if k == "unknown_question":
        return (
            "Точной информации об этом у меня нет, а гадать не хочу. "
            "Передать ваш вопрос администратору? Он ответит здесь, в этом чате."
        )
    if k == "unreadable":
        return (
            "К сожалению, ваше сообщение не дошло до нас целиком — WhatsApp не смог его расшифровать. "
            "Пожалуйста, отправьте его ещё раз."
        )
    if k == "media":
        what = {
            "voice": "Голосовые сообщения я пока не слушаю",
            "voice_unheard": "Не получилось разобрать голосовое сообщение",
        }.get(x["kind"], "Картинки и файлы я пока не открываю")
        return f"{what} — напишите, пожалуйста, текстом, и я сразу отвечу."
    if k == "small_talk":
        return {
            "thanks": "Пожалуйста! Если понадобится что-то ещё — пишите.",
            "bye": "До свидания! Будем рады видеть вас в салоне.",
            "ok": "Хорошо! Если понадобится запись или цены — пишите.",
            "emoji": "😊 Если нужна запись или цены — напишите, подскажу.",
            "offer": "Спасибо! Предложения салон рассматривает сам: ваше сообщение увидит администратор.",
        }.get(x["topic"], "Хорошо! Если понадобится запись или цены — пишите.")
    if k == "greeting":
        if x.get("welcome"):  # the owner's own words (owner page)
            return str(x["welcome"])
        return f"Здравствуйте! {salon_introduction(x['salon'])}. Подскажу цены, свободное время и запишу вас."
    return (
        "Не совсем понял вас. Я могу подсказать цены, найти свободное время, записать, перенести или отменить "
        "запись. Вы хотите записаться?"
    )


def stage2(outcomes: list[Outcome], today: dt.date, language: str = "ru") -> str:
    """The reply in the customer's language (English where a text exists, Russian otherwise)."""
    if len(outcomes) > 1:  # «меня зовут Ольга, запишите …»: a word of greeting, the answer says the rest
        outcomes = [Outcome(o.kind, {**o.data, "brief": True}) if o.kind == "name_saved" else o for o in outcomes]
    return "\n\n".join(
        (render_en(o.kind, o.data, today) if language == "en" else None) or render(o, today) for o in outcomes
    )


# --- in English (the outcomes that have an English text; the rest are answered in Russian) -----------------


def _when_en(iso: str | None, today: dt.date) -> str:
    if not iso:
        return ""
    at = dt.datetime.fromisoformat(iso)
    delta = (at.date() - today).days
    day = {0: "today", 1: "tomorrow"}.get(delta) or f"on {at:%A}, {at.day} {at:%B}"
    return f"{day} at {at:%H:%M}"


def _slots_en(items: list[dict[str, Any]], today: dt.date) -> str:
    return "\n".join(f"• {_when_en(s['at'], today)}" + (f" — {s['staff']}" if s.get("staff") else "") for s in items)


def render_en(kind: str, x: dict[str, Any], today: dt.date) -> str | None:
    """The reply in English, or None for an outcome that has no English text yet (the Russian one is used)."""
    if kind == "prices":
        lines = "\n".join(f"• {s['title']} — {price(s['price_min'], s['price_max'])}" for s in x["services"])
        if x.get("people"):
            lines += f"\nFor {x['people']} people: {price(x['total_min'], x['total_max'])}"
        return "Our prices:\n" + lines
    if kind == "group_slots":
        options = []
        for o in x["options"]:
            if "staff" in o:
                options.append(f"• {_when_en(o['at'], today)} — {' and '.join(m for m in o['staff'] if m)}")
            else:
                times = ", then ".join(f"{e['at'][11:16]} — {e['staff']}" for e in o["each"])
                options.append(f"• {_when_en(o['at'], today)}: {times}")
        how = "at the same time" if all("staff" in o for o in x["options"]) else "one after the other"
        head = "Those days are full; the nearest times" if x.get("instead_of") else "You can come together"
        return f"{head} ({', '.join(x['services'])}), {how}:\n" + "\n".join(options) + "\nWhich time suits you?"
    if kind == "no_group_slots":
        return "There is no time those days to take you all together or one after the other. Which other day suits you?"
    if kind == "propose_group":
        items = "\n".join(
            f"• «{v['service']}», {_when_en(v['at'], today)}" + (f", with {v['staff']}" if v.get("staff") else "")
            for v in x["items"]
        )
        total = f"\nTotal {price(x['total'], x['total'])}." if x.get("total") else ""
        return f"Booking you:\n{items}{total}\nShall I confirm?"
    if kind == "booked" and x.get("linked"):
        return f"And one more: «{x['service']}», {_when_en(x['at'], today)}" + (
            f", with {x['staff']}." if x.get("staff") else "."
        )
    if kind == "service_info":
        return f"«{x['title']}» — {price(x['price_min'], x['price_max'])}. Shall I book you in?"
    if kind == "slots":
        return f"Free times for «{x['service']}»:\n{_slots_en(x['slots'], today)}\nWhich time suits you?"
    if kind == "waitlisted":
        when = _when_en(x["at"], today)
        return f"Done: you're on the waitlist for {when} («{x['service']}»). I'll write if it frees up."
    if kind in ("no_slots", "time_taken"):
        alt = x["alternatives"]
        head = "That time is taken." if kind == "time_taken" else f"No free time for «{x['service']}» then."
        return head + (f" Nearest free times:\n{_slots_en(alt, today)}\nDoes one of these suit you?" if alt else "")
    if kind == "service_masters":
        who = ", ".join(x["staff"])
        if x.get("title"):
            return f"«{x['title']}» is done by: {who}. Who would you like?"
        return f"Our masters: {who}. Which service would you like?"
    if kind == "unknown_master":
        done_by = ", ".join(x["staff"])
        return f"We have no master called {x['asked']}. «{x['service']}» is done by: {done_by}. Who would you like?"
    if kind == "need_service":
        return "Which service would you like? For example: " + ", ".join(x["examples"][:4]) + "."
    if kind == "which_service":
        return "Which one do you mean: " + "; ".join(f"«{o}»" for o in x["options"]) + "?"
    if kind == "need_day":
        return f"Which day would you like for «{x['service']}»?"
    if kind == "need_name":
        return "What name should I put on the booking?"
    if kind == "phone_needed":
        what = "book you in" if x.get("booking") else "find your booking"
        if x.get("channel") in ("telegram", "max"):
            return f"To {what}, I need your phone number: tap «{CONTACT_BUTTON}» below or type it."
        return f"WhatsApp doesn't show us your number. To {what}, please send your phone number."
    if kind == "service_duration":
        minutes = int(x["minutes"])
        length = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
        return f"«{x['title']}» takes about {length.replace(' 0 min', '')}. Shall I book you in?"
    if kind == "phone_saved":
        return "Thank you, I've saved your number. How can I help?"
    if kind == "review_thanks":
        link = f" We'd be glad if you left a review: {x['link']}" if x.get("link") else " We hope to see you again!"
        return f"Thank you for the rating!{link}"
    if kind == "review_sorry":
        return "Thank you for answering, and we're sorry the visit disappointed you. What went wrong?"
    if kind == "review_passed":
        return "Thank you, I've passed your words to the salon's owner."
    if kind == "opted_out":
        return "All right, we won't send you such messages any more. Reminders of your bookings will still come."
    if kind == "bookings_elsewhere":
        return (
            "In this chat I can only see bookings made here: "
            + (
                "WhatsApp hides your number"
                if x.get("channel", "whatsapp") == "whatsapp"
                else "a number typed in a chat does not prove the bookings are yours"
            )
            + ", so I can't show or change other bookings. Shall I pass your question to the administrator?"
        )
    if kind == "propose" and x["kind"] == "create":
        staff = f", with {x['staff']}" if x.get("staff") else ""
        cost = f", {price(x['price'], x['price'])}" if x.get("price") else ""
        return f"Booking you for «{x['service']}», {_when_en(x['at'], today)}{staff}{cost}. Shall I confirm?"
    if kind == "booked":
        staff = f", with {x['staff']}" if x.get("staff") else ""
        return f"Done! You are booked for «{x['service']}», {_when_en(x['at'], today)}{staff}. See you then!"
    if kind == "handed_over":
        return "I've passed your question to the salon's administrator — they will reply here in this chat."
    if kind == "unknown_question":
        return "I don't have reliable information on that. Shall I pass your question to the administrator?"
    if kind == "greeting":
        name = x["salon"] if "«" in x["salon"] else f"«{x['salon']}»"  # never quotes inside quotes
        return f"Hello! This is the administrator of {name}. I can tell you prices, find a free time and book you."
    if kind == "small_talk":
        return {
            "thanks": "You're welcome!",
            "bye": "Goodbye! We look forward to seeing you.",
            "offer": "Thank you! The salon considers offers itself: the administrator will see your message.",
        }.get(x["topic"], "Great! Write any time you need a booking or a price.")
    if kind == "visit_confirmed":
        return f"Thank you for confirming! See you {_when_en(x['at'], today)}."
    if kind == "unreadable":
        return "Sorry, your message did not reach us in full — WhatsApp could not decrypt it. Please send it again."
    if kind == "media":
        what = {
            "voice": "I can't listen to voice messages yet",
            "voice_unheard": "I couldn't make out your voice message",
        }.get(x["kind"], "I can't open pictures or files yet")
        return f"{what} — please write to me in text and I'll answer right away."
    if kind == "declined":
        return "All right, nothing changed. Anything else I can help with?"
    if kind == "unclear":
        return "Sorry, I didn't quite get that. I can tell you prices, find a free time or book you. Shall I?"
    return None

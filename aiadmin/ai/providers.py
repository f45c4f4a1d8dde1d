"""Stage 1 (commands) and Stage 2 (the reply) behind one interface: `gemini` (google-genai, JSON constrained by
the pydantic schema) and `rules` (deterministic). Gemini falls back to rules on any error, timeout or unusable
answer, so a customer is never left without a reply."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from aiadmin.ai import replies, rules
from aiadmin.ai.catalogue import Salon
from aiadmin.ai.commands import Stage1
from aiadmin.ai.conversation import State
from aiadmin.ai.executor import Outcome
from aiadmin.core.settings import Settings, get_settings
from aiadmin.whatsapp.voice_notes import VoiceNote

log = logging.getLogger("aiadmin.ai.providers")

# Answers that are facts from the salon's data: the template is the reply, no second model call.
# A reply may say something was done only if it was.
CLAIMS_DONE = re.compile(r"записал|вы записаны|готово|перен[её]с|перенесен|отмен[её]н|отменил", re.I)
PLAIN = {
    "service_duration",
    "service_masters",
    "unknown_master",
    "phone_needed",
    "phone_saved",
    "bookings_elsewhere",
    "prices",
    "service_info",
    "staff_day",
    "bookings",
    "no_bookings",
    "greeting",
    "unknown_staff",
    "unknown_service",
    "salon_address",
    "salon_phone",
    "salon_hours",
    "small_talk",
    "media",
    "visit_confirmed",
    "unreadable",
    "review_thanks",
    "review_sorry",
    "review_passed",
    "opted_out",
    "waitlisted",
}


class Provider(Protocol):
    name: str
    calls: int
    hears_audio: bool  # stage 1 takes voice notes' audio: their words come back in Stage1.heard

    def stage1(
        self, text: str, salon: Salon, state: State, today: dt.date, audio: Sequence[VoiceNote] = ()
    ) -> Stage1: ...

    def stage2(self, text: str, outcomes: list[Outcome], salon: Salon, state: State, today: dt.date) -> str: ...


class RulesProvider:
    name = "rules"
    hears_audio = False

    def __init__(self) -> None:
        self.calls = 0

    def stage1(self, text: str, salon: Salon, state: State, today: dt.date, audio: Sequence[VoiceNote] = ()) -> Stage1:
        return rules.stage1(text, salon, state, today)

    def stage2(self, text: str, outcomes: list[Outcome], salon: Salon, state: State, today: dt.date) -> str:
        return replies.stage2(outcomes, today, state.language)


class ModelError(RuntimeError):
    pass


STAGE1_SYSTEM = """Ты — модуль понимания сообщений администратора салона красоты в WhatsApp.
Верни JSON по схеме: список команд, которые нужны, чтобы ответить клиенту. Не отвечай клиенту сам. Слова клиента
(услуга, мастер, дата, время) переписывай так, как он их написал; не вычисляй даты и не придумывай услуги. Если бот
только что предложил запись/перенос/отмену и клиент соглашается — confirm, отказывается — decline. Просьба позвать
администратора или человека — call_human. Просьба поставить в лист ожидания на занятое время («поставьте в лист
ожидания», «буду ждать, если освободится») — join_waitlist. Приветствие без вопроса — greeting. Вопрос об адресе,
телефоне или часах работы салона — salon_info с topic address|phone|hours. Сколько длится услуга — explain_service с
topic duration; кто её делает («к кому можно попасть?») — explain_service с topic masters. Благодарность, прощание,
«ок», эмодзи — small_talk с topic thanks|bye|ok|emoji; реклама и предложения салону — small_talk с topic offer.
Вопрос о салоне, на который в данных нет ответа (оплата картой, парковка и т. п.) — unknown_question. Если бот
предложил передать вопрос администратору и клиент согласен — call_human. Выбор из предложенного ботом времени
(«второй вариант», «давайте первое», «последний») — create_booking с pick (1, 2, …; -1 — последний). «Пораньше»,
«попозже», «в то же время», «к тому же мастеру» переписывай как есть в time или staff: бот сам сверит их с
обсуждаемым днём, временем и мастером. Несколько человек в одном сообщении («мне укладку, ему мужскую стрижку», «с
подругой на маникюр»): по команде на каждую названную услугу с одними date и time; одна услуга на нескольких — одна
команда с people. Если бот напомнил о записи (reminded_booking) и клиент подтверждает («1», «да, буду», 👍) —
confirm_visit; «3», «не смогу» — cancel_booking; «2» или просьба перенести — reschedule_booking. Непонятно —
unclear. Если приложены голосовые сообщения клиента, запиши в heard слова каждого по порядку, как сказаны, и пойми
их вместе с текстом как слова клиента. Не слышно или не речь — пустая строка в heard для этого сообщения."""

STAGE2_SYSTEM = """Ты — вежливый администратор салона красоты, отвечаешь клиенту в WhatsApp на языке клиента, коротко.
Тебе дан черновик ответа, составленный по данным салона, и результаты действий (JSON). Перепиши черновик живым
языком. Нельзя добавлять услуги, цены, мастеров, даты или время, которых нет в черновике; нельзя говорить, что
действие выполнено, если в результатах его нет; вопрос в конце черновика сохрани."""


AUDIO_TIMEOUT_S = 20.0  # a Stage 1 call that hears voice notes (up to MAX_NOTES of up to 2 minutes each)


@dataclass
class GeminiProvider:
    api_key: str
    model: str
    base_url: str | None = None
    timeout_s: float = 8.0
    name: str = "gemini"
    calls: int = 0
    hears_audio: bool = True

    def __post_init__(self) -> None:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(timeout=int(self.timeout_s * 1000), base_url=self.base_url or None)
        self._types = types
        self._client = genai.Client(api_key=self.api_key, http_options=options)

    def _generate(self, system: str, contents: str | list[Any], schema: type | None, timeout_s: float = 0) -> object:
        config = self._types.GenerateContentConfig(
            system_instruction=system,
            temperature=0.1 if schema else 0.4,
            response_mime_type="application/json" if schema else None,
            response_schema=schema,
            http_options=self._types.HttpOptions(timeout=int(timeout_s * 1000)) if timeout_s else None,
        )
        self.calls += 1
        started = time.perf_counter()
        resp = self._client.models.generate_content(model=self.model, contents=contents, config=config)
        log.info("gemini call", extra={"model": self.model, "ms": round((time.perf_counter() - started) * 1000, 1)})
        if schema is not None:
            if resp.parsed is None:
                raise ModelError("the model's answer does not fit the schema")
            return resp.parsed
        if not (resp.text or "").strip():
            raise ModelError("the model returned no text")
        return resp.text.strip()

    def stage1(self, text: str, salon: Salon, state: State, today: dt.date, audio: Sequence[VoiceNote] = ()) -> Stage1:
        context = {
            "today": today.isoformat(),
            "services": [s.title for s in salon.services][:80],
            "staff": [m.name for m in salon.staff],
            "pending_proposal": state.pending.kind if state.pending else None,
            "service_under_discussion": (
                salon.service(state.service_id).title if salon.service(state.service_id) else None
            ),
            "offered_slots": [s.at.isoformat() for s in state.offered],
            "day_under_discussion": state.day.isoformat() if state.day else None,
            "master_under_discussion": (salon.master(state.staff_id).name if salon.master(state.staff_id) else None),
            "moving_a_booking": state.moving is not None,
            "reminded_booking": state.reminded is not None,
            "transcript": [f"{line.role}: {line.text}" for line in state.transcript[-8:]],
        }
        prompt = f"Контекст: {json.dumps(context, ensure_ascii=False)}\nСообщение клиента: {text}"
        if audio:
            prompt += f"\nГолосовых сообщений клиента: {len(audio)}, приложены по порядку."
        contents: str | list[Any] = prompt
        timeout_s = 0.0
        if audio:  # listening takes longer than reading: a call of its own length
            parts = [self._types.Part.from_bytes(data=note.data, mime_type=note.mime) for note in audio]
            contents = [self._types.Part.from_text(text=prompt), *parts]
            timeout_s = max(self.timeout_s, AUDIO_TIMEOUT_S)
        result = self._generate(STAGE1_SYSTEM, contents, Stage1, timeout_s)
        assert isinstance(result, Stage1)
        return result

    def stage2(self, text: str, outcomes: list[Outcome], salon: Salon, state: State, today: dt.date) -> str:
        draft = replies.stage2(outcomes, today, state.language)
        if all(o.kind in PLAIN for o in outcomes):
            return draft
        facts = json.dumps([{"kind": o.kind, **o.data} for o in outcomes], ensure_ascii=False, default=str)
        reply = self._generate(STAGE2_SYSTEM, f"Клиент: {text}\nРезультаты: {facts}\nЧерновик: {draft}", None)
        assert isinstance(reply, str)
        done = {o.kind for o in outcomes} & {"booked", "rescheduled", "cancelled"}
        if CLAIMS_DONE.search(reply) and not done:
            log.warning("stage 2 claimed an action that did not happen; the draft is sent instead")
            return draft
        return reply


@dataclass
class WithFallback:
    """Gemini first; the rules provider when Gemini errs, times out or answers outside the schema."""

    primary: Provider
    fallback: Provider
    name: str = "gemini+rules"
    fallbacks: int = 0  # calls the rules answered instead (make eval-ai reports them)

    @property
    def calls(self) -> int:
        return self.primary.calls

    @property
    def hears_audio(self) -> bool:
        return self.primary.hears_audio

    def stage1(self, text: str, salon: Salon, state: State, today: dt.date, audio: Sequence[VoiceNote] = ()) -> Stage1:
        try:
            return self.primary.stage1(text, salon, state, today, audio)
        except Exception as exc:  # any failure of the model must not silence the bot
            log.warning("stage 1 fell back to rules", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            self.fallbacks += 1
            return self.fallback.stage1(text, salon, state, today)

    def stage2(self, text: str, outcomes: list[Outcome], salon: Salon, state: State, today: dt.date) -> str:
        try:
            return self.primary.stage2(text, outcomes, salon, state, today)
        except Exception as exc:
            log.warning("stage 2 fell back to rules", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            self.fallbacks += 1
            return self.fallback.stage2(text, outcomes, salon, state, today)


def provider_from_settings(settings: Settings) -> Provider:
    key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
    if settings.ai_provider == "rules" or (settings.ai_provider == "auto" and not key):
        return RulesProvider()
    if not key:
        raise ValueError("AI_PROVIDER=gemini needs GEMINI_API_KEY")
    gemini = GeminiProvider(key, settings.gemini_model, settings.gemini_base_url, settings.gemini_timeout_s)
    return WithFallback(gemini, RulesProvider())


@lru_cache(maxsize=1)
def get_provider() -> Provider:
    """One per process (the Gemini client keeps its connections)."""
    return provider_from_settings(get_settings())

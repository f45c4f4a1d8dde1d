"""Benchmark: AI turns.

1. Per-turn orchestration overhead (everything but the model: Firestore reads and writes, YCLIENTS calls to the
   stand-in, the real google-genai client's round trips to a scripted Gemini-compatible server that answers at
   once), p50/p95 over a mix of customer messages, and the model calls per turn by kind.
2. The `rules` provider's intent accuracy on labelled utterances (the old system's intent lists and more).

    .venv/bin/python -m bench.ai_turns [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PORT, YCLIENTS_PORT, GEMINI_PORT, PROJECT = 18780, 18790, 18795, "demo-aiadmin-bench-ai"
SALON, PHONE = 962302, "79035557788"

os.environ.update(
    {
        "ENV": "local",
        "LOG_LEVEL": "WARNING",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{EMULATOR_PORT}",
        "SESSION_HOST_URL": "http://127.0.0.1:9",
    }
)

# (message, scripted Stage 1, kind); Stage 2 is scripted too where the reply needs words.
MIX = [
    ("Сколько стоит маникюр?", {"commands": [{"type": "show_prices", "service": "маникюр"}]}, "plain"),
    ("Что такое чистка лица?", {"commands": [{"type": "explain_service", "service": "чистка лица"}]}, "plain"),
    ("Когда я записан?", {"commands": [{"type": "my_bookings"}]}, "plain"),
    (
        "Когда свободно на женскую стрижку завтра?",
        {"commands": [{"type": "search_slots", "service": "женская стрижка", "date": "завтра"}]},
        "words",
    ),
    ("Привет!", {"commands": [{"type": "greeting"}]}, "plain"),
]

LABELLED = [  # utterance, expected first command (the rules provider, no context)
    ("хочу записаться", "create_booking"),
    ("запишите меня пожалуйста", "create_booking"),
    ("нужна запись на стрижку", "create_booking"),
    ("хочу прийти к вам", "create_booking"),
    ("Запишите меня на маникюр завтра в 15:00", "create_booking"),
    ("нужно отменить запись", "cancel_booking"),
    ("не смогу прийти", "cancel_booking"),
    ("отмените мою запись пожалуйста", "cancel_booking"),
    ("свободно завтра?", "search_slots"),
    ("есть время на этой неделе?", "search_slots"),
    ("покажи свободные окна на выходных", "search_slots"),
    ("есть время в пятницу?", "search_slots"),
    ("через неделю можно?", "search_slots"),
    ("свободно в 10 утра?", "search_slots"),
    ("можно вечером после 18:00?", "search_slots"),
    ("скок стоит покраска", "show_prices"),
    ("прайс лист", "show_prices"),
    ("сколько стоит стрижка и можно записаться на завтра?", "show_prices"),
    ("покажи что есть на маникюр к Марине", "search_slots"),
    ("Какие стрижки у вас есть?", "show_prices"),
    ("Что такое мелирование?", "explain_service"),
    ("Тонирование - это?", "explain_service"),
    ("Анна работает завтра?", "staff_schedule"),
    ("Можно перенести на завтра в 15:00?", "reschedule_booking"),
    ("хочу перенести запись", "reschedule_booking"),
    ("Когда я записан?", "my_bookings"),
    ("мои записи", "my_bookings"),
    ("Позовите администратора", "call_human"),
    ("можно живого человека?", "call_human"),
    ("Привет!", "greeting"),
    ("Здравствуйте", "greeting"),
    ("asdfghjkl", "unclear"),
    ("ыыыыы", "unclear"),
]


# Written after the rules were tuned on LABELLED. Its first run scored 14/16 (misses: "на когда у меня запись?",
# "почём стрижка мужская"); both were then fixed, so it is no longer held out. Write a fresh set before trusting
# the next figure.
HELD_OUT = [
    ("а можно к вам на окрашивание в субботу?", "search_slots"),
    ("запишите дочку на детскую стрижку", "create_booking"),
    ("сколько у вас педикюр?", "show_prices"),
    ("я заболела, не приду завтра", "cancel_booking"),
    ("давайте перенесём на понедельник", "reschedule_booking"),
    ("на когда у меня запись?", "my_bookings"),
    ("во сколько работает Ирина в среду?", "staff_schedule"),
    ("а что входит в чистку лица?", "explain_service"),
    ("есть окошко сегодня вечером?", "search_slots"),
    ("хочу на маникюр послезавтра после 17", "create_booking"),
    ("почём стрижка мужская", "show_prices"),
    ("соедините с администратором", "call_human"),
    ("добрый вечер", "greeting"),
    ("отменяю запись на пятницу", "cancel_booking"),
    ("можно сдвинуть мою запись на час позже?", "reschedule_booking"),
    ("ок", "unclear"),
]


class RecordingQueue:
    """The bench sends no message: it counts what the turn would send."""

    def __init__(self) -> None:
        self.tasks: list = []

    def enqueue(self, task) -> bool:
        self.tasks.append(task)
        return True

    def ping(self) -> None:
        return None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rules_accuracy(labelled: list[tuple[str, str]]) -> tuple[int, int, list[str]]:
    import datetime as dt

    from aiadmin.ai.catalogue import Salon
    from aiadmin.ai.conversation import State
    from aiadmin.ai.rules import stage1
    from aiadmin.core.models import Company
    from aiadmin.sync.documents import ServiceDoc, StaffDoc
    from devstack import yclients_demo_data as demo

    services = [
        ServiceDoc(id=s[0], title=s[2], price_min=s[3], price_max=s[4], category=dict(demo.CATEGORIES)[s[1]])
        for s in demo.SERVICES
    ]
    staff = [StaffDoc(id=s[0], name=s[1]) for s in demo.STAFF]
    salon = Salon(Company(salon_id=1, title="Лилия"), services, staff)
    misses = []
    for text, expected in labelled:
        got = stage1(text, salon, State(), dt.date(2026, 11, 26)).commands[0].type
        if got != expected:
            misses.append(f"{text!r}: {got} (expected {expected})")
    return len(labelled) - len(misses), len(labelled), misses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="times the message mix is played")
    args = parser.parse_args()

    from pydantic import SecretStr
    from werkzeug.serving import make_server

    from aiadmin.ai import turn as ai_turn
    from aiadmin.ai.providers import GeminiProvider, RulesProvider, WithFallback
    from aiadmin.core import repositories
    from aiadmin.core.firestore_db import get_db
    from aiadmin.core.logs import configure_logging
    from aiadmin.core.models import Company
    from aiadmin.core.settings import get_settings
    from aiadmin.sync import runner
    from aiadmin.whatsapp.chat import AiTurnTask, ChatMessage, store_message
    from aiadmin.yclients.client import YclientsClient
    from devstack import firestore_emulator, gemini_standin
    from devstack.yclients_standin import StandinConfig, StandinState, create_app

    configure_logging("WARNING")
    accuracy = {"tuned on": rules_accuracy(LABELLED), "written later (first run 14/16)": rules_accuracy(HELD_OUT)}
    config = StandinConfig("p", "u", "1", "http://127.0.0.1:9/r", "http://127.0.0.1:9/c")
    servers = [
        make_server("127.0.0.1", YCLIENTS_PORT, create_app(config, StandinState()), threaded=True),
        make_server(
            "127.0.0.1", GEMINI_PORT, gemini_standin.create_app(script := gemini_standin.Script()), threaded=True
        ),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    emu = firestore_emulator.start(EMULATOR_PORT, ROOT / "test-output" / "bench-ai-emulator.log")
    try:
        firestore_emulator.wait_ready(os.environ["FIRESTORE_EMULATOR_HOST"], proc=emu)
        firestore_emulator.wipe(os.environ["FIRESTORE_EMULATOR_HOST"], PROJECT)
        db = get_db()
        repositories.company_ref(db, SALON).set(
            Company(salon_id=SALON, title="Лилия", integration_status="active").to_firestore()
        )
        yc = YclientsClient(f"http://127.0.0.1:{YCLIENTS_PORT}", "p", "u")
        for module in ("services", "staff", "clients", "schedules_30d", "bookings_full"):
            runner.run(db, yc, SALON, module)
        time.sleep(1.1)  # let the stand-in's 5 req/s window clear after the sync, or the first turn waits on a 429
        settings = get_settings().model_copy(update={"gemini_api_key": SecretStr("k"), "ai_staff_pause_min": 0})
        gemini = GeminiProvider("k", "gemini-2.5-flash", f"http://127.0.0.1:{GEMINI_PORT}", 5.0)
        provider = WithFallback(gemini, RulesProvider())
        queue = RecordingQueue()
        timings: dict[str, list[float]] = {"plain": [], "words": []}
        calls: dict[str, list[int]] = {"plain": [], "words": []}
        requests_per_turn: list[int] = []
        n = 0
        for _ in range(args.rounds):
            for text, stage1, kind in MIX:
                steps = [{"json": stage1}] + ([{"text": "Вот свободное время — выбирайте."}] if kind == "words" else [])
                script.play(*steps)
                n += 1
                msg = ChatMessage(
                    message_id=f"B{n}", salon_id=SALON, phone=PHONE, direction="customer", text=text, turn="queued"
                )
                store_message(db, msg)
                before = yc.requests_sent
                started = time.perf_counter()
                result = ai_turn.handle(
                    db,
                    AiTurnTask(salon_id=SALON, phone=PHONE, message_id=msg.message_id),
                    yc,
                    queue,
                    settings,
                    provider,
                )
                timings[kind].append((time.perf_counter() - started) * 1000)
                calls[kind].append(result.model_calls)
                requests_per_turn.append(yc.requests_sent - before)
                assert result.state == "answered", result
    finally:
        for server in servers:
            server.shutdown()
        emu.terminate()
        emu.wait(10)

    every = timings["plain"] + timings["words"]
    print(f"AI turns, scripted model answering at once, {len(every)} turns, emulator + stand-in on this machine")
    print(f"  orchestration per turn        p50 {statistics.median(every):6.1f} ms   p95 {pct(every, 0.95):6.1f} ms")
    for kind, label in (("plain", "plain questions"), ("words", "replies in words")):
        print(
            f"  {label:28}  p50 {statistics.median(timings[kind]):6.1f} ms   p95 {pct(timings[kind], 0.95):6.1f} ms   "
            f"model calls per turn {sorted(set(calls[kind]))}"
        )
    print(
        f"  YCLIENTS requests per turn    max {max(requests_per_turn)}, mean {statistics.mean(requests_per_turn):.1f}"
    )
    for name, (correct, total, misses) in accuracy.items():
        print(f"rules provider intent accuracy, utterances {name}: {correct}/{total} = {correct / total:.0%}")
        for miss in misses:
            print(f"  miss: {miss}")


if __name__ == "__main__":
    main()

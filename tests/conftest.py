"""Test session: settings for a private local stack on 185xx ports, the real Firestore emulator (started here
unless FIRESTORE_EMULATOR_HOST is given), and the real stand-ins served on loopback in threads.

Run in parallel (`pytest -n N`, as `make test` does), the controller starts one emulator and every worker gets its
own Firestore project in it, its own ports (1000 apart) and its own stand-ins: nothing is shared but the JVM."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.clock import pinned_nows, travel
from tests.dialogues import report as dialogue_report

ROOT = Path(__file__).resolve().parent.parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, … under pytest-xdist; empty in a plain run
_INDEX = int(WORKER[2:]) if WORKER[2:].isdigit() else 0
PROJECT = f"demo-aiadmin-test-{WORKER}" if WORKER else "demo-aiadmin-test"
RULES = ROOT / "web" / "firestore.rules"
# Every port a test session listens on is counted from one base (AIADMIN_TEST_PORT_BASE, 18500 unless told; each
# parallel worker 1000 further), so sessions and workers on one machine run side by side.
_BASE = int(os.environ.get("AIADMIN_TEST_PORT_BASE", "18500"))
PORT_BASE = _BASE + 1000 * _INDEX
GATEWAY_PORT, YCLIENTS_PORT, TASKS_PORT, HOST_PORT = PORT_BASE, PORT_BASE + 10, PORT_BASE + 20, PORT_BASE + 30
GEMINI_PORT, DIALOGUE_GEMINI_PORT, DEV_PORT_BASE = PORT_BASE + 40, PORT_BASE + 45, PORT_BASE + 200
TELEGRAM_PORT, MAX_PORT = PORT_BASE + 50, PORT_BASE + 55
FIRESTORE_PORT = _BASE + 80  # one emulator for the whole run
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"
YCLIENTS = f"http://127.0.0.1:{YCLIENTS_PORT}"
TASKS = f"http://127.0.0.1:{TASKS_PORT}"
PARTNER_TOKEN = "test-partner-token-0123456789"
USER_TOKEN = "test-user-token"
APP_ID = "4242"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123"
WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"
TASK_SECRET = "test-task-secret"

_GIVEN_EMULATOR = os.environ.get("FIRESTORE_EMULATOR_HOST")
# A worker always has its own project; a plain run against a given emulator may name one.
_IN_PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", PROJECT) if _GIVEN_EMULATOR and not WORKER else PROJECT
TEST_ENV = {
    "ENV": "local",
    "GOOGLE_CLOUD_PROJECT": _IN_PROJECT,
    "FIRESTORE_EMULATOR_HOST": _GIVEN_EMULATOR or f"127.0.0.1:{FIRESTORE_PORT}",
    "YCLIENTS_API_BASE": f"http://127.0.0.1:{YCLIENTS_PORT}",
    "YCLIENTS_PARTNER_TOKEN": PARTNER_TOKEN,
    "YCLIENTS_USER_TOKEN": USER_TOKEN,
    "YCLIENTS_APP_ID": APP_ID,
    "YCLIENTS_TIMEOUT_S": "2",
    "ACTIVATION_CALLBACK_TIMEOUT_S": "1",
    "JWT_SECRET": JWT_SECRET,
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "BASE_URL": GATEWAY,
    "TASKS_DRIVER": "local",
    "TASKS_LOCAL_URL": f"http://127.0.0.1:{TASKS_PORT}",
    "TASKS_TARGET_BASE_URL": f"{GATEWAY}/_fn",
    "TASK_SHARED_SECRET": TASK_SECRET,
    "WHATSAPP_DRIVER": "simulated",
    "TELEGRAM_API_BASE": f"http://127.0.0.1:{TELEGRAM_PORT}",
    "MAX_API_BASE": f"http://127.0.0.1:{MAX_PORT}",
    "LOCAL_SECRET_KEY": "test-local-secret-key-0123456789",
    "BOT_API_TIMEOUT_S": "5",
    "SESSION_HOST_URL": f"http://127.0.0.1:{HOST_PORT}",
    "ALLOW_UNSIGNED_REDIRECTS": "false",
    "LOG_LEVEL": "INFO",
    "AI_PROVIDER": "rules",
    "AI_BURST_QUIET_S": "0.3",
    "AI_UNREADABLE_WAIT_S": "1.5",
    # Every test salon is linked seconds ago: warm-up pacing is off except where it is tested (test_send_pacing.py,
    # test_messages.py, which pass it to the Sender).
    "WA_WARMUP_DAYS": "0",
}
os.environ.update(TEST_ENV)  # before any aiadmin settings object is built


def _parallel(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("xdist") and getattr(config.option, "dist", "no") != "no"


def pytest_configure(config: pytest.Config) -> None:
    """The controller of a parallel run starts the one emulator its workers share (they inherit where it is)."""
    if WORKER or _GIVEN_EMULATOR or not _parallel(config):
        return
    from devstack import firestore_emulator as emu

    host = f"127.0.0.1:{FIRESTORE_PORT}"
    proc = emu.start(FIRESTORE_PORT, ROOT / "test-output" / "firestore-emulator.log")
    emu.wait_ready(host, proc=proc)
    os.environ["FIRESTORE_EMULATOR_HOST"] = host
    config.stash[_EMULATOR] = proc


def pytest_sessionstart(session: pytest.Session) -> None:
    dialogue_report.clear_rows(WORKER)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    dialogue_report.print_summary(terminalreporter)


def pytest_unconfigure(config: pytest.Config) -> None:
    proc = config.stash.get(_EMULATOR, None)
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()


_EMULATOR = pytest.StashKey[Any]()


# What makes a test slow is what it stands up: a linked and synced salon with its bot, a session host, a browser,
# a whole dialogue set, the dev stack or the hostile-input run. `make test-fast` leaves those out.
_SLOW_FIXTURES = frozenset({"bot", "pinned_now", "host", "world", "browser", "skewed_now", "wednesday"})
_SLOW_MODULES = frozenset({"test_make_dev", "test_hostile_input", "test_sync_flow"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _SLOW_FIXTURES or item.module.__name__.rsplit(".", 1)[-1] in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def wait_for(predicate: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    """Poll until the predicate returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


PINNED_NOWS = pinned_nows()  # awkward «nows» near the real today (or AIADMIN_TEST_TODAY): see tests/clock.py


@pytest.fixture(params=list(PINNED_NOWS.values()), ids=list(PINNED_NOWS))
def pinned_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """The whole process (functions, stand-ins, dispatcher: all threads) lives on a pinned, ticking clock.
    Request it before `stack` so the salon's data is built on that day. Not for browser tests: Chromium and the
    emulator's rules keep the real clock."""
    with travel(request.param) as at:
        yield at
        if "local_stack" in request.fixturenames:  # tasks due on the pinned clock must not outlive it
            dispatcher = request.getfixturevalue("local_stack").dispatcher
            dispatcher.wait_idle()
            dispatcher.clear()


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[str]:
    from devstack import firestore_emulator as emu

    host = TEST_ENV["FIRESTORE_EMULATOR_HOST"]
    if _GIVEN_EMULATOR:
        emu.wait_ready(host)
        emu.load_rules(host, TEST_ENV["GOOGLE_CLOUD_PROJECT"], RULES)
        yield host
        return
    proc = emu.start(FIRESTORE_PORT, ROOT / "test-output" / "firestore-emulator.log")
    try:
        emu.wait_ready(host, proc=proc)
        emu.load_rules(host, TEST_ENV["GOOGLE_CLOUD_PROJECT"], RULES)
        yield host
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()


@pytest.fixture(scope="session")
def db(firestore_emulator: str):
    from aiadmin.core.firestore_db import get_db

    return get_db()


@dataclass
class LocalStack:
    gateway: str
    yclients: str
    standin_state: Any
    standin_config: Any
    dispatcher: Any
    bots: Any = None  # the Telegram and MAX stand-ins' state (devstack.bot_standin)

    def calls(self, path_part: str) -> list[dict[str, Any]]:
        with self.standin_state.lock:
            return [c for c in self.standin_state.calls if path_part in c["path"]]

    def fault(self, path: str, mode: str, times: int = 1, retry_after: int = 1) -> None:
        from devstack.yclients_standin import Fault

        with self.standin_state.lock:
            self.standin_state.faults.append(Fault(path, mode, times, retry_after))


def _serve(app: Any, port: int) -> Any:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def local_stack(firestore_emulator: str) -> Iterator[LocalStack]:
    from devstack.gateway import Gateway
    from devstack.task_dispatcher import Dispatcher
    from devstack.task_dispatcher import create_app as dispatcher_app
    from devstack.yclients_standin import StandinConfig, StandinState
    from devstack.yclients_standin import create_app as standin_app

    config = StandinConfig(
        partner_token=PARTNER_TOKEN,
        user_token=USER_TOKEN,
        application_id=APP_ID,
        registration_url=f"{GATEWAY}/auth/yclients/redirect",
        callback_url=f"{GATEWAY}/webhook/yclients",
        timeout_fault_s=2.5,
    )
    from devstack import bot_standin, max_standin, telegram_standin

    state = StandinState()
    bots = bot_standin.StandinState()  # one state for both messengers: their tokens differ in form
    dispatcher = Dispatcher(backoff_scale=0.01)
    servers = [
        _serve(standin_app(config, state), YCLIENTS_PORT),
        _serve(dispatcher_app(dispatcher), TASKS_PORT),
        _serve(telegram_standin.create_app(bots), TELEGRAM_PORT),
        _serve(max_standin.create_app(bots), MAX_PORT),
        _serve(Gateway(), GATEWAY_PORT),
    ]
    yield LocalStack(f"{GATEWAY}", TEST_ENV["YCLIENTS_API_BASE"], state, config, dispatcher, bots)
    for server in servers:
        server.shutdown()


@pytest.fixture
def stack(local_stack: LocalStack, db: Any) -> LocalStack:
    """A clean world per test: empty Firestore, fresh stand-in, no pending tasks, default settings."""
    from aiadmin.marketplace import webhook_intake
    from devstack import firestore_emulator as emu

    local_stack.dispatcher.wait_idle()
    emu.wipe(TEST_ENV["FIRESTORE_EMULATOR_HOST"], TEST_ENV["GOOGLE_CLOUD_PROJECT"])
    local_stack.standin_state.reset()
    local_stack.bots.reset()
    local_stack.dispatcher.clear()
    webhook_intake._recent_batches.clear()  # the dispatcher forgot its tasks, so must the intake's memo
    local_stack.standin_config.callback_answer = 301
    return local_stack


@contextlib.contextmanager
def running_session_host(
    db: Any,
    tmp_path: Path,
    holder: str,
    sender_opts: dict | None = None,
    host_opts: dict | None = None,
    port: int = HOST_PORT,
    **sim: Any,
):
    """A session host with the simulated WhatsApp, its HTTP API on HOST_PORT (reached through the gateway).
    `host_opts` go to SessionHost (say, `reconnect_delays`), `sim` to the simulated driver."""
    from werkzeug.serving import make_server

    from session_host.drivers.simulated import SimulatedWhatsApp
    from session_host.http_api import create_app
    from session_host.outbound import Sender
    from session_host.sessions import SessionHost

    host = SessionHost(
        db,
        lambda sink: SimulatedWhatsApp(sink, tmp_path / "creds.sqlite3", **sim),
        holder,
        lease_ttl_s=5,
        url=f"http://127.0.0.1:{port}",
        **(host_opts or {}),
    )
    host.start()
    assert host.listening.wait(10), "the command listener never started"
    sender = Sender(db, host, **sender_opts) if sender_opts else None
    server = make_server("127.0.0.1", port, create_app(host, TASK_SECRET, sender), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield host
    finally:
        server.shutdown()
        host.shutdown(timeout_s=5)


@pytest.fixture(scope="session")
def gemini_server():
    """The scripted Gemini-compatible server (devstack.gemini_standin), one per test process."""
    from werkzeug.serving import make_server

    from devstack.gemini_standin import Script, create_app

    sc = Script()
    server = make_server("127.0.0.1", GEMINI_PORT, create_app(sc), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield sc
    server.shutdown()


@pytest.fixture
def gemini(gemini_server, monkeypatch):
    """The AI turns of this test ask the real google-genai client, pointed at the scripted server."""
    from pydantic import SecretStr

    from aiadmin.ai.providers import get_provider
    from aiadmin.core.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "ai_provider", "gemini")
    monkeypatch.setattr(settings, "gemini_api_key", SecretStr("test-key"))
    monkeypatch.setattr(settings, "gemini_base_url", f"http://127.0.0.1:{GEMINI_PORT}")
    monkeypatch.setattr(settings, "gemini_timeout_s", 1.5)
    gemini_server.play()
    get_provider.cache_clear()
    yield gemini_server
    get_provider.cache_clear()

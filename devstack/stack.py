"""The whole local system as child processes: Firestore emulator, task dispatcher, YCLIENTS stand-in and the
gateway that serves every function. Used by `make dev` (devstack/run.py) and by the benchmark."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from devstack import firestore_emulator, web_build

ROOT = Path(__file__).resolve().parent.parent
PROJECT_ID = "demo-aiadmin"
RULES = ROOT / "web" / "firestore.rules"


@dataclass(frozen=True)
class Ports:
    gateway: int = 5000
    yclients: int = 5010
    tasks: int = 5020
    session_host: int = 5030
    telegram: int = 5050
    max: int = 5055
    firestore: int = 8080  # +1 WebSocket, +2 WebChannel

    @classmethod
    def from_env(cls) -> Ports:
        """DEV_PORT_BASE=N moves everything: gateway N, YCLIENTS N+10, tasks N+20, host N+30, Telegram N+50, MAX
        N+55, Firestore N+80."""
        base = os.environ.get("DEV_PORT_BASE")
        if not base:
            return cls()
        n = int(base)
        return cls(
            gateway=n, yclients=n + 10, tasks=n + 20, session_host=n + 30, telegram=n + 50, max=n + 55, firestore=n + 80
        )


def local_env(ports: Ports, base: dict[str, str] | None = None) -> dict[str, str]:
    """Settings for the local stack; anything already in the environment wins."""
    env = dict(os.environ if base is None else base)
    gateway = f"http://127.0.0.1:{ports.gateway}"
    defaults = {
        "ENV": "local",
        "LOG_LEVEL": "INFO",
        "GOOGLE_CLOUD_PROJECT": PROJECT_ID,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{ports.firestore}",
        "YCLIENTS_API_BASE": f"http://127.0.0.1:{ports.yclients}",
        "YCLIENTS_PARTNER_TOKEN": "dev-only-partner-token",
        "YCLIENTS_USER_TOKEN": "dev-only-user-token",
        "YCLIENTS_APP_ID": "4242",
        "JWT_SECRET": "dev-only-jwt-secret-not-for-production",
        "WEBHOOK_SECRET": "dev-only-webhook-secret-not-for-production",
        "BASE_URL": gateway,
        "TASKS_DRIVER": "local",
        "TASKS_LOCAL_URL": f"http://127.0.0.1:{ports.tasks}",
        "TASKS_TARGET_BASE_URL": f"{gateway}/_fn",
        "TASK_SHARED_SECRET": "dev-only-task-secret",
        "WHATSAPP_DRIVER": "simulated",
        "TELEGRAM_API_BASE": f"http://127.0.0.1:{ports.telegram}",
        "MAX_API_BASE": f"http://127.0.0.1:{ports.max}",
        "LOCAL_SECRET_KEY": "dev-only-local-secret-key",
        "WA_WARMUP_DAYS": "0",  # the demo salon is linked minutes ago: its reminders are not held a minute apart
        "SESSION_HOST_PORT": str(ports.session_host),
        "SESSION_HOST_URL": f"http://127.0.0.1:{ports.session_host}",
        "WA_CREDENTIALS": str(ROOT / ".devstack" / f"wa-credentials-{ports.session_host}"),
        "PYTHONPATH": str(ROOT),
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


def _wait_http(url: str, proc: subprocess.Popen, name: str, timeout_s: float = 60.0, want_ok: bool = False) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see its log")
        try:
            if requests.get(url, timeout=1).ok or not want_ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{name} not answering at {url}")


@dataclass
class Stack:
    ports: Ports = field(default_factory=Ports)
    log_dir: Path = ROOT / ".devstack" / "logs"
    gateway_workers: int = 2
    session_hosts: int = (
        1  # more than one: each on the next port, sharing one credential store (they adopt each other's)
    )
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    started_emulator: bool = False
    started_standin: bool = False

    def __post_init__(self) -> None:
        self.given_emulator = bool(os.environ.get("FIRESTORE_EMULATOR_HOST"))
        self.given_yclients = bool(os.environ.get("YCLIENTS_API_BASE"))
        self.env = local_env(self.ports)
        self.host_urls = [f"http://127.0.0.1:{self.ports.session_host + i}" for i in range(self.session_hosts)]
        self.env["SESSION_HOST_URLS"] = ",".join(self.host_urls)  # the gateway's /simulator/ reaches each

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def start(self) -> None:
        try:
            if not self.given_emulator:
                emu = firestore_emulator.start(self.ports.firestore, self.log_dir / "firestore.log")
                self.procs.append(("firestore", emu))
                firestore_emulator.wait_ready(self.env["FIRESTORE_EMULATOR_HOST"], proc=emu)
                self.started_emulator = True
            firestore_emulator.load_rules(self.env["FIRESTORE_EMULATOR_HOST"], self.env["GOOGLE_CLOUD_PROJECT"], RULES)
            web_build.ensure_built()
            py = sys.executable
            tasks = self._spawn("tasks", [py, "-m", "devstack.task_dispatcher", "--port", str(self.ports.tasks)])
            if not self.given_yclients:
                ycl = self._spawn(
                    "yclients", [py, "-m", "devstack.yclients_standin", "--port", str(self.ports.yclients)]
                )
                _wait_http(f"{self.env['YCLIENTS_API_BASE']}/_standin/healthz", ycl, "YCLIENTS stand-in")
                self.started_standin = True
            for name, port in (("telegram", self.ports.telegram), ("max", self.ports.max)):
                bot = self._spawn(name, [py, "-m", f"devstack.{name}_standin", "--port", str(port)])
                _wait_http(f"http://127.0.0.1:{port}/_standin/healthz", bot, f"{name} stand-in")
            hosts = [self._spawn("session-host", [py, "-m", "session_host"])]
            for i, url in enumerate(self.host_urls[1:], start=2):  # its own port and URL (its leases carry it)
                own = {"SESSION_HOST_PORT": url.rsplit(":", 1)[1], "SESSION_HOST_URL": url}
                hosts.append(self._spawn(f"session-host-{i}", [py, "-m", "session_host"], env=own))
            self._spawn("scheduler", [py, "-m", "devstack.scheduler"])
            gateway = self._spawn(
                "gateway",
                [
                    py,
                    "-m",
                    "gunicorn",
                    "-b",
                    f"127.0.0.1:{self.ports.gateway}",
                    "-w",
                    str(self.gateway_workers),
                    "--threads",
                    "8",
                    "--timeout",
                    "120",
                    "devstack.gateway:app",
                ],
            )
            _wait_http(f"{self.env['TASKS_LOCAL_URL']}/healthz", tasks, "task dispatcher")
            _wait_http(f"http://127.0.0.1:{self.ports.gateway}/marketplace/health", gateway, "gateway")
            for url, host in zip(self.host_urls, hosts, strict=True):
                _wait_http(f"{url}/healthz", host, f"session host {url}", want_ok=True)
        except BaseException:
            self.stop()
            raise

    def signed_link(self, salon_id: int = 962302) -> str:
        if self.started_standin:
            url = f"{self.env['YCLIENTS_API_BASE']}/_standin/signed-link"
            return requests.get(url, params={"salon_id": salon_id}, timeout=5).json()["url"]
        from aiadmin.marketplace.user_data_signature import encode_user_data

        user_data, sign = encode_user_data({"id": 1, "name": "Владелец"}, self.env["YCLIENTS_PARTNER_TOKEN"])
        params = {"salon_id": salon_id, "user_data": user_data, "user_data_sign": sign}
        return requests.Request("GET", f"{self.env['BASE_URL']}/auth/yclients/redirect", params=params).prepare().url

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

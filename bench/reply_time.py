"""Benchmark: how long a customer waits for the bot's answer on the local stack (`make dev`, rules provider), from
the simulator's inbound message to the reply in its outbox. A complete question (ending in «?») should be answered
after AI_COMPLETE_QUIET_S; a fragment after AI_BURST_QUIET_S. Each round is a new customer, and rounds are spaced
beyond the send pacing, so the figures are one customer's wait with nothing else in the queue.

    .venv/bin/python -m bench.reply_time [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BASE = 19100  # DEV_PORT_BASE: away from `make dev` (5000) and the tests (185xx)
GATEWAY = f"http://127.0.0.1:{BASE}"
SID = "company_962302"
KINDS = {
    "complete question": "Сколько стоит мужская стрижка?",
    "fragment": "Здравствуйте",
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def outbox() -> list[dict]:
    return requests.get(f"{GATEWAY}/simulator/sessions/{SID}/outbox", timeout=10).json()


def wait(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def start_stack() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "DEV_PORT_BASE": str(BASE), "GOOGLE_CLOUD_PROJECT": "demo-aiadmin-bench-reply"}
    env.pop("FIRESTORE_EMULATOR_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if re.match(r"\s+http://\S+/auth/yclients/redirect\?", line):
            return proc, line.strip()
    proc.kill()
    raise RuntimeError("the local stack printed no link")


def link_and_activate(link: str) -> None:
    token = requests.get(link, allow_redirects=False, timeout=30).headers["Location"].split("token=")[1]
    auth = {"Authorization": f"Bearer {token}"}
    requests.post(f"{GATEWAY}/marketplace/api/qr", headers=auth, timeout=30)
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": "79161234567"}, timeout=10)
    status = f"{GATEWAY}/marketplace/api/status/{SID}"
    wait(lambda: requests.get(status, headers=auth, timeout=10).json()["connected"], 30, "linked")
    assert requests.post(f"{GATEWAY}/marketplace/activate", json={"token": token}, timeout=60).status_code == 200
    wait(lambda: outbox(), 60, "the welcome message (the salon's data is in)")
    time.sleep(6)  # the sync modules queued after activation settle


def measure(text: str, phone: str) -> float:
    started = time.monotonic()
    body = {"from": phone, "text": text}
    assert requests.post(f"{GATEWAY}/simulator/sessions/{SID}/inbound", json=body, timeout=10).status_code == 200
    wait(lambda: any(m["to"] == phone for m in outbox()), 30, f"a reply to {text!r}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    proc, link = start_stack()
    try:
        link_and_activate(link)
        results: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for i in range(args.rounds):
            for n, (kind, text) in enumerate(KINDS.items()):
                results[kind].append(measure(text, f"7903{i:03d}{n:04d}"))
                time.sleep(5.5)  # past the session's send pacing (WA_SEND_INTERVAL_S + jitter)
        print(f"Reply time, inbound → outbox, local stack, rules provider, {args.rounds} customers per kind:")
        for kind, values in results.items():
            print(
                f"  {kind:18s} p50 {statistics.median(values):.2f} s   p95 {pct(values, 0.95):.2f} s   "
                f"max {max(values):.2f} s"
            )
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()

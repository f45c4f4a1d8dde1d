"""Benchmark: data-change webhooks at a fixed rate through the local gateway (open loop), answer times printed.

Starts its own local stack (Firestore emulator, task dispatcher, YCLIENTS stand-in, gateway under gunicorn) on
ports 18900+ so it never touches `make dev`. Target from issue 2: p99 <= 50 ms at 100 req/s, no errors.

    make bench                     # 100 req/s for 30 s
    .venv/bin/python -m bench.webhook_load --rate 200 --duration 10
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from aiadmin.marketplace import webhook_url_token
from devstack.stack import Ports, Stack


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _active_salon(env: dict[str, str]) -> str:
    """The salon the webhooks are for, active with its install's nonce (as activation leaves it); the nonce."""
    os.environ.update({k: env[k] for k in ("FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT")})
    from aiadmin.core import repositories
    from aiadmin.core.firestore_db import get_db
    from aiadmin.core.integration_status import IntegrationStatus
    from aiadmin.core.models import Company

    nonce = secrets.token_hex(16)
    company = Company(salon_id=962302, title="Лилия", integration_status=IntegrationStatus.ACTIVE, webhook_nonce=nonce)
    repositories.company_ref(get_db(), 962302).set(company.to_firestore())
    return nonce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()

    for key in ("FIRESTORE_EMULATOR_HOST", "YCLIENTS_API_BASE"):
        os.environ.pop(key, None)  # always a private stack
    stack = Stack(
        ports=Ports(gateway=18900, yclients=18910, tasks=18920, firestore=18980), gateway_workers=args.workers
    )
    stack.env["LOG_LEVEL"] = os.environ.get(
        "BENCH_LOG_LEVEL", "WARNING"
    )  # one log line per request would measure the terminal, not the code
    print(f"starting a private stack (gateway workers: {args.workers})…", flush=True)
    stack.start()
    try:
        nonce = _active_salon(stack.env)
        url = webhook_url_token.webhook_url(stack.env["BASE_URL"], stack.env["WEBHOOK_SECRET"], 962302, nonce)
        session_local = threading.local()

        def session() -> requests.Session:
            if not hasattr(session_local, "s"):
                session_local.s = requests.Session()
            return session_local.s

        for i in range(20):  # warm-up: connections, Firestore channels, imports
            session().post(
                url,
                json={
                    "company_id": 962302,
                    "resource": "record",
                    "resource_id": -i,
                    "status": "update",
                    "data": {"id": -i},
                },
                timeout=10,
            )

        total = int(args.rate * args.duration)
        latencies: list[float] = []
        service: list[float] = []
        errors: dict[str, int] = {}
        lock = threading.Lock()
        start = time.perf_counter() + 0.5

        def fire(i: int) -> None:
            scheduled = start + i / args.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            body = {
                "company_id": 962302,
                "resource": "record",
                "resource_id": 800000 + i,
                "status": "update",
                "data": {"id": 800000 + i, "comment": f"bench {i}"},
            }
            try:
                resp = session().post(url, json=body, timeout=10)
                problem = None if resp.status_code == 200 else f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            done = time.perf_counter()
            with lock:
                latencies.append((done - scheduled) * 1000)  # includes any queueing on our side
                service.append((done - sent) * 1000)
                if problem:
                    errors[problem] = errors.get(problem, 0) + 1

        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(fire, range(total)))
        elapsed = time.perf_counter() - start

        print(
            f"\nwebhook intake: {total} requests at {args.rate:g} req/s for {args.duration:g} s "
            f"(achieved {total / elapsed:.1f} req/s)"
        )
        print(
            f"  answer time from scheduled send: p50 {percentile(latencies, 50):.1f} ms  "
            f"p90 {percentile(latencies, 90):.1f} ms  p99 {percentile(latencies, 99):.1f} ms  "
            f"max {max(latencies):.1f} ms"
        )
        print(
            f"  answer time from actual send:    p50 {percentile(service, 50):.1f} ms  "
            f"p99 {percentile(service, 99):.1f} ms  mean {statistics.mean(service):.1f} ms"
        )
        print(f"  errors: {sum(errors.values())} {errors if errors else ''}")
        tasks = requests.get(f"{stack.env['TASKS_LOCAL_URL']}/tasks", timeout=10).json()
        print(f"  tasks queued: {len(tasks)}, done: {sum(1 for t in tasks if t['state'] == 'done')}")
        print("  target: p99 <= 50 ms, 0 errors")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

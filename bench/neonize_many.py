"""Stress: many real neonize (whatsmeow) clients started at once in one process, through our production driver.

Offline there is no WhatsApp to reach: every client opens its SQLite store, asks for a QR link and dials
web.whatsapp.com, which fails (no route/DNS). What this measures is what the issue worried about on the Go side:
that N clients created, connected and stopped concurrently in one process neither crash nor deadlock, every
failure reaches our event sink, and what it costs in memory and threads. It is not a measure of live sessions.

    .venv/bin/python -m bench.neonize_many [--clients 200] [--hold]

--hold: every client dials through a local proxy that accepts and never answers, so each sits inside its Go call
as a live session does (until whatsmeow's dial deadline, about a minute): the threads and memory a held session
costs, and how long the driver takes to stop them all.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "session-host"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--wait-s", type=float, default=60.0)
    parser.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    if args.hold:
        hold(args.clients)
        sys.stdout.flush()
        os._exit(0)  # the Go calls still in their dial would hold the interpreter's exit for about a minute

    import logging

    logging.basicConfig(level=logging.ERROR)
    from session_host.drivers.neonize_driver import NeonizeWhatsApp, SqliteStores

    events: collections.Counter[str] = collections.Counter()
    first: dict[str, float] = {}
    lock = threading.Lock()

    def sink(sid: str, event: object) -> None:
        with lock:
            events[type(event).__name__] += 1
            first.setdefault(sid, time.perf_counter())

    before = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        driver = NeonizeWhatsApp(sink, SqliteStores(Path(tmp)), max_clients=args.clients)
        t0 = time.perf_counter()
        for i in range(args.clients):
            driver.start(f"company_{900000 + i}", "qr")
        deadline = time.perf_counter() + args.wait_s
        while time.perf_counter() < deadline and len(first) < args.clients:
            time.sleep(0.2)
        reported = time.perf_counter() - t0
        peak = rss_mb()
        threads = threading.active_count()
        stop0 = time.perf_counter()
        driver.close()
        stopped = time.perf_counter() - stop0
    print(f"neonize {args.clients} real clients started at once in one process (offline: every dial fails)")
    print(f"  clients that reported back: {len(first)}/{args.clients} in {reported:.1f} s")
    print(f"  events: {dict(events)}")
    print(f"  RSS: {before:.0f} MB before, {peak:.0f} MB with all {args.clients} clients; Python threads {threads}")
    print(f"  close(): {stopped:.1f} s; process still alive: yes (no Go panic)")


def hold(clients: int) -> None:
    import contextlib
    import socket

    from session_host.drivers.neonize_driver import NeonizeWhatsApp, SqliteStores

    server = socket.create_server(("127.0.0.1", 0), backlog=clients + 8)
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.getsockname()[1]}"
    threads0, rss0 = threading.active_count(), rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        driver = NeonizeWhatsApp(lambda *_: None, SqliteStores(Path(tmp)), max_clients=clients, proxy_url=proxy)
        t0 = time.perf_counter()
        for i in range(clients):
            driver.start(f"company_{900000 + i}", "restore")
        deadline = time.perf_counter() + 50
        while driver.held_threads < clients and time.perf_counter() < deadline:
            time.sleep(0.1)
        up = time.perf_counter() - t0
        time.sleep(2)  # let the Go side settle before measuring
        held_now, threads, rss = driver.held_threads, threading.active_count(), rss_mb()
        stop0 = time.perf_counter()
        driver.close()
        stopped = time.perf_counter() - stop0
    server.close()
    per = max(held_now, 1)
    print(f"neonize {clients} real clients held inside their Go call (offline, dial held by a silent proxy)")
    print(f"  held: {held_now}/{clients} after {up:.1f} s; driver pool {driver.threads} threads")
    print(f"  Python threads: {threads0} before, {threads} held ({(threads - threads0) / per:.2f} per session)")
    print(f"  RSS: {rss0:.0f} MB before, {rss:.0f} MB held ({(rss - rss0) / per:.2f} MB per session)")
    print(f"  close(): {stopped:.1f} s")


if __name__ == "__main__":
    main()

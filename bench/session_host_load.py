"""Benchmark: one session host (simulated WhatsApp) holding 100 linked salons.

Prints: the host's RSS with 100 sessions, the time a restarted host takes to restore all 100 without a scan,
and the status-document write rate while 100 salons show QR codes that rotate every second (a "QR storm").
It starts its own Firestore emulator on 18880 and runs the host as a real process, as in production.

    .venv/bin/python -m bench.session_host_load [--salons 100]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PORT, HOST_PORT, PROJECT = 18880, 18930, "demo-aiadmin-bench"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


LOGS: dict[int, Path] = {}  # host pid -> its log


def start_host(env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "session_host"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    LOGS[proc.pid] = log
    return proc


def connected(port: int) -> int:
    try:
        return int(requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json().get("connected", 0))
    except (requests.RequestException, ValueError):
        return 0


def wait_connected(n: int, timeout_s: float = 120, ports: tuple[int, ...] = (HOST_PORT,)) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if sum(connected(port) for port in ports) >= n:
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"{n} sessions not connected after {timeout_s}s")


def two_hosts(env: dict[str, str], n: int, work: Path) -> tuple[float, list[int], float]:
    """Two hosts of half the salons each: the time to restore all, the split, and after one is killed (-9,
    nothing released) and comes back as a new instance, the time until all are connected again."""
    ports = (HOST_PORT, HOST_PORT + 1)
    half = {"WA_SESSIONS_PER_HOST": str(-(-n // 2)), "WA_LEASE_TTL_S": "6"}
    hosts = [
        start_host({**env, **half, "SESSION_HOST_PORT": str(port), "HOST_ID": f"bench-{i}"}, work / f"two-{i}.log")
        for i, port in enumerate(ports)
    ]
    try:
        restored = wait_connected(n, ports=ports)
        split = [connected(port) for port in ports]
        os.killpg(hosts[1].pid, signal.SIGKILL)
        hosts[1].wait(10)
        began = time.monotonic()
        again = {**env, **half, "SESSION_HOST_PORT": str(ports[1]), "HOST_ID": "bench-1b"}
        hosts[1] = start_host(again, work / "two-1b.log")
        wait_connected(n, ports=ports)
        return restored, split, time.monotonic() - began
    finally:
        for proc in hosts:
            if proc.poll() is None:
                stop(proc)


def stop(proc: subprocess.Popen) -> float:
    """SIGTERM and wait; a host that had to force its exit (a step hung past its deadline) is reported with the
    stuck threads from its log."""
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    code = proc.wait(30)
    took = time.monotonic() - began
    if code != 0:
        log = LOGS[proc.pid]
        forced = [line for line in log.read_text(errors="replace").splitlines() if "did not stop in time" in line]
        print(f"host exited with {code} after {took:.1f} s: {forced[-1] if forced else 'see ' + str(log)}", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--salons", type=int, default=100)
    parser.add_argument("--storm-seconds", type=float, default=10.0)
    args = parser.parse_args()
    n = args.salons

    os.environ.update({"FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{EMULATOR_PORT}", "GOOGLE_CLOUD_PROJECT": PROJECT})
    from devstack import firestore_emulator

    work = Path(tempfile.mkdtemp(prefix="host-bench-"))
    print(f"logs: {work}", flush=True)
    emulator = firestore_emulator.start(EMULATOR_PORT, work / "firestore.log")
    host = None
    try:
        firestore_emulator.wait_ready(os.environ["FIRESTORE_EMULATOR_HOST"], proc=emulator)
        from aiadmin.core.firestore_db import get_db
        from aiadmin.whatsapp.session_status import WA_SESSIONS, SessionState, status_for

        db = get_db()
        creds = work / "wa"
        creds.mkdir()
        # 100 salons whose WhatsApp is linked: a stored device each, and a `connected` status document.
        con = sqlite3.connect(creds / "simulated-devices.sqlite3")
        con.execute("CREATE TABLE devices (session_id TEXT PRIMARY KEY, phone TEXT, name TEXT, linked_at REAL)")
        batch = db.batch()
        for i in range(n):
            sid = f"company_{100000 + i}"
            con.execute("INSERT INTO devices VALUES (?, ?, ?, ?)", (sid, f"7916{i:07d}", None, time.time()))
            batch.set(
                db.collection(WA_SESSIONS).document(sid),
                status_for(sid, 100000 + i, SessionState.CONNECTED).to_firestore(),
            )
        con.commit()
        con.close()
        batch.commit()

        env = {
            **os.environ,
            "ENV": "local",
            "WHATSAPP_DRIVER": "simulated",
            "WA_CREDENTIALS": str(creds),
            "SESSION_HOST_PORT": str(HOST_PORT),
            "TASK_SHARED_SECRET": "bench",
            "TASKS_DRIVER": "local",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "SIM_QR_TTL_S": "1",
            "SIM_QR_ROTATIONS": "1000",
            "WA_LEASE_TTL_S": "30",
            "WA_SESSIONS_PER_HOST": str(2 * n),  # one host holds them all (and the storm's)
            "PYTHONPATH": str(ROOT),
        }
        host = start_host(env, work / "host-1.log")
        first = wait_connected(n)
        time.sleep(2)
        rss = rss_mb(host.pid)
        shutdown_s = stop(host)
        host = start_host(env, work / "host-2.log")
        restore = wait_connected(n)

        # The storm: every salon asks for a QR at once; the simulator rotates each one every second.
        writes = 0
        lock = threading.Lock()

        def count(docs, changes, read_time):
            nonlocal writes
            with lock:
                writes += sum(1 for c in changes if c.type.name == "MODIFIED")

        watch = db.collection(WA_SESSIONS).on_snapshot(count)
        time.sleep(1)
        batch = db.batch()  # 100 more salons, not linked yet, all asking for a QR at once
        for i in range(n):
            sid = f"company_{200000 + i}"
            command = {"session_id": sid, "salon_id": 200000 + i, "command": "start_qr", "reason": "bench"}
            batch.set(db.collection("wa_commands").document(f"storm-{i}"), {**command, "state": "pending"})
        batch.commit()
        time.sleep(2)  # every QR showing first; then count only rotations
        health = f"http://127.0.0.1:{HOST_PORT}/healthz"
        before = requests.get(health, timeout=5).json()
        with lock:
            writes = 0
        time.sleep(args.storm_seconds)
        with lock:
            storm_writes = writes
        after = requests.get(health, timeout=5).json()
        decided = (after["statuses_decided"] - before["statuses_decided"]) / args.storm_seconds
        written = (after["statuses_written"] - before["statuses_written"]) / args.storm_seconds
        watch.unsubscribe()
        storm_rss = rss_mb(host.pid)
        stop(host)
        two_restored, split, takeover = two_hosts(env, n, work)

        print(f"\nsession host, {n} simulated salons (one host process, Firestore emulator on the same 2 cores)")
        print(f"  first start: all {n} sessions restored in {first:.2f} s")
        print(f"  RSS with {n} connected sessions: {rss:.1f} MB")
        print(f"  SIGTERM to exit: {shutdown_s:.2f} s (leases released)")
        print(f"  restart: all {n} sessions connected again in {restore:.2f} s, no scan")
        print(
            f"  QR storm ({n} more salons' QRs rotating every 1 s, {args.storm_seconds:g} s): "
            f"{decided:.0f} statuses decided/s (ideal {n}/s), {written:.0f} written/s by the host, "
            f"{storm_writes / args.storm_seconds:.0f}/s seen by a listener; RSS {storm_rss:.1f} MB"
        )
        print(
            f"  two hosts of {-(-n // 2)} sessions each: all {n} restored in {two_restored:.2f} s, split {split}; "
            f"one killed (-9) and replaced: all connected again {takeover:.2f} s after (leases of 6 s)"
        )
    finally:
        if host and host.poll() is None:
            stop(host)
        emulator.terminate()
        emulator.wait(10)


if __name__ == "__main__":
    main()

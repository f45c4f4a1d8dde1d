"""After SIGTERM the session host is gone within its deadline even when a thread hangs (a stream that will not close,
a call retrying), and the operator's log says which thread and where."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent(
    """
    import threading, time
    from aiadmin.core.logs import configure_logging
    from session_host import exit_deadline

    def renew_lease_forever():
        threading.Event().wait()  # a call that never returns

    configure_logging("INFO")
    threading.Thread(target=renew_lease_forever, name="lease_0").start()  # not a daemon: joined at exit
    exit_deadline.arm({deadline})
    """
)


def run(deadline: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM.format(deadline=deadline)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_thread_that_never_ends_does_not_keep_the_process_and_is_named_in_the_log():
    done = run(0.5)  # main returns at once; the interpreter would wait for the stuck thread forever
    assert done.returncode == 1
    entries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    [forced] = [e for e in entries if e["message"].startswith("session host did not stop in time")]
    assert forced["severity"] == "ERROR"
    [stuck] = [stack for name, stack in forced["stacks"].items() if name.startswith("lease_0 ")]
    assert "renew_lease_forever" in stuck


SIGNALLED = textwrap.dedent(
    """
    import signal, threading, time
    from session_host import exit_deadline

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = threading.Thread(target=threading.Event().wait, name="grpc-like", daemon=True)
    worker.start()
    time.sleep(0.2)
    # the kernel may hand SIGTERM to any thread: here, deliberately, to the worker
    threading.Timer(0.3, signal.pthread_kill, args=(worker.ident, signal.SIGTERM)).start()
    {wait}
    print("stopped", flush=True)
    """
)


def _signalled(wait: str, timeout_s: float) -> subprocess.CompletedProcess | None:
    try:
        program = [sys.executable, "-c", SIGNALLED.format(wait=wait)]
        return subprocess.run(program, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None


def test_sigterm_delivered_to_another_thread_still_stops_the_host():
    assert _signalled("exit_deadline.wait_for_stop(stop)", 30).stdout.strip() == "stopped"
    assert _signalled("stop.wait()", 4) is None, "a single blocking wait never sees it: what the host did before"

"""After SIGTERM the host must be gone before the platform kills it: a step that hangs (a stream that will not close,
a Firestore call retrying) must not keep the process, and the operator must see which step it was."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)


MAX_STACK_CHARS = 2000  # the innermost frames of each thread: where it hangs
MAX_THREADS = 60  # a host holds a thread per client: the log entry stays far inside Cloud Logging's 256 KB


def thread_stacks() -> dict[str, str]:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    frames = list(sys._current_frames().items())
    stacks = {
        f"{names.get(ident, '?')} ({ident})": "".join(traceback.format_stack(frame))[-MAX_STACK_CHARS:]
        for ident, frame in frames[:MAX_THREADS]
    }
    if len(frames) > MAX_THREADS:
        stacks["…"] = f"{len(frames) - MAX_THREADS} more threads not shown"
    return stacks


def wait_for_stop(stop: threading.Event, tick_s: float = 0.5) -> None:
    """Wait for SIGTERM's handler to set `stop`. Not one blocking wait: the kernel may deliver the signal to any
    thread (gRPC's, the HTTP server's), and Python runs the handler only when the main thread runs again, so a
    main thread blocked for good in `Event.wait()` never sees it (seen: a host alive 30 s after SIGTERM)."""
    while not stop.wait(tick_s):
        pass


def arm(deadline_s: float, exit_code: int = 1) -> None:
    """From now on the process ends within deadline_s: if it is still here then (shutdown, or the interpreter joining
    a thread at exit), every thread's stack is logged and it exits at once."""

    def watch() -> None:
        time.sleep(deadline_s)
        log.error(
            "session host did not stop in time; exiting with the threads' stacks",
            extra={"deadline_s": deadline_s, "stacks": thread_stacks()},
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(exit_code)

    threading.Thread(target=watch, name="exit-deadline", daemon=True).start()

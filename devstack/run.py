"""`make dev`: start the whole local system, print where to go, stop everything on Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from devstack.stack import PROJECT_ID, Ports, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=1, help="session hosts to run (they share the salons)")
    args = parser.parse_args(argv)
    stack = Stack(ports=Ports.from_env(), session_hosts=max(1, args.hosts))
    print("Starting AI Admin locally…", flush=True)
    stack.start()
    env, ports = stack.env, stack.ports
    link = stack.signed_link()
    emulator_note = "" if stack.started_emulator else ", yours"
    yclients_note = "  (stand-in; call log: /_standin/calls)" if stack.started_standin else "  (yours)"
    print(
        f"""
AI Admin is running.
  Gateway (Hosting + functions)  http://127.0.0.1:{ports.gateway}
  Health                         http://127.0.0.1:{ports.gateway}/marketplace/health
  Firestore emulator             {env["FIRESTORE_EMULATOR_HOST"]}  (project {PROJECT_ID}{emulator_note})
  YCLIENTS                       {env["YCLIENTS_API_BASE"]}{yclients_note}
  Task dispatcher                {env["TASKS_LOCAL_URL"]}/tasks
  Session hosts                  {", ".join(stack.host_urls)}
  Logs                           {stack.log_dir}

Open this link to start onboarding for salon 962302 (what YCLIENTS sends after "Подключить"):
  {link}
Once the salon is active, the same link opens its owner page (inbox, takeover, settings).
Then play the salon's phone in another tab (scan the QR, or enter the pairing code, then write as a customer):
  http://127.0.0.1:{ports.gateway}/simulator/

Ctrl-C stops everything.""",
        flush=True,
    )

    def shutdown(*_: object) -> None:
        print("\nStopping…", flush=True)
        stack.stop()
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    while True:
        for name, proc in stack.procs:
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; see {stack.log_dir / (name + '.log')}", flush=True)
                stack.stop()
                return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())

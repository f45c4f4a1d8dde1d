"""Benchmark: how long a salon's customers wait for the session host's send pacing (the token bucket of
session_host/outbound.py), on a virtual clock: new customers arriving at random within a minute, and all at once.

The wait is from the moment the reply is ready to the moment the host lets it go (Cloud Tasks brings a 429 back
after its Retry-After); the AI turn's own quiet window and the send itself are not in it.

    .venv/bin/python -m bench.send_pacing [--customers 20] [--runs 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "session-host"))


def waits(arrivals: list[float], interval_s: float, burst: int) -> list[float]:
    from session_host.outbound import Sender

    now = [0.0]
    sender = Sender(None, None, interval_s=interval_s, jitter_s=0.0, burst=burst, clock=lambda: now[0])  # type: ignore[arg-type]
    pending = sorted((at, f"79{i:09d}") for i, at in enumerate(arrivals))
    result = []
    for at, phone in pending:
        now[0] = max(now[0], at)
        while (wait := sender.reserve("company_1", phone, True)) > 0:
            now[0] += max(1.0, wait)  # Retry-After is whole seconds
        result.append(now[0] - at)
    return result


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--interval-s", type=float, default=3.0)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    spread: list[float] = []
    for _ in range(args.runs):
        spread += waits([rng.uniform(0, 60) for _ in range(args.customers)], args.interval_s, args.burst)
    at_once = waits([0.0] * args.customers, args.interval_s, args.burst)
    double = waits([rng.uniform(0, 60) for _ in range(2 * args.customers)], args.interval_s, args.burst)
    print(f"send pacing: bucket of {args.burst}, one token back every {args.interval_s:g} s")
    for name, values in (
        (f"{args.customers} new customers within a minute ({args.runs} runs)", spread),
        (f"{args.customers} new customers in the same second", at_once),
        (f"{2 * args.customers} new customers within a minute", double),
    ):
        print(
            f"  {name}: first-reply wait p50 {statistics.median(values):.1f} s, "
            f"p95 {pct(values, 95):.1f} s, max {max(values):.1f} s"
        )


if __name__ == "__main__":
    main()
